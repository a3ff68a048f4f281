//! The durable transaction log: zk-storage's [`DataStore`] (segmented log with group commit,
//! snapshots, recovery, autopurge) behind the [`TxnLog`] seam.
//!
//! [`DurableTxnLog::open`] recovers `dataDir`/`dataLogDir` (blocking file IO: call it before
//! serving, e.g. from `spawn_blocking` or before the runtime starts) and returns the state the
//! server resumes from. Afterwards every batch is appended and synced on the store's writer
//! thread (batches that arrive during a sync share the next one), the core answers a batch only
//! once it is durable, while it already prepares the next batches; and a snapshot is taken in the background
//! every `snapCount` transactions or so, as ZooKeeper does.

use std::time::Duration;

use tracing::info;
use zk_storage::{DataStore, StoreConfig};
use zk_tree::{Txn, TxnHeader};

use crate::config::Config;
use crate::error::StorageError;
use crate::server::InitialState;
use crate::txn_log::{CommittedState, LogFuture, TxnLog};

/// zk-storage's store as the server's transaction log.
#[derive(Debug)]
pub struct DurableTxnLog {
    store: DataStore,
}

/// The store settings of a zoo.cfg (`dataDir`, `dataLogDir`, `snapCount`, autopurge, extended
/// types), with `seed` for the snapshot jitter, which only needs to differ between the servers
/// of an ensemble.
pub(crate) fn store_config(config: &Config, seed: u64) -> StoreConfig {
    let mut store_config = StoreConfig::new(&config.data_dir, &config.data_log_dir);
    store_config.snap_count = config.snap_count;
    store_config.snap_retain_count = config.autopurge_snap_retain_count as usize;
    store_config.purge_interval = match config.autopurge_purge_interval_hours {
        0 => None,
        hours => Some(Duration::from_secs(u64::from(hours) * 3600)),
    };
    store_config.tree_config = config.tree_config();
    store_config.seed = seed;
    store_config
}

impl DurableTxnLog {
    /// Opens (creating if needed) the data directories of `config`, recovers them, and returns
    /// the log with the state to start from. Blocking.
    pub fn open(config: &Config) -> Result<(DurableTxnLog, InitialState), StorageError> {
        let store_config = store_config(config, u64::from(config.client_port));
        let (store, recovered) = DataStore::open(store_config)
            .map_err(|e| StorageError::Other(format!("cannot open the data directory: {e}")))?;
        info!(
            last_zxid = %recovered.last_zxid,
            snapshot_zxid = %recovered.snapshot_zxid,
            txns_replayed = recovered.txns_replayed,
            torn_bytes = recovered.torn_bytes,
            sessions = recovered.sessions.len(),
            "recovered the data directory"
        );
        let initial = InitialState {
            tree: Some(recovered.tree),
            sessions: recovered.sessions.into_iter().collect(),
            last_zxid: recovered.last_zxid,
        };
        Ok((DurableTxnLog { store }, initial))
    }
}

impl TxnLog for DurableTxnLog {
    fn append<'a>(&'a mut self, txns: &'a [(TxnHeader, Txn)]) -> LogFuture<'a> {
        // Encoded now; synced on the store's writer thread together with other batches.
        let durable = self.store.append(txns);
        Box::pin(async move {
            durable
                .await
                .map(drop)
                .map_err(|e| StorageError::Other(e.to_string()))
        })
    }

    fn submit(&mut self, txns: &[(TxnHeader, Txn)]) -> Option<LogFuture<'static>> {
        // The store's writer thread syncs batches in order, so handles resolve in order.
        let durable = self.store.append(txns);
        Some(Box::pin(async move {
            durable
                .await
                .map(drop)
                .map_err(|e| StorageError::Other(e.to_string()))
        }))
    }

    fn committed(&mut self, txns: usize, state: &CommittedState<'_>) {
        if self.store.txns_applied(txns) {
            // Captured here (a copy of the pointers to the nodes' paths and values) unless the
            // previous snapshot is still being written; sorted, encoded and written on the
            // store's snapshot thread.
            self.store
                .snapshot_of(|| (state.tree().capture(), state.sessions()));
        }
    }
}
