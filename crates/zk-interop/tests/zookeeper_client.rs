//! The `zookeeper-client` crate (crates.io), unmodified, against the server at `ZK_ADDR`.
//!
//! Every test is ignored by default so `cargo test --workspace` needs no server; run them with
//! `ZK_ADDR=127.0.0.1:22181 cargo test -p zk-interop -- --ignored --test-threads=1`
//! (`cargo xtask conformance` does). Each test works below its own fresh root node. Waits are
//! bounded by [`WAIT`] and never asserted on: the tests check what happened, not how fast.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use zookeeper_client as zk;

/// Upper bound for anything a test waits for.
const WAIT: Duration = Duration::from_secs(60);

const PERSISTENT: &zk::CreateOptions<'static> =
    &zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
const PERSISTENT_SEQUENTIAL: &zk::CreateOptions<'static> =
    &zk::CreateMode::PersistentSequential.with_acls(zk::Acls::anyone_all());
const EPHEMERAL: &zk::CreateOptions<'static> =
    &zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all());
const EPHEMERAL_SEQUENTIAL: &zk::CreateOptions<'static> =
    &zk::CreateMode::EphemeralSequential.with_acls(zk::Acls::anyone_all());
const CONTAINER: &zk::CreateOptions<'static> =
    &zk::CreateMode::Container.with_acls(zk::Acls::anyone_all());

fn addr() -> String {
    std::env::var("ZK_ADDR").expect("ZK_ADDR=host:port of the server under test must be set")
}

async fn connect() -> zk::Client {
    within(zk::Client::connect(&addr()))
        .await
        .expect("connect to ZK_ADDR")
}

/// Awaits `future`, failing the test if it takes longer than [`WAIT`].
async fn within<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(WAIT, future)
        .await
        .expect("bounded wait exceeded")
}

/// A fresh persistent node, unique to the calling test.
async fn fresh_root(client: &zk::Client, name: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    let path = format!(
        "/interop-{name}-{nanos:x}-{}",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    client
        .create(&path, b"", PERSISTENT)
        .await
        .expect("create test root");
    path
}

/// Deletes `path` and everything below it.
async fn remove_tree(client: &zk::Client, path: &str) {
    let mut stack = vec![path.to_owned()];
    let mut order = Vec::new();
    while let Some(node) = stack.pop() {
        if let Ok(children) = client.list_children(&node).await {
            for child in children {
                stack.push(format!("{node}/{child}"));
            }
        }
        order.push(node);
    }
    for node in order.iter().rev() {
        let _ = client.delete(node, None).await;
    }
}

async fn next_event(watcher: &mut zk::PersistentWatcher) -> (zk::EventType, String) {
    let event = within(watcher.changed()).await;
    (event.event_type, event.path)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn create_get_set_delete_round_trip() {
    let client = connect().await;
    let root = fresh_root(&client, "crud").await;
    let path = format!("{root}/node");

    let (created, sequence) = client.create(&path, b"hello", PERSISTENT).await.unwrap();
    assert_eq!(sequence.into_i64(), -1);
    assert_eq!(created.version, 0);
    assert_eq!(created.data_length, 5);
    assert_eq!(created.czxid, created.mzxid);
    assert_eq!(created.czxid, created.pzxid);
    assert_eq!(created.ephemeral_owner, 0);

    let (data, stat) = client.get_data(&path).await.unwrap();
    assert_eq!(data, b"hello");
    assert_eq!(stat, created);

    let updated = client.set_data(&path, b"world!", Some(0)).await.unwrap();
    assert_eq!(updated.version, 1);
    assert_eq!(updated.data_length, 6);
    assert!(updated.mzxid > created.mzxid);
    assert_eq!(updated.czxid, created.czxid);

    assert_eq!(
        client.set_data(&path, b"x", Some(0)).await,
        Err(zk::Error::BadVersion)
    );
    assert_eq!(
        client.delete(&path, Some(0)).await,
        Err(zk::Error::BadVersion)
    );
    client.delete(&path, Some(1)).await.unwrap();
    assert_eq!(client.check_stat(&path).await.unwrap(), None);
    remove_tree(&client, &root).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn children_and_parent_stat() {
    let client = connect().await;
    let root = fresh_root(&client, "children").await;
    for name in ["a", "b", "c"] {
        client
            .create(&format!("{root}/{name}"), b"", PERSISTENT)
            .await
            .unwrap();
    }
    let mut names = client.list_children(&root).await.unwrap();
    names.sort();
    assert_eq!(names, ["a", "b", "c"]);

    let (mut with_stat, stat) = client.get_children(&root).await.unwrap();
    with_stat.sort();
    assert_eq!(with_stat, names);
    assert_eq!(stat.num_children, 3);
    assert_eq!(stat.cversion, 3);

    client.delete(&format!("{root}/b"), None).await.unwrap();
    let (_, stat) = client.get_children(&root).await.unwrap();
    assert_eq!(stat.num_children, 2);
    assert_eq!(stat.cversion, 4);
    remove_tree(&client, &root).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn sequential_nodes_count_up_per_parent() {
    let client = connect().await;
    let root = fresh_root(&client, "seq").await;
    let prefix = format!("{root}/n-");
    let mut sequences = Vec::new();
    for _ in 0..5 {
        let (_, sequence) = client
            .create(&prefix, b"", PERSISTENT_SEQUENTIAL)
            .await
            .unwrap();
        sequences.push(sequence.into_i64());
    }
    assert_eq!(sequences, [0, 1, 2, 3, 4]);
    client
        .delete(&format!("{prefix}0000000004"), None)
        .await
        .unwrap();
    let (_, sequence) = client
        .create(&prefix, b"", EPHEMERAL_SEQUENTIAL)
        .await
        .unwrap();
    assert_eq!(sequence.into_i64(), 5);
    assert_eq!(sequence.to_string(), "0000000005");
    let children = client.list_children(&root).await.unwrap();
    assert!(children.contains(&"n-0000000005".to_owned()));
    remove_tree(&client, &root).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn errors_map_to_the_right_variants() {
    let client = connect().await;
    let root = fresh_root(&client, "errors").await;
    let missing = format!("{root}/missing");
    assert_eq!(client.get_data(&missing).await, Err(zk::Error::NoNode));
    assert_eq!(client.delete(&missing, None).await, Err(zk::Error::NoNode));
    assert_eq!(
        client
            .create(&format!("{missing}/child"), b"", PERSISTENT)
            .await,
        Err(zk::Error::NoNode)
    );
    assert_eq!(
        client.create(&root, b"", PERSISTENT).await,
        Err(zk::Error::NodeExists)
    );
    client
        .create(&format!("{root}/parent"), b"", PERSISTENT)
        .await
        .unwrap();
    client
        .create(&format!("{root}/parent/child"), b"", PERSISTENT)
        .await
        .unwrap();
    assert_eq!(
        client.delete(&format!("{root}/parent"), None).await,
        Err(zk::Error::NotEmpty)
    );
    let ephemeral = format!("{root}/eph");
    client.create(&ephemeral, b"", EPHEMERAL).await.unwrap();
    assert_eq!(
        client
            .create(&format!("{ephemeral}/child"), b"", PERSISTENT)
            .await,
        Err(zk::Error::NoChildrenForEphemerals)
    );
    let locked = format!("{root}/locked");
    client
        .create(
            &locked,
            b"",
            &zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_read()),
        )
        .await
        .unwrap();
    assert_eq!(
        client.set_data(&locked, b"x", None).await,
        Err(zk::Error::NoAuth)
    );
    assert_eq!(
        client
            .create(
                &format!("{root}/creator"),
                b"",
                &zk::CreateMode::Persistent.with_acls(zk::Acls::creator_all())
            )
            .await,
        Err(zk::Error::InvalidAcl)
    );
    remove_tree(&client, &root).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn multi_commits_atomically_and_reports_the_failing_op() {
    let client = connect().await;
    let root = fresh_root(&client, "multi").await;
    let a = format!("{root}/a");
    let b = format!("{root}/b");

    let mut writer = client.new_multi_writer();
    writer.add_create(&a, b"1", PERSISTENT).unwrap();
    writer.add_set_data(&a, b"2", Some(0)).unwrap();
    writer.add_check_version(&a, 1).unwrap();
    writer.add_create(&b, b"", PERSISTENT).unwrap();
    writer.add_delete(&b, Some(0)).unwrap();
    let results = writer.commit().await.unwrap();
    assert_eq!(results.len(), 5);
    match &results[0] {
        zk::MultiWriteResult::Create { path, .. } => assert_eq!(path, &a),
        other => panic!("expected a create result, got {other:?}"),
    }
    match &results[1] {
        zk::MultiWriteResult::SetData { stat } => assert_eq!(stat.version, 1),
        other => panic!("expected a set-data result, got {other:?}"),
    }
    assert_eq!(results[2], zk::MultiWriteResult::Check);
    assert_eq!(results[4], zk::MultiWriteResult::Delete);
    assert_eq!(client.get_data(&a).await.unwrap().0, b"2");
    assert_eq!(client.check_stat(&b).await.unwrap(), None);

    let mut failing = client.new_multi_writer();
    failing.add_create(&b, b"", PERSISTENT).unwrap();
    failing.add_check_version(&a, 7).unwrap();
    failing.add_delete(&a, None).unwrap();
    let error = failing.commit().await.unwrap_err();
    assert_eq!(
        error,
        zk::MultiWriteError::OperationFailed {
            index: 1,
            source: zk::Error::BadVersion
        }
    );
    assert_eq!(client.check_stat(&b).await.unwrap(), None);
    assert!(client.check_stat(&a).await.unwrap().is_some());
    remove_tree(&client, &root).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn multi_read_reports_errors_per_op() {
    let client = connect().await;
    let root = fresh_root(&client, "multiread").await;
    let node = format!("{root}/n");
    client.create(&node, b"data", PERSISTENT).await.unwrap();
    let mut reader = client.new_multi_reader();
    reader.add_get_data(&node).unwrap();
    reader.add_get_children(&root).unwrap();
    reader.add_get_data(&format!("{root}/missing")).unwrap();
    let results = reader.commit().await.unwrap();
    assert_eq!(results.len(), 3);
    match &results[0] {
        zk::MultiReadResult::Data { data, stat } => {
            assert_eq!(data, b"data");
            assert_eq!(stat.data_length, 4);
        }
        other => panic!("expected data, got {other:?}"),
    }
    match &results[1] {
        zk::MultiReadResult::Children { children } => assert_eq!(children, &["n"]),
        other => panic!("expected children, got {other:?}"),
    }
    match &results[2] {
        zk::MultiReadResult::Error { err } => assert_eq!(err, &zk::Error::NoNode),
        other => panic!("expected an error, got {other:?}"),
    }
    remove_tree(&client, &root).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn oneshot_watches_fire_once() {
    let client = connect().await;
    let other = connect().await;
    let root = fresh_root(&client, "oneshot").await;
    let node = format!("{root}/n");

    let (stat, exist_watcher) = client.check_and_watch_stat(&node).await.unwrap();
    assert_eq!(stat, None);
    other.create(&node, b"", PERSISTENT).await.unwrap();
    let event = within(exist_watcher.changed()).await;
    assert_eq!(event.event_type, zk::EventType::NodeCreated);
    assert_eq!(event.path, node);

    let (_, _, data_watcher) = client.get_and_watch_data(&node).await.unwrap();
    other.set_data(&node, b"1", None).await.unwrap();
    let event = within(data_watcher.changed()).await;
    assert_eq!(event.event_type, zk::EventType::NodeDataChanged);
    assert_eq!(event.path, node);

    let (_, child_watcher) = client.list_and_watch_children(&root).await.unwrap();
    other
        .create(&format!("{root}/m"), b"", PERSISTENT)
        .await
        .unwrap();
    let event = within(child_watcher.changed()).await;
    assert_eq!(event.event_type, zk::EventType::NodeChildrenChanged);
    assert_eq!(event.path, root);

    let (_, _, delete_watcher) = client.get_and_watch_data(&node).await.unwrap();
    other.delete(&node, None).await.unwrap();
    let event = within(delete_watcher.changed()).await;
    assert_eq!(event.event_type, zk::EventType::NodeDeleted);
    remove_tree(&client, &root).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn persistent_watch_keeps_firing() {
    let client = connect().await;
    let other = connect().await;
    let root = fresh_root(&client, "persistent").await;
    let node = format!("{root}/n");
    let mut watcher = client
        .watch(&node, zk::AddWatchMode::Persistent)
        .await
        .unwrap();
    other.create(&node, b"", PERSISTENT).await.unwrap();
    other.set_data(&node, b"1", None).await.unwrap();
    other.set_data(&node, b"2", None).await.unwrap();
    other
        .create(&format!("{node}/child"), b"", PERSISTENT)
        .await
        .unwrap();
    other.delete(&format!("{node}/child"), None).await.unwrap();
    other.delete(&node, None).await.unwrap();
    use zk::EventType::*;
    let mut events = Vec::new();
    for _ in 0..6 {
        events.push(next_event(&mut watcher).await);
    }
    assert_eq!(
        events,
        [
            (NodeCreated, node.clone()),
            (NodeDataChanged, node.clone()),
            (NodeDataChanged, node.clone()),
            (NodeChildrenChanged, node.clone()),
            (NodeChildrenChanged, node.clone()),
            (NodeDeleted, node.clone()),
        ]
    );
    remove_tree(&client, &root).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn persistent_recursive_watch_sees_descendants() {
    let client = connect().await;
    let other = connect().await;
    let root = fresh_root(&client, "recursive").await;
    let mut watcher = client
        .watch(&root, zk::AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    let a = format!("{root}/a");
    let b = format!("{a}/b");
    other.create(&a, b"", PERSISTENT).await.unwrap();
    other.create(&b, b"", PERSISTENT).await.unwrap();
    other.set_data(&b, b"x", None).await.unwrap();
    other.delete(&b, None).await.unwrap();
    other.set_data(&root, b"r", None).await.unwrap();
    use zk::EventType::*;
    let mut events = Vec::new();
    for _ in 0..5 {
        events.push(next_event(&mut watcher).await);
    }
    assert_eq!(
        events,
        [
            (NodeCreated, a.clone()),
            (NodeCreated, b.clone()),
            (NodeDataChanged, b.clone()),
            (NodeDeleted, b.clone()),
            (NodeDataChanged, root.clone()),
        ]
    );
    remove_tree(&client, &root).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn ephemerals_and_descendant_count() {
    let client = connect().await;
    let other = connect().await;
    let root = fresh_root(&client, "ephemerals").await;
    client
        .create(&format!("{root}/e1"), b"", EPHEMERAL)
        .await
        .unwrap();
    client
        .create(&format!("{root}/p"), b"", PERSISTENT)
        .await
        .unwrap();
    client
        .create(&format!("{root}/p/e2"), b"", EPHEMERAL)
        .await
        .unwrap();
    other
        .create(&format!("{root}/theirs"), b"", EPHEMERAL)
        .await
        .unwrap();
    let mut mine = client.list_ephemerals(&root).await.unwrap();
    mine.sort();
    assert_eq!(mine, [format!("{root}/e1"), format!("{root}/p/e2")]);
    assert_eq!(
        other.list_ephemerals(&root).await.unwrap(),
        [format!("{root}/theirs")]
    );
    assert_eq!(client.count_descendants_number(&root).await.unwrap(), 4);
    assert_eq!(
        client
            .count_descendants_number(&format!("{root}/p"))
            .await
            .unwrap(),
        1
    );
    drop(other);
    remove_tree(&client, &root).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn who_am_i_lists_authenticated_users() {
    let client = connect().await;
    let users = client.list_auth_users().await.unwrap();
    assert_eq!(users, [zk::AuthUser::new("ip", "127.0.0.1")]);
    client.auth("digest", b"carol:secret").await.unwrap();
    let mut users = client.list_auth_users().await.unwrap();
    users.sort_by(|a, b| a.scheme().cmp(b.scheme()));
    assert_eq!(
        users,
        [
            zk::AuthUser::new("digest", "carol"),
            zk::AuthUser::new("ip", "127.0.0.1")
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn digest_acl_and_auth() {
    let owner = connect().await;
    owner.auth("digest", b"dave:pw").await.unwrap();
    let root = fresh_root(&owner, "acl").await;
    let node = format!("{root}/secret");
    owner
        .create(
            &node,
            b"s",
            &zk::CreateMode::Persistent.with_acls(zk::Acls::creator_all()),
        )
        .await
        .unwrap();
    let (acls, _) = owner.get_acl(&node).await.unwrap();
    assert_eq!(acls.len(), 1);
    assert_eq!(acls[0].scheme(), "digest");
    assert!(acls[0].id().starts_with("dave:"));
    let stranger = connect().await;
    assert_eq!(stranger.get_data(&node).await, Err(zk::Error::NoAuth));
    let friend = within(
        zk::Client::connector()
            .with_auth("digest", b"dave:pw")
            .connect(&addr()),
    )
    .await
    .unwrap();
    assert_eq!(friend.get_data(&node).await.unwrap().0, b"s");
    remove_tree(&owner, &root).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn container_and_ttl_nodes_can_be_created() {
    let client = connect().await;
    let root = fresh_root(&client, "modes").await;
    let (stat, _) = client
        .create(&format!("{root}/box"), b"", CONTAINER)
        .await
        .unwrap();
    assert_eq!(stat.ephemeral_owner, 0);
    let ttl = zk::CreateMode::Persistent
        .with_acls(zk::Acls::anyone_all())
        .with_ttl(Duration::from_secs(600));
    let (stat, _) = client
        .create(&format!("{root}/ttl"), b"", &ttl)
        .await
        .unwrap();
    assert_eq!(stat.ephemeral_owner, 0);
    remove_tree(&client, &root).await;
}

/// A TCP forwarder to `ZK_ADDR` that can be cut: every connection through it is dropped and
/// new ones are refused, so the client behind it loses the server without closing its session.
struct Proxy {
    addr: std::net::SocketAddr,
    listener: tokio::task::JoinHandle<()>,
    connections: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    async fn start() -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = addr();
        let addr = listener.local_addr().unwrap();
        let connections = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let handles = connections.clone();
        let listener = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let forward = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                handles.lock().unwrap().push(forward.abort_handle());
            }
        });
        Proxy {
            addr,
            listener,
            connections,
        }
    }

    /// Drops every forwarded connection; new connections are still accepted.
    fn sever(&self) {
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    /// Drops every forwarded connection and stops listening.
    fn cut(&mut self) {
        self.listener.abort();
        self.sever();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn watches_survive_a_reconnect() {
    let observer = connect().await;
    let root = fresh_root(&observer, "reconnect").await;
    let changed = format!("{root}/changed");
    let parent = format!("{root}/parent");
    observer.create(&changed, b"", PERSISTENT).await.unwrap();
    observer.create(&parent, b"", PERSISTENT).await.unwrap();

    let proxy = Proxy::start().await;
    let client = within(
        zk::Client::connector()
            .with_session_timeout(Duration::from_secs(20))
            .connect(&proxy.addr.to_string()),
    )
    .await
    .unwrap();
    let session = client.session_id();
    client
        .create(&format!("{root}/eph"), b"", EPHEMERAL)
        .await
        .unwrap();
    let (_, _, data_watcher) = client.get_and_watch_data(&changed).await.unwrap();
    let (_, child_watcher) = client.list_and_watch_children(&parent).await.unwrap();
    let mut states = client.state_watcher();

    // The connection breaks; the client reconnects with its session and re-registers its
    // one-shot watches with SetWatches, pipelined behind the ConnectRequest. (Persistent
    // watches are not covered: zookeeper-client 0.11.2 never sends SetWatches2 because
    // `resend_watches` computes `index.max(index)`.)
    proxy.sever();
    observer.set_data(&changed, b"changed", None).await.unwrap();
    let event = within(data_watcher.changed()).await;
    assert_eq!(event.event_type, zk::EventType::NodeDataChanged);
    assert_eq!(event.path, changed);

    within(async { while states.changed().await != zk::SessionState::SyncConnected {} }).await;
    assert_eq!(client.session_id(), session);
    observer
        .create(&format!("{parent}/child"), b"", PERSISTENT)
        .await
        .unwrap();
    let event = within(child_watcher.changed()).await;
    assert_eq!(event.event_type, zk::EventType::NodeChildrenChanged);
    assert_eq!(event.path, parent);
    let eph = observer
        .check_stat(&format!("{root}/eph"))
        .await
        .unwrap()
        .expect("the ephemeral survives a reconnect");
    assert_eq!(eph.ephemeral_owner, session.0);
    drop(client);
    remove_tree(&observer, &root).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn session_expiry_is_reported_and_ephemerals_go() {
    let observer = connect().await;
    let root = fresh_root(&observer, "expiry").await;
    let node = format!("{root}/e");

    let mut proxy = Proxy::start().await;
    let victim = within(
        zk::Client::connector()
            .with_session_timeout(Duration::from_secs(4))
            .connect(&proxy.addr.to_string()),
    )
    .await
    .unwrap();
    victim.create(&node, b"", EPHEMERAL).await.unwrap();
    let (_, _, deleted) = observer.get_and_watch_data(&node).await.unwrap();
    let mut states = victim.state_watcher();

    // The victim can no longer reach the server: the server expires the session after its
    // timeout (deleting the ephemeral) and the client reports Expired.
    proxy.cut();
    let event = within(deleted.changed()).await;
    assert_eq!(event.event_type, zk::EventType::NodeDeleted);
    assert_eq!(event.path, node);

    let expired = within(async {
        loop {
            let state = states.changed().await;
            if state.is_terminated() {
                return state;
            }
        }
    })
    .await;
    assert_eq!(expired, zk::SessionState::Expired);
    assert_eq!(victim.get_data("/").await, Err(zk::Error::SessionExpired));
    remove_tree(&observer, &root).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn session_reattaches_on_a_new_connection() {
    let observer = connect().await;
    let root = fresh_root(&observer, "reattach").await;
    let node = format!("{root}/e");
    let first = within(zk::Client::connector().with_detached().connect(&addr()))
        .await
        .unwrap();
    first.create(&node, b"", EPHEMERAL).await.unwrap();
    let session = first.session().clone();
    drop(first);
    let second = within(
        zk::Client::connector()
            .with_session(session.clone())
            .connect(&addr()),
    )
    .await
    .unwrap();
    assert_eq!(second.session_id(), session.id());
    let stat = second
        .check_stat(&node)
        .await
        .unwrap()
        .expect("ephemeral kept");
    assert_eq!(stat.ephemeral_owner, session.id().0);
    drop(second);
    // Dropping the last (non-detached) client closes the session and its ephemerals go.
    let gone = within(async {
        loop {
            if observer.check_stat(&node).await.unwrap().is_none() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(gone);
    remove_tree(&observer, &root).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn sync_and_config_node() {
    let client = connect().await;
    client.sync("/").await.unwrap();
    let (_, stat) = client.get_config().await.unwrap();
    assert_eq!(stat.ephemeral_owner, 0);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn lock_recipe_is_exclusive() {
    let first = connect().await;
    let second = connect().await;
    let root = fresh_root(&first, "lock").await;
    let released = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));

    let held = first
        .lock(
            zk::LockPrefix::new_curator(&root, "lock-").unwrap(),
            b"first",
            zk::Acls::anyone_all(),
        )
        .await
        .unwrap();
    let contender = {
        let root = root.clone();
        let released = released.clone();
        tokio::spawn(async move {
            let lock = second
                .lock(
                    zk::LockPrefix::new_curator(&root, "lock-").unwrap(),
                    b"second",
                    zk::Acls::anyone_all(),
                )
                .await
                .unwrap();
            // The lock can only be ours once the first holder let go.
            assert!(released.load(Ordering::SeqCst));
            lock.lock_path().to_owned()
        })
    };
    // Wait (bounded) until the contender's node is queued behind ours, then release.
    within(async {
        while first.list_children(&root).await.unwrap().len() < 2 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let first_path = held.lock_path().to_owned();
    released.store(true, Ordering::SeqCst);
    drop(held);
    let second_path = within(contender).await.unwrap();
    assert_ne!(first_path, second_path);
    assert_eq!(first.check_stat(&first_path).await.unwrap(), None);
    remove_tree(&first, &root).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn chroot_prefixes_and_strips_paths() {
    let client = connect().await;
    let root = fresh_root(&client, "chroot").await;
    let rooted = within(zk::Client::connect(&format!("{}{root}", addr())))
        .await
        .unwrap();
    rooted.create("/inside", b"x", PERSISTENT).await.unwrap();
    assert_eq!(
        client.get_data(&format!("{root}/inside")).await.unwrap().0,
        b"x"
    );
    let (_, sequence) = rooted
        .create("/seq-", b"", PERSISTENT_SEQUENTIAL)
        .await
        .unwrap();
    assert_eq!(sequence.into_i64(), 1);
    let (_, _, watcher) = rooted.get_and_watch_data("/inside").await.unwrap();
    client
        .set_data(&format!("{root}/inside"), b"y", None)
        .await
        .unwrap();
    let event = within(watcher.changed()).await;
    assert_eq!(event.path, "/inside");
    let mut children = rooted.list_children("/").await.unwrap();
    children.sort();
    assert_eq!(children, ["inside", "seq-0000000001"]);
    remove_tree(&client, &root).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn acl_get_set_and_versions() {
    let client = connect().await;
    let root = fresh_root(&client, "aclver").await;
    let node = format!("{root}/n");
    client.create(&node, b"", PERSISTENT).await.unwrap();
    let (acls, stat) = client.get_acl(&node).await.unwrap();
    assert_eq!(acls, zk::Acls::anyone_all().to_vec());
    assert_eq!(stat.aversion, 0);
    let read_admin = [zk::Acl::new(
        zk::Permission::READ | zk::Permission::ADMIN,
        zk::AuthId::anyone(),
    )];
    assert_eq!(
        client.set_acl(&node, &read_admin, Some(3)).await,
        Err(zk::Error::BadVersion)
    );
    let stat = client.set_acl(&node, &read_admin, Some(0)).await.unwrap();
    assert_eq!(stat.aversion, 1);
    assert_eq!(stat.version, 0);
    assert_eq!(client.get_acl(&node).await.unwrap().0, read_admin.to_vec());
    assert_eq!(
        client.set_data(&node, b"x", None).await,
        Err(zk::Error::NoAuth)
    );
    assert_eq!(client.get_data(&node).await.unwrap().1.aversion, 1);
    remove_tree(&client, &root).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn check_writer_guards_writes() {
    let client = connect().await;
    let root = fresh_root(&client, "checkw").await;
    let guard = format!("{root}/guard");
    client.create(&guard, b"", PERSISTENT).await.unwrap();
    let mut writer = client.new_check_writer(&guard, Some(0)).unwrap();
    writer
        .add_create(&format!("{root}/a"), b"", PERSISTENT)
        .unwrap();
    let results = writer.commit().await.unwrap();
    assert_eq!(results.len(), 1);
    client.set_data(&guard, b"bump", None).await.unwrap();
    let mut stale = client.new_check_writer(&guard, Some(0)).unwrap();
    stale
        .add_create(&format!("{root}/b"), b"", PERSISTENT)
        .unwrap();
    assert_eq!(
        stale.commit().await.unwrap_err(),
        zk::CheckWriteError::CheckFailed {
            source: zk::Error::BadVersion
        }
    );
    assert_eq!(client.check_stat(&format!("{root}/b")).await.unwrap(), None);
    remove_tree(&client, &root).await;
}
