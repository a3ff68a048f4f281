//! Handler tests of the learner (`follower.rs`): LEADERINFO, the sync openings, the durability
//! rules of NEWLEADER and ACK, gaps, and FOLLOWERINFO retries.

use zk_proto::{Epoch, Sid, Zxid};

use crate::io::{Action, Entry, Input};
use crate::message::ZabMsg;
use crate::test_support::*;

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

/// The leader's PROPOSAL of `zxid` with a one-byte transaction.
fn proposal(zxid: Zxid, byte: u8) -> Input {
    Input::Recv {
        from: Sid(1),
        msg: ZabMsg::Proposal {
            zxid,
            txn: vec![byte],
        },
    }
}

#[test]
fn follower_acks_a_proposal_only_once_persisted_covers_it() {
    let (mut zab, _) = follower_at_new_leader();
    step(&mut zab, 4, Input::Persisted { up_to: z(2, 2) });
    recv(&mut zab, 5, 1, ZabMsg::UpToDate);
    // (input, expected ACKs, why)
    let table = [
        (proposal(z(3, 1), 1), vec![], "logged, not durable"),
        (proposal(z(3, 2), 2), vec![], "logged, not durable"),
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
        (proposal(z(3, 3), 3), vec![], "logged, not durable"),
        (proposal(z(3, 4), 4), vec![], "logged, not durable"),
        (
            Input::Persisted { up_to: z(3, 4) },
            vec![z(3, 4)],
            "one log write made both durable: one cumulative ACK",
        ),
        (
            Input::Recv {
                from: Sid(1),
                msg: ZabMsg::Commit { zxid: z(3, 4) },
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
    assert_eq!(zab.committed_zxid(), z(3, 4));
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
    discover_fresh_follower(&mut leader, 2);
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
