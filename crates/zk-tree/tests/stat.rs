//! Stat bookkeeping of every op, compared with the values ZooKeeper 3.8 reports.

mod common;

use common::*;
use zk_proto::{Acl, CreateMode, ErrorCode, Id, Perms, SessionId, Stat, Zxid};
use zk_tree::{DataTree, TreeEventKind, TxnResult};

#[test]
fn the_initial_tree_matches_a_fresh_zookeeper() {
    let tree = DataTree::new();
    let zero = Stat::default();
    // The root has one child and a persisted cversion of 0, so clients see cversion -1.
    assert_eq!(
        tree.exists("/"),
        Some(Stat {
            cversion: -1,
            num_children: 1,
            ..zero
        })
    );
    assert_eq!(
        tree.exists("/zookeeper"),
        Some(Stat {
            cversion: -2,
            num_children: 2,
            ..zero
        })
    );
    assert_eq!(tree.exists("/zookeeper/quota"), Some(zero));
    assert_eq!(
        tree.exists("/zookeeper/config"),
        Some(Stat {
            aversion: -1,
            ..zero
        })
    );
    assert_eq!(tree.acl("/zookeeper/config"), Some(&Acl::read_unsafe()[..]));
    assert_eq!(tree.acl("/"), Some(&Acl::open_unsafe()[..]));
    let (children, _) = tree.get_children("/zookeeper", &[]).unwrap_or_default();
    assert_eq!(children, vec!["config", "quota"]);
    assert_eq!(tree.node_count(), 5);
    assert_eq!(tree.all_children_number("/"), 3);
    assert_eq!(tree.all_children_number("/zookeeper"), 2);
    assert_eq!(tree.approximate_data_size(), 44);
    assert_eq!(tree.last_processed_zxid(), Zxid(0));
}

#[test]
fn create_sets_the_new_node_and_the_parent() {
    let mut h = Harness::new();
    let zxid = h.zxid();
    let time = h.time_ms;
    let stat = h.mk("/a");
    let expected = Stat {
        czxid: zxid,
        mzxid: zxid,
        ctime: time,
        mtime: time,
        version: 0,
        cversion: 0,
        aversion: 0,
        ephemeral_owner: SessionId(0),
        data_length: 4,
        num_children: 0,
        pzxid: zxid,
    };
    assert_eq!(stat, expected);
    assert_eq!(h.stat("/a"), expected);
    let root = h.stat("/");
    assert_eq!((root.cversion, root.num_children, root.pzxid), (0, 2, zxid));
    assert_eq!(h.tree.stat_persisted("/").map(|s| s.cversion), Some(1));
    assert_eq!(h.tree.last_processed_zxid(), zxid);
}

#[test]
fn child_creates_and_deletes_move_cversion_and_pzxid() {
    let mut h = Harness::new();
    h.mk("/p");
    let z1 = h.zxid();
    h.mk("/p/a");
    let z2 = h.zxid();
    h.mk("/p/b");
    let s = h.stat("/p");
    assert_eq!((s.cversion, s.num_children, s.pzxid), (2, 2, z2));
    assert!(z1 < z2);
    let z3 = h.zxid();
    assert_eq!(h.code(&delete("/p/a", -1)), ErrorCode::Ok);
    let s = h.stat("/p");
    // Persisted cversion stays 2 (creates only); clients see 2*2-1 = 3 changes.
    assert_eq!((s.cversion, s.num_children, s.pzxid), (3, 1, z3));
    assert_eq!(h.tree.stat_persisted("/p").map(|s| s.cversion), Some(2));
    // A failed child create changes nothing.
    assert_eq!(
        h.code(&create("/p/b", CreateMode::Persistent)),
        ErrorCode::NodeExists
    );
    assert_eq!(h.stat("/p"), s);
    // Data changes of a child do not touch the parent.
    assert_eq!(h.code(&set_data("/p/b", b"x", -1)), ErrorCode::Ok);
    assert_eq!(h.stat("/p"), s);
}

#[test]
fn set_data_bumps_version_mzxid_and_mtime_only() {
    let mut h = Harness::new();
    let created = h.mk("/a");
    let zxid = h.zxid();
    let time = h.time_ms;
    let result = h.run(&set_data("/a", b"hello world", 0));
    let expected = Stat {
        mzxid: zxid,
        mtime: time,
        version: 1,
        data_length: 11,
        ..created
    };
    assert_eq!(
        result,
        TxnResult::SetData {
            path: "/a".into(),
            stat: expected
        }
    );
    assert_eq!(h.stat("/a"), expected);
    assert_eq!(h.code(&set_data("/a", b"", 1)), ErrorCode::Ok);
    assert_eq!(h.stat("/a").version, 2);
    assert_eq!(h.stat("/a").data_length, 0);
}

#[test]
fn set_acl_bumps_aversion_only() {
    let mut h = Harness::new();
    let created = h.mk("/a");
    let result = h.run(&set_acl("/a", Acl::read_unsafe(), 0));
    let expected = Stat {
        aversion: 1,
        ..created
    };
    assert_eq!(
        result,
        TxnResult::SetAcl {
            path: "/a".into(),
            stat: expected
        }
    );
    assert_eq!(h.tree.acl("/a"), Some(&Acl::read_unsafe()[..]));
    assert_eq!(h.stat("/a"), expected);
}

#[test]
fn config_node_acl_has_version_minus_one() {
    let mut h = Harness::new();
    let sup = [Id::new("super", "")];
    // aversion is -1, so expecting 0 is a bad version and -1 means any.
    let bad = h.run_as(
        1,
        &sup,
        &set_acl("/zookeeper/config", Acl::open_unsafe(), 0),
    );
    assert_eq!(bad.result, TxnResult::Error(ErrorCode::BadVersion));
    let ok = h.run_as(
        1,
        &sup,
        &set_acl("/zookeeper/config", Acl::open_unsafe(), -1),
    );
    assert_eq!(ok.result.error_code(), ErrorCode::Ok);
    assert_eq!(h.stat("/zookeeper/config").aversion, 0);
}

#[test]
fn check_changes_nothing() {
    let mut h = Harness::new();
    let created = h.mk("/a");
    assert_eq!(
        h.run(&check("/a", 0)),
        TxnResult::Checked { path: "/a".into() }
    );
    assert_eq!(h.stat("/a"), created);
}

#[test]
fn ephemeral_owner_is_shown_for_sessions_only() {
    let mut h = Harness::new();
    let e = h.run_as(7, &[], &create("/e", CreateMode::Ephemeral));
    assert!(
        matches!(e.result, TxnResult::Created { stat, .. } if stat.ephemeral_owner == SessionId(7))
    );
    h.run(&create("/c", CreateMode::Container));
    h.run(&create_ttl("/t", CreateMode::PersistentWithTtl, Some(500)));
    assert_eq!(h.stat("/c").ephemeral_owner, SessionId(0));
    assert_eq!(h.stat("/t").ephemeral_owner, SessionId(0));
    assert_eq!(
        h.tree.stat_persisted("/c").map(|s| s.ephemeral_owner),
        Some(i64::MIN)
    );
    assert_eq!(
        h.tree
            .stat_persisted("/t")
            .map(|s| s.ephemeral_owner as u64),
        Some(0xff00_0000_0000_01f4)
    );
    assert_eq!(h.tree.ephemeral_count(), 1);
}

#[test]
fn events_come_in_zookeeper_trigger_order() {
    let mut h = Harness::new();
    h.mk("/p");
    let created = h.run_as(1, &[], &create("/p/a", CreateMode::Persistent));
    let kinds: Vec<_> = created
        .events
        .iter()
        .map(|e| (e.path.as_str(), e.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("/p/a", TreeEventKind::NodeCreated),
            ("/p", TreeEventKind::NodeChildrenChanged)
        ]
    );
    let set = h.run_as(1, &[], &set_data("/p/a", b"x", -1));
    assert_eq!(set.events.len(), 1);
    assert_eq!(set.events[0].kind, TreeEventKind::NodeDataChanged);
    let acl_set = h.run_as(1, &[], &set_acl("/p/a", Acl::read_unsafe(), -1));
    assert!(acl_set.events.is_empty());
    let deleted = h.run_as(1, &[], &delete("/p/a", -1));
    let kinds: Vec<_> = deleted
        .events
        .iter()
        .map(|e| (e.path.as_str(), e.kind, e.acl.to_vec()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("/p/a", TreeEventKind::NodeDeleted, Acl::read_unsafe()),
            ("/p", TreeEventKind::NodeChildrenChanged, Acl::open_unsafe())
        ]
    );
    let top = h.run_as(1, &[], &create("/top", CreateMode::Persistent));
    assert_eq!(top.events[1].path, "/");
}

#[test]
fn data_size_and_counts_follow_changes() {
    let mut h = Harness::new();
    let base = h.tree.approximate_data_size();
    h.mk("/abc"); // 4 path bytes + 4 data bytes
    assert_eq!(h.tree.approximate_data_size(), base + 8);
    h.run(&set_data("/abc", b"0123456789", -1));
    assert_eq!(h.tree.approximate_data_size(), base + 14);
    h.mk("/abc/d");
    assert_eq!(h.tree.all_children_number("/abc"), 1);
    assert_eq!(h.tree.node_count(), 7);
    h.run(&delete("/abc/d", -1));
    h.run(&delete("/abc", -1));
    assert_eq!(h.tree.approximate_data_size(), base);
    assert_eq!(h.tree.node_count(), 5);
    // Paths count in UTF-16 units, as Java's String.length.
    h.mk("/\u{e9}t\u{e9}");
    assert_eq!(h.tree.approximate_data_size(), base + 4 + 4);
}

#[test]
fn acl_lists_are_shared_between_nodes() {
    let mut h = Harness::new();
    for i in 0..50 {
        h.mk(&format!("/n{i}"));
    }
    // Open ACL and the config node's read ACL.
    assert_eq!(h.tree.acl_list_count(), 2);
    h.run(&set_acl(
        "/n1",
        vec![acl(Perms::READ, "ip", "10.0.0.1")],
        -1,
    ));
    assert_eq!(h.tree.acl_list_count(), 3);
    h.run(&delete("/n1", -1));
    assert_eq!(h.tree.acl_list_count(), 2);
}
