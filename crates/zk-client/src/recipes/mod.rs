//! Recipes built on [`crate::Client`]: leader election (herd-free, plus the naive baseline) and
//! a distributed lock, both on one queue of EPHEMERAL_SEQUENTIAL nodes.

pub mod election;
pub mod lock;
pub mod queue;

pub use election::{
    Campaign, ElectionEvent, FencingToken, Leader, LeaderElection, LeaderObserver, LossReason,
    WatchStrategy,
};
pub use lock::{DistributedLock, LockGuard};
