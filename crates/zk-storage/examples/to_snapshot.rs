//! Times `DataTree::to_snapshot` (capture, copy-out, sort by path, ACL numbering) and what the
//! snapshot thread does instead (`TreeCapture::sorted`, which sorts references, then encoding
//! that into the file's bytes in memory) on two trees of about 500,000 znodes: one parent with
//! 512,000 children named as `zk-bench`'s creates name them (`/bench/s<session>-<n>`, a long
//! common start), and 500 parents of 1,000 short-named children each (`/p<i>/n<j>`). Prints the
//! best of five of each per tree; asserts only that both ways give the same bytes.
//!
//! `cargo run --release -p zk-storage --example to_snapshot` (here rather than in zk-tree,
//! whose code takes no clock)

use std::time::Instant;

use zk_proto::{Acl, SessionId, Zxid};
use zk_storage::encode_snapshot;
use zk_tree::{DataTree, Txn, TxnHeader};

fn build(paths: impl Iterator<Item = String>) -> DataTree {
    let mut tree = DataTree::new();
    for (zxid, path) in (1..).zip(paths) {
        let header = TxnHeader {
            session_id: SessionId(0),
            cxid: 0,
            zxid: Zxid(zxid),
            time_ms: 0,
        };
        let txn = Txn::Create {
            path,
            data: Some(vec![b'x'; 100]),
            acl: Acl::open_unsafe(),
            ephemeral_owner: 0,
            parent_cversion: -1,
        };
        assert!(tree.apply(&header, &txn).result.error_code().is_ok());
    }
    tree
}

fn main() {
    let wide = std::iter::once("/bench".to_owned())
        .chain((0..8000).flat_map(|n| (0..64).map(move |s| format!("/bench/s{s}-{n}"))));
    let nested = (0..500).flat_map(|p| {
        std::iter::once(format!("/p{p}")).chain((0..1000).map(move |c| format!("/p{p}/n{c}")))
    });
    for (name, tree) in [
        ("/bench/s<session>-<n>", build(wide)),
        ("/p<i>/n<j>", build(nested)),
    ] {
        let (mut copy_out, mut sort, mut encode) = (f64::MAX, f64::MAX, f64::MAX);
        for _ in 0..5 {
            let started = Instant::now();
            let snapshot = tree.to_snapshot();
            copy_out = copy_out.min(started.elapsed().as_secs_f64());
            let expected = encode_snapshot(&snapshot, &[], snapshot.last_processed_zxid);
            drop(snapshot);
            let capture = tree.capture();
            let started = Instant::now();
            let sorted = capture.sorted();
            let sorted_at = Instant::now();
            let bytes = encode_snapshot(&sorted, &[], tree.last_processed_zxid());
            encode = encode.min(sorted_at.elapsed().as_secs_f64());
            sort = sort.min((sorted_at - started).as_secs_f64());
            assert_eq!(bytes, expected);
        }
        println!(
            "{name}: {} znodes, best of 5: to_snapshot {:.0} ms; sorted {:.0} ms, then encoded \
             {:.0} ms",
            tree.node_count(),
            copy_out * 1000.0,
            sort * 1000.0,
            encode * 1000.0
        );
    }
}
