//! Segment rolling: on size and on request, every segment named after its first zxid, and
//! recovery reads across all of them.

mod common;

use std::sync::Arc;

use common::{files, open, version_dir, Workload};
use zk_proto::Zxid;
use zk_storage::fault::FaultyFileSystem;
use zk_storage::{format, FileSystem, LogConfig, LogWriter};

#[test]
fn segments_roll_on_size_and_recovery_reads_them_all() {
    let fs = FaultyFileSystem::new(41);
    let mut workload = Workload::new(41);
    drop(open(&fs).expect("fresh directory"));
    let mut config = LogConfig::new(version_dir());
    config.preallocate_bytes = 4096;
    config.segment_bytes_max = 1024;
    let log = LogWriter::start(
        Arc::new(fs.clone()) as Arc<dyn FileSystem>,
        config,
        Zxid::ZERO,
    )
    .expect("start");
    for _ in 0..40 {
        log.append(&workload.batch(3)).wait().expect("append");
    }
    log.roll();
    log.append(&workload.batch(3))
        .wait()
        .expect("append after a roll");
    log.close().expect("close");
    let logs = files(&fs, "log");
    assert!(logs.len() > 3, "{logs:?}");
    for path in &logs {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let named = format::parse_name(name, "log").expect("a log name");
        let bytes = fs.contents(path).expect("contents");
        let scan = format::scan_segment(&bytes);
        assert_eq!(scan.records.first().map(|r| r.zxid), Some(named), "{name}");
    }
    assert!(logs
        .last()
        .is_some_and(|p| p.ends_with(format::log_name(Zxid(121)))));
    let (_, recovered) = open(&fs).expect("recover");
    assert_eq!(recovered.last_zxid, Zxid(123));
    workload.assert_matches(&recovered);
}
