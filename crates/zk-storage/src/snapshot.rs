//! Writing and reading snapshots: the tree ([`TreeSnapshot`]) and the session table at a zxid.
//!
//! A snapshot is streamed to `snapshot.<zxid>.tmp`, synced, renamed to `snapshot.<zxid>`, and
//! the directory is synced, so a crash leaves either no snapshot or a complete one (a leftover
//! `.tmp` file is ignored and removed on the next start).
//!
//! [`encode_snapshot`] and [`decode_snapshot`] give the exact bytes of a snapshot file in memory,
//! so that a Zab leader can send its state to a follower, which checks it and installs it with
//! [`crate::DataStore::install_snapshot`].

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tracing::info;
use zk_proto::{SessionId, Zxid};
use zk_tree::{DataTree, TreeCapture, TreeConfig, TreeImage, TreeSnapshot};

use crate::error::{Result, StorageError};
use crate::format::{self, SnapshotBody};
use crate::fs::{FileSystem, WritableFile};

/// The borrowed twin of [`SnapshotBody`] (postcard encodes both the same way, whichever
/// [`TreeImage`] `tree` is).
#[derive(Serialize)]
struct SnapshotBodyRef<'a, T: ?Sized> {
    sessions: &'a [(SessionId, i32)],
    tree: &'a T,
}

/// A tree the snapshot thread of [`crate::DataStore::snapshot`] can write: a [`TreeSnapshot`],
/// or a [`TreeCapture`], which it sorts by reference ([`TreeCapture::sorted`]) and writes
/// without copying its nodes out.
#[derive(Debug)]
pub enum SnapshotSource {
    /// A tree already copied out.
    Snapshot(TreeSnapshot),
    /// A tree's capture.
    Capture(TreeCapture),
}

impl From<TreeSnapshot> for SnapshotSource {
    fn from(tree: TreeSnapshot) -> SnapshotSource {
        SnapshotSource::Snapshot(tree)
    }
}

impl From<TreeCapture> for SnapshotSource {
    fn from(capture: TreeCapture) -> SnapshotSource {
        SnapshotSource::Capture(capture)
    }
}

impl SnapshotSource {
    /// Writes the snapshot of this tree and `sessions` into `dir`; see [`write_snapshot`].
    pub fn write(
        &self,
        fs: &dyn FileSystem,
        dir: &Path,
        sessions: &[(SessionId, i32)],
    ) -> Result<PathBuf> {
        match self {
            SnapshotSource::Snapshot(tree) => write_snapshot(fs, dir, tree, sessions),
            SnapshotSource::Capture(capture) => {
                write_snapshot(fs, dir, &capture.sorted(), sessions)
            }
        }
    }
}

/// Buffers the snapshot's bytes and writes them to a [`WritableFile`] in large pieces, with a
/// running CRC over every byte written. The CRC is taken over each whole buffer as it is
/// written, not over each small piece postcard hands in (crc32fast's fast path needs long
/// inputs: piece by piece, the CRC took two fifths of the snapshot thread's time).
struct CrcWriter<'a> {
    file: &'a mut dyn WritableFile,
    buffer: Vec<u8>,
    offset: u64,
    hasher: crc32fast::Hasher,
}

const WRITE_BUFFER_BYTES: usize = 1 << 20;

impl CrcWriter<'_> {
    fn flush_buffer(&mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            self.hasher.update(&self.buffer);
            self.file.write_at(self.offset, &self.buffer)?;
            self.offset += self.buffer.len() as u64;
            self.buffer.clear();
        }
        Ok(())
    }
}

impl io::Write for CrcWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        if self.buffer.len() >= WRITE_BUFFER_BYTES {
            self.flush_buffer()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_buffer()
    }
}

/// Writes the snapshot of `tree` (taken at `tree.last_processed_zxid`) and `sessions` into
/// `dir`, durably; returns its path.
pub fn write_snapshot<T: TreeImage + ?Sized>(
    fs: &dyn FileSystem,
    dir: &Path,
    tree: &T,
    sessions: &[(SessionId, i32)],
) -> Result<PathBuf> {
    let zxid = tree.last_processed_zxid();
    let path = dir.join(format::snapshot_name(zxid));
    let tmp = dir.join(format!("{}.tmp", format::snapshot_name(zxid)));
    let written = write_temporary(fs, &tmp, tree, sessions);
    let bytes = match written {
        Ok(bytes) => bytes,
        Err(error) => {
            // Do not leave a partial file behind to fill the disk further.
            let _ = fs.remove(&tmp);
            return Err(error);
        }
    };
    fs.rename(&tmp, &path)
        .map_err(|e| StorageError::io("rename", &tmp, &e))?;
    fs.sync_dir(dir)
        .map_err(|e| StorageError::io("sync", dir, &e))?;
    info!(path = %path.display(), %zxid, nodes = tree.node_count(), sessions = sessions.len(), bytes, "snapshot written");
    Ok(path)
}

/// Streams the snapshot into `tmp` and syncs it; returns its size.
fn write_temporary<T: TreeImage + ?Sized>(
    fs: &dyn FileSystem,
    tmp: &Path,
    tree: &T,
    sessions: &[(SessionId, i32)],
) -> Result<u64> {
    let zxid = tree.last_processed_zxid();
    let mut file = fs
        .create(tmp)
        .map_err(|e| StorageError::io("create", tmp, &e))?;
    let mut writer = CrcWriter {
        file: &mut *file,
        buffer: Vec::with_capacity(WRITE_BUFFER_BYTES + 4096),
        offset: 0,
        hasher: crc32fast::Hasher::new(),
    };
    let write = |writer: &mut CrcWriter<'_>| -> io::Result<()> {
        use io::Write;
        writer.write_all(&format::snapshot_header(zxid))?;
        let body_start = writer.offset + writer.buffer.len() as u64;
        postcard::to_io(&SnapshotBodyRef { sessions, tree }, &mut *writer)
            .map_err(|e| io::Error::other(format!("serialising the snapshot: {e}")))?;
        let body_len = writer.offset + writer.buffer.len() as u64 - body_start;
        writer.write_all(&body_len.to_le_bytes())?;
        writer.flush()?;
        // The CRC covers every byte before it, so it goes past the (now hashed) buffer.
        let crc = writer.hasher.clone().finalize().to_le_bytes();
        writer.file.write_at(writer.offset, &crc)?;
        writer.offset += crc.len() as u64;
        Ok(())
    };
    write(&mut writer).map_err(|e| StorageError::io("write", tmp, &e))?;
    let bytes = writer.offset;
    file.sync_data()
        .map_err(|e| StorageError::io("sync", tmp, &e))?;
    Ok(bytes)
}

/// A snapshot read back: its zxid (from the file) and body.
#[derive(Clone, Debug)]
pub struct LoadedSnapshot {
    /// The zxid the snapshot was taken at.
    pub zxid: Zxid,
    /// The tree and sessions.
    pub body: SnapshotBody,
}

/// Reads and verifies the snapshot at `path`.
pub fn read_snapshot(fs: &dyn FileSystem, path: &Path) -> Result<LoadedSnapshot> {
    let bytes = fs
        .read(path)
        .map_err(|e| StorageError::io("read", path, &e))?;
    let (zxid, body) =
        format::check_snapshot(&bytes).map_err(|reason| StorageError::corrupt(path, 0, reason))?;
    let body = format::decode_snapshot_body(body).map_err(|reason| {
        StorageError::corrupt(path, format::SNAPSHOT_HEADER_BYTES as u64, reason)
    })?;
    if body.tree.last_processed_zxid != zxid {
        return Err(StorageError::corrupt(
            path,
            0,
            format!(
                "header zxid {zxid} but tree zxid {}",
                body.tree.last_processed_zxid
            ),
        ));
    }
    if let Some(expected) = format::parse_name(
        path.file_name().and_then(|n| n.to_str()).unwrap_or(""),
        "snapshot",
    ) {
        if expected != zxid {
            return Err(StorageError::corrupt(
                path,
                0,
                format!("named {expected} but holds {zxid}"),
            ));
        }
    }
    Ok(LoadedSnapshot { zxid, body })
}

/// The exact bytes of the snapshot file of `tree` and `sessions` at `zxid` (header, body, length
/// and CRC, as [`write_snapshot`] writes them), to send over the network.
///
/// `zxid` must be `tree.last_processed_zxid`: [`decode_snapshot`] (and recovery) refuse a
/// snapshot whose header and tree disagree.
pub fn encode_snapshot<T: TreeImage + ?Sized>(
    tree: &T,
    sessions: &[(SessionId, i32)],
    zxid: Zxid,
) -> Vec<u8> {
    let mut bytes = format::snapshot_header(zxid).to_vec();
    let body_start = bytes.len();
    // Serialising plain data into a Vec cannot fail; were it to, the body would be empty and the
    // receiver's decode would refuse it.
    if let Ok(body) = postcard::to_stdvec(&SnapshotBodyRef { sessions, tree }) {
        bytes.extend_from_slice(&body);
    }
    let body_len = (bytes.len() - body_start) as u64;
    bytes.extend_from_slice(&body_len.to_le_bytes());
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    bytes
}

/// Checks snapshot bytes (format, version, length, CRC, header zxid = tree zxid) and rebuilds
/// the tree and the session table; returns the snapshot's zxid. Never panics, whatever the bytes.
pub fn decode_snapshot(
    bytes: &[u8],
    tree_config: TreeConfig,
) -> Result<(Zxid, DataTree, BTreeMap<SessionId, i32>)> {
    let (zxid, body) = format::check_snapshot(bytes).map_err(StorageError::InvalidSnapshot)?;
    let body = format::decode_snapshot_body(body).map_err(StorageError::InvalidSnapshot)?;
    if body.tree.last_processed_zxid != zxid {
        return Err(StorageError::InvalidSnapshot(format!(
            "header zxid {zxid} but tree zxid {}",
            body.tree.last_processed_zxid
        )));
    }
    let sessions = body.sessions.into_iter().collect();
    let tree = DataTree::from_snapshot_owned(body.tree, tree_config)
        .map_err(|e| StorageError::InvalidSnapshot(format!("does not form a tree: {e}")))?;
    Ok((zxid, tree, sessions))
}
