//! The tree's heap footprint: 100,000 znodes must stay compact (Apache ZooKeeper's JVM needs
//! several hundred bytes per znode; this bound keeps us far below a quarter of its resident
//! memory).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use zk_proto::{Acl, CreateMode, SessionId, Zxid};
use zk_tree::{DataTree, Op, RequestContext};

/// Counts live heap bytes of this test binary.
struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn a_100k_node_tree_takes_under_250_bytes_per_node_beyond_its_payload() {
    let before = LIVE_BYTES.load(Ordering::Relaxed);
    let mut tree = DataTree::new();
    let mut zxid = 1u64;
    let mut payload = 0usize;
    for parent in 0..100 {
        for child in 0..1000 {
            let path = if child == 0 {
                format!("/app{parent}")
            } else {
                format!("/app{parent}/node-{child:06}")
            };
            let data = b"0123456789abcdef".to_vec();
            payload += path.len() + data.len();
            let op = Op::Create {
                path,
                data: Some(data),
                acl: Acl::open_unsafe(),
                mode: CreateMode::Persistent,
                ttl_ms: None,
            };
            let ctx = RequestContext {
                session_id: SessionId(1),
                auth: &[],
                time_ms: 0,
                zxid: Zxid(zxid),
            };
            let txn = tree.prepare(&ctx, &op);
            let outcome = tree.apply(&ctx.header(0), &txn);
            assert!(outcome.result.error_code().is_ok());
            zxid += 1;
        }
    }
    let used = LIVE_BYTES.load(Ordering::Relaxed).saturating_sub(before);
    let overhead_per_node = used.saturating_sub(payload) / 100_000;
    assert_eq!(tree.node_count(), 100_005);
    assert!(
        overhead_per_node < 250,
        "{used} bytes for 100k nodes: {overhead_per_node} bytes of overhead per node"
    );
    println!("{used} bytes for 100k nodes, {overhead_per_node} bytes of overhead per node");
}
