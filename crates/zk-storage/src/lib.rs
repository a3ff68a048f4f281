//! Durable storage for the ZooKeeper-compatible server: the transaction log (segments named by
//! their first zxid, preallocated, CRC per record, `fdatasync` group commit), snapshots of the
//! tree and the session table, crash recovery with damage handling, autopurge, and a data
//! directory inspector.
//!
//! The server opens a [`DataStore`] at start-up and gets back the [`Recovered`] state; from
//! then on it hands every batch of txns to [`DataStore::append`] and replies once the returned
//! [`AppendHandle`] resolves. Every file operation goes through the [`FileSystem`] seam, so the
//! damage and failure paths are tested against [`fault::FaultyFileSystem`].
//!
//! This crate does blocking IO on its own threads (the log writer, the snapshotter, the
//! autopurge timer) and knows nothing of tokio: [`AppendHandle`] is a plain `Future`.
//!
//! The server's `TxnLog` seam adapts in a few lines (this crate cannot depend on zk-server):
//!
//! ```text
//! impl TxnLog for DurableTxnLog {
//!     fn append<'a>(&'a mut self, txns: &'a [(TxnHeader, Txn)]) -> LogFuture<'a> {
//!         let durable = self.store.append(txns); // encodes now, syncs on the writer thread
//!         Box::pin(async move {
//!             durable.await.map(drop).map_err(|e| StorageError::Other(e.to_string()))
//!         })
//!     }
//! }
//! // After each durable batch has been applied:
//! if store.txns_applied(batch_len) {
//!     store.snapshot(tree.capture(), sessions); // sorted and written on a background thread
//! }
//! ```
//!
//! Damage handling (each case has a test in `tests/`): a torn or zero-filled tail of the last log
//! segment is cut at the last valid record and the file truncated; a damaged newest snapshot
//! falls back to an older one plus the log; logs or snapshot files without a loadable snapshot
//! are an error, never an empty database; a CRC failure inside a non-last segment, or a gap in
//! the zxids of an epoch, is an error; a failed write or `fdatasync`, a short write or a full disk
//! poisons the log for good. `tests/crash.rs` cuts the power (torn sectors included) at seeded
//! moments and checks that every acknowledged txn survives and nothing unrequested appears.
//!
//! For Zab (cluster mode) the store also recovers without replaying the log
//! ([`StoreConfig::replay_log`], the txns after the snapshot in [`Recovered::tail`]), truncates
//! the log after a zxid ([`DataStore::truncate_after`]), installs a snapshot received from a
//! leader ([`encode_snapshot`], [`decode_snapshot`], [`DataStore::install_snapshot`]), and keeps
//! the epoch files ([`DataStore::read_epochs`] and the two writers, module [`mod@epoch`]).
//!
//! Files: `<dataDir>/version-2/snapshot.<hex zxid>` and `<dataLogDir>/version-2/log.<hex zxid>`,
//! named as ZooKeeper names them; the byte formats are this crate's own (see [`mod@format`]);
//! `<dataDir>/version-2/acceptedEpoch` and `currentEpoch` hold a decimal epoch, as ZooKeeper's.

pub mod epoch;
pub mod error;
pub mod fault;
pub mod format;
pub mod fs;
mod history;
pub mod inspect;
pub mod log;
pub mod purge;
pub mod recovery;
pub mod rng;
pub mod snapshot;
pub mod store;

pub use error::{Result, StorageError};
pub use fs::{FileSystem, RealFileSystem, WritableFile};
pub use inspect::{inspect, inspect_with, EpochFileSummary, LogSummary, Report, SnapshotSummary};
pub use log::{AppendHandle, LogConfig, LogWriter};
pub use purge::{purge, PurgeReport};
pub use recovery::{recover, recover_without_replay, Recovered};
pub use snapshot::{
    decode_snapshot, encode_snapshot, read_snapshot, write_snapshot, LoadedSnapshot, SnapshotSource,
};
pub use store::{DataStore, SnapshotGate, SnapshotPolicy, StoreConfig};
