//! AuthFastLeaderElection (`electionAlg=2`) as a pure state machine, with real authentication.
//!
//! The fast-election exchange of ZooKeeper's `AuthFastLeaderElection` over UDP: notifications
//! carrying the sender's proposal and logical clock, each acknowledged, retransmitted with
//! growing waits until acknowledged, and preceded by a challenge/response step. ZooKeeper's
//! challenge only proved that the sender could receive at its address. Here, with a key
//! ([`AuthKey`], zoo.cfg `authFleSecret` or a key file), every datagram carries an HMAC-SHA256
//! over its contents, sender and recipient, and a freshness value (the receiver's single-use
//! challenge, or the tag it answers), so a host without the secret can neither inject nor replay
//! a vote; without a key the behaviour is the original's. `docs/auth-fle-threat-model.md` states
//! the threat model; `README.md` lists the differences from ZooKeeper.
//!
//! Votes are ordered by (peer epoch, zxid, sid) and quorums come from the configured
//! [`zk_elect::QuorumVerifier`], as in the other two algorithms.
//!
//! ```
//! use zk_auth_fle::{AuthFastLeaderElection, AuthFleConfig, AuthKey};
//! use zk_elect::{Action, Election, Input, Millis, QuorumVerifier, ServerState};
//! use zk_proto::{Epoch, Sid, Zxid};
//!
//! // A one-server ensemble agrees with itself at once.
//! let quorum = QuorumVerifier::majority([Sid(1)]).unwrap();
//! let key = AuthKey::new(b"correct horse battery staple").unwrap();
//! let config = AuthFleConfig::new(Sid(1), quorum, 42).with_key(key);
//! let mut fle = AuthFastLeaderElection::new(config);
//! let mut out = Vec::new();
//! fle.step(Millis(0), Input::Start { last_zxid: Zxid(7), peer_epoch: Epoch(1) }, &mut out);
//! assert_eq!(fle.state(), ServerState::Leading);
//! assert!(out.iter().any(|action| matches!(action, Action::Decided(_))));
//! ```

pub mod auth_fle;
pub mod config;
pub mod error;
pub mod message;
mod rng;

pub use auth_fle::AuthFastLeaderElection;
pub use config::{AuthFleConfig, AuthKey};
pub use error::{DecodeError, KeyError};
pub use message::{AuthMessage, Body, Challenge, Mac, Tag, WIRE_VERSION};
