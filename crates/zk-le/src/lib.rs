//! LeaderElection (`electionAlg=1`, alias `0`), ZooKeeper's original UDP election, as a pure
//! state machine.
//!
//! Each LOOKING server polls every voter in turn for its current vote (a request with a request
//! id, one reply expected, a 200 ms receive timeout per voter), tallies the replies, moves its
//! vote to the best candidate and, when a quorum of voters supports one candidate, decides;
//! otherwise it waits a second and polls again. Every server answers polls, whatever its state.
//!
//! What was unsafe in ZooKeeper's version is fixed here (see `README.md`): votes are ordered by
//! (peer epoch, zxid, sid), quorums come from the configured [`zk_elect::QuorumVerifier`]
//! (hierarchical quorums included), a server's vote never drops below its own, and the decision
//! needs a quorum for one candidate, so there is no tie to break by hash-map order.
//!
//! ```
//! use zk_elect::{Action, Election, Input, Millis, QuorumVerifier, ServerState};
//! use zk_le::{LeConfig, LeaderElection};
//! use zk_proto::{Epoch, Sid, Zxid};
//!
//! // A one-server ensemble polls nobody but itself and elects itself at once.
//! let quorum = QuorumVerifier::majority([Sid(1)]).unwrap();
//! let mut le = LeaderElection::new(LeConfig::new(Sid(1), quorum, 7));
//! let mut out = Vec::new();
//! le.step(Millis(0), Input::Start { last_zxid: Zxid(3), peer_epoch: Epoch(1) }, &mut out);
//! assert_eq!(le.state(), ServerState::Leading);
//! assert!(out.iter().any(|action| matches!(action, Action::Decided(_))));
//! ```

pub mod config;
pub mod error;
pub mod le;
pub mod message;
mod rng;

pub use config::LeConfig;
#[cfg(feature = "mutants")]
pub use config::Mutant;
pub use error::DecodeError;
pub use le::LeaderElection;
pub use message::{LeMessage, RequestId, WIRE_VERSION};
