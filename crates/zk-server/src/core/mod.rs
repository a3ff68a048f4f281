//! The core task: the single owner of the data tree, the session table and the watch registry.
//!
//! Connection tasks send it decoded requests through one channel. For each batch of messages the
//! core prepares and applies writes (assigning zxids in order, as ZooKeeper's leader does),
//! answers reads, triggers watches and stages replies and notifications per connection in order.
//! Before the staged bytes go to the connections' writers, the batch's transactions are appended
//! to the [`TxnLog`] and must be durable, so no reply or notification can reveal a write that
//! could still be lost. When the log supports it ([`TxnLog::submit`]) the core does not wait: the
//! batch's output is set aside with the log's future ("in flight") and the core goes on with the
//! next batch, so the log's writer always has the next group ready when a sync ends. In-flight
//! batches are released strictly in order, each once its own transactions (and so every earlier
//! batch's) are durable; a batch without transactions still waits behind earlier ones.

pub(crate) mod cluster;
mod requests;
mod sessions;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, watch};
use tracing::{debug, error, info};
use zk_proto::connect::ConnectRequest;
use zk_proto::four_letter::FourLetterWord;
use zk_proto::frame::write_frame;
use zk_proto::header::ReplyHeader;
use zk_proto::request::Request;
use zk_proto::{DecodeError, ErrorCode, Id, OpCode, Record, SessionId, Xid, Zxid};
use zk_tree::{DataTree, Txn, TxnHeader};
use zk_watch::{SessionConfig, SessionTable, WatchRegistry, WatcherId};

use crate::error::ServerError;
use crate::four_letter::{self, Facts};
use crate::outbox::Outbox;
use crate::server::{InitialState, Shared};
use crate::stats::{wall_clock_ms, ConnId};
use crate::txn_log::{CommittedState, LogFuture, TxnLog};

/// A hasher for small integer ids (connection and session ids): a multiply and a shift, instead
/// of SipHash on the per-request lookups. The ids come from the server itself, not from clients.
#[derive(Default, Clone, Copy)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }
}

/// A map keyed by a server-assigned id.
type IdMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<IdHasher>>;

/// A connection's staging buffer is kept between batches up to this capacity.
const STAGED_CAPACITY_MAX: usize = 64 * 1024;

/// The most messages the core takes from its channel per batch.
const MAX_MESSAGES_PER_BATCH: usize = 256;

/// The most batches in flight (appended, not yet durable) before the core stops taking
/// messages until the oldest is durable.
const MAX_IN_FLIGHT: usize = 64;

/// Committed transactions not yet reported to [`TxnLog::committed`] (which needs a tree with no
/// later transaction in it) after which the core lets every in-flight batch become durable
/// before it takes more messages, so the report (and a snapshot it may start) is never put off
/// for long.
const UNREPORTED_TXNS_MAX: usize = 1024;

/// One connection's output of an in-flight batch.
struct StagedOutput {
    outbox: Arc<Outbox>,
    bytes: Vec<u8>,
    replies: u32,
    frames: u64,
    close: bool,
}

/// A batch whose output waits for its transactions to be durable.
struct Flight {
    /// `None` for a batch without transactions (it only waits behind earlier batches).
    durable: Option<LogFuture<'static>>,
    txns: usize,
    output: Vec<StagedOutput>,
    /// Budget permits to return on release.
    answered: usize,
}

/// Waits until the oldest in-flight batch is durable (never resolves when there is none).
async fn oldest_durable(
    in_flight: &mut VecDeque<Flight>,
) -> Result<(), crate::error::StorageError> {
    match in_flight.front_mut() {
        None => std::future::pending().await,
        Some(flight) => match flight.durable.as_mut() {
            None => Ok(()),
            Some(durable) => durable.await,
        },
    }
}

/// A message from a connection task to the core.
pub(crate) enum CoreMsg {
    /// A connection sent its ConnectRequest.
    Connect {
        conn: Arc<Outbox>,
        peer: SocketAddr,
        request: ConnectRequest,
        received: Instant,
    },
    /// Requests read from one connection, in order.
    Requests { conn: ConnId, batch: Vec<Incoming> },
    /// The connection is gone (its watches go; its session stays until it expires).
    Closed { conn: ConnId },
    /// A four-letter word that needs the core's state.
    FourLetter {
        word: FourLetterWord,
        reply: oneshot::Sender<String>,
    },
    /// Cluster mode: a message from the node task.
    Cluster(crate::cluster::ToCore),
}

/// One request as read from the wire.
pub(crate) struct Incoming {
    pub(crate) xid: Xid,
    pub(crate) op: i32,
    pub(crate) body: Body,
    pub(crate) received: Instant,
}

/// A request's body, decoded or not.
pub(crate) enum Body {
    Decoded(Request),
    /// The opcode is not one ZooKeeper 3.8 knows.
    Unknown,
    /// The opcode is known but the body does not decode.
    Undecodable(OpCode, DecodeError),
}

/// The core's view of one connection.
struct Conn {
    outbox: Arc<Outbox>,
    peer: SocketAddr,
    session: Option<SessionId>,
    auth: Vec<Id>,
    /// Bytes produced during this batch, released once the batch is durable.
    staged: Vec<u8>,
    /// Replies among the staged bytes.
    staged_replies: u32,
    /// Frames among the staged bytes (replies and notifications).
    staged_frames: u32,
    /// Close the connection after the staged bytes.
    close_after: bool,
    /// Listed in `Core::dirty` for this batch.
    dirty: bool,
    /// Already closed by the core: later requests are dropped.
    closed: bool,
    /// Cluster mode: writes of this connection waiting for their commit.
    writes_outstanding: u32,
    /// Cluster mode: requests waiting behind those writes.
    queued: VecDeque<Incoming>,
}

impl Conn {
    fn watcher(&self) -> WatcherId {
        WatcherId(self.outbox.id.0)
    }
}

/// The connections and their staged output: split from the rest of the core so a reply can be
/// encoded straight from data borrowed from the tree.
struct Io {
    shared: Arc<Shared>,
    conns: IdMap<ConnId, Conn>,
    /// Connections with staged output this batch.
    dirty: Vec<ConnId>,
    /// Requests answered (or dropped) this batch: budget permits to return once it is durable.
    answered: usize,
}

impl Io {
    /// Counts a request as done with (answered or dropped): its budget permit goes back when
    /// the batch is committed.
    fn release(&mut self, requests: u32) {
        self.answered += requests as usize;
    }

    /// Stages one frame for a connection; returns the frame's payload length.
    fn stage(&mut self, id: ConnId, reply: bool, encode: impl FnOnce(&mut Vec<u8>)) -> usize {
        if reply {
            self.answered += 1;
        }
        let Some(conn) = self.conns.get_mut(&id) else {
            return 0;
        };
        if !conn.dirty {
            conn.dirty = true;
            self.dirty.push(id);
        }
        let start = conn.staged.len();
        write_frame(&mut conn.staged, encode);
        conn.staged_frames += 1;
        if reply {
            conn.staged_replies += 1;
        }
        conn.staged.len() - start - 4
    }

    /// Stages a reply: header plus (when `err` is OK) the body `encode` writes.
    fn reply(
        &mut self,
        id: ConnId,
        xid: Xid,
        zxid: Zxid,
        err: ErrorCode,
        received: Instant,
        encode: impl FnOnce(&mut Vec<u8>),
    ) {
        let latency_ms = received.elapsed().as_millis() as u64;
        self.shared.stats.latency.record(latency_ms);
        if let Some(conn) = self.conns.get(&id) {
            let stats = &conn.outbox.stats;
            stats.latency.record(latency_ms);
            stats.last_latency_ms.store(latency_ms, Relaxed);
            stats.last_zxid.store(zxid.as_i64(), Relaxed);
            stats.last_response_ms.store(wall_clock_ms(), Relaxed);
        }
        let shared = self.shared.clone();
        self.stage(id, true, |out| {
            let start = out.len();
            ReplyHeader::new(xid, zxid, err).encode(out);
            if err.is_ok() {
                encode(out);
            }
            shared
                .stats
                .record_response_size((out.len() - start) as u64);
        });
    }
}

pub(crate) struct Core {
    shared: Arc<Shared>,
    log: Box<dyn TxnLog>,
    tree: DataTree,
    sessions: SessionTable,
    watches: WatchRegistry,
    io: Io,
    /// The connection each session is attached to, if any.
    session_conns: IdMap<SessionId, ConnId>,
    /// Transactions of this batch, not yet durable.
    pending: Vec<(TxnHeader, Txn)>,
    /// Batches appended to the log whose output waits for durability, oldest first.
    in_flight: VecDeque<Flight>,
    /// Durable transactions not yet reported to [`TxnLog::committed`].
    unreported_txns: usize,
    last_zxid: Zxid,
    origin: Instant,
    super_digest: Option<String>,
    /// Cluster mode (`None`: standalone).
    cluster: Option<cluster::ClusterCore>,
}

impl Core {
    pub(crate) fn new(
        shared: Arc<Shared>,
        log: Box<dyn TxnLog>,
        initial: InitialState,
        cluster: Option<cluster::ClusterLink>,
    ) -> Core {
        let config = &shared.config;
        let mut sessions = SessionTable::new(SessionConfig {
            tick_time_ms: i32::try_from(config.tick_time_ms).unwrap_or(i32::MAX),
            min_session_timeout_ms: Some(
                i32::try_from(config.min_session_timeout_ms()).unwrap_or(i32::MAX),
            ),
            max_session_timeout_ms: Some(
                i32::try_from(config.max_session_timeout_ms()).unwrap_or(i32::MAX),
            ),
        });
        let my_sid = cluster.as_ref().map_or(zk_proto::Sid(0), |c| c.my_sid);
        sessions.initialize_session_ids(my_sid, wall_clock_ms());
        let snap_count = config.snap_count;
        let super_digest = config.super_digest.clone();
        let InitialState {
            tree,
            sessions: restored,
            last_zxid,
        } = initial;
        let tree = tree.unwrap_or_else(|| requests::new_tree(config));
        // Restored sessions get fresh timers, as ZooKeeper re-tracks them after a restart.
        for (session, timeout_ms) in restored {
            sessions.add(session, timeout_ms, 0);
        }
        Core {
            io: Io {
                shared: shared.clone(),
                conns: IdMap::default(),
                dirty: Vec::new(),
                answered: 0,
            },
            shared,
            log,
            tree,
            sessions,
            watches: WatchRegistry::new(),
            session_conns: IdMap::default(),
            pending: Vec::new(),
            in_flight: VecDeque::new(),
            unreported_txns: 0,
            last_zxid,
            origin: Instant::now(),
            super_digest,
            cluster: cluster.map(|link| cluster::ClusterCore::new(link, snap_count)),
        }
    }

    /// Milliseconds on the core's monotonic clock.
    fn now_ms(&self) -> i64 {
        i64::try_from(self.origin.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    pub(crate) async fn run(
        mut self,
        mut rx: mpsc::Receiver<CoreMsg>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), ServerError> {
        let tick_ms = u64::from(self.shared.config.tick_time_ms / 2).max(1);
        let mut ticker = tokio::time::interval(Duration::from_millis(tick_ms));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let container_ms = u64::from(self.shared.config.container_check_interval_ms).max(1);
        let mut container_ticker = tokio::time::interval(Duration::from_millis(container_ms));
        container_ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        container_ticker.tick().await;
        let mut batch = Vec::with_capacity(MAX_MESSAGES_PER_BATCH);
        let mut in_flight = std::mem::take(&mut self.in_flight);
        let result = loop {
            // Take no more work while the pipeline is full, or while a report to the log (and
            // the snapshot it may start) waits for every in-flight batch to be durable.
            let intake = in_flight.len() < MAX_IN_FLIGHT
                && (self.unreported_txns < UNREPORTED_TXNS_MAX || in_flight.is_empty());
            tokio::select! {
                // Durability first: released replies let clients send their next requests.
                biased;
                durable = oldest_durable(&mut in_flight) => {
                    if let Err(e) = durable {
                        break Err(e);
                    }
                    if let Some(flight) = in_flight.pop_front() {
                        self.release_flight(flight, in_flight.is_empty());
                    }
                    continue;
                }
                n = rx.recv_many(&mut batch, MAX_MESSAGES_PER_BATCH), if intake => {
                    if n == 0 {
                        break Ok(());
                    }
                    for msg in batch.drain(..) {
                        self.handle(msg);
                    }
                }
                _ = ticker.tick(), if intake => {
                    if self.is_cluster() {
                        self.cluster_expire();
                    } else {
                        self.expire_sessions();
                    }
                }
                _ = container_ticker.tick(), if intake => {
                    if self.is_cluster() {
                        self.cluster_delete_containers();
                    } else {
                        self.delete_containers();
                    }
                }
                _ = shutdown.changed() => break Ok(()),
            }
            self.flush_proposals();
            if let Err(e) = self.commit(&mut in_flight).await {
                break Err(e);
            }
        };
        if let Err(e) = result {
            error!(error = %e, "transaction log failed; stopping the server");
            self.close_all();
            return Err(e.into());
        }
        // What is already in flight is answered if it becomes durable.
        while !in_flight.is_empty() {
            if let Err(e) = oldest_durable(&mut in_flight).await {
                error!(error = %e, "transaction log failed; stopping the server");
                self.close_all();
                return Err(e.into());
            }
            if let Some(flight) = in_flight.pop_front() {
                self.release_flight(flight, in_flight.is_empty());
            }
        }
        self.close_all();
        info!("core stopped");
        Ok(())
    }

    /// Sends a durable batch's output and returns its budget permits; reports the durable
    /// transactions to the log once no later transaction is in the tree (`last`).
    fn release_flight(&mut self, flight: Flight, last: bool) {
        for out in flight.output {
            if !out.bytes.is_empty() {
                self.shared
                    .stats
                    .packets_sent
                    .fetch_add(out.frames, Relaxed);
                out.outbox.stats.packets_sent.fetch_add(out.frames, Relaxed);
                out.outbox.append(&out.bytes, out.replies);
            }
            if out.close {
                out.outbox.close();
            }
        }
        if flight.answered > 0 {
            self.shared.budget.add_permits(flight.answered);
        }
        self.unreported_txns += flight.txns;
        // Transactions of the batch being prepared are in the tree too.
        if last && self.pending.is_empty() && self.unreported_txns > 0 {
            self.log.committed(
                std::mem::take(&mut self.unreported_txns),
                &CommittedState {
                    tree: &self.tree,
                    sessions: &self.sessions,
                },
            );
        }
    }

    /// Hands the batch to the log and sets its output aside until it is durable (or, for a log
    /// that cannot pipeline, waits for it and releases the output).
    async fn commit(
        &mut self,
        in_flight: &mut VecDeque<Flight>,
    ) -> Result<(), crate::error::StorageError> {
        let pipelined = if self.pending.is_empty() {
            // Nothing to make durable: the output only waits behind earlier batches.
            (!in_flight.is_empty()).then_some(None)
        } else {
            self.log.submit(&self.pending).map(Some)
        };
        if let Some(durable) = pipelined {
            let txns = self.pending.len();
            self.pending.clear();
            let mut output = Vec::with_capacity(self.io.dirty.len());
            for id in std::mem::take(&mut self.io.dirty) {
                let Some(conn) = self.io.conns.get_mut(&id) else {
                    continue;
                };
                conn.dirty = false;
                let capacity = conn.staged.capacity().min(STAGED_CAPACITY_MAX);
                output.push(StagedOutput {
                    outbox: conn.outbox.clone(),
                    bytes: std::mem::replace(&mut conn.staged, Vec::with_capacity(capacity)),
                    replies: std::mem::take(&mut conn.staged_replies),
                    frames: u64::from(std::mem::take(&mut conn.staged_frames)),
                    close: conn.close_after,
                });
                if conn.close_after {
                    self.io.conns.remove(&id);
                }
            }
            let answered = std::mem::take(&mut self.io.answered);
            if durable.is_some() || !output.is_empty() || answered > 0 {
                in_flight.push_back(Flight {
                    durable,
                    txns,
                    output,
                    answered,
                });
            }
            return Ok(());
        }
        // A log that cannot pipeline: earlier output (if any) goes first.
        while !in_flight.is_empty() {
            oldest_durable(in_flight).await?;
            if let Some(flight) = in_flight.pop_front() {
                self.release_flight(flight, in_flight.is_empty());
            }
        }
        if !self.pending.is_empty() {
            let result = self.log.append(&self.pending).await;
            let txns = self.pending.len();
            self.pending.clear();
            result?;
            self.log.committed(
                txns,
                &CommittedState {
                    tree: &self.tree,
                    sessions: &self.sessions,
                },
            );
        }
        for id in std::mem::take(&mut self.io.dirty) {
            let Some(conn) = self.io.conns.get_mut(&id) else {
                continue;
            };
            conn.dirty = false;
            let replies = std::mem::take(&mut conn.staged_replies);
            let frames = u64::from(std::mem::take(&mut conn.staged_frames));
            if !conn.staged.is_empty() {
                self.shared.stats.packets_sent.fetch_add(frames, Relaxed);
                conn.outbox.stats.packets_sent.fetch_add(frames, Relaxed);
                conn.outbox.append(&conn.staged, replies);
                conn.staged.clear();
                // Keep the buffer for the next batch unless a burst made it big.
                if conn.staged.capacity() > STAGED_CAPACITY_MAX {
                    conn.staged = Vec::new();
                }
            }
            if conn.close_after {
                conn.outbox.close();
                self.io.conns.remove(&id);
            }
        }
        let answered = std::mem::take(&mut self.io.answered);
        if answered > 0 {
            self.shared.budget.add_permits(answered);
        }
        Ok(())
    }

    fn close_all(&mut self) {
        for conn in self.io.conns.values() {
            conn.outbox.close();
        }
        self.io.conns.clear();
    }

    fn handle(&mut self, msg: CoreMsg) {
        match msg {
            CoreMsg::Connect {
                conn,
                peer,
                request,
                received,
            } => self.on_connect(conn, peer, request, received),
            CoreMsg::Requests { conn, batch } => {
                if self.is_cluster() {
                    for incoming in batch {
                        self.cluster_incoming(conn, incoming);
                    }
                } else {
                    for incoming in batch {
                        self.on_request(conn, incoming);
                    }
                }
            }
            CoreMsg::Cluster(msg) => self.on_cluster(msg),
            CoreMsg::Closed { conn } => self.on_closed(conn),
            CoreMsg::FourLetter { word, reply } => {
                let _ = reply.send(self.four_letter(word));
            }
        }
    }

    fn on_closed(&mut self, id: ConnId) {
        if let Some(conn) = self.io.conns.remove(&id) {
            self.io.release(conn.queued.len() as u32);
            self.watches.remove_watcher(conn.watcher());
            if let Some(session) = conn.session {
                if self.session_conns.get(&session) == Some(&id) {
                    self.session_conns.remove(&session);
                }
            }
            // Output staged for a connection that is gone is dropped with it.
            conn.outbox.close();
        }
    }

    /// Counts requests dropped without a reply (their budget permits go back at commit).
    fn release(&mut self, requests: u32) {
        self.io.release(requests);
    }

    /// Stages one frame for a connection.
    fn stage(&mut self, id: ConnId, reply: bool, encode: impl FnOnce(&mut Vec<u8>)) {
        self.io.stage(id, reply, encode);
    }

    /// Stages a reply: header plus (when `err` is OK) the body `encode` writes.
    fn reply(
        &mut self,
        id: ConnId,
        xid: Xid,
        zxid: Zxid,
        err: ErrorCode,
        received: Instant,
        encode: impl FnOnce(&mut Vec<u8>),
    ) {
        self.io.reply(id, xid, zxid, err, received, encode);
    }

    /// Closes a connection after what is staged for it.
    fn close_after_flush(&mut self, id: ConnId) {
        if let Some(conn) = self.io.conns.get_mut(&id) {
            if !conn.dirty {
                conn.dirty = true;
                self.io.dirty.push(id);
            }
            conn.close_after = true;
            conn.closed = true;
            // Requests queued behind writes (cluster mode) get no answer: their budget goes back.
            let queued = std::mem::take(&mut conn.queued).len();
            let session = conn.session;
            self.io.release(queued as u32);
            self.watches.remove_watcher(WatcherId(id.0));
            if let Some(session) = session {
                if self.session_conns.get(&session) == Some(&id) {
                    self.session_conns.remove(&session);
                }
            }
        }
    }

    /// The next zxid (every write, failed or not, takes one).
    fn next_zxid(&mut self) -> Zxid {
        self.last_zxid = Zxid(self.last_zxid.0 + 1);
        self.last_zxid
    }

    fn four_letter(&mut self, word: FourLetterWord) -> String {
        if !self.serving() {
            return four_letter::NOT_SERVING.to_owned();
        }
        let shared = self.shared.clone();
        let connections = shared.connections();
        match word {
            FourLetterWord::Srvr => {
                four_letter::stat(&shared.stats, &connections, &self.facts(false), false)
            }
            FourLetterWord::Stat => {
                four_letter::stat(&shared.stats, &connections, &self.facts(false), true)
            }
            FourLetterWord::Mntr => {
                four_letter::mntr(&shared.stats, connections.len(), &self.facts(false))
            }
            FourLetterWord::Wchs => four_letter::wchs(&self.facts(true)),
            FourLetterWord::Wchc => four_letter::wchc(&self.facts(true)),
            FourLetterWord::Wchp => four_letter::wchp(&self.facts(true)),
            FourLetterWord::Dump => four_letter::dump(&self.facts(false)),
            // ZooKeeper prints the mask without a newline; this server has no trace mask to set,
            // so stmk answers with the (unchanged) current one.
            FourLetterWord::Gtmk | FourLetterWord::Stmk => four_letter::TRACE_MASK.to_string(),
            // The digest log: this server keeps no tree digests.
            FourLetterWord::Hash => String::new(),
            // Answered by the connection task itself.
            FourLetterWord::Ruok
            | FourLetterWord::TelnetClose
            | FourLetterWord::Isro
            | FourLetterWord::Conf
            | FourLetterWord::Envi
            | FourLetterWord::Dirs
            | FourLetterWord::Cons
            | FourLetterWord::Crst
            | FourLetterWord::Srst => String::new(),
        }
    }

    fn facts(&self, with_watches: bool) -> Facts {
        let now = self.now_ms();
        let session_of = |watcher: WatcherId| {
            self.io
                .conns
                .get(&ConnId(watcher.0))
                .and_then(|c| c.session)
                .unwrap_or(SessionId(0))
        };
        let limit = self.shared.config.global_outstanding_limit.max(1) as usize;
        let mut facts = Facts {
            zxid: self.last_zxid,
            outstanding: limit.saturating_sub(self.shared.budget.available_permits()) as u64,
            session_count: self.sessions.len(),
            buckets: self
                .sessions
                .buckets()
                .map(|(expiry, sessions)| (four_letter::to_wall_ms(expiry, now), sessions))
                .collect(),
            watch_count: self.watches.watch_count(),
            cluster: self.cluster.as_ref().map(|c| c.stats.clone()),
            watch_summary: (
                self.watches.watcher_count(),
                self.watches.path_count(),
                self.watches.data_watch_count(),
            ),
            ..Facts::default()
        };
        requests::tree_facts(&self.tree, &mut facts);
        if with_watches {
            facts.watches_by_session = self
                .watches
                .by_watcher()
                .into_iter()
                .map(|(w, paths)| (session_of(w), paths))
                .collect();
            facts.watches_by_path = self
                .watches
                .by_path()
                .into_iter()
                .map(|(path, ws)| (path, ws.into_iter().map(session_of).collect()))
                .collect();
        }
        facts
    }
}

fn event_type(kind: zk_watch::EventKind) -> zk_proto::watcher::EventType {
    use zk_proto::watcher::EventType;
    match kind {
        zk_watch::EventKind::NodeCreated => EventType::NodeCreated,
        zk_watch::EventKind::NodeDeleted => EventType::NodeDeleted,
        zk_watch::EventKind::NodeDataChanged => EventType::NodeDataChanged,
        zk_watch::EventKind::NodeChildrenChanged => EventType::NodeChildrenChanged,
    }
}

/// Logs at debug level: most per-request failures are the client's business.
fn trace_request(id: ConnId, op: i32, err: ErrorCode) {
    if !err.is_ok() {
        debug!(conn = id.0, op, %err, "request failed");
    }
}
