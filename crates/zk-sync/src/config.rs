//! Zab's settings, with ZooKeeper's defaults, and the test-only mutants.

use zk_elect::QuorumVerifier;
use zk_proto::Sid;

/// ZooKeeper's usual `tickTime`.
pub const TICK_MS: u64 = 2_000;
/// ZooKeeper's usual `initLimit` (ticks a learner may take to connect and sync).
pub const INIT_LIMIT_TICKS: u64 = 10;
/// ZooKeeper's usual `syncLimit` (ticks a learner may stay silent once synced).
pub const SYNC_LIMIT_TICKS: u64 = 5;
/// ZooKeeper's `zookeeper.commitLogCount`: committed proposals kept in memory for DIFF.
pub const COMMIT_LOG_COUNT: usize = 500;

/// How one server runs Zab.
#[derive(Clone, Debug)]
pub struct ZabConfig {
    /// This server's id (`myid`).
    pub sid: Sid,
    /// The ensemble's voters and what a quorum is. A server that is not a voter is an observer.
    pub quorum: QuorumVerifier,
    /// One tick (`tickTime`); the machine asks to be ticked every half tick, as ZooKeeper's
    /// leader pings every `tickTime / 2`.
    pub tick_ms: u64,
    /// `initLimit`, in ticks.
    pub init_limit_ticks: u64,
    /// `syncLimit`, in ticks.
    pub sync_limit_ticks: u64,
    /// How many committed proposals the leader can still send as a DIFF; a learner further
    /// behind gets a SNAP.
    pub commit_log_count: usize,
    /// A deliberately broken variant, for mutation tests of the checkers.
    #[cfg(feature = "mutants")]
    pub mutant: Option<Mutant>,
}

impl ZabConfig {
    /// ZooKeeper's defaults for server `sid` in `quorum`.
    pub fn new(sid: Sid, quorum: QuorumVerifier) -> ZabConfig {
        ZabConfig {
            sid,
            quorum,
            tick_ms: TICK_MS,
            init_limit_ticks: INIT_LIMIT_TICKS,
            sync_limit_ticks: SYNC_LIMIT_TICKS,
            commit_log_count: COMMIT_LOG_COUNT,
            #[cfg(feature = "mutants")]
            mutant: None,
        }
    }

    /// `initLimit` in milliseconds.
    pub fn init_limit_ms(&self) -> u64 {
        self.tick_ms * self.init_limit_ticks
    }

    /// `syncLimit` in milliseconds.
    pub fn sync_limit_ms(&self) -> u64 {
        self.tick_ms * self.sync_limit_ticks
    }

    /// Whether mutant `m` is switched on (always false without the `mutants` feature).
    #[allow(unused_variables)]
    pub(crate) fn is(&self, m: Mutant) -> bool {
        #[cfg(feature = "mutants")]
        {
            self.mutant == Some(m)
        }
        #[cfg(not(feature = "mutants"))]
        {
            false
        }
    }
}

/// Deliberate bugs (switched on only with feature `mutants`) that the scenario tests and the
/// simulator's checkers must catch. Each removes exactly one protection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutant {
    /// The leader does not abort when an ACKEPOCH shows a learner more recent than itself, so a
    /// leader without the highest zxid establishes.
    LeaderIgnoresMoreRecentLearner,
    /// A follower records currentEpoch together with acceptedEpoch at LEADERINFO, before it has
    /// synchronized with the leader.
    CurrentEpochAtLeaderInfo,
    /// A follower ACKs NEWLEADER (and records currentEpoch) before its synced history is durable.
    AckNewLeaderBeforeDurable,
    /// A follower records currentEpoch at NEWLEADER before its synced history is durable (it
    /// still waits for durability to ACK).
    CurrentEpochBeforeDurable,
    /// The leader forwards new proposals and commits only to learners that ACKed NEWLEADER, so
    /// a learner still syncing misses them.
    NoForwardingDuringSync,
    /// A follower logs a PROPOSAL that does not follow its last logged zxid (a gap).
    FollowerAcceptsGaps,
    /// The leader proposes its own acceptedEpoch + 1, ignoring the learners' acceptedEpochs.
    EpochIgnoresLearners,
    /// A follower receiving SNAP first truncates its log to nothing as a write of its own, so a
    /// crash before the snapshot is durable leaves it empty.
    SnapClearsLogFirst,
}
