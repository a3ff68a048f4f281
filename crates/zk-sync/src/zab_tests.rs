//! Handler tests of the Zab machine, mostly table-driven: discovery, the sync decision, the
//! durability rules of NEWLEADER and ACK, commit order, gaps, and the liveness limits.

use zk_elect::{Millis, QuorumVerifier, ServerState};
use zk_proto::{Epoch, Sid, Zxid};

use crate::io::{Action, Durable, Entry, Input};
use crate::message::ZabMsg;
use crate::{Zab, ZabConfig};

fn z(epoch: u64, counter: u32) -> Zxid {
    Zxid::new(Epoch(epoch), counter)
}

fn entries(zxids: &[Zxid]) -> Vec<Entry> {
    zxids
        .iter()
        .map(|&zxid| Entry {
            zxid,
            txn: zxid.0.to_le_bytes().to_vec(),
        })
        .collect()
}

fn machine(sid: u64, voters: &[u64], log: &[Zxid], accepted: u64, current: u64) -> Zab {
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

fn step(zab: &mut Zab, at: u64, input: Input) -> Vec<Action> {
    let mut out = Vec::new();
    zab.step(Millis(at), input, &mut out);
    out
}

fn recv(zab: &mut Zab, at: u64, from: u64, msg: ZabMsg) -> Vec<Action> {
    step(
        zab,
        at,
        Input::Recv {
            from: Sid(from),
            msg,
        },
    )
}

fn sent(out: &[Action]) -> Vec<(Sid, ZabMsg)> {
    out.iter()
        .filter_map(|a| match a {
            Action::Send { to, msg } => Some((*to, msg.clone())),
            _ => None,
        })
        .collect()
}

fn follow(zab: &mut Zab, leader: u64) -> Vec<Action> {
    step(
        zab,
        0,
        Input::ElectionDecided {
            leader: Sid(leader),
            state: ServerState::Following,
        },
    )
}

fn lead(zab: &mut Zab) -> Vec<Action> {
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

fn is_looking(out: &[Action]) -> bool {
    out.iter().any(|a| matches!(a, Action::GoLooking { .. }))
}

#[test]
fn learner_answers_leaderinfo_according_to_its_accepted_epoch() {
    // (acceptedEpoch, LEADERINFO epoch, expected actions or None for going LOOKING)
    let table: [(u64, u64, Option<Vec<Action>>); 3] = [
        (
            2,
            3,
            Some(vec![
                Action::PersistAcceptedEpoch(Epoch(3)),
                Action::Send {
                    to: Sid(1),
                    msg: ZabMsg::AckEpoch {
                        current_epoch: Some(Epoch(2)),
                        last_zxid: z(2, 4),
                    },
                },
            ]),
        ),
        (
            3,
            3,
            Some(vec![Action::Send {
                to: Sid(1),
                msg: ZabMsg::AckEpoch {
                    current_epoch: None,
                    last_zxid: z(2, 4),
                },
            }]),
        ),
        (4, 3, None),
    ];
    for (accepted, epoch, expected) in table {
        let mut zab = machine(2, &[1, 2, 3], &[z(2, 3), z(2, 4)], accepted, 2);
        let out = follow(&mut zab, 1);
        assert_eq!(
            sent(&out),
            vec![(
                Sid(1),
                ZabMsg::FollowerInfo {
                    accepted_epoch: Epoch(accepted),
                    observer: false
                }
            )]
        );
        let out = recv(
            &mut zab,
            1,
            1,
            ZabMsg::LeaderInfo {
                epoch: Epoch(epoch),
            },
        );
        match expected {
            Some(expected) => assert_eq!(out, expected, "accepted {accepted}, epoch {epoch}"),
            None => assert!(
                is_looking(&out),
                "accepted {accepted}, epoch {epoch}: {out:?}"
            ),
        }
    }
}

/// Drives a 3-server leader through discovery with follower 2, whose log ends at `peer`.
fn leader_syncing(log: &[Zxid], peer: Zxid, commit_log_count: usize) -> (Zab, Vec<Action>) {
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
            Input::Recv {
                from: Sid(2),
                msg: ZabMsg::Ack { zxid: z(3, 2) },
            },
            vec![],
            "the second has a quorum, the first has not",
        ),
        (
            Input::Persisted { up_to: z(3, 1) },
            vec![],
            "the leader alone is no quorum for the first",
        ),
        (
            Input::Recv {
                from: Sid(2),
                msg: ZabMsg::Ack { zxid: z(3, 1) },
            },
            vec![z(3, 1)],
            "the first commits",
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

/// A follower of leader 1 (voters 1..=3) that reached NEWLEADER of epoch 3 after a DIFF of one
/// proposal, whose log write is not yet durable.
fn follower_at_new_leader() -> (Zab, Vec<Action>) {
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

#[test]
fn follower_acks_newleader_only_after_the_synced_history_is_durable() {
    let (mut zab, out) = follower_at_new_leader();
    assert!(
        out.is_empty(),
        "nothing before the history is durable: {out:?}"
    );
    assert_eq!(zab.current_epoch(), Epoch(2));
    let out = step(&mut zab, 4, Input::Persisted { up_to: z(2, 2) });
    assert_eq!(
        out,
        vec![
            Action::PersistCurrentEpoch(Epoch(3)),
            Action::Send {
                to: Sid(1),
                msg: ZabMsg::Ack { zxid: z(3, 0) }
            }
        ],
        "currentEpoch first, then the ACK"
    );
    let out = recv(&mut zab, 5, 1, ZabMsg::UpToDate);
    assert_eq!(
        out,
        vec![
            Action::Commit(z(2, 2)),
            Action::ServeClients { epoch: Epoch(3) }
        ]
    );
}

#[test]
fn follower_acks_a_proposal_only_once_persisted_covers_it() {
    let (mut zab, _) = follower_at_new_leader();
    step(&mut zab, 4, Input::Persisted { up_to: z(2, 2) });
    recv(&mut zab, 5, 1, ZabMsg::UpToDate);
    // (input, expected ACKs, why)
    let table = [
        (
            Input::Recv {
                from: Sid(1),
                msg: ZabMsg::Proposal {
                    zxid: z(3, 1),
                    txn: vec![1],
                },
            },
            vec![],
            "logged, not durable",
        ),
        (
            Input::Recv {
                from: Sid(1),
                msg: ZabMsg::Proposal {
                    zxid: z(3, 2),
                    txn: vec![2],
                },
            },
            vec![],
            "logged, not durable",
        ),
        (
            Input::Persisted { up_to: z(3, 1) },
            vec![z(3, 1)],
            "the first is durable",
        ),
        (
            Input::Persisted { up_to: z(3, 2) },
            vec![z(3, 2)],
            "the second is durable",
        ),
        (
            Input::Recv {
                from: Sid(1),
                msg: ZabMsg::Commit { zxid: z(3, 2) },
            },
            vec![],
            "a COMMIT is not ACKed",
        ),
    ];
    for (input, acks, why) in table {
        let out = step(&mut zab, 6, input);
        let got: Vec<Zxid> = sent(&out)
            .into_iter()
            .filter_map(|(_, m)| match m {
                ZabMsg::Ack { zxid } => Some(zxid),
                _ => None,
            })
            .collect();
        assert_eq!(got, acks, "{why}");
    }
    assert_eq!(zab.committed_zxid(), z(3, 2));
}

#[test]
fn follower_leaves_a_leader_whose_proposals_have_a_gap() {
    let (mut zab, _) = follower_at_new_leader();
    step(&mut zab, 4, Input::Persisted { up_to: z(2, 2) });
    recv(&mut zab, 5, 1, ZabMsg::UpToDate);
    // (proposal zxid, goes LOOKING, why)
    let table = [
        (z(3, 2), true, "counter 1 of the new epoch is missing"),
        (z(3, 1), false, "first proposal of the new epoch"),
    ];
    for (zxid, looking, why) in table {
        let mut copy = follower_at_new_leader().0;
        step(&mut copy, 4, Input::Persisted { up_to: z(2, 2) });
        recv(&mut copy, 5, 1, ZabMsg::UpToDate);
        let out = recv(&mut copy, 6, 1, ZabMsg::Proposal { zxid, txn: vec![] });
        assert_eq!(is_looking(&out), looking, "{why}");
    }
    let _ = zab;
}

#[test]
fn silent_leaders_and_lost_quorums_end_the_role() {
    // A follower gives up after initLimit while syncing, syncLimit once up to date.
    let (mut zab, _) = follower_at_new_leader();
    let limit = zab.config.init_limit_ms();
    assert!(!is_looking(&step(&mut zab, 3 + limit, Input::Tick)));
    assert!(is_looking(&step(&mut zab, 4 + limit, Input::Tick)));
    // A leader that hears from no follower for syncLimit steps down.
    let (mut leader, _) = leader_syncing(&[], Zxid::ZERO, 500);
    recv(&mut leader, 3, 2, ZabMsg::Ack { zxid: z(3, 0) });
    let sync_limit = leader.config.sync_limit_ms();
    let out = step(&mut leader, 3 + sync_limit, Input::Tick);
    assert!(!is_looking(&out));
    assert!(sent(&out).contains(&(Sid(2), ZabMsg::Ping { zxid: Zxid::ZERO })));
    assert!(is_looking(&step(&mut leader, 4 + sync_limit, Input::Tick)));
    // A leader that never gathers a quorum gives up after initLimit.
    let mut alone = machine(1, &[1, 2, 3], &[], 0, 0);
    lead(&mut alone);
    let init_limit = alone.config.init_limit_ms();
    assert!(is_looking(&step(&mut alone, init_limit + 1, Input::Tick)));
}

#[test]
fn outstanding_proposals_in_the_sync_stream_are_acked_not_committed_at_uptodate() {
    // Found by the simulator: a learner joining an established leader receives the leader's
    // outstanding proposals before NEWLEADER, without COMMIT. It must not deliver them at
    // UPTODATE, and must ACK them once durable, or the leader can never commit them.
    let mut zab = machine(2, &[1, 2, 3], &[z(3, 1)], 2, 2);
    follow(&mut zab, 1);
    recv(&mut zab, 1, 1, ZabMsg::LeaderInfo { epoch: Epoch(3) });
    // (packet, expected actions, why)
    let table = [
        (
            ZabMsg::Diff { zxid: z(3, 2) },
            vec![],
            "DIFF opens the stream",
        ),
        (
            ZabMsg::Proposal {
                zxid: z(3, 2),
                txn: vec![2],
            },
            vec![Action::Append(vec![Entry {
                zxid: z(3, 2),
                txn: vec![2],
            }])],
            "outstanding at the leader",
        ),
        (
            ZabMsg::Commit { zxid: z(3, 1) },
            vec![],
            "z(3, 1) is committed",
        ),
        (
            ZabMsg::NewLeader { zxid: z(3, 0) },
            vec![],
            "waits for durability",
        ),
    ];
    for (msg, expected, why) in table {
        assert_eq!(recv(&mut zab, 2, 1, msg), expected, "{why}");
    }
    let out = step(&mut zab, 3, Input::Persisted { up_to: z(3, 2) });
    let acks: Vec<Zxid> = sent(&out)
        .into_iter()
        .filter_map(|(_, m)| match m {
            ZabMsg::Ack { zxid } => Some(zxid),
            _ => None,
        })
        .collect();
    assert_eq!(
        acks,
        vec![z(3, 0), z(3, 2)],
        "NEWLEADER, then the outstanding proposal"
    );
    let out = recv(&mut zab, 4, 1, ZabMsg::UpToDate);
    assert_eq!(
        out,
        vec![
            Action::Commit(z(3, 1)),
            Action::ServeClients { epoch: Epoch(3) }
        ]
    );
}

#[test]
fn learner_applies_diff_trunc_and_snap_openings() {
    // (opening packet, expected actions, last logged zxid after, why)
    let table = [
        (
            ZabMsg::Diff { zxid: z(2, 2) },
            vec![],
            z(2, 2),
            "DIFF keeps the log",
        ),
        (
            ZabMsg::Trunc { zxid: z(2, 1) },
            vec![Action::Truncate(z(2, 1))],
            z(2, 1),
            "TRUNC drops what the leader never committed",
        ),
        (
            ZabMsg::Snap {
                zxid: z(2, 5),
                state: vec![9],
            },
            vec![Action::ApplySnapshot {
                zxid: z(2, 5),
                state: vec![9],
            }],
            z(2, 5),
            "SNAP replaces state and log",
        ),
    ];
    for (opening, expected, last, why) in table {
        let mut zab = machine(2, &[1, 2, 3], &[z(2, 1), z(2, 2)], 2, 2);
        follow(&mut zab, 1);
        recv(&mut zab, 1, 1, ZabMsg::LeaderInfo { epoch: Epoch(3) });
        assert_eq!(recv(&mut zab, 2, 1, opening), expected, "{why}");
        assert_eq!(zab.last_logged_zxid(), last, "{why}");
        // NEWLEADER waits for that write (if any) to be durable.
        let out = recv(&mut zab, 3, 1, ZabMsg::NewLeader { zxid: z(3, 0) });
        assert_eq!(out.is_empty(), !expected.is_empty(), "{why}");
    }
}

#[test]
fn observers_join_late_and_learn_commits_by_inform() {
    let quorum = QuorumVerifier::majority([Sid(1), Sid(2), Sid(3)]).unwrap();
    let mut leader = Zab::new(ZabConfig::new(Sid(1), quorum.clone()), Durable::default());
    lead(&mut leader);
    recv(
        &mut leader,
        1,
        2,
        ZabMsg::FollowerInfo {
            accepted_epoch: Epoch(0),
            observer: false,
        },
    );
    recv(
        &mut leader,
        2,
        2,
        ZabMsg::AckEpoch {
            current_epoch: Some(Epoch(0)),
            last_zxid: Zxid::ZERO,
        },
    );
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
        recv(
            &mut leader,
            1,
            sid,
            ZabMsg::FollowerInfo {
                accepted_epoch: Epoch(0),
                observer: false,
            },
        );
        recv(
            &mut leader,
            2,
            sid,
            ZabMsg::AckEpoch {
                current_epoch: Some(Epoch(0)),
                last_zxid: Zxid::ZERO,
            },
        );
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

#[test]
fn learner_repeats_followerinfo_until_the_leader_answers() {
    // The leader may still be LOOKING when the first FOLLOWERINFO arrives (it drops it).
    let mut zab = machine(2, &[1, 2, 3], &[], 0, 0);
    follow(&mut zab, 1);
    let info = (
        Sid(1),
        ZabMsg::FollowerInfo {
            accepted_epoch: Epoch(0),
            observer: false,
        },
    );
    let tick_ms = zab.config.tick_ms;
    assert_eq!(
        sent(&step(&mut zab, tick_ms / 2, Input::Tick)),
        vec![info.clone()]
    );
    recv(
        &mut zab,
        tick_ms / 2 + 1,
        1,
        ZabMsg::LeaderInfo { epoch: Epoch(1) },
    );
    assert!(
        sent(&step(&mut zab, tick_ms, Input::Tick)).is_empty(),
        "answered: no more"
    );
    // A repeated LEADERINFO (our FOLLOWERINFO crossed it) is harmless.
    assert!(recv(
        &mut zab,
        tick_ms + 1,
        1,
        ZabMsg::LeaderInfo { epoch: Epoch(1) }
    )
    .is_empty());
    // And the leader ignores a repeated FOLLOWERINFO once the learner moved on.
    let mut leader = machine(1, &[1, 2, 3], &[], 0, 0);
    lead(&mut leader);
    recv(
        &mut leader,
        1,
        2,
        ZabMsg::FollowerInfo {
            accepted_epoch: Epoch(0),
            observer: false,
        },
    );
    recv(
        &mut leader,
        2,
        2,
        ZabMsg::AckEpoch {
            current_epoch: Some(Epoch(0)),
            last_zxid: Zxid::ZERO,
        },
    );
    let out = recv(
        &mut leader,
        3,
        2,
        ZabMsg::FollowerInfo {
            accepted_epoch: Epoch(0),
            observer: false,
        },
    );
    assert!(out.is_empty(), "{out:?}");
}
