//! A vote and its total order: peer epoch, then zxid, then server id.
//!
//! This is `totalOrderPredicate` of ZooKeeper's `FastLeaderElection` and the order
//! `FastLeaderElection.tla` defines. The check that the candidate has a non-zero weight is the
//! quorum verifier's business; see [`QuorumVerifier::can_lead`](crate::QuorumVerifier::can_lead).

use core::cmp::Ordering;
use core::fmt;

use serde::{Deserialize, Serialize};
use zk_proto::{Epoch, Sid, Zxid};

/// An election round: FastLeaderElection's logical clock (`electionEpoch` on the wire).
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug, Serialize, Deserialize,
)]
pub struct ElectionEpoch(pub u64);

impl fmt::Display for ElectionEpoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A proposal for leader: the candidate's sid, its last logged zxid and its current epoch.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Vote {
    /// The proposed leader.
    pub leader: Sid,
    /// The proposed leader's last logged zxid.
    pub zxid: Zxid,
    /// The proposed leader's current epoch (`peerEpoch`).
    pub peer_epoch: Epoch,
}

impl Vote {
    /// A vote for `leader`, whose last zxid is `zxid` and current epoch `peer_epoch`.
    pub fn new(leader: Sid, zxid: Zxid, peer_epoch: Epoch) -> Vote {
        Vote {
            leader,
            zxid,
            peer_epoch,
        }
    }
}

impl Ord for Vote {
    fn cmp(&self, other: &Vote) -> Ordering {
        self.peer_epoch
            .cmp(&other.peer_epoch)
            .then(self.zxid.cmp(&other.zxid))
            .then(self.leader.cmp(&other.leader))
    }
}

impl PartialOrd for Vote {
    fn partial_cmp(&self, other: &Vote) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Vote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "(leader {}, zxid {}, peer epoch {})",
            self.leader, self.zxid, self.peer_epoch
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(leader: u64, zxid: u64, peer_epoch: u64) -> Vote {
        Vote::new(Sid(leader), Zxid(zxid), Epoch(peer_epoch))
    }

    #[test]
    fn vote_order_is_peer_epoch_then_zxid_then_sid() {
        // (left, right, expected order of left against right, why)
        let table = [
            (
                vote(1, 0, 2),
                vote(9, 99, 1),
                Ordering::Greater,
                "higher peer epoch wins over everything",
            ),
            (
                vote(1, 5, 1),
                vote(9, 4, 1),
                Ordering::Greater,
                "same peer epoch: higher zxid wins over sid",
            ),
            (
                vote(9, 5, 1),
                vote(1, 5, 1),
                Ordering::Greater,
                "same peer epoch and zxid: higher sid wins",
            ),
            (
                vote(1, 5, 1),
                vote(1, 5, 1),
                Ordering::Equal,
                "identical votes are equal",
            ),
            (
                vote(3, 0x1_0000_0000, 0),
                vote(1, 7, 1),
                Ordering::Less,
                "zxid epoch bits do not override peer epoch",
            ),
            (
                vote(2, 0, 0),
                vote(1, 0, 0),
                Ordering::Greater,
                "cold start: larger sid wins",
            ),
        ];
        for (left, right, expected, why) in table {
            assert_eq!(left.cmp(&right), expected, "{why}: {left} vs {right}");
            assert_eq!(right.cmp(&left), expected.reverse(), "{why} (mirrored)");
        }
    }

    #[test]
    fn vote_order_is_total_and_transitive_on_a_grid() {
        let mut votes = Vec::new();
        for epoch in 0..3 {
            for zxid in 0..3 {
                for sid in 1..4 {
                    votes.push(vote(sid, zxid, epoch));
                }
            }
        }
        for a in &votes {
            for b in &votes {
                assert_eq!(a == b, a.cmp(b) == Ordering::Equal);
                for c in &votes {
                    if a < b && b < c {
                        assert!(a < c, "{a} < {b} < {c}");
                    }
                }
            }
        }
    }
}
