//! Sequential names, multi, ephemerals, containers and TTL nodes, ACL reads, pipelined prep,
//! apply totality and snapshots.

mod common;

use common::*;
use zk_proto::{Acl, CreateMode, ErrorCode, Id, Perms, SessionId, Zxid};
use zk_tree::{
    authenticate, digest_id, DataTree, Op, SnapshotError, TreeConfig, TreeEventKind, TreeSnapshot,
    Txn, TxnHeader, TxnResult,
};

fn created_path(result: &TxnResult) -> String {
    match result {
        TxnResult::Created { path, .. } => path.clone(),
        other => panic!("expected a create, got {other:?}"),
    }
}

#[test]
fn sequential_names_come_from_the_parents_create_counter() {
    let mut h = Harness::new();
    h.mk("/q");
    let mut names = Vec::new();
    for _ in 0..3 {
        names.push(created_path(
            &h.run(&create("/q/n-", CreateMode::PersistentSequential)),
        ));
    }
    assert_eq!(
        names,
        ["/q/n-0000000000", "/q/n-0000000001", "/q/n-0000000002"]
    );
    // Deletes do not lower the counter; other creates raise it.
    h.run(&delete("/q/n-0000000001", -1));
    h.mk("/q/plain");
    assert_eq!(
        created_path(&h.run(&create("/q/n-", CreateMode::EphemeralSequential))),
        "/q/n-0000000004"
    );
    // A failed create does not consume a number.
    assert_eq!(
        h.code(&create("/q/plain", CreateMode::Persistent)),
        ErrorCode::NodeExists
    );
    assert_eq!(
        created_path(&h.run(&create("/q/", CreateMode::PersistentSequential))),
        "/q/0000000005"
    );
    // The root's counter starts at 0 (/zookeeper is built in, not created), /q made it 1.
    assert_eq!(
        created_path(&h.run(&create("/r", CreateMode::PersistentSequential))),
        "/r0000000001"
    );
}

#[test]
fn the_sequence_counter_sticks_at_i32_max_as_in_zookeeper() {
    let mut h = Harness::new();
    h.mk("/w");
    // Drive the persisted cversion to i32::MAX through a replayed create with that value.
    let hdr = TxnHeader {
        session_id: SessionId(1),
        cxid: 0,
        zxid: h.zxid(),
        time_ms: 0,
    };
    h.next_zxid += 1;
    let txn = Txn::Create {
        path: "/w/x".into(),
        data: Some(vec![]),
        acl: Acl::open_unsafe(),
        ephemeral_owner: 0,
        parent_cversion: i32::MAX,
    };
    assert!(matches!(
        h.tree.apply(&hdr, &txn).result,
        TxnResult::Created { .. }
    ));
    assert_eq!(
        created_path(&h.run(&create("/w/s", CreateMode::PersistentSequential))),
        "/w/s2147483647"
    );
    // The next cversion wraps to i32::MIN, which createNode ignores because it is not larger,
    // so the counter stays and the next sequential create collides.
    assert_eq!(
        h.tree.stat_persisted("/w").map(|s| s.cversion),
        Some(i32::MAX)
    );
    assert_eq!(
        h.code(&create("/w/s", CreateMode::PersistentSequential)),
        ErrorCode::NodeExists
    );
}

#[test]
fn multi_applies_all_ops_with_later_ops_seeing_earlier_ones() {
    let mut h = Harness::new();
    let zxid = h.zxid();
    let multi = Op::Multi(vec![
        create("/m", CreateMode::Persistent),
        create("/m/", CreateMode::PersistentSequential),
        create("/m/", CreateMode::PersistentSequential),
        set_data("/m", b"x", 0),
        check("/m", 1),
        delete("/m/0000000000", 0),
    ]);
    let outcome = h.run_as(1, &[], &multi);
    let TxnResult::Multi(results) = &outcome.result else {
        panic!("expected multi results, got {:?}", outcome.result);
    };
    let paths: Vec<_> = results
        .iter()
        .map(|r| match r {
            TxnResult::Created { path, .. } => format!("created {path}"),
            TxnResult::SetData { stat, .. } => format!("set v{}", stat.version),
            TxnResult::Checked { path } => format!("checked {path}"),
            TxnResult::Deleted { path } => format!("deleted {path}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        paths,
        [
            "created /m",
            "created /m/0000000000",
            "created /m/0000000001",
            "set v1",
            "checked /m",
            "deleted /m/0000000000"
        ]
    );
    // One zxid for the whole multi.
    let s = h.stat("/m");
    assert_eq!((s.czxid, s.mzxid, s.pzxid), (zxid, zxid, zxid));
    assert_eq!((s.num_children, s.cversion), (1, 3));
    assert_eq!(h.tree.last_processed_zxid(), zxid);
    assert_eq!(outcome.result.error_code(), ErrorCode::Ok);
    assert_eq!(outcome.events.len(), 2 * 3 + 1 + 2);
}

#[test]
fn a_failed_multi_changes_nothing_and_reports_zookeepers_results() {
    let mut h = Harness::new();
    h.mk("/x");
    let before = h.tree.to_snapshot();
    let multi = Op::Multi(vec![
        create("/y", CreateMode::Persistent),
        set_data("/y", b"d", 0),
        create("/x", CreateMode::Persistent),
        delete("/x", -1),
        check("/nothing", 5),
    ]);
    let txn = h.prepare(1, &[], &multi);
    assert!(txn.is_error());
    let Txn::Multi(txns) = &txn else {
        panic!("expected a multi txn, got {txn:?}");
    };
    assert!(matches!(txns[0], Txn::Create { .. }));
    assert!(matches!(txns[1], Txn::SetData { .. }));
    assert_eq!(txns[2], Txn::Error(ErrorCode::NodeExists));
    assert_eq!(txns[3], Txn::Error(ErrorCode::RuntimeInconsistency));
    assert_eq!(txns[4], Txn::Error(ErrorCode::RuntimeInconsistency));
    let outcome = h.run_as(1, &[], &multi);
    assert_eq!(
        outcome.result,
        TxnResult::Multi(vec![
            TxnResult::Error(ErrorCode::Ok),
            TxnResult::Error(ErrorCode::Ok),
            TxnResult::Error(ErrorCode::NodeExists),
            TxnResult::Error(ErrorCode::RuntimeInconsistency),
            TxnResult::Error(ErrorCode::RuntimeInconsistency),
        ])
    );
    assert_eq!(outcome.result.error_code(), ErrorCode::NodeExists);
    assert!(outcome.events.is_empty());
    let mut after = h.tree.to_snapshot();
    assert_eq!(
        after.last_processed_zxid.0,
        before.last_processed_zxid.0 + 1
    );
    after.last_processed_zxid = before.last_processed_zxid;
    assert_eq!(after, before);
}

#[test]
fn a_failed_multi_rolls_back_its_pending_changes() {
    let mut h = Harness::new();
    let outcomes = h.run_pipelined(
        1,
        &[],
        &[
            Op::Multi(vec![
                create("/a", CreateMode::Persistent),
                create("/a", CreateMode::Persistent),
            ]),
            // Would be NODEEXISTS if the failed multi's create of /a were still pending.
            create("/a", CreateMode::Persistent),
            Op::Multi(vec![]),
        ],
    );
    assert_eq!(outcomes[0].result.error_code(), ErrorCode::NodeExists);
    assert_eq!(outcomes[1].result.error_code(), ErrorCode::Ok);
    assert_eq!(outcomes[2].result, TxnResult::Multi(vec![]));
}

/// `prepare` keeps no change records for a lone op (nothing reads them); it must give the txn
/// that preparing against a fresh overlay that keeps them gives, a multi included (whose later
/// ops read its earlier ones' changes), and a closeSession whose ephemerals share a parent.
#[test]
fn prepare_gives_the_txns_of_a_fresh_overlay() {
    let mut h = Harness::new();
    let ops = [
        create("/p", CreateMode::Persistent),
        create("/p/", CreateMode::PersistentSequential),
        create("/p/e", CreateMode::Ephemeral),
        create("/p/f", CreateMode::Ephemeral),
        create("/p/e", CreateMode::Persistent),
        set_data("/p", b"1", 0),
        set_data("/p", b"2", 0),
        Op::Multi(vec![
            create("/m", CreateMode::Persistent),
            create("/m/", CreateMode::PersistentSequential),
            create("/m/", CreateMode::PersistentSequential),
            set_data("/m", b"x", 0),
            delete("/m/0000000000", 0),
        ]),
        Op::Multi(vec![
            create("/n", CreateMode::Persistent),
            create("/n/a", CreateMode::Persistent),
            delete("/n", -1),
        ]),
        delete("/p/0000000000", -1),
        delete("/p", -1),
        Op::CloseSession,
        delete("/p", -1),
    ];
    for op in &ops {
        let ctx = zk_tree::RequestContext {
            session_id: SessionId(5),
            auth: &[],
            time_ms: h.time_ms,
            zxid: h.zxid(),
        };
        let fresh = h
            .tree
            .prepare_pending(&mut zk_tree::PendingChanges::new(), &ctx, op);
        assert_eq!(h.tree.prepare(&ctx, op), fresh, "{op:?}");
        h.run_as(5, &[], op);
    }
    assert!(h.tree.exists("/m").is_some() && h.tree.exists("/n").is_none());
    assert!(
        h.tree.exists("/p").is_none(),
        "the last delete follows the closed session"
    );
}

#[test]
fn pipelined_prep_sees_txns_not_yet_applied() {
    let mut h = Harness::new();
    let outcomes = h.run_pipelined(
        5,
        &[],
        &[
            create("/p", CreateMode::Persistent),
            create("/p/", CreateMode::PersistentSequential),
            create("/p/", CreateMode::EphemeralSequential),
            create("/p", CreateMode::Persistent),
            set_data("/p", b"1", 0),
            set_data("/p", b"2", 1),
            delete("/p/0000000000", 0),
            delete("/p", -1),
            Op::CloseSession,
            delete("/p", -1),
        ],
    );
    let codes: Vec<_> = outcomes.iter().map(|o| o.result.error_code()).collect();
    assert_eq!(
        codes,
        [
            ErrorCode::Ok,
            ErrorCode::Ok,
            ErrorCode::Ok,
            ErrorCode::NodeExists,
            ErrorCode::Ok,
            ErrorCode::Ok,
            ErrorCode::Ok,
            ErrorCode::NotEmpty,
            ErrorCode::Ok,
            // As in ZooKeeper, a pending closeSession leaves the parent's child count alone
            // until it is applied, so this delete still sees the ephemeral child.
            ErrorCode::NotEmpty,
        ]
    );
    assert_eq!(
        outcomes[8].result,
        TxnResult::SessionClosed {
            deleted_ephemerals: vec!["/p/0000000001".into()]
        }
    );
    assert_eq!(h.code(&delete("/p", -1)), ErrorCode::Ok);
}

#[test]
fn close_session_deletes_its_ephemerals_in_sorted_order() {
    let mut h = Harness::new();
    h.mk("/p");
    h.run_as(3, &[], &Op::CreateSession { timeout_ms: 4000 });
    for path in ["/p/z", "/b", "/p/a"] {
        assert!(h
            .run_as(3, &[], &create(path, CreateMode::Ephemeral))
            .result
            .error_code()
            .is_ok());
    }
    h.run_as(4, &[], &create("/other", CreateMode::Ephemeral));
    assert_eq!(h.tree.ephemerals(SessionId(3), "/p"), ["/p/a", "/p/z"]);
    assert_eq!(
        h.tree.ephemerals(SessionId(3), " / "),
        ["/b", "/p/a", "/p/z"]
    );
    assert_eq!(h.tree.ephemerals(SessionId(3), ""), ["/b", "/p/a", "/p/z"]);
    assert_eq!(h.tree.sessions().get(&SessionId(3)), Some(&4000));
    let txn = h.prepare(3, &[], &Op::CloseSession);
    assert_eq!(
        txn,
        Txn::CloseSession {
            paths_to_delete: vec!["/b".into(), "/p/a".into(), "/p/z".into()]
        }
    );
    let zxid = h.zxid();
    let outcome = h.run_as(3, &[], &Op::CloseSession);
    assert_eq!(
        outcome.result,
        TxnResult::SessionClosed {
            deleted_ephemerals: vec!["/b".into(), "/p/a".into(), "/p/z".into()]
        }
    );
    let deleted: Vec<_> = outcome
        .events
        .iter()
        .filter(|e| e.kind == TreeEventKind::NodeDeleted)
        .map(|e| e.path.as_str())
        .collect();
    assert_eq!(deleted, ["/b", "/p/a", "/p/z"]);
    assert_eq!(outcome.events.len(), 6);
    assert_eq!(h.stat("/p").pzxid, zxid);
    assert!(h.tree.ephemerals(SessionId(3), "").is_empty());
    assert_eq!(h.tree.ephemerals(SessionId(4), ""), ["/other"]);
    assert_eq!(h.tree.sessions().get(&SessionId(3)), None);
    assert_eq!(h.tree.ephemeral_count(), 1);
}

#[test]
fn close_session_also_deletes_ephemerals_missing_from_the_txn() {
    let mut h = Harness::new();
    h.run_as(3, &[], &create("/e1", CreateMode::Ephemeral));
    h.run_as(3, &[], &create("/e2", CreateMode::Ephemeral));
    let hdr = TxnHeader {
        session_id: SessionId(3),
        cxid: 0,
        zxid: h.zxid(),
        time_ms: 0,
    };
    let txn = Txn::CloseSession {
        paths_to_delete: vec!["/e2".into(), "/gone".into()],
    };
    let outcome = h.tree.apply(&hdr, &txn);
    assert_eq!(
        outcome.result,
        TxnResult::SessionClosed {
            deleted_ephemerals: vec!["/e2".into(), "/e1".into()]
        }
    );
}

#[test]
fn containers_become_candidates_once_emptied() {
    let mut h = Harness::new();
    h.run(&create("/c", CreateMode::Container));
    h.run(&create("/fresh", CreateMode::Container));
    assert!(h.tree.containers_to_delete(i64::MAX, 0).is_empty());
    h.mk("/c/child");
    assert!(h.tree.containers_to_delete(i64::MAX, 0).is_empty());
    h.run(&delete("/c/child", -1));
    assert_eq!(h.tree.containers_to_delete(0, 0), ["/c"]);
    // Never-used containers only with maxNeverUsedIntervalMs, by mtime.
    let mtime = h.stat("/fresh").mtime;
    assert_eq!(h.tree.containers_to_delete(mtime + 100, 100), ["/c"]);
    assert_eq!(
        h.tree.containers_to_delete(mtime + 101, 100),
        ["/c", "/fresh"]
    );
    let outcome = h.run_as(0, &[], &Op::DeleteContainer { path: "/c".into() });
    assert_eq!(outcome.result, TxnResult::Deleted { path: "/c".into() });
    assert_eq!(outcome.events[0].kind, TreeEventKind::NodeDeleted);
    assert!(h.tree.containers_to_delete(0, 0).is_empty());
    assert!(!h.tree.containers().contains("/c"));
}

#[test]
fn ttl_nodes_expire_after_their_ttl_without_changes_or_children() {
    let mut h = Harness::new();
    h.run(&create_ttl("/t", CreateMode::PersistentWithTtl, Some(100)));
    let name = created_path(&h.run(&create_ttl(
        "/s",
        CreateMode::PersistentSequentialWithTtl,
        Some(50_000),
    )));
    assert_eq!(name, "/s0000000001");
    let mtime = h.stat("/t").mtime;
    assert!(h.tree.expired_ttl_nodes(mtime + 100).is_empty());
    assert_eq!(h.tree.expired_ttl_nodes(mtime + 101), ["/t"]);
    h.mk("/t/kid");
    assert!(h
        .tree
        .expired_ttl_nodes(mtime + 1000)
        .iter()
        .all(|p| p != "/t"));
    h.run(&delete("/t/kid", -1));
    let set_time = h.time_ms;
    h.run(&set_data("/t", b"touch", -1));
    assert!(h
        .tree
        .expired_ttl_nodes(set_time + 100)
        .iter()
        .all(|p| p != "/t"));
    assert!(h
        .tree
        .expired_ttl_nodes(set_time + 101)
        .iter()
        .any(|p| p == "/t"));
    assert_eq!(
        h.code(&Op::DeleteContainer { path: "/t".into() }),
        ErrorCode::Ok
    );
    assert_eq!(h.tree.ttl_nodes().len(), 1);
}

#[test]
fn ttl_owners_are_session_owners_when_extended_types_are_off() {
    let mut h = Harness::with_tree(DataTree::with_config(TreeConfig {
        extended_types_enabled: false,
        ..TreeConfig::default()
    }));
    h.run(&create("/c", CreateMode::Container));
    assert_eq!(h.stat("/c").ephemeral_owner, SessionId(0));
    assert!(h.tree.expired_ttl_nodes(i64::MAX).is_empty());
}

#[test]
fn reads_check_acls_for_each_scheme() {
    let mut h = Harness::new();
    let bob = digest_id("bob:secret");
    let cases: Vec<(&str, Vec<Acl>)> = vec![
        ("/world", Acl::read_unsafe()),
        (
            "/digest",
            vec![Acl {
                perms: Perms::READ,
                id: bob.clone(),
            }],
        ),
        ("/ip", vec![acl(Perms::READ, "ip", "10.0.0.0/8")]),
        ("/none", vec![acl(Perms::WRITE, "world", "anyone")]),
    ];
    for (path, list) in &cases {
        assert!(
            h.run(&create_acl(path, list.clone())).error_code().is_ok(),
            "{path}"
        );
    }
    let anonymous = vec![Id::new("ip", "192.168.1.1")];
    let local = vec![Id::new("ip", "10.1.1.1")];
    let as_bob = vec![Id::new("ip", "192.168.1.1"), bob.clone()];
    let sup = authenticate(
        "digest",
        b"admin:pw",
        "1.1.1.1",
        Some(zk_tree::generate_digest("admin:pw").as_str()),
    )
    .unwrap_or_default();
    let table: Vec<(&str, &Vec<Id>, bool)> = vec![
        ("/world", &anonymous, true),
        ("/digest", &anonymous, false),
        ("/digest", &as_bob, true),
        ("/digest", &local, false),
        ("/ip", &local, true),
        ("/ip", &anonymous, false),
        ("/none", &as_bob, false),
        ("/none", &sup, true),
        ("/digest", &sup, true),
    ];
    for (path, auth, allowed) in table {
        let expected = if allowed {
            Ok(())
        } else {
            Err(ErrorCode::NoAuth)
        };
        assert_eq!(
            h.tree.get_data(path, auth).map(|_| ()),
            expected,
            "getData {path} {auth:?}"
        );
        assert_eq!(
            h.tree.get_children(path, auth).map(|_| ()),
            expected,
            "getChildren {path}"
        );
        assert_eq!(
            h.tree.get_all_children_number(path, auth).map(|_| ()),
            expected,
            "{path}"
        );
        assert_eq!(
            h.tree.exists_checked(path, auth).map(|_| ()),
            expected,
            "exists {path}"
        );
    }
    assert_eq!(
        h.tree.get_data("/missing", &[]).map(|_| ()),
        Err(ErrorCode::NoNode)
    );
    assert_eq!(h.tree.exists_checked("/missing", &[]), Ok(None));
    assert_eq!(
        h.tree.check_acl("/missing", Perms::READ, &[]),
        Err(ErrorCode::NoNode)
    );
}

#[test]
fn get_acl_masks_digests_without_admin() {
    let mut h = Harness::new();
    let bob = digest_id("bob:secret");
    let list = vec![
        Acl {
            perms: Perms::READ,
            id: Id::anyone(),
        },
        Acl {
            perms: Perms::ADMIN,
            id: bob.clone(),
        },
    ];
    h.run(&create_acl("/n", list.clone()));
    let (seen, _) = h.tree.get_acl("/n", &[]).unwrap_or_default();
    assert_eq!(seen[1].id, Id::new("digest", "bob:x"));
    let (seen, _) = h.tree.get_acl("/n", &[bob]).unwrap_or_default();
    assert_eq!(seen, list);
    h.run(&create_acl(
        "/w",
        vec![acl(Perms::WRITE, "world", "anyone")],
    ));
    assert_eq!(
        h.tree.get_acl("/w", &[]).map(|_| ()),
        Err(ErrorCode::NoAuth)
    );
}

#[test]
fn auth_acl_expands_to_the_connections_digest_ids() {
    let mut h = Harness::new();
    let bob = digest_id("bob:secret");
    let auth = vec![Id::new("ip", "127.0.0.1"), bob.clone()];
    let outcome = h.run_as(
        1,
        &auth,
        &create_acl("/mine", vec![acl(Perms::ALL, "auth", "whatever")]),
    );
    assert!(outcome.result.error_code().is_ok());
    assert_eq!(
        h.tree.acl("/mine"),
        Some(
            &[Acl {
                perms: Perms::ALL,
                id: bob.clone()
            }][..]
        )
    );
    assert_eq!(
        h.tree.get_data("/mine", &auth[..1]).map(|_| ()),
        Err(ErrorCode::NoAuth)
    );
    assert!(h.tree.get_data("/mine", &auth).is_ok());
}

#[test]
fn apply_is_total_on_txns_that_do_not_fit() {
    let mut h = Harness::new();
    h.mk("/p");
    h.mk("/p/c");
    let hdr = TxnHeader {
        session_id: SessionId(1),
        cxid: 0,
        zxid: Zxid(100),
        time_ms: 0,
    };
    let cases: Vec<(Txn, ErrorCode)> = vec![
        (
            Txn::Delete {
                path: "/nope".into(),
            },
            ErrorCode::NoNode,
        ),
        (
            Txn::Delete {
                path: "/x/y".into(),
            },
            ErrorCode::NoNode,
        ),
        (Txn::Delete { path: "/p".into() }, ErrorCode::NotEmpty),
        (
            Txn::Delete {
                path: "nope".into(),
            },
            ErrorCode::NoNode,
        ),
        (Txn::Delete { path: "/".into() }, ErrorCode::BadArguments),
        (
            Txn::SetData {
                path: "/nope".into(),
                data: Some(vec![]),
                version: 3,
            },
            ErrorCode::NoNode,
        ),
        (
            Txn::SetAcl {
                path: "/nope".into(),
                acl: vec![],
                version: 3,
            },
            ErrorCode::NoNode,
        ),
        (
            Txn::Create {
                path: "/x/y".into(),
                data: Some(vec![]),
                acl: vec![],
                ephemeral_owner: 0,
                parent_cversion: 1,
            },
            ErrorCode::NoNode,
        ),
        (
            Txn::Create {
                path: "bad".into(),
                data: Some(vec![]),
                acl: vec![],
                ephemeral_owner: 0,
                parent_cversion: 1,
            },
            ErrorCode::NoNode,
        ),
        (
            Txn::Multi(vec![Txn::CreateSession { timeout_ms: 1 }]),
            ErrorCode::MarshallingError,
        ),
        (Txn::Error(ErrorCode::BadVersion), ErrorCode::BadVersion),
    ];
    for (txn, expected) in cases {
        assert_eq!(
            h.tree.apply(&hdr, &txn).result.error_code(),
            expected,
            "{txn:?}"
        );
    }
    assert!(h.tree.exists("/p/c").is_some());
}

#[test]
fn a_replayed_create_that_finds_its_node_still_advances_the_parent() {
    let mut h = Harness::new();
    h.mk("/p");
    h.mk("/p/c");
    let hdr = TxnHeader {
        session_id: SessionId(1),
        cxid: 0,
        zxid: Zxid(50),
        time_ms: 0,
    };
    let txn = Txn::Create {
        path: "/p/c".into(),
        data: Some(vec![]),
        acl: Acl::read_unsafe(),
        ephemeral_owner: 0,
        parent_cversion: 9,
    };
    assert_eq!(
        h.tree.apply(&hdr, &txn).result,
        TxnResult::Error(ErrorCode::NodeExists)
    );
    let parent = h.tree.stat_persisted("/p").unwrap_or_default();
    assert_eq!((parent.cversion, parent.pzxid), (9, Zxid(50)));
    assert_eq!(h.tree.acl("/p/c"), Some(&Acl::read_unsafe()[..]));
}

#[test]
fn snapshots_round_trip_the_whole_tree() {
    let mut h = Harness::new();
    h.run_as(9, &[], &Op::CreateSession { timeout_ms: 3000 });
    h.mk("/a");
    h.run_as(9, &[], &create("/a/e", CreateMode::Ephemeral));
    h.run(&create("/c", CreateMode::Container));
    h.run(&create_ttl("/t", CreateMode::PersistentWithTtl, Some(5)));
    h.run(&set_acl("/a", vec![acl(Perms::READ, "ip", "1.2.3.4")], -1));
    let snapshot = h.tree.to_snapshot();
    let restored = DataTree::from_snapshot(&snapshot, TreeConfig::default());
    let Ok(restored) = restored else {
        panic!("snapshot failed to load: {restored:?}");
    };
    assert_eq!(restored.to_snapshot(), snapshot);
    for path in ["/", "/a", "/a/e", "/c", "/t", "/zookeeper/config"] {
        assert_eq!(restored.exists(path), h.tree.exists(path), "{path}");
    }
    assert_eq!(restored.ephemerals(SessionId(9), ""), ["/a/e"]);
    assert_eq!(restored.containers().len(), 1);
    assert_eq!(restored.ttl_nodes().len(), 1);
    assert_eq!(
        restored.approximate_data_size(),
        h.tree.approximate_data_size()
    );
    assert_eq!(restored.sessions(), h.tree.sessions());
    assert_eq!(restored.last_processed_zxid(), h.tree.last_processed_zxid());
    let mut broken = snapshot.clone();
    broken.nodes.retain(|n| &*n.path != "/a");
    assert!(DataTree::from_snapshot(&broken, TreeConfig::default()).is_err());
}

#[test]
fn a_capture_keeps_the_state_it_was_taken_at_while_the_tree_changes() {
    let mut h = Harness::new();
    h.mk("/a");
    h.run(&set_data("/a", b"before", -1));
    h.mk("/gone");
    // Enough nodes that the changes below reach most of the node map's shards.
    h.mk("/m");
    for i in 0..600 {
        h.mk(&format!("/m/n{i}"));
    }
    let expected = h.tree.to_snapshot();
    let capture = h.tree.capture();
    assert_eq!(capture.last_processed_zxid(), expected.last_processed_zxid);
    // Every kind of change after the capture: data, ACL, a new node, a deleted node.
    h.run(&set_data("/a", b"after", -1));
    h.run(&set_acl("/a", vec![acl(Perms::READ, "ip", "1.2.3.4")], -1));
    h.mk("/new");
    h.run(&delete("/gone", -1));
    for i in 0..600 {
        let path = format!("/m/n{i}");
        let result = match i % 3 {
            0 => h.run(&set_data(&path, b"after", -1)),
            1 => h.run(&delete(&path, -1)),
            _ => h.run(&set_acl(&path, vec![acl(Perms::READ, "ip", "1.2.3.4")], -1)),
        };
        assert!(result.error_code().is_ok(), "{path}: {result:?}");
    }
    assert_ne!(h.tree.to_snapshot(), expected);
    assert_eq!(capture.into_snapshot(), expected);
}

#[test]
fn the_hash_seed_changes_no_answer_and_no_snapshot() {
    let run = |hash_seed| {
        let mut h = Harness::with_tree(DataTree::with_config(TreeConfig {
            hash_seed,
            ..TreeConfig::default()
        }));
        h.mk("/p");
        for i in 0..200 {
            h.mk(&format!("/p/c{}", (i * 7919) % 1000));
        }
        h.run(&delete("/p/c0", -1));
        let children = h.tree.get_children("/p", &[]);
        (children, h.tree.to_snapshot())
    };
    let (children, snapshot) = run(0);
    let Ok((names, _)) = &children else {
        panic!("getChildren failed: {children:?}");
    };
    assert_eq!(names.len(), 199);
    assert!(names.windows(2).all(|pair| pair[0] < pair[1]), "sorted");
    for seed in [1, 0x9e37_79b9_7f4a_7c15, u64::MAX] {
        assert_eq!(
            run(seed),
            (children.clone(), snapshot.clone()),
            "seed {seed}"
        );
    }
}

#[test]
fn equal_trees_give_equal_snapshots_whatever_their_history() {
    let digest = acl(Perms::ALL, "digest", "u:x");
    let ip = acl(Perms::READ, "ip", "1.2.3.4");
    // The same nodes and ACLs, created in opposite orders (so the ACL cache numbers the lists
    // differently and the node map holds them in another order).
    let mut one = Harness::new();
    one.run(&create_acl("/p", vec![digest.clone()]));
    one.run(&create_acl("/q", vec![ip.clone()]));
    let mut two = Harness::new();
    two.run(&create_acl("/q", vec![ip]));
    two.run(&create_acl("/p", vec![digest]));
    let one = one.tree.capture().into_snapshot();
    let two = two.tree.capture().into_snapshot();
    let paths = |s: &TreeSnapshot| s.nodes.iter().map(|n| n.path.clone()).collect::<Vec<_>>();
    assert_eq!(paths(&one), paths(&two));
    assert_eq!(one.acls, two.acls);
    let acl_of =
        |s: &TreeSnapshot, path: &str| s.nodes.iter().find(|n| &*n.path == path).map(|n| n.acl);
    assert_eq!(acl_of(&one, "/p"), acl_of(&two, "/p"));
    assert_eq!(acl_of(&one, "/q"), acl_of(&two, "/q"));
}

#[test]
fn snapshots_load_children_that_are_not_contiguous_and_share_acls() {
    let mut h = Harness::new();
    // In path order "/a-b" sorts between "/a" and "/a/x": the root's children are interleaved
    // with the descendants of "/a".
    for path in ["/a", "/a-b", "/a/x", "/a/y", "/a/x/z", "/b"] {
        h.mk(path);
    }
    h.run(&set_acl("/b", vec![acl(Perms::READ, "ip", "1.2.3.4")], -1));
    let snapshot = h.tree.to_snapshot();
    assert!(
        snapshot.nodes.windows(2).all(|w| w[0].path < w[1].path),
        "nodes sorted by path"
    );
    let Ok(restored) = DataTree::from_snapshot_owned(snapshot.clone(), TreeConfig::default())
    else {
        panic!("snapshot failed to load");
    };
    assert_eq!(restored.to_snapshot(), snapshot);
    let children = |tree: &DataTree, path: &str| tree.get_children(path, &[]).map(|c| c.0);
    for path in ["/", "/a", "/a/x", "/a-b", "/b", "/zookeeper"] {
        assert_eq!(children(&restored, path), children(&h.tree, path), "{path}");
    }
    assert_eq!(restored.acl_list_count(), h.tree.acl_list_count());
    // The reference counts came along: deleting the only user of an ACL drops it.
    let mut restored = restored;
    let hdr = TxnHeader {
        session_id: SessionId(0),
        cxid: 0,
        zxid: Zxid(1000),
        time_ms: 0,
    };
    let before = restored.acl_list_count();
    let deleted = restored.apply(&hdr, &Txn::Delete { path: "/b".into() });
    assert!(!matches!(deleted.result, TxnResult::Error(_)));
    assert_eq!(restored.acl_list_count(), before - 1);
}

#[test]
fn damaged_snapshots_are_refused() {
    let mut h = Harness::new();
    h.mk("/a");
    h.mk("/a/b");
    let snapshot = h.tree.to_snapshot();
    let load = |s: TreeSnapshot| DataTree::from_snapshot_owned(s, TreeConfig::default());

    let mut duplicate = snapshot.clone();
    let copy = duplicate.nodes[1].clone();
    duplicate.nodes.insert(2, copy);
    assert!(matches!(
        load(duplicate),
        Err(SnapshotError::DuplicatePath(_))
    ));

    let mut child_first = snapshot.clone();
    let a = child_first.nodes.iter().position(|n| &*n.path == "/a");
    let b = child_first.nodes.iter().position(|n| &*n.path == "/a/b");
    if let (Some(a), Some(b)) = (a, b) {
        child_first.nodes.swap(a, b);
    }
    assert!(matches!(
        load(child_first),
        Err(SnapshotError::MissingParent(_))
    ));

    let mut bad_acl = snapshot.clone();
    bad_acl.nodes[1].acl = 99;
    assert!(matches!(load(bad_acl), Err(SnapshotError::MissingAcl(_))));

    let mut no_root = snapshot;
    no_root.nodes.retain(|n| &*n.path != "/");
    assert!(load(no_root).is_err());
}

#[test]
fn txns_survive_serde() {
    let txn = Txn::Multi(vec![
        Txn::Create {
            path: "/a".into(),
            data: Some(vec![1, 2]),
            acl: Acl::open_unsafe(),
            ephemeral_owner: 5,
            parent_cversion: 3,
        },
        Txn::Error(ErrorCode::NoNode),
    ]);
    let bytes = postcard::to_allocvec(&txn).unwrap_or_default();
    assert_eq!(postcard::from_bytes::<Txn>(&bytes).ok(), Some(txn));
}

fn create_with(path: &str, data: Option<&[u8]>) -> Op {
    Op::Create {
        path: path.to_owned(),
        data: data.map(<[u8]>::to_vec),
        acl: Acl::open_unsafe(),
        mode: CreateMode::Persistent,
        ttl_ms: None,
    }
}

fn set_with(path: &str, data: Option<&[u8]>) -> Op {
    Op::SetData {
        path: path.to_owned(),
        data: data.map(<[u8]>::to_vec),
        version: -1,
    }
}

/// The data and dataLength getData reports.
fn read(tree: &DataTree, path: &str) -> (Option<Vec<u8>>, i32) {
    match tree.get_data(path, &[]) {
        Ok((data, stat)) => (data.map(<[u8]>::to_vec), stat.data_length),
        Err(err) => panic!("getData {path} failed: {err:?}"),
    }
}

#[test]
fn null_data_stays_null_as_in_zookeeper() {
    // DataTree.createNode/setData keep a null byte[]; getData returns it, dataLength is 0.
    let mut h = Harness::new();
    let size = h.tree.approximate_data_size();
    match h.run(&create_with("/n", None)) {
        TxnResult::Created { stat, .. } => assert_eq!(stat.data_length, 0),
        other => panic!("create failed: {other:?}"),
    }
    assert_eq!(read(&h.tree, "/n"), (None, 0));
    assert_eq!(h.tree.exists("/n").map(|s| s.data_length), Some(0));
    // Null data counts 0 bytes, as DataTree.getNodeSize.
    assert_eq!(h.tree.approximate_data_size(), size + 2);

    h.run(&set_with("/n", Some(b"abc")));
    assert_eq!(read(&h.tree, "/n"), (Some(b"abc".to_vec()), 3));
    match h.run(&set_with("/n", None)) {
        TxnResult::SetData { stat, .. } => assert_eq!(stat.data_length, 0),
        other => panic!("setData failed: {other:?}"),
    }
    assert_eq!(read(&h.tree, "/n"), (None, 0));
    assert_eq!(h.tree.approximate_data_size(), size + 2);

    // Empty data is not null.
    h.run(&create_with("/e", Some(b"")));
    assert_eq!(read(&h.tree, "/e"), (Some(Vec::new()), 0));
    h.run(&set_with("/n", Some(b"")));
    assert_eq!(read(&h.tree, "/n"), (Some(Vec::new()), 0));

    // Inside a multi too.
    let multi = Op::Multi(vec![
        create_with("/m", Some(b"x")),
        set_with("/m", None),
        create_with("/m2", None),
    ]);
    assert!(matches!(h.run(&multi), TxnResult::Multi(_)));
    assert_eq!(read(&h.tree, "/m"), (None, 0));
    assert_eq!(read(&h.tree, "/m2"), (None, 0));
}

#[test]
fn null_data_survives_snapshots_and_txn_serde() {
    let mut h = Harness::new();
    h.run(&create_with("/null", None));
    h.run(&create_with("/empty", Some(b"")));
    let snapshot = h.tree.to_snapshot();
    let data_of = |path: &str| {
        snapshot
            .nodes
            .iter()
            .find(|n| &*n.path == path)
            .map(|n| n.data.as_deref().map(<[u8]>::to_vec))
    };
    assert_eq!(data_of("/null"), Some(None));
    assert_eq!(data_of("/empty"), Some(Some(Vec::new())));
    let bytes = postcard::to_allocvec(&snapshot).unwrap_or_default();
    let decoded = postcard::from_bytes(&bytes).ok();
    assert_eq!(decoded.as_ref(), Some(&snapshot));
    let restored = DataTree::from_snapshot(&snapshot, TreeConfig::default());
    let Ok(restored) = restored else {
        panic!("snapshot failed to load: {restored:?}");
    };
    assert_eq!(read(&restored, "/null"), (None, 0));
    assert_eq!(read(&restored, "/empty"), (Some(Vec::new()), 0));

    let txn = Txn::SetData {
        path: "/null".into(),
        data: None,
        version: 1,
    };
    let bytes = postcard::to_allocvec(&txn).unwrap_or_default();
    assert_eq!(postcard::from_bytes::<Txn>(&bytes).ok(), Some(txn));
}
