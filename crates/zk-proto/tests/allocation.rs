//! Decoding never allocates more than a small multiple of its input, however large the lengths
//! inside the input claim to be. A counting global allocator measures the peak of live bytes
//! allocated by the current thread while it decodes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use zk_proto::*;

struct Counting;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LIVE.try_with(|live| {
            let now = live.get() + layout.size();
            live.set(now);
            let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
        });
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(layout.size())));
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The peak of bytes allocated (and not yet freed) while `f` runs.
fn peak_during(f: impl FnOnce()) -> usize {
    let base = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(base));
    f();
    PEAK.with(Cell::get) - base
}

/// Each decoded element costs at most this many bytes of memory per input byte (a `String` is
/// 24 bytes for a 4-byte length; a multi op, doubled by `Vec` growth, stays below it too).
const MAX_BYTES_PER_INPUT_BYTE: usize = 32;

fn assert_bounded(input: &[u8]) {
    for &op in OpCode::ALL {
        let peak = peak_during(|| {
            let _ = Request::decode(op, &mut Reader::new(input));
            let _ = Reply::decode(op, &mut Reader::new(input));
        });
        assert!(
            peak <= MAX_BYTES_PER_INPUT_BYTE * input.len() + 256,
            "{op:?}: {peak} bytes for a {}-byte input",
            input.len()
        );
    }
}

#[test]
fn hostile_lengths_do_not_allocate() {
    // A path, vector or buffer claiming i32::MAX elements, with nothing behind it.
    let mut input = Vec::new();
    input.extend_from_slice(&i32::MAX.to_be_bytes());
    input.extend_from_slice(&[0; 12]);
    assert_bounded(&input);
    // A reply header with err 0 followed by the same claim.
    let mut reply = vec![0; 16];
    reply.extend_from_slice(&input);
    assert_bounded(&reply);
}

#[test]
fn many_small_elements_stay_within_a_multiple_of_the_input() {
    // 1000 empty strings: the densest vector<ustring> there is.
    let mut children = vec![0; 16];
    children.extend_from_slice(&1000i32.to_be_bytes());
    children.extend(std::iter::repeat_n(0u8, 4000));
    assert_bounded(&children);
    // The counter does see the decode's allocations (1000 Strings of 24 bytes each).
    let peak = peak_during(|| {
        let reply = Reply::decode(OpCode::GetChildren, &mut Reader::new(&children)).unwrap();
        assert!(
            matches!(reply.body, Some(Response::GetChildren(ref c)) if c.children.len() == 1000)
        );
    });
    assert!(peak >= 24_000, "peak {peak}");
    // 200 check ops in a multi, each with an empty path: the densest multi.
    let request = MultiRequest {
        ops: (0..200)
            .map(|_| {
                MultiOp::Check(CheckVersionRequest {
                    path: String::new(),
                    version: 0,
                })
            })
            .collect(),
    };
    assert_bounded(&request.to_bytes());
    let response = MultiResponse {
        results: (0..200).map(|_| MultiResult::Check).collect(),
    };
    let mut reply = vec![0; 16];
    response.encode(&mut reply);
    assert_bounded(&reply);
}
