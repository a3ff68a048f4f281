//! The server's error types: configuration errors, startup errors, and the fatal storage error
//! that stops the server (per-request failures travel as `ErrorCode`s in replies instead).

use std::path::PathBuf;

use thiserror::Error;

/// Why a zoo.cfg could not be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// A required key is absent.
    #[error("{key} is not set")]
    Missing {
        /// The key.
        key: &'static str,
    },
    /// A key has a value ZooKeeper would refuse (line 0 = a check across keys).
    #[error("invalid value for {key} at line {line}: {reason}")]
    Invalid {
        /// The key.
        key: String,
        /// The line of zoo.cfg.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// Why the server could not start or had to stop.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The configuration asks for something this server cannot do yet.
    #[error("{0}")]
    Unsupported(String),
    /// The client port could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The IO error.
        source: std::io::Error,
    },
    /// The transaction log failed; the server cannot go on without losing durability.
    #[error("transaction log failed: {0}")]
    Storage(#[from] StorageError),
}

/// A failure of the transaction log (fatal for the server).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StorageError {
    /// An IO error from the log's files.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// Any other failure the log reports.
    #[error("{0}")]
    Other(String),
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ConfigError>();
    assert_send_sync::<ServerError>();
    assert_send_sync::<StorageError>();
};
