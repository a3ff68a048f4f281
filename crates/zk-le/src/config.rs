//! LeaderElection's settings, with ZooKeeper's timings.

use zk_elect::QuorumVerifier;
use zk_proto::Sid;

/// ZooKeeper's receive timeout per polled voter (`setSoTimeout(200)`).
pub const POLL_TIMEOUT_MS: u64 = 200;
/// ZooKeeper's sleep between two undecided rounds (`Thread.sleep(1000)`).
pub const ROUND_INTERVAL_MS: u64 = 1_000;

/// How one server runs LeaderElection.
#[derive(Clone, Debug)]
pub struct LeConfig {
    /// This server's id (`myid`).
    pub sid: Sid,
    /// The ensemble's voters and what a quorum is. A server that is not a voter is an observer.
    pub quorum: QuorumVerifier,
    /// Seed of the request ids (ZooKeeper draws a random `xid` per election).
    pub seed: u64,
    /// How long to wait for one voter's reply before polling the next.
    pub poll_timeout_ms: u64,
    /// How long to wait after an undecided round before polling again.
    pub round_interval_ms: u64,
    /// A deliberately broken variant, for mutation tests of the simulator's checkers.
    #[cfg(feature = "mutants")]
    pub mutant: Option<Mutant>,
}

impl LeConfig {
    /// ZooKeeper's timings for server `sid` in `quorum`; `seed` draws the request ids and must
    /// differ between incarnations of the server (the runtime passes a random one).
    pub fn new(sid: Sid, quorum: QuorumVerifier, seed: u64) -> LeConfig {
        LeConfig {
            sid,
            quorum,
            seed,
            poll_timeout_ms: POLL_TIMEOUT_MS,
            round_interval_ms: ROUND_INTERVAL_MS,
            #[cfg(feature = "mutants")]
            mutant: None,
        }
    }
}

/// Deliberate bugs (feature `mutants`, test-only) that the simulator's checkers must catch.
#[cfg(feature = "mutants")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutant {
    /// ZooKeeper's own rule: move to the greatest (zxid, sid) among the valid votes, ignoring
    /// the peer epoch and letting the vote drop below the voter's own.
    ZooKeeperVoteOrder,
}
