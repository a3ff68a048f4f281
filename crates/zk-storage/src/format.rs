//! On-disk formats: file names, the log segment header and record framing, and the snapshot
//! framing. Every record carries a CRC-32; every file starts with a magic and a format version.
//!
//! ```text
//! log.<hex zxid>        header:  b"ZKLG", u32 format version, u64 zero (reserved)   (16 bytes)
//!                       record*: u32 length, u32 crc, u64 zxid, payload[length]
//!                       padding: zeros (preallocation); a record length of 0 ends the log
//! payload               u8 record version, postcard (TxnHeader, Txn)
//! crc                   CRC-32 of length, zxid and payload (so a torn length is caught too)
//!
//! snapshot.<hex zxid>   b"ZKSN", u32 format version, u64 zxid,
//!                       postcard SnapshotBody, u64 body length, u32 crc of all bytes before it
//! ```
//!
//! All integers are little-endian. Zxids in names are lowercase hex without leading zeros, as
//! ZooKeeper's `Long.toHexString`.

use serde::{Deserialize, Serialize};
use zk_proto::{SessionId, Zxid};
use zk_tree::{TreeSnapshot, Txn, TxnHeader};

/// The version of the file formats this build writes and reads. Postcard has no schema
/// evolution: bump it (and [`RECORD_VERSION`]) whenever the serde layout of `Txn`, `TxnHeader` or
/// `TreeSnapshot` changes, so that old files are refused by version instead of misread.
/// Version 2: znode data became optional (`Option<Vec<u8>>`, null data as in ZooKeeper).
pub const FORMAT_VERSION: u32 = 2;
/// The version byte leading every log record's payload.
pub const RECORD_VERSION: u8 = 2;
/// The magic of a log segment.
pub const LOG_MAGIC: [u8; 4] = *b"ZKLG";
/// The magic of a snapshot.
pub const SNAPSHOT_MAGIC: [u8; 4] = *b"ZKSN";
/// The length of a log segment's header.
pub const LOG_HEADER_BYTES: u64 = 16;
/// The length of a log record's frame before its payload.
pub const RECORD_FRAME_BYTES: usize = 16;
/// The length of a snapshot's header (magic, version, zxid).
pub const SNAPSHOT_HEADER_BYTES: usize = 16;
/// The length of a snapshot's trailer (body length, crc).
pub const SNAPSHOT_TRAILER_BYTES: usize = 12;
/// The largest record payload accepted when reading (a larger length is damage).
pub const RECORD_BYTES_MAX: u32 = 256 << 20;
/// The name of the subdirectory holding the files, as ZooKeeper's.
pub const VERSION_DIR: &str = "version-2";

/// The log segment header.
pub fn log_header() -> [u8; LOG_HEADER_BYTES as usize] {
    let mut header = [0; LOG_HEADER_BYTES as usize];
    header[..4].copy_from_slice(&LOG_MAGIC);
    header[4..8].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header
}

/// The name of the log segment whose first txn is `zxid`.
pub fn log_name(zxid: Zxid) -> String {
    format!("log.{:x}", zxid.0)
}

/// The name of the snapshot of the tree at `zxid`.
pub fn snapshot_name(zxid: Zxid) -> String {
    format!("snapshot.{:x}", zxid.0)
}

/// The zxid in a file name `<prefix>.<hex>`, if the name has that shape.
pub fn parse_name(name: &str, prefix: &str) -> Option<Zxid> {
    let hex = name.strip_prefix(prefix)?.strip_prefix('.')?;
    if hex.is_empty() || hex.len() > 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(hex, 16).ok().map(Zxid)
}

/// Appends one framed record for `(header, txn)` to `out`.
pub fn encode_record(out: &mut Vec<u8>, header: &TxnHeader, txn: &Txn) {
    let start = out.len();
    out.extend_from_slice(&[0; RECORD_FRAME_BYTES]);
    out.push(RECORD_VERSION);
    // Serialising plain data into a Vec cannot fail; an error would mean a serde bug, and the
    // record would then fail its decode on recovery rather than go unnoticed.
    if let Ok(bytes) = postcard::to_stdvec(&(header, txn)) {
        out.extend_from_slice(&bytes);
    }
    let length = (out.len() - start - RECORD_FRAME_BYTES) as u32;
    out[start..start + 4].copy_from_slice(&length.to_le_bytes());
    out[start + 8..start + 16].copy_from_slice(&header.zxid.0.to_le_bytes());
    let crc = record_crc(&out[start..start + 4], header.zxid, &out[start + 16..]);
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

fn record_crc(length: &[u8], zxid: Zxid, payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(length);
    hasher.update(&zxid.0.to_le_bytes());
    hasher.update(payload);
    hasher.finalize()
}

/// One record found in a segment, not yet decoded.
#[derive(Clone, Copy, Debug)]
pub struct RawRecord<'a> {
    /// The offset of the record's frame in the file.
    pub offset: u64,
    /// The zxid in the frame.
    pub zxid: Zxid,
    /// The payload (version byte and postcard).
    pub payload: &'a [u8],
}

impl RawRecord<'_> {
    /// Decodes the payload, checking it names the frame's zxid.
    pub fn decode(&self) -> Result<(TxnHeader, Txn), String> {
        let (&version, body) = self
            .payload
            .split_first()
            .ok_or_else(|| "empty payload".to_owned())?;
        if version != RECORD_VERSION {
            return Err(format!(
                "record version {version}, this build reads {RECORD_VERSION}"
            ));
        }
        let (header, txn): (TxnHeader, Txn) =
            postcard::from_bytes(body).map_err(|e| format!("undecodable txn: {e}"))?;
        if header.zxid != self.zxid {
            return Err(format!(
                "frame zxid {} but txn zxid {}",
                self.zxid, header.zxid
            ));
        }
        Ok((header, txn))
    }
}

/// How a segment's scan ended.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum SegmentEnd {
    /// At the end of the file or at zero padding (only zeros follow).
    Clean,
    /// At damage: a record that does not fit, fails its CRC, or nonzero bytes after the end.
    Damaged {
        /// Where the first bad byte range starts (everything before it is valid).
        offset: u64,
        /// What is wrong.
        reason: String,
    },
}

/// The result of scanning a segment's bytes.
#[derive(Clone, Debug)]
pub struct SegmentScan<'a> {
    /// The valid records, in file order.
    pub records: Vec<RawRecord<'a>>,
    /// The offset just after the last valid record.
    pub valid_end: u64,
    /// How the scan ended.
    pub end: SegmentEnd,
}

/// Checks a segment's header: `Err` with the reason if it is not a usable header.
pub fn check_log_header(bytes: &[u8]) -> Result<(), String> {
    if bytes.len() < LOG_HEADER_BYTES as usize {
        return Err(format!("{} bytes, shorter than the header", bytes.len()));
    }
    if bytes[..4] != LOG_MAGIC {
        return Err("bad magic".to_owned());
    }
    let version = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    if version != FORMAT_VERSION {
        return Err(format!(
            "format version {version}, this build reads {FORMAT_VERSION}"
        ));
    }
    Ok(())
}

/// Scans the records after a (checked) header, verifying every CRC. Never panics.
pub fn scan_segment(bytes: &[u8]) -> SegmentScan<'_> {
    let mut records = Vec::new();
    let mut pos = LOG_HEADER_BYTES as usize;
    let damaged = |offset: usize, reason: String| SegmentEnd::Damaged {
        offset: offset as u64,
        reason,
    };
    let end = loop {
        let Some(frame) = bytes.get(pos..pos + RECORD_FRAME_BYTES) else {
            // Fewer bytes than a frame: zeros are padding, anything else is a torn frame.
            let rest = bytes.get(pos..).unwrap_or(&[]);
            if rest.iter().all(|&b| b == 0) {
                break SegmentEnd::Clean;
            }
            break damaged(pos, "partial record frame".to_owned());
        };
        let length = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]);
        if length == 0 {
            if bytes[pos..].iter().all(|&b| b == 0) {
                break SegmentEnd::Clean;
            }
            break damaged(pos, "nonzero bytes after a zero record length".to_owned());
        }
        if length > RECORD_BYTES_MAX {
            break damaged(pos, format!("record length {length} is implausible"));
        }
        let payload_start = pos + RECORD_FRAME_BYTES;
        let Some(payload) = bytes.get(payload_start..payload_start + length as usize) else {
            break damaged(pos, format!("record of {length} bytes runs past the end"));
        };
        let crc = u32::from_le_bytes([frame[4], frame[5], frame[6], frame[7]]);
        let mut zxid_bytes = [0; 8];
        zxid_bytes.copy_from_slice(&frame[8..16]);
        let zxid = Zxid(u64::from_le_bytes(zxid_bytes));
        if record_crc(&frame[..4], zxid, payload) != crc {
            break damaged(pos, "CRC check failed".to_owned());
        }
        records.push(RawRecord {
            offset: pos as u64,
            zxid,
            payload,
        });
        pos = payload_start + length as usize;
    };
    SegmentScan {
        records,
        valid_end: pos as u64,
        end,
    }
}

/// What a snapshot holds besides its header: the tree and the session table.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct SnapshotBody {
    /// The live sessions with their timeouts in milliseconds.
    pub sessions: Vec<(SessionId, i32)>,
    /// The tree.
    pub tree: TreeSnapshot,
}

/// A snapshot's header.
pub fn snapshot_header(zxid: Zxid) -> [u8; SNAPSHOT_HEADER_BYTES] {
    let mut header = [0; SNAPSHOT_HEADER_BYTES];
    header[..4].copy_from_slice(&SNAPSHOT_MAGIC);
    header[4..8].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header[8..16].copy_from_slice(&zxid.0.to_le_bytes());
    header
}

/// Checks a whole snapshot file and returns its zxid and body bytes (not yet decoded).
pub fn check_snapshot(bytes: &[u8]) -> Result<(Zxid, &[u8]), String> {
    let minimum = SNAPSHOT_HEADER_BYTES + SNAPSHOT_TRAILER_BYTES;
    if bytes.len() < minimum {
        return Err(format!(
            "{} bytes, shorter than an empty snapshot",
            bytes.len()
        ));
    }
    if bytes[..4] != SNAPSHOT_MAGIC {
        return Err("bad magic".to_owned());
    }
    let version = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    if version != FORMAT_VERSION {
        return Err(format!(
            "format version {version}, this build reads {FORMAT_VERSION}"
        ));
    }
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[8..16]);
    let zxid = Zxid(u64::from_le_bytes(word));
    let trailer = bytes.len() - SNAPSHOT_TRAILER_BYTES;
    word.copy_from_slice(&bytes[trailer..trailer + 8]);
    let body_len = u64::from_le_bytes(word);
    if body_len != (trailer - SNAPSHOT_HEADER_BYTES) as u64 {
        return Err(format!(
            "body length {body_len} does not match the file (torn?)"
        ));
    }
    let stored = u32::from_le_bytes([
        bytes[trailer + 8],
        bytes[trailer + 9],
        bytes[trailer + 10],
        bytes[trailer + 11],
    ]);
    if crc32fast::hash(&bytes[..trailer + 8]) != stored {
        return Err("CRC check failed".to_owned());
    }
    Ok((zxid, &bytes[SNAPSHOT_HEADER_BYTES..trailer]))
}

/// Decodes a checked snapshot body.
pub fn decode_snapshot_body(body: &[u8]) -> Result<SnapshotBody, String> {
    postcard::from_bytes(body).map_err(|e| format!("undecodable snapshot body: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;
    use zk_proto::SessionId;

    fn header(zxid: u64) -> TxnHeader {
        TxnHeader {
            session_id: SessionId(7),
            cxid: 1,
            zxid: Zxid(zxid),
            time_ms: 5,
        }
    }

    fn segment(count: u64) -> Vec<u8> {
        let mut bytes = log_header().to_vec();
        for zxid in 1..=count {
            encode_record(
                &mut bytes,
                &header(zxid),
                &Txn::SetData {
                    path: format!("/n{zxid}"),
                    data: Some(vec![zxid as u8; 30]),
                    version: 1,
                },
            );
        }
        bytes
    }

    #[test]
    fn names_round_trip_as_zookeeper_spells_them() {
        assert_eq!(log_name(Zxid(0x1_0000_0001)), "log.100000001");
        assert_eq!(snapshot_name(Zxid(0)), "snapshot.0");
        assert_eq!(
            parse_name("log.100000001", "log"),
            Some(Zxid(0x1_0000_0001))
        );
        assert_eq!(
            parse_name("snapshot.2000003e8", "snapshot"),
            Some(Zxid(0x2_0000_03e8))
        );
        assert_eq!(parse_name("snapshot.3e8.tmp", "snapshot"), None);
        assert_eq!(parse_name("log.", "log"), None);
        assert_eq!(parse_name("logx.1", "log"), None);
        assert_eq!(parse_name("log.12345678901234567", "log"), None);
    }

    #[test]
    fn files_of_another_format_version_are_refused() {
        let mut log = segment(1);
        log[4..8].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        assert!(check_log_header(&log).is_err_and(|reason| reason.contains("format version")));
        let mut snapshot = snapshot_header(Zxid(5)).to_vec();
        snapshot.extend_from_slice(&[0; SNAPSHOT_TRAILER_BYTES]);
        snapshot[4..8].copy_from_slice(&(FORMAT_VERSION - 1).to_le_bytes());
        assert!(check_snapshot(&snapshot).is_err_and(|reason| reason.contains("format version")));
        let mut bytes = segment(1);
        bytes[LOG_HEADER_BYTES as usize + RECORD_FRAME_BYTES] = RECORD_VERSION + 1;
        // The CRC covers the version byte, so a changed byte is damage; a record written by
        // another version (valid CRC) is refused by its version instead.
        let scan = scan_segment(&bytes);
        assert!(scan.records.is_empty());
        let record = RawRecord {
            offset: LOG_HEADER_BYTES,
            zxid: Zxid(1),
            payload: &bytes[LOG_HEADER_BYTES as usize + RECORD_FRAME_BYTES..],
        };
        assert!(record
            .decode()
            .is_err_and(|reason| reason.contains("record version")));
    }

    #[test]
    fn records_round_trip_and_padding_ends_the_scan() {
        let mut bytes = segment(5);
        bytes.resize(bytes.len() + 1000, 0);
        let scan = scan_segment(&bytes);
        assert_eq!(scan.end, SegmentEnd::Clean);
        assert_eq!(scan.records.len(), 5);
        let (decoded, txn) = scan.records[4].decode().expect("decodes");
        assert_eq!(decoded, header(5));
        assert!(matches!(txn, Txn::SetData { version: 1, .. }));
    }

    #[test]
    fn every_single_bit_flip_is_caught() {
        let bytes = segment(3);
        for offset in LOG_HEADER_BYTES as usize..bytes.len() {
            for bit in 0..8 {
                let mut damaged = bytes.clone();
                damaged[offset] ^= 1 << bit;
                let scan = scan_segment(&damaged);
                assert!(
                    scan.records.len() < 3 || scan.end != SegmentEnd::Clean,
                    "flip at {offset} bit {bit} went unnoticed"
                );
                assert!(scan.records.iter().all(|r| r.decode().is_ok()));
            }
        }
    }

    #[test]
    fn garbage_never_panics_the_readers() {
        let mut rng = SplitMix64::new(99);
        let valid = segment(4);
        for round in 0..2000 {
            let mut bytes = if round % 2 == 0 {
                valid.clone()
            } else {
                let len = rng.below(300) as usize;
                (0..len).map(|_| rng.next_u64() as u8).collect()
            };
            for _ in 0..rng.below(8) {
                if bytes.is_empty() {
                    break;
                }
                let at = rng.below(bytes.len() as u64) as usize;
                bytes[at] = rng.next_u64() as u8;
            }
            bytes.truncate(rng.below(bytes.len() as u64 + 1) as usize);
            let _ = check_log_header(&bytes);
            for record in scan_segment(&bytes).records {
                let _ = record.decode();
            }
            if let Ok((_, body)) = check_snapshot(&bytes) {
                let _ = decode_snapshot_body(body);
            }
        }
    }
}
