//! Ensemble scenarios with real `zk-server` processes: ephemerals of sessions that ended while a
//! follower was down must not survive its DIFF (a ZooKeeper bug class), and an
//! AuthFastLeaderElection ensemble with a secret elects the honest leader while a host without
//! the secret floods its election ports with forged votes.

mod ensemble_support;
mod forgery;

use std::time::{Duration, Instant};

use ensemble_support::{call_when_serving, CallError, Ensemble, Mode, Session, Spec};
use forgery::{forgeries, SplitMix};
use zk_proto::{Acl, CreateMode, CreateRequest, Request};

const WAIT: Duration = Duration::from_secs(60);

fn create_ephemeral(session: &mut Session, path: &str) {
    session
        .call(Request::Create(CreateRequest {
            path: path.to_owned(),
            data: Some(b"e".to_vec()),
            acl: Acl::open_unsafe(),
            flags: CreateMode::Ephemeral.flags(),
        }))
        .unwrap_or_else(|error| panic!("create {path}: {error:?}"));
}

/// `exists` on `sid` after a `sync`, retried while the server is not serving yet.
fn exists_on(ensemble: &Ensemble, sid: u64, path: &str) -> bool {
    let what = format!("server {sid}: exists {path}");
    call_when_serving(ensemble.addr(sid), WAIT, &what, |mut session| {
        session.sync("/")?;
        session.exists(path)
    })
}

#[test]
fn ephemerals_of_sessions_that_ended_while_a_follower_was_down_are_gone_after_its_diff() {
    let mut ensemble = Ensemble::start("ephemerals-diff", &Spec::new(3));
    let all = ensemble.sids();
    let leader = ensemble.wait_leader(&all);
    let follower = *all.iter().find(|&&sid| sid != leader).expect("a follower");
    let other = *all
        .iter()
        .find(|&&sid| sid != leader && sid != follower)
        .expect("another follower");

    // Both sessions live on the follower that stays up; the one going down has seen them.
    let mut closed = Session::connect(ensemble.addr(other)).expect("session");
    create_ephemeral(&mut closed, "/closed-session-node");
    let mut expiring = Session::connect(ensemble.addr(other)).expect("session");
    create_ephemeral(&mut expiring, "/expired-session-node");
    assert!(exists_on(&ensemble, follower, "/closed-session-node"));
    assert!(exists_on(&ensemble, follower, "/expired-session-node"));

    ensemble.kill(follower);
    // One session closes, the other is abandoned and expires (timeout at most 20 ticks).
    match closed.call(Request::CloseSession) {
        Ok(_) | Err(CallError::Lost(_)) => {}
        Err(CallError::Code(code)) => panic!("closeSession failed: {code:?}"),
    }
    drop(expiring);
    let deadline = Instant::now() + WAIT;
    while exists_on(&ensemble, leader, "/expired-session-node") {
        assert!(
            Instant::now() < deadline,
            "the abandoned session never expired"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!exists_on(&ensemble, leader, "/closed-session-node"));

    let diffs_before = ensemble_support::mntr_count(ensemble.port(leader), "zk_diff_count");
    ensemble.restart(follower);
    ensemble.wait_mode(follower, Mode::Follower);
    assert!(
        ensemble_support::mntr_count(ensemble.port(leader), "zk_diff_count") > diffs_before,
        "the follower did not sync by DIFF"
    );
    for path in ["/closed-session-node", "/expired-session-node"] {
        assert!(
            !exists_on(&ensemble, follower, path),
            "{path} survived on server {follower} after its DIFF"
        );
    }
}

#[test]
fn an_auth_fle_ensemble_under_forged_datagrams_elects_the_honest_leader() {
    let seed = ensemble_support::seed("authfle-forged");
    let spec = Spec {
        election_alg: 2,
        ..Spec::new(3)
    };
    let mut ensemble = Ensemble::start("authfle-forged", &spec);
    let all = ensemble.sids();
    let leader = ensemble.wait_leader(&all);
    let mut session = Session::connect(ensemble.addr(leader)).expect("session");
    session
        .create("/before-the-forgeries", b"x")
        .expect("create");
    drop(session);
    let survivors: Vec<u64> = all.iter().copied().filter(|&s| s != leader).collect();
    for &sid in &survivors {
        assert!(exists_on(&ensemble, sid, "/before-the-forgeries"));
    }
    // Same epoch and zxid everywhere: the survivor with the larger sid must win.
    let honest = *survivors.iter().max().expect("survivors");
    let forger = *survivors.iter().min().expect("survivors");
    let targets: Vec<std::net::SocketAddr> = survivors
        .iter()
        .map(|&sid| {
            std::net::SocketAddr::from(([127, 0, 0, 1], ensemble.member(sid).election_port))
        })
        .collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sender = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
            let mut rng = SplitMix(seed);
            let mut sent = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for target in &targets {
                    for datagram in forgeries(zk_proto::Sid(forger), &mut rng) {
                        let _ = socket.send_to(&datagram, target);
                        sent += 1;
                    }
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            sent
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    ensemble.kill(leader);
    let elected = ensemble.wait_leader(&survivors);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = sender.join().expect("sender");
    println!("authfle-forged: {sent} forged datagrams sent; server {elected} leads");
    assert!(sent > 0);
    assert_eq!(
        elected, honest,
        "the forged votes for server {forger} (huge zxid) moved the election"
    );
    assert!(exists_on(&ensemble, forger, "/before-the-forgeries"));
}
