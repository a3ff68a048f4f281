//! The log under failing disks: a failed fsync, a full disk or a short write poisons the log
//! (sticky), never reports an undurable txn as durable, and what was acknowledged survives.

mod common;

use common::{open, Workload};
use zk_proto::Zxid;
use zk_storage::fault::{Faults, FaultyFileSystem};
use zk_storage::StorageError;

/// Writes acknowledged batches, then injects `faults` and expects the next append to fail, every
/// later one to fail with `LogFailed`, and a restart to find exactly the acknowledged txns (plus
/// possibly the failed batch, which was never acknowledged either way).
fn poisoned_by(seed: u64, faults: Faults) {
    let fs = FaultyFileSystem::new(seed);
    let mut workload = Workload::new(seed);
    let (store, _) = open(&fs).expect("open");
    for _ in 0..5 {
        store
            .append(&workload.batch(4))
            .wait()
            .expect("healthy append");
    }
    fs.set_faults(faults);
    let failed = store.append(&workload.batch(4)).wait();
    assert!(failed.is_err(), "the faulty append must fail: {failed:?}");
    assert!(store.log().failure().is_some());
    fs.set_faults(Faults::default());
    match store.append(&workload.batch(1)).wait() {
        Err(StorageError::LogFailed(_)) => {}
        other => panic!("the log must stay failed, got {other:?}"),
    }
    assert!(store.close().is_err());
    let image = fs.crash_image(seed);
    let (_, recovered) = open(&image).expect("recover after the failure");
    assert!(
        recovered.last_zxid >= Zxid(20),
        "acknowledged txns lost: {}",
        recovered.last_zxid
    );
    assert!(recovered.last_zxid <= Zxid(24));
    workload.assert_matches(&recovered);
}

#[test]
fn failed_fsync_poisons_the_log() {
    poisoned_by(
        21,
        Faults {
            fail_sync_after: Some(0),
            ..Faults::default()
        },
    );
}

#[test]
fn full_disk_poisons_the_log() {
    let fs = FaultyFileSystem::new(22);
    let mut workload = Workload::new(22);
    let (store, _) = open(&fs).expect("open");
    store
        .append(&workload.batch(4))
        .wait()
        .expect("healthy append");
    // No room beyond what is allocated: appends go on until the preallocated space runs out.
    fs.set_faults(Faults {
        capacity_bytes: Some(fs.used_bytes()),
        ..Faults::default()
    });
    let mut acknowledged = Zxid(4);
    let error = loop {
        match store.append(&workload.batch(20)).wait() {
            Ok(zxid) => acknowledged = zxid,
            Err(error) => break error,
        }
        assert!(acknowledged < Zxid(100_000), "the disk never filled up");
    };
    assert!(
        matches!(&error, StorageError::LogFailed(message) if message.contains("ENOSPC")),
        "{error:?}"
    );
    assert!(
        acknowledged > Zxid(4),
        "the preallocated space takes appends"
    );
    assert!(store.append(&workload.batch(1)).wait().is_err());
    drop(store);
    let (_, recovered) = open(&fs.crash_image(22)).expect("recover");
    assert!(recovered.last_zxid >= acknowledged);
    workload.assert_matches(&recovered);
}

#[test]
fn short_write_poisons_the_log() {
    poisoned_by(
        23,
        Faults {
            short_write_after: Some(0),
            ..Faults::default()
        },
    );
}

#[test]
fn full_disk_at_segment_creation_poisons_the_log() {
    let fs = FaultyFileSystem::new(24);
    let (store, _) = open(&fs).expect("open");
    fs.set_faults(Faults {
        capacity_bytes: Some(0),
        ..Faults::default()
    });
    let mut workload = Workload::new(24);
    let result = store.append(&workload.batch(3)).wait();
    assert!(
        matches!(&result, Err(StorageError::LogFailed(message)) if message.contains("injected ENOSPC")),
        "{result:?}"
    );
}

#[test]
fn out_of_order_appends_are_refused() {
    let fs = FaultyFileSystem::new(25);
    let mut workload = Workload::new(25);
    let (store, _) = open(&fs).expect("open");
    let batch = workload.batch(3);
    store.append(&batch).wait().expect("append");
    assert!(matches!(
        store.append(&batch[1..]).wait(),
        Err(StorageError::OutOfOrder { .. })
    ));
    // A refused batch does not poison the log.
    store
        .append(&workload.batch(2))
        .wait()
        .expect("append after the refusal");
}

#[test]
fn handles_resolve_in_order_when_not_awaited_one_by_one() {
    let fs = FaultyFileSystem::new(26);
    let mut workload = Workload::new(26);
    let (store, _) = open(&fs).expect("open");
    let handles: Vec<_> = (0..50).map(|_| store.append(&workload.batch(2))).collect();
    for (index, handle) in handles.into_iter().enumerate() {
        assert_eq!(handle.wait(), Ok(Zxid(2 * index as u64 + 2)));
    }
    store.close().expect("close");
    let (_, recovered) = open(&fs).expect("reopen");
    assert_eq!(recovered.last_zxid, Zxid(100));
    workload.assert_matches(&recovered);
}

/// Polls a handle as a future with a no-op waker until ready (the writer thread finishes it).
#[test]
fn append_handle_is_a_future() {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    let fs = FaultyFileSystem::new(27);
    let mut workload = Workload::new(27);
    let (store, _) = open(&fs).expect("open");
    let mut handle = pin!(store.append(&workload.batch(4)));
    let mut cx = Context::from_waker(Waker::noop());
    let result = loop {
        if let Poll::Ready(result) = handle.as_mut().poll(&mut cx) {
            break result;
        }
        std::thread::yield_now();
    };
    assert_eq!(result, Ok(Zxid(4)));
}

#[test]
fn batches_arriving_during_a_sync_share_the_next_sync() {
    let fs = FaultyFileSystem::new(28);
    let mut workload = Workload::new(28);
    let (store, _) = open(&fs).expect("open");
    store
        .append(&workload.batch(1))
        .wait()
        .expect("opens the segment");
    let syncs_before = fs.syncs();
    fs.hold_syncs();
    let first = store.append(&workload.batch(2));
    fs.wait_for_held_syncs(1);
    // The first batch is written but its sync has not returned: not acknowledged.
    assert!(first.try_result().is_none());
    let rest: Vec<_> = (0..10).map(|_| store.append(&workload.batch(3))).collect();
    assert!(rest.iter().all(|handle| handle.try_result().is_none()));
    fs.release_syncs();
    assert_eq!(first.wait(), Ok(Zxid(3)));
    for (index, handle) in rest.into_iter().enumerate() {
        assert_eq!(handle.wait(), Ok(Zxid(3 + 3 * (index as u64 + 1))));
    }
    // One sync for the first batch, one for the ten that queued behind it.
    assert_eq!(fs.syncs() - syncs_before, 2);
}

#[test]
fn a_snapshot_on_a_full_disk_fails_cleanly_and_the_log_goes_on() {
    let fs = FaultyFileSystem::new(29);
    let mut workload = Workload::new(29);
    let (mut store, _) = open(&fs).expect("open");
    store.append(&workload.batch(5)).wait().expect("append");
    fs.set_faults(Faults {
        capacity_bytes: Some(fs.used_bytes() + 16),
        ..Faults::default()
    });
    assert!(store.snapshot(workload.tree.to_snapshot(), workload.sessions()));
    let outcome = store.wait_for_snapshot().expect("a snapshot ran");
    assert!(outcome.is_err(), "{outcome:?}");
    assert!(
        !store.snapshot_gate().is_writing(),
        "a failed snapshot still counts as being written"
    );
    let leftovers: Vec<String> = zk_storage::FileSystem::list(&fs, &common::version_dir())
        .expect("list")
        .into_iter()
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A failed snapshot does not poison the log.
    fs.set_faults(Faults::default());
    store
        .append(&workload.batch(2))
        .wait()
        .expect("the log goes on");
    store.close().expect("close");
    let (_, recovered) = open(&fs).expect("recover");
    assert_eq!(recovered.last_zxid, Zxid(7));
    workload.assert_matches(&recovered);
}
