//! The notification FastLeaderElection peers exchange, and its encoding on the election port.
//!
//! The fields and their order follow ZooKeeper's notification (state, leader, zxid, election
//! epoch, peer epoch, version); the bytes do not: a frame is one wire-version byte followed by
//! the postcard encoding of [`Notification`]. `README.md` lists what Java compatibility needs.

use serde::{Deserialize, Serialize};
use zk_elect::{ElectionEpoch, ServerState, Vote};
use zk_proto::{Epoch, Sid, Zxid};

use crate::error::DecodeError;

/// The notification format version ZooKeeper 3.5+ sends (the one that carries a config).
pub const NOTIFICATION_VERSION: u32 = 2;

/// The leading byte of every encoded frame.
pub const WIRE_VERSION: u8 = 1;

/// One FastLeaderElection notification: the sender's state and the vote it currently holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Notification {
    /// The sender's state.
    pub state: ServerState,
    /// The leader the sender proposes (LOOKING) or follows (FOLLOWING, LEADING, OBSERVING).
    pub leader: Sid,
    /// That leader's last zxid.
    pub zxid: Zxid,
    /// The sender's logical clock; for a sender that is not LOOKING, the round it decided in.
    pub election_epoch: ElectionEpoch,
    /// That leader's epoch.
    pub peer_epoch: Epoch,
    /// The notification format version ([`NOTIFICATION_VERSION`]).
    pub version: u32,
}

impl Notification {
    /// The vote this notification carries.
    pub fn vote(&self) -> Vote {
        Vote::new(self.leader, self.zxid, self.peer_epoch)
    }

    /// Encodes the notification as one election-port frame body.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = vec![WIRE_VERSION];
        let body = postcard::to_allocvec(self).expect("a notification always serializes");
        bytes.extend_from_slice(&body);
        bytes
    }

    /// Decodes a frame body made by [`Notification::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Notification, DecodeError> {
        let (&version, body) = bytes.split_first().ok_or(DecodeError::Empty)?;
        if version != WIRE_VERSION {
            return Err(DecodeError::UnknownWireVersion(version));
        }
        let (notification, rest) = postcard::take_from_bytes::<Notification>(body)
            .map_err(|error| DecodeError::Malformed(error.to_string()))?;
        if !rest.is_empty() {
            return Err(DecodeError::Malformed(format!(
                "{} trailing bytes",
                rest.len()
            )));
        }
        Ok(notification)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Notification {
        Notification {
            state: ServerState::Following,
            leader: Sid(3),
            zxid: Zxid::new(Epoch(4), 17),
            election_epoch: ElectionEpoch(9),
            peer_epoch: Epoch(4),
            version: NOTIFICATION_VERSION,
        }
    }

    #[test]
    fn notification_round_trips_through_its_frame() {
        let bytes = sample().encode();
        assert_eq!(bytes[0], WIRE_VERSION);
        assert_eq!(Notification::decode(&bytes), Ok(sample()));
    }

    #[test]
    fn malformed_frames_are_refused() {
        let good = sample().encode();
        let mut trailing = good.clone();
        trailing.push(0);
        let mut bad_state = good.clone();
        bad_state[1] = 9; // state is the first field: only 0..=3 exist
        assert_eq!(Notification::decode(&[]), Err(DecodeError::Empty));
        assert_eq!(
            Notification::decode(&[7, 0]),
            Err(DecodeError::UnknownWireVersion(7))
        );
        assert!(matches!(
            Notification::decode(&good[..good.len() - 1]),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            Notification::decode(&trailing),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            Notification::decode(&bad_state),
            Err(DecodeError::Malformed(_))
        ));
    }

    #[test]
    fn decoding_arbitrary_prefixes_never_panics() {
        let good = sample().encode();
        for len in 0..good.len() {
            let _ = Notification::decode(&good[..len]);
        }
        for byte in 0..=255u8 {
            let _ = Notification::decode(&[WIRE_VERSION, byte, byte, byte]);
        }
    }
}
