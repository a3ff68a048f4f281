//! The two LeaderElection datagrams and their encoding on the quorum port.
//!
//! ZooKeeper's request is a bare 4-byte `xid` and its reply `xid`, responder id, leader id and
//! zxid. Ours add the round to the request id (so a late reply from an earlier round is told
//! apart), and the responder's state and the leader's peer epoch to the reply (the vote order
//! needs the epoch). A datagram is one wire-version byte followed by the postcard encoding of
//! [`LeMessage`]; the responder is the sender the transport reports.

use core::fmt;

use serde::{Deserialize, Serialize};
use zk_elect::{ServerState, Vote};

use crate::error::DecodeError;

/// The leading byte of every encoded datagram.
pub const WIRE_VERSION: u8 = 1;

/// Identifies one poll: the election's random `xid` and the round within the election.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId {
    /// Drawn once per election, as ZooKeeper's `xid`.
    pub xid: u32,
    /// The poll round within the election, counted from 1.
    pub round: u32,
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}/{}", self.xid, self.round)
    }
}

/// A LeaderElection datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LeMessage {
    /// "What is your vote?"
    Request {
        /// Echoed in the reply.
        id: RequestId,
    },
    /// The responder's answer.
    Response {
        /// The request's id.
        id: RequestId,
        /// The responder's state.
        state: ServerState,
        /// LOOKING: the responder's current vote; otherwise the vote that ended its election.
        vote: Vote,
    },
}

impl LeMessage {
    /// Encodes the message as one datagram.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = vec![WIRE_VERSION];
        let body = postcard::to_allocvec(self).expect("a LeaderElection message always serializes");
        bytes.extend_from_slice(&body);
        bytes
    }

    /// Decodes a datagram made by [`LeMessage::encode`].
    pub fn decode(bytes: &[u8]) -> Result<LeMessage, DecodeError> {
        let (&version, body) = bytes.split_first().ok_or(DecodeError::Empty)?;
        if version != WIRE_VERSION {
            return Err(DecodeError::UnknownWireVersion(version));
        }
        let (message, rest) = postcard::take_from_bytes::<LeMessage>(body)
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

#[cfg(test)]
mod tests {
    use zk_proto::{Epoch, Sid, Zxid};

    use super::*;

    fn samples() -> [LeMessage; 2] {
        let id = RequestId {
            xid: 0xdead_beef,
            round: 3,
        };
        [
            LeMessage::Request { id },
            LeMessage::Response {
                id,
                state: ServerState::Following,
                vote: Vote::new(Sid(3), Zxid::new(Epoch(2), 9), Epoch(2)),
            },
        ]
    }

    #[test]
    fn messages_round_trip_through_their_datagram() {
        for message in samples() {
            let bytes = message.encode();
            assert_eq!(bytes[0], WIRE_VERSION);
            assert_eq!(LeMessage::decode(&bytes), Ok(message));
        }
    }

    #[test]
    fn malformed_datagrams_are_refused_and_never_panic() {
        let good = samples()[1].encode();
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(LeMessage::decode(&[]), Err(DecodeError::Empty));
        assert_eq!(
            LeMessage::decode(&[9, 0]),
            Err(DecodeError::UnknownWireVersion(9))
        );
        assert!(matches!(
            LeMessage::decode(&trailing),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            LeMessage::decode(&[WIRE_VERSION, 7]),
            Err(DecodeError::Malformed(_))
        ));
        for len in 0..good.len() {
            assert!(
                LeMessage::decode(&good[..len]).is_err(),
                "prefix of {len} bytes"
            );
        }
    }
}
