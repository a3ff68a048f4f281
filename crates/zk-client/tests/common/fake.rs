//! A tiny in-test ZooKeeper speaking jute over TCP, for tests that need no real server and for
//! faults a real server cannot be asked for: one in-memory tree, sessions, one-shot data and
//! child watches, SetWatches2, and fault switches (lose the reply to a create, cut every
//! connection, answer reconnects as expired). It records every ConnectRequest and SetWatches2
//! it receives so that tests can assert what the client sent.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use zk_proto::{
    encode_notification, write_frame, ConnectRequest, ConnectResponse, Create2Response,
    CreateRequest, DeleteRequest, ErrorCode, EventType, ExistsRequest, GetChildren2Request,
    GetChildren2Response, GetChildrenRequest, GetChildrenResponse, GetDataRequest, GetDataResponse,
    OpCode, Reader, Record, ReplyHeader, RequestHeader, SessionId, SetWatches2, Stat, Xid, Zxid,
};

struct Node {
    data: Vec<u8>,
    stat: Stat,
    sequence: i32,
}

#[derive(Default)]
struct State {
    nodes: BTreeMap<String, Node>,
    zxid: u64,
    next_session: i64,
    sessions: HashMap<i64, Vec<u8>>,
    /// Data (and exist) watches: path -> connection ids.
    data_watches: HashMap<String, BTreeSet<u64>>,
    child_watches: HashMap<String, BTreeSet<u64>>,
    /// Notification channels of the open connections.
    connections: HashMap<u64, mpsc::UnboundedSender<Vec<u8>>>,
    next_connection: u64,
    /// Fault: lose the reply to the next create whose path contains this, then cut.
    lose_create_reply: Option<String>,
    lost_replies: usize,
    /// Fault: answer every reconnect as expired.
    expire_reconnects: bool,
    /// What the clients sent.
    connect_requests: Vec<ConnectRequest>,
    set_watches: Vec<SetWatches2>,
    pings: usize,
    notifications_sent: usize,
}

/// A running fake server.
pub struct FakeServer {
    addr: String,
    state: Arc<Mutex<State>>,
    cut: watch::Sender<u64>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut.send_modify(|n| *n += 1);
    }
}

fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(at) => &path[..at],
    }
}

fn name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or_default()
}

impl FakeServer {
    /// Starts the server on an ephemeral local port, with the root node.
    pub async fn start() -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let mut state = State {
            next_session: 0x4200,
            ..State::default()
        };
        state.nodes.insert(
            "/".into(),
            Node {
                data: Vec::new(),
                stat: Stat::default(),
                sequence: 0,
            },
        );
        let state = Arc::new(Mutex::new(state));
        let (cut, _) = watch::channel(0);
        let (state2, cut2) = (state.clone(), cut.clone());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let mut cut_rx = cut2.subscribe();
                cut_rx.mark_unchanged();
                tokio::spawn(serve(stream, state2.clone(), cut_rx));
            }
        });
        FakeServer {
            addr,
            state,
            cut,
            accept,
        }
    }

    /// The connect string.
    pub fn addr(&self) -> String {
        self.addr.clone()
    }

    /// Closes every open connection; sessions survive.
    pub fn cut(&self) {
        self.cut.send_modify(|n| *n += 1);
    }

    /// Loses the reply to the next create whose path contains `marker`, then cuts that
    /// connection (the create itself is applied).
    pub fn lose_next_create_reply(&self, marker: &str) {
        self.state.lock().unwrap().lose_create_reply = Some(marker.to_owned());
    }

    /// Answers every later reconnect with the expired-session response (and forgets every
    /// session's ephemeral nodes).
    pub fn expire_reconnects(&self) {
        let mut state = self.state.lock().unwrap();
        state.expire_reconnects = true;
        let sessions: Vec<i64> = state.sessions.keys().copied().collect();
        for session in sessions {
            expire_session(&mut state, session);
        }
    }

    /// Replies lost so far.
    pub fn lost_replies(&self) -> usize {
        self.state.lock().unwrap().lost_replies
    }

    /// Every ConnectRequest received, in order.
    pub fn connect_requests(&self) -> Vec<ConnectRequest> {
        self.state.lock().unwrap().connect_requests.clone()
    }

    /// Every SetWatches2 received, in order.
    pub fn set_watches(&self) -> Vec<SetWatches2> {
        self.state.lock().unwrap().set_watches.clone()
    }

    /// Pings received.
    pub fn pings(&self) -> usize {
        self.state.lock().unwrap().pings
    }

    /// Notifications sent.
    pub fn notifications_sent(&self) -> usize {
        self.state.lock().unwrap().notifications_sent
    }

    /// The children of a node, sorted.
    pub fn children(&self, path: &str) -> Vec<String> {
        let state = self.state.lock().unwrap();
        children_of(&state, path)
    }

    /// The last zxid assigned.
    pub fn zxid(&self) -> u64 {
        self.state.lock().unwrap().zxid
    }
}

fn children_of(state: &State, path: &str) -> Vec<String> {
    state
        .nodes
        .keys()
        .filter(|p| p.as_str() != "/" && parent(p) == path)
        .map(|p| name(p).to_owned())
        .collect()
}

fn expire_session(state: &mut State, session: i64) {
    state.sessions.remove(&session);
    let doomed: Vec<String> = state
        .nodes
        .iter()
        .filter(|(_, n)| n.stat.ephemeral_owner == SessionId(session))
        .map(|(p, _)| p.clone())
        .collect();
    for path in doomed {
        delete_node(state, &path);
    }
}

fn notify(state: &mut State, watchers: Option<BTreeSet<u64>>, event: EventType, path: &str) {
    for connection in watchers.unwrap_or_default() {
        if let Some(tx) = state.connections.get(&connection) {
            let mut frame = Vec::new();
            write_frame(&mut frame, |out| encode_notification(event, path, out));
            if tx.send(frame).is_ok() {
                state.notifications_sent += 1;
            }
        }
    }
}

fn delete_node(state: &mut State, path: &str) {
    state.zxid += 1;
    state.nodes.remove(path);
    let watchers = state.data_watches.remove(path);
    notify(state, watchers, EventType::NodeDeleted, path);
    let watchers = state.child_watches.remove(parent(path));
    notify(
        state,
        watchers,
        EventType::NodeChildrenChanged,
        parent(path),
    );
}

/// Znode data of a request record, null read as empty (the codec may keep null apart).
fn read_data<T: Into<Option<Vec<u8>>>>(data: T) -> Vec<u8> {
    data.into().unwrap_or_default()
}

/// Znode data for a response record.
fn write_data<T: From<Vec<u8>>>(data: Vec<u8>) -> T {
    T::from(data)
}

enum Outcome {
    Reply(i32, Vec<u8>),
    LoseAndCut,
    Close,
}

fn handle(
    state: &mut State,
    connection: u64,
    session: i64,
    op: i32,
    r: &mut Reader<'_>,
) -> Outcome {
    let ok = |body: Vec<u8>| Outcome::Reply(0, body);
    let err = |code: ErrorCode| Outcome::Reply(code.code(), Vec::new());
    match OpCode::from_code(op) {
        Some(OpCode::Create) | Some(OpCode::Create2) => {
            let request = CreateRequest::decode(r).unwrap();
            let parent_path = parent(&request.path).to_owned();
            let Some(parent_node) = state.nodes.get_mut(&parent_path) else {
                return err(ErrorCode::NoNode);
            };
            let mut path = request.path.clone();
            if request.flags & 2 != 0 {
                path = format!("{path}{:010}", parent_node.sequence);
            }
            parent_node.sequence += 1;
            if state.nodes.contains_key(&path) {
                return err(ErrorCode::NodeExists);
            }
            state.zxid += 1;
            // Null data reads as empty (the codec may or may not keep null apart).
            let data = read_data(request.data);
            let stat = Stat {
                czxid: Zxid(state.zxid),
                mzxid: Zxid(state.zxid),
                pzxid: Zxid(state.zxid),
                ephemeral_owner: SessionId(if request.flags & 1 != 0 { session } else { 0 }),
                data_length: data.len() as i32,
                ..Stat::default()
            };
            state.nodes.insert(
                path.clone(),
                Node {
                    data,
                    stat,
                    sequence: 0,
                },
            );
            let watchers = state.data_watches.remove(&path);
            notify(state, watchers, EventType::NodeCreated, &path);
            let watchers = state.child_watches.remove(&parent_path);
            notify(
                state,
                watchers,
                EventType::NodeChildrenChanged,
                &parent_path,
            );
            if let Some(marker) = state.lose_create_reply.clone() {
                if path.contains(&marker) {
                    state.lose_create_reply = None;
                    state.lost_replies += 1;
                    return Outcome::LoseAndCut;
                }
            }
            if op == OpCode::Create.code() {
                let mut body = Vec::new();
                zk_proto::Writer::write_str(&mut body, &path);
                ok(body)
            } else {
                ok(Create2Response { path, stat }.to_bytes())
            }
        }
        Some(OpCode::Delete) => {
            let request = DeleteRequest::decode(r).unwrap();
            if !state.nodes.contains_key(&request.path) {
                return err(ErrorCode::NoNode);
            }
            if !children_of(state, &request.path).is_empty() {
                return err(ErrorCode::NotEmpty);
            }
            delete_node(state, &request.path);
            ok(Vec::new())
        }
        Some(OpCode::Exists) => {
            let request = ExistsRequest::decode(r).unwrap();
            if request.watch {
                state
                    .data_watches
                    .entry(request.path.clone())
                    .or_default()
                    .insert(connection);
            }
            match state.nodes.get(&request.path) {
                Some(node) => ok(node.stat.to_bytes()),
                None => err(ErrorCode::NoNode),
            }
        }
        Some(OpCode::GetData) => {
            let request = GetDataRequest::decode(r).unwrap();
            match state.nodes.get(&request.path) {
                Some(node) => {
                    let body = GetDataResponse {
                        data: write_data(node.data.clone()),
                        stat: node.stat,
                    }
                    .to_bytes();
                    if request.watch {
                        state
                            .data_watches
                            .entry(request.path)
                            .or_default()
                            .insert(connection);
                    }
                    ok(body)
                }
                None => err(ErrorCode::NoNode),
            }
        }
        Some(OpCode::GetChildren) | Some(OpCode::GetChildren2) => {
            let (path, watch) = if op == OpCode::GetChildren.code() {
                let request = GetChildrenRequest::decode(r).unwrap();
                (request.path, request.watch)
            } else {
                let request = GetChildren2Request::decode(r).unwrap();
                (request.path, request.watch)
            };
            let Some(node) = state.nodes.get(&path) else {
                return err(ErrorCode::NoNode);
            };
            let stat = node.stat;
            let children = children_of(state, &path);
            if watch {
                state
                    .child_watches
                    .entry(path)
                    .or_default()
                    .insert(connection);
            }
            if op == OpCode::GetChildren.code() {
                ok(GetChildrenResponse { children }.to_bytes())
            } else {
                ok(GetChildren2Response { children, stat }.to_bytes())
            }
        }
        Some(OpCode::SetWatches2) => {
            let request = SetWatches2::decode(r).unwrap();
            for path in request.data_watches.iter().chain(&request.exist_watches) {
                state
                    .data_watches
                    .entry(path.clone())
                    .or_default()
                    .insert(connection);
            }
            for path in &request.child_watches {
                state
                    .child_watches
                    .entry(path.clone())
                    .or_default()
                    .insert(connection);
            }
            state.set_watches.push(request);
            ok(Vec::new())
        }
        Some(OpCode::Ping) => {
            state.pings += 1;
            ok(Vec::new())
        }
        Some(OpCode::CloseSession) => {
            expire_session(state, session);
            Outcome::Close
        }
        _ => err(ErrorCode::Unimplemented),
    }
}

async fn read_frame(stream: &mut tokio::net::tcp::OwnedReadHalf) -> Option<Vec<u8>> {
    let mut prefix = [0u8; 4];
    stream.read_exact(&mut prefix).await.ok()?;
    let mut payload = vec![0; usize::try_from(i32::from_be_bytes(prefix)).ok()?];
    stream.read_exact(&mut payload).await.ok()?;
    Some(payload)
}

async fn serve(stream: TcpStream, state: Arc<Mutex<State>>, mut cut: watch::Receiver<u64>) {
    let (mut reader, mut writer) = stream.into_split();
    let Some(payload) = read_frame(&mut reader).await else {
        return;
    };
    let request = ConnectRequest::from_bytes(&payload)
        .or_else(|_| ConnectRequest::decode(&mut Reader::new(&payload)))
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let (connection, session, response) = {
        let mut state = state.lock().unwrap();
        state.connect_requests.push(request.clone());
        let known = state.sessions.get(&request.session_id.0) == Some(&request.password);
        let response = if request.session_id.0 != 0 && (!known || state.expire_reconnects) {
            ConnectResponse::invalid(&request)
        } else {
            let id = if request.session_id.0 == 0 {
                state.next_session += 1;
                let id = state.next_session;
                state
                    .sessions
                    .insert(id, zk_proto::session_password(SessionId(id)).to_vec());
                id
            } else {
                request.session_id.0
            };
            ConnectResponse {
                protocol_version: 0,
                timeout_ms: request.timeout_ms,
                session_id: SessionId(id),
                password: state.sessions[&id].clone(),
                read_only: request.read_only.map(|_| false),
            }
        };
        state.next_connection += 1;
        let connection = state.next_connection;
        state.connections.insert(connection, tx.clone());
        (connection, response.session_id.0, response)
    };
    let mut frame = Vec::new();
    write_frame(&mut frame, |out| response.encode(out));
    if writer.write_all(&frame).await.is_err() || session == 0 {
        state.lock().unwrap().connections.remove(&connection);
        return;
    }
    let writer_task = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if writer.write_all(&frame).await.is_err() {
                return;
            }
        }
    });
    loop {
        let payload = tokio::select! {
            payload = read_frame(&mut reader) => payload,
            _ = cut.changed() => None,
        };
        let Some(payload) = payload else { break };
        let mut r = Reader::new(&payload);
        let header = RequestHeader::decode(&mut r).unwrap();
        let mut state = state.lock().unwrap();
        let outcome = handle(&mut state, connection, session, header.op, &mut r);
        let zxid = Zxid(state.zxid);
        match outcome {
            Outcome::Reply(err, body) => {
                let xid = if header.op == OpCode::Ping.code() {
                    Xid::PING
                } else {
                    header.xid
                };
                let mut frame = Vec::new();
                write_frame(&mut frame, |out| {
                    ReplyHeader { xid, zxid, err }.encode(out);
                    out.extend_from_slice(&body);
                });
                let _ = tx.send(frame);
            }
            Outcome::LoseAndCut => break,
            Outcome::Close => {
                let mut frame = Vec::new();
                write_frame(&mut frame, |out| {
                    ReplyHeader {
                        xid: header.xid,
                        zxid,
                        err: 0,
                    }
                    .encode(out)
                });
                let _ = tx.send(frame);
                break;
            }
        }
    }
    {
        let mut guard = state.lock().unwrap();
        let state = &mut *guard;
        state.connections.remove(&connection);
        for watchers in state
            .data_watches
            .values_mut()
            .chain(state.child_watches.values_mut())
        {
            watchers.remove(&connection);
        }
    }
    drop(tx);
    // Let queued replies (a close's) go out, then drop the socket.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), writer_task).await;
}
