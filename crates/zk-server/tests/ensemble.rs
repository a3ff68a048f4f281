//! Multi-process ensemble tests: real `zk-server` processes with `server.N` lines on 127.0.0.1,
//! killed with SIGKILL, frozen with SIGSTOP and restarted.
//!
//! - the leader killed under a write load: writes through the survivors go on (retried while no
//!   leader serves), the killed server rejoins as a follower, and every acknowledged write is
//!   readable with its acknowledged value from every server (after `sync`); for every election
//!   algorithm with 3 and 5 servers;
//! - a follower that missed a few transactions catches up by DIFF, one that missed more than the
//!   leader's committed log by SNAP, and an old leader holding a proposal nobody else logged is
//!   truncated (TRUNC) and the proposal is gone everywhere; the leader's `mntr` counters say which
//!   sync it performed;
//! - a server cut off from the quorum (two of three servers frozen) takes no write and stops
//!   serving; once the others thaw every acknowledged write is there.
//!
//! Random choices print their seed; `ZK_ENSEMBLE_SEED=<n>` replays them. Every wait is generous
//! and nothing asserts a duration. `ZK_ENSEMBLE_LOG` sets the servers' RUST_LOG (default info);
//! a failed test prints the tail of every server's log and keeps the directories.

mod ensemble_support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ensemble_support::{
    call_when_serving, mntr_count, seed, srvr, write_until_done, CallError, Ensemble, Mode,
    Session, Spec, ELECTION_WAIT,
};
use zk_proto::{Acl, CreateMode, CreateRequest, Request};
use zk_storage::rng::SplitMix64;

/// Waits until `check` holds, failing with `what` after [`ELECTION_WAIT`].
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + ELECTION_WAIT;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out ({ELECTION_WAIT:?}) waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A session on `sid` that has synced with the leader (retried while the server is not
/// serving yet).
fn synced_session(ensemble: &Ensemble, sid: u64, path: &str) -> Session {
    let what = format!("server {sid}: a synced session");
    call_when_serving(ensemble.addr(sid), ELECTION_WAIT, &what, |mut session| {
        session.sync(path)?;
        Ok(session)
    })
}

/// Checks that `sid` holds `expected` (path -> data) after a `sync`.
fn assert_holds(
    ensemble: &Ensemble,
    sid: u64,
    sync_path: &str,
    expected: &BTreeMap<String, Vec<u8>>,
) {
    let mut session = synced_session(ensemble, sid, sync_path);
    for (path, data) in expected {
        let got = session
            .get(path)
            .unwrap_or_else(|error| panic!("server {sid}: get {path}: {error:?}"));
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(data),
            "server {sid}: {path} does not hold its acknowledged value"
        );
    }
}

fn non_leaders(ensemble: &Ensemble, leader: u64) -> Vec<u64> {
    ensemble
        .sids()
        .into_iter()
        .filter(|&sid| sid != leader)
        .collect()
}

// ---- the leader killed under a write load --------------------------------------------------------

const LOAD_KEYS: u64 = 8;

/// What the writer has been told: the acknowledged value of each `/load/k<i>` and the number
/// of acknowledged setData calls.
struct LoadProgress {
    acked: Mutex<Vec<u64>>,
    writes: AtomicU64,
    /// Attempts that failed and were retried (lost connections, refused sessions).
    retries: AtomicU64,
    stop: AtomicBool,
}

/// Writes `setData /load/k<random> <n>` for n = 1, 2, ... through `servers`, each retried until
/// acknowledged, until told to stop.
fn writer(servers: Vec<SocketAddr>, progress: Arc<LoadProgress>, seed: u64) {
    let mut rng = SplitMix64::new(seed);
    let mut session = None;
    write_until_done(&mut session, &servers, "create /load", |s| {
        s.create("/load", b"")
    });
    for key in 0..LOAD_KEYS {
        write_until_done(&mut session, &servers, "create /load/k", |s| {
            s.create(&format!("/load/k{key}"), b"0")
        });
    }
    let mut n = 0;
    while !progress.stop.load(Ordering::SeqCst) {
        n += 1;
        let key = rng.below(LOAD_KEYS);
        let path = format!("/load/k{key}");
        let value = n.to_string();
        let retries = write_until_done(&mut session, &servers, &format!("set {path}"), |s| {
            s.set(&path, value.as_bytes())
        });
        progress
            .retries
            .fetch_add(u64::from(retries), Ordering::SeqCst);
        progress.acked.lock().unwrap_or_else(|e| e.into_inner())[key as usize] = n;
        progress.writes.fetch_add(1, Ordering::SeqCst);
    }
}

/// kill -9 of the leader while a writer writes through the other servers; the survivors elect
/// a leader and take the writes; the killed server restarts and rejoins as a follower; every
/// acknowledged value is then on every server.
fn kill_leader_under_load(name: &str, spec: &Spec, writes: u64) {
    let seed = seed(name);
    let mut rng = SplitMix64::new(seed);
    let mut ensemble = Ensemble::start(name, spec);
    let all = ensemble.sids();
    let leader = ensemble.wait_leader(&all);
    let mut survivors = non_leaders(&ensemble, leader);
    let first = rng.below(survivors.len() as u64) as usize;
    survivors.rotate_left(first);
    let servers: Vec<SocketAddr> = survivors.iter().map(|&sid| ensemble.addr(sid)).collect();

    let progress = Arc::new(LoadProgress {
        acked: Mutex::new(vec![0; LOAD_KEYS as usize]),
        writes: AtomicU64::new(0),
        retries: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    });
    let writer_progress = progress.clone();
    let writer_seed = rng.next_u64();
    let handle = std::thread::spawn(move || writer(servers, writer_progress, writer_seed));
    let wait_writes = |count: u64, when: &str| {
        eventually(&format!("{count} acknowledged writes ({when})"), || {
            assert!(!handle.is_finished(), "the writer stopped early");
            progress.writes.load(Ordering::SeqCst) >= count
        });
    };

    wait_writes(writes / 3, "before the kill");
    println!("{name}: kill -9 of the leader, server {leader}");
    ensemble.kill(leader);
    let new_leader = ensemble.wait_leader(&survivors);
    println!("{name}: new leader {new_leader}");
    wait_writes(2 * writes / 3, "after the kill");
    ensemble.restart(leader);
    ensemble.wait_mode(leader, Mode::Follower);
    println!("{name}: server {leader} rejoined as a follower");
    wait_writes(writes, "after the restart");
    progress.stop.store(true, Ordering::SeqCst);
    if let Err(panic) = handle.join() {
        std::panic::resume_unwind(panic);
    }

    let acked = progress
        .acked
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let expected: BTreeMap<String, Vec<u8>> = acked
        .iter()
        .enumerate()
        .map(|(key, value)| (format!("/load/k{key}"), value.to_string().into_bytes()))
        .collect();
    ensemble.wait_leader(&all);
    for sid in all {
        assert_holds(&ensemble, sid, "/load", &expected);
    }
    println!(
        "{name}: {} acknowledged writes on every server ({} attempts retried)",
        progress.writes.load(Ordering::SeqCst),
        progress.retries.load(Ordering::SeqCst)
    );
}

#[test]
fn leader_killed_under_load_rejoins_and_every_acknowledged_write_is_everywhere() {
    kill_leader_under_load("kill-leader-fle-3", &Spec::new(3), 90);
}

fn spec(size: usize, election_alg: u8) -> Spec {
    Spec {
        election_alg,
        ..Spec::new(size)
    }
}

#[test]
fn leader_killed_with_leader_election_3() {
    kill_leader_under_load("kill-leader-le-3", &spec(3, 1), 30);
}

#[test]
fn leader_killed_with_leader_election_5() {
    kill_leader_under_load("kill-leader-le-5", &spec(5, 1), 30);
}

#[test]
fn leader_killed_with_auth_fast_leader_election_3() {
    kill_leader_under_load("kill-leader-auth-fle-3", &spec(3, 2), 30);
}

#[test]
fn leader_killed_with_auth_fast_leader_election_5() {
    kill_leader_under_load("kill-leader-auth-fle-5", &spec(5, 2), 30);
}

#[test]
fn leader_killed_with_fast_leader_election_5() {
    kill_leader_under_load("kill-leader-fle-5", &spec(5, 3), 30);
}

// ---- learner sync: DIFF, SNAP, TRUNC ---------------------------------------------------------------

/// Stops a follower, writes `count` creates through the leader, restarts the follower and
/// checks it caught up and that the leader's `counter` grew.
fn follower_catches_up(name: &str, spec: &Spec, count: u64, counter: &str) {
    let seed = seed(name);
    let mut rng = SplitMix64::new(seed);
    let mut ensemble = Ensemble::start(name, spec);
    let all = ensemble.sids();
    let leader = ensemble.wait_leader(&all);
    let followers = non_leaders(&ensemble, leader);
    let follower = followers[rng.below(followers.len() as u64) as usize];
    let root = format!("/{name}");
    let mut session = Session::connect(ensemble.addr(leader)).expect("session on the leader");
    session.create(&root, b"").expect("create the root");

    println!("{name}: kill -9 of follower {follower}");
    ensemble.kill(follower);
    let mut expected = BTreeMap::new();
    for i in 0..count {
        let path = format!("{root}/n{i}");
        let data = format!("value {i}").into_bytes();
        session
            .create(&path, &data)
            .unwrap_or_else(|error| panic!("{name}: create {path}: {error:?}"));
        expected.insert(path, data);
    }
    let before = mntr_count(ensemble.port(leader), counter);
    ensemble.restart(follower);
    ensemble.wait_mode(follower, Mode::Follower);
    assert_eq!(
        ensemble.wait_leader(&all),
        leader,
        "{name}: the leader changed although it stayed up"
    );
    eventually(
        &format!("{counter} on leader {leader} to grow past {before}"),
        || mntr_count(ensemble.port(leader), counter) > before,
    );
    assert_holds(&ensemble, follower, &root, &expected);
}

#[test]
fn a_follower_behind_by_a_few_transactions_catches_up_by_diff() {
    follower_catches_up("diff", &Spec::new(3), 20, "zk_diff_count");
}

#[test]
fn a_follower_behind_the_committed_log_catches_up_by_snapshot() {
    let spec = Spec {
        snap_count: Some(100),
        ..Spec::new(3)
    };
    follower_catches_up("snap", &spec, 650, "zk_snap_count");
}

#[test]
fn an_old_leader_with_an_uncommitted_proposal_is_truncated() {
    let name = "trunc";
    let mut ensemble = Ensemble::start(name, &Spec::new(3));
    let all = ensemble.sids();
    let old_leader = ensemble.wait_leader(&all);
    let followers = non_leaders(&ensemble, old_leader);
    let mut session = Session::connect(ensemble.addr(old_leader)).expect("session on the leader");
    session.create("/trunc", b"").expect("create /trunc");

    // The followers freeze; the leader logs a proposal no one else will ever see: it reaches
    // the frozen followers' socket buffers at most, and they are killed before they read them
    // (resuming them instead would let them read and log it, and the proposal would survive,
    // as in ZooKeeper).
    for &sid in &followers {
        ensemble.pause(sid);
    }
    let ghost = Request::Create(CreateRequest {
        path: "/trunc/ghost".into(),
        data: Some(b"never acknowledged".to_vec()),
        acl: Acl::open_unsafe(),
        flags: CreateMode::Persistent.flags(),
    });
    let logged = mntr_count(ensemble.port(old_leader), "zk_last_logged_zxid");
    session.send(&ghost).expect("send the ghost write");
    // The leader logs the proposal (and waits for acknowledgements that cannot come).
    eventually(
        &format!("leader {old_leader} to log the ghost proposal past zxid {logged:#x}"),
        || mntr_count(ensemble.port(old_leader), "zk_last_logged_zxid") > logged,
    );
    println!("{name}: kill -9 of the leader, server {old_leader}, and of the frozen followers");
    ensemble.kill(old_leader);
    drop(session);
    for &sid in &followers {
        ensemble.kill(sid);
    }
    for &sid in &followers {
        ensemble.restart(sid);
    }
    let new_leader = ensemble.wait_leader(&followers);
    println!("{name}: new leader {new_leader}");

    let mut expected = BTreeMap::new();
    let mut session = None;
    let servers: Vec<SocketAddr> = followers.iter().map(|&sid| ensemble.addr(sid)).collect();
    for i in 0..5 {
        let path = format!("/trunc/after{i}");
        write_until_done(&mut session, &servers, &path, |s| s.create(&path, b"after"));
        expected.insert(path, b"after".to_vec());
    }
    let before = mntr_count(ensemble.port(new_leader), "zk_trunc_count");
    ensemble.restart(old_leader);
    ensemble.wait_mode(old_leader, Mode::Follower);
    eventually(
        &format!("zk_trunc_count on leader {new_leader} to grow past {before}"),
        || mntr_count(ensemble.port(new_leader), "zk_trunc_count") > before,
    );
    ensemble.wait_leader(&all);
    for sid in all {
        assert_holds(&ensemble, sid, "/trunc", &expected);
        let mut session = synced_session(&ensemble, sid, "/trunc");
        assert_eq!(
            session.exists("/trunc/ghost"),
            Ok(false),
            "server {sid} holds the write that was never acknowledged"
        );
    }
}

// ---- a minority serves nothing -----------------------------------------------------------------

#[test]
fn a_server_cut_off_from_the_quorum_takes_no_writes_and_recovers() {
    let name = "minority";
    let seed = seed(name);
    let mut rng = SplitMix64::new(seed);
    let mut ensemble = Ensemble::start(name, &Spec::new(3));
    let all = ensemble.sids();
    let leader = ensemble.wait_leader(&all);
    // The one left running: the leader or a follower, by the seed.
    let alone = all[rng.below(all.len() as u64) as usize];
    let frozen: Vec<u64> = all.iter().copied().filter(|&sid| sid != alone).collect();
    println!("{name}: leader {leader}; freezing {frozen:?}, server {alone} stays");

    let mut session = Session::connect(ensemble.addr(alone)).expect("session");
    session.create("/minority", b"").expect("create /minority");
    let mut expected = BTreeMap::new();
    for i in 0..5 {
        let path = format!("/minority/before{i}");
        session
            .create(&path, b"before")
            .expect("write before the freeze");
        expected.insert(path, b"before".to_vec());
    }

    for &sid in &frozen {
        ensemble.pause(sid);
    }
    let attempt = session.create("/minority/cut-off", b"x");
    assert!(
        matches!(attempt, Err(CallError::Lost(_)) | Err(CallError::Code(_))),
        "server {alone} acknowledged a write without a quorum: {attempt:?}"
    );
    drop(session);
    eventually(&format!("server {alone} to stop serving"), || {
        !srvr(ensemble.port(alone)).0.serving()
    });
    if let Ok(mut late) = Session::connect(ensemble.addr(alone)) {
        let attempt = late.create("/minority/cut-off-2", b"x");
        assert!(
            attempt.is_err(),
            "server {alone} acknowledged a write while not serving"
        );
    }

    for &sid in &frozen {
        ensemble.resume(sid);
    }
    ensemble.wait_leader(&all);
    let mut session = None;
    let servers: Vec<SocketAddr> = all.iter().map(|&sid| ensemble.addr(sid)).collect();
    write_until_done(&mut session, &servers, "write after the thaw", |s| {
        s.create("/minority/after", b"after")
    });
    expected.insert("/minority/after".to_owned(), b"after".to_vec());
    for sid in all {
        assert_holds(&ensemble, sid, "/minority", &expected);
    }
}
