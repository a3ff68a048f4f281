//! One client session over its own TCP connection: connect handshake, queued writes, replies
//! read in order.

use std::collections::VecDeque;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::records::{
    decode_connect_response, decode_reply_header, encode_connect, encode_request, ReplyHeader,
    Request,
};

/// How long the generator waits for any single reply before it gives up on the server.
pub(crate) const REPLY_TIMEOUT: Duration = Duration::from_secs(20);

/// Largest frame the generator accepts (ZooKeeper's default `jute.maxbuffer`).
const MAX_FRAME: usize = 0xfffff;

/// One client session over its own TCP connection.
pub(crate) struct Connection {
    stream: BufReader<TcpStream>,
    frame: Vec<u8>,
    out: Vec<u8>,
    next_xid: i32,
    /// The session id the server gave.
    pub(crate) session_id: i64,
}

impl Connection {
    /// Connects to `server` and establishes a new session.
    pub(crate) async fn open(server: &str) -> Result<Connection> {
        let stream = tokio::time::timeout(REPLY_TIMEOUT, TcpStream::connect(server))
            .await
            .with_context(|| format!("connecting to {server} timed out"))?
            .with_context(|| format!("cannot connect to {server}"))?;
        stream.set_nodelay(true)?;
        let mut connection = Connection {
            stream: BufReader::with_capacity(64 * 1024, stream),
            frame: Vec::with_capacity(1024),
            out: Vec::with_capacity(64 * 1024),
            next_xid: 1,
            session_id: 0,
        };
        let mut hello = Vec::new();
        encode_connect(&mut hello);
        connection.stream.get_mut().write_all(&hello).await?;
        connection
            .read_frame()
            .await
            .context("no ConnectResponse")?;
        let response = decode_connect_response(&connection.frame)?;
        if response.timeout_ms <= 0 {
            bail!("{server} refused the session");
        }
        connection.session_id = response.session_id;
        Ok(connection)
    }

    /// Queues `request` in the output buffer (sent by [`Connection::flush`]); returns its xid.
    pub(crate) fn queue(&mut self, request: &Request<'_>) -> i32 {
        let xid = self.next_xid;
        self.next_xid = if xid == i32::MAX { 1 } else { xid + 1 };
        encode_request(&mut self.out, xid, request);
        xid
    }

    /// Writes every queued request.
    pub(crate) async fn flush(&mut self) -> Result<()> {
        if !self.out.is_empty() {
            self.stream.get_mut().write_all(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }

    /// Reads the next reply to a request (notifications and pings are skipped).
    pub(crate) async fn recv(&mut self) -> Result<ReplyHeader> {
        loop {
            self.read_frame().await?;
            let header = decode_reply_header(&self.frame)?;
            if header.xid >= 0 {
                return Ok(header);
            }
        }
    }

    /// Sends one request and waits for its reply.
    pub(crate) async fn call(&mut self, request: &Request<'_>) -> Result<ReplyHeader> {
        let xid = self.queue(request);
        self.flush().await?;
        let reply = self.recv().await?;
        ensure!(
            reply.xid == xid,
            "reply xid {} does not match request xid {xid}",
            reply.xid
        );
        Ok(reply)
    }

    /// Sends `requests` with at most `depth` in flight and returns each reply's error code,
    /// in request order.
    pub(crate) async fn pipeline<'r>(
        &mut self,
        requests: &[Request<'r>],
        depth: usize,
    ) -> Result<Vec<i32>> {
        let depth = depth.max(1);
        let mut requests = requests.iter();
        let mut in_flight = VecDeque::with_capacity(depth);
        let mut errors = Vec::new();
        loop {
            while in_flight.len() < depth {
                let Some(request) = requests.next() else {
                    break;
                };
                in_flight.push_back(self.queue(request));
            }
            self.flush().await?;
            let Some(xid) = in_flight.pop_front() else {
                return Ok(errors);
            };
            let reply = self.recv().await?;
            ensure!(
                reply.xid == xid,
                "reply xid {} does not match request xid {xid}",
                reply.xid
            );
            errors.push(reply.err);
        }
    }

    /// Closes the session politely; errors are ignored since the run is over anyway.
    pub(crate) async fn close(mut self) {
        let _ =
            tokio::time::timeout(Duration::from_secs(2), self.call(&Request::CloseSession)).await;
    }

    async fn read_frame(&mut self) -> Result<()> {
        let read = async {
            let len = self.stream.read_i32().await?;
            let len = usize::try_from(len)
                .ok()
                .filter(|&n| n <= MAX_FRAME)
                .with_context(|| format!("bad frame length {len}"))?;
            self.frame.resize(len, 0);
            self.stream.read_exact(&mut self.frame).await?;
            anyhow::Ok(())
        };
        tokio::time::timeout(REPLY_TIMEOUT, read)
            .await
            .with_context(|| format!("no reply within {} s", REPLY_TIMEOUT.as_secs()))?
            .context("connection to the server failed")
    }
}
