//! Ensemble scenarios from ZooKeeper's bug history, with real `zk-server` processes: ephemerals
//! of sessions that ended while a follower was down must not survive its DIFF.

mod ensemble_support;

use std::time::{Duration, Instant};

use ensemble_support::{CallError, Ensemble, Mode, Session, Spec};
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
    let deadline = Instant::now() + WAIT;
    loop {
        let attempt = Session::connect(ensemble.addr(sid)).and_then(|mut session| {
            session.sync("/")?;
            session.exists(path)
        });
        match attempt {
            Ok(found) => return found,
            Err(error) => {
                assert!(
                    Instant::now() < deadline,
                    "server {sid}: no answer within {WAIT:?}: {error:?}"
                );
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
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
