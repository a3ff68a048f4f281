//! Tests of every branch of notification handling, mostly table-driven.

use zk_elect::testkit::LocalNet;
use zk_elect::{
    Action, Election, ElectionEpoch, HierarchicalQuorum, Input, Millis, QuorumVerifier,
    ServerState, Vote,
};
use zk_proto::{Epoch, Sid, Zxid};

use super::FastLeaderElection;
use crate::config::FleConfig;
use crate::message::{Notification, NOTIFICATION_VERSION};

const LOOKING: ServerState = ServerState::Looking;
const FOLLOWING: ServerState = ServerState::Following;
const LEADING: ServerState = ServerState::Leading;
const OBSERVING: ServerState = ServerState::Observing;

/// Five voters 1..=5 and one observer, 9.
fn machine(sid: u64) -> FastLeaderElection {
    let quorum = QuorumVerifier::majority((1..=5).map(Sid)).unwrap();
    FastLeaderElection::new(FleConfig::new(Sid(sid), quorum))
}

/// Machine `sid` started at time 0 with vote (sid, zxid, epoch); returns it and its output.
fn started(sid: u64, zxid: u64, epoch: u64) -> (FastLeaderElection, Vec<Action<Notification>>) {
    let mut fle = machine(sid);
    let mut out = Vec::new();
    fle.step(
        Millis(0),
        Input::Start {
            last_zxid: Zxid(zxid),
            peer_epoch: Epoch(epoch),
        },
        &mut out,
    );
    (fle, out)
}

fn note(state: ServerState, leader: u64, zxid: u64, round: u64, epoch: u64) -> Notification {
    Notification {
        state,
        leader: Sid(leader),
        zxid: Zxid(zxid),
        election_epoch: ElectionEpoch(round),
        peer_epoch: Epoch(epoch),
        version: NOTIFICATION_VERSION,
    }
}

fn vote(leader: u64, zxid: u64, epoch: u64) -> Vote {
    Vote::new(Sid(leader), Zxid(zxid), Epoch(epoch))
}

fn recv(
    fle: &mut FastLeaderElection,
    now: u64,
    from: u64,
    msg: Notification,
) -> Vec<Action<Notification>> {
    let mut out = Vec::new();
    fle.step(
        Millis(now),
        Input::Recv {
            from: Sid(from),
            msg,
        },
        &mut out,
    );
    out
}

fn tick(fle: &mut FastLeaderElection, now: u64) -> Vec<Action<Notification>> {
    let mut out = Vec::new();
    fle.step(Millis(now), Input::Tick, &mut out);
    out
}

fn broadcasts(out: &[Action<Notification>]) -> Vec<Notification> {
    out.iter()
        .filter_map(|a| {
            if let Action::Broadcast(m) = a {
                Some(*m)
            } else {
                None
            }
        })
        .collect()
}

fn sends(out: &[Action<Notification>]) -> Vec<(Sid, Notification)> {
    out.iter()
        .filter_map(|a| {
            if let Action::Send { to, msg } = a {
                Some((*to, *msg))
            } else {
                None
            }
        })
        .collect()
}

fn decisions(out: &[Action<Notification>]) -> Vec<zk_elect::Outcome> {
    out.iter()
        .filter_map(|a| {
            if let Action::Decided(o) = a {
                Some(o.clone())
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn start_bumps_the_logical_clock_and_broadcasts_the_own_vote() {
    let (mut fle, out) = started(2, 5, 1);
    assert_eq!(fle.logical_clock(), ElectionEpoch(1));
    assert_eq!(fle.proposal(), Some(vote(2, 5, 1)));
    assert_eq!(broadcasts(&out), vec![note(LOOKING, 2, 5, 1, 1)]);
    assert_eq!(
        fle.deadline(),
        Some(Millis(200)),
        "first re-send after minNotificationInterval"
    );
    assert_eq!(fle.state(), LOOKING);
    let mut again = Vec::new();
    fle.step(
        Millis(10),
        Input::Start {
            last_zxid: Zxid(6),
            peer_epoch: Epoch(1),
        },
        &mut again,
    );
    assert_eq!(
        fle.logical_clock(),
        ElectionEpoch(2),
        "every election is a new round"
    );
    assert_eq!(broadcasts(&again), vec![note(LOOKING, 2, 6, 2, 1)]);
}

#[test]
fn looking_notifications_follow_the_round_and_vote_rules() {
    struct Case {
        why: &'static str,
        /// Our own vote (zxid, peer epoch); we are sid 2 in round 1 (or 3 with `our_round`).
        own: (u64, u64),
        our_round: u64,
        /// The notification from voter 3: (leader, zxid, round, peer epoch).
        incoming: (u64, u64, u64, u64),
        /// Expected proposal afterwards (leader, zxid, peer epoch) and round.
        proposal: (u64, u64, u64),
        round: u64,
        /// Whether we broadcast our (new) proposal, and whether we answer sender 3 directly.
        broadcast: bool,
        reply: bool,
    }
    let cases = [
        Case {
            why: "same round, higher zxid wins",
            own: (5, 1),
            our_round: 1,
            incoming: (3, 6, 1, 1),
            proposal: (3, 6, 1),
            round: 1,
            broadcast: true,
            reply: false,
        },
        Case {
            why: "same round, higher peer epoch wins over zxid",
            own: (9, 1),
            our_round: 1,
            incoming: (1, 0, 1, 2),
            proposal: (1, 0, 2),
            round: 1,
            broadcast: true,
            reply: false,
        },
        Case {
            why: "same round, equal zxid and epoch: higher sid wins",
            own: (5, 1),
            our_round: 1,
            incoming: (4, 5, 1, 1),
            proposal: (4, 5, 1),
            round: 1,
            broadcast: true,
            reply: false,
        },
        Case {
            why: "same round, a worse vote changes nothing, but its sender is told ours",
            own: (5, 1),
            our_round: 1,
            incoming: (1, 5, 1, 1),
            proposal: (2, 5, 1),
            round: 1,
            broadcast: false,
            reply: true,
        },
        Case {
            why: "same round, the same vote changes nothing",
            own: (5, 1),
            our_round: 1,
            incoming: (2, 5, 1, 1),
            proposal: (2, 5, 1),
            round: 1,
            broadcast: false,
            reply: false,
        },
        Case {
            why: "newer round with a better vote: join the round, adopt it",
            own: (5, 1),
            our_round: 1,
            incoming: (4, 7, 4, 1),
            proposal: (4, 7, 1),
            round: 4,
            broadcast: true,
            reply: false,
        },
        Case {
            why: "newer round with a worse vote: join the round, propose ourselves",
            own: (5, 1),
            our_round: 1,
            incoming: (1, 2, 4, 1),
            proposal: (2, 5, 1),
            round: 4,
            broadcast: true,
            reply: false,
        },
        Case {
            why: "older round: ignored, but the laggard is told our proposal",
            own: (5, 1),
            our_round: 3,
            incoming: (4, 9, 1, 1),
            proposal: (2, 5, 1),
            round: 3,
            broadcast: false,
            reply: true,
        },
        Case {
            why: "a vote for a non-voter (observer 9) is ignored",
            own: (5, 1),
            our_round: 1,
            incoming: (9, 99, 1, 9),
            proposal: (2, 5, 1),
            round: 1,
            broadcast: false,
            reply: false,
        },
        Case {
            why: "a vote for an unknown server is ignored even in a newer round",
            own: (5, 1),
            our_round: 1,
            incoming: (42, 99, 5, 9),
            proposal: (2, 5, 1),
            round: 1,
            broadcast: false,
            reply: false,
        },
    ];
    for case in cases {
        let (mut fle, _) = started(2, case.own.0, case.own.1);
        for _ in 1..case.our_round {
            let mut out = Vec::new();
            fle.step(
                Millis(0),
                Input::Start {
                    last_zxid: Zxid(case.own.0),
                    peer_epoch: Epoch(case.own.1),
                },
                &mut out,
            );
        }
        assert_eq!(
            fle.logical_clock(),
            ElectionEpoch(case.our_round),
            "{}: setup",
            case.why
        );
        let (leader, zxid, round, epoch) = case.incoming;
        let out = recv(&mut fle, 10, 3, note(LOOKING, leader, zxid, round, epoch));
        let (p_leader, p_zxid, p_epoch) = case.proposal;
        assert_eq!(
            fle.proposal(),
            Some(vote(p_leader, p_zxid, p_epoch)),
            "{}: proposal",
            case.why
        );
        assert_eq!(
            fle.logical_clock(),
            ElectionEpoch(case.round),
            "{}: round",
            case.why
        );
        let expected_broadcast = if case.broadcast {
            vec![note(LOOKING, p_leader, p_zxid, case.round, p_epoch)]
        } else {
            vec![]
        };
        assert_eq!(
            broadcasts(&out),
            expected_broadcast,
            "{}: broadcast",
            case.why
        );
        let expected_reply = if case.reply {
            vec![(Sid(3), note(LOOKING, p_leader, p_zxid, case.round, p_epoch))]
        } else {
            vec![]
        };
        assert_eq!(sends(&out), expected_reply, "{}: reply", case.why);
        assert!(
            decisions(&out).is_empty(),
            "{}: no decision from two votes of five",
            case.why
        );
    }
}

#[test]
fn zero_weight_candidates_never_beat_a_proposal() {
    let lines = [("group.1", "1:2:3"), ("weight.3", "0")];
    let quorum = QuorumVerifier::Hierarchical(HierarchicalQuorum::from_properties(lines).unwrap());
    let mut fle = FastLeaderElection::new(FleConfig::new(Sid(1), quorum));
    let mut out = Vec::new();
    fle.step(
        Millis(0),
        Input::Start {
            last_zxid: Zxid(1),
            peer_epoch: Epoch(0),
        },
        &mut out,
    );
    let out = recv(&mut fle, 1, 3, note(LOOKING, 3, 100, 1, 5));
    assert_eq!(
        fle.proposal(),
        Some(vote(1, 1, 0)),
        "server 3 weighs 0: it cannot lead"
    );
    assert!(broadcasts(&out).is_empty());
}

#[test]
fn a_quorum_for_the_proposal_starts_the_finalize_wait_then_decides() {
    let (mut fle, _) = started(5, 7, 1);
    assert!(recv(&mut fle, 10, 1, note(LOOKING, 5, 7, 1, 1)).is_empty());
    assert!(!fle.is_finalizing(), "two of five");
    recv(&mut fle, 20, 2, note(LOOKING, 5, 7, 1, 1));
    assert!(fle.is_finalizing(), "three of five agree");
    assert_eq!(fle.deadline(), Some(Millis(220)));
    assert!(
        tick(&mut fle, 219).is_empty(),
        "the finalize wait has not passed"
    );
    let out = tick(&mut fle, 220);
    let decided = decisions(&out);
    assert_eq!(decided.len(), 1);
    assert_eq!(decided[0].state, LEADING);
    assert_eq!(decided[0].vote, vote(5, 7, 1));
    assert_eq!(decided[0].election_epoch, ElectionEpoch(1));
    assert_eq!(
        decided[0].backing.keys().copied().collect::<Vec<_>>(),
        vec![Sid(1), Sid(2), Sid(5)]
    );
    assert_eq!(fle.state(), LEADING);
    assert_eq!(fle.deadline(), None, "no timers once decided");
}

#[test]
fn votes_for_another_leader_make_us_follow() {
    let (mut fle, _) = started(1, 0, 0);
    recv(&mut fle, 1, 5, note(LOOKING, 5, 0, 1, 0));
    recv(&mut fle, 2, 4, note(LOOKING, 5, 0, 1, 0));
    assert!(fle.is_finalizing(), "1, 4 and 5 agree on 5");
    let decided = decisions(&tick(&mut fle, 202));
    assert_eq!(decided[0].state, FOLLOWING);
    assert_eq!(fle.decided_vote(), Some((vote(5, 0, 0), ElectionEpoch(1))));
}

#[test]
fn the_finalize_wait_discards_worse_votes_and_yields_to_better_ones() {
    // (why, notification during the wait, still finalizing?, proposal afterwards, deadline)
    let cases = [
        (
            "a worse vote is discarded and restarts the wait",
            note(LOOKING, 1, 0, 1, 0),
            true,
            vote(3, 0, 0),
            Some(Millis(250)),
        ),
        (
            "an equal vote is discarded and restarts the wait",
            note(LOOKING, 3, 0, 1, 0),
            true,
            vote(3, 0, 0),
            Some(Millis(250)),
        ),
        (
            "a better vote ends the wait and is adopted",
            note(LOOKING, 4, 0, 1, 0),
            false,
            vote(4, 0, 0),
            Some(Millis(250)),
        ),
        (
            "a better vote from an older round still ends the wait, then is ignored",
            note(LOOKING, 4, 0, 0, 0),
            false,
            vote(3, 0, 0),
            Some(Millis(200)),
        ),
    ];
    for (why, incoming, finalizing, proposal, deadline) in cases {
        let (mut fle, _) = started(3, 0, 0);
        recv(&mut fle, 10, 1, note(LOOKING, 3, 0, 1, 0));
        recv(&mut fle, 20, 2, note(LOOKING, 3, 0, 1, 0));
        assert!(fle.is_finalizing(), "{why}: setup");
        recv(&mut fle, 50, 5, incoming);
        assert_eq!(fle.is_finalizing(), finalizing, "{why}");
        assert_eq!(fle.proposal(), Some(proposal), "{why}");
        assert_eq!(fle.deadline(), deadline, "{why}");
        assert_eq!(fle.state(), LOOKING, "{why}");
    }
}

#[test]
fn silence_triggers_resends_with_exponential_back_off_up_to_the_cap() {
    let (mut fle, _) = started(1, 0, 0);
    let mut now = 0;
    let mut timeouts = Vec::new();
    for _ in 0..12 {
        now = fle.deadline().unwrap().0;
        let out = tick(&mut fle, now);
        assert_eq!(broadcasts(&out), vec![note(LOOKING, 1, 0, 1, 0)]);
        timeouts.push(fle.notification_timeout_ms());
    }
    assert_eq!(
        timeouts,
        vec![400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000, 60000, 60000]
    );
    // A notification that changes nothing does not postpone the re-send: a peer re-sending a
    // worse vote must not silence our better one.
    recv(&mut fle, now + 5, 2, note(LOOKING, 1, 0, 1, 0));
    assert_eq!(fle.deadline(), Some(Millis(now + 60_000)));
    assert!(
        tick(&mut fle, now + 100).is_empty(),
        "an early tick does nothing"
    );
    // A better vote is adopted and sent at once, which restarts the wait (the back-off stays).
    let out = recv(&mut fle, now + 200, 2, note(LOOKING, 2, 0, 1, 0));
    assert_eq!(broadcasts(&out), vec![note(LOOKING, 2, 0, 1, 0)]);
    assert_eq!(fle.deadline(), Some(Millis(now + 200 + 60_000)));
}

#[test]
fn established_votes_in_our_round_decide_once_the_leader_confirms() {
    // (why, notifications from (sid, state), decided?)
    type Case = (&'static str, &'static [(u64, ServerState)], bool);
    let cases: [Case; 4] = [
        ("a quorum of followers without the leader's word", &[(1, FOLLOWING), (2, FOLLOWING), (3, FOLLOWING)], false),
        ("two followers and the leader", &[(1, FOLLOWING), (2, FOLLOWING), (5, LEADING)], true),
        ("a follower and the leader are not a quorum", &[(1, FOLLOWING), (5, LEADING)], false),
        ("the leader and a follower, with our own LOOKING vote for the same leader, round and zxid", &[(3, LOOKING), (1, FOLLOWING), (5, LEADING)], true),
    ];
    for (why, notes, decided) in cases {
        let (mut fle, _) = started(4, 0, 0);
        let mut all = Vec::new();
        for &(from, state) in notes {
            all.extend(recv(&mut fle, 10, from, note(state, 5, 3, 1, 0)));
        }
        let outcomes = decisions(&all);
        assert_eq!(outcomes.len(), usize::from(decided), "{why}");
        if decided {
            assert_eq!(outcomes[0].state, FOLLOWING, "{why}");
            assert_eq!(outcomes[0].vote, vote(5, 3, 0), "{why}");
            assert!(
                outcomes[0].backing.contains_key(&Sid(5)),
                "{why}: the leader backs it"
            );
        }
    }
}

#[test]
fn a_restarted_server_joins_an_established_leader_from_any_round() {
    let (mut fle, _) = started(4, 99, 7);
    // The ensemble decided in round 12 on leader 2, whose zxid is lower than ours.
    assert!(recv(&mut fle, 1, 1, note(FOLLOWING, 2, 10, 12, 3)).is_empty());
    assert!(
        decisions(&recv(&mut fle, 2, 3, note(FOLLOWING, 2, 10, 12, 3))).is_empty(),
        "leader has not confirmed"
    );
    let out = recv(&mut fle, 3, 2, note(LEADING, 2, 10, 12, 3));
    let outcome = &decisions(&out)[0];
    assert_eq!(outcome.state, FOLLOWING);
    assert_eq!(outcome.vote, vote(2, 10, 3));
    assert_eq!(
        fle.logical_clock(),
        ElectionEpoch(12),
        "the round of the ensemble is adopted"
    );
}

#[test]
fn established_votes_naming_us_need_our_current_round() {
    // Votes naming us as leader from a round that is not ours: checkLeader refuses.
    let (mut fle, _) = started(2, 0, 0);
    recv(&mut fle, 1, 1, note(FOLLOWING, 2, 0, 5, 0));
    let out = recv(&mut fle, 2, 3, note(FOLLOWING, 2, 0, 5, 0));
    assert!(decisions(&out).is_empty());
    // The same in our round: we lead.
    let (mut fle, _) = started(2, 0, 0);
    recv(&mut fle, 1, 1, note(FOLLOWING, 2, 0, 1, 0));
    let out = recv(&mut fle, 2, 3, note(FOLLOWING, 2, 0, 1, 0));
    assert_eq!(decisions(&out)[0].state, LEADING);
}

#[test]
fn established_votes_agree_on_leader_and_epoch_only() {
    // Followers may report different zxids for the same leader and epoch: still one vote.
    let (mut fle, _) = started(4, 0, 0);
    recv(&mut fle, 1, 1, note(FOLLOWING, 5, 3, 9, 2));
    recv(&mut fle, 2, 3, note(FOLLOWING, 5, 4, 9, 2));
    let out = recv(&mut fle, 3, 5, note(LEADING, 5, 5, 9, 2));
    assert_eq!(decisions(&out).len(), 1);
    // A different peer epoch is a different vote.
    let (mut fle, _) = started(4, 0, 0);
    recv(&mut fle, 1, 1, note(FOLLOWING, 5, 3, 9, 1));
    recv(&mut fle, 2, 3, note(FOLLOWING, 5, 3, 9, 1));
    let out = recv(&mut fle, 3, 5, note(LEADING, 5, 3, 9, 2));
    assert!(decisions(&out).is_empty());
}

#[test]
fn notifications_from_observing_senders_are_ignored() {
    let (mut fle, _) = started(4, 0, 0);
    for from in [1, 2, 3] {
        assert!(recv(&mut fle, 1, from, note(OBSERVING, 5, 0, 1, 0)).is_empty());
    }
    assert_eq!(fle.proposal(), Some(vote(4, 0, 0)));
}

#[test]
fn decided_servers_answer_looking_peers_and_ignore_the_rest() {
    let (mut fle, _) = started(5, 3, 1);
    recv(&mut fle, 1, 1, note(LOOKING, 5, 3, 1, 1));
    recv(&mut fle, 2, 2, note(LOOKING, 5, 3, 1, 1));
    tick(&mut fle, 202);
    assert_eq!(fle.state(), LEADING);
    let out = recv(&mut fle, 300, 3, note(LOOKING, 3, 0, 7, 0));
    assert_eq!(sends(&out), vec![(Sid(3), note(LEADING, 5, 3, 1, 1))]);
    assert!(recv(&mut fle, 301, 3, note(FOLLOWING, 1, 0, 7, 0)).is_empty());
    assert!(recv(&mut fle, 302, 3, note(LEADING, 3, 0, 7, 0)).is_empty());
    assert_eq!(fle.state(), LEADING);
}

#[test]
fn non_voters_get_our_current_vote_whatever_they_say() {
    let (mut fle, _) = started(2, 4, 1);
    let out = recv(&mut fle, 1, 9, note(LOOKING, 9, 100, 50, 50));
    assert_eq!(sends(&out), vec![(Sid(9), note(LOOKING, 2, 4, 1, 1))]);
    assert_eq!(
        fle.logical_clock(),
        ElectionEpoch(1),
        "the observer's round is not adopted"
    );
    assert_eq!(fle.proposal(), Some(vote(2, 4, 1)));
}

#[test]
fn notifications_before_start_are_dropped() {
    let mut fle = machine(1);
    assert!(recv(&mut fle, 0, 2, note(LOOKING, 2, 0, 1, 0)).is_empty());
    assert_eq!(fle.deadline(), None);
    assert!(tick(&mut fle, 10_000).is_empty());
    let mut out = Vec::new();
    fle.step(Millis(5), Input::PeerDown(Sid(2)), &mut out);
    assert!(out.is_empty());
}

#[test]
fn observers_propose_nobody_and_end_up_observing() {
    let mut observer = machine(9);
    let mut out = Vec::new();
    observer.step(
        Millis(0),
        Input::Start {
            last_zxid: Zxid(1000),
            peer_epoch: Epoch(9),
        },
        &mut out,
    );
    assert_eq!(
        observer.proposal(),
        None,
        "an observer never proposes itself"
    );
    assert_eq!(broadcasts(&out).len(), 1, "it asks the voters");
    // Voters answer with their LOOKING proposals: the observer adopts the best.
    recv(&mut observer, 1, 1, note(LOOKING, 4, 2, 3, 1));
    assert_eq!(observer.proposal(), Some(vote(4, 2, 1)));
    assert_eq!(observer.logical_clock(), ElectionEpoch(3));
    // A voter lagging behind that round is not answered: it would ignore an observer's vote.
    let out = recv(&mut observer, 1, 2, note(LOOKING, 2, 0, 1, 0));
    assert!(sends(&out).is_empty() && broadcasts(&out).is_empty());
    // Then the ensemble is established: the observer observes.
    recv(&mut observer, 2, 1, note(FOLLOWING, 4, 2, 3, 1));
    recv(&mut observer, 3, 2, note(FOLLOWING, 4, 2, 3, 1));
    let out = recv(&mut observer, 4, 4, note(LEADING, 4, 2, 3, 1));
    let outcome = &decisions(&out)[0];
    assert_eq!(outcome.state, OBSERVING);
    assert_eq!(observer.state(), OBSERVING);
    // An observing observer does not answer a LOOKING voter either.
    let out = recv(&mut observer, 5, 2, note(LOOKING, 2, 0, 4, 0));
    assert!(out.is_empty());
}

fn cluster(voters: &[u64], observers: &[u64], delay_ms: u64) -> LocalNet<FastLeaderElection> {
    let quorum = QuorumVerifier::majority(voters.iter().copied().map(Sid)).unwrap();
    let machines = voters
        .iter()
        .chain(observers)
        .map(|&sid| {
            (
                Sid(sid),
                FastLeaderElection::new(FleConfig::new(Sid(sid), quorum.clone())),
            )
        })
        .collect();
    LocalNet::new(
        machines,
        voters.iter().copied().map(Sid).collect(),
        delay_ms,
    )
}

fn all_decided(net: &LocalNet<FastLeaderElection>, sids: &[u64]) -> bool {
    sids.iter().all(|&sid| net.outcome(Sid(sid)).is_some())
}

#[test]
fn cold_start_elects_the_best_vote() {
    // (why, servers as (sid, zxid, epoch), expected leader)
    type Case = (&'static str, &'static [(u64, u64, u64)], u64);
    let cases: [Case; 4] = [
        (
            "empty databases: the largest sid",
            &[(1, 0, 0), (2, 0, 0), (3, 0, 0)],
            3,
        ),
        ("the highest zxid", &[(1, 9, 0), (2, 3, 0), (3, 3, 0)], 1),
        (
            "the highest peer epoch beats a higher zxid",
            &[(1, 9, 1), (2, 3, 2), (3, 3, 1), (4, 0, 0), (5, 8, 1)],
            2,
        ),
        ("a single server elects itself", &[(1, 4, 4)], 1),
    ];
    for (why, servers, leader) in cases {
        let sids: Vec<u64> = servers.iter().map(|s| s.0).collect();
        let mut net = cluster(&sids, &[], 5);
        for &(sid, zxid, epoch) in servers {
            net.start(Sid(sid), Zxid(zxid), Epoch(epoch));
        }
        assert!(
            net.run_until(Millis(10_000), |net| all_decided(net, &sids)),
            "{why}: decided"
        );
        for &sid in &sids {
            let outcome = net.outcome(Sid(sid)).unwrap();
            assert_eq!(outcome.vote.leader, Sid(leader), "{why}: server {sid}");
            let expected = if sid == leader { LEADING } else { FOLLOWING };
            assert_eq!(outcome.state, expected, "{why}: server {sid}");
        }
    }
}

#[test]
fn after_the_leader_crashes_the_followers_elect_a_new_one() {
    let sids = [1, 2, 3, 4, 5];
    let mut net = cluster(&sids, &[9], 5);
    for sid in sids.iter().chain(&[9]) {
        net.start(Sid(*sid), Zxid(0), Epoch(0));
    }
    assert!(net.run_until(Millis(10_000), |net| all_decided(net, &[1, 2, 3, 4, 5, 9])));
    assert_eq!(net.outcome(Sid(9)).unwrap().state, OBSERVING);
    assert_eq!(net.outcome(Sid(9)).unwrap().vote.leader, Sid(5));
    net.crash(Sid(5));
    let crash_at = net.now();
    for sid in [1, 2, 3, 4] {
        net.start(Sid(sid), Zxid(7), Epoch(1));
    }
    assert!(net.run_until(Millis(20_000), |net| all_decided(net, &[1, 2, 3, 4])));
    assert_eq!(net.outcome(Sid(4)).unwrap().state, LEADING);
    // finalize wait + 2 round trips of 10 ms.
    assert!(
        net.now().since(crash_at) <= 200 + 2 * 10,
        "took {} ms",
        net.now().since(crash_at)
    );
    // A restarted old leader joins the new one.
    net.start(Sid(5), Zxid(0), Epoch(0));
    assert!(net.run_until(Millis(100_000), |net| all_decided(net, &[5])));
    assert_eq!(net.outcome(Sid(5)).unwrap().state, FOLLOWING);
    assert_eq!(net.outcome(Sid(5)).unwrap().vote.leader, Sid(4));
}
