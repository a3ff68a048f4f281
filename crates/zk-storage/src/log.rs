//! The transaction log writer with group commit.
//!
//! [`LogWriter::append`] encodes a batch on the caller's thread and queues it for the writer
//! thread, returning an [`AppendHandle`] at once. The writer thread takes every batch queued so
//! far, writes them, and covers them all with one `fdatasync`; batches that arrive while it syncs
//! form the next group. A handle resolves only after the sync that covers its batch, so the
//! server's core loop never blocks and never acknowledges a write that is not durable.
//!
//! The first failed write or sync poisons the log: that group's handles and every later append
//! fail with [`StorageError::LogFailed`] (a failed `fsync` may have dropped dirty pages, so
//! nothing written since the last good sync can be trusted).
//!
//! Segments are named after their first zxid, preallocated in steps of
//! [`LogConfig::preallocate_bytes`] (and zero-filled a little ahead of the records, so that most
//! syncs overwrite allocated blocks and need no metadata commit), and rolled on request (after a snapshot) or when they grow
//! past [`LogConfig::segment_bytes_max`]. A new segment's directory entry is synced before any
//! record in it is acknowledged.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;

use tracing::{debug, error, info};
use zk_proto::Zxid;
use zk_tree::{Txn, TxnHeader};

use crate::error::{Result, StorageError};
use crate::format;
use crate::fs::{FileSystem, WritableFile};

/// Settings of the log writer.
#[derive(Clone, Debug)]
pub struct LogConfig {
    /// The directory of the segments (`<dataLogDir>/version-2`).
    pub dir: PathBuf,
    /// The preallocation step (ZooKeeper's `preAllocSize`, 64 MiB by default).
    pub preallocate_bytes: u64,
    /// A segment that has grown past this size is rolled before the next group.
    pub segment_bytes_max: u64,
    /// The most bytes one group commit gathers before it syncs.
    pub group_bytes_max: usize,
}

impl LogConfig {
    /// The defaults for `dir`: 64 MiB preallocation, 1 GiB segments, 16 MiB groups.
    pub fn new(dir: impl Into<PathBuf>) -> LogConfig {
        LogConfig {
            dir: dir.into(),
            preallocate_bytes: 64 << 20,
            segment_bytes_max: 1 << 30,
            group_bytes_max: 16 << 20,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

#[derive(Debug, Default)]
struct Slot {
    result: Option<Result<Zxid>>,
    waker: Option<Waker>,
    /// A thread blocks in [`AppendHandle::wait`]: only then is the condition variable notified
    /// (a notification is a syscall even with nobody waiting, on the writer's critical path).
    blocked: bool,
}

#[derive(Debug, Default)]
struct Shared {
    slot: Mutex<Slot>,
    ready: Condvar,
}

/// The writer's side of an [`AppendHandle`]; dropping it unresolved reports
/// [`StorageError::WriterStopped`].
#[derive(Debug)]
struct Completion(Option<Arc<Shared>>);

impl Completion {
    fn resolve(mut self, result: Result<Zxid>) {
        if let Some(shared) = self.0.take() {
            let (waker, blocked) = {
                let mut slot = lock(&shared.slot);
                slot.result = Some(result);
                (slot.waker.take(), slot.blocked)
            };
            if blocked {
                shared.ready.notify_all();
            }
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if self.0.is_some() {
            Completion(self.0.take()).resolve(Err(StorageError::WriterStopped));
        }
    }
}

/// Resolves with the batch's last zxid once the batch is durable, or with the log's error.
///
/// Await it (it is a `Send` future that needs no particular runtime) or block on
/// [`AppendHandle::wait`].
#[derive(Debug)]
#[must_use = "a write is durable only when its handle resolves"]
pub struct AppendHandle {
    shared: Arc<Shared>,
}

impl AppendHandle {
    fn pair() -> (AppendHandle, Completion) {
        let shared = Arc::new(Shared::default());
        (
            AppendHandle {
                shared: shared.clone(),
            },
            Completion(Some(shared)),
        )
    }

    fn ready(result: Result<Zxid>) -> AppendHandle {
        let (handle, completion) = AppendHandle::pair();
        completion.resolve(result);
        handle
    }

    /// Blocks until the batch is durable or the log failed.
    pub fn wait(self) -> Result<Zxid> {
        let mut slot = lock(&self.shared.slot);
        loop {
            if let Some(result) = slot.result.take() {
                return result;
            }
            slot.blocked = true;
            slot = self
                .shared
                .ready
                .wait(slot)
                .unwrap_or_else(|poison| poison.into_inner());
        }
    }

    /// The result if it is already known.
    pub fn try_result(&self) -> Option<Result<Zxid>> {
        lock(&self.shared.slot).result.clone()
    }
}

impl Future for AppendHandle {
    type Output = Result<Zxid>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = lock(&self.shared.slot);
        match slot.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

enum Request {
    Append {
        bytes: Vec<u8>,
        first: Zxid,
        last: Zxid,
        count: usize,
        done: Completion,
    },
    Roll,
    /// Sync and close the current segment (after everything queued before), then report.
    Close {
        done: mpsc::Sender<Result<()>>,
    },
}

#[derive(Debug)]
struct Ordering {
    last_zxid: Zxid,
    sender: Option<mpsc::Sender<Request>>,
}

/// The transaction log: appends with group commit on a dedicated thread.
#[derive(Debug)]
pub struct LogWriter {
    ordering: Mutex<Ordering>,
    failure: Arc<Mutex<Option<StorageError>>>,
    thread: Option<JoinHandle<()>>,
}

impl LogWriter {
    /// Starts the writer thread. `last_zxid` is the last zxid already in the log (appends must
    /// follow it); the first append opens a new segment.
    pub fn start(fs: Arc<dyn FileSystem>, config: LogConfig, last_zxid: Zxid) -> Result<LogWriter> {
        let (sender, receiver) = mpsc::channel();
        let failure = Arc::new(Mutex::new(None));
        let mut thread_state = WriterThread {
            fs,
            config,
            segment: None,
            roll_requested: false,
            failure: failure.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("zk-txn-log".to_owned())
            .spawn(move || thread_state.run(receiver))
            .map_err(|e| StorageError::io("spawn", "zk-txn-log", &e))?;
        Ok(LogWriter {
            ordering: Mutex::new(Ordering {
                last_zxid,
                sender: Some(sender),
            }),
            failure,
            thread: Some(thread),
        })
    }

    /// Queues `txns` (in increasing zxid order, after every zxid appended before) and returns a
    /// handle that resolves once they are durable. Never blocks on IO.
    pub fn append(&self, txns: &[(TxnHeader, Txn)]) -> AppendHandle {
        if let Some(error) = self.failure() {
            return AppendHandle::ready(Err(error));
        }
        let mut ordering = lock(&self.ordering);
        let Some(&(first_header, _)) = txns.first() else {
            return AppendHandle::ready(Ok(ordering.last_zxid));
        };
        let mut bytes = Vec::with_capacity(txns.len() * 128);
        let mut last = ordering.last_zxid;
        for (header, txn) in txns {
            if header.zxid <= last {
                return AppendHandle::ready(Err(StorageError::OutOfOrder {
                    zxid: header.zxid,
                    last,
                }));
            }
            last = header.zxid;
            format::encode_record(&mut bytes, header, txn);
        }
        let (handle, done) = AppendHandle::pair();
        let request = Request::Append {
            bytes,
            first: first_header.zxid,
            last,
            count: txns.len(),
            done,
        };
        match &ordering.sender {
            Some(sender) if sender.send(request).is_ok() => {
                ordering.last_zxid = last;
                handle
            }
            _ => AppendHandle::ready(Err(StorageError::WriterStopped)),
        }
    }

    /// Asks the writer to start a new segment with the next append (after a snapshot, so that
    /// purging can later drop whole segments).
    pub fn roll(&self) {
        if let Some(sender) = &lock(&self.ordering).sender {
            let _ = sender.send(Request::Roll);
        }
    }

    /// The sticky error, if a write or sync has failed.
    pub fn failure(&self) -> Option<StorageError> {
        lock(&self.failure)
            .as_ref()
            .map(|error| StorageError::LogFailed(error.to_string()))
    }

    /// The last zxid appended (queued, not necessarily durable yet).
    pub fn last_appended_zxid(&self) -> Zxid {
        lock(&self.ordering).last_zxid
    }

    /// Waits until everything queued is written and synced, closes the current segment, and runs
    /// `change` on the segment files while no append can enter; if `change` returns the log's new
    /// last zxid, appends go on after it (in a new segment). Fails without running `change` if
    /// the log has failed.
    pub(crate) fn with_closed_segment(&self, change: impl FnOnce() -> Result<Zxid>) -> Result<()> {
        let mut ordering = lock(&self.ordering);
        let (done, closed) = mpsc::channel();
        match &ordering.sender {
            Some(sender) if sender.send(Request::Close { done }).is_ok() => {}
            _ => return Err(StorageError::WriterStopped),
        }
        closed.recv().unwrap_or(Err(StorageError::WriterStopped))?;
        if let Some(error) = self.failure() {
            return Err(error);
        }
        let last_zxid = change()?;
        ordering.last_zxid = last_zxid;
        Ok(())
    }

    /// Poisons the log with `error` (unless it has failed already): every later append fails.
    pub(crate) fn poison(&self, error: &StorageError) {
        let mut failure = lock(&self.failure);
        if failure.is_none() {
            error!(%error, "txn log failed; refusing further appends");
            *failure = Some(error.clone());
        }
    }

    /// Stops the writer after it has written and synced everything queued.
    pub fn close(mut self) -> Result<()> {
        self.shutdown();
        match self.failure() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    pub(crate) fn shutdown(&mut self) {
        lock(&self.ordering).sender = None;
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                error!("the txn log writer thread panicked");
            }
        }
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// How far ahead of the records the log zero-fills its preallocated space.
const ZERO_FILL_BYTES: u64 = 1 << 20;

static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];

#[derive(Debug)]
struct Segment {
    path: PathBuf,
    file: Box<dyn WritableFile>,
    position: u64,
    allocated: u64,
    /// Up to where the file has been written (records or zero fill).
    zeroed: u64,
}

struct WriterThread {
    fs: Arc<dyn FileSystem>,
    config: LogConfig,
    segment: Option<Segment>,
    roll_requested: bool,
    failure: Arc<Mutex<Option<StorageError>>>,
}

impl WriterThread {
    fn run(&mut self, receiver: mpsc::Receiver<Request>) {
        while let Ok(first) = receiver.recv() {
            let mut group = vec![first];
            let mut bytes = group_bytes(&group);
            while bytes < self.config.group_bytes_max
                && !matches!(group.last(), Some(Request::Close { .. }))
            {
                match receiver.try_recv() {
                    Ok(request) => {
                        bytes += group_bytes(std::slice::from_ref(&request));
                        group.push(request);
                    }
                    Err(_) => break,
                }
            }
            self.commit(group);
        }
        if let Some(segment) = self.segment.take() {
            debug!(path = %segment.path.display(), position = segment.position, "log segment closed");
        }
    }

    /// Writes a group, syncs once, and resolves its handles.
    fn commit(&mut self, group: Vec<Request>) {
        let mut done = Vec::with_capacity(group.len());
        let existing = lock(&self.failure).clone();
        let mut outcome = match existing {
            Some(error) => Err(StorageError::LogFailed(error.to_string())),
            None => Ok(()),
        };
        let mut txns = 0;
        let mut closes = Vec::new();
        // Consecutive appends go to the file in one write: (first zxid, their bytes).
        let mut run: Option<(Zxid, Vec<u8>)> = None;
        for request in group {
            match request {
                Request::Append {
                    bytes,
                    first,
                    last,
                    count,
                    done: completion,
                } => {
                    match &mut run {
                        Some((_, pending)) => pending.extend_from_slice(&bytes),
                        None => run = Some((first, bytes)),
                    }
                    txns += count;
                    done.push((last, completion));
                }
                Request::Roll => {
                    self.write_run(run.take(), &mut outcome);
                    self.roll_requested = true;
                }
                Request::Close { done } => {
                    self.write_run(run.take(), &mut outcome);
                    closes.push(done);
                }
            }
        }
        self.write_run(run, &mut outcome);
        if outcome.is_ok() && !done.is_empty() {
            outcome = self.sync();
        }
        if let Err(error) = &outcome {
            let mut failure = lock(&self.failure);
            if failure.is_none() {
                error!(%error, "txn log failed; refusing further appends");
                *failure = Some(error.clone());
            }
        } else {
            debug!(batches = done.len(), txns, "group committed");
        }
        for (last, completion) in done {
            completion.resolve(match &outcome {
                Ok(()) => Ok(last),
                Err(error) => Err(StorageError::LogFailed(error.to_string())),
            });
        }
        if !closes.is_empty() {
            // Every earlier group was synced when it committed, and this one just now.
            if let Some(segment) = self.segment.take() {
                debug!(path = %segment.path.display(), position = segment.position, "log segment closed on request");
            }
            for close in closes {
                let _ = close.send(match &outcome {
                    Ok(()) => Ok(()),
                    Err(error) => Err(StorageError::LogFailed(error.to_string())),
                });
            }
        }
    }

    /// Writes a run of appends (first zxid, bytes), unless the group has already failed.
    fn write_run(&mut self, run: Option<(Zxid, Vec<u8>)>, outcome: &mut Result<()>) {
        if let (Some((first, bytes)), Ok(())) = (run, &outcome) {
            *outcome = self.write(&bytes, first);
        }
    }

    fn write(&mut self, bytes: &[u8], first: Zxid) -> Result<()> {
        let needs_new = match &self.segment {
            None => true,
            Some(segment) => {
                self.roll_requested || segment.position >= self.config.segment_bytes_max
            }
        };
        if needs_new {
            self.open_segment(first)?;
        }
        let preallocate = self.config.preallocate_bytes.max(4096);
        let Some(segment) = self.segment.as_mut() else {
            return Err(StorageError::WriterStopped);
        };
        let end = segment.position + bytes.len() as u64;
        if end + 4096 > segment.allocated {
            let allocated = (end + 4096).div_ceil(preallocate) * preallocate;
            segment
                .file
                .set_len(allocated)
                .map_err(|e| StorageError::io("preallocate", &segment.path, &e))?;
            segment.allocated = allocated;
        }
        segment
            .file
            .write_at(segment.position, bytes)
            .map_err(|e| StorageError::io("write", &segment.path, &e))?;
        segment.position = end;
        if end + 4096 > segment.zeroed {
            // Zero-fill the next stretch of the (sparse) preallocated space now, in the same
            // group as these records: the syncs of the next groups then overwrite allocated
            // blocks, and fdatasync needs no metadata (journal) commit for them. The file reads
            // the same (zeros past the records), so recovery is unchanged.
            let from = segment.zeroed.max(end);
            let to = (end + ZERO_FILL_BYTES.min(preallocate)).min(segment.allocated);
            let mut offset = from;
            while offset < to {
                let len = (to - offset).min(ZEROS.len() as u64) as usize;
                segment
                    .file
                    .write_at(offset, &ZEROS[..len])
                    .map_err(|e| StorageError::io("write", &segment.path, &e))?;
                offset += len as u64;
            }
            segment.zeroed = to.max(end);
        }
        Ok(())
    }

    fn sync(&mut self) -> Result<()> {
        match self.segment.as_mut() {
            Some(segment) => segment
                .file
                .sync_data()
                .map_err(|e| StorageError::io("sync", &segment.path, &e)),
            None => Ok(()),
        }
    }

    /// Syncs the current segment, then creates the segment starting at `first` and makes its
    /// header and directory entry durable.
    fn open_segment(&mut self, first: Zxid) -> Result<()> {
        self.sync()?;
        self.segment = None;
        self.roll_requested = false;
        let path = self.config.dir.join(format::log_name(first));
        let mut file = self
            .fs
            .create(&path)
            .map_err(|e| StorageError::io("create", &path, &e))?;
        let header = format::log_header();
        let allocated = self.config.preallocate_bytes.max(4096);
        file.write_at(0, &header)
            .and_then(|()| file.set_len(allocated))
            .and_then(|()| file.sync_data())
            .map_err(|e| StorageError::io("write", &path, &e))?;
        sync_dir(&*self.fs, &self.config.dir)?;
        info!(path = %path.display(), "new log segment");
        self.segment = Some(Segment {
            path,
            file,
            position: format::LOG_HEADER_BYTES,
            allocated,
            zeroed: format::LOG_HEADER_BYTES,
        });
        Ok(())
    }
}

fn sync_dir(fs: &dyn FileSystem, dir: &Path) -> Result<()> {
    fs.sync_dir(dir)
        .map_err(|e| StorageError::io("sync", dir, &e))
}

fn group_bytes(requests: &[Request]) -> usize {
    requests
        .iter()
        .map(|request| match request {
            Request::Append { bytes, .. } => bytes.len(),
            Request::Roll | Request::Close { .. } => 0,
        })
        .sum()
}
