//! The epoch files of a Zab peer, kept as ZooKeeper keeps them in the snapshot directory
//! (`<dataDir>/version-2/acceptedEpoch` and `.../currentEpoch`): the epoch in decimal text.
//!
//! `acceptedEpoch` is the newest epoch this peer promised to follow (NEWEPOCH), `currentEpoch`
//! the newest it synchronised with (NEWLEADER). A missing file reads as epoch 0 (a peer that
//! never joined an ensemble); a file that does not hold a number is an error naming the file,
//! never a silent 0. A file is replaced atomically: written to `<name>.tmp`, synced, renamed,
//! and the directory synced, so it is durable once [`write_epoch_file`] returns.

use std::path::{Path, PathBuf};

use tracing::info;
use zk_proto::Epoch;

use crate::error::{Result, StorageError};
use crate::fs::FileSystem;

/// The name of the accepted epoch file.
pub const ACCEPTED_EPOCH_FILE: &str = "acceptedEpoch";
/// The name of the current epoch file.
pub const CURRENT_EPOCH_FILE: &str = "currentEpoch";

/// The longest epoch file accepted (a u64 in decimal, with some whitespace).
const EPOCH_FILE_BYTES_MAX: usize = 64;

/// Parses the content of an epoch file (decimal, surrounding whitespace allowed).
pub fn parse_epoch(bytes: &[u8]) -> Result<Epoch, String> {
    if bytes.len() > EPOCH_FILE_BYTES_MAX {
        return Err(format!("{} bytes, too long for an epoch", bytes.len()));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "not text".to_owned())?;
    let text = text.trim();
    if text.is_empty() {
        return Err("empty".to_owned());
    }
    text.parse::<u64>()
        .map(Epoch)
        .map_err(|e| format!("{text:?} is not an epoch: {e}"))
}

/// Reads the epoch file `path`: `None` if it does not exist, an error if it cannot be read or
/// does not hold an epoch.
pub fn read_epoch_file(fs: &dyn FileSystem, path: &Path) -> Result<Option<Epoch>> {
    let bytes = match fs.read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StorageError::io("read", path, &e)),
    };
    parse_epoch(&bytes)
        .map(Some)
        .map_err(|reason| StorageError::corrupt(path, 0, reason))
}

/// Writes `epoch` to the file `name` of `dir` durably: `<name>.tmp`, sync, rename, sync `dir`.
pub fn write_epoch_file(fs: &dyn FileSystem, dir: &Path, name: &str, epoch: Epoch) -> Result<()> {
    let path = dir.join(name);
    let tmp: PathBuf = dir.join(format!("{name}.tmp"));
    write_synced(fs, &tmp, epoch.0.to_string().as_bytes())?;
    fs.rename(&tmp, &path)
        .map_err(|e| StorageError::io("rename", &tmp, &e))?;
    fs.sync_dir(dir)
        .map_err(|e| StorageError::io("sync", dir, &e))?;
    info!(path = %path.display(), %epoch, "epoch written");
    Ok(())
}

/// Creates `tmp` holding `bytes` and syncs it; on failure removes what was written, so that no
/// partial file is left behind.
pub(crate) fn write_synced(fs: &dyn FileSystem, tmp: &Path, bytes: &[u8]) -> Result<()> {
    let written = fs
        .create(tmp)
        .map_err(|e| StorageError::io("create", tmp, &e))
        .and_then(|mut file| {
            file.write_at(0, bytes)
                .map_err(|e| StorageError::io("write", tmp, &e))?;
            file.sync_data()
                .map_err(|e| StorageError::io("sync", tmp, &e))
        });
    if written.is_err() {
        let _ = fs.remove(tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_parse_as_zookeeper_writes_them() {
        assert_eq!(parse_epoch(b"0"), Ok(Epoch(0)));
        assert_eq!(parse_epoch(b"17\n"), Ok(Epoch(17)));
        assert_eq!(parse_epoch(b"18446744073709551615"), Ok(Epoch(u64::MAX)));
        for garbage in [
            &b""[..],
            b"  \n",
            b"-1",
            b"0x10",
            b"1 2",
            b"\xff\xfe",
            b"18446744073709551616",
            &[b'1'; 100],
        ] {
            assert!(parse_epoch(garbage).is_err(), "{garbage:?} parsed");
        }
    }
}
