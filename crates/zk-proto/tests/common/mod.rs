//! Shared by the test files: proptest strategies for every record, the Java golden vectors, and
//! the decode-stability check.

#![allow(dead_code, unreachable_pub)]

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::Union;
use zk_proto::*;

/// Strings that survive a jute round trip: any BMP character (NUL included). Characters
/// outside the BMP come back as U+FFFD pairs, as in Java; `non_bmp_strings_read_back_as_java_does`
/// covers them.
pub fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "/[a-z0-9/]{0,12}",
        "[\\x{0}-\\x{FFFF}]{0,8}"
    ]
}

pub fn data() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..48)
}

/// Znode data: null (`None`, length -1 on the wire) as well as empty and non-empty buffers.
pub fn znode_data() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![1 => Just(None), 4 => data().prop_map(Some)]
}

pub fn names() -> impl Strategy<Value = Vec<String>> {
    vec(path(), 0..5)
}

pub fn zxid() -> impl Strategy<Value = Zxid> {
    any::<u64>().prop_map(Zxid)
}

pub fn session_id() -> impl Strategy<Value = SessionId> {
    any::<i64>().prop_map(SessionId)
}

pub fn stat() -> impl Strategy<Value = Stat> {
    (
        (zxid(), zxid(), any::<i64>(), any::<i64>()),
        (any::<i32>(), any::<i32>(), any::<i32>(), session_id()),
        (any::<i32>(), any::<i32>(), zxid()),
    )
        .prop_map(
            |(
                (czxid, mzxid, ctime, mtime),
                (version, cversion, aversion, ephemeral_owner),
                (data_length, num_children, pzxid),
            )| Stat {
                czxid,
                mzxid,
                ctime,
                mtime,
                version,
                cversion,
                aversion,
                ephemeral_owner,
                data_length,
                num_children,
                pzxid,
            },
        )
}

pub fn acl() -> impl Strategy<Value = Vec<Acl>> {
    vec(
        (any::<i32>(), path(), path()).prop_map(|(perms, scheme, id)| Acl {
            perms: Perms(perms),
            id: Id { scheme, id },
        }),
        0..4,
    )
}

pub fn create_request() -> impl Strategy<Value = CreateRequest> {
    (path(), znode_data(), acl(), any::<i32>()).prop_map(|(path, data, acl, flags)| CreateRequest {
        path,
        data,
        acl,
        flags,
    })
}

pub fn create_ttl_request() -> impl Strategy<Value = CreateTtlRequest> {
    (path(), znode_data(), acl(), any::<i32>(), any::<i64>()).prop_map(
        |(path, data, acl, flags, ttl)| CreateTtlRequest {
            path,
            data,
            acl,
            flags,
            ttl,
        },
    )
}

pub fn delete_request() -> impl Strategy<Value = DeleteRequest> {
    (path(), any::<i32>()).prop_map(|(path, version)| DeleteRequest { path, version })
}

pub fn set_data_request() -> impl Strategy<Value = SetDataRequest> {
    (path(), znode_data(), any::<i32>()).prop_map(|(path, data, version)| SetDataRequest {
        path,
        data,
        version,
    })
}

pub fn check_request() -> impl Strategy<Value = CheckVersionRequest> {
    (path(), any::<i32>()).prop_map(|(path, version)| CheckVersionRequest { path, version })
}

pub fn get_data_request() -> impl Strategy<Value = GetDataRequest> {
    (path(), any::<bool>()).prop_map(|(path, watch)| GetDataRequest { path, watch })
}

pub fn get_children_request() -> impl Strategy<Value = GetChildrenRequest> {
    (path(), any::<bool>()).prop_map(|(path, watch)| GetChildrenRequest { path, watch })
}

pub fn multi_op() -> impl Strategy<Value = MultiOp> {
    prop_oneof![
        create_request().prop_map(MultiOp::Create),
        create_request().prop_map(MultiOp::Create2),
        create_request().prop_map(MultiOp::CreateContainer),
        create_ttl_request().prop_map(MultiOp::CreateTtl),
        delete_request().prop_map(MultiOp::Delete),
        set_data_request().prop_map(MultiOp::SetData),
        check_request().prop_map(MultiOp::Check),
        get_data_request().prop_map(MultiOp::GetData),
        get_children_request().prop_map(MultiOp::GetChildren),
    ]
}

pub fn multi_request() -> impl Strategy<Value = MultiRequest> {
    vec(multi_op(), 0..6).prop_map(|ops| MultiRequest { ops })
}

fn opt_string() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(path())
}

pub fn set_watches() -> impl Strategy<Value = SetWatches> {
    (zxid(), names(), names(), names()).prop_map(
        |(relative_zxid, data_watches, exist_watches, child_watches)| SetWatches {
            relative_zxid,
            data_watches,
            exist_watches,
            child_watches,
        },
    )
}

pub fn set_watches2() -> impl Strategy<Value = SetWatches2> {
    (zxid(), names(), names(), names(), names(), names()).prop_map(
        |(relative_zxid, data, exist, child, persistent, recursive)| SetWatches2 {
            relative_zxid,
            data_watches: data,
            exist_watches: exist,
            child_watches: child,
            persistent_watches: persistent,
            persistent_recursive_watches: recursive,
        },
    )
}

/// Every request variant, with arbitrary field values.
pub fn request() -> impl Strategy<Value = Request> {
    Union::new(vec![
        create_request().prop_map(Request::Create).boxed(),
        create_request().prop_map(Request::Create2).boxed(),
        create_request().prop_map(Request::CreateContainer).boxed(),
        create_ttl_request().prop_map(Request::CreateTtl).boxed(),
        delete_request().prop_map(Request::Delete).boxed(),
        (path(), any::<bool>())
            .prop_map(|(path, watch)| Request::Exists(ExistsRequest { path, watch }))
            .boxed(),
        get_data_request().prop_map(Request::GetData).boxed(),
        set_data_request().prop_map(Request::SetData).boxed(),
        path()
            .prop_map(|path| Request::GetAcl(GetAclRequest { path }))
            .boxed(),
        (path(), acl(), any::<i32>())
            .prop_map(|(path, acl, version)| Request::SetAcl(SetAclRequest { path, acl, version }))
            .boxed(),
        get_children_request()
            .prop_map(Request::GetChildren)
            .boxed(),
        (path(), any::<bool>())
            .prop_map(|(path, watch)| Request::GetChildren2(GetChildren2Request { path, watch }))
            .boxed(),
        path()
            .prop_map(|path| Request::Sync(SyncRequest { path }))
            .boxed(),
        Just(Request::Ping).boxed(),
        check_request().prop_map(Request::Check).boxed(),
        multi_request().prop_map(Request::Multi).boxed(),
        multi_request().prop_map(Request::MultiRead).boxed(),
        (opt_string(), opt_string(), opt_string(), any::<i64>())
            .prop_map(
                |(joining_servers, leaving_servers, new_members, cur_config_id)| {
                    Request::Reconfig(ReconfigRequest {
                        joining_servers,
                        leaving_servers,
                        new_members,
                        cur_config_id,
                    })
                },
            )
            .boxed(),
        (path(), any::<i32>())
            .prop_map(|(path, watcher_type)| {
                Request::CheckWatches(CheckWatchesRequest { path, watcher_type })
            })
            .boxed(),
        (path(), any::<i32>())
            .prop_map(|(path, watcher_type)| {
                Request::RemoveWatches(RemoveWatchesRequest { path, watcher_type })
            })
            .boxed(),
        path()
            .prop_map(|path| Request::DeleteContainer(DeleteContainerRequest { path }))
            .boxed(),
        (any::<i32>(), path(), data())
            .prop_map(|(auth_type, scheme, auth)| {
                Request::Auth(AuthPacket {
                    auth_type,
                    scheme,
                    auth,
                })
            })
            .boxed(),
        set_watches().prop_map(Request::SetWatches).boxed(),
        set_watches2().prop_map(Request::SetWatches2).boxed(),
        data()
            .prop_map(|token| Request::Sasl(GetSaslRequest { token }))
            .boxed(),
        path()
            .prop_map(|prefix_path| Request::GetEphemerals(GetEphemeralsRequest { prefix_path }))
            .boxed(),
        path()
            .prop_map(|path| Request::GetAllChildrenNumber(GetAllChildrenNumberRequest { path }))
            .boxed(),
        (path(), any::<i32>())
            .prop_map(|(path, mode)| Request::AddWatch(AddWatchRequest { path, mode }))
            .boxed(),
        Just(Request::WhoAmI).boxed(),
        Just(Request::CloseSession).boxed(),
    ])
}

pub fn create_response() -> impl Strategy<Value = CreateResponse> {
    path().prop_map(|path| CreateResponse { path })
}

pub fn create2_response() -> impl Strategy<Value = Create2Response> {
    (path(), stat()).prop_map(|(path, stat)| Create2Response { path, stat })
}

pub fn get_data_response() -> impl Strategy<Value = GetDataResponse> {
    (znode_data(), stat()).prop_map(|(data, stat)| GetDataResponse { data, stat })
}

pub fn multi_result() -> impl Strategy<Value = MultiResult> {
    prop_oneof![
        create_response().prop_map(MultiResult::Create),
        create2_response().prop_map(MultiResult::Create2),
        Just(MultiResult::Delete),
        stat().prop_map(|stat| MultiResult::SetData(SetDataResponse { stat })),
        Just(MultiResult::Check),
        get_data_response().prop_map(MultiResult::GetData),
        names().prop_map(|children| MultiResult::GetChildren(GetChildrenResponse { children })),
        any::<i32>().prop_map(|err| MultiResult::Error(ErrorResponse { err })),
    ]
}

pub fn multi_response() -> impl Strategy<Value = MultiResponse> {
    vec(multi_result(), 0..6).prop_map(|results| MultiResponse { results })
}

/// Every response variant, with arbitrary field values.
pub fn response() -> impl Strategy<Value = Response> {
    Union::new(vec![
        create_response().prop_map(Response::Create).boxed(),
        create2_response().prop_map(Response::Create2).boxed(),
        stat()
            .prop_map(|stat| Response::Exists(ExistsResponse { stat }))
            .boxed(),
        get_data_response().prop_map(Response::GetData).boxed(),
        stat()
            .prop_map(|stat| Response::SetData(SetDataResponse { stat }))
            .boxed(),
        (acl(), stat())
            .prop_map(|(acl, stat)| Response::GetAcl(GetAclResponse { acl, stat }))
            .boxed(),
        stat()
            .prop_map(|stat| Response::SetAcl(SetAclResponse { stat }))
            .boxed(),
        names()
            .prop_map(|children| Response::GetChildren(GetChildrenResponse { children }))
            .boxed(),
        (names(), stat())
            .prop_map(|(children, stat)| {
                Response::GetChildren2(GetChildren2Response { children, stat })
            })
            .boxed(),
        path()
            .prop_map(|path| Response::Sync(SyncResponse { path }))
            .boxed(),
        multi_response().prop_map(Response::Multi).boxed(),
        data()
            .prop_map(|token| Response::Sasl(SetSaslResponse { token }))
            .boxed(),
        names()
            .prop_map(|ephemerals| Response::GetEphemerals(GetEphemeralsResponse { ephemerals }))
            .boxed(),
        any::<i32>()
            .prop_map(|total_number| {
                Response::GetAllChildrenNumber(GetAllChildrenNumberResponse { total_number })
            })
            .boxed(),
        vec(
            (path(), path()).prop_map(|(auth_scheme, user)| ClientInfo { auth_scheme, user }),
            0..4,
        )
        .prop_map(|client_info| Response::WhoAmI(WhoAmIResponse { client_info }))
        .boxed(),
        any::<i32>()
            .prop_map(|err| Response::AddWatch(ErrorResponse { err }))
            .boxed(),
        Just(Response::Empty).boxed(),
    ])
}

/// An opcode whose reply body decodes as `response`'s variant.
pub fn op_for_response(response: &Response) -> OpCode {
    match response {
        Response::Create(_) => OpCode::Create,
        Response::Create2(_) => OpCode::Create2,
        Response::Exists(_) => OpCode::Exists,
        Response::GetData(_) => OpCode::GetData,
        Response::SetData(_) => OpCode::SetData,
        Response::GetAcl(_) => OpCode::GetAcl,
        Response::SetAcl(_) => OpCode::SetAcl,
        Response::GetChildren(_) => OpCode::GetChildren,
        Response::GetChildren2(_) => OpCode::GetChildren2,
        Response::Sync(_) => OpCode::Sync,
        Response::Multi(_) => OpCode::Multi,
        Response::Sasl(_) => OpCode::Sasl,
        Response::GetEphemerals(_) => OpCode::GetEphemerals,
        Response::GetAllChildrenNumber(_) => OpCode::GetAllChildrenNumber,
        Response::WhoAmI(_) => OpCode::WhoAmI,
        Response::AddWatch(_) => OpCode::AddWatch,
        Response::Empty => OpCode::Delete,
        other => panic!("no opcode for {other:?}"),
    }
}

pub fn connect_request() -> impl Strategy<Value = ConnectRequest> {
    (
        any::<i32>(),
        zxid(),
        any::<i32>(),
        session_id(),
        data(),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(
            |(protocol_version, last_zxid_seen, timeout_ms, session_id, password, read_only)| {
                ConnectRequest {
                    protocol_version,
                    last_zxid_seen,
                    timeout_ms,
                    session_id,
                    password,
                    read_only,
                }
            },
        )
}

pub fn connect_response() -> impl Strategy<Value = ConnectResponse> {
    (
        any::<i32>(),
        any::<i32>(),
        session_id(),
        data(),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(
            |(protocol_version, timeout_ms, session_id, password, read_only)| ConnectResponse {
                protocol_version,
                timeout_ms,
                session_id,
                password,
                read_only,
            },
        )
}

pub fn watcher_event() -> impl Strategy<Value = WatcherEvent> {
    (
        proptest::sample::select(EventType::ALL),
        proptest::sample::select(KeeperState::ALL),
        path(),
    )
        .prop_map(|(event_type, state, path)| WatcherEvent {
            event_type,
            state,
            path,
        })
}

pub fn request_header() -> impl Strategy<Value = RequestHeader> {
    (any::<i32>(), any::<i32>()).prop_map(|(xid, op)| RequestHeader { xid: Xid(xid), op })
}

pub fn reply_header() -> impl Strategy<Value = ReplyHeader> {
    (any::<i32>(), zxid(), any::<i32>()).prop_map(|(xid, zxid, err)| ReplyHeader {
        xid: Xid(xid),
        zxid,
        err,
    })
}

/// The golden vectors of `java/vectors.txt` (printed by `java/JuteVectors.java`), by name.
pub fn java_vectors() -> std::collections::BTreeMap<&'static str, Vec<u8>> {
    include_str!("../java/vectors.txt")
        .lines()
        .map(|line| {
            let (name, hex) = line.split_once(' ').expect("`name hex`");
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            (name, bytes)
        })
        .collect()
}

/// Decodes `bytes` with `decode`; a success must re-encode into bytes that decode again, and
/// after that one normalisation (null to empty, booleans to 0/1, non-BMP characters to U+FFFD
/// pairs as in Java) encode-then-decode must be the identity. Panics otherwise.
pub fn check_stable<T, D, E>(bytes: &[u8], decode: D, encode: E)
where
    T: PartialEq + std::fmt::Debug,
    D: Fn(&mut Reader<'_>) -> Result<T, DecodeError>,
    E: Fn(&T, &mut Vec<u8>),
{
    let reencode = |value: &T| {
        let mut bytes = Vec::new();
        encode(value, &mut bytes);
        let mut r = Reader::new(&bytes);
        let again = decode(&mut r).expect("a re-encoded value decodes");
        assert!(
            r.is_empty(),
            "{} bytes left after a re-encoded value",
            r.remaining()
        );
        again
    };
    if let Ok(value) = decode(&mut Reader::new(bytes)) {
        let normalised = reencode(&value);
        assert_eq!(reencode(&normalised), normalised);
    }
}
