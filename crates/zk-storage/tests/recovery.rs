//! Recovery: round trips, fuzzy snapshots, and every kind of damage the brief lists (torn and
//! zero-filled tails, corrupt snapshots, missing or empty snapshots, mid-log CRC failures, gaps).

mod common;

use common::{config, files, open, version_dir, Workload};
use zk_proto::Zxid;
use zk_storage::fault::FaultyFileSystem;
use zk_storage::format::{self, LOG_HEADER_BYTES};
use zk_storage::StorageError;

/// Appends `batches` batches of `size` txns and waits for each.
fn write(store: &zk_storage::DataStore, workload: &mut Workload, batches: usize, size: usize) {
    for _ in 0..batches {
        let batch = workload.batch(size);
        store.append(&batch).wait().expect("append");
    }
}

#[test]
fn fresh_directory_starts_empty_with_snapshot_zero() {
    let fs = FaultyFileSystem::new(1);
    let (store, recovered) = open(&fs).expect("open");
    assert_eq!(recovered.last_zxid, Zxid::ZERO);
    assert_eq!(
        recovered.tree.node_count(),
        zk_tree::DataTree::new().node_count()
    );
    assert_eq!(files(&fs, "snapshot").len(), 1);
    assert!(files(&fs, "snapshot")[0].ends_with("snapshot.0"));
    store.close().expect("close");
}

#[test]
fn acknowledged_txns_survive_a_restart() {
    let fs = FaultyFileSystem::new(2);
    let mut workload = Workload::new(2);
    let (store, _) = open(&fs).expect("open");
    write(&store, &mut workload, 20, 7);
    store.close().expect("close");
    let (store, recovered) = open(&fs).expect("reopen");
    assert_eq!(recovered.last_zxid, Zxid(140));
    assert_eq!(recovered.txns_replayed, 140);
    workload.assert_matches(&recovered);
    // Appends go on after the recovered zxid, into a new segment.
    write(&store, &mut workload, 3, 5);
    store.close().expect("close");
    let (_, recovered) = open(&fs).expect("reopen");
    assert_eq!(recovered.last_zxid, Zxid(155));
    workload.assert_matches(&recovered);
    assert_eq!(files(&fs, "log").len(), 2);
}

#[test]
fn snapshot_plus_log_replay_restores_the_state() {
    let fs = FaultyFileSystem::new(3);
    let mut workload = Workload::new(3);
    let (mut store, _) = open(&fs).expect("open");
    write(&store, &mut workload, 10, 10);
    assert!(store.snapshot(workload.tree.to_snapshot(), workload.sessions()));
    store
        .wait_for_snapshot()
        .expect("a snapshot ran")
        .expect("snapshot written");
    write(&store, &mut workload, 5, 10);
    store.close().expect("close");
    let (_, recovered) = open(&fs).expect("reopen");
    assert_eq!(recovered.snapshot_zxid, Zxid(100));
    assert_eq!(recovered.txns_replayed, 50);
    workload.assert_matches(&recovered);
}

#[test]
fn replaying_txns_a_fuzzy_snapshot_already_holds_is_harmless() {
    let fs = FaultyFileSystem::new(4);
    let mut workload = Workload::new(4);
    let (mut store, _) = open(&fs).expect("open");
    write(&store, &mut workload, 6, 10);
    // The snapshot reflects txns up to 60 but claims zxid 40, as a fuzzy snapshot started at 40.
    let mut fuzzy = workload.tree.clone();
    fuzzy.set_last_processed_zxid(Zxid(40));
    assert!(store.snapshot(fuzzy.to_snapshot(), workload.sessions()));
    store.wait_for_snapshot().expect("ran").expect("written");
    write(&store, &mut workload, 2, 10);
    store.close().expect("close");
    let (_, recovered) = open(&fs).expect("reopen");
    assert_eq!(recovered.snapshot_zxid, Zxid(40));
    assert_eq!(recovered.txns_replayed, 40);
    assert_eq!(recovered.last_zxid, Zxid(80));
    let expected = &workload.states[&Zxid(80)];
    let got = recovered.tree.to_snapshot();
    assert_eq!(got.nodes.len(), expected.nodes.len());
    for (a, b) in got.nodes.iter().zip(&expected.nodes) {
        assert_eq!((&a.path, &a.data), (&b.path, &b.data));
    }
}

/// Writes 3 batches of 4 txns into one segment and returns its path.
fn one_segment(fs: &FaultyFileSystem, workload: &mut Workload) -> std::path::PathBuf {
    let (store, _) = open(fs).expect("open");
    write(&store, workload, 3, 4);
    store.close().expect("close");
    let logs = files(fs, "log");
    assert_eq!(logs.len(), 1);
    logs[0].clone()
}

fn record_offsets(fs: &FaultyFileSystem, path: &std::path::Path) -> (Vec<u64>, u64) {
    let bytes = fs.contents(path).expect("segment");
    let scan = format::scan_segment(&bytes);
    (
        scan.records.iter().map(|r| r.offset).collect(),
        scan.valid_end,
    )
}

#[test]
fn torn_tail_of_the_last_segment_is_cut_at_the_last_valid_record() {
    let fs = FaultyFileSystem::new(5);
    let mut workload = Workload::new(5);
    let segment = one_segment(&fs, &mut workload);
    let (offsets, valid_end) = record_offsets(&fs, &segment);
    assert_eq!(offsets.len(), 12);
    // Tear the last record in half.
    let last = offsets[11];
    assert!(fs.truncate(&segment, last + (valid_end - last) / 2));
    let (store, recovered) = open(&fs).expect("a torn tail is not fatal");
    assert_eq!(recovered.last_zxid, Zxid(11));
    assert!(recovered.torn_bytes > 0);
    workload.assert_matches(&recovered);
    assert_eq!(fs.contents(&segment).map(|b| b.len() as u64), Some(last));
    // The log goes on from zxid 12 in a new segment, and the cut segment stays clean.
    let mut workload = Workload::resume(50, recovered.tree);
    write(&store, &mut workload, 2, 3);
    store.close().expect("close");
    let (_, recovered) = open(&fs).expect("reopen after the cut");
    assert_eq!(recovered.last_zxid, Zxid(17));
    assert_eq!(recovered.torn_bytes, 0);
    workload.assert_matches(&recovered);
}

#[test]
fn zero_filled_tail_is_cut() {
    let fs = FaultyFileSystem::new(6);
    let mut workload = Workload::new(6);
    let segment = one_segment(&fs, &mut workload);
    let (offsets, valid_end) = record_offsets(&fs, &segment);
    // The last two records never reached the disk: zeros where they were.
    assert!(fs.zero(&segment, offsets[10] + 3, valid_end - offsets[10]));
    let (_, recovered) = open(&fs).expect("a zeroed tail is not fatal");
    assert_eq!(recovered.last_zxid, Zxid(10));
    workload.assert_matches(&recovered);
}

#[test]
fn zeroed_hole_before_a_valid_record_in_the_last_segment_is_a_torn_tail() {
    let fs = FaultyFileSystem::new(7);
    let mut workload = Workload::new(7);
    let segment = one_segment(&fs, &mut workload);
    let (offsets, _) = record_offsets(&fs, &segment);
    assert!(fs.zero(&segment, offsets[9], 4));
    let (_, recovered) = open(&fs).expect("open");
    assert_eq!(recovered.last_zxid, Zxid(9));
    workload.assert_matches(&recovered);
}

#[test]
fn crc_failure_inside_a_non_last_segment_is_an_error() {
    let fs = FaultyFileSystem::new(8);
    let mut workload = Workload::new(8);
    let first = one_segment(&fs, &mut workload);
    let (store, _) = open(&fs).expect("open");
    write(&store, &mut workload, 2, 4);
    store.close().expect("close");
    assert_eq!(files(&fs, "log").len(), 2);
    let (offsets, _) = record_offsets(&fs, &first);
    assert!(fs.flip_bit(&first, offsets[5] + 20, 3));
    match open(&fs) {
        Err(StorageError::Corrupt { path, offset, .. }) => {
            assert_eq!(path, first);
            assert_eq!(offset, offsets[5]);
        }
        other => panic!("expected a corruption error, got {other:?}"),
    }
}

#[test]
fn bad_header_of_a_non_last_segment_is_an_error() {
    let fs = FaultyFileSystem::new(9);
    let mut workload = Workload::new(9);
    let first = one_segment(&fs, &mut workload);
    let (store, _) = open(&fs).expect("open");
    write(&store, &mut workload, 1, 4);
    store.close().expect("close");
    assert!(fs.zero(&first, 0, LOG_HEADER_BYTES));
    assert!(matches!(open(&fs), Err(StorageError::Corrupt { .. })));
}

#[test]
fn corrupt_newest_snapshot_falls_back_to_the_older_one_and_the_log() {
    let fs = FaultyFileSystem::new(10);
    let mut workload = Workload::new(10);
    let (mut store, _) = open(&fs).expect("open");
    write(&store, &mut workload, 4, 5);
    assert!(store.snapshot(workload.tree.to_snapshot(), workload.sessions()));
    store.wait_for_snapshot().expect("ran").expect("written");
    write(&store, &mut workload, 4, 5);
    assert!(store.snapshot(workload.tree.to_snapshot(), workload.sessions()));
    store.wait_for_snapshot().expect("ran").expect("written");
    write(&store, &mut workload, 2, 5);
    store.close().expect("close");
    let snapshots = files(&fs, "snapshot");
    assert_eq!(snapshots.len(), 3);
    let newest = &snapshots[2];
    let len = fs.contents(newest).map_or(0, |b| b.len() as u64);
    assert!(fs.flip_bit(newest, len / 2, 0));
    let (_, recovered) = open(&fs).expect("falls back");
    assert_eq!(recovered.snapshot_zxid, Zxid(20));
    assert_eq!(recovered.last_zxid, Zxid(50));
    workload.assert_matches(&recovered);
}

#[test]
fn empty_snapshot_is_not_taken_for_an_empty_database() {
    let fs = FaultyFileSystem::new(11);
    let mut workload = Workload::new(11);
    one_segment(&fs, &mut workload);
    let snapshot = files(&fs, "snapshot").remove(0);
    assert!(fs.truncate(&snapshot, 0));
    match open(&fs) {
        Err(StorageError::NoUsableSnapshot { reason, .. }) => {
            assert!(reason.contains("damaged"), "{reason}")
        }
        other => panic!("expected NoUsableSnapshot, got {other:?}"),
    }
}

#[test]
fn missing_snapshot_with_logs_is_an_error() {
    let fs = FaultyFileSystem::new(12);
    let mut workload = Workload::new(12);
    one_segment(&fs, &mut workload);
    let snapshot = files(&fs, "snapshot").remove(0);
    zk_storage::FileSystem::remove(&fs, &snapshot).expect("remove");
    match open(&fs) {
        Err(StorageError::NoUsableSnapshot { reason, .. }) => {
            assert!(reason.contains("log segment"), "{reason}")
        }
        other => panic!("expected NoUsableSnapshot, got {other:?}"),
    }
}

#[test]
fn missing_log_segment_between_snapshot_and_log_is_a_gap() {
    let fs = FaultyFileSystem::new(13);
    let mut workload = Workload::new(13);
    let first = one_segment(&fs, &mut workload);
    let (store, _) = open(&fs).expect("open");
    write(&store, &mut workload, 1, 4);
    store.close().expect("close");
    zk_storage::FileSystem::remove(&fs, &first).expect("remove");
    assert!(matches!(
        open(&fs),
        Err(StorageError::LogGap {
            after: Zxid(0),
            found: Zxid(13)
        })
    ));
}

#[test]
fn leftover_temporary_snapshot_is_ignored_and_removed() {
    let fs = FaultyFileSystem::new(14);
    let mut workload = Workload::new(14);
    one_segment(&fs, &mut workload);
    let tmp = version_dir().join("snapshot.c.tmp");
    fs.put(&tmp, b"half a snapshot");
    let (_, recovered) = open(&fs).expect("open");
    assert_eq!(recovered.last_zxid, Zxid(12));
    assert!(fs.contents(&tmp).is_none());
}

#[test]
fn sessions_are_restored_with_their_timeouts() {
    let fs = FaultyFileSystem::new(15);
    let mut workload = Workload::new(15);
    let (mut store, _) = open(&fs).expect("open");
    write(&store, &mut workload, 10, 8);
    assert!(store.snapshot(workload.tree.to_snapshot(), workload.sessions()));
    store.wait_for_snapshot().expect("ran").expect("written");
    write(&store, &mut workload, 10, 8);
    store.close().expect("close");
    let (_, recovered) = open(&fs).expect("reopen");
    assert!(
        !recovered.sessions.is_empty(),
        "the workload creates sessions"
    );
    workload.assert_matches(&recovered);
}

#[test]
fn snapshot_policy_fires_between_half_and_all_of_snap_count() {
    let mut policy = zk_storage::SnapshotPolicy::new(1000, 42);
    let mut again = zk_storage::SnapshotPolicy::new(1000, 42);
    for _ in 0..20 {
        let mut txns = 0;
        loop {
            txns += 1;
            let due = policy.record(1);
            assert_eq!(due, again.record(1), "same seed, same schedule");
            if due {
                break;
            }
        }
        assert!((501..=1000).contains(&txns), "{txns}");
    }
    let _ = config();
}
