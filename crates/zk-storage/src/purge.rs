//! Autopurge (`autopurge.snapRetainCount`, `autopurge.purgeInterval`, `zkCleanup.sh`): keep the
//! newest snapshots and every log segment recovery from the oldest kept one needs.
//!
//! Only snapshots that verify count towards the retained number, so a damaged newest snapshot
//! never causes the deletion of the older one recovery would fall back to.

use std::path::{Path, PathBuf};

use tracing::{info, warn};
use zk_proto::Zxid;

use crate::error::{Result, StorageError};
use crate::fs::FileSystem;
use crate::recovery::{list_dir, segments_after};
use crate::snapshot::read_snapshot;

/// The least `snapRetainCount` ZooKeeper accepts.
pub const SNAP_RETAIN_COUNT_MIN: usize = 3;

/// What a purge removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// The snapshots removed.
    pub snapshots_removed: Vec<PathBuf>,
    /// The log segments removed.
    pub logs_removed: Vec<PathBuf>,
    /// The zxid of the oldest snapshot kept (`None` if no snapshot verifies: nothing is removed).
    pub oldest_kept: Option<Zxid>,
}

/// Removes all but the newest `retain_count` (at least [`SNAP_RETAIN_COUNT_MIN`]) valid
/// snapshots of `snap_dir`, and the segments of `log_dir` that hold only txns at or below the
/// oldest kept snapshot. Damaged snapshots newer than the oldest kept one are left alone.
pub fn purge(
    fs: &dyn FileSystem,
    snap_dir: &Path,
    log_dir: &Path,
    retain_count: usize,
) -> Result<PurgeReport> {
    let retain_count = retain_count.max(SNAP_RETAIN_COUNT_MIN);
    let listing = list_dir(fs, snap_dir, log_dir)?;
    let mut valid = 0;
    let mut oldest_kept = None;
    for (zxid, path) in listing.snapshots.iter().rev() {
        match read_snapshot(fs, path) {
            Ok(_) => {
                valid += 1;
                if valid == retain_count {
                    oldest_kept = Some(*zxid);
                    break;
                }
            }
            Err(error) => {
                warn!(path = %path.display(), %error, "damaged snapshot is not counted as retained")
            }
        }
    }
    let mut report = PurgeReport::default();
    let Some(oldest) = oldest_kept else {
        return Ok(report);
    };
    report.oldest_kept = Some(oldest);
    for (zxid, path) in &listing.snapshots {
        if *zxid < oldest {
            fs.remove(path)
                .map_err(|e| StorageError::io("remove", path, &e))?;
            report.snapshots_removed.push(path.clone());
        }
    }
    let needed = segments_after(&listing.logs, oldest).len();
    for (_, path) in &listing.logs[..listing.logs.len() - needed] {
        fs.remove(path)
            .map_err(|e| StorageError::io("remove", path, &e))?;
        report.logs_removed.push(path.clone());
    }
    for dir in [snap_dir, log_dir] {
        fs.sync_dir(dir)
            .map_err(|e| StorageError::io("sync", dir, &e))?;
    }
    info!(
        %oldest,
        snapshots = report.snapshots_removed.len(),
        logs = report.logs_removed.len(),
        "purged"
    );
    Ok(report)
}
