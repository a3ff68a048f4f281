//! [`DataStore`]: the storage a server opens at start-up. It recovers the state, then owns the
//! log writer, the background snapshotter (fuzzy snapshots every `snapCount` txns, with seeded
//! jitter) and the autopurge timer.
//!
//! For a Zab peer it also rewrites history as the leader orders ([`DataStore::truncate_after`]
//! for TRUNC, [`DataStore::install_snapshot`] for SNAP), keeps the epoch files
//! ([`DataStore::read_epochs`], [`DataStore::write_accepted_epoch`],
//! [`DataStore::write_current_epoch`]), and can recover without replaying the log
//! ([`StoreConfig::replay_log`]), handing the txns after the snapshot back in
//! [`Recovered::tail`].
//!
//! ```no_run
//! use zk_storage::{DataStore, StoreConfig};
//!
//! let (mut store, recovered) = DataStore::open(StoreConfig::new("/var/lib/zk", "/var/lib/zk"))?;
//! let mut tree = recovered.tree;
//! // For every batch the core prepares: append, and reply once the handle resolves.
//! let batch = Vec::new();
//! store.append(&batch).wait()?;
//! // After applying it: snapshot when the policy says so.
//! if store.txns_applied(batch.len()) {
//!     let sessions = recovered.sessions.iter().map(|(&id, &t)| (id, t)).collect();
//!     store.snapshot(tree.capture(), sessions);
//! }
//! # let _ = &mut tree;
//! # Ok::<(), zk_storage::StorageError>(())
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing::{error, info, warn};
use zk_proto::{Epoch, SessionId, Zxid};
use zk_tree::{TreeConfig, Txn, TxnHeader};

use crate::epoch::{read_epoch_file, write_epoch_file, ACCEPTED_EPOCH_FILE, CURRENT_EPOCH_FILE};
use crate::error::{Result, StorageError};
use crate::format::VERSION_DIR;
use crate::fs::{FileSystem, RealFileSystem};
use crate::history;
use crate::log::{AppendHandle, LogConfig, LogWriter};
use crate::purge::{purge, PurgeReport};
use crate::recovery::{recover, recover_without_replay, Recovered};
use crate::rng::SplitMix64;
use crate::snapshot::{decode_snapshot, SnapshotSource};

/// Settings of a [`DataStore`], from zoo.cfg.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// `dataDir`: snapshots go to `<dataDir>/version-2`.
    pub data_dir: PathBuf,
    /// `dataLogDir` (defaults to `dataDir`): log segments go to `<dataLogDir>/version-2`.
    pub data_log_dir: PathBuf,
    /// `snapCount`: a snapshot is due after `snapCount/2 + rand(0, snapCount/2)` txns.
    pub snap_count: u32,
    /// `autopurge.snapRetainCount` (at least 3).
    pub snap_retain_count: usize,
    /// `autopurge.purgeInterval` (`None` = off).
    pub purge_interval: Option<Duration>,
    /// The log's preallocation step (`zookeeper.preAllocSize`).
    pub preallocate_bytes: u64,
    /// The seed of the snapshot jitter.
    pub seed: u64,
    /// The settings of the recovered tree.
    pub tree_config: TreeConfig,
    /// Whether recovery replays the log onto the snapshot (true, the standalone server), or
    /// returns the snapshot's state with the txns after it in [`Recovered::tail`] (false, a Zab
    /// peer that applies only what its leader says is committed).
    pub replay_log: bool,
}

impl StoreConfig {
    /// ZooKeeper's defaults: snapCount 100000, 3 retained snapshots, no autopurge, 64 MiB
    /// preallocation.
    pub fn new(data_dir: impl Into<PathBuf>, data_log_dir: impl Into<PathBuf>) -> StoreConfig {
        StoreConfig {
            data_dir: data_dir.into(),
            data_log_dir: data_log_dir.into(),
            snap_count: 100_000,
            snap_retain_count: 3,
            purge_interval: None,
            preallocate_bytes: 64 << 20,
            seed: 0,
            tree_config: TreeConfig::default(),
            replay_log: true,
        }
    }

    /// `<dataDir>/version-2`.
    pub fn snap_dir(&self) -> PathBuf {
        self.data_dir.join(VERSION_DIR)
    }

    /// `<dataLogDir>/version-2`.
    pub fn log_dir(&self) -> PathBuf {
        self.data_log_dir.join(VERSION_DIR)
    }
}

/// When to snapshot: after `snapCount/2 + rand(0, snapCount/2)` txns, re-drawn after each
/// snapshot (ZooKeeper's `SyncRequestProcessor.shouldSnapshot`), so that the servers of an
/// ensemble do not all snapshot at once.
#[derive(Clone, Debug)]
pub struct SnapshotPolicy {
    snap_count: u64,
    since_snapshot: u64,
    threshold: u64,
    rng: SplitMix64,
}

impl SnapshotPolicy {
    /// A policy for `snap_count` (at least 2) with jitter drawn from `seed`.
    pub fn new(snap_count: u32, seed: u64) -> SnapshotPolicy {
        let mut policy = SnapshotPolicy {
            snap_count: u64::from(snap_count.max(2)),
            since_snapshot: 0,
            threshold: 0,
            rng: SplitMix64::new(seed),
        };
        policy.draw();
        policy
    }

    fn draw(&mut self) {
        let half = self.snap_count / 2;
        self.threshold = half + self.rng.below(half);
    }

    /// Counts `txns` more txns; true (and the count restarts) when a snapshot is due.
    pub fn record(&mut self, txns: usize) -> bool {
        self.since_snapshot += txns as u64;
        if self.since_snapshot > self.threshold {
            self.since_snapshot = 0;
            self.draw();
            true
        } else {
            false
        }
    }
}

/// Whether a [`DataStore`]'s snapshot is being written, readable from any thread: a host whose
/// tree lives elsewhere than its store (the cluster core) asks it before it captures its tree, so
/// that a snapshot the store would skip costs no capture. The store stays the judge: it still
/// refuses a snapshot while one is running.
#[derive(Clone, Debug, Default)]
pub struct SnapshotGate(Arc<AtomicBool>);

impl SnapshotGate {
    /// True from the start of a snapshot's thread until the snapshot is written or has failed.
    pub fn is_writing(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// Clears the gate when the snapshot thread ends, however it ends.
struct GateOpener(SnapshotGate);

impl Drop for GateOpener {
    fn drop(&mut self) {
        (self.0).0.store(false, Ordering::Release);
    }
}

/// A running autopurge timer.
#[derive(Debug)]
struct Purger {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

/// The durable storage of one server.
#[derive(Debug)]
pub struct DataStore {
    fs: Arc<dyn FileSystem>,
    snap_dir: PathBuf,
    log_dir: PathBuf,
    retain_count: usize,
    log: LogWriter,
    policy: SnapshotPolicy,
    snapshotter: Option<JoinHandle<Result<PathBuf>>>,
    gate: SnapshotGate,
    purger: Option<Purger>,
    tree_config: TreeConfig,
    /// Held by every purge, and by truncation and snapshot installation, so that a purge never
    /// works from a listing those change under it.
    purge_lock: Arc<Mutex<()>>,
}

fn lock(mutex: &Mutex<()>) -> MutexGuard<'_, ()> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

impl DataStore {
    /// Opens (recovering) the data directories of `config` on the real disk.
    pub fn open(config: StoreConfig) -> Result<(DataStore, Recovered)> {
        DataStore::open_with(Arc::new(RealFileSystem), config)
    }

    /// Opens (recovering) the data directories of `config` on `fs`.
    pub fn open_with(
        fs: Arc<dyn FileSystem>,
        config: StoreConfig,
    ) -> Result<(DataStore, Recovered)> {
        let snap_dir = config.snap_dir();
        let log_dir = config.log_dir();
        let recovered = if config.replay_log {
            recover(&fs, &snap_dir, &log_dir, config.tree_config)?
        } else {
            recover_without_replay(&fs, &snap_dir, &log_dir, config.tree_config)?
        };
        let mut log_config = LogConfig::new(&log_dir);
        log_config.preallocate_bytes = config.preallocate_bytes;
        let log = LogWriter::start(fs.clone(), log_config, recovered.last_zxid)?;
        let purge_lock = Arc::new(Mutex::new(()));
        let purger = match config.purge_interval {
            Some(interval) if !interval.is_zero() => Some(start_purger(
                fs.clone(),
                snap_dir.clone(),
                log_dir.clone(),
                config.snap_retain_count,
                interval,
                purge_lock.clone(),
            )?),
            _ => None,
        };
        let store = DataStore {
            fs,
            snap_dir,
            log_dir,
            retain_count: config.snap_retain_count,
            log,
            policy: SnapshotPolicy::new(config.snap_count, config.seed),
            snapshotter: None,
            gate: SnapshotGate::default(),
            purger,
            tree_config: config.tree_config,
            purge_lock,
        };
        Ok((store, recovered))
    }

    /// The log writer.
    pub fn log(&self) -> &LogWriter {
        &self.log
    }

    /// Appends a batch; see [`LogWriter::append`].
    pub fn append(&self, txns: &[(TxnHeader, Txn)]) -> AppendHandle {
        self.log.append(txns)
    }

    /// Counts applied txns; true when a snapshot is due (the caller then takes one and passes it
    /// to [`DataStore::snapshot`]).
    pub fn txns_applied(&mut self, txns: usize) -> bool {
        self.policy.record(txns)
    }

    /// Whether a snapshot is being written, for other threads; see [`SnapshotGate`].
    pub fn snapshot_gate(&self) -> SnapshotGate {
        self.gate.clone()
    }

    /// Whether a snapshot is being written.
    pub fn snapshot_in_progress(&mut self) -> bool {
        self.reap_snapshot(false);
        self.snapshotter.is_some()
    }

    /// Rolls the log and writes `tree` and `sessions` as a snapshot on a background thread.
    /// `tree` is a [`zk_tree::TreeSnapshot`] or, cheaper for the caller, a
    /// [`zk_tree::TreeCapture`] (`DataTree::capture`), which the background thread sorts by
    /// reference and writes without copying its nodes (see [`SnapshotSource`]).
    /// Returns false (and does nothing) if the previous snapshot is still being written, as
    /// ZooKeeper's "Too busy to snap, skipping".
    pub fn snapshot(
        &mut self,
        tree: impl Into<SnapshotSource> + Send + 'static,
        sessions: Vec<(SessionId, i32)>,
    ) -> bool {
        self.snapshot_of(|| (tree, sessions))
    }

    /// [`DataStore::snapshot`] of what `take` returns, called only if no snapshot is being
    /// written: a skipped snapshot costs the caller no capture of its tree.
    pub fn snapshot_of<T: Into<SnapshotSource> + Send + 'static>(
        &mut self,
        take: impl FnOnce() -> (T, Vec<(SessionId, i32)>),
    ) -> bool {
        if self.snapshot_in_progress() {
            warn!("too busy to snapshot, skipping");
            return false;
        }
        let (tree, sessions) = take();
        self.log.roll();
        let fs = self.fs.clone();
        let dir = self.snap_dir.clone();
        self.gate.0.store(true, Ordering::Release);
        let opener = GateOpener(self.gate.clone());
        let spawned = std::thread::Builder::new()
            .name("zk-snapshot".to_owned())
            .spawn(move || {
                let _opener = opener;
                tree.into().write(&*fs, &dir, &sessions)
            });
        match spawned {
            Ok(thread) => {
                self.snapshotter = Some(thread);
                true
            }
            // The closure, and the opener in it, are dropped with the error: the gate is open.
            Err(e) => {
                error!(error = %e, "cannot start the snapshot thread");
                false
            }
        }
    }

    /// Waits for the snapshot being written, if any, and returns its outcome.
    pub fn wait_for_snapshot(&mut self) -> Option<Result<PathBuf>> {
        self.reap_snapshot(true)
    }

    fn reap_snapshot(&mut self, block: bool) -> Option<Result<PathBuf>> {
        let finished = self.snapshotter.as_ref()?.is_finished();
        if !finished && !block {
            return None;
        }
        let thread = self.snapshotter.take()?;
        let outcome = thread.join().unwrap_or_else(|_| {
            Err(StorageError::LogFailed(
                "the snapshot thread panicked".into(),
            ))
        });
        if let Err(error) = &outcome {
            error!(%error, "snapshot failed");
        }
        Some(outcome)
    }

    /// Purges now (as `zkCleanup.sh`), keeping `snapRetainCount` snapshots.
    pub fn purge(&self) -> Result<PurgeReport> {
        let _purging = lock(&self.purge_lock);
        purge(&*self.fs, &self.snap_dir, &self.log_dir, self.retain_count)
    }

    /// Waits for a snapshot being written (its failure is only logged: the history rewrite
    /// that follows does not depend on it).
    fn settle_snapshot(&mut self) {
        if let Some(Err(error)) = self.wait_for_snapshot() {
            warn!(%error, "the snapshot before a history rewrite failed");
        }
    }

    /// Makes the log end at its last txn with a zxid at or below `zxid` (Zab's TRUNC), durably.
    /// Blocking: call it from a blocking context.
    ///
    /// It waits for the appends already queued and for a snapshot being written, then removes
    /// the snapshots newer than `zxid` (they hold truncated txns) and the log segments that start
    /// after it, newest first, syncing the directory after each, and finally cuts the segment
    /// holding `zxid` right after that txn (file and directory synced). A crash at any point
    /// recovers a prefix of the old log at least as long as the truncated one, never a log with
    /// a gap. Appends then go on after the log's new end (`zxid` when the log holds it), in a new
    /// segment.
    ///
    /// Fails with [`StorageError::CannotTruncate`], changing nothing, when the truncated history
    /// could not be recovered: `zxid` is below every usable snapshot (no verifying snapshot at or
    /// below it would remain), or the log lacks the txns right after that snapshot. Fails
    /// with [`StorageError::LogFailed`] if the log has failed; an IO error during the changes
    /// poisons the log.
    pub fn truncate_after(&mut self, zxid: Zxid) -> Result<()> {
        self.rewrite_history(|fs, snap_dir, log_dir, log| {
            let plan = history::plan_truncate(fs, snap_dir, log_dir, zxid)?;
            if let Err(error) = history::apply_truncate(fs, &plan) {
                log.poison(&error);
                return Err(error);
            }
            Ok(plan.last_zxid)
        })
    }

    /// Replaces the whole history with the snapshot `bytes` at `zxid` received from a leader
    /// (Zab's SNAP; the bytes of [`crate::encode_snapshot`]), durably. Blocking: call it from a
    /// blocking context.
    ///
    /// The bytes are checked first ([`crate::decode_snapshot`], and their zxid must be `zxid`);
    /// then it waits for the appends already queued and for a snapshot being written, writes
    /// `snapshot.<zxid>.tmp` and syncs it, removes every log segment and every snapshot newer
    /// than `zxid` (newest first, each removal synced), renames the temporary file to
    /// `snapshot.<zxid>` and syncs the directory. Appends then go on after `zxid`, in a new
    /// segment.
    ///
    /// Crash window: a crash after the removals but before the rename recovers an older
    /// snapshot (or, without one, an empty tree): the state goes back, it never mixes our old
    /// txns with the leader's state, and the leader synchronises this peer again.
    ///
    /// Fails with [`StorageError::InvalidSnapshot`] (nothing changed) on bad bytes, with
    /// [`StorageError::LogFailed`] if the log has failed; an IO error after the first removal
    /// poisons the log.
    pub fn install_snapshot(&mut self, zxid: Zxid, bytes: &[u8]) -> Result<()> {
        let (decoded_zxid, _, _) = decode_snapshot(bytes, self.tree_config)?;
        if decoded_zxid != zxid {
            return Err(StorageError::InvalidSnapshot(format!(
                "expected the snapshot at {zxid}, got the one at {decoded_zxid}"
            )));
        }
        self.rewrite_history(|fs, snap_dir, log_dir, log| {
            history::install_snapshot(fs, snap_dir, log_dir, zxid, bytes).map_err(|failure| {
                if failure.changed {
                    log.poison(&failure.error);
                }
                failure.error
            })?;
            Ok(zxid)
        })?;
        self.policy.since_snapshot = 0;
        Ok(())
    }

    /// Runs `change` (given the file system, the snapshot and log directories and the log) with
    /// the log writer stopped between segments, no snapshot being written and autopurge held
    /// off; `change` returns the log's new last zxid. Fails at once if the log has failed.
    fn rewrite_history(
        &mut self,
        change: impl FnOnce(&dyn FileSystem, &Path, &Path, &LogWriter) -> Result<Zxid>,
    ) -> Result<()> {
        if let Some(error) = self.log.failure() {
            return Err(error);
        }
        self.settle_snapshot();
        let _purging = lock(&self.purge_lock);
        let (fs, log) = (&*self.fs, &self.log);
        let (snap_dir, log_dir) = (&self.snap_dir, &self.log_dir);
        log.with_closed_segment(|| change(fs, snap_dir, log_dir, log))
    }

    /// The epochs of the files `acceptedEpoch` and `currentEpoch` of `<dataDir>/version-2`
    /// (accepted, current); a missing file is epoch 0, a file without an epoch an error naming
    /// it.
    pub fn read_epochs(&self) -> Result<(Epoch, Epoch)> {
        let accepted = read_epoch_file(&*self.fs, &self.snap_dir.join(ACCEPTED_EPOCH_FILE))?;
        let current = read_epoch_file(&*self.fs, &self.snap_dir.join(CURRENT_EPOCH_FILE))?;
        Ok((accepted.unwrap_or_default(), current.unwrap_or_default()))
    }

    /// Writes `acceptedEpoch` durably (temporary file, sync, rename, directory sync).
    pub fn write_accepted_epoch(&self, epoch: Epoch) -> Result<()> {
        write_epoch_file(&*self.fs, &self.snap_dir, ACCEPTED_EPOCH_FILE, epoch)
    }

    /// Writes `currentEpoch` durably (temporary file, sync, rename, directory sync).
    pub fn write_current_epoch(&self, epoch: Epoch) -> Result<()> {
        write_epoch_file(&*self.fs, &self.snap_dir, CURRENT_EPOCH_FILE, epoch)
    }

    /// `<dataDir>/version-2`.
    pub fn snap_dir(&self) -> &Path {
        &self.snap_dir
    }

    /// `<dataLogDir>/version-2`.
    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    /// Stops the timer, waits for a running snapshot, and syncs and closes the log.
    pub fn close(mut self) -> Result<()> {
        self.stop_purger();
        if let Some(Err(error)) = self.wait_for_snapshot() {
            warn!(%error, "the last snapshot failed");
        }
        self.log.shutdown();
        match self.log.failure() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    fn stop_purger(&mut self) {
        if let Some(purger) = self.purger.take() {
            drop(purger.stop);
            if purger.thread.join().is_err() {
                error!("the autopurge thread panicked");
            }
        }
    }
}

impl Drop for DataStore {
    fn drop(&mut self) {
        self.stop_purger();
        if let Some(thread) = self.snapshotter.take() {
            let _ = thread.join();
        }
    }
}

fn start_purger(
    fs: Arc<dyn FileSystem>,
    snap_dir: PathBuf,
    log_dir: PathBuf,
    retain_count: usize,
    interval: Duration,
    purge_lock: Arc<Mutex<()>>,
) -> Result<Purger> {
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("zk-autopurge".to_owned())
        .spawn(move || {
            info!(?interval, retain_count, "autopurge started");
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                let _purging = lock(&purge_lock);
                if let Err(error) = purge(&*fs, &snap_dir, &log_dir, retain_count) {
                    error!(%error, "autopurge failed");
                }
            }
        })
        .map_err(|e| StorageError::io("spawn", "zk-autopurge", &e))?;
    Ok(Purger { stop, thread })
}
