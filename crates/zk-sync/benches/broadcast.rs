//! Criterion benchmarks: the CPU cost of Zab's broadcast on the leader of three servers, per
//! proposal, from PROPOSE to COMMIT, with the followers' ACKs cumulative (one per follower
//! per log write, as our followers send them) or one per proposal (as ZooKeeper's do, which
//! the leader still accepts); and the encode/decode of a PROPOSAL frame.
//!
//! Everything is the pure state machine: no sockets, no disk (the leader's log write is
//! reported durable at once).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use zk_elect::{Millis, QuorumVerifier, ServerState};
use zk_sync::{Action, Durable, Epoch, Input, Sid, Zab, ZabConfig, ZabMsg, Zxid};

/// The size of a typical `setData` transaction of 100 bytes, encoded.
const TXN_BYTES: usize = 150;

fn step(zab: &mut Zab, out: &mut Vec<Action>, input: Input) {
    out.clear();
    zab.step(Millis(1), input, out);
}

fn recv(zab: &mut Zab, out: &mut Vec<Action>, from: u64, msg: ZabMsg) {
    step(
        zab,
        out,
        Input::Recv {
            from: Sid(from),
            msg,
        },
    );
}

/// Server 1 leading 2 and 3, established in epoch 1 with an empty history.
fn established_leader() -> Zab {
    let quorum = QuorumVerifier::majority([Sid(1), Sid(2), Sid(3)]).expect("three voters");
    let mut zab = Zab::new(ZabConfig::new(Sid(1), quorum), Durable::default());
    let mut out = Vec::new();
    let decided = Input::ElectionDecided {
        leader: Sid(1),
        state: ServerState::Leading,
    };
    step(&mut zab, &mut out, decided);
    for follower in [2, 3] {
        let info = ZabMsg::FollowerInfo {
            accepted_epoch: Epoch(0),
            observer: false,
        };
        recv(&mut zab, &mut out, follower, info);
        let ack_epoch = ZabMsg::AckEpoch {
            current_epoch: Some(Epoch(0)),
            last_zxid: Zxid::ZERO,
        };
        recv(&mut zab, &mut out, follower, ack_epoch);
    }
    while let Some(up_to) = zab.persist_point_after(1) {
        step(&mut zab, &mut out, Input::Persisted { up_to });
    }
    for follower in [2, 3] {
        let ack = ZabMsg::Ack {
            zxid: Zxid::new(Epoch(1), 0),
        };
        recv(&mut zab, &mut out, follower, ack);
    }
    assert!(zab.can_propose(), "the leader is established");
    zab
}

/// Proposes `batch` transactions as one log write, reports it durable, and has both followers
/// ACK it: once each (`cumulative`) or once per proposal.
fn broadcast_batch(zab: &mut Zab, out: &mut Vec<Action>, batch: usize, cumulative: bool) {
    let first = zab.last_logged_zxid();
    for _ in 0..batch {
        step(zab, out, Input::Propose(vec![7; TXN_BYTES]));
    }
    let last = zab.last_logged_zxid();
    let up_to = zab.persist_point_after(batch).expect("the batch's writes");
    step(zab, out, Input::Persisted { up_to });
    for follower in [2, 3] {
        if cumulative {
            recv(zab, out, follower, ZabMsg::Ack { zxid: last });
        } else {
            for counter in first.counter() + 1..=last.counter() {
                let zxid = Zxid::new(Epoch(1), counter);
                recv(zab, out, follower, ZabMsg::Ack { zxid });
            }
        }
    }
    assert_eq!(zab.committed_zxid(), last, "the batch committed");
    // The node compacts after each snapshot; here often enough that the log stays small.
    if zab.entries_after(Zxid::ZERO).len() > 4096 {
        zab.compact(last);
    }
}

fn bench_broadcast(c: &mut Criterion) {
    let mut group = c.benchmark_group("leader broadcast, 3 servers");
    for batch in [1usize, 16] {
        group.throughput(Throughput::Elements(batch as u64));
        for (name, cumulative) in [("cumulative ACKs", true), ("an ACK per proposal", false)] {
            if batch == 1 && !cumulative {
                continue; // the same as cumulative for one proposal
            }
            group.bench_with_input(BenchmarkId::new(name, batch), &batch, |b, &batch| {
                let mut zab = established_leader();
                let mut out = Vec::new();
                b.iter(|| broadcast_batch(&mut zab, &mut out, batch, cumulative));
            });
        }
    }
    group.finish();
}

fn bench_frames(c: &mut Criterion) {
    let proposal = ZabMsg::Proposal {
        zxid: Zxid::new(Epoch(1), 42),
        txn: vec![7; TXN_BYTES],
    };
    let frame = proposal.encode();
    c.bench_function("PROPOSAL of 150 bytes, encode", |b| {
        b.iter(|| black_box(&proposal).encode())
    });
    c.bench_function("PROPOSAL of 150 bytes, decode", |b| {
        b.iter(|| ZabMsg::decode(black_box(&frame)).expect("a valid frame"))
    });
}

criterion_group!(benches, bench_broadcast, bench_frames);
criterion_main!(benches);
