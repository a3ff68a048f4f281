//! The TxnLog seam: a write's reply leaves only after its transaction was appended, and a log
//! failure stops the server instead of answering writes it may lose.

mod common;

use std::sync::{Arc, Mutex};

use common::{config, Client};
use zk_proto::{Acl, CreateRequest, Request, Zxid};
use zk_server::txn_log::LogFuture;
use zk_server::{Server, StorageError, TxnLog};
use zk_tree::{Txn, TxnHeader};

#[derive(Clone, Default)]
struct SharedLog {
    zxids: Arc<Mutex<Vec<Zxid>>>,
    fail: bool,
}

impl TxnLog for SharedLog {
    fn append<'a>(&'a mut self, txns: &'a [(TxnHeader, Txn)]) -> LogFuture<'a> {
        let zxids = self.zxids.clone();
        let fail = self.fail;
        Box::pin(async move {
            // Let other tasks run first: durability is asynchronous in a real log.
            tokio::task::yield_now().await;
            if fail {
                return Err(StorageError::Other("disk on fire".into()));
            }
            zxids
                .lock()
                .unwrap()
                .extend(txns.iter().map(|(h, _)| h.zxid));
            Ok(())
        })
    }
}

fn create(path: &str) -> Request {
    Request::Create(CreateRequest {
        path: path.into(),
        data: Some(Vec::new()),
        acl: Acl::open_unsafe(),
        flags: 0,
    })
}

#[tokio::test]
async fn a_write_is_answered_only_after_its_txn_is_logged() {
    let log = SharedLog::default();
    let server = Server::start_with_log(config(), Box::new(log.clone()))
        .await
        .unwrap();
    let mut c = Client::connect(server.local_addr()).await;
    let logged = log.zxids.lock().unwrap().clone();
    assert_eq!(
        logged.len(),
        1,
        "the createSession txn is logged before the ConnectResponse"
    );
    for path in ["/a", "/b", "/c"] {
        let reply = c.call(create(path)).await;
        assert!(reply.ok());
        assert!(
            log.zxids.lock().unwrap().contains(&reply.header.zxid),
            "txn {} is durable when its reply arrives",
            reply.header.zxid
        );
    }
    let logged = log.zxids.lock().unwrap().clone();
    let mut sorted = logged.clone();
    sorted.sort();
    assert_eq!(logged, sorted, "txns are appended in zxid order");
    server.shutdown().await;
}

#[tokio::test]
async fn a_failing_log_stops_the_server() {
    let log = SharedLog {
        fail: true,
        ..SharedLog::default()
    };
    let mut server = Server::start_with_log(config(), Box::new(log))
        .await
        .unwrap();
    let mut c = Client::raw(server.local_addr()).await;
    let connect = zk_proto::ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: Zxid::ZERO,
        timeout_ms: 30_000,
        session_id: zk_proto::SessionId(0),
        password: vec![0; 16],
        read_only: Some(false),
    };
    assert!(
        c.handshake(&connect).await.is_none(),
        "no answer for a txn that is not durable"
    );
    assert!(server.wait().await.is_err());
}

#[tokio::test]
async fn a_server_resumes_from_recovered_state() {
    // What a restart would recover: a node, a live session and the last zxid.
    let session = zk_proto::SessionId(0x77_0000);
    let mut tree = zk_tree::DataTree::new();
    let ctx = zk_tree::RequestContext {
        session_id: session,
        auth: &[],
        time_ms: 1,
        zxid: Zxid(41),
    };
    let op = zk_tree::Op::Create {
        path: "/survivor".into(),
        data: Some(b"still here".to_vec()),
        acl: Acl::open_unsafe(),
        mode: zk_proto::CreateMode::Ephemeral,
        ttl_ms: None,
    };
    let txn = tree.prepare(&ctx, &op);
    tree.apply(&ctx.header(1), &txn);
    let initial = zk_server::InitialState {
        tree: Some(tree),
        sessions: vec![(session, 30_000)],
        last_zxid: Zxid(41),
    };
    let server = Server::start_with_state(config(), Box::new(SharedLog::default()), initial)
        .await
        .unwrap();
    let mut c = Client::raw(server.local_addr()).await;
    let response = c
        .handshake(&zk_proto::ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: Zxid(41),
            timeout_ms: 30_000,
            session_id: session,
            password: zk_proto::session_password(session).to_vec(),
            read_only: Some(false),
        })
        .await
        .expect("answer");
    assert_eq!(
        response.session_id, session,
        "the restored session can be reattached"
    );
    let reply = c
        .call(Request::GetData(zk_proto::GetDataRequest {
            path: "/survivor".into(),
            watch: false,
        }))
        .await;
    assert!(reply.ok());
    let reply = c.call(create("/next")).await;
    assert_eq!(
        reply.header.zxid,
        Zxid(42),
        "zxids continue after the recovered one"
    );
    server.shutdown().await;
}

#[derive(Clone, Default)]
struct SnapshottingLog {
    seen: Arc<Mutex<Vec<(usize, bool, usize)>>>,
}

impl TxnLog for SnapshottingLog {
    fn append<'a>(&'a mut self, _txns: &'a [(TxnHeader, Txn)]) -> LogFuture<'a> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn committed(&mut self, txns: usize, state: &zk_server::CommittedState<'_>) {
        let has_node = state.tree().exists("/snap").is_some();
        let sessions = state.sessions().len();
        self.seen.lock().unwrap().push((txns, has_node, sessions));
    }
}

#[tokio::test]
async fn the_log_sees_the_applied_state_after_each_durable_batch() {
    let log = SnapshottingLog::default();
    let server = Server::start_with_log(config(), Box::new(log.clone()))
        .await
        .unwrap();
    let mut c = Client::connect(server.local_addr()).await;
    assert!(c.call(create("/snap")).await.ok());
    let seen = log.seen.lock().unwrap().clone();
    assert_eq!(
        seen.first(),
        Some(&(1, false, 1)),
        "createSession: one txn, one session"
    );
    assert_eq!(
        seen.last(),
        Some(&(1, true, 1)),
        "the create is applied when the log hears of it"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_durable_log_keeps_nodes_and_sessions_across_a_restart() {
    let dir = std::env::temp_dir().join(format!("zk-server-durable-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cfg = config();
    cfg.data_dir = dir.join("data");
    cfg.data_log_dir = dir.join("log");

    let (log, initial) = zk_server::DurableTxnLog::open(&cfg).expect("opens an empty directory");
    assert_eq!(initial.last_zxid, Zxid::ZERO);
    let server = Server::start_with_state(cfg.clone(), Box::new(log), initial)
        .await
        .unwrap();
    let mut c = Client::connect(server.local_addr()).await;
    assert!(c.call(create("/kept")).await.ok());
    let last = c.call(create("/kept/child")).await.header.zxid;
    let (session, password) = (c.session, c.password.clone());
    server.shutdown().await;

    let (log, initial) = zk_server::DurableTxnLog::open(&cfg).expect("recovers");
    assert_eq!(initial.last_zxid, last);
    let server = Server::start_with_state(cfg.clone(), Box::new(log), initial)
        .await
        .unwrap();
    let mut again = Client::raw(server.local_addr()).await;
    let response = again
        .handshake(&zk_proto::ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: last,
            timeout_ms: 30_000,
            session_id: session,
            password,
            read_only: Some(false),
        })
        .await
        .expect("answer");
    assert_eq!(
        response.session_id, session,
        "the session survived the restart"
    );
    let reply = again
        .call(Request::GetData(zk_proto::GetDataRequest {
            path: "/kept/child".into(),
            watch: false,
        }))
        .await;
    assert!(reply.ok());
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
