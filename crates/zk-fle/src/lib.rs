//! FastLeaderElection (`electionAlg=3`, ZooKeeper's default) as a pure state machine.
//!
//! [`FastLeaderElection`] implements [`zk_elect::Election`]: the driver feeds it
//! `Start` when the server begins LOOKING, every received [`Notification`], and a `Tick` when
//! its clock reaches [`zk_elect::Election::deadline`]; the machine appends the notifications to
//! send and, once a quorum agrees, [`zk_elect::Action::Decided`].
//!
//! The rules are those of ZooKeeper 3.9's `FastLeaderElection.lookForLeader` and its receiver
//! thread: the logical clock (election epoch), the vote order of `totalOrderPredicate`, the
//! finalize wait after a quorum agrees (cut short when every voter whose connection is up has
//! voted for the same leader: see `README.md`), joining an established leader through the
//! `outofelection` votes, observers that are never elected and never counted, and re-sending
//! with exponential back-off when nothing arrives. See `README.md` for the wire format and what
//! byte compatibility with Java peers would need.
//!
//! ```
//! use zk_elect::{Action, Election, ElectionEpoch, Input, Millis, QuorumVerifier, ServerState};
//! use zk_fle::{FastLeaderElection, FleConfig, Notification, NOTIFICATION_VERSION};
//! use zk_proto::{Epoch, Sid, Zxid};
//!
//! // Server 1 of three: its own vote is a quorum of one only with server 2's, and server 3 is
//! // down, so once 2 agrees nothing better can come and the finalize wait ends at once.
//! let quorum = QuorumVerifier::majority([Sid(1), Sid(2), Sid(3)]).unwrap();
//! let mut fle = FastLeaderElection::new(FleConfig::new(Sid(1), quorum));
//! let mut out = Vec::new();
//! fle.step(Millis(0), Input::PeerDown(Sid(3)), &mut out);
//! fle.step(Millis(0), Input::Start { last_zxid: Zxid(7), peer_epoch: Epoch(1) }, &mut out);
//! let vote = Notification {
//!     state: ServerState::Looking,
//!     leader: Sid(1),
//!     zxid: Zxid(7),
//!     election_epoch: ElectionEpoch(1),
//!     peer_epoch: Epoch(1),
//!     version: NOTIFICATION_VERSION,
//! };
//! fle.step(Millis(3), Input::Recv { from: Sid(2), msg: vote }, &mut out);
//! assert_eq!(fle.deadline(), Some(Millis(3)));
//! fle.step(Millis(3), Input::Tick, &mut out);
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
