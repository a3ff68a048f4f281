//! Criterion benches of the tree's hot paths on a tree of 100,000 nodes: create, getData,
//! setData and delete (each through prepare and apply, as a leader runs them).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use zk_proto::{Acl, CreateMode, SessionId, Zxid};
use zk_tree::{DataTree, Op, RequestContext};

const NODES: usize = 100_000;

/// A tree with 100 parents of 1,000 children each.
fn big_tree() -> (DataTree, u64) {
    let mut tree = DataTree::new();
    let mut zxid = 1;
    let mut run = |tree: &mut DataTree, op: &Op| {
        let ctx = RequestContext {
            session_id: SessionId(1),
            auth: &[],
            time_ms: zxid as i64,
            zxid: Zxid(zxid),
        };
        let txn = tree.prepare(&ctx, op);
        tree.apply(&ctx.header(0), &txn);
        zxid += 1;
    };
    for parent in 0..NODES / 1000 {
        run(&mut tree, &create(&format!("/p{parent}"), b""));
        for child in 0..999 {
            run(
                &mut tree,
                &create(&format!("/p{parent}/c{child}"), b"some data"),
            );
        }
    }
    (tree, zxid)
}

fn create(path: &str, data: &[u8]) -> Op {
    Op::Create {
        path: path.to_owned(),
        data: Some(data.to_vec()),
        acl: Acl::open_unsafe(),
        mode: CreateMode::Persistent,
        ttl_ms: None,
    }
}

fn apply(tree: &mut DataTree, zxid: &mut u64, op: &Op) {
    let ctx = RequestContext {
        session_id: SessionId(1),
        auth: &[],
        time_ms: 0,
        zxid: Zxid(*zxid),
    };
    let txn = tree.prepare(&ctx, op);
    tree.apply(&ctx.header(0), &txn);
    *zxid += 1;
}

fn benches(c: &mut Criterion) {
    let (mut tree, mut zxid) = big_tree();
    let mut i = 0u64;
    c.bench_function("create+delete (100k nodes)", |b| {
        b.iter(|| {
            i += 1;
            let path = format!("/p{}/new{}", i % 100, i);
            apply(&mut tree, &mut zxid, &create(&path, b"x"));
            apply(&mut tree, &mut zxid, &Op::Delete { path, version: -1 });
        })
    });
    c.bench_function("getData (100k nodes)", |b| {
        b.iter(|| {
            i += 1;
            let path = format!("/p{}/c{}", i % 100, i % 999);
            std::hint::black_box(
                tree.get_data(&path, &[])
                    .map(|(data, _)| data.map(<[u8]>::len)),
            )
        })
    });
    c.bench_function("setData (100k nodes)", |b| {
        b.iter(|| {
            i += 1;
            let op = Op::SetData {
                path: format!("/p{}/c{}", i % 100, i % 999),
                data: Some(b"new data".to_vec()),
                version: -1,
            };
            apply(&mut tree, &mut zxid, &op);
        })
    });
    c.bench_function("getChildren of 1,000 (100k nodes)", |b| {
        b.iter(|| {
            i += 1;
            std::hint::black_box(
                tree.get_children(&format!("/p{}", i % 100), &[])
                    .map(|(c, _)| c.len()),
            )
        })
    });
    c.bench_function("build a 100k-node tree", |b| {
        b.iter_batched(|| (), |()| big_tree(), BatchSize::PerIteration)
    });
}

criterion_group! {
    name = tree;
    config = Criterion::default().sample_size(10);
    targets = benches
}
criterion_main!(tree);
