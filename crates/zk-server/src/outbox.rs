//! The bytes waiting to go out on one connection, shared between the core (which appends whole
//! frames: replies and notifications, in order) and the connection's writer task (which takes
//! everything queued at once and writes it with one syscall).
//!
//! The lock is held only to append or to swap buffers, never across IO. The outbox also carries
//! the connection's backpressure: the reader stops reading while too many of its requests wait
//! for their replies to be written, and a connection whose unwritten output grows past
//! [`MAX_OUTBOX_BYTES`] (a client that stopped reading while its watches keep firing) is closed.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;
use tracing::warn;

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
    /// Wakes the writer.
    ready: Notify,
    /// Wakes the reader after a write.
    drained: Notify,
}

/// A batch the writer took from the outbox.
#[derive(Debug)]
pub(crate) struct Taken {
    pub(crate) bytes: Vec<u8>,
    pub(crate) replies: u32,
    pub(crate) close: bool,
}

impl Outbox {
    pub(crate) fn new(id: ConnId, stats: Arc<ConnStats>) -> Outbox {
        Outbox {
            id,
            stats,
            queue: Mutex::new(Queue::default()),
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
    pub(crate) fn append(&self, bytes: Vec<u8>, replies: u32) {
        let mut queue = self.lock();
        if queue.close {
            drop(queue);
            self.written(replies);
            return;
        }
        if queue.bytes.len() + bytes.len() > MAX_OUTBOX_BYTES {
            let unwritten = queue.bytes.len();
            let replies = replies + std::mem::take(&mut queue.replies);
            queue.bytes = Vec::new();
            queue.close = true;
            drop(queue);
            self.written(replies);
            warn!(
                unwritten,
                "closing a connection that does not read its replies and notifications"
            );
            self.ready.notify_one();
            return;
        }
        if queue.bytes.is_empty() {
            // Hand the staged buffer over instead of copying it.
            queue.bytes = bytes;
        } else {
            queue.bytes.extend_from_slice(&bytes);
        }
        queue.replies += replies;
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

    /// Wakes the writer.
    pub(crate) fn wake(&self) {
        self.ready.notify_one();
    }

    /// Takes everything queued, swapping in `spare` (cleared) as the new buffer.
    pub(crate) fn take(&self, mut spare: Vec<u8>) -> Taken {
        spare.clear();
        let mut queue = self.lock();
        let bytes = std::mem::replace(&mut queue.bytes, spare);
        let replies = std::mem::take(&mut queue.replies);
        Taken {
            bytes,
            replies,
            close: queue.close,
        }
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
                queue.bytes.len()
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
