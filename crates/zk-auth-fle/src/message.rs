//! The four AuthFastLeaderElection datagrams, their MAC, and their encoding on the election port.
//!
//! ZooKeeper's 48-byte datagram carries a type (challenge request, challenge, notification,
//! ack), a tag linking one notification to its challenge exchange and ack, the sender's state,
//! and a type-specific body. Ours carry the same fields plus the vote's peer epoch, the
//! challenge echoed in the ack, and an optional HMAC-SHA256 ([`Mac`]). A datagram is one
//! wire-version byte followed by the postcard encoding of [`AuthMessage`]; the transport puts the
//! sender's sid in front, and the MAC binds it.

use core::fmt;

use hmac::{Hmac, Mac as _};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zk_elect::{ElectionEpoch, ServerState, Vote};
use zk_proto::Sid;

use crate::config::AuthKey;
use crate::error::DecodeError;

/// The leading byte of every encoded datagram.
pub const WIRE_VERSION: u8 = 1;

/// Domain separation: a MAC made for this protocol and version means nothing elsewhere.
const MAC_DOMAIN: &[u8] = b"zk-auth-fle/1";

/// Links a notification to its challenge exchange and its ack; unique per sender incarnation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Tag(pub u64);

/// A single-use nonce a receiver issues for one (sender, tag): the freshness value of a
/// notification and of its ack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Challenge(pub u64);

/// HMAC-SHA256 over the protocol domain, sender sid, recipient sid and the encoded [`Body`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Mac(pub [u8; 32]);

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Mac({:02x}{:02x}{:02x}{:02x}..)",
            self.0[0], self.0[1], self.0[2], self.0[3]
        )
    }
}

/// What a datagram says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Body {
    /// Type 0: "give me a challenge for this tag".
    ChallengeRequest {
        /// The tag of the notification to come.
        tag: Tag,
    },
    /// Type 1: the challenge for a tag; also sent, unrequested, to answer a notification whose
    /// challenge the receiver does not hold.
    Challenge {
        /// The tag.
        tag: Tag,
        /// The challenge to echo in the notification.
        challenge: Challenge,
    },
    /// Type 2: the sender's proposal (always from a LOOKING sender).
    Notification {
        /// The tag.
        tag: Tag,
        /// The proposed leader, its zxid and peer epoch.
        vote: Vote,
        /// The sender's logical clock.
        election_epoch: ElectionEpoch,
        /// The receiver's challenge for this tag (with the challenge step).
        challenge: Option<Challenge>,
    },
    /// Type 3: the receiver's acknowledgement, carrying its own state and vote.
    Ack {
        /// The notification's tag.
        tag: Tag,
        /// The acker's state.
        state: ServerState,
        /// LOOKING: the acker's proposal; otherwise the vote that ended its election.
        vote: Vote,
        /// The acker's logical clock, or the round it decided in.
        election_epoch: ElectionEpoch,
        /// The notification's challenge, echoed.
        challenge: Option<Challenge>,
    },
}

/// One datagram: a body and, when a key is configured, its MAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AuthMessage {
    /// What it says.
    pub body: Body,
    /// The keyed MAC, when the ensemble has a secret.
    pub mac: Option<Mac>,
}

impl AuthMessage {
    /// `body` from `from` to `to`, with a MAC when `key` is given.
    pub fn seal(body: Body, key: Option<&AuthKey>, from: Sid, to: Sid) -> AuthMessage {
        AuthMessage {
            body,
            mac: key.map(|key| compute_mac(key, from, to, &body)),
        }
    }

    /// Whether the MAC is present and valid for `from` to `to` (compared in constant time).
    pub fn verify(&self, key: &AuthKey, from: Sid, to: Sid) -> bool {
        let Some(mac) = self.mac else { return false };
        hmac_for(key, from, to, &self.body)
            .verify_slice(&mac.0)
            .is_ok()
    }

    /// Encodes the message as one datagram body.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = vec![WIRE_VERSION];
        let body = postcard::to_allocvec(self).expect("an election message always serializes");
        bytes.extend_from_slice(&body);
        bytes
    }

    /// Decodes a datagram body made by [`AuthMessage::encode`].
    pub fn decode(bytes: &[u8]) -> Result<AuthMessage, DecodeError> {
        let (&version, body) = bytes.split_first().ok_or(DecodeError::Empty)?;
        if version != WIRE_VERSION {
            return Err(DecodeError::UnknownWireVersion(version));
        }
        let (message, rest) = postcard::take_from_bytes::<AuthMessage>(body)
            .map_err(|error| DecodeError::Malformed(error.to_string()))?;
        if !rest.is_empty() {
            return Err(DecodeError::Malformed(format!(
                "{} trailing bytes",
                rest.len()
            )));
        }
        Ok(message)
    }
}

fn hmac_for(key: &AuthKey, from: Sid, to: Sid, body: &Body) -> Hmac<Sha256> {
    let mut hmac =
        Hmac::<Sha256>::new_from_slice(key.bytes()).expect("HMAC takes keys of any length");
    hmac.update(MAC_DOMAIN);
    hmac.update(&from.0.to_be_bytes());
    hmac.update(&to.0.to_be_bytes());
    hmac.update(&postcard::to_allocvec(body).expect("an election message always serializes"));
    hmac
}

fn compute_mac(key: &AuthKey, from: Sid, to: Sid, body: &Body) -> Mac {
    Mac(hmac_for(key, from, to, body).finalize().into_bytes().into())
}

#[cfg(test)]
mod tests {
    use zk_proto::{Epoch, Zxid};

    use super::*;

    fn key(secret: &str) -> AuthKey {
        AuthKey::new(secret.as_bytes()).unwrap()
    }

    fn notification() -> Body {
        Body::Notification {
            tag: Tag(7),
            vote: Vote::new(Sid(3), Zxid::new(Epoch(2), 5), Epoch(2)),
            election_epoch: ElectionEpoch(4),
            challenge: Some(Challenge(99)),
        }
    }

    #[test]
    fn a_mac_binds_key_sender_recipient_and_every_field() {
        let good = key("a shared secret of 32 bytes.....");
        let sealed = AuthMessage::seal(notification(), Some(&good), Sid(1), Sid(2));
        assert!(sealed.verify(&good, Sid(1), Sid(2)));
        // (message, key, from, to, why it must fail)
        let mut altered = sealed;
        if let Body::Notification { vote, .. } = &mut altered.body {
            vote.zxid = Zxid(vote.zxid.0 + 1);
        }
        let table = [
            (
                sealed,
                key("another secret of enough length"),
                Sid(1),
                Sid(2),
                "another key",
            ),
            (sealed, good.clone(), Sid(3), Sid(2), "another sender"),
            (
                sealed,
                good.clone(),
                Sid(1),
                Sid(3),
                "another recipient (reflection)",
            ),
            (altered, good.clone(), Sid(1), Sid(2), "an altered vote"),
            (
                AuthMessage {
                    mac: None,
                    ..sealed
                },
                good.clone(),
                Sid(1),
                Sid(2),
                "no MAC",
            ),
        ];
        for (message, key, from, to, why) in table {
            assert!(!message.verify(&key, from, to), "{why}");
        }
    }

    #[test]
    fn secrets_are_trimmed_and_must_be_long_enough() {
        assert_eq!(
            AuthKey::new(b"  0123456789abcdef\n").unwrap(),
            key("0123456789abcdef")
        );
        assert_eq!(
            AuthKey::new(b"short\n"),
            Err(crate::KeyError::TooShort { len: 5, min: 16 })
        );
        assert!(
            !format!("{:?}", key("0123456789abcdef")).contains("0123"),
            "Debug redacts"
        );
    }

    #[test]
    fn messages_round_trip_and_malformed_datagrams_are_refused() {
        let k = key("0123456789abcdef");
        let bodies = [
            Body::ChallengeRequest { tag: Tag(1) },
            Body::Challenge {
                tag: Tag(1),
                challenge: Challenge(2),
            },
            notification(),
            Body::Ack {
                tag: Tag(1),
                state: ServerState::Leading,
                vote: Vote::new(Sid(1), Zxid(0), Epoch(0)),
                election_epoch: ElectionEpoch(1),
                challenge: None,
            },
        ];
        for body in bodies {
            for key in [None, Some(&k)] {
                let message = AuthMessage::seal(body, key, Sid(1), Sid(2));
                let bytes = message.encode();
                assert_eq!(AuthMessage::decode(&bytes), Ok(message));
                for len in 0..bytes.len() {
                    assert!(AuthMessage::decode(&bytes[..len]).is_err());
                }
            }
        }
        assert_eq!(AuthMessage::decode(&[]), Err(DecodeError::Empty));
        assert_eq!(
            AuthMessage::decode(&[2]),
            Err(DecodeError::UnknownWireVersion(2))
        );
    }
}
