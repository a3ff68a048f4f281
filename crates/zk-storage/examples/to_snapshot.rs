//! Times `DataTree::to_snapshot` (capture, copy-out, sort by path, ACL numbering) on two trees
//! of about 500,000 znodes: one parent with 512,000 children named as `zk-bench`'s creates name
//! them (`/bench/s<session>-<n>`, a long common start), and 500 parents of 1,000 short-named
//! children each (`/p<i>/n<j>`). Prints the best of five per tree; asserts nothing.
//!
//! `cargo run --release -p zk-storage --example to_snapshot` (here rather than in zk-tree,
//! whose code takes no clock)

use std::time::Instant;

use zk_proto::{Acl, SessionId, Zxid};
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
        let mut best = f64::MAX;
        for _ in 0..5 {
            let started = Instant::now();
            let snapshot = tree.to_snapshot();
            best = best.min(started.elapsed().as_secs_f64());
            drop(snapshot);
        }
        println!(
            "{name}: {} znodes, to_snapshot best of 5: {:.0} ms",
            tree.node_count(),
            best * 1000.0
        );
    }
}
