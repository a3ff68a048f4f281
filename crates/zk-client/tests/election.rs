//! The election and lock recipes against a running server (`ZK_ADDR`): succession order, one
//! notification per leader change (client counters and the server's `wchc`/`wchp`), lost
//! create replies, suspension, expiry, and `zk-cli elect` across processes.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::time::Duration;

use common::{connect, connect_to, fresh_root, proxy::Proxy, wait, zk_addr, TIMEOUT};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use zk_client::recipes::{
    Campaign, DistributedLock, ElectionEvent, FencingToken, LeaderElection, LossReason,
    WatchStrategy,
};
use zk_client::{Client, SessionState};

/// Waits for the campaign's next `Elected`, skipping other events.
async fn elected(campaign: &mut Campaign) -> FencingToken {
    wait(campaign.wait_elected())
        .await
        .expect("campaign failed")
}

/// Waits for the campaign's next `NotLeader` and returns its reason.
async fn not_leader(campaign: &mut Campaign) -> LossReason {
    loop {
        match wait(campaign.next_event()).await {
            Some(ElectionEvent::NotLeader { reason }) => return reason,
            Some(ElectionEvent::Failed(error)) => panic!("campaign failed: {error}"),
            None => panic!("campaign ended"),
            Some(_) => {}
        }
    }
}

/// Sends a four-letter word to the server under test and returns the answer.
async fn four_letter(word: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(zk_addr()).await.unwrap();
    stream.write_all(word.as_bytes()).await.unwrap();
    let mut out = String::new();
    wait(stream.read_to_string(&mut out)).await.unwrap();
    out
}

/// Parses a grouped four-letter-word listing (`wchp`, `wchc`): a line starting with
/// `header_prefix` opens a group, and each following non-empty line is one of its entries.
async fn grouped_listing(word: &str, header_prefix: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current = None;
    for line in four_letter(word).await.lines() {
        if line.starts_with(header_prefix) {
            current = Some(line.trim().to_owned());
        } else if let (Some(header), entry) = (&current, line.trim()) {
            if !entry.is_empty() {
                map.entry(header.clone())
                    .or_default()
                    .insert(entry.to_owned());
            }
        }
    }
    map
}

/// `wchp`: watched path -> sessions watching it.
async fn watches_by_path() -> BTreeMap<String, BTreeSet<String>> {
    grouped_listing("wchp", "/").await
}

/// `wchc`: session -> watched paths.
async fn watches_by_session() -> BTreeMap<String, BTreeSet<String>> {
    grouped_listing("wchc", "0x").await
}

struct Contenders {
    clients: Vec<Client>,
    campaigns: Vec<Campaign>,
    nodes: Vec<String>,
}

async fn start_contenders(path: &str, count: usize, strategy: WatchStrategy) -> Contenders {
    let mut contenders = Contenders {
        clients: Vec::new(),
        campaigns: Vec::new(),
        nodes: Vec::new(),
    };
    for i in 0..count {
        let client = connect().await;
        let election = LeaderElection::new(client.clone(), path).with_strategy(strategy);
        let campaign = election.campaign(&format!("c{i}")).await.unwrap();
        contenders.nodes.push(campaign.first_node().to_owned());
        contenders.clients.push(client);
        contenders.campaigns.push(campaign);
    }
    contenders
}

/// Waits until the server shows `expected` (path, session) watches under `root`.
async fn wait_for_watches(root: &str, expected: usize) -> BTreeMap<String, BTreeSet<String>> {
    wait(async {
        loop {
            let watched: BTreeMap<_, _> = watches_by_path()
                .await
                .into_iter()
                .filter(|(path, _)| path.starts_with(&format!("{root}/")))
                .collect();
            if watched.values().map(BTreeSet::len).sum::<usize>() == expected {
                return watched;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
}

#[tokio::test]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn closing_the_leader_promotes_exactly_the_next_contender_with_one_notification() {
    let admin = connect().await;
    let root = fresh_root(&admin, "succession").await;
    let n = 6;
    let mut c = start_contenders(&root, n, WatchStrategy::Predecessor).await;
    let mut last_token = elected(&mut c.campaigns[0]).await;

    // Every contender but the leader watches exactly its predecessor, and nobody else does.
    let watched = wait_for_watches(&root, n - 1).await;
    assert_eq!(watched.len(), n - 1);
    for (i, node) in c.nodes.iter().enumerate().take(n - 1) {
        let sessions = &watched[&format!("{root}/{node}")];
        assert_eq!(sessions.len(), 1, "{node} watched by {sessions:?}");
        let watcher = format!("{}", c.clients[i + 1].session_id());
        assert!(
            sessions.contains(&watcher),
            "{node}: {sessions:?} vs {watcher}"
        );
    }
    let by_session = watches_by_session().await;
    for client in &c.clients {
        let paths: Vec<_> = by_session
            .get(&client.session_id().to_string())
            .map(|p| p.iter().filter(|p| p.starts_with(&root)).collect())
            .unwrap_or_default();
        assert!(
            paths.len() <= 1,
            "{} watches {paths:?}",
            client.session_id()
        );
    }

    for leader in 0..n - 1 {
        let before: u64 = c.clients[leader + 1..]
            .iter()
            .map(Client::notifications_received)
            .sum();
        c.clients[leader].close().await.unwrap();
        let token = elected(&mut c.campaigns[leader + 1]).await;
        assert!(token > last_token, "fencing tokens grow");
        last_token = token;
        // Flush: a reply comes after every notification sent before it.
        for client in &c.clients[leader + 1..] {
            client.exists("/").await.unwrap();
        }
        let after: u64 = c.clients[leader + 1..]
            .iter()
            .map(Client::notifications_received)
            .sum();
        assert_eq!(
            after - before,
            1,
            "leader change {leader} notified {} contenders",
            after - before
        );
        for (i, campaign) in c.campaigns.iter().enumerate().skip(leader + 2) {
            assert_eq!(campaign.leadership(), None, "contender {i} must not lead");
        }
        let observed = LeaderElection::new(admin.clone(), &root)
            .leader()
            .await
            .unwrap()
            .unwrap();
        assert_eq!(observed.id, format!("c{}", leader + 1));
        assert_eq!(observed.fencing_token, token);
    }
}

#[tokio::test]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn the_naive_variant_notifies_every_contender() {
    let admin = connect().await;
    let root = fresh_root(&admin, "naive").await;
    let n = 5;
    let mut c = start_contenders(&root, n, WatchStrategy::Leader).await;
    elected(&mut c.campaigns[0]).await;
    let watched = wait_for_watches(&root, n - 1).await;
    assert_eq!(watched.len(), 1);
    assert_eq!(watched[&format!("{root}/{}", c.nodes[0])].len(), n - 1);
    let before: u64 = c.clients[1..]
        .iter()
        .map(Client::notifications_received)
        .sum();
    c.clients[0].close().await.unwrap();
    elected(&mut c.campaigns[1]).await;
    for client in &c.clients[1..] {
        client.exists("/").await.unwrap();
    }
    let after: u64 = c.clients[1..]
        .iter()
        .map(Client::notifications_received)
        .sum();
    let per_client: Vec<u64> = c.clients[1..]
        .iter()
        .map(Client::notifications_received)
        .collect();
    assert_eq!(after - before, (n - 1) as u64, "{per_client:?}");
}

#[tokio::test]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn a_lost_create_reply_leaves_no_ghost_candidate() {
    let admin = connect().await;
    let root = fresh_root(&admin, "lost-reply").await;
    let proxy = Proxy::start(&zk_addr()).await;
    let client = connect_to(proxy.addr()).await;
    let session = client.session_id();
    proxy.lose_next_create_reply(&format!("{root}/"));
    let election = LeaderElection::new(client.clone(), &root);
    let mut campaign = wait(election.campaign("lonely")).await.unwrap();
    assert_eq!(proxy.lost_replies(), 1, "the create reply was not lost");
    assert_eq!(
        client.session_id(),
        session,
        "same session after the reconnect"
    );
    let children = admin.get_children(&root).await.unwrap();
    assert_eq!(
        children,
        vec![campaign.first_node().to_owned()],
        "exactly one candidate node"
    );
    elected(&mut campaign).await;
}

#[tokio::test]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn a_suspended_connection_ends_leadership_at_once() {
    let admin = connect().await;
    let root = fresh_root(&admin, "suspend").await;
    let proxy = Proxy::start(&zk_addr()).await;
    let client = connect_to(proxy.addr()).await;
    let election = LeaderElection::new(client.clone(), &root);
    let mut campaign = election.campaign("fragile").await.unwrap();
    let token = elected(&mut campaign).await;
    let session = client.session_id();
    proxy.cut();
    assert_eq!(not_leader(&mut campaign).await, LossReason::Suspended);
    // Leadership ended on the suspension itself, within the same session: the node was never
    // deleted, and after the reconnect the same node (same token) leads again.
    let again = elected(&mut campaign).await;
    assert_eq!(again, token);
    assert_eq!(client.session_id(), session);
    assert_eq!(admin.get_children(&root).await.unwrap().len(), 1);
}

#[tokio::test]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn a_black_holed_leader_steps_down_before_its_session_expires() {
    let admin = connect().await;
    let root = fresh_root(&admin, "blackhole").await;
    let proxy = Proxy::start(&zk_addr()).await;
    let client = connect_to(proxy.addr()).await;
    let mut states = client.state_watcher();
    let mut campaign = LeaderElection::new(client.clone(), &root)
        .campaign("mute")
        .await
        .unwrap();
    elected(&mut campaign).await;
    proxy.set_blackhole(true);
    assert_eq!(not_leader(&mut campaign).await, LossReason::Suspended);
    // The leadership ended with the suspension, which precedes any expiry in the state stream.
    assert_eq!(
        wait(states.changed()).await,
        Some(SessionState::Disconnected)
    );
    proxy.set_blackhole(false);
}

#[tokio::test]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn expired_sessions_re_enter_the_queue_at_the_back() {
    let admin = connect().await;
    let root = fresh_root(&admin, "expiry").await;
    let election = LeaderElection::new(admin.clone(), &root);
    let mut clients = Vec::new();
    let mut campaigns = Vec::new();
    let mut proxies = Vec::new();
    for id in ["a", "b", "c"] {
        let proxy = Proxy::start(&zk_addr()).await;
        let client = Client::builder(proxy.addr())
            .session_timeout(TIMEOUT)
            .renew_expired_session(true)
            .connect()
            .await
            .unwrap();
        campaigns.push(
            LeaderElection::new(client.clone(), &root)
                .campaign(id)
                .await
                .unwrap(),
        );
        clients.push(client);
        proxies.push(proxy);
    }
    elected(&mut campaigns[0]).await;
    let ids = |names: Vec<String>| async {
        let mut ids = Vec::new();
        for name in names {
            let (data, _) = admin.get_data(&format!("{root}/{name}")).await.unwrap();
            ids.push(String::from_utf8(data).unwrap());
        }
        ids
    };

    // b expires: it comes back behind c.
    common::expire_through(&proxies[1], &clients[1]).await;
    wait(async {
        while ids(election.contenders().await.unwrap()).await != ["a", "c", "b"] {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;

    // The leader a expires: it stops leading, c leads, and a queues behind b.
    common::expire_through(&proxies[0], &clients[0]).await;
    let reason = not_leader(&mut campaigns[0]).await;
    assert!(
        matches!(reason, LossReason::Suspended | LossReason::SessionExpired),
        "{reason:?}"
    );
    elected(&mut campaigns[2]).await;
    wait(async {
        while ids(election.contenders().await.unwrap()).await != ["c", "b", "a"] {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert_eq!(election.leader().await.unwrap().unwrap().id, "c");
    assert_eq!(campaigns[1].leadership(), None);
}

#[tokio::test]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn resign_hands_over_to_the_next() {
    let admin = connect().await;
    let root = fresh_root(&admin, "resign").await;
    let mut c = start_contenders(&root, 3, WatchStrategy::Predecessor).await;
    elected(&mut c.campaigns[0]).await;
    let first = c.campaigns.remove(0);
    first.resign().await.unwrap();
    elected(&mut c.campaigns[0]).await;
    assert_eq!(c.campaigns[1].leadership(), None);
    assert_eq!(admin.get_children(&root).await.unwrap().len(), 2);
}

#[tokio::test]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn the_lock_is_exclusive_and_fifo() {
    let admin = connect().await;
    let root = fresh_root(&admin, "lock").await;
    let a = connect().await;
    let b = connect().await;
    let guard_a = DistributedLock::new(a.clone(), &root)
        .acquire()
        .await
        .unwrap();
    let lock_b = DistributedLock::new(b.clone(), &root);
    let waiter = tokio::spawn(async move { lock_b.acquire().await });
    // b queues behind a and cannot get the lock while a holds it.
    wait(async {
        while admin.get_children(&root).await.unwrap().len() < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(!waiter.is_finished());
    let token_a = guard_a.fencing_token();
    guard_a.release().await.unwrap();
    let mut guard_b = wait(waiter).await.unwrap().unwrap();
    assert!(guard_b.fencing_token() > token_a);
    assert!(guard_b.is_valid());
    guard_b.release().await.unwrap();
    assert!(admin.get_children(&root).await.unwrap().is_empty());
}

/// Spawns `zk-cli elect` and returns the child with a line reader on its stdout.
fn spawn_cli(
    path: &str,
    id: &str,
) -> (
    tokio::process::Child,
    tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_zk-cli"))
        .args([
            "--server",
            &zk_addr(),
            "--timeout-ms",
            "6000",
            "elect",
            path,
            "--id",
            id,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn zk-cli");
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

async fn next_line(lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>) -> String {
    wait(lines.next_line())
        .await
        .unwrap()
        .expect("zk-cli ended")
}

#[tokio::test]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn zk_cli_elect_across_processes() {
    let admin = connect().await;
    let root = fresh_root(&admin, "cli").await;
    let (mut first, mut first_out) = spawn_cli(&root, "p1");
    let line = next_line(&mut first_out).await;
    let parts: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(parts[..2], ["LEADER", "p1"], "{line}");
    let token1: u64 = parts[2].parse().unwrap();
    let (mut second, mut second_out) = spawn_cli(&root, "p2");
    wait(async {
        while admin.get_children(&root).await.unwrap().len() < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    // SIGTERM: zk-cli closes its session, so the follower takes over without waiting for expiry.
    let pid = first.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    wait(first.wait()).await.unwrap();
    let line = next_line(&mut second_out).await;
    let parts: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(parts[..2], ["LEADER", "p2"], "{line}");
    assert!(parts[2].parse::<u64>().unwrap() > token1);
    // A killed leader (no close) is replaced once its session expires.
    let (_third, mut third_out) = spawn_cli(&root, "p3");
    wait(async {
        while admin.get_children(&root).await.unwrap().len() < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    second.kill().await.unwrap();
    let line = next_line(&mut third_out).await;
    assert!(line.starts_with("LEADER p3 "), "{line}");
}
