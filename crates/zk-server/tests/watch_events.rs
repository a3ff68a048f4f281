//! Watches: one-shot watches fire once and before the reply that follows the change, exist
//! watches on missing nodes, child watches, persistent recursive watches, SetWatches after a
//! reconnect, and ephemerals removed (with their watches firing) on session expiry.

mod common;

use common::{code, config, eventually, start, Client};
use zk_proto::request::{
    AddWatchRequest, ExistsRequest, GetChildrenRequest, GetDataRequest, SetDataRequest, SetWatches,
};
use zk_proto::watcher::EventType;
use zk_proto::{Acl, CreateMode, CreateRequest, ErrorCode, Request, Xid};

fn create(path: &str, mode: CreateMode) -> Request {
    Request::Create(CreateRequest {
        path: path.into(),
        data: Some(Vec::new()),
        acl: Acl::open_unsafe(),
        flags: mode.flags(),
    })
}

fn set(path: &str) -> Request {
    Request::SetData(SetDataRequest {
        path: path.into(),
        data: Some(b"v".to_vec()),
        version: -1,
    })
}

#[tokio::test]
async fn a_data_watch_fires_once_and_before_the_next_reply() {
    let server = start(config()).await;
    let mut watcher = Client::connect(server.local_addr()).await;
    let mut writer = Client::connect(server.local_addr()).await;
    assert!(writer.call(create("/w", CreateMode::Persistent)).await.ok());
    let reply = watcher
        .call(Request::GetData(GetDataRequest {
            path: "/w".into(),
            watch: true,
        }))
        .await;
    assert!(reply.ok());
    assert!(writer.call(set("/w")).await.ok());
    assert!(writer.call(set("/w")).await.ok());
    // The ping's reply follows both changes, so every notification is already queued before it.
    assert!(watcher.ping().await.ok());
    let events: Vec<_> = watcher.events.drain(..).collect();
    assert_eq!(events.len(), 1, "a one-shot watch fires once: {events:?}");
    assert_eq!(events[0].event_type, EventType::NodeDataChanged);
    assert_eq!(events[0].path, "/w");
    server.shutdown().await;
}

#[tokio::test]
async fn the_writer_sees_its_own_notification_before_its_reply() {
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;
    assert!(c.call(create("/self", CreateMode::Persistent)).await.ok());
    assert!(c
        .call(Request::GetData(GetDataRequest {
            path: "/self".into(),
            watch: true
        }))
        .await
        .ok());
    assert!(c.call(set("/self")).await.ok());
    assert_eq!(
        c.events.len(),
        1,
        "the notification came before the setData reply"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn an_exist_watch_on_a_missing_node_fires_on_create() {
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;
    let reply = c
        .call(Request::Exists(ExistsRequest {
            path: "/later".into(),
            watch: true,
        }))
        .await;
    assert_eq!(code(&reply), ErrorCode::NoNode);
    let mut other = Client::connect(server.local_addr()).await;
    assert!(other
        .call(create("/later", CreateMode::Persistent))
        .await
        .ok());
    let event = c.next_event().await;
    assert_eq!(event.event_type, EventType::NodeCreated);
    assert_eq!(event.path, "/later");
    server.shutdown().await;
}

#[tokio::test]
async fn a_child_watch_fires_when_a_child_is_created() {
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;
    assert!(c.call(create("/parent", CreateMode::Persistent)).await.ok());
    assert!(c
        .call(Request::GetChildren(GetChildrenRequest {
            path: "/parent".into(),
            watch: true
        }))
        .await
        .ok());
    let mut other = Client::connect(server.local_addr()).await;
    assert!(other
        .call(create("/parent/kid", CreateMode::Persistent))
        .await
        .ok());
    let event = c.next_event().await;
    assert_eq!(event.event_type, EventType::NodeChildrenChanged);
    assert_eq!(event.path, "/parent");
    server.shutdown().await;
}

#[tokio::test]
async fn a_persistent_recursive_watch_fires_for_every_descendant_change() {
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;
    assert!(c.call(create("/tree", CreateMode::Persistent)).await.ok());
    assert!(c
        .call(Request::AddWatch(AddWatchRequest {
            path: "/tree".into(),
            mode: 1
        }))
        .await
        .ok());
    let mut other = Client::connect(server.local_addr()).await;
    assert!(other
        .call(create("/tree/a", CreateMode::Persistent))
        .await
        .ok());
    assert!(other.call(set("/tree/a")).await.ok());
    assert!(other.call(set("/tree/a")).await.ok());
    let kinds = [
        c.next_event().await,
        c.next_event().await,
        c.next_event().await,
    ];
    assert_eq!(kinds[0].event_type, EventType::NodeCreated);
    assert_eq!(kinds[1].event_type, EventType::NodeDataChanged);
    assert_eq!(kinds[2].event_type, EventType::NodeDataChanged);
    assert!(kinds.iter().all(|e| e.path == "/tree/a"));
    server.shutdown().await;
}

#[tokio::test]
async fn set_watches_reports_changes_missed_while_disconnected() {
    let server = start(config()).await;
    let mut writer = Client::connect(server.local_addr()).await;
    assert!(writer
        .call(create("/seen", CreateMode::Persistent))
        .await
        .ok());
    let seen_zxid = writer.last_zxid;
    assert!(writer.call(set("/seen")).await.ok());
    let mut c = Client::connect(server.local_addr()).await;
    let reply = c
        .call_with_xid(
            Xid::SET_WATCHES,
            Request::SetWatches(SetWatches {
                relative_zxid: seen_zxid,
                data_watches: vec!["/seen".into(), "/gone".into()],
                exist_watches: vec!["/seen".into()],
                child_watches: Vec::new(),
            }),
        )
        .await;
    assert!(reply.ok());
    let mut kinds: Vec<_> = c.events.drain(..).map(|e| (e.event_type, e.path)).collect();
    kinds.sort_by_key(|(kind, path)| (kind.code(), path.clone()));
    assert_eq!(
        kinds,
        [
            (EventType::NodeCreated, "/seen".to_owned()),
            (EventType::NodeDeleted, "/gone".to_owned()),
            (EventType::NodeDataChanged, "/seen".to_owned()),
        ]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn watches_of_a_closed_connection_are_dropped() {
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;
    assert!(c.call(create("/drop", CreateMode::Persistent)).await.ok());
    assert!(c
        .call(Request::GetData(GetDataRequest {
            path: "/drop".into(),
            watch: true
        }))
        .await
        .ok());
    drop(c);
    let addr = server.local_addr();
    eventually("the watch to go with its connection", || async move {
        let text = common::four_letter(addr, "wchs").await;
        text.starts_with("0 connections watching 0 paths")
    })
    .await;
    server.shutdown().await;
}

#[tokio::test]
async fn an_expired_session_loses_its_ephemerals_and_watchers_hear_it() {
    let server = start(config()).await;
    let mut owner = Client::connect_timeout(server.local_addr(), 200).await;
    assert_eq!(owner.timeout_ms, 200);
    assert!(owner
        .call(create("/lease", CreateMode::Ephemeral))
        .await
        .ok());
    let mut watcher = Client::connect(server.local_addr()).await;
    assert!(watcher
        .call(Request::Exists(ExistsRequest {
            path: "/lease".into(),
            watch: true
        }))
        .await
        .ok());
    // The owner goes silent: no pings, so the session expires.
    let event = watcher.next_event().await;
    assert_eq!(event.event_type, EventType::NodeDeleted);
    assert_eq!(event.path, "/lease");
    assert!(
        owner.closed_by_server().await,
        "the expired session's connection is closed"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_dropped_connection_keeps_its_session_until_expiry() {
    let server = start(config()).await;
    let mut owner = Client::connect_timeout(server.local_addr(), 30_000).await;
    assert!(owner
        .call(create("/kept", CreateMode::Ephemeral))
        .await
        .ok());
    let session = owner.session;
    let password = owner.password.clone();
    drop(owner);
    let mut back = Client::raw(server.local_addr()).await;
    let response = back
        .handshake(&zk_proto::ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: zk_proto::Zxid::ZERO,
            timeout_ms: 30_000,
            session_id: session,
            password,
            read_only: Some(false),
        })
        .await
        .expect("answer");
    assert_eq!(response.session_id, session);
    assert!(back
        .call(Request::GetData(GetDataRequest {
            path: "/kept".into(),
            watch: false
        }))
        .await
        .ok());
    server.shutdown().await;
}
