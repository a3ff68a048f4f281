//! The quorum-port transport between a leader and its learners.
//!
//! A learner dials the leader's quorum port; both sides first exchange a handshake (a magic
//! number and their sid, so a stray client or a misconfigured peer is refused at once), then
//! frames: a big-endian `u32` length and the body (an encoded [`super::PeerMsg`]). Each link has
//! a reader task, which hands frames to one event channel shared by every link of the server,
//! and a writer task, which drains the link's queue with as few syscalls as it can. The queue
//! is unbounded in messages but bounded in bytes: a learner that does not read what it is sent
//! is dropped instead of growing the leader's memory. Dropping a [`Link`] closes it.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, warn};
use zk_proto::Sid;

/// The first four bytes each side sends ("ZKQ1").
const MAGIC: u32 = 0x5a4b_5131;

/// The largest frame accepted (a snapshot of a large tree travels as one frame).
pub const PEER_FRAME_LEN_MAX: usize = 1 << 31;

/// Bytes a link may have queued and unwritten before it is closed.
pub const LINK_QUEUE_BYTES_MAX: usize = 512 << 20;

/// The read buffer of a link.
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// How long a handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Something that happened on a link.
#[derive(Debug)]
pub enum PeerEvent {
    /// A frame arrived.
    Frame {
        /// The peer.
        sid: Sid,
        /// The link it arrived on.
        link: u64,
        /// The frame body.
        bytes: Vec<u8>,
    },
    /// The link broke (EOF, error, or an oversized frame).
    Closed {
        /// The peer.
        sid: Sid,
        /// The link that broke.
        link: u64,
    },
}

/// One open link to a peer. Dropping it closes the connection.
#[derive(Debug)]
pub struct Link {
    sid: Sid,
    id: u64,
    queue: mpsc::UnboundedSender<Vec<u8>>,
    queued_bytes: Arc<AtomicUsize>,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

impl Link {
    /// The peer's sid.
    pub fn sid(&self) -> Sid {
        self.sid
    }

    /// This link's id (distinguishes a reconnection from the link it replaces).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Queues a frame; returns false when the link is closed or its queue is over
    /// [`LINK_QUEUE_BYTES_MAX`] (the caller should drop the link).
    pub fn send(&self, frame: Vec<u8>) -> bool {
        let len = frame.len() + 4;
        if self.queued_bytes.fetch_add(len, Ordering::Relaxed) + len > LINK_QUEUE_BYTES_MAX {
            warn!(peer = %self.sid, "peer link queue over its byte limit; closing the link");
            self.reader.abort();
            self.writer.abort();
            return false;
        }
        self.queue.send(frame).is_ok()
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.reader.abort();
        self.writer.abort();
    }
}

/// Starts the reader and writer tasks of a handshaken connection.
fn spawn_link(stream: TcpStream, sid: Sid, id: u64, events: mpsc::Sender<PeerEvent>) -> Link {
    let (read, write) = stream.into_split();
    let (queue, rx) = mpsc::unbounded_channel();
    let queued_bytes = Arc::new(AtomicUsize::new(0));
    let reader = tokio::spawn(read_frames(read, sid, id, events.clone()));
    let writer = tokio::spawn(write_frames(
        write,
        rx,
        queued_bytes.clone(),
        sid,
        id,
        events,
    ));
    Link {
        sid,
        id,
        queue,
        queued_bytes,
        reader,
        writer,
    }
}

async fn read_frames(read: OwnedReadHalf, sid: Sid, link: u64, events: mpsc::Sender<PeerEvent>) {
    // Frames are small and come in runs (a PROPOSAL per write, ACKs, COMMITs): one receive
    // fills the buffer with many of them instead of two receives per frame.
    let mut read = BufReader::with_capacity(READ_BUFFER_BYTES, read);
    let mut len_bytes = [0u8; 4];
    loop {
        if let Err(e) = read.read_exact(&mut len_bytes).await {
            debug!(peer = %sid, error = %e, "peer link closed");
            break;
        }
        let len = u32::from_be_bytes(len_bytes) as usize;
        if len > PEER_FRAME_LEN_MAX {
            warn!(peer = %sid, len, "oversized frame from a peer; closing the link");
            break;
        }
        let mut bytes = vec![0u8; len];
        if let Err(e) = read.read_exact(&mut bytes).await {
            debug!(peer = %sid, error = %e, "peer link closed inside a frame");
            break;
        }
        if events
            .send(PeerEvent::Frame { sid, link, bytes })
            .await
            .is_err()
        {
            return;
        }
    }
    let _ = events.send(PeerEvent::Closed { sid, link }).await;
}

async fn write_frames(
    mut write: OwnedWriteHalf,
    mut rx: mpsc::UnboundedReceiver<Vec<u8>>,
    queued_bytes: Arc<AtomicUsize>,
    sid: Sid,
    link: u64,
    events: mpsc::Sender<PeerEvent>,
) {
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    while let Some(frame) = rx.recv().await {
        buf.clear();
        let mut taken = 0;
        let mut push = |buf: &mut Vec<u8>, frame: Vec<u8>| {
            taken += frame.len() + 4;
            buf.extend_from_slice(&(frame.len() as u32).to_be_bytes());
            buf.extend_from_slice(&frame);
        };
        push(&mut buf, frame);
        while buf.len() < 1 << 20 {
            match rx.try_recv() {
                Ok(frame) => push(&mut buf, frame),
                Err(_) => break,
            }
        }
        if let Err(e) = write.write_all(&buf).await {
            debug!(peer = %sid, error = %e, "peer link write failed");
            let _ = events.send(PeerEvent::Closed { sid, link }).await;
            return;
        }
        queued_bytes.fetch_sub(taken, Ordering::Relaxed);
        if buf.capacity() > 4 << 20 {
            buf = Vec::with_capacity(64 * 1024);
        }
    }
}

async fn send_hello(stream: &mut TcpStream, sid: Sid) -> io::Result<()> {
    let mut hello = [0u8; 12];
    hello[..4].copy_from_slice(&MAGIC.to_be_bytes());
    hello[4..].copy_from_slice(&sid.0.to_be_bytes());
    stream.write_all(&hello).await
}

async fn read_hello(stream: &mut TcpStream) -> io::Result<Sid> {
    let mut hello = [0u8; 12];
    stream.read_exact(&mut hello).await?;
    let magic = u32::from_be_bytes(hello[..4].try_into().expect("4 bytes"));
    if magic != MAGIC {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not a quorum peer (magic {magic:#x})"),
        ));
    }
    Ok(Sid(u64::from_be_bytes(
        hello[4..].try_into().expect("8 bytes"),
    )))
}

/// Dials `addr` (the leader's quorum port) as server `me`; returns the link once the leader
/// answered the handshake with `expected` as its sid.
pub async fn connect(
    me: Sid,
    expected: Sid,
    addr: SocketAddr,
    id: u64,
    events: mpsc::Sender<PeerEvent>,
) -> io::Result<Link> {
    let handshake = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        send_hello(&mut stream, me).await?;
        let sid = read_hello(&mut stream).await?;
        if sid != expected {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{addr} is server {sid}, not {expected}"),
            ));
        }
        Ok(stream)
    };
    let stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "quorum handshake timed out"))??;
    Ok(spawn_link(stream, expected, id, events))
}

/// The leader's side: the bound quorum port.
#[derive(Debug)]
pub struct QuorumListener {
    listener: TcpListener,
}

impl QuorumListener {
    /// Binds the quorum port.
    pub async fn bind(addr: SocketAddr) -> io::Result<QuorumListener> {
        Ok(QuorumListener {
            listener: TcpListener::bind(addr).await?,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts one connection and runs the handshake as server `me`; `Ok(None)` for a
    /// connection that failed its handshake (logged), so the caller just accepts again.
    pub async fn accept(
        &self,
        me: Sid,
        id: u64,
        events: mpsc::Sender<PeerEvent>,
    ) -> io::Result<Option<Link>> {
        let (mut stream, peer) = self.listener.accept().await?;
        let handshake = async {
            stream.set_nodelay(true)?;
            let sid = read_hello(&mut stream).await?;
            send_hello(&mut stream, me).await?;
            Ok::<Sid, io::Error>(sid)
        };
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
            Ok(Ok(sid)) => Ok(Some(spawn_link(stream, sid, id, events))),
            Ok(Err(e)) => {
                warn!(%peer, error = %e, "quorum port: handshake failed; closing");
                Ok(None)
            }
            Err(_) => {
                warn!(%peer, "quorum port: handshake timed out; closing");
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_cross_a_link_in_order_and_a_bad_handshake_is_refused() {
        let listener = QuorumListener::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (leader_events, mut leader_rx) = mpsc::channel(16);
        let (learner_events, mut learner_rx) = mpsc::channel(16);
        let accept = tokio::spawn(async move {
            let link = listener
                .accept(Sid(1), 7, leader_events)
                .await
                .unwrap()
                .unwrap();
            (listener, link)
        });
        let learner = connect(Sid(2), Sid(1), addr, 9, learner_events)
            .await
            .unwrap();
        let (listener, leader) = accept.await.unwrap();
        assert_eq!(leader.sid(), Sid(2));
        for n in 0..100u32 {
            assert!(learner.send(n.to_be_bytes().to_vec()));
        }
        for n in 0..100u32 {
            match leader_rx.recv().await.unwrap() {
                PeerEvent::Frame { sid, link, bytes } => {
                    assert_eq!((sid, link), (Sid(2), 7));
                    assert_eq!(bytes, n.to_be_bytes().to_vec());
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(leader.send(b"back".to_vec()));
        assert!(
            matches!(learner_rx.recv().await.unwrap(), PeerEvent::Frame { bytes, .. } if bytes == b"back")
        );
        drop(leader);
        assert!(matches!(
            learner_rx.recv().await.unwrap(),
            PeerEvent::Closed {
                sid: Sid(1),
                link: 9
            }
        ));
        // A client that speaks something else is refused and the listener keeps working.
        let (events, _rx) = mpsc::channel(16);
        let mut stray = TcpStream::connect(addr).await.unwrap();
        stray.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
        assert!(listener.accept(Sid(1), 8, events).await.unwrap().is_none());
        // The wrong server at the address is refused by the learner.
        let (events, _rx) = mpsc::channel(16);
        let accept = tokio::spawn(async move {
            let _ = listener.accept(Sid(1), 10, events).await;
        });
        let (events, _rx) = mpsc::channel(16);
        assert!(connect(Sid(2), Sid(3), addr, 11, events).await.is_err());
        let _ = accept.await;
    }
}
