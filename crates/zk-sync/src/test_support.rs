//! Helpers shared by the handler tests: machines in a given state, stepping, and reading the
//! packets an output sends.

use zk_elect::{Millis, QuorumVerifier, ServerState};
use zk_proto::{Epoch, Sid, Zxid};

use crate::io::{Action, Durable, Entry, Input};
use crate::message::ZabMsg;
use crate::{Zab, ZabConfig};

pub(crate) fn z(epoch: u64, counter: u32) -> Zxid {
    Zxid::new(Epoch(epoch), counter)
}

pub(crate) fn entries(zxids: &[Zxid]) -> Vec<Entry> {
    zxids
        .iter()
        .map(|&zxid| Entry {
            zxid,
            txn: zxid.0.to_le_bytes().to_vec(),
        })
        .collect()
}

pub(crate) fn machine(sid: u64, voters: &[u64], log: &[Zxid], accepted: u64, current: u64) -> Zab {
    let quorum = QuorumVerifier::majority(voters.iter().map(|&s| Sid(s))).unwrap();
    Zab::new(
        ZabConfig::new(Sid(sid), quorum),
        Durable {
            snapshot_zxid: Zxid::ZERO,
            log: entries(log),
            accepted_epoch: Epoch(accepted),
            current_epoch: Epoch(current),
        },
    )
}

pub(crate) fn step(zab: &mut Zab, at: u64, input: Input) -> Vec<Action> {
    let mut out = Vec::new();
    zab.step(Millis(at), input, &mut out);
    out
}

pub(crate) fn recv(zab: &mut Zab, at: u64, from: u64, msg: ZabMsg) -> Vec<Action> {
    step(
        zab,
        at,
        Input::Recv {
            from: Sid(from),
            msg,
        },
    )
}

pub(crate) fn sent(out: &[Action]) -> Vec<(Sid, ZabMsg)> {
    out.iter()
        .filter_map(|a| match a {
            Action::Send { to, msg } => Some((*to, msg.clone())),
            _ => None,
        })
        .collect()
}

pub(crate) fn follow(zab: &mut Zab, leader: u64) -> Vec<Action> {
    step(
        zab,
        0,
        Input::ElectionDecided {
            leader: Sid(leader),
            state: ServerState::Following,
        },
    )
}

pub(crate) fn lead(zab: &mut Zab) -> Vec<Action> {
    let me = zab.sid();
    step(
        zab,
        0,
        Input::ElectionDecided {
            leader: me,
            state: ServerState::Leading,
        },
    )
}

/// A fresh follower `sid` (empty log, epochs 0) goes through discovery with `leader`:
/// FOLLOWERINFO at time 1, ACKEPOCH at time 2. Returns the leader's answer to the ACKEPOCH.
pub(crate) fn discover_fresh_follower(leader: &mut Zab, sid: u64) -> Vec<Action> {
    recv(
        leader,
        1,
        sid,
        ZabMsg::FollowerInfo {
            accepted_epoch: Epoch(0),
            observer: false,
        },
    );
    recv(
        leader,
        2,
        sid,
        ZabMsg::AckEpoch {
            current_epoch: Some(Epoch(0)),
            last_zxid: Zxid::ZERO,
        },
    )
}

pub(crate) fn is_looking(out: &[Action]) -> bool {
    out.iter().any(|a| matches!(a, Action::GoLooking { .. }))
}

/// Drives a 3-server leader through discovery with follower 2, whose log ends at `peer`.
pub(crate) fn leader_syncing(
    log: &[Zxid],
    peer: Zxid,
    commit_log_count: usize,
) -> (Zab, Vec<Action>) {
    let quorum = QuorumVerifier::majority([Sid(1), Sid(2), Sid(3)]).unwrap();
    let mut config = ZabConfig::new(Sid(1), quorum);
    config.commit_log_count = commit_log_count;
    let mut zab = Zab::new(
        config,
        Durable {
            snapshot_zxid: Zxid::ZERO,
            log: entries(log),
            accepted_epoch: Epoch(2),
            current_epoch: Epoch(2),
        },
    );
    assert!(lead(&mut zab).is_empty(), "no epoch before a quorum");
    let out = recv(
        &mut zab,
        1,
        2,
        ZabMsg::FollowerInfo {
            accepted_epoch: Epoch(2),
            observer: false,
        },
    );
    assert_eq!(
        out,
        vec![
            Action::PersistAcceptedEpoch(Epoch(3)),
            Action::Send {
                to: Sid(2),
                msg: ZabMsg::LeaderInfo { epoch: Epoch(3) }
            }
        ]
    );
    let out = recv(
        &mut zab,
        2,
        2,
        ZabMsg::AckEpoch {
            current_epoch: Some(Epoch(1)),
            last_zxid: peer,
        },
    );
    (zab, out)
}

/// A follower of leader 1 (voters 1..=3) that reached NEWLEADER of epoch 3 after a DIFF of one
/// proposal, whose log write is not yet durable.
pub(crate) fn follower_at_new_leader() -> (Zab, Vec<Action>) {
    let mut zab = machine(2, &[1, 2, 3], &[z(2, 1)], 2, 2);
    follow(&mut zab, 1);
    recv(&mut zab, 1, 1, ZabMsg::LeaderInfo { epoch: Epoch(3) });
    recv(&mut zab, 2, 1, ZabMsg::Diff { zxid: z(2, 2) });
    let out = recv(
        &mut zab,
        2,
        1,
        ZabMsg::Proposal {
            zxid: z(2, 2),
            txn: vec![7],
        },
    );
    assert_eq!(
        out,
        vec![Action::Append(
            entries(&[z(2, 2)])
                .into_iter()
                .map(|e| Entry { txn: vec![7], ..e })
                .collect()
        )]
    );
    recv(&mut zab, 2, 1, ZabMsg::Commit { zxid: z(2, 2) });
    let out = recv(&mut zab, 3, 1, ZabMsg::NewLeader { zxid: z(3, 0) });
    (zab, out)
}
