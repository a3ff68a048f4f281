//! One client connection: a reader that frames and decodes requests and hands them to the core in
//! batches, and a writer that flushes whatever the core queued in the connection's [`Outbox`].
//!
//! The reader also recognises four-letter words (the first 4 bytes of a connection that has not
//! sent a ConnectRequest), enforces `jute.maxbuffer`, closes a connection that never sends a
//! ConnectRequest, and takes a permit of the server-wide `globalOutstandingLimit` budget for each
//! request, so a client that stops reading its replies stops being read.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tracing::{debug, info, warn, Instrument};
use zk_proto::connect::ConnectRequest;
use zk_proto::four_letter::FourLetterWord;
use zk_proto::frame::decode_frame as next_frame;
use zk_proto::header::RequestHeader;
use zk_proto::request::Request;
use zk_proto::{OpCode, Reader, Record};

use crate::core::{Body, CoreMsg, Incoming};
use crate::four_letter;
use crate::outbox::{Flush, Outbox};
use crate::server::Shared;
use crate::stats::{ConnId, ConnStats};

/// The read buffer of an idle connection; it grows with bursts and big frames and shrinks back
/// once drained, so thousands of idle sessions cost little memory.
const READ_BUFFER_MIN: usize = 4 * 1024;
/// The read buffer size kept while requests keep coming.
const READ_BUFFER_BUSY: usize = 64 * 1024;

/// Serves one accepted connection until it closes.
pub(crate) async fn serve(shared: Arc<Shared>, stream: TcpStream, peer: SocketAddr, id: ConnId) {
    let span = tracing::info_span!("session", id = tracing::field::Empty, peer = %peer);
    async move {
        if let Err(e) = stream.set_nodelay(true) {
            debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let stats = Arc::new(ConnStats::new(peer));
        let (read_half, write_half) = stream.into_split();
        let outbox = Arc::new(Outbox::new(id, stats.clone(), write_half));
        shared.register(id, stats.clone());
        let mut writer = tokio::spawn(write_loop(outbox.clone()));
        let mut reader = ConnReader {
            shared: shared.clone(),
            outbox: outbox.clone(),
            stats,
            peer,
            id,
            buf: Vec::with_capacity(READ_BUFFER_MIN),
            established: false,
            session_recorded: false,
        };
        tokio::select! {
            () = reader.run(read_half) => {}
            _ = &mut writer => {}
        }
        outbox.close();
        // The core forgets the connection (its watches go, its session stays).
        let _ = shared.core_tx.send(CoreMsg::Closed { conn: id }).await;
        if !writer.is_finished() {
            let _ = writer.await;
        }
        shared.unregister(id, peer.ip());
        debug!("connection closed");
    }
    .instrument(span)
    .await
}

/// Flushes what the core could not write directly, and closes the write side when asked.
async fn write_loop(outbox: Arc<Outbox>) {
    loop {
        match outbox.flush() {
            Flush::Done => outbox.ready().await,
            Flush::Blocked => {
                if outbox.writable().await.is_err() {
                    outbox.close();
                    let _ = outbox.flush();
                    return;
                }
            }
            // The write side shuts down when the last reference to the outbox goes.
            Flush::Closed => return,
        }
    }
}

struct ConnReader {
    shared: Arc<Shared>,
    outbox: Arc<Outbox>,
    stats: Arc<ConnStats>,
    peer: SocketAddr,
    id: ConnId,
    buf: Vec<u8>,
    established: bool,
    session_recorded: bool,
}

enum Step {
    Continue,
    Stop,
}

impl ConnReader {
    async fn run(&mut self, mut socket: OwnedReadHalf) {
        let timeout =
            Duration::from_millis(u64::from(self.shared.config.sessionless_cnxn_timeout_ms));
        let handshake_deadline = tokio::time::Instant::now() + timeout;
        let mut shutdown = self.shared.shutdown.clone();
        loop {
            if self.buf.is_empty() && self.buf.capacity() > READ_BUFFER_BUSY {
                self.buf = Vec::with_capacity(READ_BUFFER_MIN);
            }
            if self.buf.capacity() - self.buf.len() < 1024 {
                // Double, so a big frame arrives in few reads.
                self.buf
                    .reserve(self.buf.capacity().clamp(READ_BUFFER_MIN, READ_BUFFER_BUSY));
            }
            let read = async {
                if self.established {
                    socket.read_buf(&mut self.buf).await
                } else {
                    match tokio::time::timeout_at(
                        handshake_deadline,
                        socket.read_buf(&mut self.buf),
                    )
                    .await
                    {
                        Ok(result) => result,
                        Err(_) => Err(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "no ConnectRequest",
                        )),
                    }
                }
            };
            let result = tokio::select! {
                r = read => r,
                _ = shutdown.changed() => return,
            };
            match result {
                Ok(0) => {
                    debug!("client closed the connection");
                    return;
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    info!(
                        timeout_ms = timeout.as_millis() as u64,
                        "closing connection that sent no ConnectRequest in time"
                    );
                    return;
                }
                Err(e) => {
                    debug!(error = %e, "read failed");
                    return;
                }
            }
            if let Step::Stop = self.process_buffer().await {
                return;
            }
        }
    }

    /// Handles every complete frame in the buffer.
    async fn process_buffer(&mut self) -> Step {
        if !self.established {
            match self.handshake().await {
                Step::Stop => return Step::Stop,
                Step::Continue if !self.established => return Step::Continue,
                Step::Continue => {}
            }
        }
        let max = self.shared.config.jute_max_buffer;
        let mut offset = 0;
        let mut stop = false;
        loop {
            let mut batch = Vec::new();
            while batch.len() < self.shared.max_batch {
                match next_frame(&self.buf[offset..], max) {
                    Ok(None) => break,
                    Ok(Some((consumed, payload))) => {
                        offset += consumed;
                        match decode_request(payload) {
                            Some(incoming) => batch.push(incoming),
                            None => {
                                warn!(
                                    len = payload.len(),
                                    "closing connection: request header cannot be decoded"
                                );
                                stop = true;
                                break;
                            }
                        }
                    }
                    Err(e) => {
                        warn!(error = %e, "closing connection: bad frame length (jute.maxbuffer)");
                        stop = true;
                        break;
                    }
                }
            }
            if !batch.is_empty() {
                let n = batch.len();
                // Backpressure: this connection's unwritten replies, then the server's budget.
                self.outbox.backlog_drained().await;
                // Throttle: wait for budget before handing more work to the core.
                match self.shared.budget.acquire_many(n as u32).await {
                    Ok(permits) => permits.forget(),
                    Err(_) => return Step::Stop,
                }
                self.stats.packets_received.fetch_add(n as u64, Relaxed);
                self.stats.queued.fetch_add(n as u64, Relaxed);
                self.shared
                    .stats
                    .packets_received
                    .fetch_add(n as u64, Relaxed);
                if self
                    .shared
                    .core_tx
                    .send(CoreMsg::Requests {
                        conn: self.id,
                        batch,
                    })
                    .await
                    .is_err()
                {
                    return Step::Stop;
                }
            }
            if stop {
                return Step::Stop;
            }
            if self.buf.len() - offset < 4
                || matches!(next_frame(&self.buf[offset..], max), Ok(None))
            {
                break;
            }
        }
        self.buf.drain(..offset);
        self.record_session();
        Step::Continue
    }

    fn record_session(&mut self) {
        if !self.session_recorded {
            let session = self.stats.session_id();
            if session.0 != 0 {
                tracing::Span::current().record("id", tracing::field::display(session));
                self.session_recorded = true;
            }
        }
    }

    /// Before the ConnectRequest: a four-letter word or the ConnectRequest itself.
    async fn handshake(&mut self) -> Step {
        if self.buf.len() < 4 {
            return Step::Continue;
        }
        let code = i32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
        if let Some(word) = FourLetterWord::from_i32(code) {
            self.four_letter(word).await;
            return Step::Stop;
        }
        let max = self.shared.config.jute_max_buffer;
        let (consumed, connect) = match next_frame(&self.buf, max) {
            Ok(None) => return Step::Continue,
            Ok(Some((consumed, payload))) => (consumed, decode_connect(payload)),
            Err(e) => {
                warn!(error = %e, "closing connection: bad frame length (jute.maxbuffer)");
                return Step::Stop;
            }
        };
        let Some(request) = connect else {
            warn!("closing connection: the first packet is not a valid ConnectRequest");
            return Step::Stop;
        };
        self.buf.drain(..consumed);
        self.established = true;
        self.stats.packets_received.fetch_add(1, Relaxed);
        self.shared.stats.packets_received.fetch_add(1, Relaxed);
        let msg = CoreMsg::Connect {
            conn: self.outbox.clone(),
            peer: self.peer,
            request,
            received: Instant::now(),
        };
        if self.shared.core_tx.send(msg).await.is_err() {
            return Step::Stop;
        }
        Step::Continue
    }

    async fn four_letter(&mut self, word: FourLetterWord) {
        let name = word.name();
        let text = if !self.shared.config.four_letter_whitelist.allows(name) {
            info!(
                command = name,
                "four-letter word refused: not in the whitelist"
            );
            format!("{name} is not executed because it is not in the whitelist.\n")
        } else {
            info!(command = name, "four-letter word");
            let shared = &self.shared;
            match word {
                FourLetterWord::Ruok => "imok".to_owned(),
                FourLetterWord::TelnetClose => String::new(),
                FourLetterWord::Isro => "rw".to_owned(),
                // These need no core state (and may touch the file system): answer here.
                FourLetterWord::Conf => four_letter::conf(&shared.config, shared.client_port),
                FourLetterWord::Envi => four_letter::envi(),
                FourLetterWord::Dirs => four_letter::dirs(&shared.config),
                FourLetterWord::Cons => four_letter::cons(&shared.connections()),
                FourLetterWord::Crst => {
                    for conn in shared.connections() {
                        conn.reset();
                    }
                    "Connection stats reset.\n".to_owned()
                }
                FourLetterWord::Srst => {
                    shared.stats.reset();
                    "Server stats reset.\n".to_owned()
                }
                _ => {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    if self
                        .shared
                        .core_tx
                        .send(CoreMsg::FourLetter { word, reply: tx })
                        .await
                        .is_err()
                    {
                        return;
                    }
                    rx.await.unwrap_or_default()
                }
            }
        };
        self.outbox.push_raw(text.as_bytes());
        self.outbox.close();
        self.outbox.wake();
    }
}

fn decode_connect(payload: &[u8]) -> Option<ConnectRequest> {
    ConnectRequest::decode(&mut Reader::new(payload)).ok()
}

/// Decodes one request frame; `None` when not even the header can be read.
fn decode_request(payload: &[u8]) -> Option<Incoming> {
    let mut reader = Reader::new(payload);
    let header = RequestHeader::decode(&mut reader).ok()?;
    let body = match OpCode::from_code(header.op) {
        None => Body::Unknown,
        Some(op) => match Request::decode(op, &mut reader) {
            Ok(request) => Body::Decoded(request),
            Err(e) => Body::Undecodable(op, e),
        },
    };
    Some(Incoming {
        xid: header.xid,
        op: header.op,
        body,
        received: Instant::now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_frame_has_no_request_header() {
        assert!(decode_request(&[0, 0, 0, 1]).is_none());
        let incoming = decode_request(&[0, 0, 0, 1, 0, 0, 0, 99]).unwrap();
        assert!(matches!(incoming.body, Body::Unknown));
    }
}
