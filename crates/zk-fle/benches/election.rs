//! Criterion benchmarks: the CPU cost of a whole FastLeaderElection for 3, 5, 7 and 9 servers,
//! from a cold start and after the leader crashes, on the lossless `LocalNet` (5 ms one way).
//!
//! The virtual-time figures (election time and messages) come from `cargo run -p zk-sim
//! --release -- bench`; this suite measures how fast the state machines themselves run.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use zk_elect::testkit::LocalNet;
use zk_elect::{Millis, QuorumVerifier};
use zk_fle::{FastLeaderElection, FleConfig};
use zk_proto::{Epoch, Sid, Zxid};

const DELAY_MS: u64 = 5;

fn cluster(size: u64) -> LocalNet<FastLeaderElection> {
    let sids: Vec<Sid> = (1..=size).map(Sid).collect();
    let quorum = QuorumVerifier::majority(sids.clone()).expect("non-empty");
    let machines = sids
        .iter()
        .map(|&sid| {
            (
                sid,
                FastLeaderElection::new(FleConfig::new(sid, quorum.clone())),
            )
        })
        .collect();
    LocalNet::new(machines, sids, DELAY_MS)
}

fn all_decided(net: &LocalNet<FastLeaderElection>, sids: &[Sid]) -> bool {
    sids.iter().all(|&sid| net.outcome(sid).is_some())
}

/// A cold start: every server starts at once with an empty database. Returns the net.
fn cold_start(size: u64) -> LocalNet<FastLeaderElection> {
    let mut net = cluster(size);
    let sids: Vec<Sid> = (1..=size).map(Sid).collect();
    for &sid in &sids {
        net.start(sid, Zxid::ZERO, Epoch(0));
    }
    assert!(net.run_until(Millis(60_000), |net| all_decided(net, &sids)));
    net
}

/// After a cold start, the leader (the largest sid) crashes and the others elect again.
fn leader_crash(mut net: LocalNet<FastLeaderElection>, size: u64) -> LocalNet<FastLeaderElection> {
    net.crash(Sid(size));
    let followers: Vec<Sid> = (1..size).map(Sid).collect();
    for &sid in &followers {
        net.start(sid, Zxid::new(Epoch(1), 10), Epoch(1));
    }
    assert!(net.run_until(Millis(120_000), |net| all_decided(net, &followers)));
    net
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("fle");
    for size in [3u64, 5, 7, 9] {
        group.bench_with_input(BenchmarkId::new("cold_start", size), &size, |b, &size| {
            b.iter(|| cold_start(size))
        });
        group.bench_with_input(BenchmarkId::new("leader_crash", size), &size, |b, &size| {
            b.iter_batched(
                || cold_start(size),
                |net| leader_crash(net, size),
                criterion::BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
