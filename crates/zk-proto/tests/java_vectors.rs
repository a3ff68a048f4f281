//! Golden vectors printed by Apache ZooKeeper 3.8.0's own jute classes
//! (`tests/java/JuteVectors.java`, output in `tests/java/vectors.txt`): our encoder must produce
//! the same bytes, and our decoder must read those bytes back into the same values.

mod common;

use std::collections::BTreeMap;

use zk_proto::*;

fn vectors() -> BTreeMap<&'static str, Vec<u8>> {
    common::java_vectors()
}

/// Checks one vector both ways: `encode` writes exactly Java's bytes, and `decode` reads them
/// into `value`, using every byte.
fn check<T: PartialEq + std::fmt::Debug>(
    name: &str,
    value: T,
    encode: impl Fn(&T, &mut Vec<u8>),
    decode: impl Fn(&mut Reader<'_>) -> Result<T, DecodeError>,
) {
    let all = vectors();
    let java = all.get(name).unwrap_or_else(|| panic!("no vector {name}"));
    let mut ours = Vec::new();
    encode(&value, &mut ours);
    assert_eq!(&ours, java, "{name}: encoding differs from Java");
    let mut r = Reader::new(java);
    assert_eq!(
        decode(&mut r).as_ref(),
        Ok(&value),
        "{name}: decoding differs"
    );
    assert!(r.is_empty(), "{name}: {} bytes left", r.remaining());
}

fn check_request(name: &str, request: Request) {
    let op = request.op();
    check(name, request, Request::encode, |r| Request::decode(op, r));
}

fn check_response(name: &str, op: OpCode, response: Response) {
    check(name, response, Response::encode, |r| {
        Response::decode(op, r)
    });
}

fn stat() -> Stat {
    Stat {
        czxid: Zxid(0x1_0000_0001),
        mzxid: Zxid(0x1_0000_0002),
        ctime: 1_700_000_000_000,
        mtime: 1_700_000_000_001,
        version: 3,
        cversion: 4,
        aversion: 5,
        ephemeral_owner: SessionId(0x0100_0000_0000_0001),
        data_length: 5,
        num_children: 2,
        pzxid: Zxid(0x1_0000_0003),
    }
}

fn digest_acl() -> Vec<Acl> {
    vec![Acl {
        perms: Perms(Perms::READ.0 | Perms::ADMIN.0),
        id: Id::new("digest", "bob:x"),
    }]
}

fn hello() -> Vec<u8> {
    b"hello".to_vec()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| s.to_string()).collect()
}

#[test]
fn connect_records_match_java() {
    check(
        "connect_request",
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: Zxid(0),
            timeout_ms: 30000,
            session_id: SessionId(0),
            password: vec![0; 16],
            read_only: Some(false),
        },
        ConnectRequest::encode,
        ConnectRequest::decode,
    );
    check(
        "connect_request_old",
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: Zxid(0x2_0000_0005),
            timeout_ms: 10000,
            session_id: SessionId(0x0100_0000_0000_0001),
            password: vec![0; 16],
            read_only: None,
        },
        ConnectRequest::encode,
        ConnectRequest::decode,
    );
    check(
        "connect_response",
        ConnectResponse {
            protocol_version: 0,
            timeout_ms: 30000,
            session_id: SessionId(0x0100_0000_0000_0001),
            password: (1..=16).collect(),
            read_only: Some(true),
        },
        ConnectResponse::encode,
        ConnectResponse::decode,
    );
}

#[test]
fn headers_match_java() {
    check(
        "reply_header",
        ReplyHeader::new(Xid(5), Zxid(0x1_0000_0003), ErrorCode::NoNode),
        ReplyHeader::encode,
        ReplyHeader::decode,
    );
    check(
        "ping_reply",
        ReplyHeader::new(Xid::PING, Zxid(0x1_0000_0003), ErrorCode::Ok),
        ReplyHeader::encode,
        ReplyHeader::decode,
    );
    check(
        "request_header_create",
        (
            RequestHeader::new(Xid(1), OpCode::Create),
            Request::Create(CreateRequest {
                path: "/app/node".into(),
                data: Some(hello()),
                acl: Acl::open_unsafe(),
                flags: CreateMode::EphemeralSequential.flags(),
            }),
        ),
        |(header, request), out| {
            header.encode(out);
            request.encode(out);
        },
        |r| {
            let header = RequestHeader::decode(r)?;
            let request = Request::decode(header.op_code().unwrap(), r)?;
            Ok((header, request))
        },
    );
}

#[test]
fn single_requests_match_java() {
    check_request(
        "create_ttl",
        Request::CreateTtl(CreateTtlRequest {
            path: "/t".into(),
            data: Some(hello()),
            acl: digest_acl(),
            flags: 5,
            ttl: 60000,
        }),
    );
    check_request(
        "delete",
        Request::Delete(DeleteRequest {
            path: "/a".into(),
            version: -1,
        }),
    );
    check_request(
        "exists",
        Request::Exists(ExistsRequest {
            path: "/a".into(),
            watch: true,
        }),
    );
    check_request(
        "get_data",
        Request::GetData(GetDataRequest {
            path: "/a".into(),
            watch: false,
        }),
    );
    check_request(
        "set_data",
        Request::SetData(SetDataRequest {
            path: "/a".into(),
            data: Some(hello()),
            version: 7,
        }),
    );
    check_request(
        "get_acl",
        Request::GetAcl(GetAclRequest { path: "/a".into() }),
    );
    check_request(
        "set_acl",
        Request::SetAcl(SetAclRequest {
            path: "/a".into(),
            acl: digest_acl(),
            version: 2,
        }),
    );
    check_request(
        "get_children2",
        Request::GetChildren2(GetChildren2Request {
            path: "/a".into(),
            watch: true,
        }),
    );
    check_request("sync", Request::Sync(SyncRequest { path: "/a".into() }));
    // Java writes U+1F600 as two 3-byte surrogates and, like us, reads each back as U+FFFD.
    let java = &vectors()["sync_non_bmp"];
    let non_bmp = Request::Sync(SyncRequest {
        path: "/\u{1f600}\u{0}\u{e9}".into(),
    });
    assert_eq!(&non_bmp.to_bytes(), java);
    assert_eq!(
        Request::decode(OpCode::Sync, &mut Reader::new(java)),
        Ok(Request::Sync(SyncRequest {
            path: "/\u{fffd}\u{fffd}\u{0}\u{e9}".into(),
        }))
    );
    check_request(
        "check",
        Request::Check(CheckVersionRequest {
            path: "/a".into(),
            version: 9,
        }),
    );
    check_request(
        "reconfig",
        Request::Reconfig(ReconfigRequest {
            joining_servers: None,
            leaving_servers: Some("3".into()),
            new_members: None,
            cur_config_id: -1,
        }),
    );
    check_request(
        "check_watches",
        Request::CheckWatches(CheckWatchesRequest {
            path: "/a".into(),
            watcher_type: 2,
        }),
    );
    check_request(
        "remove_watches",
        Request::RemoveWatches(RemoveWatchesRequest {
            path: "/a".into(),
            watcher_type: 3,
        }),
    );
    check_request(
        "auth",
        Request::Auth(AuthPacket {
            auth_type: 0,
            scheme: "digest".into(),
            auth: b"bob:secret".to_vec(),
        }),
    );
    check_request(
        "set_watches",
        Request::SetWatches(SetWatches {
            relative_zxid: Zxid(0x1_0000_0009),
            data_watches: strings(&["/d"]),
            exist_watches: strings(&["/e", "/f"]),
            child_watches: vec![],
        }),
    );
    check_request(
        "set_watches2",
        Request::SetWatches2(SetWatches2 {
            relative_zxid: Zxid(0x1_0000_000a),
            data_watches: strings(&["/d"]),
            exist_watches: vec![],
            child_watches: strings(&["/c"]),
            persistent_watches: strings(&["/p"]),
            persistent_recursive_watches: strings(&["/r"]),
        }),
    );
    check_request("sasl", Request::Sasl(GetSaslRequest { token: vec![9, 8] }));
    check_request(
        "get_ephemerals",
        Request::GetEphemerals(GetEphemeralsRequest {
            prefix_path: "/".into(),
        }),
    );
    check_request(
        "get_all_children_number",
        Request::GetAllChildrenNumber(GetAllChildrenNumberRequest { path: "/a".into() }),
    );
    check_request(
        "add_watch",
        Request::AddWatch(AddWatchRequest {
            path: "/a".into(),
            mode: AddWatchMode::PersistentRecursive.code(),
        }),
    );
}

#[test]
fn multi_requests_match_java() {
    let create = |path: &str, flags: CreateMode| CreateRequest {
        path: path.into(),
        data: Some(hello()),
        acl: Acl::open_unsafe(),
        flags: flags.flags(),
    };
    check_request(
        "multi_request",
        Request::Multi(MultiRequest {
            ops: vec![
                MultiOp::Create(create("/m", CreateMode::PersistentSequential)),
                MultiOp::CreateContainer(create("/c", CreateMode::Container)),
                MultiOp::CreateTtl(CreateTtlRequest {
                    path: "/t".into(),
                    data: Some(hello()),
                    acl: Acl::open_unsafe(),
                    flags: CreateMode::PersistentWithTtl.flags(),
                    ttl: 5000,
                }),
                MultiOp::Delete(DeleteRequest {
                    path: "/d".into(),
                    version: -1,
                }),
                MultiOp::SetData(SetDataRequest {
                    path: "/s".into(),
                    data: Some(hello()),
                    version: 4,
                }),
                MultiOp::Check(CheckVersionRequest {
                    path: "/k".into(),
                    version: 1,
                }),
            ],
        }),
    );
    check_request(
        "multi_read_request",
        Request::MultiRead(MultiRequest {
            ops: vec![
                MultiOp::GetData(GetDataRequest {
                    path: "/g".into(),
                    watch: false,
                }),
                MultiOp::GetChildren(GetChildrenRequest {
                    path: "/h".into(),
                    watch: false,
                }),
            ],
        }),
    );
}

#[test]
fn multi_response_matches_java() {
    check_response(
        "multi_response",
        OpCode::Multi,
        Response::Multi(MultiResponse {
            results: vec![
                MultiResult::Create(CreateResponse {
                    path: "/m0000000001".into(),
                }),
                MultiResult::Create2(Create2Response {
                    path: "/c".into(),
                    stat: stat(),
                }),
                MultiResult::Delete,
                MultiResult::SetData(SetDataResponse { stat: stat() }),
                MultiResult::Check,
                MultiResult::GetData(GetDataResponse {
                    data: Some(hello()),
                    stat: stat(),
                }),
                MultiResult::GetChildren(GetChildrenResponse {
                    children: strings(&["x", "y"]),
                }),
                MultiResult::error(ErrorCode::NoNode),
            ],
        }),
    );
}

#[test]
fn notification_matches_java() {
    check(
        "notification",
        WatcherEvent {
            event_type: EventType::NodeDataChanged,
            state: KeeperState::SyncConnected,
            path: "/a".into(),
        },
        |event, out| encode_notification(event.event_type, &event.path, out),
        |r| {
            let header = ReplyHeader::decode(r)?;
            assert_eq!(header, watcher::NOTIFICATION_HEADER);
            WatcherEvent::decode(r)
        },
    );
}

#[test]
fn responses_match_java() {
    check_response(
        "create_response",
        OpCode::Create,
        Response::Create(CreateResponse {
            path: "/a0000000007".into(),
        }),
    );
    for op in [OpCode::Create2, OpCode::CreateContainer, OpCode::CreateTtl] {
        check_response(
            "create2_response",
            op,
            Response::Create2(Create2Response {
                path: "/a".into(),
                stat: stat(),
            }),
        );
    }
    check_response(
        "exists_response",
        OpCode::Exists,
        Response::Exists(ExistsResponse { stat: stat() }),
    );
    for op in [OpCode::GetData, OpCode::Reconfig] {
        check_response(
            "get_data_response",
            op,
            Response::GetData(GetDataResponse {
                data: Some(hello()),
                stat: stat(),
            }),
        );
    }
    check_response(
        "get_acl_response",
        OpCode::GetAcl,
        Response::GetAcl(GetAclResponse {
            acl: digest_acl(),
            stat: stat(),
        }),
    );
    check_response(
        "get_children_response",
        OpCode::GetChildren,
        Response::GetChildren(GetChildrenResponse {
            children: strings(&["a", "b"]),
        }),
    );
    check_response(
        "get_children2_response",
        OpCode::GetChildren2,
        Response::GetChildren2(GetChildren2Response {
            children: strings(&["a"]),
            stat: stat(),
        }),
    );
    check_response(
        "sync_response",
        OpCode::Sync,
        Response::Sync(SyncResponse { path: "/a".into() }),
    );
    check_response(
        "sasl_response",
        OpCode::Sasl,
        Response::Sasl(SetSaslResponse { token: vec![7] }),
    );
    check_response(
        "get_ephemerals_response",
        OpCode::GetEphemerals,
        Response::GetEphemerals(GetEphemeralsResponse {
            ephemerals: strings(&["/e1", "/e2"]),
        }),
    );
    check_response(
        "get_all_children_number_response",
        OpCode::GetAllChildrenNumber,
        Response::GetAllChildrenNumber(GetAllChildrenNumberResponse { total_number: 42 }),
    );
    check_response(
        "who_am_i_response",
        OpCode::WhoAmI,
        Response::WhoAmI(WhoAmIResponse {
            client_info: vec![
                ClientInfo {
                    auth_scheme: "ip".into(),
                    user: "127.0.0.1".into(),
                },
                ClientInfo {
                    auth_scheme: "digest".into(),
                    user: "bob".into(),
                },
            ],
        }),
    );
    check_response(
        "add_watch_response",
        OpCode::AddWatch,
        Response::AddWatch(ErrorResponse { err: 0 }),
    );
}

#[test]
fn every_vector_is_checked() {
    // Keeps vectors.txt and this file in step: a new vector needs a check above.
    assert_eq!(vectors().len(), 49);
}

#[test]
fn null_znode_data_matches_java() {
    // Java writes a null byte[] as length -1; it must read back as None, not as empty.
    check_request(
        "create_null_data",
        Request::Create(CreateRequest {
            path: "/n".into(),
            data: None,
            acl: Acl::open_unsafe(),
            flags: 0,
        }),
    );
    check_request(
        "create_ttl_null_data",
        Request::CreateTtl(CreateTtlRequest {
            path: "/n".into(),
            data: None,
            acl: Acl::open_unsafe(),
            flags: CreateMode::PersistentWithTtl.flags(),
            ttl: 1000,
        }),
    );
    check_request(
        "set_data_null",
        Request::SetData(SetDataRequest {
            path: "/n".into(),
            data: None,
            version: -1,
        }),
    );
    check_request(
        "multi_request_null_data",
        Request::Multi(MultiRequest {
            ops: vec![
                MultiOp::Create(CreateRequest {
                    path: "/n".into(),
                    data: None,
                    acl: Acl::open_unsafe(),
                    flags: 0,
                }),
                MultiOp::SetData(SetDataRequest {
                    path: "/n".into(),
                    data: None,
                    version: -1,
                }),
            ],
        }),
    );
    for op in [OpCode::GetData, OpCode::Reconfig] {
        check_response(
            "get_data_response_null",
            op,
            Response::GetData(GetDataResponse {
                data: None,
                stat: stat(),
            }),
        );
    }
    // Empty data stays empty: it is not null.
    let empty = SetDataRequest {
        path: "/n".into(),
        data: Some(Vec::new()),
        version: -1,
    };
    assert_eq!(SetDataRequest::from_bytes(&empty.to_bytes()), Ok(empty));
}
