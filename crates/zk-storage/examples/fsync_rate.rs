//! Measures the disk's own fdatasync rate (a loop of 4 KiB write + `fdatasync`) and the log's
//! throughput with and without group commit, on the directory given (default: the system's
//! temporary directory). Prints the figures; asserts nothing.
//!
//! `cargo run --release -p zk-storage --example fsync_rate -- [DIR] [COUNT]`

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use zk_proto::{SessionId, Zxid};
use zk_storage::{LogConfig, LogWriter, RealFileSystem};
use zk_tree::{Txn, TxnHeader};

fn txn(zxid: u64) -> (TxnHeader, Txn) {
    (
        TxnHeader {
            session_id: SessionId(1),
            cxid: 0,
            zxid: Zxid(zxid),
            time_ms: 0,
        },
        Txn::SetData {
            path: "/rate".to_owned(),
            data: Some(vec![1; 100]),
            version: 0,
        },
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let base = args.next().map_or_else(std::env::temp_dir, PathBuf::from);
    let count: u64 = args.next().map_or(Ok(500), |s| s.parse())?;
    let dir = base.join(format!("zk-fsync-rate-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    let path = dir.join("probe");
    let file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&path)?;
    let block = [0xA5u8; 4096];
    let start = Instant::now();
    for i in 0..count {
        file.write_all_at(&block, (i % 256) * 4096)?;
        file.sync_data()?;
    }
    let rate = count as f64 / start.elapsed().as_secs_f64();
    println!("disk: {count} x (4 KiB write + fdatasync): {rate:.0} fdatasync/s");

    for batch in [1u64, 16, 64] {
        let log_dir = dir.join(format!("serial-{batch}"));
        std::fs::create_dir_all(&log_dir)?;
        let log = LogWriter::start(
            Arc::new(RealFileSystem),
            LogConfig::new(&log_dir),
            Zxid::ZERO,
        )?;
        let start = Instant::now();
        let mut zxid = 1;
        for _ in 0..count {
            let txns: Vec<_> = (zxid..zxid + batch).map(txn).collect();
            zxid += batch;
            log.append(&txns).wait()?;
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "log, one batch of {batch} per sync: {:.0} txns/s ({:.0} syncs/s)",
            (count * batch) as f64 / secs,
            count as f64 / secs
        );
        log.close()?;
    }

    let log_dir = dir.join("group");
    std::fs::create_dir_all(&log_dir)?;
    let log = LogWriter::start(
        Arc::new(RealFileSystem),
        LogConfig::new(&log_dir),
        Zxid::ZERO,
    )?;
    let start = Instant::now();
    let handles: Vec<_> = (1..=count * 16).map(|z| log.append(&[txn(z)])).collect();
    for handle in handles {
        handle.wait()?;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "log, {} single-txn appends in flight (group commit): {:.0} txns/s",
        count * 16,
        (count * 16) as f64 / secs
    );
    log.close()?;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
