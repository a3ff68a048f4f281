//! FastLeaderElection's settings, with ZooKeeper's defaults.

use zk_elect::QuorumVerifier;
use zk_proto::Sid;

/// ZooKeeper's `finalizeWait`: how long a quorum must agree with nothing better arriving.
pub const FINALIZE_WAIT_MS: u64 = 200;
/// ZooKeeper's `minNotificationInterval`: the first re-send timeout.
pub const MIN_NOTIFICATION_INTERVAL_MS: u64 = 200;
/// ZooKeeper's `maxNotificationInterval`: the cap of the exponential back-off.
pub const MAX_NOTIFICATION_INTERVAL_MS: u64 = 60_000;

/// How one server runs FastLeaderElection.
#[derive(Clone, Debug)]
pub struct FleConfig {
    /// This server's id (`myid`).
    pub sid: Sid,
    /// The ensemble's voters and what a quorum is. A server that is not a voter is an observer.
    pub quorum: QuorumVerifier,
    /// Quiet time required after a quorum agrees before deciding.
    pub finalize_wait_ms: u64,
    /// First re-send timeout when no notification arrives.
    pub min_notification_interval_ms: u64,
    /// Cap of the doubling re-send timeout.
    pub max_notification_interval_ms: u64,
    /// A deliberately broken variant, for mutation tests of the simulator's checkers.
    #[cfg(feature = "mutants")]
    pub mutant: Option<Mutant>,
}

impl FleConfig {
    /// The settings ZooKeeper uses by default, for server `sid` in `quorum`.
    pub fn new(sid: Sid, quorum: QuorumVerifier) -> FleConfig {
        FleConfig {
            sid,
            quorum,
            finalize_wait_ms: FINALIZE_WAIT_MS,
            min_notification_interval_ms: MIN_NOTIFICATION_INTERVAL_MS,
            max_notification_interval_ms: MAX_NOTIFICATION_INTERVAL_MS,
            #[cfg(feature = "mutants")]
            mutant: None,
        }
    }
}

/// Deliberate bugs (feature `mutants`, test-only) that the simulator's checkers must catch.
#[cfg(feature = "mutants")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutant {
    /// The vote order prefers the lower zxid (peer epoch and sid still compare correctly).
    VoteOrderPrefersLowerZxid,
    /// Half of the voters is taken for a quorum.
    HalfIsAQuorum,
}
