//! Tests of every branch of AuthFastLeaderElection's message handling (mostly table-driven),
//! forged and replayed messages, and whole elections on the lossless test network.

use zk_elect::testkit::LocalNet;
use zk_elect::{Action, Election, ElectionEpoch, Input, Millis, QuorumVerifier, ServerState, Vote};
use zk_proto::{Epoch, Sid, Zxid};

use super::AuthFastLeaderElection;
use crate::config::{AuthFleConfig, AuthKey};
use crate::message::{AuthMessage, Body, Challenge, Tag};

const LOOKING: ServerState = ServerState::Looking;
const FOLLOWING: ServerState = ServerState::Following;
const LEADING: ServerState = ServerState::Leading;

fn key() -> AuthKey {
    AuthKey::new(b"the ensemble's shared secret").unwrap()
}

/// How a test machine authenticates.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// No challenge step (ZooKeeper's electionAlg=1).
    Plain,
    /// ZooKeeper's challenge, no MAC.
    Challenge,
    /// Challenge and MAC.
    Keyed,
}

/// Voters 1..=5, observer 9.
fn config(sid: u64, mode: Mode) -> AuthFleConfig {
    let quorum = QuorumVerifier::majority((1..=5).map(Sid)).unwrap();
    let mut config = AuthFleConfig::new(Sid(sid), quorum, 1000 + sid).with_observers([Sid(9)]);
    config.challenge_response = mode != Mode::Plain;
    if mode == Mode::Keyed {
        config = config.with_key(key());
    }
    config
}

fn started(
    sid: u64,
    zxid: u64,
    epoch: u64,
    mode: Mode,
) -> (AuthFastLeaderElection, Vec<Action<AuthMessage>>) {
    let mut fle = AuthFastLeaderElection::new(config(sid, mode));
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

fn vote(leader: u64, zxid: u64, epoch: u64) -> Vote {
    Vote::new(Sid(leader), Zxid(zxid), Epoch(epoch))
}

/// A message from `from` to `to`, sealed as `mode` requires.
fn sealed(body: Body, from: u64, to: u64, mode: Mode) -> AuthMessage {
    let key = key();
    AuthMessage::seal(
        body,
        (mode == Mode::Keyed).then_some(&key),
        Sid(from),
        Sid(to),
    )
}

fn recv(
    fle: &mut AuthFastLeaderElection,
    now: u64,
    from: u64,
    msg: AuthMessage,
) -> Vec<Action<AuthMessage>> {
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

fn tick(fle: &mut AuthFastLeaderElection, now: u64) -> Vec<Action<AuthMessage>> {
    let mut out = Vec::new();
    fle.step(Millis(now), Input::Tick, &mut out);
    out
}

/// The bodies sent to `to`.
fn sent_to(out: &[Action<AuthMessage>], to: u64) -> Vec<Body> {
    out.iter()
        .filter_map(|action| match action {
            Action::Send { to: t, msg } if *t == Sid(to) => Some(msg.body),
            _ => None,
        })
        .collect()
}

fn decided(out: &[Action<AuthMessage>]) -> Option<zk_elect::Outcome> {
    out.iter().find_map(|action| match action {
        Action::Decided(outcome) => Some(outcome.clone()),
        _ => None,
    })
}

/// Runs the challenge exchange: `fle` (server 1) asked `peer` for a challenge; `peer` answers.
fn give_challenge(
    fle: &mut AuthFastLeaderElection,
    now: u64,
    peer: u64,
    challenge: u64,
    mode: Mode,
) -> Vec<Action<AuthMessage>> {
    let tag = fle
        .outstanding_tag(Sid(peer))
        .expect("an outstanding exchange");
    recv(
        fle,
        now,
        peer,
        sealed(
            Body::Challenge {
                tag,
                challenge: Challenge(challenge),
            },
            peer,
            1,
            mode,
        ),
    )
}

/// Server 1 after `peer` asked for and got a challenge for `tag`; returns the challenge.
fn challenge_from(fle: &mut AuthFastLeaderElection, peer: u64, tag: u64, mode: Mode) -> Challenge {
    let out = recv(
        fle,
        1,
        peer,
        sealed(Body::ChallengeRequest { tag: Tag(tag) }, peer, 1, mode),
    );
    match sent_to(&out, peer).as_slice() {
        [Body::Challenge { tag: t, challenge }] if *t == Tag(tag) => *challenge,
        other => panic!("expected one challenge, got {other:?}"),
    }
}

fn notification(tag: u64, v: Vote, round: u64, challenge: Option<Challenge>) -> Body {
    Body::Notification {
        tag: Tag(tag),
        vote: v,
        election_epoch: ElectionEpoch(round),
        challenge,
    }
}

#[test]
fn start_opens_one_exchange_per_other_voter() {
    // (mode, what goes to each voter first)
    for mode in [Mode::Plain, Mode::Challenge, Mode::Keyed] {
        let (fle, out) = started(1, 5, 1, mode);
        for peer in 2..=5 {
            let bodies = sent_to(&out, peer);
            assert_eq!(bodies.len(), 1, "{mode:?}");
            let first_is_request = matches!(bodies[0], Body::ChallengeRequest { .. });
            assert_eq!(first_is_request, mode != Mode::Plain, "{mode:?}");
        }
        assert!(sent_to(&out, 9).is_empty(), "observers are not notified");
        let macs = out.iter().all(
            |a| matches!(a, Action::Send { msg, .. } if msg.mac.is_some() == (mode == Mode::Keyed)),
        );
        assert!(macs, "{mode:?}: a MAC exactly when keyed");
        assert_eq!(
            fle.deadline(),
            Some(Millis(100)),
            "first challenge or ack wait"
        );
    }
}

#[test]
fn challenge_requests_are_answered_with_one_challenge_per_tag() {
    let (mut fle, _) = started(1, 0, 0, Mode::Challenge);
    let first = challenge_from(&mut fle, 2, 40, Mode::Challenge);
    assert_eq!(
        challenge_from(&mut fle, 2, 40, Mode::Challenge),
        first,
        "a repeated request gets the same challenge"
    );
    assert_ne!(
        challenge_from(&mut fle, 2, 41, Mode::Challenge),
        first,
        "another tag, another challenge"
    );
    assert_ne!(
        challenge_from(&mut fle, 3, 40, Mode::Challenge),
        first,
        "another peer, another challenge"
    );
    let (mut plain, _) = started(1, 0, 0, Mode::Plain);
    let out = recv(
        &mut plain,
        1,
        2,
        sealed(Body::ChallengeRequest { tag: Tag(1) }, 2, 1, Mode::Plain),
    );
    assert!(out.is_empty(), "no challenge step: requests are dropped");
    let out = recv(
        &mut fle,
        1,
        7,
        sealed(
            Body::ChallengeRequest { tag: Tag(1) },
            7,
            1,
            Mode::Challenge,
        ),
    );
    assert!(out.is_empty(), "a server outside the ensemble is ignored");
}

#[test]
fn a_challenge_releases_the_notification_and_only_for_the_outstanding_tag() {
    let (mut fle, _) = started(1, 5, 1, Mode::Challenge);
    let tag = fle.outstanding_tag(Sid(2)).unwrap();
    // (tag in the challenge, whether the notification goes out)
    for (got, sends) in [(Tag(tag.0 ^ 1), false), (tag, true)] {
        let out = recv(
            &mut fle,
            10,
            2,
            sealed(
                Body::Challenge {
                    tag: got,
                    challenge: Challenge(77),
                },
                2,
                1,
                Mode::Challenge,
            ),
        );
        let expected = if sends {
            vec![notification(tag.0, vote(1, 5, 1), 1, Some(Challenge(77)))]
        } else {
            vec![]
        };
        assert_eq!(sent_to(&out, 2), expected, "tag {got:?}");
    }
    assert!(
        recv(
            &mut fle,
            11,
            2,
            sealed(
                Body::Challenge {
                    tag,
                    challenge: Challenge(77)
                },
                2,
                1,
                Mode::Challenge
            )
        )
        .is_empty(),
        "a duplicate challenge changes nothing"
    );
    let out = recv(
        &mut fle,
        12,
        2,
        sealed(
            Body::Challenge {
                tag,
                challenge: Challenge(78),
            },
            2,
            1,
            Mode::Challenge,
        ),
    );
    assert_eq!(
        sent_to(&out, 2),
        vec![notification(tag.0, vote(1, 5, 1), 1, Some(Challenge(78)))],
        "a new challenge: the peer lost ours"
    );
}

#[test]
fn notifications_are_delivered_and_acked_only_with_the_issued_challenge() {
    let better = vote(4, 9, 1);
    // (challenge carried, delivered and acked, why)
    type Carry = fn(Challenge) -> Option<Challenge>;
    let table: [(Carry, bool, &str); 3] = [
        (|c| Some(c), true, "the issued challenge"),
        (|c| Some(Challenge(c.0 ^ 1)), false, "a wrong challenge"),
        (|_| None, false, "no challenge"),
    ];
    for (carried, delivered, why) in table {
        let (mut fle, _) = started(1, 5, 1, Mode::Challenge);
        let issued = challenge_from(&mut fle, 4, 70, Mode::Challenge);
        let out = recv(
            &mut fle,
            2,
            4,
            sealed(
                notification(70, better, 1, carried(issued)),
                4,
                1,
                Mode::Challenge,
            ),
        );
        let replies = sent_to(&out, 4);
        assert_eq!(fle.proposal() == Some(better), delivered, "{why}");
        if delivered {
            assert!(
                matches!(replies[0], Body::Ack { tag: Tag(70), state: LOOKING, challenge: Some(c), .. } if c == issued),
                "{why}: {replies:?}"
            );
        } else {
            assert!(
                matches!(replies.as_slice(), [Body::Challenge { tag: Tag(70), .. }]),
                "{why}: challenged again, {replies:?}"
            );
        }
    }
}

#[test]
fn a_replayed_notification_changes_no_vote() {
    for mode in [Mode::Challenge, Mode::Keyed] {
        let (mut fle, _) = started(1, 5, 1, mode);
        let old = challenge_from(&mut fle, 4, 70, mode);
        let first = sealed(notification(70, vote(4, 9, 1), 1, Some(old)), 4, 1, mode);
        drop(recv(&mut fle, 2, 4, first));
        let newer = challenge_from(&mut fle, 4, 71, mode);
        drop(recv(
            &mut fle,
            3,
            4,
            sealed(notification(71, vote(1, 5, 1), 1, Some(newer)), 4, 1, mode),
        ));
        let before = (fle.proposal(), fle.logical_clock());
        // The latest notification again (its ack was lost): acked, not counted again.
        let out = recv(
            &mut fle,
            4,
            4,
            sealed(notification(71, vote(1, 5, 1), 1, Some(newer)), 4, 1, mode),
        );
        assert!(
            matches!(
                sent_to(&out, 4).as_slice(),
                [Body::Ack { tag: Tag(71), .. }]
            ),
            "{mode:?}"
        );
        // An older one: its challenge was used up, so it is challenged again and not counted.
        let out = recv(&mut fle, 5, 4, first);
        assert!(
            matches!(
                sent_to(&out, 4).as_slice(),
                [Body::Challenge { tag: Tag(70), .. }]
            ),
            "{mode:?}"
        );
        assert_eq!((fle.proposal(), fle.logical_clock()), before, "{mode:?}");
    }
}

#[test]
fn forged_messages_change_no_vote() {
    let (mut fle, _) = started(1, 5, 1, Mode::Keyed);
    let issued = challenge_from(&mut fle, 4, 70, Mode::Keyed);
    let body = notification(70, vote(4, 99, 9), 9, Some(issued));
    let wrong_key = AuthKey::new(b"an attacker's guess at the key").unwrap();
    let table = [
        (AuthMessage { body, mac: None }, 4, "no MAC"),
        (
            AuthMessage::seal(body, Some(&wrong_key), Sid(4), Sid(1)),
            4,
            "a MAC under another key",
        ),
        (
            AuthMessage::seal(body, Some(&key()), Sid(4), Sid(2)),
            4,
            "a MAC for another recipient",
        ),
        (
            AuthMessage::seal(body, Some(&key()), Sid(3), Sid(1)),
            4,
            "a MAC of another sender",
        ),
        (
            AuthMessage::seal(body, Some(&key()), Sid(4), Sid(1)),
            3,
            "a valid message claimed by another sender",
        ),
    ];
    for (msg, from, why) in table {
        let out = recv(&mut fle, 2, from, msg);
        assert!(out.is_empty(), "{why}: {out:?}");
        assert_eq!(
            (fle.proposal(), fle.logical_clock()),
            (Some(vote(1, 5, 1)), ElectionEpoch(1)),
            "{why}"
        );
    }
    let forged_ack = Body::Ack {
        tag: fle.outstanding_tag(Sid(2)).unwrap(),
        state: LEADING,
        vote: vote(2, 99, 9),
        election_epoch: ElectionEpoch(1),
        challenge: None,
    };
    assert!(recv(
        &mut fle,
        2,
        2,
        AuthMessage {
            body: forged_ack,
            mac: None
        }
    )
    .is_empty());
    // The genuine message is accepted.
    drop(recv(
        &mut fle,
        3,
        4,
        AuthMessage::seal(body, Some(&key()), Sid(4), Sid(1)),
    ));
    assert_eq!(fle.proposal(), Some(vote(4, 99, 9)));
}

#[test]
fn an_unkeyed_server_drops_sealed_messages() {
    let (mut fle, _) = started(1, 5, 1, Mode::Challenge);
    let out = recv(
        &mut fle,
        1,
        2,
        sealed(Body::ChallengeRequest { tag: Tag(3) }, 2, 1, Mode::Keyed),
    );
    assert!(out.is_empty());
}

/// Server 1 (challenge mode) with its notification to 2 sent under challenge 77.
fn awaiting_ack() -> (AuthFastLeaderElection, Tag) {
    let (mut fle, _) = started(1, 5, 1, Mode::Challenge);
    let tag = fle.outstanding_tag(Sid(2)).unwrap();
    drop(give_challenge(&mut fle, 10, 2, 77, Mode::Challenge));
    (fle, tag)
}

#[test]
fn acks_close_the_exchange_only_when_tag_and_challenge_match() {
    // (tag offset, challenge echoed, closes)
    let table = [
        (1, Some(Challenge(77)), false),
        (0, Some(Challenge(78)), false),
        (0, None, false),
        (0, Some(Challenge(77)), true),
    ];
    for (offset, challenge, closes) in table {
        let (mut fle, tag) = awaiting_ack();
        let ack = Body::Ack {
            tag: Tag(tag.0 + offset),
            state: LOOKING,
            vote: vote(2, 0, 0),
            election_epoch: ElectionEpoch(1),
            challenge,
        };
        drop(recv(&mut fle, 20, 2, sealed(ack, 2, 1, Mode::Challenge)));
        assert_eq!(
            fle.outstanding_tag(Sid(2)).is_none(),
            closes,
            "offset {offset}, {challenge:?}"
        );
    }
}

#[test]
fn retransmission_waits_grow_then_the_exchange_restarts_while_its_round_is_current() {
    let (mut fle, _) = started(1, 5, 1, Mode::Challenge);
    // Challenge waits 100, 200, 400 ms; then ZooKeeper re-queues the message.
    let mut now = 0;
    for wait in [100, 200, 400] {
        assert!(
            sent_to(&tick(&mut fle, now + wait - 1), 2).is_empty(),
            "before {wait} ms"
        );
        now += wait;
        let out = tick(&mut fle, now);
        assert!(
            matches!(sent_to(&out, 2).as_slice(), [Body::ChallengeRequest { .. }]),
            "at {now}"
        );
    }
    // Ack waits 100, 1000, 10000 ms once the challenge is held (the attempt count restarted).
    let (mut fle, tag) = awaiting_ack();
    let mut now = 10;
    for wait in [100, 1000, 10_000] {
        now += wait;
        let out = tick(&mut fle, now);
        assert_eq!(
            fle.outstanding_tag(Sid(2)),
            Some(tag),
            "same tag while retrying"
        );
        let expected_request = wait == 10_000;
        assert_eq!(
            matches!(sent_to(&out, 2).as_slice(), [Body::ChallengeRequest { .. }]),
            expected_request,
            "after {wait}: {out:?}"
        );
    }
}

#[test]
fn exchanges_of_an_old_round_are_dropped_when_exhausted() {
    let (mut fle, _) = started(1, 5, 1, Mode::Plain);
    // A newer round arrives from 3: new exchanges supersede the old ones to everyone.
    let old_to_2 = fle.outstanding_tag(Sid(2)).unwrap();
    drop(recv(
        &mut fle,
        5,
        3,
        sealed(notification(1, vote(3, 0, 0), 4, None), 3, 1, Mode::Plain),
    ));
    assert_eq!(fle.logical_clock(), ElectionEpoch(4));
    assert_ne!(
        fle.outstanding_tag(Sid(2)),
        Some(old_to_2),
        "superseded by the new round's notification"
    );
}

#[test]
fn looking_votes_follow_the_round_rules() {
    // (round of the incoming vote, its vote, expected round and proposal afterwards, why)
    let table = [
        (
            1,
            vote(3, 9, 1),
            1,
            vote(3, 9, 1),
            "same round, better: adopted",
        ),
        (
            1,
            vote(3, 2, 1),
            1,
            vote(1, 5, 1),
            "same round, worse: kept",
        ),
        (1, vote(3, 99, 0), 1, vote(1, 5, 1), "peer epoch first"),
        (
            3,
            vote(3, 2, 1),
            3,
            vote(1, 5, 1),
            "newer round, worse: joined with the own vote",
        ),
        (
            3,
            vote(3, 9, 1),
            3,
            vote(3, 9, 1),
            "newer round, better: joined and adopted",
        ),
        (0, vote(3, 9, 1), 1, vote(1, 5, 1), "older round: ignored"),
        (
            1,
            vote(9, 99, 9),
            1,
            vote(1, 5, 1),
            "a vote for an observer: ignored",
        ),
    ];
    for (round, v, expected_round, expected, why) in table {
        let (mut fle, _) = started(1, 5, 1, Mode::Plain);
        drop(recv(
            &mut fle,
            5,
            3,
            sealed(notification(1, v, round, None), 3, 1, Mode::Plain),
        ));
        assert_eq!(fle.logical_clock(), ElectionEpoch(expected_round), "{why}");
        assert_eq!(fle.proposal(), Some(expected), "{why}");
    }
}

#[test]
fn a_quorum_finalizes_after_the_wait_unless_a_better_vote_arrives() {
    for better_arrives in [false, true] {
        let (mut fle, _) = started(1, 5, 1, Mode::Plain);
        for from in [2, 3] {
            drop(recv(
                &mut fle,
                10,
                from,
                sealed(
                    notification(from, vote(1, 5, 1), 1, None),
                    from,
                    1,
                    Mode::Plain,
                ),
            ));
        }
        assert!(fle.is_finalizing());
        assert!(
            decided(&tick(&mut fle, 109)).is_none(),
            "the finalize wait runs to 110 ms"
        );
        if better_arrives {
            drop(recv(
                &mut fle,
                50,
                4,
                sealed(notification(4, vote(4, 9, 1), 1, None), 4, 1, Mode::Plain),
            ));
            assert!(!fle.is_finalizing());
        }
        let out = tick(&mut fle, 110);
        assert_eq!(
            decided(&out).map(|o| o.state),
            (!better_arrives).then_some(LEADING)
        );
    }
}

#[test]
fn every_voter_agreeing_decides_without_the_wait() {
    let (mut fle, _) = started(1, 0, 0, Mode::Plain);
    let best = vote(5, 0, 0);
    let mut last = Vec::new();
    for from in 2..=5 {
        last = recv(
            &mut fle,
            10,
            from,
            sealed(notification(from, best, 1, None), from, 1, Mode::Plain),
        );
    }
    let outcome = decided(&last).expect("decided at once");
    assert_eq!((outcome.state, outcome.backing.len()), (FOLLOWING, 5));
}

/// `me` (a plain server) gets, at 10 ms, an ack of its outstanding exchange from each of
/// `ackers` in order, with their states and the `established` vote of round 3; returns the
/// actions of the last.
fn ack_from_established(
    fle: &mut AuthFastLeaderElection,
    me: u64,
    ackers: &[(u64, ServerState)],
    established: Vote,
) -> Vec<Action<AuthMessage>> {
    let mut last = Vec::new();
    for &(from, state) in ackers {
        let tag = fle.outstanding_tag(Sid(from)).unwrap();
        let ack = Body::Ack {
            tag,
            state,
            vote: established,
            election_epoch: ElectionEpoch(3),
            challenge: None,
        };
        last = recv(fle, 10, from, sealed(ack, from, me, Mode::Plain));
    }
    last
}

#[test]
fn acks_of_an_established_ensemble_are_joined_only_with_the_leader_confirming() {
    let established = vote(4, 9, 2);
    // (ackers in order with their states, decided after the last)
    let table: [(&[(u64, ServerState)], bool); 3] = [
        (&[(2, FOLLOWING), (3, FOLLOWING)], false),
        (&[(2, FOLLOWING), (3, FOLLOWING), (4, LEADING)], true),
        (&[(4, LEADING), (2, FOLLOWING)], false),
    ];
    for (ackers, decides) in table {
        let (mut fle, _) = started(1, 0, 0, Mode::Plain);
        let last = ack_from_established(&mut fle, 1, ackers, established);
        let outcome = decided(&last);
        assert_eq!(outcome.is_some(), decides, "{ackers:?}");
        if let Some(outcome) = outcome {
            assert_eq!(
                (outcome.state, outcome.vote, outcome.backing.len()),
                (FOLLOWING, established, 3)
            );
        }
    }
}

#[test]
fn a_decided_server_acks_with_its_decided_vote() {
    let (mut fle, _) = started(1, 0, 0, Mode::Plain);
    for from in 2..=5 {
        drop(recv(
            &mut fle,
            10,
            from,
            sealed(
                notification(from, vote(5, 0, 0), 1, None),
                from,
                1,
                Mode::Plain,
            ),
        ));
    }
    assert_eq!(fle.state(), FOLLOWING);
    // The exchanges under way finish, then no timer is left: a decided server never re-sends.
    for _ in 0..10 {
        let Some(at) = fle.deadline() else { break };
        drop(tick(&mut fle, at.0));
    }
    assert_eq!(fle.deadline(), None);
    let out = recv(
        &mut fle,
        20,
        3,
        sealed(notification(50, vote(3, 0, 0), 2, None), 3, 1, Mode::Plain),
    );
    assert_eq!(
        sent_to(&out, 3),
        vec![Body::Ack {
            tag: Tag(50),
            state: FOLLOWING,
            vote: vote(5, 0, 0),
            election_epoch: ElectionEpoch(1),
            challenge: None
        }]
    );
}

fn cluster(size: u64, mode: Mode) -> (LocalNet<AuthFastLeaderElection>, Vec<Sid>) {
    let sids: Vec<Sid> = (1..=size).map(Sid).collect();
    let quorum = QuorumVerifier::majority(sids.clone()).unwrap();
    let machines = sids
        .iter()
        .map(|&sid| {
            let mut config = AuthFleConfig::new(sid, quorum.clone(), 500 + sid.0);
            if mode == Mode::Keyed {
                config = config.with_key(key());
            }
            (sid, AuthFastLeaderElection::new(config))
        })
        .collect();
    (LocalNet::new(machines, sids.clone(), 5), sids)
}

#[test]
fn keyed_ensembles_elect_the_greatest_vote_and_a_restarted_server_rejoins() {
    for mode in [Mode::Plain, Mode::Challenge, Mode::Keyed] {
        let (mut net, sids) = cluster(5, mode);
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
        assert!(
            net.run_until(Millis(60_000), |net| sids
                .iter()
                .all(|&s| net.outcome(s).is_some())),
            "{mode:?}"
        );
        for &sid in &sids {
            assert_eq!(
                net.outcome(sid).unwrap().vote,
                vote(2, 0x2_0000_0001, 2),
                "{mode:?}, server {sid}"
            );
        }
        net.crash(Sid(4));
        net.run_to(net.now() + 1000);
        net.start(Sid(4), Zxid(0x2_0000_0001), Epoch(1));
        assert!(
            net.run_until(net.now() + 10_000, |net| net.outcome(Sid(4)).is_some()),
            "{mode:?}"
        );
        assert_eq!(net.outcome(Sid(4)).unwrap().vote.leader, Sid(2), "{mode:?}");
    }
}

#[test]
fn an_observer_learns_from_acks_and_is_never_counted() {
    let (mut observer, out) = started(9, 0, 0, Mode::Plain);
    assert_eq!(observer.proposal(), None, "an observer proposes nobody");
    assert_eq!(
        sent_to(&out, 1).len(),
        1,
        "it notifies the voters to hear their votes"
    );
    let established = vote(4, 9, 2);
    let last = ack_from_established(
        &mut observer,
        9,
        &[(2, FOLLOWING), (3, FOLLOWING), (4, LEADING)],
        established,
    );
    assert_eq!(
        decided(&last).map(|o| (o.state, o.vote)),
        Some((ServerState::Observing, established))
    );
    // A voter acks an observer's notification but does not count it.
    let (mut voter, _) = started(1, 5, 1, Mode::Plain);
    let out = recv(
        &mut voter,
        10,
        9,
        sealed(notification(3, vote(9, 99, 9), 1, None), 9, 1, Mode::Plain),
    );
    assert!(matches!(
        sent_to(&out, 9).as_slice(),
        [Body::Ack { state: LOOKING, .. }]
    ));
    assert_eq!(voter.proposal(), Some(vote(1, 5, 1)));
}

#[test]
fn messages_before_start_are_dropped() {
    let mut fle = AuthFastLeaderElection::new(config(1, Mode::Challenge));
    let out = recv(
        &mut fle,
        0,
        2,
        sealed(
            Body::ChallengeRequest { tag: Tag(1) },
            2,
            1,
            Mode::Challenge,
        ),
    );
    assert!(out.is_empty());
    assert_eq!(fle.deadline(), None);
}
