//! Every opcode's happy path and its error codes, over raw jute.

mod common;

use common::{code, config, start, Client};
use zk_proto::request::{
    AddWatchRequest, AuthPacket, CheckVersionRequest, CheckWatchesRequest, CreateTtlRequest,
    DeleteRequest, ExistsRequest, GetAclRequest, GetAllChildrenNumberRequest, GetChildren2Request,
    GetChildrenRequest, GetDataRequest, GetEphemeralsRequest, GetSaslRequest, ReconfigRequest,
    RemoveWatchesRequest, SetAclRequest, SetDataRequest, SyncRequest,
};
use zk_proto::{
    Acl, CreateMode, CreateRequest, ErrorCode, Id, MultiOp, MultiRequest, MultiResult, OpCode,
    Perms, Reader, Record, ReplyHeader, Request, Response, Stat, Xid,
};

fn create(path: &str, data: &[u8], mode: CreateMode) -> CreateRequest {
    CreateRequest {
        path: path.into(),
        data: Some(data.to_vec()),
        acl: Acl::open_unsafe(),
        flags: mode.flags(),
    }
}

fn get_data(path: &str) -> Request {
    Request::GetData(GetDataRequest {
        path: path.into(),
        watch: false,
    })
}

#[tokio::test]
async fn create_get_set_delete_round_trip() {
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;

    let reply = c
        .call(Request::Create(create(
            "/a",
            b"one",
            CreateMode::Persistent,
        )))
        .await;
    assert!(matches!(reply.body, Some(Response::Create(ref r)) if r.path == "/a"));
    let create_zxid = reply.header.zxid;
    assert!(create_zxid.0 > 0);

    let reply = c
        .call(Request::Create2(create(
            "/a/b",
            b"",
            CreateMode::Persistent,
        )))
        .await;
    let Some(Response::Create2(created)) = reply.body else {
        panic!("{reply:?}")
    };
    assert_eq!(created.path, "/a/b");
    assert_eq!(created.stat.czxid, reply.header.zxid);

    let reply = c.call(get_data("/a")).await;
    let Some(Response::GetData(data)) = reply.body else {
        panic!("{reply:?}")
    };
    assert_eq!(data.data.as_deref(), Some(&b"one"[..]));
    assert_eq!(data.stat.num_children, 1);
    assert_eq!(data.stat.czxid, create_zxid);

    let reply = c
        .call(Request::SetData(SetDataRequest {
            path: "/a".into(),
            data: Some(b"two".to_vec()),
            version: 0,
        }))
        .await;
    let Some(Response::SetData(set)) = reply.body else {
        panic!("{reply:?}")
    };
    assert_eq!(set.stat.version, 1);
    assert_eq!(set.stat.mzxid, reply.header.zxid);

    let reply = c
        .call(Request::SetData(SetDataRequest {
            path: "/a".into(),
            data: Some(b"three".to_vec()),
            version: 0,
        }))
        .await;
    assert_eq!(code(&reply), ErrorCode::BadVersion);

    let reply = c
        .call(Request::Delete(DeleteRequest {
            path: "/a".into(),
            version: -1,
        }))
        .await;
    assert_eq!(code(&reply), ErrorCode::NotEmpty);

    let reply = c
        .call(Request::Delete(DeleteRequest {
            path: "/a/b".into(),
            version: -1,
        }))
        .await;
    assert!(reply.ok());
    let reply = c
        .call(Request::Delete(DeleteRequest {
            path: "/a".into(),
            version: 5,
        }))
        .await;
    assert_eq!(code(&reply), ErrorCode::BadVersion);
    let reply = c
        .call(Request::Delete(DeleteRequest {
            path: "/a".into(),
            version: 1,
        }))
        .await;
    assert!(reply.ok());
    assert_eq!(code(&c.call(get_data("/a")).await), ErrorCode::NoNode);
    server.shutdown().await;
}

#[tokio::test]
async fn failed_writes_take_a_zxid() {
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;
    let first = c
        .call(Request::Create(create("/z", b"", CreateMode::Persistent)))
        .await;
    let failed = c
        .call(Request::Create(create("/z", b"", CreateMode::Persistent)))
        .await;
    assert_eq!(code(&failed), ErrorCode::NodeExists);
    assert_eq!(failed.header.zxid.0, first.header.zxid.0 + 1);
    let read = c.call(get_data("/z")).await;
    assert_eq!(
        read.header.zxid, failed.header.zxid,
        "reads carry the last zxid"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn create_errors_match_zookeeper() {
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;
    let reply = c
        .call(Request::Create(create(
            "/missing/child",
            b"",
            CreateMode::Persistent,
        )))
        .await;
    assert_eq!(code(&reply), ErrorCode::NoNode);
    let reply = c
        .call(Request::Create(create("bad", b"", CreateMode::Persistent)))
        .await;
    assert_eq!(code(&reply), ErrorCode::BadArguments);
    let mut bad_flags = create("/f", b"", CreateMode::Persistent);
    bad_flags.flags = 42;
    assert_eq!(
        code(&c.call(Request::Create(bad_flags)).await),
        ErrorCode::BadArguments
    );
    let reply = c
        .call(Request::Create(create("/e", b"", CreateMode::Ephemeral)))
        .await;
    assert!(reply.ok());
    let reply = c
        .call(Request::Create(create("/e/c", b"", CreateMode::Persistent)))
        .await;
    assert_eq!(code(&reply), ErrorCode::NoChildrenForEphemerals);
    let mut empty_acl = create("/noacl", b"", CreateMode::Persistent);
    empty_acl.acl.clear();
    assert_eq!(
        code(&c.call(Request::Create(empty_acl)).await),
        ErrorCode::InvalidAcl
    );
    // TTL nodes need extendedTypesEnabled, which is off by default as in ZooKeeper.
    let reply = c
        .call(Request::CreateTtl(CreateTtlRequest {
            path: "/ttl".into(),
            data: Some(Vec::new()),
            acl: Acl::open_unsafe(),
            flags: CreateMode::PersistentWithTtl.flags(),
            ttl: 1000,
        }))
        .await;
    assert_eq!(code(&reply), ErrorCode::Unimplemented);
    server.shutdown().await;
}

#[tokio::test]
async fn sequential_nodes_get_ten_digit_suffixes() {
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;
    assert!(c
        .call(Request::Create(create("/q", b"", CreateMode::Persistent)))
        .await
        .ok());
    for expected in ["/q/n0000000000", "/q/n0000000001"] {
        let reply = c
            .call(Request::Create(create(
                "/q/n",
                b"",
                CreateMode::PersistentSequential,
            )))
            .await;
        assert!(
            matches!(reply.body, Some(Response::Create(ref r)) if r.path == expected),
            "{reply:?}"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn containers_and_ttl_nodes_are_created_when_allowed() {
    let mut cfg = config();
    cfg.extended_types_enabled = true;
    let server = start(cfg).await;
    let mut c = Client::connect(server.local_addr()).await;
    let reply = c
        .call(Request::CreateContainer(create(
            "/box",
            b"",
            CreateMode::Container,
        )))
        .await;
    assert!(
        matches!(reply.body, Some(Response::Create2(ref r)) if r.path == "/box"),
        "{reply:?}"
    );
    let reply = c
        .call(Request::CreateTtl(CreateTtlRequest {
            path: "/ttl".into(),
            data: Some(Vec::new()),
            acl: Acl::open_unsafe(),
            flags: CreateMode::PersistentWithTtl.flags(),
            ttl: 60_000,
        }))
        .await;
    assert!(
        matches!(reply.body, Some(Response::Create2(ref r)) if r.path == "/ttl"),
        "{reply:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn exists_children_acl_and_counts() {
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;
    assert!(c
        .call(Request::Create(create("/p", b"", CreateMode::Persistent)))
        .await
        .ok());
    assert!(c
        .call(Request::Create(create("/p/x", b"", CreateMode::Persistent)))
        .await
        .ok());
    assert!(c
        .call(Request::Create(create("/p/y", b"", CreateMode::Ephemeral)))
        .await
        .ok());
    assert!(c
        .call(Request::Create(create(
            "/p/x/z",
            b"",
            CreateMode::Persistent
        )))
        .await
        .ok());

    let reply = c
        .call(Request::Exists(ExistsRequest {
            path: "/p".into(),
            watch: false,
        }))
        .await;
    assert!(matches!(reply.body, Some(Response::Exists(ref e)) if e.stat.num_children == 2));
    let reply = c
        .call(Request::Exists(ExistsRequest {
            path: "/nope".into(),
            watch: false,
        }))
        .await;
    assert_eq!(code(&reply), ErrorCode::NoNode);

    let reply = c
        .call(Request::GetChildren(GetChildrenRequest {
            path: "/p".into(),
            watch: false,
        }))
        .await;
    let Some(Response::GetChildren(children)) = reply.body else {
        panic!("{reply:?}")
    };
    let mut names = children.children;
    names.sort();
    assert_eq!(names, ["x", "y"]);
    let reply = c
        .call(Request::GetChildren2(GetChildren2Request {
            path: "/p".into(),
            watch: false,
        }))
        .await;
    assert!(
        matches!(reply.body, Some(Response::GetChildren2(ref r)) if r.stat.num_children == 2 && r.children.len() == 2)
    );
    let reply = c
        .call(Request::GetChildren(GetChildrenRequest {
            path: "/nope".into(),
            watch: false,
        }))
        .await;
    assert_eq!(code(&reply), ErrorCode::NoNode);

    let reply = c
        .call(Request::GetAcl(GetAclRequest { path: "/p".into() }))
        .await;
    assert!(matches!(reply.body, Some(Response::GetAcl(ref r)) if r.acl == Acl::open_unsafe()));
    let reply = c
        .call(Request::GetAllChildrenNumber(GetAllChildrenNumberRequest {
            path: "/p".into(),
        }))
        .await;
    assert!(
        matches!(reply.body, Some(Response::GetAllChildrenNumber(ref r)) if r.total_number == 3),
        "{reply:?}"
    );

    let reply = c
        .call(Request::GetEphemerals(GetEphemeralsRequest {
            prefix_path: "/".into(),
        }))
        .await;
    assert!(
        matches!(reply.body, Some(Response::GetEphemerals(ref r)) if r.ephemerals == ["/p/y"]),
        "{reply:?}"
    );
    let reply = c
        .call(Request::GetEphemerals(GetEphemeralsRequest {
            prefix_path: "/q".into(),
        }))
        .await;
    assert!(matches!(reply.body, Some(Response::GetEphemerals(ref r)) if r.ephemerals.is_empty()));

    let reply = c
        .call(Request::Sync(SyncRequest { path: "/p".into() }))
        .await;
    assert!(matches!(reply.body, Some(Response::Sync(ref r)) if r.path == "/p"));
    server.shutdown().await;
}

#[tokio::test]
async fn set_acl_digest_auth_and_noauth() {
    let server = start(config()).await;
    let mut owner = Client::connect(server.local_addr()).await;
    let reply = owner
        .call_with_xid(
            Xid::AUTH,
            Request::Auth(AuthPacket {
                auth_type: 0,
                scheme: "digest".into(),
                auth: b"alice:secret".to_vec(),
            }),
        )
        .await;
    assert!(reply.ok());
    assert_eq!(reply.header.zxid.0, 0, "auth replies carry zxid 0");
    assert!(owner
        .call(Request::Create(create(
            "/s",
            b"hidden",
            CreateMode::Persistent
        )))
        .await
        .ok());
    let reply = owner
        .call(Request::SetAcl(SetAclRequest {
            path: "/s".into(),
            acl: vec![Acl {
                perms: Perms::ALL,
                id: Id::new("auth", ""),
            }],
            version: 0,
        }))
        .await;
    let Some(Response::SetAcl(set)) = reply.body else {
        panic!("{reply:?}")
    };
    assert_eq!(set.stat.aversion, 1);
    let reply = owner
        .call(Request::SetAcl(SetAclRequest {
            path: "/s".into(),
            acl: Acl::open_unsafe(),
            version: 7,
        }))
        .await;
    assert_eq!(code(&reply), ErrorCode::BadVersion);

    let mut stranger = Client::connect(server.local_addr()).await;
    assert_eq!(
        code(&stranger.call(get_data("/s")).await),
        ErrorCode::NoAuth
    );
    assert!(owner.call(get_data("/s")).await.ok());

    let reply = stranger.call(Request::WhoAmI).await;
    let Some(Response::WhoAmI(who)) = reply.body else {
        panic!("{reply:?}")
    };
    assert_eq!(who.client_info.len(), 1);
    assert_eq!(who.client_info[0].auth_scheme, "ip");
    server.shutdown().await;
}

#[tokio::test]
async fn an_unknown_auth_scheme_fails_and_closes() {
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;
    let reply = c
        .call_with_xid(
            Xid::AUTH,
            Request::Auth(AuthPacket {
                auth_type: 0,
                scheme: "kerberos".into(),
                auth: Vec::new(),
            }),
        )
        .await;
    assert_eq!(code(&reply), ErrorCode::AuthFailed);
    assert!(c.closed_by_server().await);
    server.shutdown().await;
}

#[tokio::test]
async fn the_configured_super_digest_reads_everything() {
    let mut cfg = config();
    cfg.super_digest = Some(zk_tree::generate_digest("super:pw"));
    let server = start(cfg).await;
    let mut owner = Client::connect(server.local_addr()).await;
    let locked = CreateRequest {
        path: "/locked".into(),
        data: Some(Vec::new()),
        acl: vec![Acl {
            perms: Perms::ALL,
            id: Id::new("digest", zk_tree::generate_digest("bob:x")),
        }],
        flags: 0,
    };
    assert!(owner.call(Request::Create(locked)).await.ok());
    assert_eq!(
        code(&owner.call(get_data("/locked")).await),
        ErrorCode::NoAuth
    );
    let auth = Request::Auth(AuthPacket {
        auth_type: 0,
        scheme: "digest".into(),
        auth: b"super:pw".to_vec(),
    });
    assert!(owner.call_with_xid(Xid::AUTH, auth).await.ok());
    assert!(owner.call(get_data("/locked")).await.ok());
    server.shutdown().await;
}

#[tokio::test]
async fn multi_is_atomic_and_reports_per_op_results() {
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;
    let ok = MultiRequest {
        ops: vec![
            MultiOp::Create(create("/m", b"", CreateMode::Persistent)),
            MultiOp::Create2(create("/m/1", b"", CreateMode::Persistent)),
            MultiOp::SetData(SetDataRequest {
                path: "/m".into(),
                data: Some(b"d".to_vec()),
                version: 0,
            }),
            MultiOp::Check(CheckVersionRequest {
                path: "/m".into(),
                version: 1,
            }),
        ],
    };
    let reply = c.call(Request::Multi(ok)).await;
    assert!(reply.ok());
    let Some(Response::Multi(multi)) = reply.body else {
        panic!("{reply:?}")
    };
    assert!(matches!(multi.results[0], MultiResult::Create(ref r) if r.path == "/m"));
    assert!(matches!(multi.results[1], MultiResult::Create2(ref r) if r.path == "/m/1"));
    assert!(matches!(multi.results[2], MultiResult::SetData(_)));
    assert!(matches!(multi.results[3], MultiResult::Check));

    let failing = MultiRequest {
        ops: vec![
            MultiOp::Create(create("/n", b"", CreateMode::Persistent)),
            MultiOp::Delete(DeleteRequest {
                path: "/missing".into(),
                version: -1,
            }),
            MultiOp::Create(create("/o", b"", CreateMode::Persistent)),
        ],
    };
    let reply = c.call(Request::Multi(failing)).await;
    assert!(reply.ok(), "multi errors live in the results");
    let Some(Response::Multi(multi)) = reply.body else {
        panic!("{reply:?}")
    };
    let codes: Vec<i32> = multi
        .results
        .iter()
        .map(|r| match r {
            MultiResult::Error(e) => e.err,
            other => panic!("expected errors only, got {other:?}"),
        })
        .collect();
    assert_eq!(
        codes,
        [
            0,
            ErrorCode::NoNode.code(),
            ErrorCode::RuntimeInconsistency.code()
        ]
    );
    assert_eq!(code(&c.call(get_data("/n")).await), ErrorCode::NoNode);

    let read = MultiRequest {
        ops: vec![
            MultiOp::GetData(GetDataRequest {
                path: "/m".into(),
                watch: false,
            }),
            MultiOp::GetChildren(GetChildrenRequest {
                path: "/m".into(),
                watch: false,
            }),
            MultiOp::GetData(GetDataRequest {
                path: "/none".into(),
                watch: false,
            }),
        ],
    };
    let reply = c.call(Request::MultiRead(read)).await;
    let Some(Response::Multi(multi)) = reply.body else {
        panic!("{reply:?}")
    };
    assert!(
        matches!(multi.results[0], MultiResult::GetData(ref r) if r.data.as_deref() == Some(&b"d"[..]))
    );
    assert!(matches!(multi.results[1], MultiResult::GetChildren(ref r) if r.children == ["1"]));
    assert!(
        matches!(multi.results[2], MultiResult::Error(ref e) if e.err == ErrorCode::NoNode.code())
    );
    server.shutdown().await;
}

#[tokio::test]
async fn session_level_requests_answer_like_zookeeper() {
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;
    let reply = c.ping().await;
    assert!(reply.ok());
    assert_eq!(reply.header.xid, Xid::PING);

    let reply = c
        .call(Request::Sasl(GetSaslRequest { token: Vec::new() }))
        .await;
    assert!(reply.ok());

    let reply = c
        .call(Request::Reconfig(ReconfigRequest {
            joining_servers: None,
            leaving_servers: None,
            new_members: None,
            cur_config_id: -1,
        }))
        .await;
    assert_eq!(code(&reply), ErrorCode::ReconfigDisabled);

    let reply = c
        .call(Request::AddWatch(AddWatchRequest {
            path: "/w".into(),
            mode: 1,
        }))
        .await;
    assert!(matches!(reply.body, Some(Response::AddWatch(ref r)) if r.err == 0));
    let reply = c
        .call(Request::CheckWatches(CheckWatchesRequest {
            path: "/nothing".into(),
            watcher_type: 3,
        }))
        .await;
    assert_eq!(code(&reply), ErrorCode::NoWatcher);
    let reply = c
        .call(Request::GetData(GetDataRequest {
            path: "/zookeeper".into(),
            watch: true,
        }))
        .await;
    assert!(reply.ok());
    let reply = c
        .call(Request::CheckWatches(CheckWatchesRequest {
            path: "/zookeeper".into(),
            watcher_type: 2,
        }))
        .await;
    assert!(reply.ok());
    let reply = c
        .call(Request::RemoveWatches(RemoveWatchesRequest {
            path: "/zookeeper".into(),
            watcher_type: 2,
        }))
        .await;
    assert!(reply.ok());
    let reply = c
        .call(Request::RemoveWatches(RemoveWatchesRequest {
            path: "/zookeeper".into(),
            watcher_type: 2,
        }))
        .await;
    assert_eq!(code(&reply), ErrorCode::NoWatcher);

    let reply = c.call(get_data("/zookeeper/config")).await;
    let Some(Response::GetData(config)) = reply.body else {
        panic!("{reply:?}")
    };
    assert!(
        config.data == Some(Vec::new()),
        "standalone /zookeeper/config is empty (not null)"
    );
    assert_eq!(config.stat.aversion, -1);
    server.shutdown().await;
}

#[tokio::test]
async fn a_standalone_check_is_unimplemented_and_closes_like_zookeeper_3_8() {
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;
    let reply = c
        .call(Request::Check(CheckVersionRequest {
            path: "/".into(),
            version: -1,
        }))
        .await;
    assert_eq!(code(&reply), ErrorCode::Unimplemented);
    assert!(c.closed_by_server().await);
    server.shutdown().await;
}

#[tokio::test]
async fn an_emptied_container_is_deleted_by_the_server() {
    let mut cfg = config();
    cfg.container_check_interval_ms = 50;
    let server = start(cfg).await;
    let mut c = Client::connect(server.local_addr()).await;
    assert!(c
        .call(Request::CreateContainer(create(
            "/jar",
            b"",
            CreateMode::Container
        )))
        .await
        .ok());
    assert!(c
        .call(Request::Create(create(
            "/jar/item",
            b"",
            CreateMode::Persistent
        )))
        .await
        .ok());
    let reply = c
        .call(Request::Delete(DeleteRequest {
            path: "/jar/item".into(),
            version: -1,
        }))
        .await;
    assert!(reply.ok());
    let addr = server.local_addr();
    common::eventually("the empty container to be deleted", || async move {
        let mut probe = Client::connect(addr).await;
        let reply = probe
            .call(Request::Exists(ExistsRequest {
                path: "/jar".into(),
                watch: false,
            }))
            .await;
        code(&reply) == ErrorCode::NoNode
    })
    .await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_multi_with_unknown_create_flags_fails_with_bad_arguments() {
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;
    let mut bad = create("/bad", b"", CreateMode::Persistent);
    bad.flags = 42;
    let multi = MultiRequest {
        ops: vec![
            MultiOp::Create(create("/fine", b"", CreateMode::Persistent)),
            MultiOp::Create(bad),
        ],
    };
    let reply = c.call(Request::Multi(multi)).await;
    let Some(Response::Multi(multi)) = reply.body else {
        panic!("{reply:?}")
    };
    let codes: Vec<i32> = multi
        .results
        .iter()
        .map(|r| match r {
            MultiResult::Error(e) => e.err,
            other => panic!("expected errors only, got {other:?}"),
        })
        .collect();
    assert_eq!(codes, [0, ErrorCode::BadArguments.code()]);
    assert_eq!(code(&c.call(get_data("/fine")).await), ErrorCode::NoNode);
    // A read op inside a (write) multi is refused as ZooKeeper refuses it.
    let mixed = MultiRequest {
        ops: vec![MultiOp::GetData(GetDataRequest {
            path: "/".into(),
            watch: false,
        })],
    };
    assert_eq!(
        code(&c.call(Request::Multi(mixed)).await),
        ErrorCode::MarshallingError
    );
    server.shutdown().await;
}

#[tokio::test]
async fn error_codes_of_reads_acl_ops_and_special_nodes() {
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;
    let missing = || "/missing".to_owned();
    let reply = c
        .call(Request::GetAcl(GetAclRequest { path: missing() }))
        .await;
    assert_eq!(code(&reply), ErrorCode::NoNode);
    let reply = c
        .call(Request::SetAcl(SetAclRequest {
            path: missing(),
            acl: Acl::open_unsafe(),
            version: -1,
        }))
        .await;
    assert_eq!(code(&reply), ErrorCode::NoNode);
    let reply = c
        .call(Request::SetData(SetDataRequest {
            path: missing(),
            data: Some(Vec::new()),
            version: -1,
        }))
        .await;
    assert_eq!(code(&reply), ErrorCode::NoNode);
    let reply = c
        .call(Request::GetAllChildrenNumber(GetAllChildrenNumberRequest {
            path: missing(),
        }))
        .await;
    assert_eq!(code(&reply), ErrorCode::NoNode);
    let reply = c
        .call(Request::Delete(DeleteRequest {
            path: missing(),
            version: -1,
        }))
        .await;
    assert_eq!(code(&reply), ErrorCode::NoNode);
    for special in ["/zookeeper", "/zookeeper/quota", "/zookeeper/config"] {
        let reply = c
            .call(Request::Delete(DeleteRequest {
                path: special.into(),
                version: -1,
            }))
            .await;
        assert_eq!(code(&reply), ErrorCode::BadArguments, "{special}");
    }
    assert!(c
        .call(Request::Create(create("/acl", b"", CreateMode::Persistent)))
        .await
        .ok());
    let reply = c
        .call(Request::SetAcl(SetAclRequest {
            path: "/acl".into(),
            acl: vec![Acl {
                perms: Perms::ALL,
                id: Id::new("digest", "no-colon"),
            }],
            version: -1,
        }))
        .await;
    assert_eq!(code(&reply), ErrorCode::InvalidAcl);
    server.shutdown().await;
}

/// The payload of a request frame built by hand: `RequestHeader` then the body bytes.
fn raw_request(xid: i32, op: i32, body: &[&[u8]]) -> Vec<u8> {
    let mut payload = Vec::new();
    payload.extend_from_slice(&xid.to_be_bytes());
    payload.extend_from_slice(&op.to_be_bytes());
    for part in body {
        payload.extend_from_slice(part);
    }
    payload
}

fn raw_string(s: &str) -> Vec<u8> {
    let mut out = (s.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(s.as_bytes());
    out
}

#[tokio::test]
async fn null_data_reads_back_as_a_null_buffer() {
    // As ZooKeeper 3.8: create(path, null) stores null, getData answers a -1 length buffer and
    // dataLength 0; setData(path, null) does the same; empty data stays empty (length 0).
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;

    // create "/null" with a null data buffer, open ACL, persistent; bytes built by hand.
    let mut open_acl = 1i32.to_be_bytes().to_vec();
    open_acl.extend_from_slice(&0x1fi32.to_be_bytes());
    open_acl.extend_from_slice(&raw_string("world"));
    open_acl.extend_from_slice(&raw_string("anyone"));
    let create = raw_request(
        1000,
        OpCode::Create2.code(),
        &[
            &raw_string("/null"),
            &(-1i32).to_be_bytes(),
            &open_acl,
            &0i32.to_be_bytes(),
        ],
    );
    c.send_frame(&create).await;
    let reply = c
        .reply_for(Xid(1000), OpCode::Create2)
        .await
        .expect("reply");
    let Some(Response::Create2(created)) = reply.body else {
        panic!("{reply:?}")
    };
    assert_eq!(created.stat.data_length, 0);

    // getData: the reply body starts with a -1 length, then the Stat (dataLength 0).
    let get = raw_request(1001, OpCode::GetData.code(), &[&raw_string("/null"), &[0]]);
    c.send_frame(&get).await;
    let frame = c.read_frame().await.expect("getData reply");
    let mut reader = Reader::new(&frame);
    let header = ReplyHeader::decode(&mut reader).expect("reply header");
    assert_eq!((header.xid, header.err), (Xid(1001), 0));
    assert_eq!(reader.read_i32(), Ok(-1), "null data is a -1 length buffer");
    let stat = Stat::decode(&mut reader).expect("stat");
    assert_eq!(stat.data_length, 0);
    assert!(reader.is_empty());

    // setData to bytes, then back to null.
    let set = |data: Option<&[u8]>| {
        Request::SetData(SetDataRequest {
            path: "/null".into(),
            data: data.map(<[u8]>::to_vec),
            version: -1,
        })
    };
    let reply = c.call(set(Some(b"abc"))).await;
    assert!(matches!(reply.body, Some(Response::SetData(ref r)) if r.stat.data_length == 3));
    let reply = c.call(get_data("/null")).await;
    assert!(
        matches!(reply.body, Some(Response::GetData(ref r)) if r.data.as_deref() == Some(&b"abc"[..]))
    );
    let reply = c.call(set(None)).await;
    assert!(matches!(reply.body, Some(Response::SetData(ref r)) if r.stat.data_length == 0));
    let reply = c.call(get_data("/null")).await;
    let Some(Response::GetData(read)) = reply.body else {
        panic!("{reply:?}")
    };
    assert_eq!((read.data, read.stat.data_length), (None, 0));

    // Empty is not null.
    let reply = c
        .call(Request::Create(create_null_or("/empty", Some(b""))))
        .await;
    assert!(reply.ok());
    let reply = c.call(get_data("/empty")).await;
    assert!(matches!(reply.body, Some(Response::GetData(ref r)) if r.data == Some(Vec::new())));

    // multi create with null data, read back through multiRead's getData.
    let multi = MultiRequest {
        ops: vec![MultiOp::Create(create_null_or("/multi", None))],
    };
    assert!(c.call(Request::Multi(multi)).await.ok());
    let read = MultiRequest {
        ops: vec![MultiOp::GetData(GetDataRequest {
            path: "/multi".into(),
            watch: false,
        })],
    };
    let reply = c.call(Request::MultiRead(read)).await;
    let Some(Response::Multi(multi)) = reply.body else {
        panic!("{reply:?}")
    };
    assert!(
        matches!(multi.results[..], [MultiResult::GetData(ref r)] if r.data.is_none() && r.stat.data_length == 0),
        "{multi:?}"
    );
    server.shutdown().await;
}

fn create_null_or(path: &str, data: Option<&[u8]>) -> CreateRequest {
    CreateRequest {
        path: path.into(),
        data: data.map(<[u8]>::to_vec),
        acl: Acl::open_unsafe(),
        flags: 0,
    }
}
