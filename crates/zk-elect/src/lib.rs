//! What every leader-election algorithm shares: votes and their total order, the server states,
//! quorum verifiers (majority and ZooKeeper's hierarchical groups and weights), and the
//! [`Election`] trait that FastLeaderElection, LeaderElection and AuthFastLeaderElection implement.
//!
//! Everything here is sans-IO: an election is a state machine stepped with `(now, input)` that
//! appends [`Action`]s to a vector. It never reads a clock, sleeps, spawns or touches a socket, so
//! the real server and the deterministic simulator drive exactly the same code.
//!
//! ```
//! use zk_elect::{Millis, Vote};
//! use zk_proto::{Epoch, Sid, Zxid};
//!
//! // The vote order: peer epoch first, then zxid, then server id.
//! let older = Vote::new(Sid(3), Zxid::new(Epoch(1), 9), Epoch(1));
//! let newer = Vote::new(Sid(1), Zxid::new(Epoch(2), 0), Epoch(2));
//! assert!(newer > older);
//! assert_eq!(Millis(200) + 50, Millis(250));
//! ```

pub mod election;
pub mod error;
pub mod quorum;
pub mod state;
pub mod time;
pub mod vote;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use election::{Action, Backer, Election, Input, Outcome};
pub use error::QuorumConfigError;
pub use quorum::{HierarchicalQuorum, MajorityQuorum, QuorumVerifier};
pub use state::{LearnerType, ServerState};
pub use time::Millis;
pub use vote::{ElectionEpoch, Vote};
pub use zk_proto::{Epoch, Sid, Zxid};
