//! Connect handshake: new sessions, reattach with the right and wrong password, old clients
//! without the read-only byte, a client that has seen a newer zxid, closeSession.

mod common;

use common::{code, config, start, Client};
use zk_proto::{
    session_password, Acl, ConnectRequest, CreateMode, CreateRequest, ErrorCode, GetDataRequest,
    Record, Request, SessionId, Zxid,
};

fn create(path: &str, flags: CreateMode) -> Request {
    Request::Create(CreateRequest {
        path: path.into(),
        data: Some(b"x".to_vec()),
        acl: Acl::open_unsafe(),
        flags: flags.flags(),
    })
}

#[tokio::test]
async fn a_new_session_gets_an_id_the_password_and_a_clamped_timeout() {
    let server = start(config()).await;
    let client = Client::connect_timeout(server.local_addr(), 1_000_000).await;
    assert_ne!(client.session, SessionId(0));
    assert_eq!(client.password, session_password(client.session));
    assert_eq!(client.timeout_ms, 60_000);
    let low = Client::connect_timeout(server.local_addr(), 1).await;
    assert_eq!(low.timeout_ms, 200);
    assert_ne!(low.session, client.session);
    server.shutdown().await;
}

#[tokio::test]
async fn reattaching_with_the_password_keeps_the_session_and_closes_the_old_connection() {
    let server = start(config()).await;
    let mut first = Client::connect(server.local_addr()).await;
    assert!(first.call(create("/eph", CreateMode::Ephemeral)).await.ok());
    let mut second = Client::raw(server.local_addr()).await;
    let response = second
        .handshake(&ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: first.last_zxid,
            timeout_ms: 30_000,
            session_id: first.session,
            password: first.password.clone(),
            read_only: Some(false),
        })
        .await
        .expect("answer");
    assert_eq!(response.session_id, first.session);
    assert!(response.timeout_ms > 0);
    assert!(
        first.closed_by_server().await,
        "the older connection is closed"
    );
    let reply = second
        .call(Request::GetData(GetDataRequest {
            path: "/eph".into(),
            watch: false,
        }))
        .await;
    assert!(reply.ok(), "the ephemeral survives the reattach");
    server.shutdown().await;
}

#[tokio::test]
async fn a_wrong_password_gets_an_invalid_session_answer_then_close() {
    let server = start(config()).await;
    let first = Client::connect(server.local_addr()).await;
    let mut other = Client::raw(server.local_addr()).await;
    let response = other
        .handshake(&ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: Zxid::ZERO,
            timeout_ms: 30_000,
            session_id: first.session,
            password: vec![1; 16],
            read_only: Some(false),
        })
        .await
        .expect("answer");
    assert_eq!(response.timeout_ms, 0);
    assert_eq!(response.session_id, SessionId(0));
    assert_eq!(response.password, vec![0; 16]);
    assert_eq!(response.read_only, Some(false));
    assert!(other.closed_by_server().await);
    server.shutdown().await;
}

#[tokio::test]
async fn an_unknown_session_gets_an_invalid_session_answer() {
    let server = start(config()).await;
    let mut client = Client::raw(server.local_addr()).await;
    let session = SessionId(0x1234);
    let response = client
        .handshake(&ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: Zxid::ZERO,
            timeout_ms: 30_000,
            session_id: session,
            password: session_password(session).to_vec(),
            read_only: None,
        })
        .await
        .expect("answer");
    assert_eq!(response.timeout_ms, 0);
    assert_eq!(
        response.read_only, None,
        "an old client gets the short response"
    );
    assert!(client.closed_by_server().await);
    server.shutdown().await;
}

#[tokio::test]
async fn an_old_client_without_the_read_only_byte_gets_a_36_byte_response() {
    let server = start(config()).await;
    let mut client = Client::raw(server.local_addr()).await;
    let request = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: Zxid::ZERO,
        timeout_ms: 30_000,
        session_id: SessionId(0),
        password: vec![0; 16],
        read_only: None,
    };
    client.send_frame(&request.to_bytes()).await;
    let payload = client.read_frame().await.expect("response");
    assert_eq!(payload.len(), 36);
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_ahead_of_the_server_is_closed_without_an_answer() {
    let server = start(config()).await;
    let mut client = Client::raw(server.local_addr()).await;
    let request = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: Zxid(0x5_0000_0000),
        timeout_ms: 30_000,
        session_id: SessionId(0),
        password: vec![0; 16],
        read_only: Some(false),
    };
    client.send_frame(&request.to_bytes()).await;
    assert!(client.read_frame().await.is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn close_session_replies_deletes_ephemerals_and_closes_the_socket() {
    let server = start(config()).await;
    let mut owner = Client::connect(server.local_addr()).await;
    assert!(owner.call(create("/e", CreateMode::Ephemeral)).await.ok());
    let mut observer = Client::connect(server.local_addr()).await;
    let reply = owner.call(Request::CloseSession).await;
    assert!(reply.ok());
    assert!(owner.closed_by_server().await);
    let reply = observer
        .call(Request::GetData(GetDataRequest {
            path: "/e".into(),
            watch: false,
        }))
        .await;
    assert_eq!(code(&reply), ErrorCode::NoNode);
    // The closed session cannot be reattached.
    let mut again = Client::raw(server.local_addr()).await;
    let response = again
        .handshake(&ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: Zxid::ZERO,
            timeout_ms: 30_000,
            session_id: owner.session,
            password: owner.password.clone(),
            read_only: Some(false),
        })
        .await
        .expect("answer");
    assert_eq!(response.timeout_ms, 0);
    server.shutdown().await;
}

#[tokio::test]
async fn requests_pipelined_behind_the_connect_request_are_answered_in_order() {
    let server = start(config()).await;
    let mut client = Client::raw(server.local_addr()).await;
    let mut bytes = Vec::new();
    let connect = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: Zxid::ZERO,
        timeout_ms: 30_000,
        session_id: SessionId(0),
        password: Vec::new(),
        read_only: Some(false),
    };
    zk_proto::encode_frame(&connect.to_bytes(), &mut bytes);
    let mut payload = Vec::new();
    zk_proto::RequestHeader::new(zk_proto::Xid(1), zk_proto::OpCode::Create).encode(&mut payload);
    create("/pipelined", CreateMode::Persistent).encode(&mut payload);
    zk_proto::encode_frame(&payload, &mut bytes);
    client.send_raw(&bytes).await;
    let response = client.read_frame().await.expect("connect response");
    assert_eq!(response.len(), 37);
    let reply = client
        .reply_for(zk_proto::Xid(1), zk_proto::OpCode::Create)
        .await
        .expect("reply");
    assert!(reply.ok(), "{reply:?}");
    server.shutdown().await;
}

#[test]
fn a_background_server_serves_without_the_callers_runtime() {
    let server = zk_server::Server::start_background(config()).expect("starts");
    let addr = server.local_addr();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        assert_eq!(common::four_letter(addr, "ruok").await, "imok");
        let mut c = Client::connect(addr).await;
        assert!(c.call(create("/bg", CreateMode::Persistent)).await.ok());
    });
    server.stop();
    // Stopped: nothing listens any more.
    assert!(std::net::TcpStream::connect(addr).is_err());
}
