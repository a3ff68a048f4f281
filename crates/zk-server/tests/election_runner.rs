//! `ElectionRunner` over loopback for the three algorithms: an ensemble elects the server with
//! the best (epoch, zxid, sid), the survivors of a lost leader elect a new one, and a restarted
//! server learns the established leader alone. AuthFastLeaderElection with a secret keeps its
//! outcome under forged and replayed datagrams and counts the forged ones as rejected.
//!
//! Timeouts are guards against hangs, never assertions about speed.

mod forgery;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use forgery::{forgeries, SplitMix};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;
use zk_elect::{Outcome, QuorumVerifier, ServerState, Vote};
use zk_proto::{Epoch, Sid, Zxid};
use zk_server::election::runner::ElectionRunner;
use zk_server::ensemble::{ElectionAlg, Ensemble, Member};

const GUARD: Duration = Duration::from_secs(90);
const SECRET: &[u8] = b"a secret the honest servers share";

/// A port free for both TCP and UDP now, below the ephemeral range (where the sockets of other
/// tests, bound to port 0, could take it between this check and the runner's bind); each call
/// moves on from the last, from a start that differs between test processes.
fn free_port() -> u16 {
    use std::sync::atomic::AtomicU16;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let _ = NEXT.compare_exchange(
        0,
        12_000 + (std::process::id() % 20) as u16 * 100,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    loop {
        let port = NEXT.fetch_add(1, Ordering::Relaxed);
        assert!(port < 15_000, "no free port left below 15000");
        let tcp = std::net::TcpListener::bind(("127.0.0.1", port));
        let udp = std::net::UdpSocket::bind(("127.0.0.1", port));
        if tcp.is_ok() && udp.is_ok() {
            return port;
        }
    }
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// `count` members on 127.0.0.1 with free ports; the sids in `observers` observe.
fn members(count: u64, observers: &[u64]) -> BTreeMap<Sid, Member> {
    (1..=count)
        .map(|sid| {
            let member = Member {
                sid: Sid(sid),
                quorum_addr: local(free_port()),
                election_addr: local(free_port()),
                observer: observers.contains(&sid),
                client_addr: None,
            };
            (Sid(sid), member)
        })
        .collect()
}

fn ensemble(
    members: &BTreeMap<Sid, Member>,
    me: Sid,
    alg: ElectionAlg,
    secret: Option<&[u8]>,
) -> Ensemble {
    let participants = members.values().filter(|m| !m.observer).map(|m| m.sid);
    Ensemble {
        my_sid: me,
        members: members.clone(),
        quorum: QuorumVerifier::majority(participants).unwrap(),
        election_alg: alg,
        auth_secret: secret.map(<[u8]>::to_vec),
        tick_time_ms: 100,
        init_limit_ticks: 10,
        sync_limit_ticks: 5,
    }
}

/// Every runner in `runners` elects at once; returns them with their outcomes.
async fn elect_all(
    runners: Vec<ElectionRunner>,
    votes: &BTreeMap<Sid, (Zxid, Epoch)>,
) -> Vec<(ElectionRunner, Outcome)> {
    let tasks: Vec<JoinHandle<(ElectionRunner, Outcome)>> = runners
        .into_iter()
        .map(|mut runner| {
            let (zxid, epoch) = votes[&runner.sid()];
            tokio::spawn(async move {
                let outcome = runner.elect(zxid, epoch).await;
                (runner, outcome)
            })
        })
        .collect();
    let mut done = Vec::new();
    for task in tasks {
        let finished = tokio::time::timeout(GUARD, task)
            .await
            .expect("an election decides within the guard")
            .expect("the election task does not panic");
        done.push(finished);
    }
    done
}

/// The vote the honest participants in `alive` must elect.
fn best_vote(
    members: &BTreeMap<Sid, Member>,
    alive: &[Sid],
    votes: &BTreeMap<Sid, (Zxid, Epoch)>,
) -> Vote {
    alive
        .iter()
        .filter(|sid| !members[sid].observer)
        .map(|&sid| Vote::new(sid, votes[&sid].0, votes[&sid].1))
        .max()
        .expect("a participant")
}

/// Everyone agrees on `leader`, in the right role.
fn check_agreement(
    members: &BTreeMap<Sid, Member>,
    outcomes: &[(ElectionRunner, Outcome)],
    leader: Sid,
    what: &str,
) {
    for (runner, outcome) in outcomes {
        let sid = runner.sid();
        let expected = if members[&sid].observer {
            ServerState::Observing
        } else if sid == leader {
            ServerState::Leading
        } else {
            ServerState::Following
        };
        assert_eq!(outcome.vote.leader, leader, "{what}: server {sid}'s leader");
        assert_eq!(outcome.state, expected, "{what}: server {sid}'s state");
    }
}

/// Elect, lose the leader and re-elect, then restart the lost leader alone.
async fn lose_and_regain_the_leader(
    alg: ElectionAlg,
    zxids: &[u64],
    observers: &[u64],
    secret: Option<&[u8]>,
) {
    let count = zxids.len() as u64;
    let members = members(count, observers);
    let votes: BTreeMap<Sid, (Zxid, Epoch)> = (1..=count)
        .map(|sid| (Sid(sid), (Zxid(zxids[sid as usize - 1]), Epoch(1))))
        .collect();
    let mut runners = Vec::new();
    for &sid in members.keys() {
        runners.push(
            ElectionRunner::start(&ensemble(&members, sid, alg, secret))
                .await
                .expect("the election port binds"),
        );
    }
    let all: Vec<Sid> = members.keys().copied().collect();
    let first = best_vote(&members, &all, &votes);
    let outcomes = elect_all(runners, &votes).await;
    check_agreement(&members, &outcomes, first.leader, "first election");
    for (_, outcome) in &outcomes {
        assert_eq!(outcome.vote, first, "the elected vote");
    }
    assert!(outcomes.iter().all(|(r, _)| r.messages_sent() > 0));

    // The leader goes away: the others elect among themselves.
    let survivors: Vec<ElectionRunner> = outcomes
        .into_iter()
        .map(|(runner, _)| runner)
        .filter(|runner| runner.sid() != first.leader)
        .collect();
    let alive: Vec<Sid> = survivors.iter().map(ElectionRunner::sid).collect();
    let second = best_vote(&members, &alive, &votes);
    let outcomes = elect_all(survivors, &votes).await;
    check_agreement(&members, &outcomes, second.leader, "re-election");

    // The old leader comes back and finds the established leader on its own.
    let mut returning = ElectionRunner::start(&ensemble(&members, first.leader, alg, secret))
        .await
        .expect("the old leader's port binds again");
    let (zxid, epoch) = votes[&first.leader];
    let outcome = tokio::time::timeout(GUARD, returning.elect(zxid, epoch))
        .await
        .expect("the returning server decides within the guard");
    assert_eq!(
        outcome.vote.leader, second.leader,
        "the returning server's leader"
    );
    assert_eq!(outcome.state, ServerState::Following);
    drop(outcomes);
}

#[tokio::test]
async fn fast_leader_election_three_servers() {
    lose_and_regain_the_leader(ElectionAlg::FastLeaderElection, &[5, 9, 7], &[], None).await;
}

#[tokio::test]
async fn fast_leader_election_five_servers_with_an_observer() {
    lose_and_regain_the_leader(
        ElectionAlg::FastLeaderElection,
        &[5, 9, 7, 9, 3],
        &[5],
        None,
    )
    .await;
}

#[tokio::test]
async fn leader_election_three_servers() {
    lose_and_regain_the_leader(ElectionAlg::LeaderElection, &[5, 9, 7], &[], None).await;
}

#[tokio::test]
async fn leader_election_five_servers_with_an_observer() {
    lose_and_regain_the_leader(ElectionAlg::LeaderElection, &[5, 9, 7, 9, 3], &[5], None).await;
}

#[tokio::test]
async fn auth_fast_leader_election_three_servers_with_a_secret() {
    lose_and_regain_the_leader(
        ElectionAlg::AuthFastLeaderElection,
        &[5, 9, 7],
        &[],
        Some(SECRET),
    )
    .await;
}

#[tokio::test]
async fn auth_fast_leader_election_five_servers_with_an_observer() {
    lose_and_regain_the_leader(
        ElectionAlg::AuthFastLeaderElection,
        &[5, 9, 7, 9, 3],
        &[5],
        None,
    )
    .await;
}

#[tokio::test]
async fn auth_fle_with_a_secret_ignores_forged_and_replayed_datagrams() {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(7, |d| d.as_nanos() as u64);
    println!("forgery seed: {seed}");
    let mut rng = SplitMix(seed);
    let alg = ElectionAlg::AuthFastLeaderElection;
    let members = members(3, &[]);
    // Servers 1 and 2 reach server 3 through a recording relay, so the test holds genuine
    // datagrams of the first round to replay in the second.
    let relay = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let mut relayed = members.clone();
    relayed.get_mut(&Sid(3)).unwrap().election_addr = relay.local_addr().unwrap();
    let captured: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let capturing = Arc::new(AtomicBool::new(true));
    let relay_task = {
        let relay = relay.clone();
        let captured = captured.clone();
        let capturing = capturing.clone();
        let target = members[&Sid(3)].election_addr;
        tokio::spawn(async move {
            let mut buffer = vec![0u8; 2048];
            while let Ok((len, _)) = relay.recv_from(&mut buffer).await {
                if capturing.load(Ordering::Relaxed) {
                    captured.lock().unwrap().push(buffer[..len].to_vec());
                }
                let _ = relay.send_to(&buffer[..len], target).await;
            }
        })
    };
    let mut runners = Vec::new();
    for sid in [Sid(1), Sid(2)] {
        runners.push(
            ElectionRunner::start(&ensemble(&relayed, sid, alg, Some(SECRET)))
                .await
                .unwrap(),
        );
    }
    runners.push(
        ElectionRunner::start(&ensemble(&members, Sid(3), alg, Some(SECRET)))
            .await
            .unwrap(),
    );

    // Round one: server 3 has the most history and leads.
    let round_one: BTreeMap<Sid, (Zxid, Epoch)> = [(1, 10), (2, 20), (3, 100)]
        .into_iter()
        .map(|(sid, zxid)| (Sid(sid), (Zxid(zxid), Epoch(1))))
        .collect();
    let outcomes = elect_all(runners, &round_one).await;
    check_agreement(&members, &outcomes, Sid(3), "round one");
    capturing.store(false, Ordering::Relaxed);
    let replays = captured.lock().unwrap().clone();
    assert!(!replays.is_empty(), "the relay captured round one");
    let runners: Vec<ElectionRunner> = outcomes.into_iter().map(|(r, _)| r).collect();
    let rejected_before: Vec<u64> = runners
        .iter()
        .map(ElectionRunner::messages_rejected)
        .collect();
    assert_eq!(
        rejected_before,
        vec![0, 0, 0],
        "honest traffic is never rejected"
    );

    // Round two (same epoch, so round one's votes for 3 would still win if accepted): server 1
    // has the most history now. Forgeries and replays arrive while the servers elect.
    let attacker = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut plan: Vec<(SocketAddr, Vec<u8>, bool)> = Vec::new(); // (to, bytes, must be rejected)
    for _ in 0..10 {
        for target in members.values() {
            for from in members.keys().filter(|&&sid| sid != target.sid) {
                for forged in forgeries(*from, &mut rng) {
                    plan.push((target.election_addr, forged, true));
                }
            }
        }
        for replay in &replays {
            for target in members.values() {
                // Every captured datagram was addressed to 3: to 3 its MAC is valid (the
                // machine refuses it as stale), to anyone else it is not (or names them).
                plan.push((target.election_addr, replay.clone(), target.sid != Sid(3)));
            }
        }
    }
    let mut expected_rejected: BTreeMap<SocketAddr, u64> = BTreeMap::new();
    for (to, _, rejected) in &plan {
        *expected_rejected.entry(*to).or_default() += u64::from(*rejected);
    }
    let attack = tokio::spawn(async move {
        for (to, bytes, _) in plan {
            attacker.send_to(&bytes, to).await.unwrap();
            // Paced, so that nothing is lost to a full socket buffer.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
    let round_two: BTreeMap<Sid, (Zxid, Epoch)> = [(1, 50), (2, 40), (3, 30)]
        .into_iter()
        .map(|(sid, zxid)| (Sid(sid), (Zxid(zxid), Epoch(1))))
        .collect();
    let outcomes = elect_all(runners, &round_two).await;
    tokio::time::timeout(GUARD, attack)
        .await
        .expect("the attack ends")
        .unwrap();
    check_agreement(&members, &outcomes, Sid(1), "round two under attack");
    for (_, outcome) in &outcomes {
        assert_eq!(outcome.vote, Vote::new(Sid(1), Zxid(50), Epoch(1)));
    }
    // Every forged or misdirected datagram was counted; give the last ones time to arrive.
    let deadline = tokio::time::Instant::now() + GUARD;
    loop {
        let counted: Vec<(u64, u64)> = outcomes
            .iter()
            .map(|(runner, _)| {
                let address = members[&runner.sid()].election_addr;
                (runner.messages_rejected(), expected_rejected[&address])
            })
            .collect();
        if counted.iter().all(|(got, want)| got == want) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "rejected (counted, expected) per server: {counted:?} (seed {seed})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    relay_task.abort();
}
