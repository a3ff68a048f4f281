//! The bytes waiting to go out on one connection, shared between the core (which appends whole
//! frames: replies and notifications, in order) and the connection's writer task.
//!
//! When nothing is queued, the core writes a batch straight to the socket with one non-blocking
//! write (no task wake-up at all in the common case); whatever the socket does not take is
//! queued and the writer task flushes it once the socket is writable. Every write happens under
//! the queue's lock, so bytes leave in the order they were appended; the lock is never held
//! across an await. The outbox also carries
//! the connection's backpressure: the reader stops reading while too many of its requests wait
//! for their replies to be written, and a connection whose unwritten output grows past
//! [`MAX_OUTBOX_BYTES`] (a client that stopped reading while its watches keep firing) is closed.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Notify;
use tracing::{debug, warn};

use crate::stats::{ConnId, ConnStats};

/// Unwritten bytes after which a connection is closed rather than buffered further.
pub(crate) const MAX_OUTBOX_BYTES: usize = 64 << 20;

/// Requests of one connection read but not yet answered on the wire, after which its reader
/// waits.
pub(crate) const MAX_QUEUED_PER_CONNECTION: u64 = 1000;

/// Unwritten bytes after which the connection's reader waits.
pub(crate) const MAX_BACKLOG_BYTES: usize = 4 << 20;

#[derive(Debug, Default)]
struct Queue {
    bytes: Vec<u8>,
    /// Bytes at the front of `bytes` already written.
    offset: usize,
    /// Client requests answered by the queued bytes.
    replies: u32,
    /// Close the connection once the queued bytes are written.
    close: bool,
}

/// The shared half of a connection: its outbox and statistics.
#[derive(Debug)]
pub(crate) struct Outbox {
    pub(crate) id: ConnId,
    pub(crate) stats: Arc<ConnStats>,
    queue: Mutex<Queue>,
    /// Written only under the queue's lock.
    socket: OwnedWriteHalf,
    /// Wakes the writer.
    ready: Notify,
    /// Wakes the reader after a write.
    drained: Notify,
}

/// What a [`Outbox::flush`] achieved.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Flush {
    /// Everything queued is written.
    Done,
    /// The socket is full; wait until it is writable.
    Blocked,
    /// The connection is to be closed (asked for, or the socket failed).
    Closed,
}

impl Outbox {
    pub(crate) fn new(id: ConnId, stats: Arc<ConnStats>, socket: OwnedWriteHalf) -> Outbox {
        Outbox {
            id,
            stats,
            queue: Mutex::new(Queue::default()),
            socket,
            ready: Notify::new(),
            drained: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A poisoned lock only means another thread panicked mid-append; the bytes are still a
        // sequence of whole frames, and the connection is closing anyway.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends whole frames staged by the core; `replies` of them answer client requests.
    /// When nothing is queued the bytes go straight to the socket, and only what it does not
    /// take is copied into the queue.
    pub(crate) fn append(&self, bytes: &[u8], replies: u32) {
        let mut queue = self.lock();
        if queue.close {
            drop(queue);
            self.written(replies);
            return;
        }
        let pending = queue.bytes.len() - queue.offset;
        if pending + bytes.len() > MAX_OUTBOX_BYTES {
            let replies = replies + std::mem::take(&mut queue.replies);
            queue.bytes = Vec::new();
            queue.offset = 0;
            queue.close = true;
            drop(queue);
            self.written(replies);
            warn!(
                unwritten = pending,
                "closing a connection that does not read its replies and notifications"
            );
            self.ready.notify_one();
            return;
        }
        let mut start = 0;
        if pending == 0 {
            // Nothing is waiting: try the socket right away.
            match self.socket.try_write(bytes) {
                Ok(n) if n == bytes.len() => {
                    drop(queue);
                    self.written(replies);
                    return;
                }
                Ok(n) => start = n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    debug!(error = %e, "write failed");
                    queue.close = true;
                    drop(queue);
                    self.written(replies);
                    self.ready.notify_one();
                    return;
                }
            }
        }
        queue.bytes.extend_from_slice(&bytes[start..]);
        queue.replies += replies;
        drop(queue);
        self.ready.notify_one();
    }

    /// Appends raw bytes (four-letter word output).
    pub(crate) fn push_raw(&self, bytes: &[u8]) {
        let mut queue = self.lock();
        if !queue.close {
            queue.bytes.extend_from_slice(bytes);
        }
    }

    /// Asks the writer to close the connection after what is queued.
    pub(crate) fn close(&self) {
        self.lock().close = true;
        self.ready.notify_one();
        self.drained.notify_one();
    }

    /// Wakes the writer (four-letter word output and closes).
    pub(crate) fn wake(&self) {
        self.ready.notify_one();
    }

    /// Writes as much of the queue as the socket takes now.
    pub(crate) fn flush(&self) -> Flush {
        let mut queue = self.lock();
        while queue.offset < queue.bytes.len() {
            match self.socket.try_write(&queue.bytes[queue.offset..]) {
                Ok(n) => queue.offset += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Flush::Blocked,
                Err(e) => {
                    debug!(error = %e, "write failed");
                    queue.close = true;
                    queue.bytes = Vec::new();
                    queue.offset = 0;
                    let replies = std::mem::take(&mut queue.replies);
                    drop(queue);
                    self.written(replies);
                    return Flush::Closed;
                }
            }
        }
        queue.bytes.clear();
        queue.offset = 0;
        if queue.bytes.capacity() > MAX_BACKLOG_BYTES {
            queue.bytes = Vec::new();
        }
        let replies = std::mem::take(&mut queue.replies);
        let close = queue.close;
        drop(queue);
        self.written(replies);
        if close {
            Flush::Closed
        } else {
            Flush::Done
        }
    }

    /// Waits until the socket can take more bytes.
    pub(crate) async fn writable(&self) -> std::io::Result<()> {
        self.socket.writable().await
    }

    /// Records that `replies` answers left (or will never leave) and wakes the reader.
    pub(crate) fn written(&self, replies: u32) {
        if replies > 0 {
            self.stats.queued.fetch_sub(u64::from(replies), Relaxed);
        }
        self.drained.notify_one();
    }

    /// Waits until the core has queued something or asked to close.
    pub(crate) async fn ready(&self) {
        self.ready.notified().await;
    }

    /// Waits until this connection's backlog is small enough to read more requests.
    pub(crate) async fn backlog_drained(&self) {
        loop {
            let drained = self.drained.notified();
            let backlog = {
                let queue = self.lock();
                if queue.close {
                    return;
                }
                queue.bytes.len() - queue.offset
            };
            if self.stats.queued.load(Relaxed) < MAX_QUEUED_PER_CONNECTION
                && backlog < MAX_BACKLOG_BYTES
            {
                return;
            }
            drained.await;
        }
    }
}
