//! The packets Zab peers exchange on the quorum port, and their encoding.
//!
//! The packet types and what their zxid means follow ZooKeeper's `QuorumPacket` (FOLLOWERINFO,
//! LEADERINFO, ACKEPOCH, DIFF, TRUNC, SNAP, PROPOSAL, ACK, COMMIT, INFORM, NEWLEADER, UPTODATE,
//! PING); the bytes do not: a frame is one wire-version byte followed by the postcard encoding
//! of [`ZabMsg`], as for zk-fle's notifications.

use serde::{Deserialize, Serialize};
use zk_proto::{Epoch, Zxid};

use crate::error::DecodeError;

/// The leading byte of every encoded frame (2: ACK and COMMIT are cumulative).
pub const ZAB_WIRE_VERSION: u8 = 2;

/// One Zab packet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ZabMsg {
    /// Learner to leader, first packet: the learner's acceptedEpoch (FOLLOWERINFO, or
    /// OBSERVERINFO when `observer`).
    FollowerInfo {
        /// The learner's acceptedEpoch.
        accepted_epoch: Epoch,
        /// Whether the learner is an observer.
        observer: bool,
    },
    /// Leader to learner: the new epoch (LEADERINFO, zxid `epoch << 32`).
    LeaderInfo {
        /// The epoch the leader proposes.
        epoch: Epoch,
    },
    /// Learner to leader: the learner's state summary (ACKEPOCH).
    AckEpoch {
        /// The learner's currentEpoch, or `None` (ZooKeeper's -1) when it had already accepted
        /// this epoch, so that its acknowledgement is not counted twice.
        current_epoch: Option<Epoch>,
        /// The learner's last logged zxid.
        last_zxid: Zxid,
    },
    /// Leader to learner: keep your log; the proposals that follow extend it (DIFF).
    Diff {
        /// The zxid the DIFF stream ends at.
        zxid: Zxid,
    },
    /// Leader to learner: drop every logged proposal above `zxid` (TRUNC).
    Trunc {
        /// The zxid to truncate to.
        zxid: Zxid,
    },
    /// Leader to learner: replace your state with this snapshot (SNAP).
    Snap {
        /// The zxid the snapshot reflects.
        zxid: Zxid,
        /// The host's opaque snapshot.
        #[serde(with = "serde_bytes")]
        state: Vec<u8>,
    },
    /// Leader to follower: a proposal (PROPOSAL).
    Proposal {
        /// Its zxid.
        zxid: Zxid,
        /// The opaque transaction.
        #[serde(with = "serde_bytes")]
        txn: Vec<u8>,
    },
    /// Follower to leader: the log up to `zxid` is durable here (ACK; also the NEWLEADER ACK).
    /// Unlike ZooKeeper's, an ACK is cumulative: it counts for every proposal up to `zxid`.
    Ack {
        /// The acknowledged zxid.
        zxid: Zxid,
    },
    /// Leader to follower: commit every proposal up to `zxid` (COMMIT).
    Commit {
        /// The committed zxid.
        zxid: Zxid,
    },
    /// Leader to observer: a committed proposal (INFORM).
    Inform {
        /// Its zxid.
        zxid: Zxid,
        /// The opaque transaction.
        #[serde(with = "serde_bytes")]
        txn: Vec<u8>,
    },
    /// Leader to learner: the synchronization stream is complete (NEWLEADER, zxid `epoch << 32`).
    NewLeader {
        /// `epoch << 32`.
        zxid: Zxid,
    },
    /// Leader to learner: a quorum acknowledged NEWLEADER; serve clients (UPTODATE).
    UpToDate,
    /// Liveness in both directions (PING): the leader's last proposed zxid, echoed back.
    Ping {
        /// The leader's last proposed zxid.
        zxid: Zxid,
    },
}

impl ZabMsg {
    /// ZooKeeper's name of the packet type, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            ZabMsg::FollowerInfo {
                observer: false, ..
            } => "FOLLOWERINFO",
            ZabMsg::FollowerInfo { observer: true, .. } => "OBSERVERINFO",
            ZabMsg::LeaderInfo { .. } => "LEADERINFO",
            ZabMsg::AckEpoch { .. } => "ACKEPOCH",
            ZabMsg::Diff { .. } => "DIFF",
            ZabMsg::Trunc { .. } => "TRUNC",
            ZabMsg::Snap { .. } => "SNAP",
            ZabMsg::Proposal { .. } => "PROPOSAL",
            ZabMsg::Ack { .. } => "ACK",
            ZabMsg::Commit { .. } => "COMMIT",
            ZabMsg::Inform { .. } => "INFORM",
            ZabMsg::NewLeader { .. } => "NEWLEADER",
            ZabMsg::UpToDate => "UPTODATE",
            ZabMsg::Ping { .. } => "PING",
        }
    }

    /// Encodes the packet as one quorum-port frame body.
    pub fn encode(&self) -> Vec<u8> {
        // Serialised straight after the version byte: one allocation, no copy.
        postcard::to_extend(self, vec![ZAB_WIRE_VERSION]).expect("a Zab message always serializes")
    }

    /// Decodes a frame body made by [`ZabMsg::encode`].
    pub fn decode(bytes: &[u8]) -> Result<ZabMsg, DecodeError> {
        let (&version, body) = bytes.split_first().ok_or(DecodeError::Empty)?;
        if version != ZAB_WIRE_VERSION {
            return Err(DecodeError::UnknownWireVersion(version));
        }
        let (msg, rest) = postcard::take_from_bytes::<ZabMsg>(body)
            .map_err(|error| DecodeError::Malformed(error.to_string()))?;
        if !rest.is_empty() {
            return Err(DecodeError::Malformed(format!(
                "{} trailing bytes",
                rest.len()
            )));
        }
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<ZabMsg> {
        let zxid = Zxid::new(Epoch(3), 7);
        vec![
            ZabMsg::FollowerInfo {
                accepted_epoch: Epoch(2),
                observer: true,
            },
            ZabMsg::LeaderInfo { epoch: Epoch(3) },
            ZabMsg::AckEpoch {
                current_epoch: None,
                last_zxid: zxid,
            },
            ZabMsg::Diff { zxid },
            ZabMsg::Trunc { zxid },
            ZabMsg::Snap {
                zxid,
                state: vec![1, 2, 3],
            },
            ZabMsg::Proposal {
                zxid,
                txn: b"set /a".to_vec(),
            },
            ZabMsg::Ack { zxid },
            ZabMsg::Commit { zxid },
            ZabMsg::Inform { zxid, txn: vec![] },
            ZabMsg::NewLeader { zxid },
            ZabMsg::UpToDate,
            ZabMsg::Ping { zxid },
        ]
    }

    #[test]
    fn every_packet_round_trips_through_its_frame() {
        for msg in samples() {
            let bytes = msg.encode();
            assert_eq!(bytes[0], ZAB_WIRE_VERSION, "{}", msg.kind());
            assert_eq!(ZabMsg::decode(&bytes), Ok(msg));
        }
    }

    #[test]
    fn malformed_frames_are_refused_and_prefixes_never_panic() {
        assert_eq!(ZabMsg::decode(&[]), Err(DecodeError::Empty));
        assert_eq!(
            ZabMsg::decode(&[9, 0]),
            Err(DecodeError::UnknownWireVersion(9))
        );
        for msg in samples() {
            let good = msg.encode();
            let mut trailing = good.clone();
            trailing.push(0);
            assert!(matches!(
                ZabMsg::decode(&trailing),
                Err(DecodeError::Malformed(_))
            ));
            for len in 0..good.len() {
                let _ = ZabMsg::decode(&good[..len]);
            }
        }
        assert!(matches!(
            ZabMsg::decode(&[ZAB_WIRE_VERSION, 200]),
            Err(DecodeError::Malformed(_))
        ));
    }
}
