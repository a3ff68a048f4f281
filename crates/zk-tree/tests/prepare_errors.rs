//! Every error path of the prep stage, in ZooKeeper's check order, table-driven.

mod common;

use common::*;
use zk_proto::{Acl, CreateMode, ErrorCode, Id, Perms};
use zk_tree::{DataTree, Op, TreeConfig, Txn, MAX_TTL_MS};

/// A tree with one node of each interesting kind.
fn fixture() -> Harness {
    let mut h = Harness::new();
    h.mk("/a");
    h.mk("/a/b");
    h.mk("/full");
    h.mk("/full/c");
    assert!(h
        .run(&create("/eph", CreateMode::Ephemeral))
        .error_code()
        .is_ok());
    assert!(h
        .run(&create_acl("/ro", Acl::read_unsafe()))
        .error_code()
        .is_ok());
    assert!(h
        .run(&create_acl(
            "/locked",
            vec![acl(Perms::ALL, "digest", "bob:hash")]
        ))
        .error_code()
        .is_ok());
    h.mk("/locked2");
    assert!(h
        .run(&set_acl(
            "/locked2",
            vec![acl(Perms::READ, "digest", "bob:hash")],
            -1
        ))
        .error_code()
        .is_ok());
    assert!(h.run(&set_data("/a", b"v1", -1)).error_code().is_ok());
    h
}

fn err(h: &Harness, op: Op) -> ErrorCode {
    match h.prepare(1, &[Id::new("ip", "127.0.0.1")], &op) {
        Txn::Error(code) => code,
        Txn::Multi(txns) => txns
            .iter()
            .find_map(|txn| match txn {
                Txn::Error(code) => Some(*code),
                _ => None,
            })
            .unwrap_or(ErrorCode::Ok),
        _ => ErrorCode::Ok,
    }
}

#[test]
fn create_errors_follow_zookeeper_order() {
    let h = fixture();
    let open = Acl::open_unsafe();
    let cases: Vec<(&str, Op, ErrorCode)> = vec![
        (
            "plain create succeeds",
            create("/new", CreateMode::Persistent),
            ErrorCode::Ok,
        ),
        (
            "no slash",
            create("new", CreateMode::Persistent),
            ErrorCode::BadArguments,
        ),
        (
            "NUL in path",
            create("/a\0b", CreateMode::Persistent),
            ErrorCode::BadArguments,
        ),
        (
            "trailing slash",
            create("/a/", CreateMode::Persistent),
            ErrorCode::BadArguments,
        ),
        (
            "dot component",
            create("/a/.", CreateMode::Persistent),
            ErrorCode::BadArguments,
        ),
        (
            "missing parent",
            create("/x/y", CreateMode::Persistent),
            ErrorCode::NoNode,
        ),
        (
            "parent of empty component",
            create("/a//b", CreateMode::Persistent),
            ErrorCode::NoNode,
        ),
        (
            "exists",
            create("/a", CreateMode::Persistent),
            ErrorCode::NodeExists,
        ),
        (
            "root exists",
            create("/", CreateMode::Persistent),
            ErrorCode::NodeExists,
        ),
        (
            "ephemeral parent",
            create("/eph/c", CreateMode::Persistent),
            ErrorCode::NoChildrenForEphemerals,
        ),
        (
            "ephemeral parent, sequential",
            create("/eph/c", CreateMode::EphemeralSequential),
            ErrorCode::NoChildrenForEphemerals,
        ),
        (
            "read-only parent",
            create("/ro/c", CreateMode::Persistent),
            ErrorCode::NoAuth,
        ),
        (
            "locked parent",
            create("/locked/c", CreateMode::Persistent),
            ErrorCode::NoAuth,
        ),
        (
            "empty ACL",
            create_acl("/new", vec![]),
            ErrorCode::InvalidAcl,
        ),
        (
            "auth ACL without digest",
            create_acl("/new", vec![acl(Perms::ALL, "auth", "")]),
            ErrorCode::InvalidAcl,
        ),
        (
            "bad world id",
            create_acl("/new", vec![acl(Perms::ALL, "world", "all")]),
            ErrorCode::InvalidAcl,
        ),
        (
            "bad digest id",
            create_acl("/new", vec![acl(Perms::ALL, "digest", "nocolon")]),
            ErrorCode::InvalidAcl,
        ),
        (
            "bad ip id",
            create_acl("/new", vec![acl(Perms::ALL, "ip", "1.2.3.4/40")]),
            ErrorCode::InvalidAcl,
        ),
        (
            "unknown scheme",
            create_acl("/new", vec![acl(Perms::ALL, "sasl", "bob")]),
            ErrorCode::InvalidAcl,
        ),
        (
            "invalid ACL before missing parent",
            create_acl("/x/y", vec![]),
            ErrorCode::InvalidAcl,
        ),
        (
            "missing parent before bad path",
            create("/x/", CreateMode::Persistent),
            ErrorCode::NoNode,
        ),
        (
            "sequential makes a trailing slash valid",
            create("/a/", CreateMode::PersistentSequential),
            ErrorCode::Ok,
        ),
        (
            "ttl without ttl",
            create_ttl("/t", CreateMode::PersistentWithTtl, None),
            ErrorCode::BadArguments,
        ),
        (
            "ttl zero",
            create_ttl("/t", CreateMode::PersistentWithTtl, Some(0)),
            ErrorCode::BadArguments,
        ),
        (
            "ttl too large",
            create_ttl(
                "/t",
                CreateMode::PersistentSequentialWithTtl,
                Some(MAX_TTL_MS + 1),
            ),
            ErrorCode::BadArguments,
        ),
        (
            "ttl max",
            create_ttl("/t", CreateMode::PersistentWithTtl, Some(MAX_TTL_MS)),
            ErrorCode::Ok,
        ),
        (
            "ttl on a plain node",
            create_ttl("/t", CreateMode::Persistent, Some(0)),
            ErrorCode::BadArguments,
        ),
        (
            "negative ttl on a plain node",
            create_ttl("/t", CreateMode::Persistent, Some(-1)),
            ErrorCode::Ok,
        ),
        (
            "ttl on a container",
            create_ttl("/t", CreateMode::Container, Some(5)),
            ErrorCode::BadArguments,
        ),
        (
            "bad ttl before bad path",
            create_ttl("t", CreateMode::PersistentWithTtl, Some(0)),
            ErrorCode::BadArguments,
        ),
        ("open ACL", create_acl("/new", open), ErrorCode::Ok),
    ];
    for (name, op, expected) in cases {
        assert_eq!(err(&h, op), expected, "{name}");
    }
}

#[test]
fn ttl_creation_is_unimplemented_without_extended_types() {
    let h = Harness::with_tree(DataTree::with_config(TreeConfig {
        extended_types_enabled: false,
        ..TreeConfig::default()
    }));
    let cases = [
        (
            create_ttl("/t", CreateMode::PersistentWithTtl, Some(10)),
            ErrorCode::Unimplemented,
        ),
        (
            create_ttl("/t", CreateMode::PersistentWithTtl, Some(0)),
            ErrorCode::Unimplemented,
        ),
        (create_ttl("/t", CreateMode::Container, None), ErrorCode::Ok),
    ];
    for (op, expected) in cases {
        assert_eq!(err(&h, op.clone()), expected, "{op:?}");
    }
}

#[test]
fn delete_errors_follow_zookeeper_order() {
    let h = fixture();
    let cases: Vec<(&str, Op, ErrorCode)> = vec![
        ("plain delete", delete("/a/b", -1), ErrorCode::Ok),
        ("right version", delete("/a/b", 0), ErrorCode::Ok),
        ("root", delete("/", -1), ErrorCode::BadArguments),
        (
            "/zookeeper",
            delete("/zookeeper", -1),
            ErrorCode::BadArguments,
        ),
        (
            "/zookeeper/quota",
            delete("/zookeeper/quota", -1),
            ErrorCode::BadArguments,
        ),
        (
            "/zookeeper/config",
            delete("/zookeeper/config", -1),
            ErrorCode::BadArguments,
        ),
        ("no slash", delete("a", -1), ErrorCode::BadArguments),
        ("NUL", delete("/a\0", -1), ErrorCode::BadArguments),
        ("missing parent", delete("/x/y", -1), ErrorCode::NoNode),
        ("missing node", delete("/a/zz", -1), ErrorCode::NoNode),
        ("bad version", delete("/a/b", 3), ErrorCode::BadVersion),
        ("children", delete("/full", -1), ErrorCode::NotEmpty),
        (
            "bad version before children",
            delete("/full", 7),
            ErrorCode::BadVersion,
        ),
        (
            "parent without DELETE",
            delete("/ro/zz", -1),
            ErrorCode::NoAuth,
        ),
        (
            "parent ACL before missing node",
            delete("/locked/zz", -1),
            ErrorCode::NoAuth,
        ),
        (
            "the node's own ACL does not matter",
            delete("/locked", -1),
            ErrorCode::Ok,
        ),
        (
            "trailing slash is just missing",
            delete("/a/", -1),
            ErrorCode::NoNode,
        ),
    ];
    for (name, op, expected) in cases {
        assert_eq!(err(&h, op), expected, "{name}");
    }
}

#[test]
fn set_data_set_acl_and_check_errors() {
    let h = fixture();
    let bob = vec![acl(Perms::ALL, "digest", "bob:hash")];
    let cases: Vec<(&str, Op, ErrorCode)> = vec![
        ("setData", set_data("/a", b"x", 1), ErrorCode::Ok),
        (
            "setData any version",
            set_data("/a", b"x", -1),
            ErrorCode::Ok,
        ),
        (
            "setData bad path",
            set_data("/a/", b"x", -1),
            ErrorCode::BadArguments,
        ),
        (
            "setData missing",
            set_data("/zz", b"x", -1),
            ErrorCode::NoNode,
        ),
        (
            "setData read-only",
            set_data("/ro", b"x", -1),
            ErrorCode::NoAuth,
        ),
        (
            "setData bad version",
            set_data("/a", b"x", 0),
            ErrorCode::BadVersion,
        ),
        (
            "setData ACL before version",
            set_data("/ro", b"x", 9),
            ErrorCode::NoAuth,
        ),
        ("setACL", set_acl("/a", bob.clone(), 0), ErrorCode::Ok),
        (
            "setACL bad path",
            set_acl("//", bob.clone(), -1),
            ErrorCode::BadArguments,
        ),
        (
            "setACL invalid ACL",
            set_acl("/a", vec![], -1),
            ErrorCode::InvalidAcl,
        ),
        (
            "setACL invalid ACL before missing",
            set_acl("/zz", vec![], -1),
            ErrorCode::InvalidAcl,
        ),
        (
            "setACL missing",
            set_acl("/zz", bob.clone(), -1),
            ErrorCode::NoNode,
        ),
        (
            "setACL without ADMIN",
            set_acl("/ro", bob.clone(), -1),
            ErrorCode::NoAuth,
        ),
        (
            "setACL bad aversion",
            set_acl("/a", bob.clone(), 1),
            ErrorCode::BadVersion,
        ),
        (
            "setACL with READ but not ADMIN",
            set_acl("/locked2", bob.clone(), 0),
            ErrorCode::NoAuth,
        ),
        ("check", check("/a", 1), ErrorCode::Ok),
        ("check any", check("/a", -1), ErrorCode::Ok),
        ("check bad path", check("a", 1), ErrorCode::BadArguments),
        ("check missing", check("/zz", 1), ErrorCode::NoNode),
        ("check bad version", check("/a", 0), ErrorCode::BadVersion),
        ("check without READ", check("/locked", 0), ErrorCode::NoAuth),
        ("check with READ only", check("/ro", 0), ErrorCode::Ok),
    ];
    for (name, op, expected) in cases {
        assert_eq!(err(&h, op), expected, "{name}");
    }
}

#[test]
fn delete_container_errors() {
    let mut h = fixture();
    assert!(h
        .run(&create("/c", CreateMode::Container))
        .error_code()
        .is_ok());
    assert!(h
        .run(&create("/c/x", CreateMode::Persistent))
        .error_code()
        .is_ok());
    assert!(h
        .run(&create("/c2", CreateMode::Container))
        .error_code()
        .is_ok());
    let dc = |path: &str| Op::DeleteContainer {
        path: path.to_owned(),
    };
    let cases = [
        ("empty container", dc("/c2"), ErrorCode::Ok),
        ("container with a child", dc("/c"), ErrorCode::NotEmpty),
        ("session ephemeral", dc("/eph"), ErrorCode::BadVersion),
        (
            "plain persistent node (ZooKeeper does not refuse it)",
            dc("/a/b"),
            ErrorCode::Ok,
        ),
        ("missing", dc("/zz"), ErrorCode::NoNode),
        ("special", dc("/zookeeper"), ErrorCode::BadArguments),
        ("no ACL check", dc("/locked"), ErrorCode::Ok),
    ];
    for (name, op, expected) in cases {
        assert_eq!(err(&h, op), expected, "{name}");
    }
}

#[test]
fn a_failed_write_still_becomes_a_txn_that_consumes_a_zxid() {
    let mut h = fixture();
    let before = h.tree.last_processed_zxid();
    let outcome = h.run_as(1, &[], &delete("/zz", -1));
    assert_eq!(outcome.result, zk_tree::TxnResult::Error(ErrorCode::NoNode));
    assert!(outcome.events.is_empty());
    assert_eq!(h.tree.last_processed_zxid().0, before.0 + 1);
}

#[test]
fn a_multi_with_a_session_op_is_refused_whole() {
    let h = fixture();
    let op = Op::Multi(vec![create("/m", CreateMode::Persistent), Op::CloseSession]);
    assert_eq!(
        h.prepare(1, &[], &op),
        Txn::Error(ErrorCode::MarshallingError)
    );
}
