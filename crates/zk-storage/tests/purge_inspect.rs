//! Autopurge keeps what recovery needs; the inspector reports files, ranges, counts and damage;
//! and the whole path works on the real disk, including the `zk-storage-inspect` binary.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use common::{files, open, real_disk_config, run_inspect_binary, version_dir, Workload};
use zk_proto::Zxid;
use zk_storage::fault::FaultyFileSystem;
use zk_storage::{inspect, inspect_with, DataStore, FileSystem};

/// Five rounds of (10 txns, snapshot): snapshots at 0, 10, .., 50 and a segment per round.
fn five_snapshots(fs: &FaultyFileSystem, workload: &mut Workload) -> DataStore {
    let (mut store, _) = open(fs).expect("open");
    for _ in 0..5 {
        store.append(&workload.batch(10)).wait().expect("append");
        assert!(store.snapshot(workload.tree.to_snapshot(), workload.sessions()));
        store.wait_for_snapshot().expect("ran").expect("written");
    }
    store.append(&workload.batch(5)).wait().expect("append");
    store
}

fn names(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
        .collect()
}

#[test]
fn purge_keeps_the_newest_snapshots_and_the_segments_they_need() {
    let fs = FaultyFileSystem::new(31);
    let mut workload = Workload::new(31);
    let store = five_snapshots(&fs, &mut workload);
    assert_eq!(names(&files(&fs, "snapshot")).len(), 6);
    assert_eq!(
        names(&files(&fs, "log")),
        ["log.1", "log.b", "log.15", "log.1f", "log.29", "log.33"]
    );
    let report = store.purge().expect("purge");
    assert_eq!(report.oldest_kept, Some(Zxid(30)));
    assert_eq!(
        names(&files(&fs, "snapshot")),
        ["snapshot.1e", "snapshot.28", "snapshot.32"]
    );
    // log.1f holds 31..40, needed after snapshot.1e; log.15 holds only txns up to 30.
    assert_eq!(names(&files(&fs, "log")), ["log.1f", "log.29", "log.33"]);
    store.close().expect("close");
    let (_, recovered) = open(&fs).expect("recover after the purge");
    assert_eq!(recovered.last_zxid, Zxid(55));
    workload.assert_matches(&recovered);
    // Even the oldest kept snapshot still recovers: damage the two newer ones.
    for path in &files(&fs, "snapshot")[1..] {
        assert!(fs.truncate(path, 10));
    }
    let (_, recovered) = open(&fs).expect("fall back to the oldest kept snapshot");
    assert_eq!(recovered.snapshot_zxid, Zxid(30));
    workload.assert_matches(&recovered);
}

#[test]
fn damaged_snapshots_do_not_count_as_retained() {
    let fs = FaultyFileSystem::new(32);
    let mut workload = Workload::new(32);
    let store = five_snapshots(&fs, &mut workload);
    let newest = files(&fs, "snapshot").pop().expect("a snapshot");
    assert!(fs.flip_bit(&newest, 20, 1));
    let report = store.purge().expect("purge");
    assert_eq!(report.oldest_kept, Some(Zxid(20)));
    assert_eq!(names(&files(&fs, "snapshot")).len(), 4);
    store.close().expect("close");
    let (_, recovered) = open(&fs).expect("recover");
    assert_eq!(recovered.snapshot_zxid, Zxid(40));
    workload.assert_matches(&recovered);
}

#[test]
fn autopurge_runs_on_its_interval() {
    let fs = FaultyFileSystem::new(33);
    let mut workload = Workload::new(33);
    five_snapshots(&fs, &mut workload).close().expect("close");
    let mut config = common::config();
    config.purge_interval = Some(Duration::from_millis(5));
    let (store, _) =
        DataStore::open_with(Arc::new(fs.clone()) as Arc<dyn FileSystem>, config).expect("open");
    // Bounded wait for the timer thread (no timing assertion: only that it eventually runs).
    for _ in 0..6000 {
        if files(&fs, "snapshot").len() == 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(files(&fs, "snapshot").len(), 3);
    store.close().expect("close");
}

#[test]
fn inspect_reports_files_ranges_counts_and_damage() {
    let fs = FaultyFileSystem::new(34);
    let mut workload = Workload::new(34);
    five_snapshots(&fs, &mut workload).close().expect("close");
    let report = inspect_with(&fs, &version_dir(), &version_dir()).expect("inspect");
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.snapshots.len(), 6);
    assert_eq!(report.logs.len(), 6);
    assert_eq!(report.log_records(), 55);
    assert_eq!(report.logs[1].zxid_range, Some((Zxid(11), Zxid(20))));
    let newest = report.snapshots.last().expect("a snapshot");
    assert_eq!(newest.nodes, Some(workload.states[&Zxid(50)].nodes.len()));
    assert_eq!(
        newest.sessions,
        Some(workload.states[&Zxid(50)].sessions.len())
    );
    let text = report.to_string();
    assert!(text.contains("snapshot.32"), "{text}");
    assert!(
        text.contains("zxids 0xb..=0x14") || text.contains("log.b"),
        "{text}"
    );
    assert!(text.ends_with("clean"), "{text}");

    let segment = &report.logs[2].path;
    assert!(fs.flip_bit(segment, 40, 2));
    let report = inspect_with(&fs, &version_dir(), &version_dir()).expect("inspect");
    assert!(!report.is_clean());
    assert!(
        report.logs[2]
            .damage
            .as_deref()
            .unwrap_or("")
            .contains("CRC"),
        "{report}"
    );
    assert!(report.to_string().contains("DAMAGED"));
}

#[test]
fn real_disk_round_trip_and_inspect_binary() {
    let (data_dir, log_dir, config) = real_disk_config("round-trip");
    let mut workload = Workload::new(35);
    let (mut store, recovered) = DataStore::open(config.clone()).expect("open");
    assert_eq!(recovered.last_zxid, Zxid::ZERO);
    for _ in 0..10 {
        store.append(&workload.batch(10)).wait().expect("append");
    }
    assert!(store.snapshot(workload.tree.to_snapshot(), workload.sessions()));
    store.wait_for_snapshot().expect("ran").expect("written");
    store.append(&workload.batch(10)).wait().expect("append");
    store.close().expect("close");
    assert!(log_dir.join("version-2").join("log.1").exists());
    assert!(data_dir.join("version-2").join("snapshot.64").exists());

    let (_, recovered) = DataStore::open(config).expect("reopen");
    assert_eq!(recovered.last_zxid, Zxid(110));
    workload.assert_matches(&recovered);

    let report = inspect(&data_dir, &log_dir).expect("inspect");
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.log_records(), 110);
    let (status, stdout) = run_inspect_binary(&data_dir, &log_dir);
    assert!(status.success(), "{stdout}");
    assert!(stdout.contains("snapshot.64"), "{stdout}");
    assert!(stdout.contains("110 txn(s): clean"), "{stdout}");

    // A flipped byte inside the first record: the tool says where and exits with 1.
    let segment = log_dir.join("version-2").join("log.1");
    let mut bytes = std::fs::read(&segment).expect("read the segment");
    bytes[30] ^= 0x10;
    std::fs::write(&segment, &bytes).expect("damage the segment");
    let (status, stdout) = run_inspect_binary(&data_dir, &log_dir);
    assert_eq!(status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("DAMAGED at offset 16: CRC check failed"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}
