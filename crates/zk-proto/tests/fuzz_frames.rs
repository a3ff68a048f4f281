//! A seeded, bounded mutation fuzzer: valid frames (the Java golden vectors plus framed requests
//! and replies) are mutated and fed to every decoder. No decoder may panic, and whatever decodes
//! must re-encode into bytes that decode to the same value.
//!
//! `ZK_PROTO_FUZZ_SEED` picks the seed and `ZK_PROTO_FUZZ_CASES` the number of mutated frames;
//! a failure prints the command that replays it.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use common::{check_stable, java_vectors};
use zk_proto::*;

/// SplitMix64: a tiny deterministic generator, so that a seed replays a run exactly.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Valid payloads (without the frame length) to start from.
fn corpus() -> Vec<Vec<u8>> {
    let mut corpus: Vec<Vec<u8>> = java_vectors().into_values().collect();
    // Request bodies behind a header, so that the header's opcode gets mutated too.
    let requests = [
        Request::Create(CreateRequest {
            path: "/a/b".into(),
            data: Some(vec![1, 2, 3]),
            acl: Acl::open_unsafe(),
            flags: 2,
        }),
        Request::Ping,
        Request::WhoAmI,
        Request::Multi(MultiRequest {
            ops: vec![
                MultiOp::Delete(DeleteRequest {
                    path: "/x".into(),
                    version: -1,
                }),
                MultiOp::GetChildren(GetChildrenRequest {
                    path: "/y".into(),
                    watch: true,
                }),
            ],
        }),
    ];
    for request in &requests {
        let mut payload = Vec::new();
        RequestHeader::new(Xid(3), request.op()).encode(&mut payload);
        request.encode(&mut payload);
        corpus.push(payload);
    }
    corpus
}

const INTERESTING_I32: [i32; 8] = [-1, -2, 0, 1, 4, 0x7f, i32::MAX, i32::MIN];

fn mutate(rng: &mut SplitMix64, input: &[u8]) -> Vec<u8> {
    let mut bytes = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(7) {
            0 if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
            1 if at < bytes.len() => bytes[at] = [0, 1, 0x7f, 0x80, 0xff][rng.below(5)],
            2 => {
                let value = INTERESTING_I32[rng.below(INTERESTING_I32.len())].to_be_bytes();
                for (i, b) in value.iter().enumerate() {
                    if let Some(slot) = bytes.get_mut(at + i) {
                        *slot = *b;
                    }
                }
            }
            3 => bytes.truncate(at),
            4 => {
                let n = rng.below(8);
                for _ in 0..n {
                    bytes.insert(at, rng.next_u64() as u8);
                }
            }
            5 if at < bytes.len() => {
                let end = (at + rng.below(16)).min(bytes.len());
                bytes.drain(at..end);
            }
            _ => {
                let end = (at + rng.below(16)).min(bytes.len());
                let chunk = bytes[at..end].to_vec();
                bytes.splice(at..at, chunk);
            }
        }
    }
    bytes
}

fn decode_everything(frame: &[u8]) {
    let Ok(Some((consumed, payload))) = decode_frame(frame, DEFAULT_MAX_BUFFER) else {
        return;
    };
    assert_eq!(consumed, payload.len() + 4);
    check_stable(payload, ConnectRequest::decode, ConnectRequest::encode);
    check_stable(payload, ConnectResponse::decode, ConnectResponse::encode);
    check_stable(payload, WatcherEvent::decode, WatcherEvent::encode);
    let mut r = Reader::new(payload);
    if let Ok(header) = RequestHeader::decode(&mut r) {
        if let Some(op) = header.op_code() {
            check_stable(
                &payload[8..],
                |r| Request::decode(op, r),
                |v, out| v.encode(out),
            );
        }
    }
    for &op in OpCode::ALL {
        check_stable(payload, |r| Request::decode(op, r), |v, out| v.encode(out));
        check_stable(payload, |r| Reply::decode(op, r), |v, out| v.encode(out));
    }
}

#[test]
fn mutated_frames_never_panic_and_decode_stably() {
    let seed = std::env::var("ZK_PROTO_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_2026_u64);
    let cases: usize = std::env::var("ZK_PROTO_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let corpus = corpus();
    let mut rng = SplitMix64(seed);
    for case in 0..cases {
        let base = &corpus[rng.below(corpus.len())];
        let payload = mutate(&mut rng, base);
        let mut frame = Vec::new();
        // Mostly a correct length prefix, sometimes the mutated bytes raw.
        if rng.below(8) == 0 {
            frame = payload;
        } else {
            encode_frame(&payload, &mut frame);
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| decode_everything(&frame)));
        if let Err(panic) = outcome {
            eprintln!(
                "fuzz failure at case {case} on frame {frame:02x?}\n\
                 replay: ZK_PROTO_FUZZ_SEED={seed} ZK_PROTO_FUZZ_CASES={} \
                 cargo test -p zk-proto --test fuzz_frames",
                case + 1
            );
            std::panic::resume_unwind(panic);
        }
    }
}
