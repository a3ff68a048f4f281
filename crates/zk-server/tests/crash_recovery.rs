//! The acceptance test of durable storage: writers under several sessions, the `zk-server`
//! process killed with SIGKILL at seeded random moments for a bounded number of rounds, and after
//! every restart each acknowledged write is present with its last acknowledged value (or a later
//! requested one still in flight at the kill), and nothing never requested exists.
//!
//! `ZK_CRASH_SEED=<n>` replays a run; the seed is printed either way.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::Client;
use zk_proto::request::{GetChildrenRequest, GetDataRequest, SetDataRequest};
use zk_proto::{Acl, CreateMode, CreateRequest, Record, Request, RequestHeader, Response, Xid};
use zk_storage::rng::SplitMix64;

const ROUNDS: usize = 5;
const WRITERS: usize = 3;

/// A `zk-server` child process.
struct ServerProcess {
    child: Child,
    addr: SocketAddr,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn start_server(dir: &Path) -> ServerProcess {
    let cfg = dir.join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "tickTime=100\ndataDir={}\nclientPort=2181\nclientPortAddress=127.0.0.1\nsnapCount=40\nminSessionTimeout=200\nmaxSessionTimeout=60000\n",
            dir.join("data").display()
        ),
    )
    .expect("write zoo.cfg");
    let mut child = Command::new(env!("CARGO_BIN_EXE_zk-server"))
        .arg("--port")
        .arg("0")
        .arg(&cfg)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn zk-server");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let line = strip_ansi(&line);
            if !sent && line.contains("zk-server started") {
                if let Some(addr) = line
                    .split_whitespace()
                    .find_map(|word| word.strip_prefix("addr="))
                    .and_then(|addr| addr.parse::<SocketAddr>().ok())
                {
                    let _ = tx.send(addr);
                    sent = true;
                }
            }
        }
    });
    let addr = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(addr) => addr,
        Err(_) => {
            let _ = child.kill();
            let status = child.wait();
            panic!("zk-server did not report its address (exit: {status:?})");
        }
    };
    ServerProcess { child, addr }
}

/// What one writer asked for and what the server acknowledged.
#[derive(Clone, Copy, Debug, Default)]
struct Progress {
    /// The value of `/w<n>` last acknowledged (0 = the node was never acknowledged).
    value_acked: u64,
    /// The value of `/w<n>` last requested.
    value_sent: u64,
    /// The number of `/w<n>-c<i>` nodes acknowledged (created in order from 1).
    created_acked: u64,
    /// The number of `/w<n>-c<i>` nodes requested.
    created_sent: u64,
}

/// Sends one request; `None` once the connection is gone (the server was killed).
async fn call(client: &mut Client, xid: &mut i32, request: Request) -> Option<common::Reply> {
    *xid += 1;
    let op = request.op();
    let mut payload = Vec::new();
    RequestHeader::new(Xid(*xid), op).encode(&mut payload);
    request.encode(&mut payload);
    client.send_frame(&payload).await;
    client.reply_for(Xid(*xid), op).await
}

/// Writes until the connection drops: alternately a new value of `/w<n>` and a new child node.
async fn writer(mut client: Client, n: usize, mut progress: Progress, seed: u64) -> Progress {
    let mut rng = SplitMix64::new(seed);
    let mut xid = 0;
    loop {
        let reply = if progress.value_acked == 0 || rng.below(2) == 0 {
            progress.value_sent = progress.value_acked + 1;
            let data = format!("{}", progress.value_sent).into_bytes();
            let request = if progress.value_acked == 0 {
                Request::Create(CreateRequest {
                    path: format!("/w{n}"),
                    data: Some(data),
                    acl: Acl::open_unsafe(),
                    flags: CreateMode::Persistent.flags(),
                })
            } else {
                Request::SetData(SetDataRequest {
                    path: format!("/w{n}"),
                    data: Some(data),
                    version: -1,
                })
            };
            let Some(reply) = call(&mut client, &mut xid, request).await else {
                return progress;
            };
            assert!(reply.ok(), "writer {n}: {reply:?}");
            progress.value_acked = progress.value_sent;
            reply
        } else {
            progress.created_sent = progress.created_acked + 1;
            let request = Request::Create(CreateRequest {
                path: format!("/w{n}-c{}", progress.created_sent),
                data: Some(b"c".to_vec()),
                acl: Acl::open_unsafe(),
                flags: CreateMode::Persistent.flags(),
            });
            let Some(reply) = call(&mut client, &mut xid, request).await else {
                return progress;
            };
            assert!(reply.ok(), "writer {n}: {reply:?}");
            progress.created_acked = progress.created_sent;
            reply
        };
        drop(reply);
    }
}

/// Checks the restarted server against what the writers were told, and returns the progress
/// the writers go on from (what the server really has).
async fn verify(addr: SocketAddr, progress: &[Progress], seed: u64) -> Vec<Progress> {
    let mut client = Client::connect(addr).await;
    let mut xid = 0;
    let reply = call(
        &mut client,
        &mut xid,
        Request::GetChildren(GetChildrenRequest {
            path: "/".into(),
            watch: false,
        }),
    )
    .await
    .expect("getChildren reply");
    let Some(Response::GetChildren(children)) = reply.body else {
        panic!("seed {seed}: {reply:?}")
    };
    let children: BTreeSet<String> = children.children.into_iter().collect();
    let mut allowed: BTreeSet<String> = ["zookeeper".to_owned()].into();
    let mut resumed = Vec::new();
    for (n, p) in progress.iter().enumerate() {
        let mut now = *p;
        // /w<n>: its value is the last acknowledged one or the one in flight at the kill.
        if p.value_sent > 0 {
            allowed.insert(format!("w{n}"));
        }
        let reply = call(
            &mut client,
            &mut xid,
            Request::GetData(GetDataRequest {
                path: format!("/w{n}"),
                watch: false,
            }),
        )
        .await
        .expect("getData reply");
        let value = match reply.body {
            Some(Response::GetData(data)) => String::from_utf8(data.data.unwrap_or_default())
                .expect("utf-8")
                .parse::<u64>()
                .expect("a number"),
            _ => 0,
        };
        assert!(
            value >= p.value_acked && value <= p.value_sent,
            "seed {seed}: /w{n} is {value}, acknowledged {} requested {}",
            p.value_acked,
            p.value_sent
        );
        now.value_acked = value;
        now.value_sent = value;
        // /w<n>-c<i>: every acknowledged one exists, none beyond the last requested.
        let mut created = 0;
        for i in 1..=p.created_sent {
            let name = format!("w{n}-c{i}");
            allowed.insert(name.clone());
            if children.contains(&name) {
                created = i;
            } else {
                assert!(
                    i > p.created_acked,
                    "seed {seed}: acknowledged /{name} is missing"
                );
            }
        }
        now.created_acked = created;
        now.created_sent = created;
        resumed.push(now);
    }
    let unexpected: Vec<&String> = children.difference(&allowed).collect();
    assert!(
        unexpected.is_empty(),
        "seed {seed}: never requested: {unexpected:?}"
    );
    resumed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_no_acknowledged_write() {
    let seed: u64 = std::env::var("ZK_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x2b_5eed);
    eprintln!("crash_recovery seed {seed} (replay: ZK_CRASH_SEED={seed})");
    let mut rng = SplitMix64::new(seed);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("zk-server-crash")
        .join(format!("{seed}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("test dir");
    let mut progress = vec![Progress::default(); WRITERS];
    let mut total_acked = 0;
    for round in 0..ROUNDS {
        let mut server = start_server(&dir);
        progress = verify(server.addr, &progress, seed).await;
        // Sessions are opened before the clock starts, so the kill always finds them writing.
        let mut clients = Vec::new();
        for _ in 0..WRITERS {
            clients.push(Client::connect(server.addr).await);
        }
        let writers: Vec<_> = clients
            .into_iter()
            .zip(&progress)
            .enumerate()
            .map(|(n, (client, p))| tokio::spawn(writer(client, n, *p, rng.next_u64())))
            .collect();
        let delay_ms = 100 + rng.below(400);
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        server.child.kill().expect("SIGKILL zk-server");
        let _ = server.child.wait();
        for (n, handle) in writers.into_iter().enumerate() {
            progress[n] = handle.await.expect("writer task");
        }
        let acked: u64 = progress
            .iter()
            .map(|p| p.value_acked + p.created_acked)
            .sum();
        eprintln!("round {round}: killed after {delay_ms} ms; {acked} acknowledged so far");
        total_acked = acked;
    }
    let server = start_server(&dir);
    verify(server.addr, &progress, seed).await;
    drop(server);
    assert!(
        total_acked > 0,
        "seed {seed}: no write was ever acknowledged"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Whether `path` exists, asked on a fresh connection.
async fn exists(addr: SocketAddr, path: &str) -> bool {
    let mut client = Client::connect(addr).await;
    let mut xid = 0;
    let reply = call(
        &mut client,
        &mut xid,
        Request::GetData(GetDataRequest {
            path: path.into(),
            watch: false,
        }),
    )
    .await
    .expect("getData reply");
    reply.ok()
}

/// Creates `path` as an ephemeral of `client`'s session.
async fn create_ephemeral(client: &mut Client, path: &str) {
    let mut xid = 100;
    let reply = call(
        client,
        &mut xid,
        Request::Create(CreateRequest {
            path: path.into(),
            data: Some(b"e".to_vec()),
            acl: Acl::open_unsafe(),
            flags: CreateMode::Ephemeral.flags(),
        }),
    )
    .await
    .expect("create reply");
    assert!(reply.ok(), "create {path}: {reply:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_survive_a_sigkill_and_expire_afterwards_with_their_ephemerals() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("zk-server-crash-ephemerals")
        .join(format!("{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("test dir");

    let mut server = start_server(&dir);
    // One session that comes back after the restart, one that never does.
    let mut returning = Client::connect_timeout(server.addr, 30_000).await;
    let mut vanishing = Client::connect_timeout(server.addr, 1_000).await;
    create_ephemeral(&mut returning, "/kept").await;
    create_ephemeral(&mut vanishing, "/dropped").await;
    server.child.kill().expect("SIGKILL zk-server");
    let _ = server.child.wait();
    drop(vanishing);

    let server = start_server(&dir);
    // The returning session re-attaches with its id and password and keeps its ephemeral.
    let mut again = Client::raw(server.addr).await;
    let response = again
        .handshake(&zk_proto::ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: returning.last_zxid,
            timeout_ms: 30_000,
            session_id: returning.session,
            password: returning.password.clone(),
            read_only: Some(false),
        })
        .await
        .expect("connect response");
    assert_eq!(
        response.session_id, returning.session,
        "the session recovered from disk is still alive after the restart"
    );
    // The vanishing session expires after its timeout, counted from the restart, and takes
    // its ephemeral with it; the returning one keeps pinging and keeps its node.
    let deadline = tokio::time::Instant::now() + common::WAIT;
    loop {
        let _ = again.ping().await;
        if !exists(server.addr, "/dropped").await {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the expired session's ephemeral is still there"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(exists(server.addr, "/kept").await, "/kept was removed");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
