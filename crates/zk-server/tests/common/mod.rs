//! A raw jute client for the integration tests: frames, ConnectRequest, one request at a time,
//! with watch notifications collected on the side. Every wait is bounded (generous, for two noisy
//! cores) so a broken server fails a test instead of hanging it.

#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zk_proto::watcher::WatcherEvent;
use zk_proto::{
    decode_frame, encode_frame, ConnectRequest, ConnectResponse, ErrorCode, OpCode, Reader, Record,
    ReplyHeader, Request, RequestHeader, Response, SessionId, Xid, Zxid,
};
use zk_server::{Config, Server, ServerHandle};

/// How long any single wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// Starts a server on 127.0.0.1 with a free port.
pub async fn start(config: Config) -> ServerHandle {
    Server::start(config).await.expect("server starts")
}

/// A test configuration: tickTime 100 ms, sessions 200 ms .. 60 s.
pub fn config() -> Config {
    let mut config = Config::for_tests(100);
    config.min_session_timeout_ms = Some(200);
    config.max_session_timeout_ms = Some(60_000);
    config
}

/// Polls `check` until it returns true, failing the test after [`WAIT`].
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A reply: header plus the decoded body when err is 0.
#[derive(Debug)]
pub struct Reply {
    pub header: ReplyHeader,
    pub body: Option<Response>,
}

impl Reply {
    pub fn err(&self) -> i32 {
        self.header.err
    }

    pub fn ok(&self) -> bool {
        self.header.err == 0
    }
}

pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
    next_xid: i32,
    pub session: SessionId,
    pub password: Vec<u8>,
    pub timeout_ms: i32,
    pub events: VecDeque<WatcherEvent>,
    pub last_zxid: Zxid,
}

impl Client {
    /// Opens a TCP connection without any handshake.
    pub async fn raw(addr: SocketAddr) -> Client {
        let stream = tokio::time::timeout(WAIT, TcpStream::connect(addr))
            .await
            .expect("connect in time")
            .expect("connect");
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            buf: Vec::new(),
            next_xid: 1,
            session: SessionId(0),
            password: Vec::new(),
            timeout_ms: 0,
            events: VecDeque::new(),
            last_zxid: Zxid::ZERO,
        }
    }

    /// A new session with the given requested timeout.
    pub async fn connect_timeout(addr: SocketAddr, timeout_ms: i32) -> Client {
        let mut client = Client::raw(addr).await;
        let response = client
            .handshake(&ConnectRequest {
                protocol_version: 0,
                last_zxid_seen: Zxid::ZERO,
                timeout_ms,
                session_id: SessionId(0),
                password: vec![0; 16],
                read_only: Some(false),
            })
            .await
            .expect("connect response");
        assert!(response.timeout_ms > 0, "session refused: {response:?}");
        client
    }

    /// A new session with a 30 s timeout.
    pub async fn connect(addr: SocketAddr) -> Client {
        Client::connect_timeout(addr, 30_000).await
    }

    /// Sends a ConnectRequest and reads the ConnectResponse (`None` if the server closed).
    pub async fn handshake(&mut self, request: &ConnectRequest) -> Option<ConnectResponse> {
        self.send_frame(&request.to_bytes()).await;
        let payload = self.read_frame().await?;
        let response = ConnectResponse::from_bytes(&payload).expect("decodable ConnectResponse");
        self.session = response.session_id;
        self.password = response.password.clone();
        self.timeout_ms = response.timeout_ms;
        Some(response)
    }

    /// Sends bytes as one frame.
    pub async fn send_frame(&mut self, payload: &[u8]) {
        let mut out = Vec::new();
        encode_frame(payload, &mut out);
        self.send_raw(&out).await;
    }

    /// Sends bytes as they are.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes).await;
    }

    /// Reads one frame's payload; `None` once the server closed the connection.
    pub async fn read_frame(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Ok(Some((consumed, payload))) = decode_frame(&self.buf, 16 << 20) {
                let payload = payload.to_vec();
                self.buf.drain(..consumed);
                return Some(payload);
            }
            self.buf.reserve(64 * 1024);
            let n = tokio::time::timeout(WAIT, self.stream.read_buf(&mut self.buf))
                .await
                .expect("server answers in time")
                .unwrap_or(0);
            if n == 0 {
                return None;
            }
        }
    }

    /// Reads until the server closes; everything it sent (four-letter words).
    pub async fn read_to_end(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.buf);
        let _ = tokio::time::timeout(WAIT, self.stream.read_to_end(&mut out))
            .await
            .expect("server closes in time");
        out
    }

    /// Whether the server closed the connection (reads until EOF, discarding data).
    pub async fn closed_by_server(&mut self) -> bool {
        let mut chunk = vec![0u8; 4096];
        loop {
            match tokio::time::timeout(WAIT, self.stream.read(&mut chunk)).await {
                Err(_) => return false,
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue,
            }
        }
    }

    /// Sends a request with the next xid and waits for its reply (notifications are queued).
    pub async fn call(&mut self, request: Request) -> Reply {
        let xid = Xid(self.next_xid);
        self.next_xid += 1;
        self.call_with_xid(xid, request).await
    }

    pub async fn call_with_xid(&mut self, xid: Xid, request: Request) -> Reply {
        let op = request.op();
        let mut payload = Vec::new();
        RequestHeader::new(xid, op).encode(&mut payload);
        request.encode(&mut payload);
        self.send_frame(&payload).await;
        self.reply_for(xid, op).await.expect("reply before close")
    }

    /// Reads frames until the reply to `xid` (notifications go to `events`).
    pub async fn reply_for(&mut self, xid: Xid, op: OpCode) -> Option<Reply> {
        loop {
            let payload = self.read_frame().await?;
            let mut reader = Reader::new(&payload);
            let header = ReplyHeader::decode(&mut reader).expect("reply header");
            if header.xid == Xid::NOTIFICATION {
                let event = WatcherEvent::decode(&mut reader).expect("watcher event");
                self.events.push_back(event);
                continue;
            }
            assert_eq!(header.xid, xid, "replies come in request order");
            if header.zxid.as_i64() > 0 {
                self.last_zxid = self.last_zxid.max(header.zxid);
            }
            let body = if header.err == 0 {
                Some(Response::decode(op, &mut reader).expect("decodable response"))
            } else {
                None
            };
            return Some(Reply { header, body });
        }
    }

    /// The next notification (waits for one if none is queued).
    pub async fn next_event(&mut self) -> WatcherEvent {
        if let Some(event) = self.events.pop_front() {
            return event;
        }
        let payload = self.read_frame().await.expect("notification before close");
        let mut reader = Reader::new(&payload);
        let header = ReplyHeader::decode(&mut reader).expect("reply header");
        assert_eq!(header.xid, Xid::NOTIFICATION, "unexpected reply {header:?}");
        WatcherEvent::decode(&mut reader).expect("watcher event")
    }

    /// A ping round trip (also proves no notification was pending before it).
    pub async fn ping(&mut self) -> Reply {
        self.call_with_xid(Xid::PING, Request::Ping).await
    }
}

/// Sends a four-letter word and returns the whole answer.
pub async fn four_letter(addr: SocketAddr, word: &str) -> String {
    let mut client = Client::raw(addr).await;
    client.send_raw(word.as_bytes()).await;
    String::from_utf8(client.read_to_end().await).expect("ASCII answer")
}

/// The error code of a reply.
pub fn code(reply: &Reply) -> ErrorCode {
    ErrorCode::from_code(reply.err()).expect("known error code")
}
