//! The client against a running server (`ZK_ADDR`, for example `127.0.0.1:42182`): every
//! operation, watches, chroot, reconnection through a cuttable proxy, expiry.
//!
//! Ignored by default so that `cargo test --workspace` needs no server; run with
//! `ZK_ADDR=127.0.0.1:42182 cargo test -p zk-client -- --ignored`.

mod common;

use std::time::Duration;

use common::{connect, connect_to, fresh_root, proxy::Proxy, wait, zk_addr, TIMEOUT};
use zk_client::{
    AddWatchMode, Client, CreateMode, CreateOptions, Error, EventType, Op, OpResult, ReadOp,
    ReadResult, SessionState, WatcherType,
};

#[tokio::test]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn crud_and_stat() {
    let client = connect().await;
    let root = fresh_root(&client, "crud").await;
    let node = format!("{root}/a");
    let (path, stat) = client
        .create(&node, b"one", &CreateOptions::new(CreateMode::Persistent))
        .await
        .unwrap();
    assert_eq!(path, node);
    assert_eq!(stat.version, 0);
    assert_eq!(
        client
            .create(&node, b"", &CreateOptions::new(CreateMode::Persistent))
            .await,
        Err(Error::NodeExists)
    );
    let (data, stat) = client.get_data(&node).await.unwrap();
    assert_eq!(data, b"one");
    let stat2 = client
        .set_data(&node, b"two", Some(stat.version))
        .await
        .unwrap();
    assert_eq!(stat2.version, 1);
    assert_eq!(
        client.set_data(&node, b"x", Some(0)).await,
        Err(Error::BadVersion)
    );
    assert_eq!(client.exists(&node).await.unwrap().unwrap().version, 1);
    assert_eq!(
        client.get_children(&root).await.unwrap(),
        vec!["a".to_owned()]
    );
    let (children, stat) = client.get_children_and_stat(&root).await.unwrap();
    assert_eq!((children.len(), stat.num_children), (1, 1));
    let (acl, _) = client.get_acl(&node).await.unwrap();
    assert_eq!(acl, zk_client::Acl::open_unsafe());
    client.sync(&node).await.unwrap();
    assert_eq!(client.delete(&root, None).await, Err(Error::NotEmpty));
    client.delete(&node, Some(1)).await.unwrap();
    assert_eq!(client.exists(&node).await.unwrap(), None);
    assert_eq!(client.get_data(&node).await, Err(Error::NoNode));
    let (seq, _) = client
        .create(
            &format!("{root}/s-"),
            b"",
            &CreateOptions::new(CreateMode::EphemeralSequential),
        )
        .await
        .unwrap();
    assert!(
        seq.starts_with(&format!("{root}/s-")) && seq.len() == root.len() + 13,
        "{seq}"
    );
    assert_eq!(
        client.get_ephemerals(&root).await.unwrap(),
        vec![seq.clone()]
    );
    assert_eq!(client.get_all_children_number(&root).await.unwrap(), 1);
    assert!(!client.who_am_i().await.unwrap().is_empty());
    let (ttl, _) = client
        .create(
            &format!("{root}/ttl"),
            b"",
            &CreateOptions::new(CreateMode::PersistentWithTtl).with_ttl_ms(60_000),
        )
        .await
        .unwrap();
    assert_eq!(ttl, format!("{root}/ttl"));
    client
        .create(
            &format!("{root}/container"),
            b"",
            &CreateOptions::new(CreateMode::Container),
        )
        .await
        .unwrap();
    client.close().await.unwrap();
    assert_eq!(client.state(), SessionState::Closed);
    assert_eq!(client.exists("/").await, Err(Error::Closed));
}

#[tokio::test]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn multi_and_multi_read() {
    let client = connect().await;
    let root = fresh_root(&client, "multi").await;
    let a = format!("{root}/a");
    let results = client
        .multi(&[
            Op::Create {
                path: a.clone(),
                data: b"x".to_vec(),
                options: CreateOptions::new(CreateMode::Persistent),
            },
            Op::SetData {
                path: a.clone(),
                data: b"y".to_vec(),
                version: Some(0),
            },
            Op::Check {
                path: a.clone(),
                version: Some(1),
            },
        ])
        .await
        .unwrap();
    assert!(matches!(&results[0], OpResult::Create { path, .. } if *path == a));
    assert!(matches!(&results[1], OpResult::SetData { stat } if stat.version == 1));
    assert_eq!(results[2], OpResult::Check);
    assert_eq!(Client::multi_first_error(&results), None);
    let failed = client
        .multi(&[
            Op::Delete {
                path: a.clone(),
                version: None,
            },
            Op::Check {
                path: a.clone(),
                version: Some(7),
            },
        ])
        .await
        .unwrap();
    // The check runs after the delete inside the transaction, so it sees no node.
    assert_eq!(Client::multi_first_error(&failed), Some(Error::NoNode));
    assert!(client.exists(&a).await.unwrap().is_some());
    let reads = client
        .multi_read(&[
            ReadOp::GetData(a.clone()),
            ReadOp::GetChildren(root.clone()),
            ReadOp::GetData(format!("{root}/none")),
        ])
        .await
        .unwrap();
    assert!(matches!(&reads[0], ReadResult::Data { data, .. } if data == b"y"));
    assert_eq!(reads[1], ReadResult::Children(vec!["a".into()]));
    assert_eq!(reads[2], ReadResult::Error(Error::NoNode));
}

#[tokio::test]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn oneshot_and_persistent_watches() {
    let client = connect().await;
    let root = fresh_root(&client, "watches").await;
    let a = format!("{root}/a");
    let (stat, exists_watch) = client.exists_and_watch(&a).await.unwrap();
    assert_eq!(stat, None);
    // ZooKeeper 3.8 keeps one watch mode per path and connection (ZOOKEEPER-4466), so the
    // child watch goes through a second session.
    let other = connect().await;
    let (_, _, child_watch) = other.get_children_and_watch(&root).await.unwrap();
    let mut recursive = client
        .add_watch(&root, AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    client
        .create(&a, b"", &CreateOptions::new(CreateMode::Persistent))
        .await
        .unwrap();
    let event = wait(exists_watch.changed()).await;
    assert_eq!(
        (event.event_type, event.path.as_str()),
        (EventType::NodeCreated, a.as_str())
    );
    let event = wait(child_watch.changed()).await;
    assert_eq!(
        (event.event_type, event.path.as_str()),
        (EventType::NodeChildrenChanged, root.as_str())
    );
    let event = wait(recursive.changed()).await.unwrap();
    assert_eq!(
        (event.event_type, event.path.as_str()),
        (EventType::NodeCreated, a.as_str())
    );
    let (_, _, data_watch) = client.get_data_and_watch(&a).await.unwrap();
    client.set_data(&a, b"1", None).await.unwrap();
    assert_eq!(
        wait(data_watch.changed()).await.event_type,
        EventType::NodeDataChanged
    );
    assert_eq!(
        wait(recursive.changed()).await.unwrap().event_type,
        EventType::NodeDataChanged
    );
    client
        .remove_watches(&root, WatcherType::Any)
        .await
        .unwrap();
    assert_eq!(
        wait(recursive.changed()).await.unwrap().event_type,
        EventType::PersistentWatchRemoved
    );
    client.delete(&a, None).await.unwrap();
    other
        .create(&a, b"", &CreateOptions::new(CreateMode::Persistent))
        .await
        .unwrap();
    // Nothing more is delivered for the removed watch; the channel ends once the server is done.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), recursive.changed())
            .await
            .map_or(true, |e| e.is_none())
    );
}

#[tokio::test]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn chroot_is_transparent() {
    let admin = connect().await;
    let root = fresh_root(&admin, "chroot").await;
    let chrooted = Client::builder(format!("{}{root}", zk_addr()))
        .connect()
        .await
        .unwrap();
    let (path, _) = chrooted
        .create("/x", b"", &CreateOptions::new(CreateMode::Persistent))
        .await
        .unwrap();
    assert_eq!(path, "/x");
    assert!(admin.exists(&format!("{root}/x")).await.unwrap().is_some());
    assert_eq!(
        chrooted.get_children("/").await.unwrap(),
        vec!["x".to_owned()]
    );
    let (_, watch) = chrooted.exists_and_watch("/x").await.unwrap();
    admin.delete(&format!("{root}/x"), None).await.unwrap();
    let event = wait(watch.changed()).await;
    assert_eq!(
        (event.event_type, event.path.as_str()),
        (EventType::NodeDeleted, "/x")
    );
}

#[tokio::test]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn reconnect_keeps_the_session_and_its_watches() {
    let proxy = Proxy::start(&zk_addr()).await;
    let admin = connect().await;
    let root = fresh_root(&admin, "reconnect").await;
    let client = connect_to(proxy.addr()).await;
    let session = client.session_id();
    let eph = format!("{root}/eph");
    client
        .create(&eph, b"", &CreateOptions::new(CreateMode::Ephemeral))
        .await
        .unwrap();
    let (_, watch) = client
        .exists_and_watch(&format!("{root}/later"))
        .await
        .unwrap();
    let mut states = client.state_watcher();
    proxy.cut();
    assert_eq!(
        wait(states.changed()).await,
        Some(SessionState::Disconnected)
    );
    assert_eq!(wait(states.changed()).await, Some(SessionState::Connected));
    assert_eq!(client.session_id(), session);
    assert!(admin.exists(&eph).await.unwrap().is_some());
    admin
        .create(
            &format!("{root}/later"),
            b"",
            &CreateOptions::new(CreateMode::Persistent),
        )
        .await
        .unwrap();
    assert_eq!(
        wait(watch.changed()).await.event_type,
        EventType::NodeCreated
    );
}

#[tokio::test]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn expiry_is_reported_and_renewal_starts_a_new_session() {
    let proxy = Proxy::start(&zk_addr()).await;
    let client = Client::builder(proxy.addr())
        .session_timeout(TIMEOUT)
        .renew_expired_session(true)
        .connect()
        .await
        .unwrap();
    let root = fresh_root(&client, "expiry").await;
    let (_, watch) = client.exists_and_watch(&format!("{root}/x")).await.unwrap();
    let old = client.session();
    let mut states = client.state_watcher();
    common::expire_through(&proxy, &client).await;
    let event = wait(watch.changed()).await;
    assert_eq!(event.session_state, SessionState::Expired);
    let mut seen = Vec::new();
    while seen.last() != Some(&SessionState::Connected) {
        seen.push(wait(states.changed()).await.unwrap());
    }
    assert!(seen.contains(&SessionState::Expired), "{seen:?}");
    assert_ne!(client.session_id(), old.id);
    client.exists("/").await.unwrap();
}

#[tokio::test]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn failover_to_another_server_of_the_list_keeps_the_session() {
    let first = Proxy::start(&zk_addr()).await;
    let second = Proxy::start(&zk_addr()).await;
    let client = Client::builder(format!("{},{}", first.addr(), second.addr()))
        .session_timeout(TIMEOUT)
        .connect()
        .await
        .unwrap();
    let session = client.session();
    let used = session.server.clone().unwrap().to_string();
    let mut states = client.state_watcher();
    // The server in use goes away for good (its listener closes with the proxy).
    let (gone, other) = if used == first.addr() {
        (first, second)
    } else {
        (second, first)
    };
    drop(gone);
    assert_eq!(
        wait(states.changed()).await,
        Some(SessionState::Disconnected)
    );
    assert_eq!(wait(states.changed()).await, Some(SessionState::Connected));
    let now = client.session();
    assert_eq!(now.id, session.id);
    assert_eq!(now.server.unwrap().to_string(), other.addr());
    client.exists("/").await.unwrap();
}

#[tokio::test]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn credentials_are_sent_again_after_a_reconnect() {
    let admin = connect().await;
    let root = fresh_root(&admin, "auth").await;
    let proxy = Proxy::start(&zk_addr()).await;
    let client = connect_to(proxy.addr()).await;
    client.add_auth("digest", b"alice:secret").await.unwrap();
    let secret = format!("{root}/secret");
    let acl = vec![zk_client::Acl {
        perms: zk_client::Perms::ALL,
        id: zk_client::Id::new("auth", ""),
    }];
    client
        .create(
            &secret,
            b"s",
            &CreateOptions::new(CreateMode::Persistent).with_acl(acl),
        )
        .await
        .unwrap();
    assert_eq!(admin.get_data(&secret).await, Err(Error::NoAuth));
    let mut states = client.state_watcher();
    proxy.cut();
    assert_eq!(
        wait(states.changed()).await,
        Some(SessionState::Disconnected)
    );
    assert_eq!(wait(states.changed()).await, Some(SessionState::Connected));
    assert_eq!(client.get_data(&secret).await.unwrap().0, b"s");
    let (acl, _) = client.get_acl(&secret).await.unwrap();
    assert_eq!(acl[0].id.scheme, "digest");
    assert!(acl[0].id.id.starts_with("alice:"));
}

#[tokio::test]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn an_unknown_auth_scheme_fails_the_session() {
    let result = Client::builder(zk_addr())
        .session_timeout(TIMEOUT)
        .auth("no-such-scheme", b"x".to_vec())
        .connect()
        .await;
    assert_eq!(result.err(), Some(Error::AuthFailed));
}
