//! Criterion benches of durable storage on the real disk (under the target directory):
//! append + fdatasync with batches of 1, 16 and 64 txns, group commit of batches in flight, and
//! writing and loading a snapshot of 100,000 nodes.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use zk_proto::{Acl, SessionId, Zxid};
use zk_storage::{read_snapshot, write_snapshot, FileSystem, LogConfig, LogWriter, RealFileSystem};
use zk_tree::{DataTree, Txn, TxnHeader};

fn bench_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("zk-storage-bench")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("bench directory");
    dir
}

fn set_data(zxid: u64) -> (TxnHeader, Txn) {
    (
        TxnHeader {
            session_id: SessionId(1),
            cxid: zxid as i32,
            zxid: Zxid(zxid),
            time_ms: 0,
        },
        Txn::SetData {
            path: "/bench/node".to_owned(),
            data: Some(vec![7; 100]),
            version: zxid as i32,
        },
    )
}

fn appends(c: &mut Criterion) {
    let mut group = c.benchmark_group("log");
    group.sample_size(10);
    for batch in [1usize, 16, 64] {
        let dir = bench_dir(&format!("append-{batch}"));
        let log = LogWriter::start(Arc::new(RealFileSystem), LogConfig::new(&dir), Zxid::ZERO)
            .expect("log");
        let mut next = 1u64;
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(format!("append_sync/batch_{batch}"), |b| {
            b.iter(|| {
                let txns: Vec<_> = (next..next + batch as u64).map(set_data).collect();
                next += batch as u64;
                log.append(&txns).wait().expect("append")
            })
        });
        log.close().expect("close");
    }
    // Group commit: 32 batches of 16 in flight at once share syncs.
    let dir = bench_dir("group");
    let log =
        LogWriter::start(Arc::new(RealFileSystem), LogConfig::new(&dir), Zxid::ZERO).expect("log");
    let mut next = 1u64;
    group.throughput(Throughput::Elements(32 * 16));
    group.bench_function("group_commit/32_in_flight_x16", |b| {
        b.iter(|| {
            let handles: Vec<_> = (0..32)
                .map(|_| {
                    let txns: Vec<_> = (next..next + 16).map(set_data).collect();
                    next += 16;
                    log.append(&txns)
                })
                .collect();
            for handle in handles {
                handle.wait().expect("append");
            }
        })
    });
    log.close().expect("close");
    group.finish();
}

/// A tree of `count` nodes with 100-byte data, 1000 children per parent.
fn tree_of(count: u64) -> DataTree {
    let mut tree = DataTree::new();
    let mut zxid = 0;
    let mut create = |tree: &mut DataTree, path: String| {
        zxid += 1;
        let header = TxnHeader {
            session_id: SessionId(0),
            cxid: 0,
            zxid: Zxid(zxid),
            time_ms: 0,
        };
        tree.apply(
            &header,
            &Txn::Create {
                path,
                data: Some(vec![b'x'; 100]),
                acl: Acl::open_unsafe(),
                ephemeral_owner: 0,
                parent_cversion: 1,
            },
        );
    };
    for parent in 0..count.div_ceil(1000) {
        create(&mut tree, format!("/p{parent}"));
        for child in 0..1000.min(count - parent * 1000) {
            create(&mut tree, format!("/p{parent}/n{child}"));
        }
    }
    tree
}

fn snapshots(c: &mut Criterion) {
    let mut group = c.benchmark_group("snapshot");
    group.sample_size(10);
    let tree = tree_of(100_000);
    let snapshot = tree.to_snapshot();
    let dir = bench_dir("snapshot");
    let fs = RealFileSystem;
    group.throughput(Throughput::Elements(snapshot.nodes.len() as u64));
    group.bench_function("write_100k_nodes", |b| {
        b.iter(|| write_snapshot(&fs, &dir, &snapshot, &[]).expect("write"))
    });
    let path = write_snapshot(&fs, &dir, &snapshot, &[]).expect("write");
    group.bench_function("load_100k_nodes", |b| {
        b.iter_batched(
            || (),
            |()| {
                let loaded = read_snapshot(&fs, &path).expect("read");
                DataTree::from_snapshot(&loaded.body.tree, Default::default()).expect("tree")
            },
            BatchSize::PerIteration,
        )
    });
    let _ = fs.remove(&path);
    group.finish();
}

criterion_group!(benches, appends, snapshots);
criterion_main!(benches);
