//! Criterion benches of watch triggering with 10,000 watchers: one-shot data watches on one
//! path, persistent watches on 10,000 paths, and recursive watches on an ancestor.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use zk_watch::{EventKind, WatchKind, WatchRegistry, WatcherId};

const WATCHERS: u64 = 10_000;

fn benches(c: &mut Criterion) {
    let mut one_path = WatchRegistry::new();
    for w in 0..WATCHERS {
        one_path.add("/app/config", WatchKind::Data, WatcherId(w));
    }
    c.bench_function("trigger 10k one-shot data watches on one path", |b| {
        b.iter_batched(
            || one_path.clone(),
            |mut registry| black_box(registry.trigger("/app/config", EventKind::NodeDataChanged)),
            BatchSize::LargeInput,
        )
    });

    let mut many_paths = WatchRegistry::new();
    for w in 0..WATCHERS {
        many_paths.add(
            &format!("/app/node{w}"),
            WatchKind::Persistent,
            WatcherId(w),
        );
    }
    let mut i = 0u64;
    c.bench_function("trigger one of 10k persistent watches", |b| {
        b.iter(|| {
            i += 1;
            let path = format!("/app/node{}", i % WATCHERS);
            black_box(many_paths.trigger(&path, EventKind::NodeDataChanged))
        })
    });

    let mut recursive = many_paths.clone();
    for w in 0..WATCHERS {
        recursive.add("/app", WatchKind::PersistentRecursive, WatcherId(w));
    }
    c.bench_function("trigger a descendant of 10k recursive watches", |b| {
        b.iter(|| black_box(recursive.trigger("/app/new/deep/node", EventKind::NodeCreated)))
    });
}

criterion_group! {
    name = watch;
    config = Criterion::default().sample_size(10);
    targets = benches
}
criterion_main!(watch);
