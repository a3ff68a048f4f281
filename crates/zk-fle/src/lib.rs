//! FastLeaderElection (`electionAlg=3`, ZooKeeper's default) as a pure state machine.
//!
//! [`FastLeaderElection`] implements [`zk_elect::Election`]: the driver feeds it
//! `Start` when the server begins LOOKING, every received [`Notification`], and a `Tick` when
//! its clock reaches [`zk_elect::Election::deadline`]; the machine appends the notifications to
//! send and, once a quorum agrees, [`zk_elect::Action::Decided`].
//!
//! The rules are those of ZooKeeper 3.9's `FastLeaderElection.lookForLeader` and its receiver
//! thread: the logical clock (election epoch), the vote order of `totalOrderPredicate`, the
//! finalize wait after a quorum agrees, joining an established leader through the
//! `outofelection` votes, observers that are never elected and never counted, and re-sending
//! with exponential back-off when nothing arrives. See `README.md` for the wire format and what
//! byte compatibility with Java peers would need.
//!
//! ```
//! use zk_elect::{Action, Election, Input, Millis, QuorumVerifier, ServerState};
//! use zk_fle::{FastLeaderElection, FleConfig};
//! use zk_proto::{Epoch, Sid, Zxid};
//!
//! // A one-server ensemble elects itself after the finalize wait.
//! let quorum = QuorumVerifier::majority([Sid(1)]).unwrap();
//! let mut fle = FastLeaderElection::new(FleConfig::new(Sid(1), quorum));
//! let mut out = Vec::new();
//! fle.step(Millis(0), Input::Start { last_zxid: Zxid(7), peer_epoch: Epoch(1) }, &mut out);
//! assert_eq!(fle.deadline(), Some(Millis(200)));
//! fle.step(Millis(200), Input::Tick, &mut out);
//! assert_eq!(fle.state(), ServerState::Leading);
//! assert!(out.iter().any(|action| matches!(action, Action::Decided(_))));
//! ```

pub mod config;
pub mod error;
pub mod fle;
pub mod message;

pub use config::FleConfig;
#[cfg(feature = "mutants")]
pub use config::Mutant;
pub use error::DecodeError;
pub use fle::FastLeaderElection;
pub use message::{Notification, NOTIFICATION_VERSION, WIRE_VERSION};
