//! The TxnLog seam: a write's reply leaves only after its transaction was appended, and a log
//! failure stops the server instead of answering writes it may lose.

mod common;

use std::sync::{Arc, Mutex};

use common::{config, eventually, Client};
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

/// A batch held by [`GatedLog`]: its zxids and the gate that makes it durable.
type Gate = (Vec<Zxid>, Option<tokio::sync::oneshot::Sender<()>>);

/// A log that pipelines ([`TxnLog::submit`]) and, once `gated`, holds every batch until the
/// test opens its gate.
#[derive(Clone, Default)]
struct GatedLog {
    gated: Arc<std::sync::atomic::AtomicBool>,
    gates: Arc<Mutex<Vec<Gate>>>,
}

impl GatedLog {
    fn batches(&self) -> usize {
        self.gates.lock().unwrap().len()
    }

    fn open(&self, index: usize) {
        if let Some(gate) = self.gates.lock().unwrap()[index].1.take() {
            let _ = gate.send(());
        }
    }
}

impl TxnLog for GatedLog {
    fn append<'a>(&'a mut self, _txns: &'a [(TxnHeader, Txn)]) -> LogFuture<'a> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn submit(&mut self, txns: &[(TxnHeader, Txn)]) -> Option<LogFuture<'static>> {
        if !self.gated.load(std::sync::atomic::Ordering::SeqCst) {
            return Some(Box::pin(std::future::ready(Ok(()))));
        }
        let (open, opened) = tokio::sync::oneshot::channel();
        let zxids = txns.iter().map(|(h, _)| h.zxid).collect();
        self.gates.lock().unwrap().push((zxids, Some(open)));
        Some(Box::pin(async move {
            opened
                .await
                .map_err(|_| StorageError::Other("gate dropped".into()))
        }))
    }
}

/// Whether a frame arrives within a short while (used only to check that none does).
async fn frame_arrives(c: &mut Client) -> bool {
    tokio::time::timeout(std::time::Duration::from_millis(200), c.read_frame())
        .await
        .is_ok()
}

fn request_frame(xid: i32, request: &Request) -> Vec<u8> {
    use zk_proto::Record;
    let mut payload = Vec::new();
    zk_proto::header::RequestHeader::new(zk_proto::Xid(xid), request.op()).encode(&mut payload);
    request.encode(&mut payload);
    payload
}

#[tokio::test]
async fn pipelined_batches_are_answered_in_order_once_durable() {
    let log = GatedLog::default();
    let server = Server::start_with_log(config(), Box::new(log.clone()))
        .await
        .unwrap();
    let mut c1 = Client::connect(server.local_addr()).await;
    let mut c2 = Client::connect(server.local_addr()).await;
    log.gated.store(true, std::sync::atomic::Ordering::SeqCst);

    c1.send_frame(&request_frame(1, &create("/a"))).await;
    eventually("the first batch in the log", || async {
        log.batches() == 1
    })
    .await;
    // The core takes the next request while the first batch is not durable yet.
    c2.send_frame(&request_frame(1, &create("/b"))).await;
    eventually("the second batch in the log", || async {
        log.batches() == 2
    })
    .await;
    assert!(!frame_arrives(&mut c1).await, "no reply before the sync");

    // The second batch durable first: its reply still waits for the first.
    log.open(1);
    assert!(
        !frame_arrives(&mut c2).await,
        "no reply ahead of an earlier batch"
    );

    log.open(0);
    let a = c1
        .reply_for(zk_proto::Xid(1), zk_proto::OpCode::Create)
        .await;
    let b = c2
        .reply_for(zk_proto::Xid(1), zk_proto::OpCode::Create)
        .await;
    let (Some(a), Some(b)) = (a, b) else {
        panic!("both replies arrive once both batches are durable");
    };
    assert!(a.ok() && b.ok());
    assert!(a.header.zxid < b.header.zxid);
    let gates: Vec<Vec<Zxid>> = log
        .gates
        .lock()
        .unwrap()
        .iter()
        .map(|g| g.0.clone())
        .collect();
    assert_eq!(gates, vec![vec![a.header.zxid], vec![b.header.zxid]]);
    server.shutdown().await;
}
