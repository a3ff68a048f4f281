//! Rewriting the history on disk for Zab: truncating the log after a zxid (the leader's TRUNC)
//! and replacing the whole history with a leader's snapshot (SNAP). [`crate::DataStore`] calls
//! these with its log writer stopped between segments and autopurge held off.
//!
//! Crash safety comes from the order of the changes: files are removed newest first, and the
//! directory is synced after each removal, so that a power cut at any moment leaves a prefix of
//! the old history (never a history with a hole in it, which recovery would refuse, and never
//! old txns on top of a newer state).

use std::path::{Path, PathBuf};

use tracing::{info, warn};
use zk_proto::Zxid;

use crate::epoch::write_synced;
use crate::error::{Result, StorageError};
use crate::format::{self, SegmentEnd};
use crate::fs::FileSystem;
use crate::recovery::{list_dir, segments_after};

/// A file to remove and the directory whose entry must then be synced.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Removal {
    zxid: Zxid,
    path: PathBuf,
    dir: PathBuf,
}

/// The removals of `files` (zxid and path, as listed by [`list_dir`]) of the directory `dir`.
fn removals_of<'a>(
    files: impl IntoIterator<Item = &'a (Zxid, PathBuf)> + 'a,
    dir: &'a Path,
) -> impl Iterator<Item = Removal> + 'a {
    files.into_iter().map(move |(zxid, path)| Removal {
        zxid: *zxid,
        path: path.clone(),
        dir: dir.to_path_buf(),
    })
}

/// What truncating the log after a zxid changes, computed before anything is changed.
#[derive(Clone, Debug)]
pub(crate) struct TruncatePlan {
    /// Newer snapshots and segments, newest first.
    removals: Vec<Removal>,
    /// The segment that then ends the log and the length to cut it to, if it holds records
    /// (or damage) after the zxid.
    cut: Option<(PathBuf, u64)>,
    /// The last zxid of the history afterwards.
    pub(crate) last_zxid: Zxid,
}

/// Whether the snapshot file at `path` verifies (magic, version, length, CRC).
fn snapshot_verifies(fs: &dyn FileSystem, path: &Path) -> bool {
    match fs.read(path) {
        Ok(bytes) => format::check_snapshot(&bytes).is_ok(),
        Err(_) => false,
    }
}

/// Plans the truncation of the history of `snap_dir` and `log_dir` after `zxid`, changing
/// nothing. Fails with [`StorageError::CannotTruncate`] when the truncated history could not be
/// recovered: no verifying snapshot at or below `zxid` would remain, or the log lacks the txns
/// right after it.
pub(crate) fn plan_truncate(
    fs: &dyn FileSystem,
    snap_dir: &Path,
    log_dir: &Path,
    zxid: Zxid,
) -> Result<TruncatePlan> {
    let cannot = |reason: String| StorageError::CannotTruncate { zxid, reason };
    let listing = list_dir(fs, snap_dir, log_dir)?;
    let base = listing
        .snapshots
        .iter()
        .rev()
        .filter(|(snapshot_zxid, _)| *snapshot_zxid <= zxid)
        .find(|(_, path)| snapshot_verifies(fs, path))
        .map(|(snapshot_zxid, _)| *snapshot_zxid);
    let Some(base) = base else {
        let newest = listing.snapshots.last().map(|(z, _)| *z);
        return Err(cannot(match newest {
            Some(newest) => format!(
                "it is below every usable snapshot (the newest is {newest}): the truncated history could not be recovered"
            ),
            None => "there is no snapshot".to_owned(),
        }));
    };
    let newer = |(file_zxid, _): &&(Zxid, PathBuf)| *file_zxid > zxid;
    let mut removals: Vec<Removal> =
        removals_of(listing.snapshots.iter().filter(newer), snap_dir).collect();
    removals.extend(removals_of(listing.logs.iter().filter(newer), log_dir));
    let kept: Vec<(Zxid, PathBuf)> = listing
        .logs
        .iter()
        .filter(|(first, _)| *first <= zxid)
        .cloned()
        .collect();
    let needed = if kept.is_empty() {
        &kept[..]
    } else {
        segments_after(&kept, base)
    };
    if let Some((first, path)) = needed.first() {
        if first.0 > base.0.saturating_add(1) && first.epoch() == base.epoch() {
            return Err(cannot(format!(
                "the log lacks the txns after snapshot {base}: {} starts at {first}",
                path.display()
            )));
        }
    }
    let mut cut = None;
    let mut last_zxid = base;
    // The newest kept segment ends the log: cut what follows `zxid` in it; find the last txn
    // at or below `zxid`, looking further back if that segment holds none.
    let mut holding = true;
    for (first, path) in needed.iter().rev() {
        let bytes = fs
            .read(path)
            .map_err(|e| StorageError::io("read", path, &e))?;
        if let Err(reason) = format::check_log_header(&bytes) {
            if holding && bytes.iter().all(|&b| b == 0) {
                // Created, but its header never became durable: it holds nothing.
                removals.push(Removal {
                    zxid: *first,
                    path: path.clone(),
                    dir: log_dir.to_path_buf(),
                });
                continue;
            }
            return Err(StorageError::corrupt(path, 0, reason));
        }
        let scan = format::scan_segment(&bytes);
        let kept_records = scan
            .records
            .iter()
            .position(|record| record.zxid > zxid)
            .unwrap_or(scan.records.len());
        if holding {
            let damaged = matches!(scan.end, SegmentEnd::Damaged { .. });
            if kept_records < scan.records.len() || damaged {
                let cut_at = match kept_records.checked_sub(1) {
                    Some(last) => {
                        let record = &scan.records[last];
                        record.offset
                            + format::RECORD_FRAME_BYTES as u64
                            + record.payload.len() as u64
                    }
                    None => format::LOG_HEADER_BYTES,
                };
                cut = Some((path.clone(), cut_at));
            }
        } else if let SegmentEnd::Damaged { offset, reason } = &scan.end {
            return Err(StorageError::corrupt(path, *offset, reason.clone()));
        }
        holding = false;
        if let Some(record) = kept_records.checked_sub(1).map(|last| &scan.records[last]) {
            last_zxid = last_zxid.max(record.zxid);
            break;
        }
    }
    removals.sort_by_key(|removal| std::cmp::Reverse(removal.zxid));
    Ok(TruncatePlan {
        removals,
        cut,
        last_zxid,
    })
}

/// Removes `removals` in order, syncing the directory after each, so that a crash leaves a
/// prefix of the list undone, never a hole.
fn remove_in_order(fs: &dyn FileSystem, removals: &[Removal]) -> Result<()> {
    for removal in removals {
        match fs.remove(&removal.path) {
            Ok(()) => {}
            // Already gone (a purge that raced an earlier attempt): nothing to do.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StorageError::io("remove", &removal.path, &e)),
        }
        fs.sync_dir(&removal.dir)
            .map_err(|e| StorageError::io("sync", &removal.dir, &e))?;
        info!(path = %removal.path.display(), "removed");
    }
    Ok(())
}

/// Carries out a [`TruncatePlan`]: removals newest first, then the cut of the segment that ends
/// the log (truncated and synced).
pub(crate) fn apply_truncate(fs: &dyn FileSystem, plan: &TruncatePlan) -> Result<()> {
    remove_in_order(fs, &plan.removals)?;
    if let Some((path, len)) = &plan.cut {
        let mut file = fs
            .open(path)
            .map_err(|e| StorageError::io("open", path, &e))?;
        file.set_len(*len)
            .and_then(|()| file.sync_data())
            .map_err(|e| StorageError::io("truncate", path, &e))?;
        warn!(path = %path.display(), len, "log segment cut");
    }
    info!(last_zxid = %plan.last_zxid, removed = plan.removals.len(), "log truncated");
    Ok(())
}

/// Where [`install_snapshot`] failed: before it changed anything (the old history is intact
/// and the log may go on), or after.
#[derive(Debug)]
pub(crate) struct InstallError {
    pub(crate) error: StorageError,
    pub(crate) changed: bool,
}

/// Replaces the history of `snap_dir` and `log_dir` with the snapshot `bytes` (already checked)
/// at `zxid`.
///
/// Order, and what a crash at each point recovers:
/// 1. `snapshot.<zxid>.tmp` is written and synced: a crash recovers the old history (the
///    temporary file is removed at start-up).
/// 2. Every log segment, and every snapshot newer than `zxid`, is removed, newest first, each
///    removal synced: a crash recovers a prefix of the old history (an older snapshot and what
///    is left of the log). Newer snapshots go before the rename, or a crash right after the
///    rename would recover one of them instead of the leader's state.
/// 3. The temporary file is renamed to `snapshot.<zxid>` and the directory synced: from then on
///    recovery gives the leader's state at `zxid`.
///
/// So the crash window between 2 and 3 sends the state back (to an older snapshot, possibly to
/// the empty tree of a fresh directory if no older snapshot exists), but never mixes our old
/// txns with the leader's state: the leader then synchronises this peer again.
pub(crate) fn install_snapshot(
    fs: &dyn FileSystem,
    snap_dir: &Path,
    log_dir: &Path,
    zxid: Zxid,
    bytes: &[u8],
) -> Result<(), InstallError> {
    let unchanged = |error| InstallError {
        error,
        changed: false,
    };
    let changed = |error| InstallError {
        error,
        changed: true,
    };
    let listing = list_dir(fs, snap_dir, log_dir).map_err(unchanged)?;
    let path = snap_dir.join(format::snapshot_name(zxid));
    let tmp = snap_dir.join(format!("{}.tmp", format::snapshot_name(zxid)));
    write_synced(fs, &tmp, bytes).map_err(unchanged)?;
    let mut removals: Vec<Removal> = removals_of(&listing.logs, log_dir).collect();
    removals.extend(removals_of(
        listing
            .snapshots
            .iter()
            .filter(|(snapshot_zxid, _)| *snapshot_zxid > zxid),
        snap_dir,
    ));
    removals.sort_by_key(|removal| std::cmp::Reverse(removal.zxid));
    remove_in_order(fs, &removals).map_err(changed)?;
    fs.rename(&tmp, &path)
        .map_err(|e| changed(StorageError::io("rename", &tmp, &e)))?;
    fs.sync_dir(snap_dir)
        .map_err(|e| changed(StorageError::io("sync", snap_dir, &e)))?;
    info!(path = %path.display(), %zxid, bytes = bytes.len(), removed = removals.len(), "snapshot installed");
    Ok(())
}
