//! Bad input, each handled as ZooKeeper does, while a well-behaved client keeps working.

mod common;

use common::{code, config, start, Client};
use zk_proto::{
    Acl, CreateRequest, ErrorCode, GetDataRequest, OpCode, Record, Request, RequestHeader, Xid,
};

async fn still_serving(good: &mut Client) {
    let reply = good
        .call(Request::GetData(GetDataRequest {
            path: "/zookeeper".into(),
            watch: false,
        }))
        .await;
    assert!(reply.ok(), "the well-behaved client is unaffected");
}

#[tokio::test]
async fn a_negative_frame_length_closes_only_that_connection() {
    let server = start(config()).await;
    let mut good = Client::connect(server.local_addr()).await;
    let mut bad = Client::connect(server.local_addr()).await;
    bad.send_raw(&[0xff, 0xff, 0xff, 0xf0, 1, 2, 3]).await;
    assert!(bad.closed_by_server().await);
    still_serving(&mut good).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_frame_over_jute_maxbuffer_closes_the_connection() {
    let mut cfg = config();
    cfg.jute_max_buffer = 1024;
    let server = start(cfg).await;
    let mut good = Client::connect(server.local_addr()).await;
    let mut bad = Client::connect(server.local_addr()).await;
    bad.send_raw(&2000i32.to_be_bytes()).await;
    assert!(bad.closed_by_server().await);
    // Before the handshake too.
    let mut raw = Client::raw(server.local_addr()).await;
    raw.send_raw(&(1i32 << 20).to_be_bytes()).await;
    assert!(raw.closed_by_server().await);
    still_serving(&mut good).await;
    server.shutdown().await;
}

#[tokio::test]
async fn an_unknown_opcode_is_unimplemented_then_closed() {
    let server = start(config()).await;
    let mut good = Client::connect(server.local_addr()).await;
    let mut bad = Client::connect(server.local_addr()).await;
    let mut payload = Vec::new();
    RequestHeader {
        xid: Xid(7),
        op: 999,
    }
    .encode(&mut payload);
    bad.send_frame(&payload).await;
    let reply = bad
        .reply_for(Xid(7), OpCode::Ping)
        .await
        .expect("a reply before the close");
    assert_eq!(code(&reply), ErrorCode::Unimplemented);
    assert!(bad.closed_by_server().await);
    still_serving(&mut good).await;
    server.shutdown().await;
}

#[tokio::test]
async fn an_undecodable_body_gets_marshalling_error_and_the_connection_stays() {
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;
    let mut payload = Vec::new();
    RequestHeader::new(Xid(1), OpCode::GetData).encode(&mut payload);
    payload.extend_from_slice(&[0, 0, 0x10, 0]); // a string length far beyond the frame
    c.send_frame(&payload).await;
    let reply = c.reply_for(Xid(1), OpCode::GetData).await.expect("reply");
    assert_eq!(code(&reply), ErrorCode::MarshallingError);
    still_serving(&mut c).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_connection_that_never_sends_a_connect_request_is_closed() {
    let mut cfg = config();
    cfg.sessionless_cnxn_timeout_ms = 300;
    let server = start(cfg).await;
    let mut good = Client::connect(server.local_addr()).await;
    let mut silent = Client::raw(server.local_addr()).await;
    assert!(silent.closed_by_server().await);
    // A partial ConnectRequest that never completes is closed too.
    let mut partial = Client::raw(server.local_addr()).await;
    partial.send_raw(&[0, 0, 0, 45, 0, 0]).await;
    assert!(partial.closed_by_server().await);
    still_serving(&mut good).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_request_before_the_connect_request_closes_the_connection() {
    let server = start(config()).await;
    let mut good = Client::connect(server.local_addr()).await;
    let mut early = Client::raw(server.local_addr()).await;
    let mut payload = Vec::new();
    RequestHeader::new(Xid(1), OpCode::GetData).encode(&mut payload);
    GetDataRequest {
        path: "/".into(),
        watch: false,
    }
    .encode(&mut payload);
    early.send_frame(&payload).await;
    assert!(
        early.read_frame().await.is_none(),
        "closed without an answer"
    );
    still_serving(&mut good).await;
    server.shutdown().await;
}

#[tokio::test]
async fn connections_beyond_max_client_cnxns_from_one_ip_are_refused() {
    let mut cfg = config();
    cfg.max_client_cnxns = 2;
    let server = start(cfg).await;
    let mut first = Client::connect(server.local_addr()).await;
    let _second = Client::connect(server.local_addr()).await;
    let mut third = Client::raw(server.local_addr()).await;
    assert!(
        third.closed_by_server().await,
        "the third connection is refused"
    );
    still_serving(&mut first).await;
    // Closing one frees a slot.
    drop(_second);
    let addr = server.local_addr();
    common::eventually("a freed connection slot", || async move {
        let mut c = Client::raw(addr).await;
        c.send_raw(b"ruok").await;
        c.read_to_end().await == b"imok"
    })
    .await;
    server.shutdown().await;
}

#[tokio::test]
async fn many_pipelined_requests_are_answered_in_order_under_a_small_outstanding_limit() {
    let mut cfg = config();
    cfg.global_outstanding_limit = 4;
    let server = start(cfg).await;
    let mut c = Client::connect(server.local_addr()).await;
    let mut bytes = Vec::new();
    for xid in 1..=200 {
        let mut payload = Vec::new();
        RequestHeader::new(Xid(xid), OpCode::Create).encode(&mut payload);
        CreateRequest {
            path: format!("/n{xid}"),
            data: Some(vec![b'x'; 100]),
            acl: Acl::open_unsafe(),
            flags: 0,
        }
        .encode(&mut payload);
        zk_proto::encode_frame(&payload, &mut bytes);
    }
    c.send_raw(&bytes).await;
    for xid in 1..=200 {
        let reply = c.reply_for(Xid(xid), OpCode::Create).await.expect("reply");
        assert!(reply.ok());
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_that_never_reads_its_replies_does_not_stall_the_others() {
    let mut cfg = config();
    cfg.global_outstanding_limit = 100;
    let server = start(cfg).await;
    let mut good = Client::connect(server.local_addr()).await;
    let big = CreateRequest {
        path: "/big".into(),
        data: Some(vec![7; 64 * 1024]),
        acl: Acl::open_unsafe(),
        flags: 0,
    };
    assert!(good.call(Request::Create(big)).await.ok());
    let greedy = Client::connect(server.local_addr()).await;
    let mut bytes = Vec::new();
    for xid in 1..=2000 {
        let mut payload = Vec::new();
        RequestHeader::new(Xid(xid), OpCode::GetData).encode(&mut payload);
        GetDataRequest {
            path: "/big".into(),
            watch: false,
        }
        .encode(&mut payload);
        zk_proto::encode_frame(&payload, &mut bytes);
    }
    // 2000 replies of 64 KiB: far more than the socket buffers hold. The greedy client never
    // reads, so its writes stall; a background task keeps sending.
    // The read half stays open (and unread) until the end of the test.
    let (_read_half, mut write_half) = greedy.stream.into_split();
    let sender = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let _ = write_half.write_all(&bytes).await;
        write_half
    });
    for _ in 0..50 {
        still_serving(&mut good).await;
    }
    sender.abort();
    server.shutdown().await;
}
