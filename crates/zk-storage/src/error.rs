//! The crate's error type: every way reading or writing the data directory can fail.

use std::path::PathBuf;

use thiserror::Error;
use zk_proto::Zxid;

/// A storage failure.
///
/// The log writer turns its first write or sync failure into a sticky [`StorageError::LogFailed`]:
/// every later append fails with it, so the server stops acknowledging writes.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageError {
    /// An IO operation failed.
    #[error("{op} {path}: {message}")]
    Io {
        /// What was being done (`write`, `sync`, `rename`, ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The IO error's kind.
        kind: std::io::ErrorKind,
        /// The IO error's text.
        message: String,
    },
    /// An earlier write or sync of the log failed; the log refuses every append since.
    #[error("the transaction log failed earlier and refuses appends: {0}")]
    LogFailed(String),
    /// The log writer is gone (shut down or its thread died).
    #[error("the transaction log writer has stopped")]
    WriterStopped,
    /// A file is damaged where damage cannot be a torn tail.
    #[error("{path} is corrupt at offset {offset}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The byte offset of the damage.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A file was written by an unknown format version.
    #[error("{path} has format version {version}, this build reads {supported}")]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version found.
        version: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// The data directory holds logs or snapshots but no snapshot can be loaded; starting
    /// with an empty database would lose data.
    #[error("no usable snapshot in {dir}: {reason}")]
    NoUsableSnapshot {
        /// The snapshot directory.
        dir: PathBuf,
        /// Why (which files exist and what is wrong with them).
        reason: String,
    },
    /// The log lacks txns between the snapshot and the rest of the log.
    #[error("the log has a gap: expected the txn after {after}, found {found}")]
    LogGap {
        /// The last zxid known before the gap.
        after: Zxid,
        /// The zxid found after the gap.
        found: Zxid,
    },
    /// Txns were appended out of zxid order.
    #[error("txn {zxid} appended after {last}: zxids must increase")]
    OutOfOrder {
        /// The zxid appended.
        zxid: Zxid,
        /// The last zxid already in the log.
        last: Zxid,
    },
    /// Snapshot bytes received from elsewhere (a leader) are not a valid snapshot.
    #[error("invalid snapshot: {0}")]
    InvalidSnapshot(String),
    /// The log cannot be truncated as asked; nothing was changed.
    #[error("cannot truncate the log after {zxid}: {reason}")]
    CannotTruncate {
        /// The zxid the log was to end at.
        zxid: Zxid,
        /// Why not.
        reason: String,
    },
    /// A snapshot's tree could not be rebuilt.
    #[error("snapshot {path} does not form a tree: {reason}")]
    BadTree {
        /// The snapshot file.
        path: PathBuf,
        /// The tree's complaint.
        reason: String,
    },
}

impl StorageError {
    /// Wraps an IO error with what was being done and where.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, error: &std::io::Error) -> StorageError {
        StorageError::Io {
            op,
            path: path.into(),
            kind: error.kind(),
            message: error.to_string(),
        }
    }

    /// A corruption report.
    pub fn corrupt(
        path: impl Into<PathBuf>,
        offset: u64,
        reason: impl Into<String>,
    ) -> StorageError {
        StorageError::Corrupt {
            path: path.into(),
            offset,
            reason: reason.into(),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<StorageError>();
};
