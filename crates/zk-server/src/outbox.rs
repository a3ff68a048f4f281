//! The bytes waiting to go out on one connection, shared between the core (which appends whole
//! frames: replies and notifications, in order) and the connection's writer task (which takes
//! everything queued at once and writes it with one syscall).
//!
//! The lock is held only to append or to swap buffers, never across IO.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, Semaphore};

use crate::stats::{ConnId, ConnStats};

/// What the writer should do after the queued bytes.
#[derive(Debug, Default)]
struct Queue {
    bytes: Vec<u8>,
    /// Client requests answered by the queued bytes (their permits are released after the write).
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
    ready: Notify,
    /// The server-wide budget of requests in flight (`globalOutstandingLimit`).
    pub(crate) budget: Arc<Semaphore>,
}

/// A batch the writer took from the outbox.
#[derive(Debug)]
pub(crate) struct Taken {
    pub(crate) bytes: Vec<u8>,
    pub(crate) replies: u32,
    pub(crate) close: bool,
}

impl Outbox {
    pub(crate) fn new(id: ConnId, stats: Arc<ConnStats>, budget: Arc<Semaphore>) -> Outbox {
        Outbox {
            id,
            stats,
            queue: Mutex::new(Queue::default()),
            ready: Notify::new(),
            budget,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A poisoned lock only means another thread panicked mid-append; the bytes are still a
        // sequence of whole frames or a prefix of one, and the connection is closing anyway.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends whole frames staged by the core; `replies` of them answer client requests.
    pub(crate) fn append(&self, bytes: Vec<u8>, replies: u32) {
        let mut queue = self.lock();
        if queue.close {
            drop(queue);
            if replies > 0 {
                self.budget.add_permits(replies as usize);
                self.stats
                    .queued
                    .fetch_sub(u64::from(replies), std::sync::atomic::Ordering::Relaxed);
            }
            return;
        }
        if queue.bytes.is_empty() {
            // Hand the staged buffer over instead of copying it.
            let spare = std::mem::replace(&mut queue.bytes, bytes);
            drop(spare);
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

    /// Waits until the core has queued something or asked to close.
    pub(crate) async fn ready(&self) {
        self.ready.notified().await;
    }
}
