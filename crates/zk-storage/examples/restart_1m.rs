//! The restart target: builds a tree of 1,000,000 znodes with 100-byte data, snapshots it,
//! appends 100,000 more txns to the log, then restarts (load snapshot + replay) in a fresh
//! process and prints the time of each step. Asserts nothing; run it in release mode.
//!
//! `cargo run --release -p zk-storage --example restart_1m -- [DIR] [NODES]`
//! (`--restart DIR` only measures the restart of an existing data directory; `--keep` after the
//! arguments keeps the data directory for it.)

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use zk_proto::{Acl, SessionId, Zxid};
use zk_storage::{format, DataStore, StoreConfig};
use zk_tree::{DataTree, Txn, TxnHeader};

fn header(zxid: u64) -> TxnHeader {
    TxnHeader {
        session_id: SessionId(0),
        cxid: 0,
        zxid: Zxid(zxid),
        time_ms: 0,
    }
}

fn store_config(dir: &Path) -> StoreConfig {
    let mut config = StoreConfig::new(dir, dir);
    config.snap_count = u32::MAX;
    config
}

/// Times a restart of `dir`, and its parts, in this (fresh) process.
fn restart(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let config = store_config(dir);
    let newest = std::fs::read_dir(config.snap_dir())?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            format::parse_name(&name, "snapshot").map(|zxid| (zxid, name))
        })
        .max()
        .ok_or("no snapshot")?;
    let start = Instant::now();
    let (store, recovered) = DataStore::open(config.clone())?;
    let elapsed = start.elapsed();
    println!(
        "RESTART: {} nodes, snapshot at {} + {} txns replayed to {} in {elapsed:?}",
        recovered.tree.node_count(),
        recovered.snapshot_zxid,
        recovered.txns_replayed,
        recovered.last_zxid
    );
    drop(store);
    drop(recovered);

    // The parts, measured apart afterwards (the page cache is warm for all of them).
    let start = Instant::now();
    let bytes = std::fs::read(config.snap_dir().join(&newest.1))?;
    let read = start.elapsed();
    let start = Instant::now();
    let (_, body) = format::check_snapshot(&bytes)?;
    let crc = start.elapsed();
    let start = Instant::now();
    let decoded = format::decode_snapshot_body(body)?;
    let decode = start.elapsed();
    let start = Instant::now();
    let rebuilt = DataTree::from_snapshot_owned(decoded.tree, Default::default())?;
    let rebuild = start.elapsed();
    println!(
        "parts: read {} MiB {read:?}, CRC {crc:?}, decode {decode:?}, DataTree::from_snapshot {rebuild:?}",
        bytes.len() >> 20
    );
    drop(rebuilt);
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let keep = args.last().map(String::as_str) == Some("--keep");
    if keep {
        args.pop();
    }
    if args.first().map(String::as_str) == Some("--restart") {
        let dir = args.get(1).ok_or("--restart needs a directory")?;
        return restart(Path::new(dir));
    }
    let base = if args.is_empty() {
        std::env::temp_dir()
    } else {
        PathBuf::from(args.remove(0))
    };
    let nodes: u64 = args.first().map_or(Ok(1_000_000), |s| s.parse())?;
    let dir = base.join(format!("zk-restart-{}", std::process::id()));

    let (mut store, recovered) = DataStore::open(store_config(&dir))?;
    let mut tree = recovered.tree;
    let start = Instant::now();
    let mut zxid = 0;
    let mut create = |tree: &mut DataTree, path: String| {
        zxid += 1;
        let txn = Txn::Create {
            path,
            data: Some(vec![b'x'; 100]),
            acl: Acl::open_unsafe(),
            ephemeral_owner: 0,
            parent_cversion: 1,
        };
        tree.apply(&header(zxid), &txn);
    };
    for parent in 0..nodes.div_ceil(1000) {
        create(&mut tree, format!("/p{parent}"));
        for child in 0..1000.min(nodes - parent * 1000) {
            create(&mut tree, format!("/p{parent}/n{child}"));
        }
    }
    println!(
        "built a tree of {} nodes in {:?}",
        tree.node_count(),
        start.elapsed()
    );

    let start = Instant::now();
    let sorted = tree.to_snapshot();
    let to_snapshot = start.elapsed();
    drop(sorted);
    // What the server does: capture on its core thread, sort and write on the snapshot thread.
    let start = Instant::now();
    let capture = tree.capture();
    let captured = start.elapsed();
    store.snapshot(capture, Vec::new());
    store.wait_for_snapshot().ok_or("no snapshot ran")??;
    println!(
        "snapshot: to_snapshot {to_snapshot:?}; capture {captured:?} (the pause of the \
         server's core thread), written in {:?} total",
        start.elapsed()
    );

    let start = Instant::now();
    let replay = 100_000u64;
    for chunk in 0..replay / 1000 {
        let txns: Vec<_> = (0..1000)
            .map(|i| {
                let z = tree.last_processed_zxid().0 + 1 + i;
                let n = chunk * 1000 + i;
                let txn = Txn::SetData {
                    path: format!("/p{}/n{}", n % nodes.div_ceil(1000), n % 1000),
                    data: Some(vec![b'y'; 100]),
                    version: 1,
                };
                (header(z), txn)
            })
            .collect();
        let handle = store.append(&txns);
        for (h, t) in &txns {
            tree.apply(h, t);
        }
        handle.wait()?;
    }
    println!("logged {replay} setData txns in {:?}", start.elapsed());
    store.close()?;
    drop(tree);

    // A restart is a fresh process: no freed heap of the old tree in the way.
    let status = Command::new(std::env::current_exe()?)
        .arg("--restart")
        .arg(&dir)
        .status()?;
    if keep {
        println!("kept {}", dir.display());
    } else {
        std::fs::remove_dir_all(&dir)?;
    }
    if !status.success() {
        return Err(format!("the restart failed: {status}").into());
    }
    Ok(())
}
