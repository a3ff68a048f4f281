//! Sessions in the core: the connect handshake (new session through a createSession txn,
//! reattach with id and password), closeSession, and expiry through closeSession txns.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use tracing::{debug, info, warn};
use zk_proto::connect::{session_password, ConnectRequest, ConnectResponse};
use zk_proto::{Id, Record, SessionId};
use zk_tree::Op;

use super::{Conn, Core};
use crate::outbox::Outbox;
use crate::stats::{wall_clock_ms, ConnId};

impl Core {
    pub(super) fn on_connect(
        &mut self,
        outbox: Arc<Outbox>,
        peer: SocketAddr,
        request: ConnectRequest,
        received: Instant,
    ) {
        let id = outbox.id;
        self.io.conns.insert(
            id,
            Conn {
                outbox,
                peer,
                session: None,
                auth: vec![Id::new("ip", peer.ip().to_string())],
                staged: Vec::new(),
                staged_replies: 0,
                staged_frames: 0,
                close_after: false,
                dirty: false,
                closed: false,
                writes_outstanding: 0,
                queued: std::collections::VecDeque::new(),
            },
        );
        if !self.serving() {
            debug!("not serving clients (electing or synchronizing); closing the new connection");
            self.close_after_flush(id);
            return;
        }
        if request.last_zxid_seen > self.last_zxid {
            info!(
                client_zxid = %request.last_zxid_seen,
                server_zxid = %self.last_zxid,
                "refusing a client that has seen a newer zxid than this server; closing"
            );
            self.close_after_flush(id);
            return;
        }
        let now = self.now_ms();
        let negotiated_ms = self.sessions.negotiate_timeout_ms(request.timeout_ms);
        if request.session_id.0 == 0 && self.is_cluster() {
            self.cluster_connect(id, request, received, negotiated_ms);
        } else if request.session_id.0 == 0 {
            let session = self.sessions.next_session_id();
            let result = self.write(
                session,
                0,
                &Op::CreateSession {
                    timeout_ms: negotiated_ms,
                },
            );
            if !result.result.error_code().is_ok() {
                warn!(%session, err = %result.result.error_code(), "createSession failed");
                self.connect_failed(id, &request);
                return;
            }
            self.sessions.add(session, negotiated_ms, now);
            debug!(%session, timeout_ms = negotiated_ms, "new session");
            self.attach(id, session, negotiated_ms, &request, received);
        } else {
            let session = request.session_id;
            // A session has one connection: the older one goes.
            if let Some(old) = self.session_conns.get(&session).copied() {
                if old != id {
                    debug!(%session, "closing the session's older connection");
                    self.close_after_flush(old);
                }
            }
            let password_ok = request.password.as_slice() == session_password(session).as_slice();
            if !password_ok {
                info!(%session, "wrong password on reattach; answering with an invalid session");
                self.connect_failed(id, &request);
            } else if !self.sessions.touch(session, now) {
                info!(%session, "reattach to an expired or unknown session");
                self.connect_failed(id, &request);
            } else {
                debug!(%session, "session reattached");
                self.attach(id, session, negotiated_ms, &request, received);
            }
        }
    }

    /// Binds a connection to a session and answers the ConnectRequest.
    pub(super) fn attach(
        &mut self,
        id: ConnId,
        session: SessionId,
        timeout_ms: i32,
        request: &ConnectRequest,
        received: Instant,
    ) {
        let Some(conn) = self.io.conns.get_mut(&id) else {
            return;
        };
        conn.session = Some(session);
        let stats = &conn.outbox.stats;
        stats.session_id.store(session.0, Relaxed);
        stats
            .timeout_ms
            .store(u32::try_from(timeout_ms).unwrap_or(0), Relaxed);
        stats.established_ms.store(wall_clock_ms(), Relaxed);
        stats.latency.record(received.elapsed().as_millis() as u64);
        self.session_conns.insert(session, id);
        let response = ConnectResponse {
            protocol_version: 0,
            timeout_ms,
            session_id: session,
            password: session_password(session).to_vec(),
            read_only: request.read_only.map(|_| false),
        };
        self.stage(id, false, |out| response.encode(out));
    }

    /// Answers an invalid-session ConnectResponse, then closes.
    pub(super) fn connect_failed(&mut self, id: ConnId, request: &ConnectRequest) {
        let response = ConnectResponse::invalid(request);
        self.stage(id, false, |out| response.encode(out));
        self.close_after_flush(id);
    }

    /// Closes a session through a closeSession txn (client request, expiry), deleting its
    /// ephemerals and firing their watches. Returns the txn's zxid.
    pub(super) fn close_session(&mut self, session: SessionId, cxid: i32) -> zk_proto::Zxid {
        self.sessions.set_closing(session);
        let outcome = self.write(session, cxid, &Op::CloseSession);
        let zxid = self.last_zxid;
        if !outcome.result.error_code().is_ok() {
            warn!(%session, err = %outcome.result.error_code(), "closeSession failed");
        }
        self.sessions.remove(session);
        zxid
    }

    /// Expires every session whose deadline passed (a timer calls this every half tick).
    pub(super) fn expire_sessions(&mut self) {
        let now = self.now_ms();
        for session in self.sessions.expired(now) {
            info!(%session, "session expired");
            self.close_session(session, 0);
            if let Some(id) = self.session_conns.remove(&session) {
                self.close_after_flush(id);
            }
        }
    }
}
