//! A summary of a data directory: every snapshot and log segment with its zxid range, node and
//! session counts, the verdict of checking every CRC, and the Zab epoch files when present.
//! Read-only: it never repairs.

use std::fmt;
use std::path::{Path, PathBuf};

use zk_proto::{Epoch, Zxid};

use crate::epoch::{read_epoch_file, ACCEPTED_EPOCH_FILE, CURRENT_EPOCH_FILE};
use crate::error::Result;
use crate::format::{self, SegmentEnd, VERSION_DIR};
use crate::fs::{FileSystem, RealFileSystem};
use crate::recovery::list_dir;
use crate::snapshot::read_snapshot;

/// One snapshot file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotSummary {
    /// The file.
    pub path: PathBuf,
    /// The zxid in its name.
    pub zxid: Zxid,
    /// Its size.
    pub size_bytes: u64,
    /// The node count, if it verified.
    pub nodes: Option<usize>,
    /// The session count, if it verified.
    pub sessions: Option<usize>,
    /// What is wrong with it, if anything.
    pub damage: Option<String>,
}

/// One log segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSummary {
    /// The file.
    pub path: PathBuf,
    /// The zxid in its name.
    pub name_zxid: Zxid,
    /// Its size (including preallocation).
    pub size_bytes: u64,
    /// The number of valid records.
    pub records: usize,
    /// The zxids of the first and last valid record.
    pub zxid_range: Option<(Zxid, Zxid)>,
    /// Where the valid records end.
    pub valid_end: u64,
    /// What is wrong with it, if anything (a damaged last segment is a torn tail recovery cuts).
    pub damage: Option<String>,
}

/// One epoch file (`acceptedEpoch` or `currentEpoch`) that exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochFileSummary {
    /// The file.
    pub path: PathBuf,
    /// The epoch it holds, if it holds one.
    pub epoch: Option<Epoch>,
    /// What is wrong with it, if anything.
    pub damage: Option<String>,
}

/// A summary of a data directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// `<dataDir>/version-2`.
    pub snap_dir: PathBuf,
    /// `<dataLogDir>/version-2`.
    pub log_dir: PathBuf,
    /// The snapshots, oldest first.
    pub snapshots: Vec<SnapshotSummary>,
    /// The log segments, oldest first.
    pub logs: Vec<LogSummary>,
    /// The epoch files present (`acceptedEpoch`, then `currentEpoch`), as a Zab peer keeps them.
    pub epoch_files: Vec<EpochFileSummary>,
}

impl Report {
    /// Whether every file verified (a damaged tail of the last segment counts as damage).
    pub fn is_clean(&self) -> bool {
        self.snapshots.iter().all(|s| s.damage.is_none())
            && self.logs.iter().all(|l| l.damage.is_none())
            && self.epoch_files.iter().all(|e| e.damage.is_none())
    }

    /// The total number of valid log records.
    pub fn log_records(&self) -> usize {
        self.logs.iter().map(|l| l.records).sum()
    }
}

/// Inspects `<data_dir>/version-2` and `<data_log_dir>/version-2` on the real disk.
pub fn inspect(data_dir: &Path, data_log_dir: &Path) -> Result<Report> {
    inspect_with(
        &RealFileSystem,
        &data_dir.join(VERSION_DIR),
        &data_log_dir.join(VERSION_DIR),
    )
}

/// Inspects the snapshot directory `snap_dir` and the log directory `log_dir` of `fs`.
pub fn inspect_with(fs: &dyn FileSystem, snap_dir: &Path, log_dir: &Path) -> Result<Report> {
    let listing = list_dir(fs, snap_dir, log_dir)?;
    let mut report = Report {
        snap_dir: snap_dir.to_path_buf(),
        log_dir: log_dir.to_path_buf(),
        ..Report::default()
    };
    for (zxid, path) in listing.snapshots {
        let size_bytes = fs.len(&path).unwrap_or(0);
        let summary = match read_snapshot(fs, &path) {
            Ok(snapshot) => SnapshotSummary {
                path,
                zxid,
                size_bytes,
                nodes: Some(snapshot.body.tree.nodes.len()),
                sessions: Some(snapshot.body.sessions.len()),
                damage: None,
            },
            Err(error) => SnapshotSummary {
                path,
                zxid,
                size_bytes,
                nodes: None,
                sessions: None,
                damage: Some(error.to_string()),
            },
        };
        report.snapshots.push(summary);
    }
    for (name_zxid, path) in listing.logs {
        let mut summary = LogSummary {
            path: path.clone(),
            name_zxid,
            size_bytes: 0,
            records: 0,
            zxid_range: None,
            valid_end: 0,
            damage: None,
        };
        match fs.read(&path) {
            Err(e) => summary.damage = Some(format!("unreadable: {e}")),
            Ok(bytes) => {
                summary.size_bytes = bytes.len() as u64;
                if let Err(reason) = format::check_log_header(&bytes) {
                    summary.damage = Some(format!("bad header: {reason}"));
                } else {
                    let scan = format::scan_segment(&bytes);
                    summary.records = scan.records.len();
                    summary.valid_end = scan.valid_end;
                    summary.zxid_range = scan
                        .records
                        .first()
                        .zip(scan.records.last())
                        .map(|(first, last)| (first.zxid, last.zxid));
                    if let SegmentEnd::Damaged { offset, reason } = scan.end {
                        summary.damage = Some(format!("at offset {offset}: {reason}"));
                    }
                    if let Some(bad) = scan.records.iter().find_map(|r| r.decode().err()) {
                        summary.damage.get_or_insert(bad);
                    }
                }
            }
        }
        report.logs.push(summary);
    }
    for name in [ACCEPTED_EPOCH_FILE, CURRENT_EPOCH_FILE] {
        let path = snap_dir.join(name);
        match read_epoch_file(fs, &path) {
            Ok(None) => {}
            Ok(Some(epoch)) => report.epoch_files.push(EpochFileSummary {
                path,
                epoch: Some(epoch),
                damage: None,
            }),
            Err(error) => report.epoch_files.push(EpochFileSummary {
                path,
                epoch: None,
                damage: Some(error.to_string()),
            }),
        }
    }
    Ok(report)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "snapshots in {}:", self.snap_dir.display())?;
        if self.snapshots.is_empty() {
            writeln!(f, "  (none)")?;
        }
        for s in &self.snapshots {
            let name = s.path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
            match (&s.damage, s.nodes, s.sessions) {
                (None, Some(nodes), Some(sessions)) => writeln!(
                    f,
                    "  {name}  zxid {}  {} bytes  {nodes} nodes  {sessions} sessions  CRC ok",
                    s.zxid, s.size_bytes
                )?,
                (damage, _, _) => writeln!(
                    f,
                    "  {name}  zxid {}  {} bytes  DAMAGED: {}",
                    s.zxid,
                    s.size_bytes,
                    damage.as_deref().unwrap_or("unknown")
                )?,
            }
        }
        writeln!(f, "log segments in {}:", self.log_dir.display())?;
        if self.logs.is_empty() {
            writeln!(f, "  (none)")?;
        }
        for l in &self.logs {
            let name = l.path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
            let range = match l.zxid_range {
                Some((first, last)) => format!("zxids {first}..={last}"),
                None => "no records".to_owned(),
            };
            let verdict = match &l.damage {
                None => "CRC ok".to_owned(),
                Some(damage) => format!("DAMAGED {damage}"),
            };
            writeln!(
                f,
                "  {name}  {range}  {} records  {} of {} bytes used  {verdict}",
                l.records, l.valid_end, l.size_bytes
            )?;
        }
        if !self.epoch_files.is_empty() {
            writeln!(f, "epoch files in {}:", self.snap_dir.display())?;
        }
        for e in &self.epoch_files {
            let name = e.path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
            match (e.epoch, &e.damage) {
                (Some(epoch), None) => writeln!(f, "  {name}  epoch {epoch}")?,
                (_, damage) => writeln!(
                    f,
                    "  {name}  DAMAGED: {}",
                    damage.as_deref().unwrap_or("unknown")
                )?,
            }
        }
        write!(
            f,
            "{} snapshot(s), {} segment(s), {} txn(s): {}",
            self.snapshots.len(),
            self.logs.len(),
            self.log_records(),
            if self.is_clean() { "clean" } else { "DAMAGED" }
        )
    }
}
