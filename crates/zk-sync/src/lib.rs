//! Zab, ZooKeeper's atomic broadcast (discovery, synchronization, broadcast), as a pure,
//! sans-IO state machine.
//!
//! After an election decides, the host feeds [`Input::ElectionDecided`] and from then on every
//! packet ([`Input::Recv`]), client write on the leader ([`Input::Propose`]), completed history
//! write ([`Input::Persisted`]), timer ([`Input::Tick`], at [`Zab::deadline`]) and broken
//! connection ([`Input::PeerDown`]). The machine appends [`Action`]s the host executes in order:
//! packets to send, history and epoch writes, commits, [`Action::Disconnect`] of a lagging
//! follower, and finally [`Action::GoLooking`] when the role is lost. Transactions are opaque
//! bytes with a zxid; the machine never reads a clock, sleeps, spawns or touches a socket.
//!
//! The rules follow ZooKeeper 3.9 (`Leader`, `LearnerHandler`, `Learner`, `Follower`):
//! - discovery: FOLLOWERINFO, LEADERINFO with an epoch above every acceptedEpoch of a quorum,
//!   ACKEPOCH with the learner's currentEpoch (or none when it already accepted the epoch); a
//!   leader that meets a more recent learner steps down;
//! - synchronization: DIFF, TRUNC or SNAP, the proposals with their COMMITs, the outstanding
//!   proposals, then NEWLEADER; the learner makes the synced history durable, then records
//!   currentEpoch, then ACKs; the leader serves clients and sends UPTODATE once a quorum ACKed;
//! - broadcast: PROPOSAL, ACK (only once [`Input::Persisted`] covers the proposal), COMMIT in
//!   zxid order, INFORM to observers, PING with `syncLimit`/`initLimit`.
//!
//! One deviation, since the peer protocol is ours and no Java server joins an ensemble: ACK and
//! COMMIT are cumulative. A follower ACKs the newest durable zxid once per log write, and the
//! leader sends one COMMIT for the newest zxid of each commit batch, where ZooKeeper sends one
//! ACK and one COMMIT per proposal. Both stay safe because a follower's log has no gap.
//!
//! ```
//! use zk_elect::{Millis, QuorumVerifier, ServerState};
//! use zk_proto::{Epoch, Sid, Zxid};
//! use zk_sync::{Action, Durable, Input, Zab, ZabConfig};
//!
//! // A one-server ensemble leads epoch 1 as soon as its (empty) history is durable.
//! let quorum = QuorumVerifier::majority([Sid(1)]).unwrap();
//! let mut zab = Zab::new(ZabConfig::new(Sid(1), quorum), Durable::default());
//! let mut out = Vec::new();
//! zab.step(Millis(0), Input::ElectionDecided { leader: Sid(1), state: ServerState::Leading }, &mut out);
//! assert!(out.contains(&Action::PersistAcceptedEpoch(Epoch(1))));
//! assert!(out.contains(&Action::ServeClients { epoch: Epoch(1) }));
//! out.clear();
//! zab.step(Millis(1), Input::Propose(b"create /a".to_vec()), &mut out);
//! assert!(matches!(&out[0], Action::Append(entries) if entries[0].zxid == Zxid::new(Epoch(1), 1)));
//! out.clear();
//! zab.step(Millis(2), Input::Persisted { up_to: Zxid::new(Epoch(1), 1) }, &mut out);
//! assert_eq!(out, vec![Action::Commit(Zxid::new(Epoch(1), 1))]);
//! ```

pub mod config;
pub mod error;
mod follower;
pub mod io;
mod leader;
pub mod message;
mod zab;

#[cfg(test)]
mod follower_tests;
#[cfg(test)]
mod leader_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod zab_tests;

pub use config::{Mutant, ZabConfig};
pub use error::DecodeError;
pub use io::{Action, Durable, Entry, Input};
pub use message::{ZabMsg, ZAB_WIRE_VERSION};
pub use zab::Zab;
pub use zk_proto::{Epoch, Sid, Zxid};
