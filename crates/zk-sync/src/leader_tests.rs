//! Handler tests of the leader (`leader.rs`): the sync decision, the ACKEPOCH check,
//! establishment, commit order, observers, and the ACK-lag check.

use zk_elect::{QuorumVerifier, ServerState};
use zk_proto::{Epoch, Sid, Zxid};

use crate::io::{Action, Durable, Entry, Input};
use crate::message::ZabMsg;
use crate::test_support::*;
use crate::{Zab, ZabConfig};

#[test]
fn leader_chooses_diff_trunc_or_snap_like_sync_follower() {
    let log = [z(1, 1), z(1, 2), z(2, 1), z(2, 2), z(2, 3)];
    // (peer's last zxid, commitLogCount, expected opening, zxids then sent as PROPOSAL, why)
    let table = [
        (
            z(2, 3),
            500,
            "DIFF",
            vec![],
            "peer is up to date: empty DIFF",
        ),
        (
            z(2, 1),
            500,
            "DIFF",
            vec![z(2, 2), z(2, 3)],
            "peer is behind within the committed log",
        ),
        (
            z(2, 5),
            500,
            "TRUNC",
            vec![],
            "peer has proposals past our last zxid",
        ),
        (
            z(1, 3),
            500,
            "TRUNC",
            vec![z(2, 1), z(2, 2), z(2, 3)],
            "peer has a proposal we lack: TRUNC to our previous one in its epoch",
        ),
        (
            z(1, 1),
            2,
            "SNAP",
            log.to_vec(),
            "peer is below the committed log window: a snapshot of what this leader delivered (nothing yet), then its log",
        ),
        (
            Zxid::ZERO,
            500,
            "DIFF",
            log.to_vec(),
            "empty peer, empty leader snapshot",
        ),
    ];
    for (peer, count, opening, proposals, why) in table {
        let (_, out) = leader_syncing(&log, peer, count);
        assert_eq!(out[0], Action::PersistCurrentEpoch(Epoch(3)), "{why}");
        let first = match &out[1] {
            Action::Send { msg, .. } => msg.kind(),
            Action::SendSnapshot { zxid, .. } => {
                assert_eq!(*zxid, Zxid::ZERO, "{why}");
                "SNAP"
            }
            other => panic!("{why}: {other:?}"),
        };
        assert_eq!(first, opening, "{why}");
        let sent_proposals: Vec<Zxid> = sent(&out)
            .into_iter()
            .filter_map(|(_, m)| match m {
                ZabMsg::Proposal { zxid, .. } => Some(zxid),
                _ => None,
            })
            .collect();
        assert_eq!(sent_proposals, proposals, "{why}");
        assert_eq!(
            sent(&out).last().map(|(_, m)| m.clone()),
            Some(ZabMsg::NewLeader { zxid: z(3, 0) }),
            "{why}"
        );
    }
}

#[test]
fn leader_steps_down_when_an_ackepoch_shows_a_more_recent_learner() {
    let mut zab = machine(1, &[1, 2, 3], &[z(2, 1)], 2, 2);
    lead(&mut zab);
    recv(
        &mut zab,
        1,
        2,
        ZabMsg::FollowerInfo {
            accepted_epoch: Epoch(2),
            observer: false,
        },
    );
    let summary = ZabMsg::AckEpoch {
        current_epoch: Some(Epoch(2)),
        last_zxid: z(2, 2),
    };
    assert!(is_looking(&recv(&mut zab, 2, 2, summary)));
    let (zab, out) = leader_syncing(&[z(2, 1)], z(2, 1), 500);
    assert!(!is_looking(&out));
    assert!(
        zab.serving_epoch().is_none(),
        "not established before NEWLEADER ACKs"
    );
}

#[test]
fn leader_serves_clients_only_after_a_quorum_acked_newleader() {
    let (mut zab, _) = leader_syncing(&[z(2, 1)], z(2, 1), 500);
    assert!(!zab.can_propose());
    let out = recv(&mut zab, 3, 2, ZabMsg::Ack { zxid: z(3, 0) });
    assert_eq!(
        out,
        vec![
            Action::Commit(z(2, 1)),
            Action::ServeClients { epoch: Epoch(3) },
            Action::Send {
                to: Sid(2),
                msg: ZabMsg::UpToDate
            },
        ]
    );
    assert!(zab.can_propose());
}

#[test]
fn leader_commits_in_zxid_order_once_a_quorum_acked() {
    let (mut zab, _) = leader_syncing(&[], Zxid::ZERO, 500);
    recv(&mut zab, 3, 2, ZabMsg::Ack { zxid: z(3, 0) });
    step(&mut zab, 4, Input::Propose(b"a".to_vec()));
    step(&mut zab, 4, Input::Propose(b"b".to_vec()));
    // (input, expected commits, why)
    let table = [
        (
            Input::Persisted { up_to: z(3, 1) },
            vec![],
            "the leader alone is no quorum for the first",
        ),
        (
            Input::Recv {
                from: Sid(2),
                msg: ZabMsg::Ack { zxid: z(3, 2) },
            },
            vec![z(3, 1)],
            "an ACK is cumulative: the first commits, the second waits for the leader's log",
        ),
        (
            Input::Recv {
                from: Sid(2),
                msg: ZabMsg::Ack { zxid: z(3, 1) },
            },
            vec![],
            "an older ACK changes nothing",
        ),
        (
            Input::Persisted { up_to: z(3, 2) },
            vec![z(3, 2)],
            "the second commits once durable at the leader",
        ),
    ];
    for (input, commits, why) in table {
        let out = step(&mut zab, 5, input);
        let got: Vec<Zxid> = out
            .iter()
            .filter_map(|a| match a {
                Action::Commit(zxid) => Some(*zxid),
                _ => None,
            })
            .collect();
        assert_eq!(got, commits, "{why}");
    }
}

#[test]
fn observers_join_late_and_learn_commits_by_inform() {
    let quorum = QuorumVerifier::majority([Sid(1), Sid(2), Sid(3)]).unwrap();
    let mut leader = Zab::new(ZabConfig::new(Sid(1), quorum.clone()), Durable::default());
    lead(&mut leader);
    discover_fresh_follower(&mut leader, 2);
    recv(&mut leader, 3, 2, ZabMsg::Ack { zxid: z(1, 0) });
    assert!(leader.can_propose());
    // Observer 4 arrives after the epoch is fixed: LEADERINFO at once.
    let out = recv(
        &mut leader,
        4,
        4,
        ZabMsg::FollowerInfo {
            accepted_epoch: Epoch(0),
            observer: true,
        },
    );
    assert_eq!(
        sent(&out),
        vec![(Sid(4), ZabMsg::LeaderInfo { epoch: Epoch(1) })]
    );
    recv(
        &mut leader,
        5,
        4,
        ZabMsg::AckEpoch {
            current_epoch: Some(Epoch(0)),
            last_zxid: Zxid::ZERO,
        },
    );
    let out = recv(&mut leader, 6, 4, ZabMsg::Ack { zxid: z(1, 0) });
    assert_eq!(
        sent(&out),
        vec![(Sid(4), ZabMsg::UpToDate)],
        "established: UPTODATE at once"
    );
    let out = step(&mut leader, 7, Input::Propose(b"x".to_vec()));
    assert_eq!(
        sent(&out),
        vec![(
            Sid(2),
            ZabMsg::Proposal {
                zxid: z(1, 1),
                txn: b"x".to_vec()
            }
        )],
        "no PROPOSAL to observers"
    );
    step(&mut leader, 8, Input::Persisted { up_to: z(1, 1) });
    let out = recv(&mut leader, 9, 2, ZabMsg::Ack { zxid: z(1, 1) });
    assert_eq!(
        sent(&out),
        vec![
            (Sid(2), ZabMsg::Commit { zxid: z(1, 1) }),
            (
                Sid(4),
                ZabMsg::Inform {
                    zxid: z(1, 1),
                    txn: b"x".to_vec()
                }
            ),
        ]
    );
    // An observer's ACKs never count.
    let mut observer = Zab::new(ZabConfig::new(Sid(4), quorum), Durable::default());
    step(
        &mut observer,
        0,
        Input::ElectionDecided {
            leader: Sid(1),
            state: ServerState::Observing,
        },
    );
    recv(&mut observer, 1, 1, ZabMsg::LeaderInfo { epoch: Epoch(1) });
    recv(&mut observer, 2, 1, ZabMsg::Diff { zxid: Zxid::ZERO });
    let out = recv(&mut observer, 3, 1, ZabMsg::NewLeader { zxid: z(1, 0) });
    assert_eq!(
        out,
        vec![
            Action::PersistCurrentEpoch(Epoch(1)),
            Action::Send {
                to: Sid(1),
                msg: ZabMsg::Ack { zxid: z(1, 0) }
            }
        ]
    );
    recv(&mut observer, 4, 1, ZabMsg::UpToDate);
    let out = recv(
        &mut observer,
        5,
        1,
        ZabMsg::Inform {
            zxid: z(1, 1),
            txn: b"x".to_vec(),
        },
    );
    assert_eq!(
        out,
        vec![
            Action::Append(vec![Entry {
                zxid: z(1, 1),
                txn: b"x".to_vec()
            }]),
            Action::Commit(z(1, 1)),
        ]
    );
    assert!(sent(&step(&mut observer, 6, Input::Persisted { up_to: z(1, 1) })).is_empty());
}

#[test]
fn leader_disconnects_a_follower_whose_acks_lag_more_than_sync_limit() {
    let quorum = QuorumVerifier::majority([Sid(1), Sid(2), Sid(3)]).unwrap();
    let mut leader = Zab::new(ZabConfig::new(Sid(1), quorum), Durable::default());
    lead(&mut leader);
    for sid in [2, 3] {
        discover_fresh_follower(&mut leader, sid);
        recv(&mut leader, 3, sid, ZabMsg::Ack { zxid: z(1, 0) });
    }
    step(&mut leader, 10, Input::Propose(b"x".to_vec()));
    step(&mut leader, 11, Input::Persisted { up_to: z(1, 1) });
    recv(&mut leader, 12, 2, ZabMsg::Ack { zxid: z(1, 1) });
    // 3 keeps pinging but never ACKs; the proposal committed, so no lag is left.
    let sync_limit = leader.config.sync_limit_ms();
    recv(
        &mut leader,
        10 + sync_limit,
        3,
        ZabMsg::Ping { zxid: Zxid::ZERO },
    );
    let out = step(&mut leader, 11 + sync_limit, Input::Tick);
    assert!(
        !out.iter().any(|a| matches!(a, Action::Disconnect { .. })),
        "committed proposals do not count"
    );
    // A proposal nobody ACKs for syncLimit makes both followers lag.
    step(&mut leader, 20 + sync_limit, Input::Propose(b"y".to_vec()));
    recv(
        &mut leader,
        21 + 2 * sync_limit,
        2,
        ZabMsg::Ping { zxid: Zxid::ZERO },
    );
    recv(
        &mut leader,
        21 + 2 * sync_limit,
        3,
        ZabMsg::Ping { zxid: Zxid::ZERO },
    );
    let out = step(&mut leader, 21 + 2 * sync_limit, Input::Tick);
    let dropped: Vec<Sid> = out
        .iter()
        .filter_map(|a| match a {
            Action::Disconnect { peer } => Some(*peer),
            _ => None,
        })
        .collect();
    assert_eq!(dropped, vec![Sid(2), Sid(3)]);
    assert!(is_looking(&out), "without them the leader has no quorum");
}
