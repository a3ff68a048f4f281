//! The storage seam: the core hands every batch of transactions to a [`TxnLog`] and sends the
//! replies of those transactions only once the log says they are durable.
//!
//! [`MemoryTxnLog`] keeps transactions in memory (bounded: it only counts them unless asked to
//! retain them); the durable-storage work plugs a real log in through
//! [`crate::Server::start_with_log`].

use std::future::Future;
use std::pin::Pin;

use zk_proto::SessionId;
use zk_tree::{DataTree, Txn, TxnHeader};
use zk_watch::SessionTable;

use crate::error::StorageError;

/// A boxed future, as the async trait methods below return.
pub type LogFuture<'a> = Pin<Box<dyn Future<Output = Result<(), StorageError>> + Send + 'a>>;

/// A transaction log.
pub trait TxnLog: Send + 'static {
    /// Appends `txns` (in zxid order) and resolves once they are durable. An error is fatal: the
    /// server stops rather than answer a write it may lose.
    fn append<'a>(&'a mut self, txns: &'a [(TxnHeader, Txn)]) -> LogFuture<'a>;

    /// Like [`TxnLog::append`], but the returned future borrows nothing, so the core can
    /// prepare the next batch while this one becomes durable (its replies still wait for it).
    /// Futures returned by successive calls must resolve in call order, each only once its
    /// batch and every earlier one are durable. `None` (the default) means the log cannot: the
    /// core then awaits [`TxnLog::append`] before it takes the next batch.
    fn submit(&mut self, txns: &[(TxnHeader, Txn)]) -> Option<LogFuture<'static>> {
        let _ = txns;
        None
    }

    /// Called after durable batches of `txns` transactions in all have been applied, with the
    /// state they produced (no later, not yet durable, transaction is in it): the place to
    /// decide on a snapshot (`state.tree().capture()`, `state.sessions()`). It runs on the
    /// core task, so it must not block. Does nothing by default.
    fn committed(&mut self, txns: usize, state: &CommittedState<'_>) {
        let _ = (txns, state);
    }
}

/// The server's state right after a batch was made durable and applied.
#[derive(Debug)]
pub struct CommittedState<'a> {
    pub(crate) tree: &'a DataTree,
    pub(crate) sessions: &'a SessionTable,
}

impl<'a> CommittedState<'a> {
    /// The data tree (its last processed zxid is the batch's last).
    pub fn tree(&self) -> &'a DataTree {
        self.tree
    }

    /// Every live session with its negotiated timeout, as a snapshot stores them.
    pub fn sessions(&self) -> Vec<(SessionId, i32)> {
        self.sessions
            .iter()
            .filter(|info| !info.closing)
            .map(|info| (info.session_id, info.timeout_ms))
            .collect()
    }
}

/// An in-memory log: everything is "durable" at once.
#[derive(Debug, Default)]
pub struct MemoryTxnLog {
    appended: u64,
    retained: Option<Vec<(TxnHeader, Txn)>>,
}

impl MemoryTxnLog {
    /// A log that keeps a copy of every transaction (tests).
    pub fn retaining() -> MemoryTxnLog {
        MemoryTxnLog {
            appended: 0,
            retained: Some(Vec::new()),
        }
    }

    /// How many transactions were appended.
    pub fn appended(&self) -> u64 {
        self.appended
    }

    /// The transactions kept by a [`MemoryTxnLog::retaining`] log.
    pub fn retained(&self) -> &[(TxnHeader, Txn)] {
        self.retained.as_deref().unwrap_or(&[])
    }
}

impl TxnLog for MemoryTxnLog {
    fn append<'a>(&'a mut self, txns: &'a [(TxnHeader, Txn)]) -> LogFuture<'a> {
        self.appended += txns.len() as u64;
        if let Some(retained) = &mut self.retained {
            retained.extend(txns.iter().cloned());
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn submit(&mut self, txns: &[(TxnHeader, Txn)]) -> Option<LogFuture<'static>> {
        self.appended += txns.len() as u64;
        if let Some(retained) = &mut self.retained {
            retained.extend(txns.iter().cloned());
        }
        Some(Box::pin(std::future::ready(Ok(()))))
    }
}
