//! The election transport: connections, tie-break, per-peer send tasks and reconnection.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Notify};
use tokio::task::AbortHandle;
use tokio::time::{sleep_until, timeout, Instant};
use tracing::{debug, warn, Instrument};
use zk_fle::Notification;
use zk_proto::Sid;

use super::handshake;
use super::queue::SendQueue;

/// How the transport behaves. [`TransportConfig::new`] gives ZooKeeper's defaults.
#[derive(Clone, Debug)]
pub struct TransportConfig {
    /// This server's sid.
    pub sid: Sid,
    /// The election address of every other server.
    pub peers: BTreeMap<Sid, SocketAddr>,
    /// Messages queued per peer before the oldest is dropped (ZooKeeper: 1).
    pub send_queue_capacity: usize,
    /// Received messages buffered for the driver before new ones are dropped (ZooKeeper: 100).
    pub inbound_capacity: usize,
    /// Time allowed to connect and to read a handshake (ZooKeeper's `cnxTimeout`).
    pub connect_timeout_ms: u64,
    /// First wait before dialling a peer again.
    pub reconnect_backoff_ms_min: u64,
    /// Cap of the doubling wait between dials.
    pub reconnect_backoff_ms_max: u64,
    /// Largest frame accepted (ZooKeeper: 512 KiB).
    pub frame_length_max: usize,
}

impl TransportConfig {
    /// ZooKeeper's defaults for server `sid` with the given peers.
    pub fn new(sid: Sid, peers: BTreeMap<Sid, SocketAddr>) -> TransportConfig {
        TransportConfig {
            sid,
            peers,
            send_queue_capacity: 1,
            inbound_capacity: 100,
            connect_timeout_ms: 5_000,
            reconnect_backoff_ms_min: 50,
            reconnect_backoff_ms_max: 5_000,
            frame_length_max: 512 * 1024,
        }
    }
}

/// What the transport hands the election driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inbound {
    /// A notification from a peer (the sid is the connection's, not the message's).
    Message {
        /// The peer.
        from: Sid,
        /// Its notification.
        msg: Notification,
    },
    /// The connection to a peer closed.
    PeerDown(Sid),
}

struct Connection {
    write: OwnedWriteHalf,
    reader: AbortHandle,
    generation: u64,
    initiator: Sid,
}

struct Peer {
    queue: SendQueue,
    wake: Notify,
    dial_requested: AtomicBool,
    dead_generation: AtomicU64,
    initiator: Mutex<Option<Sid>>,
    handoff: mpsc::UnboundedSender<Connection>,
}

struct Shared {
    config: TransportConfig,
    local_addr: SocketAddr,
    peers: BTreeMap<Sid, Peer>,
    inbound: mpsc::Sender<Inbound>,
    next_generation: AtomicU64,
    tasks: Mutex<Vec<AbortHandle>>,
    span: tracing::Span,
}

/// A running election transport. Dropping it stops every task and closes every connection.
pub struct ElectionTransport {
    shared: Arc<Shared>,
}

impl ElectionTransport {
    /// Starts the transport on an already bound election-port `listener`; returns it and the
    /// stream of received notifications.
    pub fn start(
        listener: TcpListener,
        config: TransportConfig,
    ) -> std::io::Result<(ElectionTransport, mpsc::Receiver<Inbound>)> {
        let local_addr = listener.local_addr()?;
        let (inbound, inbound_rx) = mpsc::channel(config.inbound_capacity.max(1));
        let span = tracing::info_span!("election_transport", sid = %config.sid);
        let mut handoffs = BTreeMap::new();
        let mut peers = BTreeMap::new();
        for &sid in config.peers.keys().filter(|&&sid| sid != config.sid) {
            let (handoff, handoff_rx) = mpsc::unbounded_channel();
            let peer = Peer {
                queue: SendQueue::new(config.send_queue_capacity),
                wake: Notify::new(),
                dial_requested: AtomicBool::new(false),
                dead_generation: AtomicU64::new(0),
                initiator: Mutex::new(None),
                handoff,
            };
            peers.insert(sid, peer);
            handoffs.insert(sid, handoff_rx);
        }
        let shared = Arc::new(Shared {
            config,
            local_addr,
            peers,
            inbound,
            next_generation: AtomicU64::new(1),
            tasks: Mutex::new(Vec::new()),
            span,
        });
        let accept =
            tokio::spawn(accept_loop(shared.clone(), listener).instrument(shared.span.clone()));
        shared.track(accept.abort_handle());
        for (sid, handoff_rx) in handoffs {
            let task = tokio::spawn(
                peer_task(shared.clone(), sid, handoff_rx).instrument(shared.span.clone()),
            );
            shared.track(task.abort_handle());
        }
        Ok((ElectionTransport { shared }, inbound_rx))
    }

    /// This server's sid.
    pub fn sid(&self) -> Sid {
        self.shared.config.sid
    }

    /// The address the election port listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// Queues `msg` for `to` (dialling if needed). A message to ourselves is received at once.
    pub fn send(&self, to: Sid, msg: &Notification) {
        if to == self.shared.config.sid {
            let inbound = Inbound::Message {
                from: to,
                msg: *msg,
            };
            if self.shared.inbound.try_send(inbound).is_err() {
                warn!(sid = %to, "receive queue full: own notification dropped");
            }
            return;
        }
        let Some(peer) = self.shared.peers.get(&to) else {
            warn!(peer = %to, "notification for an unknown server dropped");
            return;
        };
        if peer.queue.push(msg.encode()) {
            debug!(peer = %to, "send queue full: oldest notification dropped");
        }
        peer.wake.notify_one();
    }

    /// Which side dialled the live connection to `peer`, if there is one.
    pub fn connection_initiator(&self, peer: Sid) -> Option<Sid> {
        let peer = self.shared.peers.get(&peer)?;
        *peer.initiator.lock().expect("initiator lock")
    }

    /// How many messages for `peer` were dropped because its send queue was full.
    pub fn dropped(&self, peer: Sid) -> u64 {
        self.shared
            .peers
            .get(&peer)
            .map_or(0, |p| p.queue.dropped())
    }
}

impl Drop for ElectionTransport {
    fn drop(&mut self) {
        for task in self.shared.tasks.lock().expect("task list lock").drain(..) {
            task.abort();
        }
    }
}

impl Shared {
    fn track(&self, task: AbortHandle) {
        let mut tasks = self.tasks.lock().expect("task list lock");
        tasks.retain(|task| !task.is_finished());
        tasks.push(task);
    }

    fn address_text(&self) -> String {
        self.local_addr.to_string()
    }

    /// Splits a connection and starts its reader.
    fn open(self: &Arc<Self>, peer: Sid, stream: TcpStream, initiator: Sid) -> Connection {
        let (read, write) = stream.into_split();
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let reader = tokio::spawn(
            read_loop(self.clone(), peer, read, generation).instrument(self.span.clone()),
        );
        let reader = reader.abort_handle();
        self.track(reader.clone());
        Connection {
            write,
            reader,
            generation,
            initiator,
        }
    }
}

async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let task =
                    tokio::spawn(on_accept(shared.clone(), stream).instrument(shared.span.clone()));
                shared.track(task.abort_handle());
            }
            Err(error) => {
                warn!(%error, "election port accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// ZooKeeper's `handleConnection`: keep connections from larger sids, dial smaller ones back.
async fn on_accept(shared: Arc<Shared>, mut stream: TcpStream) {
    let limit = Duration::from_millis(shared.config.connect_timeout_ms);
    let hello = match timeout(limit, handshake::read(&mut stream)).await {
        Ok(Ok(hello)) => hello,
        Ok(Err(error)) => {
            debug!(%error, "election handshake refused");
            return;
        }
        Err(_) => {
            debug!("election handshake timed out");
            return;
        }
    };
    let me = shared.config.sid;
    let Some(peer) = shared.peers.get(&hello.sid) else {
        debug!(sid = %hello.sid, "election connection from an unknown server closed");
        return;
    };
    if hello.sid < me {
        // Only the larger sid's connection survives: hang up and dial back.
        drop(stream);
        peer.dial_requested.store(true, Ordering::Release);
        peer.wake.notify_one();
    } else if hello.sid > me {
        let _ = stream.set_nodelay(true);
        let connection = shared.open(hello.sid, stream, hello.sid);
        let _ = peer.handoff.send(connection);
        peer.wake.notify_one();
    }
}

async fn read_loop(shared: Arc<Shared>, peer: Sid, mut read: OwnedReadHalf, generation: u64) {
    let max = shared.config.frame_length_max;
    while let Ok(length) = read.read_i32().await {
        if length <= 0 || length as usize > max {
            warn!(%peer, length, "election frame length out of range: connection closed");
            break;
        }
        let mut frame = vec![0; length as usize];
        if read.read_exact(&mut frame).await.is_err() {
            break;
        }
        match Notification::decode(&frame) {
            Ok(msg) => {
                if shared
                    .inbound
                    .try_send(Inbound::Message { from: peer, msg })
                    .is_err()
                {
                    warn!(%peer, "receive queue full: notification dropped");
                }
            }
            Err(error) => warn!(%peer, %error, "malformed notification dropped"),
        }
    }
    if let Some(entry) = shared.peers.get(&peer) {
        entry.dead_generation.store(generation, Ordering::Release);
        entry.wake.notify_one();
    }
    let _ = shared.inbound.try_send(Inbound::PeerDown(peer));
}

/// Dials `peer`: keeps the connection when we are the larger sid, otherwise only says hello so
/// that the peer dials back.
async fn dial(shared: &Arc<Shared>, peer: Sid) -> std::io::Result<Option<Connection>> {
    let me = shared.config.sid;
    let address = shared.config.peers[&peer];
    let limit = Duration::from_millis(shared.config.connect_timeout_ms);
    let mut stream = timeout(limit, TcpStream::connect(address))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
    stream.set_nodelay(true)?;
    stream
        .write_all(&handshake::encode(me, &shared.address_text()))
        .await?;
    if peer > me {
        return Ok(None);
    }
    Ok(Some(shared.open(peer, stream, me)))
}

async fn write_frame(write: &mut OwnedWriteHalf, message: &[u8]) -> std::io::Result<()> {
    let mut frame = Vec::with_capacity(4 + message.len());
    frame.extend_from_slice(&(message.len() as i32).to_be_bytes());
    frame.extend_from_slice(message);
    write.write_all(&frame).await
}

/// Owns the connection to one peer: drains its send queue, dials with back-off when there is
/// something to send (or the peer asked to be dialled back), adopts connections the acceptor
/// hands over, and re-sends the last message when a connection starts with nothing queued.
async fn peer_task(
    shared: Arc<Shared>,
    sid: Sid,
    mut handoff: mpsc::UnboundedReceiver<Connection>,
) {
    let peer = &shared.peers[&sid];
    let backoff_min = Duration::from_millis(shared.config.reconnect_backoff_ms_min.max(1));
    let backoff_max = Duration::from_millis(shared.config.reconnect_backoff_ms_max.max(1));
    let mut backoff = backoff_min;
    let mut next_dial = Instant::now();
    let mut connection: Option<Connection> = None;
    let mut fresh = false;
    loop {
        if let Some(live) = &connection {
            if peer.dead_generation.load(Ordering::Acquire) == live.generation {
                close(peer, &mut connection);
            }
        }
        let wants_dial = !peer.queue.is_empty() || peer.dial_requested.load(Ordering::Acquire);
        if connection.is_none() && wants_dial && Instant::now() >= next_dial {
            peer.dial_requested.store(false, Ordering::Release);
            match dial(&shared, sid).await {
                Ok(Some(live)) => {
                    adopt(peer, &mut connection, live);
                    fresh = true;
                    backoff = backoff_min;
                }
                Ok(None) => {
                    // The larger peer dials back; dial again later if it does not.
                    next_dial = Instant::now() + backoff;
                    backoff = (backoff * 2).min(backoff_max);
                }
                Err(error) => {
                    debug!(peer = %sid, %error, "election dial failed");
                    next_dial = Instant::now() + backoff;
                    backoff = (backoff * 2).min(backoff_max);
                }
            }
        }
        if let Some(live) = connection.as_mut() {
            let mut failed = false;
            if fresh {
                fresh = false;
                if let Some(last) = peer.queue.resend_on_restart() {
                    failed = write_frame(&mut live.write, &last).await.is_err();
                }
            }
            while !failed {
                let Some(message) = peer.queue.pop() else {
                    break;
                };
                failed = write_frame(&mut live.write, &message).await.is_err();
            }
            if failed {
                close(peer, &mut connection);
                let _ = shared.inbound.try_send(Inbound::PeerDown(sid));
                next_dial = Instant::now();
            }
        }
        let waiting_to_dial = connection.is_none()
            && (!peer.queue.is_empty() || peer.dial_requested.load(Ordering::Acquire));
        tokio::select! {
            adopted = handoff.recv() => {
                let Some(live) = adopted else { return };
                adopt(peer, &mut connection, live);
                fresh = true;
                backoff = backoff_min;
            }
            _ = peer.wake.notified() => {}
            _ = sleep_until(next_dial), if waiting_to_dial => {}
        }
    }
}

fn adopt(peer: &Peer, connection: &mut Option<Connection>, live: Connection) {
    if let Some(old) = connection.take() {
        old.reader.abort();
    }
    *peer.initiator.lock().expect("initiator lock") = Some(live.initiator);
    *connection = Some(live);
}

fn close(peer: &Peer, connection: &mut Option<Connection>) {
    if let Some(old) = connection.take() {
        old.reader.abort();
    }
    *peer.initiator.lock().expect("initiator lock") = None;
}
