//! Forged AuthFastLeaderElection datagrams, as a host without the secret can make them, for
//! the tests that check they move no vote.

#![allow(dead_code)]

use zk_auth_fle::{AuthMessage, Body, Challenge, Mac, Tag};
use zk_elect::{ElectionEpoch, ServerState, Vote};
use zk_proto::{Epoch, Sid, Zxid};

/// A small deterministic generator for the forged MACs.
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn mac(&mut self) -> Mac {
        let mut bytes = [0u8; 32];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_be_bytes());
        }
        Mac(bytes)
    }
}

pub(crate) fn datagram(from: Sid, msg: &AuthMessage) -> Vec<u8> {
    [from.0.to_be_bytes().as_slice(), &msg.encode()].concat()
}

/// Datagrams from `from` (a sid the sender does not own) that a host without the secret can
/// make: a self-vote with a huge zxid and a LEADING ack, unsigned or with a random MAC.
pub(crate) fn forgeries(from: Sid, rng: &mut SplitMix) -> Vec<Vec<u8>> {
    let huge = Vote::new(from, Zxid(u64::MAX / 2), Epoch(1_000));
    let notification = Body::Notification {
        tag: Tag(rng.next()),
        vote: huge,
        election_epoch: ElectionEpoch(1_000),
        challenge: Some(Challenge(rng.next())),
    };
    let ack = Body::Ack {
        tag: Tag(rng.next()),
        state: ServerState::Leading,
        vote: huge,
        election_epoch: ElectionEpoch(1_000),
        challenge: Some(Challenge(rng.next())),
    };
    vec![
        datagram(
            from,
            &AuthMessage {
                body: notification,
                mac: None,
            },
        ),
        datagram(
            from,
            &AuthMessage {
                body: notification,
                mac: Some(rng.mac()),
            },
        ),
        datagram(
            from,
            &AuthMessage {
                body: ack,
                mac: Some(rng.mac()),
            },
        ),
        datagram(
            from,
            &AuthMessage {
                body: Body::ChallengeRequest {
                    tag: Tag(rng.next()),
                },
                mac: None,
            },
        ),
    ]
}
