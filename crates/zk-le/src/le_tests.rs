//! Tests of every branch of LeaderElection's message handling, mostly table-driven, and
//! whole elections on the lossless test network.

use std::collections::BTreeMap;

use zk_elect::testkit::LocalNet;
use zk_elect::{
    Action, Election, HierarchicalQuorum, Input, Millis, QuorumVerifier, ServerState, Vote,
};
use zk_proto::{Epoch, Sid, Zxid};

use super::LeaderElection;
use crate::config::LeConfig;
use crate::message::{LeMessage, RequestId};

const LOOKING: ServerState = ServerState::Looking;
const FOLLOWING: ServerState = ServerState::Following;
const LEADING: ServerState = ServerState::Leading;

/// Voters 1..=5; anything else is an observer.
fn machine(sid: u64) -> LeaderElection {
    let quorum = QuorumVerifier::majority((1..=5).map(Sid)).unwrap();
    LeaderElection::new(LeConfig::new(Sid(sid), quorum, sid))
}

fn vote(leader: u64, zxid: u64, epoch: u64) -> Vote {
    Vote::new(Sid(leader), Zxid(zxid), Epoch(epoch))
}

fn step(le: &mut LeaderElection, now: u64, input: Input<LeMessage>) -> Vec<Action<LeMessage>> {
    let mut out = Vec::new();
    le.step(Millis(now), input, &mut out);
    out
}

fn start(le: &mut LeaderElection, zxid: u64, epoch: u64) -> Vec<Action<LeMessage>> {
    step(
        le,
        0,
        Input::Start {
            last_zxid: Zxid(zxid),
            peer_epoch: Epoch(epoch),
        },
    )
}

fn reply(
    le: &mut LeaderElection,
    now: u64,
    from: u64,
    state: ServerState,
    v: Vote,
) -> Vec<Action<LeMessage>> {
    let id = le.request_id().expect("looking");
    step(
        le,
        now,
        Input::Recv {
            from: Sid(from),
            msg: LeMessage::Response { id, state, vote: v },
        },
    )
}

fn requests_to(out: &[Action<LeMessage>]) -> Vec<Sid> {
    out.iter()
        .filter_map(|action| match action {
            Action::Send {
                to,
                msg: LeMessage::Request { .. },
            } => Some(*to),
            _ => None,
        })
        .collect()
}

fn decided(out: &[Action<LeMessage>]) -> Option<zk_elect::Outcome> {
    out.iter().find_map(|action| match action {
        Action::Decided(outcome) => Some(outcome.clone()),
        _ => None,
    })
}

#[test]
fn start_votes_for_itself_and_polls_the_first_other_voter() {
    // (sid, first polled voter)
    for (sid, first) in [(1, 2), (2, 1), (5, 1)] {
        let mut le = machine(sid);
        let out = start(&mut le, 7, 1);
        assert_eq!(requests_to(&out), vec![Sid(first)], "server {sid}");
        assert_eq!(le.current_vote(), Some(vote(sid, 7, 1)));
        assert_eq!(le.deadline(), Some(Millis(200)), "poll timeout");
        assert_eq!(le.request_id().unwrap().round, 1);
    }
}

#[test]
fn an_observer_polls_the_voters_but_proposes_nobody() {
    let mut le = machine(9);
    let out = start(&mut le, 100, 9);
    assert_eq!(requests_to(&out), vec![Sid(1)]);
    assert_eq!(le.current_vote(), None);
}

#[test]
fn requests_are_answered_by_state() {
    let id = RequestId { xid: 5, round: 2 };
    // (machine, how to prepare it, expected answer)
    type Prepare = fn(&mut LeaderElection);
    type Answer = Option<(ServerState, Vote)>;
    let cases: [(u64, Prepare, Answer, &str); 4] = [
        (
            3,
            |le| drop(start(le, 4, 1)),
            Some((LOOKING, vote(3, 4, 1))),
            "LOOKING: the current vote",
        ),
        (3, |_| {}, None, "before start: nothing"),
        (
            9,
            |le| drop(start(le, 4, 1)),
            None,
            "an observer keeps itself to itself",
        ),
        (
            1,
            |le| {
                drop(start(le, 0, 0));
                for from in [2, 3] {
                    drop(reply(le, 1, from, FOLLOWING, vote(5, 9, 2)));
                }
                drop(reply(le, 2, 5, LEADING, vote(5, 9, 2)));
            },
            Some((FOLLOWING, vote(5, 9, 2))),
            "established: the decided vote",
        ),
    ];
    for (sid, prepare, expected, why) in cases {
        let mut le = machine(sid);
        prepare(&mut le);
        if le.state() == LOOKING
            && le.decided_vote().is_none()
            && expected.is_some_and(|(s, _)| s != LOOKING)
        {
            // The preparation must have decided (a few late replies finish the round).
            for _ in 0..10 {
                let at = le.deadline().unwrap().0;
                drop(step(&mut le, at, Input::Tick));
                if le.state() != LOOKING {
                    break;
                }
            }
        }
        let out = step(
            &mut le,
            50,
            Input::Recv {
                from: Sid(4),
                msg: LeMessage::Request { id },
            },
        );
        let answer = out.iter().find_map(|action| match action {
            Action::Send {
                to,
                msg:
                    LeMessage::Response {
                        id: got,
                        state,
                        vote,
                    },
            } => {
                assert_eq!((*to, *got), (Sid(4), id), "{why}");
                Some((*state, *vote))
            }
            _ => None,
        });
        assert_eq!(answer, expected, "{why}");
    }
}

#[test]
fn replies_are_filtered_by_request_id_and_voter() {
    let mut le = machine(1);
    drop(start(&mut le, 0, 0));
    let id = le.request_id().unwrap();
    let stale = RequestId {
        round: id.round + 1,
        ..id
    };
    let other_xid = RequestId {
        xid: id.xid ^ 1,
        ..id
    };
    // (from, id, whether polling moves on)
    let table = [
        (2, stale, false),
        (2, other_xid, false),
        (9, id, false),
        (2, id, true),
    ];
    for (from, got, moves_on) in table {
        let before = le.polling();
        let msg = LeMessage::Response {
            id: got,
            state: LOOKING,
            vote: vote(from, 0, 0),
        };
        let out = step(
            &mut le,
            10,
            Input::Recv {
                from: Sid(from),
                msg,
            },
        );
        assert_eq!(le.polling() != before, moves_on, "from {from}, id {got}");
        assert_eq!(
            !requests_to(&out).is_empty(),
            moves_on,
            "from {from}, id {got}"
        );
    }
    assert_eq!(le.polling(), Some(Sid(3)));
}

#[test]
fn polls_time_out_one_voter_at_a_time_then_rounds_repeat_with_the_same_xid() {
    let mut le = machine(1);
    drop(start(&mut le, 0, 0));
    let xid = le.request_id().unwrap().xid;
    for (now, next) in [(200, Some(3)), (400, Some(4)), (600, Some(5))] {
        let out = step(&mut le, now, Input::Tick);
        assert_eq!(
            requests_to(&out),
            next.map(Sid).into_iter().collect::<Vec<_>>()
        );
    }
    // The last poll times out: the round is tallied (only our own vote: no quorum).
    assert!(step(&mut le, 800, Input::Tick).is_empty());
    assert_eq!(le.polling(), None);
    assert_eq!(le.deadline(), Some(Millis(1800)), "the round interval");
    assert!(
        step(&mut le, 1000, Input::Tick).is_empty(),
        "an early tick does nothing"
    );
    let out = step(&mut le, 1800, Input::Tick);
    assert_eq!(requests_to(&out), vec![Sid(2)]);
    assert_eq!(le.request_id(), Some(RequestId { xid, round: 2 }));
}

/// A reply heard: responder, its state and its vote.
type Heard = (u64, ServerState, Vote);

/// Machine 1 (own vote `own`) after one round with the given replies from voters 2..=5.
fn after_round(
    own: Vote,
    replies: &[(u64, ServerState, Vote)],
) -> (LeaderElection, Vec<Action<LeMessage>>) {
    let mut le = machine(1);
    drop(start(&mut le, own.zxid.0, own.peer_epoch.0));
    let mut now = 0;
    let mut out = Vec::new();
    for voter in 2..=5 {
        now += 10;
        match replies.iter().find(|(from, _, _)| *from == voter) {
            Some(&(from, state, v)) => out = reply(&mut le, now, from, state, v),
            None => {
                let at = le.deadline().unwrap().0;
                out = step(&mut le, at, Input::Tick);
            }
        }
        if le.state() != LOOKING {
            break;
        }
    }
    (le, out)
}

#[test]
fn the_tally_moves_the_vote_to_the_best_live_candidate_never_below_the_own() {
    // (own vote of 1, replies, expected vote afterwards, why)
    let table: Vec<(Vote, Vec<Heard>, Vote, &str)> = vec![
        (vote(1, 5, 1), vec![(2, LOOKING, vote(2, 6, 1))], vote(2, 6, 1), "higher zxid wins"),
        (vote(1, 5, 1), vec![(2, LOOKING, vote(2, 9, 0))], vote(1, 5, 1), "peer epoch before zxid"),
        (vote(1, 5, 1), vec![(2, LOOKING, vote(2, 5, 1))], vote(2, 5, 1), "same epoch and zxid: higher sid"),
        (
            vote(1, 5, 1),
            vec![(2, LOOKING, vote(4, 8, 1)), (3, LOOKING, vote(3, 2, 1))],
            vote(1, 5, 1),
            "a vote for a server not heard from is dropped, and nothing below the own vote is adopted",
        ),
        (
            vote(1, 5, 1),
            vec![(2, LOOKING, vote(4, 8, 1)), (4, LOOKING, vote(4, 8, 1))],
            vote(4, 8, 1),
            "heard from: counted",
        ),
        (vote(1, 5, 1), vec![(2, LOOKING, vote(9, 99, 9)), (9, LOOKING, vote(9, 99, 9))], vote(1, 5, 1), "an observer is never a candidate"),
    ];
    for (own, replies, expected, why) in table {
        let (le, out) = after_round(own, &replies);
        assert_eq!(decided(&out), None, "{why}");
        assert_eq!(le.current_vote(), Some(expected), "{why}");
    }
}

#[test]
fn a_quorum_for_one_candidate_decides_with_its_supporters_as_backing() {
    let best = vote(5, 9, 2);
    // (replies, decided state of 1, backers)
    let table: Vec<(Vec<Heard>, ServerState, Vec<u64>)> = vec![
        (
            vec![
                (2, FOLLOWING, best),
                (3, FOLLOWING, best),
                (5, LEADING, best),
            ],
            FOLLOWING,
            vec![2, 3, 5],
        ),
        (
            vec![(2, LOOKING, vote(1, 0, 0)), (3, LOOKING, vote(1, 0, 0))],
            LEADING,
            vec![1, 2, 3],
        ),
    ];
    for (replies, state, backers) in table {
        let (le, out) = after_round(vote(1, 0, 0), &replies);
        let outcome = decided(&out).expect("decided");
        assert_eq!(outcome.state, state);
        assert_eq!(le.state(), state);
        assert_eq!(
            outcome.backing.keys().map(|s| s.0).collect::<Vec<_>>(),
            backers
        );
        assert_eq!(le.deadline(), None, "a decided server arms no timer");
    }
}

#[test]
fn two_votes_short_of_a_quorum_decide_nothing() {
    let (le, out) = after_round(
        vote(1, 0, 0),
        &[(2, LOOKING, vote(3, 0, 0)), (3, LOOKING, vote(3, 0, 0))],
    );
    assert_eq!(
        decided(&out),
        None,
        "2 of 5 for server 3, plus our own for 3 only next round"
    );
    assert_eq!(le.current_vote(), Some(vote(3, 0, 0)));
}

#[test]
fn a_late_reply_after_the_tally_re_tallies_and_can_decide() {
    let mut le = machine(1);
    drop(start(&mut le, 0, 0));
    let id = le.request_id().unwrap();
    for now in [200, 400, 600, 800] {
        drop(step(&mut le, now, Input::Tick));
    }
    assert_eq!(le.polling(), None);
    let best = vote(5, 9, 2);
    let mut last = Vec::new();
    for (from, state) in [(2, FOLLOWING), (3, FOLLOWING), (5, LEADING)] {
        let msg = LeMessage::Response {
            id,
            state,
            vote: best,
        };
        last = step(
            &mut le,
            900,
            Input::Recv {
                from: Sid(from),
                msg,
            },
        );
    }
    assert_eq!(decided(&last).map(|o| o.state), Some(FOLLOWING));
}

#[test]
fn an_observer_decides_observing_and_never_counts() {
    let mut le = machine(9);
    drop(start(&mut le, 0, 0));
    let best = vote(4, 3, 1);
    let mut out = Vec::new();
    for from in 1..=5 {
        let state = if from == 4 { LEADING } else { FOLLOWING };
        out = reply(&mut le, 10 * from, from, state, best);
        if le.state() != LOOKING {
            break;
        }
    }
    let outcome = decided(&out).expect("decided");
    assert_eq!(outcome.state, ServerState::Observing);
    assert!(!outcome.backing.contains_key(&Sid(9)));
}

#[test]
fn hierarchical_quorums_decide_by_groups_and_weight_zero_never_leads() {
    // Groups {1,2,3} and {4,5,6}; server 6 weighs 0.
    let groups: BTreeMap<u64, Vec<Sid>> = [
        (1, vec![Sid(1), Sid(2), Sid(3)]),
        (2, vec![Sid(4), Sid(5), Sid(6)]),
    ]
    .into_iter()
    .collect();
    let weights: BTreeMap<Sid, u64> = [(Sid(6), 0)].into_iter().collect();
    let quorum = QuorumVerifier::Hierarchical(HierarchicalQuorum::new(&groups, &weights).unwrap());
    let sids: Vec<Sid> = (1..=6).map(Sid).collect();
    let machines = sids
        .iter()
        .map(|&sid| {
            (
                sid,
                LeaderElection::new(LeConfig::new(sid, quorum.clone(), sid.0)),
            )
        })
        .collect();
    let mut net = LocalNet::new(machines, sids.clone(), 5);
    for &sid in &sids {
        // Server 6 has the most data but weighs 0: server 5 must win.
        let zxid = if sid == Sid(6) { 50 } else { 10 };
        net.start(sid, Zxid(zxid), Epoch(1));
    }
    assert!(net.run_until(Millis(60_000), |net| sids
        .iter()
        .all(|&s| net.outcome(s).is_some())));
    for &sid in &sids {
        assert_eq!(
            net.outcome(sid).unwrap().vote.leader,
            Sid(5),
            "server {sid}"
        );
    }
}

fn cluster(size: u64) -> (LocalNet<LeaderElection>, Vec<Sid>) {
    let sids: Vec<Sid> = (1..=size).map(Sid).collect();
    let quorum = QuorumVerifier::majority(sids.clone()).unwrap();
    let machines = sids
        .iter()
        .map(|&sid| {
            (
                sid,
                LeaderElection::new(LeConfig::new(sid, quorum.clone(), 77 + sid.0)),
            )
        })
        .collect();
    (LocalNet::new(machines, sids.clone(), 5), sids)
}

#[test]
fn a_cold_ensemble_elects_the_greatest_vote_and_a_restarted_server_rejoins_it() {
    let (mut net, sids) = cluster(5);
    // (sid, zxid, peer epoch): server 2 has the newest epoch although its zxid is lower.
    let db = [
        (1, 30, 1),
        (2, 0x2_0000_0001, 2),
        (3, 40, 1),
        (4, 0x2_0000_0001, 1),
        (5, 12, 1),
    ];
    for (sid, zxid, epoch) in db {
        net.start(Sid(sid), Zxid(zxid), Epoch(epoch));
    }
    assert!(net.run_until(Millis(60_000), |net| sids
        .iter()
        .all(|&s| net.outcome(s).is_some())));
    for &sid in &sids {
        let outcome = net.outcome(sid).unwrap();
        assert_eq!(outcome.vote, vote(2, 0x2_0000_0001, 2), "server {sid}");
    }
    assert_eq!(net.machine(Sid(2)).state(), LEADING);
    net.crash(Sid(4));
    net.run_to(net.now() + 1000);
    net.start(Sid(4), Zxid(0x2_0000_0001), Epoch(1));
    assert!(net.run_until(net.now() + 10_000, |net| net.outcome(Sid(4)).is_some()));
    assert_eq!(net.outcome(Sid(4)).unwrap().state, FOLLOWING);
    assert_eq!(net.outcome(Sid(4)).unwrap().vote.leader, Sid(2));
}

#[test]
fn replies_after_the_decision_and_messages_before_start_change_nothing() {
    let mut fresh = machine(1);
    let request = LeMessage::Request {
        id: RequestId { xid: 1, round: 1 },
    };
    assert!(step(
        &mut fresh,
        0,
        Input::Recv {
            from: Sid(2),
            msg: request
        }
    )
    .is_empty());
    assert_eq!(fresh.deadline(), None, "no timer before start");
    let (mut le, out) = after_round(
        vote(1, 0, 0),
        &[(2, LOOKING, vote(1, 0, 0)), (3, LOOKING, vote(1, 0, 0))],
    );
    assert_eq!(decided(&out).map(|o| o.state), Some(LEADING));
    let late = LeMessage::Response {
        id: RequestId { xid: 0, round: 1 },
        state: LOOKING,
        vote: vote(5, 99, 9),
    };
    assert!(step(
        &mut le,
        100,
        Input::Recv {
            from: Sid(5),
            msg: late
        }
    )
    .is_empty());
    assert_eq!(
        (le.state(), le.decided_vote()),
        (LEADING, Some(vote(1, 0, 0)))
    );
}
