//! Recovery: the newest valid snapshot plus a replay of the log after it ([`recover`]), or the
//! snapshot alone with the txns after it handed back unapplied ([`recover_without_replay`], for
//! a Zab follower that must learn from its leader which of them are committed).
//!
//! Rules (ZooKeeper's `FileTxnSnapLog.restore`, with stricter damage handling):
//! - snapshots are tried newest first; a damaged one is logged and the next older one is used;
//! - a fresh data directory (no snapshot, no log) gets an empty `snapshot.0`;
//! - logs without any loadable snapshot, or snapshot files none of which loads, are an error:
//!   starting empty would silently lose the database;
//! - every txn with a zxid above the snapshot's is replayed (applying a txn the fuzzy snapshot
//!   already reflects is harmless, see `DataTree::apply`);
//! - a torn or zero-filled tail of the last segment is cut (the file is truncated and synced);
//!   damage anywhere else in the log is an error, as is a gap in the zxids of an epoch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tracing::{info, warn};
use zk_proto::{SessionId, Zxid};
use zk_tree::{DataTree, TreeConfig, Txn, TxnHeader};

use crate::error::{Result, StorageError};
use crate::format::{self, SegmentEnd};
use crate::fs::FileSystem;
use crate::snapshot::{read_snapshot, write_snapshot};

/// The most snapshots tried before giving up (ZooKeeper tries 100).
pub const SNAPSHOT_CANDIDATES_MAX: usize = 100;

/// The state rebuilt from a data directory.
#[derive(Debug)]
pub struct Recovered {
    /// The tree, with its last processed zxid set (to `last_zxid` with replay, to
    /// `snapshot_zxid` without).
    pub tree: DataTree,
    /// The live sessions with their timeouts in milliseconds (the snapshot's without replay).
    pub sessions: BTreeMap<SessionId, i32>,
    /// The last zxid of the history: the log's last valid txn, or the snapshot's if the log adds
    /// nothing. Appends continue after it. With replay it is also the tree's last applied zxid;
    /// without, it is the zxid of the last txn of `tail`.
    pub last_zxid: Zxid,
    /// The zxid of the snapshot recovery started from.
    pub snapshot_zxid: Zxid,
    /// The number of txns replayed from the log (0 without replay).
    pub txns_replayed: u64,
    /// Bytes cut from the tail of the last log segment.
    pub torn_bytes: u64,
    /// Without replay ([`crate::StoreConfig::replay_log`] false): the txns of the log after
    /// `snapshot_zxid`, in zxid order, not applied to `tree` nor to `sessions`. Empty with replay.
    pub tail: Vec<(TxnHeader, Txn)>,
}

/// The files of a data directory, sorted by zxid.
#[derive(Clone, Debug, Default)]
pub struct DirListing {
    /// `(zxid, path)` of every `snapshot.<hex>`, oldest first.
    pub snapshots: Vec<(Zxid, PathBuf)>,
    /// `(first zxid, path)` of every `log.<hex>`, oldest first.
    pub logs: Vec<(Zxid, PathBuf)>,
}

/// Lists the snapshots of `snap_dir` and the log segments of `log_dir` (missing directories
/// count as empty).
pub fn list_dir(fs: &dyn FileSystem, snap_dir: &Path, log_dir: &Path) -> Result<DirListing> {
    let names = |dir: &Path| -> Result<Vec<String>> {
        match fs.list(dir) {
            Ok(names) => Ok(names),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(StorageError::io("list", dir, &e)),
        }
    };
    let pick = |dir: &Path, names: &[String], prefix: &str| {
        let mut files: Vec<(Zxid, PathBuf)> = names
            .iter()
            .filter_map(|name| Some((format::parse_name(name, prefix)?, dir.join(name))))
            .collect();
        files.sort();
        files
    };
    let snap_names = names(snap_dir)?;
    let log_names = if log_dir == snap_dir {
        snap_names.clone()
    } else {
        names(log_dir)?
    };
    Ok(DirListing {
        snapshots: pick(snap_dir, &snap_names, "snapshot"),
        logs: pick(log_dir, &log_names, "log"),
    })
}

/// The log segments that may hold txns after `zxid`: every segment except those followed by a
/// segment starting at or before `zxid + 1`.
pub fn segments_after(logs: &[(Zxid, PathBuf)], zxid: Zxid) -> &[(Zxid, PathBuf)] {
    let first_needed = logs
        .windows(2)
        .position(|pair| pair[1].0 .0 > zxid.0.saturating_add(1))
        .unwrap_or(logs.len().saturating_sub(1));
    &logs[first_needed..]
}

/// Removes leftover `snapshot.*.tmp` files of interrupted snapshots.
fn remove_temporaries(fs: &dyn FileSystem, dir: &Path) -> Result<()> {
    let names = fs
        .list(dir)
        .map_err(|e| StorageError::io("list", dir, &e))?;
    for name in names {
        if name.starts_with("snapshot.") && name.ends_with(".tmp") {
            let path = dir.join(&name);
            warn!(path = %path.display(), "removing an interrupted snapshot");
            fs.remove(&path)
                .map_err(|e| StorageError::io("remove", &path, &e))?;
        }
    }
    Ok(())
}

/// Recovers the state of `snap_dir` (`<dataDir>/version-2`) and `log_dir`
/// (`<dataLogDir>/version-2`), creating them, and `snapshot.0`, if the directory is fresh. A torn
/// log tail is truncated on disk so that later segments follow a clean one.
pub fn recover(
    fs: &Arc<dyn FileSystem>,
    snap_dir: &Path,
    log_dir: &Path,
    tree_config: TreeConfig,
) -> Result<Recovered> {
    recover_inner(&**fs, snap_dir, log_dir, tree_config, true)
}

/// As [`recover`], with the same damage rules, but without replaying the log: the tree and the
/// sessions are the snapshot's, and the txns after the snapshot come back in
/// [`Recovered::tail`]; `last_zxid` is still the last valid txn of the log.
pub fn recover_without_replay(
    fs: &Arc<dyn FileSystem>,
    snap_dir: &Path,
    log_dir: &Path,
    tree_config: TreeConfig,
) -> Result<Recovered> {
    recover_inner(&**fs, snap_dir, log_dir, tree_config, false)
}

fn recover_inner(
    fs: &dyn FileSystem,
    snap_dir: &Path,
    log_dir: &Path,
    tree_config: TreeConfig,
    replay_log: bool,
) -> Result<Recovered> {
    for dir in [snap_dir, log_dir] {
        fs.create_dir_all(dir)
            .map_err(|e| StorageError::io("create", dir, &e))?;
        // The version-2 entry itself must survive a power cut, or a later start would take the
        // directory for a fresh one.
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs.sync_dir(parent)
                .map_err(|e| StorageError::io("sync", parent, &e))?;
        }
    }
    remove_temporaries(fs, snap_dir)?;
    let listing = list_dir(fs, snap_dir, log_dir)?;
    if listing.snapshots.is_empty() && listing.logs.is_empty() {
        info!(dir = %snap_dir.display(), "fresh data directory: writing snapshot.0");
        let tree = DataTree::with_config(tree_config);
        write_snapshot(fs, snap_dir, &tree.to_snapshot(), &[])?;
        return Ok(Recovered {
            tree,
            sessions: BTreeMap::new(),
            last_zxid: Zxid::ZERO,
            snapshot_zxid: Zxid::ZERO,
            txns_replayed: 0,
            torn_bytes: 0,
            tail: Vec::new(),
        });
    }
    let mut problems = Vec::new();
    let mut loaded = None;
    for (zxid, path) in listing.snapshots.iter().rev().take(SNAPSHOT_CANDIDATES_MAX) {
        match read_snapshot(fs, path).and_then(|snapshot| {
            let zxid = snapshot.zxid;
            DataTree::from_snapshot_owned(snapshot.body.tree, tree_config)
                .map(|tree| ((zxid, snapshot.body.sessions), tree))
                .map_err(|e| StorageError::BadTree {
                    path: path.clone(),
                    reason: e.to_string(),
                })
        }) {
            Ok(found) => {
                loaded = Some(found);
                break;
            }
            Err(error) => {
                warn!(path = %path.display(), %zxid, %error, "snapshot unusable; trying an older one");
                problems.push(error.to_string());
            }
        }
    }
    let Some((snapshot, mut tree)) = loaded else {
        let reason = if listing.snapshots.is_empty() {
            format!(
                "no snapshot but {} log segment(s): refusing to start from an empty tree",
                listing.logs.len()
            )
        } else {
            format!("every snapshot is damaged: {}", problems.join("; "))
        };
        return Err(StorageError::NoUsableSnapshot {
            dir: snap_dir.to_path_buf(),
            reason,
        });
    };
    let (snapshot_zxid, snapshot_sessions) = snapshot;
    info!(%snapshot_zxid, nodes = tree.node_count(), "snapshot loaded");
    let mut sessions: BTreeMap<SessionId, i32> = snapshot_sessions.into_iter().collect();
    let mut last_zxid = snapshot_zxid;
    let mut txns_read: u64 = 0;
    let mut tail = Vec::new();
    let mut torn_bytes = 0;
    let segments = segments_after(&listing.logs, snapshot_zxid);
    for (index, (name_zxid, path)) in segments.iter().enumerate() {
        let is_last = index + 1 == segments.len();
        let bytes = fs
            .read(path)
            .map_err(|e| StorageError::io("read", path, &e))?;
        if let Err(reason) = format::check_log_header(&bytes) {
            if is_last && bytes.iter().all(|&b| b == 0) {
                // Created, but the crash came before its header was durable: it holds nothing.
                warn!(path = %path.display(), %reason, "removing an empty last log segment");
                fs.remove(path)
                    .map_err(|e| StorageError::io("remove", path, &e))?;
                fs.sync_dir(log_dir)
                    .map_err(|e| StorageError::io("sync", log_dir, &e))?;
                torn_bytes += bytes.len() as u64;
                continue;
            }
            return Err(StorageError::corrupt(path, 0, reason));
        }
        let scan = format::scan_segment(&bytes);
        if let SegmentEnd::Damaged { offset, reason } = &scan.end {
            if !is_last {
                return Err(StorageError::corrupt(path, *offset, reason.clone()));
            }
            let cut = bytes.len() as u64 - scan.valid_end;
            warn!(path = %path.display(), offset, %reason, cut_bytes = cut, "cutting the torn tail of the last log segment");
            let mut file = fs
                .open(path)
                .map_err(|e| StorageError::io("open", path, &e))?;
            file.set_len(scan.valid_end)
                .and_then(|()| file.sync_data())
                .map_err(|e| StorageError::io("truncate", path, &e))?;
            torn_bytes += cut;
        }
        if let Some(first) = scan.records.first() {
            if first.zxid < *name_zxid {
                return Err(StorageError::corrupt(
                    path,
                    first.offset,
                    format!("segment named {name_zxid} starts with {}", first.zxid),
                ));
            }
        }
        for record in &scan.records {
            if record.zxid <= last_zxid {
                if record.zxid > snapshot_zxid || txns_read > 0 {
                    return Err(StorageError::corrupt(
                        path,
                        record.offset,
                        format!("zxid {} does not follow {last_zxid}", record.zxid),
                    ));
                }
                continue;
            }
            if record.zxid.epoch() == last_zxid.epoch()
                && record.zxid.counter() != last_zxid.counter().wrapping_add(1)
            {
                return Err(StorageError::LogGap {
                    after: last_zxid,
                    found: record.zxid,
                });
            }
            let (header, txn) = record
                .decode()
                .map_err(|reason| StorageError::corrupt(path, record.offset, reason))?;
            last_zxid = record.zxid;
            txns_read += 1;
            if !replay_log {
                tail.push((header, txn));
                continue;
            }
            match &txn {
                Txn::CreateSession { timeout_ms } => {
                    sessions.insert(header.session_id, *timeout_ms);
                }
                Txn::CloseSession { .. } => {
                    sessions.remove(&header.session_id);
                }
                _ => {}
            }
            tree.apply(&header, &txn);
        }
    }
    let txns_replayed = if replay_log {
        tree.set_last_processed_zxid(last_zxid);
        txns_read
    } else {
        0
    };
    info!(%snapshot_zxid, %last_zxid, txns_replayed, tail = tail.len(), sessions = sessions.len(), "recovered");
    Ok(Recovered {
        tree,
        sessions,
        last_zxid,
        snapshot_zxid,
        txns_replayed,
        torn_bytes,
        tail,
    })
}
