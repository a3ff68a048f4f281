//! The session task: one tokio task per client that owns the connection, the xid counter, the
//! requests in flight and the watch registry.
//!
//! * Requests are pipelined: the task gives each an xid, appends it to the in-flight FIFO and
//!   hands the frame to the connection's single writer task. Replies must come back in xid
//!   order (as the Java client demands); an out-of-order xid is a protocol error that drops the
//!   connection.
//! * Pings go out when nothing was sent for a third of the negotiated timeout; a connection on
//!   which nothing was received for two thirds of it is declared lost.
//! * A lost connection fails the requests in flight with `ConnectionLoss` and reconnects to the
//!   next server of the (shuffled) list with the same session id, password and last zxid seen;
//!   after the handshake it re-sends the auth packets and re-registers every watch with
//!   SetWatches2, then sends what was queued meanwhile.
//! * An expired session fails everything with `SessionExpired` and ends every watch; a client
//!   built to renew expired sessions then starts a new one.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::{sleep, sleep_until, timeout, Instant};
use tracing::{debug, info, warn, Instrument};
use zk_proto::{
    decode_frame, write_frame, AuthPacket, ConnectRequest, ConnectResponse, ErrorCode, OpCode,
    Reader, Record, ReplyHeader, RequestHeader, Response, SessionId, SetWatches2, WatcherEvent,
    WatcherType, Xid, Zxid, PASSWORD_LEN,
};

use crate::connect_string::{ConnectString, ServerAddress};
use crate::error::{Error, Result};
use crate::util::random_u64;
use crate::watch::{SessionState, WatchLists, WatchRegistration, WatchRegistry};

/// The largest reply frame the client accepts.
const MAX_REPLY_FRAME_LEN: usize = 64 << 20;
/// SetWatches2 packets carry at most this many bytes of paths (as the Java client does).
const SET_WATCHES_MAX_PATH_BYTES: usize = 128 << 10;
/// How long a close waits for the server's closeSession reply.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(3);

/// The established session, as last reported by the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// The session id (0 before the first handshake).
    pub id: SessionId,
    /// The session password.
    pub password: Vec<u8>,
    /// The negotiated session timeout.
    pub timeout_ms: u32,
    /// The server of the current or last connection.
    pub server: Option<ServerAddress>,
}

/// What the client handles and the session task share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) connect_string: ConnectString,
    pub(crate) state: watch::Sender<SessionState>,
    /// Every state change, in order; taken (closing the stream) when the session task ends.
    pub(crate) state_events: Mutex<Option<broadcast::Sender<SessionState>>>,
    pub(crate) session: Mutex<SessionInfo>,
    pub(crate) notifications_received: AtomicU64,
}

impl Shared {
    fn set_state(&self, state: SessionState) {
        let changed = self.state.send_if_modified(|current| {
            if *current == state {
                false
            } else {
                *current = state;
                true
            }
        });
        if changed {
            info!(?state, "session state");
            if let Some(events) = &*self.state_events.lock().expect("state events lock") {
                let _ = events.send(state);
            }
        }
    }

    /// A receiver of every later state change; already closed once the session task ended.
    pub(crate) fn subscribe_state_events(&self) -> broadcast::Receiver<SessionState> {
        match &*self.state_events.lock().expect("state events lock") {
            Some(events) => events.subscribe(),
            None => broadcast::channel(1).1,
        }
    }
}

/// A side effect applied when a request succeeds.
#[derive(Debug)]
pub(crate) enum Effect {
    /// removeWatches succeeded: forget the local watches of that type.
    RemoveWatches {
        server_path: String,
        watcher_type: WatcherType,
    },
}

/// One request submitted by a client handle.
#[derive(Debug)]
pub(crate) struct Operation {
    pub(crate) op: OpCode,
    pub(crate) body: Vec<u8>,
    pub(crate) watch: Option<(String, WatchRegistration)>,
    pub(crate) effect: Option<Effect>,
    pub(crate) reply: oneshot::Sender<Result<Response>>,
}

/// Messages from client handles to the session task.
#[derive(Debug)]
pub(crate) enum Command {
    Submit(Operation),
    AddAuth {
        scheme: String,
        auth: Vec<u8>,
        reply: oneshot::Sender<Result<()>>,
    },
    Close {
        reply: oneshot::Sender<()>,
    },
}

/// Settings fixed when the client is built.
#[derive(Clone, Debug)]
pub(crate) struct SessionConfig {
    pub(crate) session_timeout_ms: u32,
    pub(crate) renew_expired_session: bool,
    pub(crate) initial_session: Option<(SessionId, Vec<u8>)>,
}

/// How one connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Lost,
    Expired,
    AuthFailed,
    Closed,
}

struct InFlight {
    xid: Xid,
    op: OpCode,
    watch: Option<(String, WatchRegistration)>,
    effect: Option<Effect>,
    reply: Option<oneshot::Sender<Result<Response>>>,
}

/// The per-connection half of the state.
struct Connection {
    writer: mpsc::UnboundedSender<Vec<u8>>,
    in_flight: VecDeque<InFlight>,
    auth_waiters: VecDeque<Option<oneshot::Sender<Result<()>>>>,
    last_send: Instant,
    last_recv: Instant,
}

impl Connection {
    fn send(&mut self, frame: Vec<u8>) {
        // A failed send means the writer is gone; the select loop notices through `closed()`.
        let _ = self.writer.send(frame);
        self.last_send = Instant::now();
    }
}

pub(crate) struct SessionTask {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedReceiver<Command>,
    config: SessionConfig,
    servers: Vec<ServerAddress>,
    next_server: usize,
    failed_attempts: u32,
    session_id: SessionId,
    password: Vec<u8>,
    negotiated_timeout_ms: u32,
    last_zxid: Zxid,
    next_xid: i32,
    watches: WatchRegistry,
    auths: Vec<(String, Vec<u8>)>,
    backlog: VecDeque<Command>,
    close_waiters: Vec<oneshot::Sender<()>>,
}

impl SessionTask {
    pub(crate) fn new(
        shared: Arc<Shared>,
        commands: mpsc::UnboundedReceiver<Command>,
        config: SessionConfig,
    ) -> SessionTask {
        let mut servers = shared.connect_string.servers.clone();
        shuffle(&mut servers);
        let (session_id, password) = config
            .initial_session
            .clone()
            .unwrap_or((SessionId(0), vec![0; PASSWORD_LEN]));
        SessionTask {
            shared,
            commands,
            negotiated_timeout_ms: config.session_timeout_ms,
            config,
            servers,
            next_server: 0,
            failed_attempts: 0,
            session_id,
            password,
            last_zxid: Zxid(0),
            next_xid: 1,
            watches: WatchRegistry::default(),
            auths: Vec::new(),
            backlog: VecDeque::new(),
            close_waiters: Vec::new(),
        }
    }

    /// Runs the session until it is closed, fails authentication, or expires for good.
    pub(crate) async fn run(mut self) {
        let span = tracing::info_span!("session", id = tracing::field::Empty);
        async {
            loop {
                let end = self.connect_and_serve().await;
                match end {
                    End::Lost => {
                        if self.shared.state.borrow().is_connected() {
                            self.shared.set_state(SessionState::Disconnected);
                        }
                    }
                    End::Expired => {
                        self.expire();
                        if !self.config.renew_expired_session {
                            self.finish(SessionState::Expired, Error::SessionExpired);
                            return;
                        }
                    }
                    End::AuthFailed => {
                        self.finish(SessionState::AuthFailed, Error::AuthFailed);
                        return;
                    }
                    End::Closed => {
                        self.finish(SessionState::Closed, Error::Closed);
                        return;
                    }
                }
            }
        }
        .instrument(span)
        .await
    }

    fn next_xid(&mut self) -> Xid {
        let xid = self.next_xid;
        self.next_xid = if xid == i32::MAX { 1 } else { xid + 1 };
        Xid(xid)
    }

    fn client_path(&self, server_path: &str) -> String {
        self.shared.connect_string.client_path(server_path)
    }

    /// The session expired: fail what waits, end every watch, forget the session.
    fn expire(&mut self) {
        warn!(session = %self.session_id, "session expired");
        let connect_string = self.shared.connect_string.clone();
        self.watches
            .end_all(SessionState::Expired, |p| connect_string.client_path(p));
        for command in self.backlog.drain(..) {
            fail_command(command, Error::SessionExpired);
        }
        self.session_id = SessionId(0);
        self.password = vec![0; PASSWORD_LEN];
        self.shared.set_state(SessionState::Expired);
    }

    /// The final state: fail everything queued and everything that still arrives, and end
    /// the state streams.
    fn finish(&mut self, state: SessionState, error: Error) {
        let connect_string = self.shared.connect_string.clone();
        self.watches
            .end_all(state, |p| connect_string.client_path(p));
        for command in self.backlog.drain(..) {
            fail_command(command, error.clone());
        }
        self.commands.close();
        while let Ok(command) = self.commands.try_recv() {
            fail_command(command, error.clone());
        }
        self.shared.set_state(state);
        // Wake whoever waits on the state even when it did not change (already `Expired`),
        // and end the stream of state changes.
        self.shared.state.send_modify(|_| {});
        self.shared
            .state_events
            .lock()
            .expect("state events lock")
            .take();
        for waiter in self.close_waiters.drain(..) {
            let _ = waiter.send(());
        }
    }

    /// Connects to the next server and serves the connection until it ends.
    async fn connect_and_serve(&mut self) -> End {
        let server = self.servers[self.next_server % self.servers.len()].clone();
        self.next_server += 1;
        let pause = if self.failed_attempts as usize >= self.servers.len() {
            let exponent = (self.failed_attempts as usize / self.servers.len()).min(5) as u32;
            Duration::from_millis(50 * (1 << exponent) + random_u64() % 100)
        } else {
            Duration::ZERO
        };
        let attempt_timeout = Duration::from_millis(u64::from(
            (self.negotiated_timeout_ms / self.servers.len() as u32).max(1000),
        ));
        let request = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: self.last_zxid,
            timeout_ms: self.config.session_timeout_ms as i32,
            session_id: self.session_id,
            password: self.password.clone(),
            read_only: Some(false),
        };
        let handshake = async {
            sleep(pause).await;
            timeout(attempt_timeout, handshake(&server, &request))
                .await
                .unwrap_or_else(|_| Err(HandshakeError::Io("handshake timed out".into())))
        };
        tokio::pin!(handshake);
        let result = loop {
            tokio::select! {
                result = &mut handshake => break result,
                command = self.commands.recv() => match command {
                    None => return End::Closed,
                    Some(Command::Close { reply }) => {
                        self.close_waiters.push(reply);
                        return End::Closed;
                    }
                    Some(command) => self.backlog.push_back(command),
                },
            }
        };
        let (stream, response) = match result {
            Ok(ok) => ok,
            Err(HandshakeError::Io(why)) => {
                debug!(%server, %why, "connection attempt failed");
                self.failed_attempts += 1;
                return End::Lost;
            }
            Err(HandshakeError::Expired) => {
                self.failed_attempts = 0;
                return End::Expired;
            }
        };
        self.failed_attempts = 0;
        let new_session = self.session_id != response.session_id;
        self.session_id = response.session_id;
        self.password = response.password.clone();
        self.negotiated_timeout_ms = response.timeout_ms as u32;
        tracing::Span::current().record("id", tracing::field::display(self.session_id));
        *self.shared.session.lock().expect("session info lock") = SessionInfo {
            id: self.session_id,
            password: self.password.clone(),
            timeout_ms: self.negotiated_timeout_ms,
            server: Some(server.clone()),
        };
        info!(%server, session = %self.session_id, timeout_ms = self.negotiated_timeout_ms, new_session, "connected");
        self.serve(stream).await
    }

    async fn serve(&mut self, stream: TcpStream) -> End {
        let _ = stream.set_nodelay(true);
        let (mut read_half, write_half) = stream.into_split();
        let (writer_tx, writer_rx) = mpsc::unbounded_channel();
        let writer_task = tokio::spawn(write_loop(write_half, writer_rx));
        let now = Instant::now();
        let mut conn = Connection {
            writer: writer_tx,
            in_flight: VecDeque::new(),
            auth_waiters: VecDeque::new(),
            last_send: now,
            last_recv: now,
        };
        let ping_interval = Duration::from_millis(u64::from(self.negotiated_timeout_ms / 3).max(1));
        let read_timeout =
            Duration::from_millis(u64::from(self.negotiated_timeout_ms * 2 / 3).max(1));

        // Auth packets, then the watches, then whatever queued up while disconnected.
        for (scheme, auth) in self.auths.clone() {
            send_auth(&mut conn, &scheme, &auth, None);
        }
        self.send_set_watches(&mut conn);
        self.shared.set_state(SessionState::Connected);
        let mut closing: Option<Instant> = None;
        let backlog: Vec<Command> = self.backlog.drain(..).collect();
        for command in backlog {
            if let Some(end) = self.handle_command(&mut conn, Some(command), &mut closing) {
                return self.end_connection(conn, writer_task, end);
            }
        }

        let mut buffer: Vec<u8> = Vec::with_capacity(64 << 10);
        let end = loop {
            let mut deadline = (conn.last_send + ping_interval).min(conn.last_recv + read_timeout);
            if let Some(close_deadline) = closing {
                deadline = deadline.min(close_deadline);
            }
            tokio::select! {
                read = read_half.read_buf(&mut buffer) => {
                    match read {
                        Ok(0) => { debug!("server closed the connection"); break End::Lost; }
                        Err(error) => { debug!(%error, "read failed"); break End::Lost; }
                        Ok(_) => {}
                    }
                    conn.last_recv = Instant::now();
                    if let Some(end) = self.drain_frames(&mut conn, &mut buffer) {
                        break end;
                    }
                }
                command = self.commands.recv(), if closing.is_none() => {
                    if let Some(end) = self.handle_command(&mut conn, command, &mut closing) {
                        break end;
                    }
                }
                _ = conn.writer.closed() => { debug!("writer failed"); break End::Lost; }
                _ = sleep_until(deadline) => {
                    let now = Instant::now();
                    if closing.is_some_and(|at| now >= at) {
                        break End::Closed;
                    }
                    if now >= conn.last_recv + read_timeout {
                        warn!(session = %self.session_id, "nothing received for two thirds of the session timeout");
                        break End::Lost;
                    }
                    if now >= conn.last_send + ping_interval {
                        let mut frame = Vec::new();
                        write_frame(&mut frame, |out| RequestHeader::new(Xid::PING, OpCode::Ping).encode(out));
                        conn.send(frame);
                    }
                }
            }
        };
        // A close that lost its connection is done: the session is abandoned (it expires on the
        // server) rather than resumed.
        let end = if end == End::Lost && closing.is_some() {
            End::Closed
        } else {
            end
        };
        self.end_connection(conn, writer_task, end)
    }

    fn end_connection(
        &mut self,
        mut conn: Connection,
        writer_task: tokio::task::JoinHandle<()>,
        end: End,
    ) -> End {
        writer_task.abort();
        let error = match end {
            End::Lost => Error::ConnectionLoss,
            End::Expired => Error::SessionExpired,
            End::AuthFailed => Error::AuthFailed,
            End::Closed => Error::Closed,
        };
        for request in conn.in_flight.drain(..) {
            if let Some(reply) = request.reply {
                let _ = reply.send(Err(error.clone()));
            }
        }
        for waiter in conn.auth_waiters.drain(..).flatten() {
            let _ = waiter.send(Err(error.clone()));
        }
        end
    }

    /// Handles one command while connected; `None` means every handle is gone.
    fn handle_command(
        &mut self,
        conn: &mut Connection,
        command: Option<Command>,
        closing: &mut Option<Instant>,
    ) -> Option<End> {
        match command {
            None => {
                self.start_close(conn, closing);
                None
            }
            Some(Command::Close { reply }) => {
                self.close_waiters.push(reply);
                self.start_close(conn, closing);
                None
            }
            Some(Command::AddAuth {
                scheme,
                auth,
                reply,
            }) => {
                self.auths.push((scheme.clone(), auth.clone()));
                send_auth(conn, &scheme, &auth, Some(reply));
                None
            }
            Some(Command::Submit(operation)) => {
                if operation.reply.is_closed() {
                    return None;
                }
                let xid = self.next_xid();
                let mut frame = Vec::with_capacity(operation.body.len() + 12);
                write_frame(&mut frame, |out| {
                    RequestHeader::new(xid, operation.op).encode(out);
                    out.extend_from_slice(&operation.body);
                });
                conn.in_flight.push_back(InFlight {
                    xid,
                    op: operation.op,
                    watch: operation.watch,
                    effect: operation.effect,
                    reply: Some(operation.reply),
                });
                conn.send(frame);
                None
            }
        }
    }

    fn start_close(&mut self, conn: &mut Connection, closing: &mut Option<Instant>) {
        if closing.is_some() {
            return;
        }
        let xid = self.next_xid();
        let mut frame = Vec::new();
        write_frame(&mut frame, |out| {
            RequestHeader::new(xid, OpCode::CloseSession).encode(out)
        });
        conn.in_flight.push_back(InFlight {
            xid,
            op: OpCode::CloseSession,
            watch: None,
            effect: None,
            reply: None,
        });
        conn.send(frame);
        *closing = Some(Instant::now() + CLOSE_TIMEOUT);
    }

    fn send_set_watches(&mut self, conn: &mut Connection) {
        let lists = self.watches.lists();
        if lists.is_empty() {
            return;
        }
        for packet in set_watches_packets(self.last_zxid, lists) {
            let mut frame = Vec::new();
            write_frame(&mut frame, |out| {
                RequestHeader::new(Xid::SET_WATCHES, OpCode::SetWatches2).encode(out);
                packet.encode(out);
            });
            conn.send(frame);
        }
    }

    fn drain_frames(&mut self, conn: &mut Connection, buffer: &mut Vec<u8>) -> Option<End> {
        let mut consumed_total = 0;
        let mut end = None;
        loop {
            match decode_frame(&buffer[consumed_total..], MAX_REPLY_FRAME_LEN) {
                Ok(Some((consumed, payload))) => {
                    let payload = payload.to_vec();
                    consumed_total += consumed;
                    if let Some(e) = self.handle_frame(conn, &payload) {
                        end = Some(e);
                        break;
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    warn!(%error, "bad frame from the server");
                    end = Some(End::Lost);
                    break;
                }
            }
        }
        buffer.drain(..consumed_total);
        end
    }

    fn handle_frame(&mut self, conn: &mut Connection, payload: &[u8]) -> Option<End> {
        let mut reader = Reader::new(payload);
        let Ok(header) = ReplyHeader::decode(&mut reader) else {
            warn!("undecodable reply header");
            return Some(End::Lost);
        };
        match header.xid {
            Xid::PING => None,
            Xid::AUTH => {
                let waiter = conn.auth_waiters.pop_front().flatten();
                if header.is_ok() {
                    if let Some(waiter) = waiter {
                        let _ = waiter.send(Ok(()));
                    }
                    None
                } else {
                    warn!(err = header.err, "authentication refused");
                    if let Some(waiter) = waiter {
                        let _ = waiter.send(Err(Error::AuthFailed));
                    }
                    Some(End::AuthFailed)
                }
            }
            Xid::SET_WATCHES => {
                if !header.is_ok() {
                    warn!(err = header.err, "the server refused SetWatches2");
                }
                None
            }
            Xid::NOTIFICATION => {
                let Ok(event) = WatcherEvent::decode(&mut reader) else {
                    warn!("undecodable notification");
                    return Some(End::Lost);
                };
                self.shared
                    .notifications_received
                    .fetch_add(1, Ordering::Relaxed);
                let client_path = self.client_path(&event.path);
                let delivered =
                    self.watches
                        .dispatch(event.event_type, &event.path, &client_path, header.zxid);
                debug!(event = ?event.event_type, path = %event.path, delivered, "notification");
                None
            }
            xid => self.handle_reply(conn, header, xid, &mut reader),
        }
    }

    fn handle_reply(
        &mut self,
        conn: &mut Connection,
        header: ReplyHeader,
        xid: Xid,
        reader: &mut Reader<'_>,
    ) -> Option<End> {
        let Some(request) = conn.in_flight.pop_front() else {
            warn!(?xid, "reply without a request in flight");
            return Some(End::Lost);
        };
        if request.xid != xid {
            warn!(expected = ?request.xid, got = ?xid, "reply out of order");
            conn.in_flight.push_front(request);
            return Some(End::Lost);
        }
        if (header.zxid.as_i64()) > 0 {
            self.last_zxid = self.last_zxid.max(header.zxid);
        }
        let InFlight {
            op,
            watch,
            effect,
            reply,
            ..
        } = request;
        if op == OpCode::CloseSession {
            return Some(End::Closed);
        }
        if !header.is_ok() {
            let error = Error::from_code(header.err);
            if error == Error::NoNode {
                if let Some((path, registration @ WatchRegistration::Exists(_))) = watch {
                    self.watches.register(&path, registration, false);
                }
            }
            let expired = error == Error::SessionExpired;
            let auth_failed = header.error_code() == Some(ErrorCode::AuthFailed)
                || header.error_code() == Some(ErrorCode::SessionClosedRequireSaslAuth);
            if let Some(reply) = reply {
                let _ = reply.send(Err(error));
            }
            return if expired {
                Some(End::Expired)
            } else if auth_failed {
                Some(End::AuthFailed)
            } else {
                None
            };
        }
        let response = match Response::decode(op, reader) {
            Ok(response) => response,
            Err(error) => {
                warn!(?op, %error, "undecodable reply");
                if let Some(reply) = reply {
                    let _ = reply.send(Err(Error::Protocol(format!("{op:?} reply: {error}"))));
                }
                return Some(End::Lost);
            }
        };
        if let Some((path, registration)) = watch {
            self.watches.register(&path, registration, true);
        }
        if let Some(Effect::RemoveWatches {
            server_path,
            watcher_type,
        }) = effect
        {
            let client_path = self.client_path(&server_path);
            self.watches
                .remove(&server_path, &client_path, watcher_type);
        }
        if let Some(reply) = reply {
            let _ = reply.send(Ok(response));
        }
        None
    }
}

fn send_auth(
    conn: &mut Connection,
    scheme: &str,
    auth: &[u8],
    waiter: Option<oneshot::Sender<Result<()>>>,
) {
    let packet = AuthPacket {
        auth_type: 0,
        scheme: scheme.to_owned(),
        auth: auth.to_vec(),
    };
    let mut frame = Vec::new();
    write_frame(&mut frame, |out| {
        RequestHeader::new(Xid::AUTH, OpCode::Auth).encode(out);
        packet.encode(out);
    });
    conn.auth_waiters.push_back(waiter);
    conn.send(frame);
}

fn fail_command(command: Command, error: Error) {
    match command {
        Command::Submit(operation) => {
            let _ = operation.reply.send(Err(error));
        }
        Command::AddAuth { reply, .. } => {
            let _ = reply.send(Err(error));
        }
        Command::Close { reply } => {
            let _ = reply.send(());
        }
    }
}

/// Splits the watch lists into SetWatches2 packets of bounded path bytes.
fn set_watches_packets(relative_zxid: Zxid, lists: WatchLists) -> Vec<SetWatches2> {
    let empty = || SetWatches2 {
        relative_zxid,
        data_watches: Vec::new(),
        exist_watches: Vec::new(),
        child_watches: Vec::new(),
        persistent_watches: Vec::new(),
        persistent_recursive_watches: Vec::new(),
    };
    let mut packets = Vec::new();
    let mut current = empty();
    let mut bytes = 0;
    let kinds = [
        lists.data,
        lists.exist,
        lists.child,
        lists.persistent,
        lists.persistent_recursive,
    ];
    for (kind, paths) in kinds.into_iter().enumerate() {
        for path in paths {
            if bytes + path.len() > SET_WATCHES_MAX_PATH_BYTES && bytes > 0 {
                packets.push(std::mem::replace(&mut current, empty()));
                bytes = 0;
            }
            bytes += path.len();
            let list = match kind {
                0 => &mut current.data_watches,
                1 => &mut current.exist_watches,
                2 => &mut current.child_watches,
                3 => &mut current.persistent_watches,
                _ => &mut current.persistent_recursive_watches,
            };
            list.push(path);
        }
    }
    if bytes > 0 {
        packets.push(current);
    }
    packets
}

#[derive(Debug)]
enum HandshakeError {
    Io(String),
    Expired,
}

/// Connects and exchanges ConnectRequest/ConnectResponse.
async fn handshake(
    server: &ServerAddress,
    request: &ConnectRequest,
) -> std::result::Result<(TcpStream, ConnectResponse), HandshakeError> {
    let io = |e: std::io::Error| HandshakeError::Io(e.to_string());
    let mut stream = TcpStream::connect((server.host.as_str(), server.port))
        .await
        .map_err(io)?;
    let mut frame = Vec::new();
    write_frame(&mut frame, |out| request.encode(out));
    stream.write_all(&frame).await.map_err(io)?;
    let mut prefix = [0u8; 4];
    stream.read_exact(&mut prefix).await.map_err(io)?;
    let len = i32::from_be_bytes(prefix);
    if !(0..=4096).contains(&len) {
        return Err(HandshakeError::Io(format!(
            "bad ConnectResponse length {len}"
        )));
    }
    let mut payload = vec![0u8; len as usize];
    stream.read_exact(&mut payload).await.map_err(io)?;
    let response = ConnectResponse::decode(&mut Reader::new(&payload))
        .map_err(|e| HandshakeError::Io(format!("bad ConnectResponse: {e}")))?;
    if response.protocol_version != 0 {
        return Err(HandshakeError::Io(format!(
            "unsupported protocol version {}",
            response.protocol_version
        )));
    }
    if response.timeout_ms <= 0 || response.session_id == SessionId(0) {
        return Err(HandshakeError::Expired);
    }
    Ok((stream, response))
}

async fn write_loop(mut write_half: OwnedWriteHalf, mut frames: mpsc::UnboundedReceiver<Vec<u8>>) {
    let mut batch = Vec::new();
    while let Some(frame) = frames.recv().await {
        batch.clear();
        batch.extend_from_slice(&frame);
        while batch.len() < (256 << 10) {
            match frames.try_recv() {
                Ok(frame) => batch.extend_from_slice(&frame),
                Err(_) => break,
            }
        }
        if let Err(error) = write_half.write_all(&batch).await {
            debug!(%error, "write failed");
            return;
        }
    }
}

/// Fisher-Yates with the crate's process-local random source.
fn shuffle<T>(items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = (random_u64() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_watches_are_split_by_path_bytes() {
        let long = "/".to_owned() + &"x".repeat(40 << 10);
        let lists = WatchLists {
            data: vec![long.clone(), long.clone()],
            exist: vec![long.clone()],
            child: vec![long.clone()],
            persistent: vec!["/p".into()],
            persistent_recursive: vec![],
        };
        let packets = set_watches_packets(Zxid(7), lists);
        assert_eq!(packets.len(), 2);
        assert_eq!(packets[0].data_watches.len(), 2);
        assert_eq!(packets[0].exist_watches.len(), 1);
        assert_eq!(packets[1].child_watches.len(), 1);
        assert_eq!(packets[1].persistent_watches, vec!["/p".to_owned()]);
        assert!(packets.iter().all(|p| p.relative_zxid == Zxid(7)));
        assert!(set_watches_packets(Zxid(0), WatchLists::default()).is_empty());
    }

    #[test]
    fn shuffle_keeps_every_item() {
        let mut items: Vec<u32> = (0..50).collect();
        shuffle(&mut items);
        items.sort();
        assert_eq!(items, (0..50).collect::<Vec<_>>());
    }
}
