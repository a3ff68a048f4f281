//! Request dispatch in the core: one arm per opcode, writes through prepare/apply on the data
//! tree (every write takes a zxid, failed ones too), reads with ACL checks and watch
//! registration, and the session-level requests (ping, auth, sasl, watches management).

use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use tracing::{info, warn};
use zk_proto::jute::Writer;
use zk_proto::multi::{MultiOp, MultiResponse, MultiResult};
use zk_proto::request::{CreateRequest, Request};
use zk_proto::response::{
    ClientInfo, Create2Response, CreateResponse, ErrorResponse, ExistsResponse, GetAclResponse,
    GetAllChildrenNumberResponse, GetChildren2Response, GetChildrenResponse, GetDataResponse,
    GetEphemeralsResponse, SetDataResponse, SyncResponse, WhoAmIResponse,
};
use zk_proto::{CreateMode, ErrorCode, Id, OpCode, Perms, Record, SessionId, Xid, Zxid};
use zk_tree::{
    acl, ApplyOutcome, DataTree, Op, RequestContext, TreeEvent, TreeEventKind, Txn, TxnHeader,
    TxnResult,
};
use zk_watch::{EventKind, NodeView, NodeZxids, RemoveKind, SetWatchLists, WatchKind};

use super::cluster::{encode_write_body, ReplyKind};
use super::{trace_request, Body, Core, Incoming};
use crate::config::Config;
use crate::four_letter::Facts;
use crate::stats::{wall_clock_ms, ConnId};

/// A fresh data tree for this configuration.
pub(super) fn new_tree(config: &Config) -> DataTree {
    DataTree::with_config(config.tree_config())
}

/// Fills in what the four-letter words need from the tree.
pub(super) fn tree_facts(tree: &DataTree, facts: &mut Facts) {
    facts.node_count = tree.node_count();
    facts.approximate_data_size = tree.approximate_data_size();
    facts.ephemerals = tree
        .ephemerals_by_session()
        .map(|(session, paths)| (session, paths.iter().cloned().collect()))
        .collect();
}

/// The tree as the watch registry's SetWatches needs it.
struct TreeView<'a>(&'a DataTree);

impl NodeView for TreeView<'_> {
    fn zxids(&self, path: &str) -> Option<NodeZxids> {
        self.0
            .node_zxids(path)
            .map(|(czxid, mzxid, pzxid)| NodeZxids {
                czxid,
                mzxid,
                pzxid,
            })
    }
}

fn event_kind(kind: TreeEventKind) -> EventKind {
    match kind {
        TreeEventKind::NodeCreated => EventKind::NodeCreated,
        TreeEventKind::NodeDeleted => EventKind::NodeDeleted,
        TreeEventKind::NodeDataChanged => EventKind::NodeDataChanged,
        TreeEventKind::NodeChildrenChanged => EventKind::NodeChildrenChanged,
    }
}

impl Core {
    /// Prepares, applies and logs one write, and fires its watches.
    pub(super) fn write(&mut self, session: SessionId, cxid: i32, op: &Op) -> ApplyOutcome {
        debug_assert!(
            !self.is_cluster(),
            "cluster mode applies a write only when it is committed"
        );
        let zxid = self.next_zxid();
        let time_ms = wall_clock_ms();
        // The identities of the session's connection (none for server-generated txns).
        let auth = self
            .session_conns
            .get(&session)
            .and_then(|id| self.io.conns.get(id))
            .map_or(&[][..], |conn| conn.auth.as_slice());
        let ctx = RequestContext {
            session_id: session,
            auth,
            time_ms,
            zxid,
        };
        let txn = self.tree.prepare(&ctx, op);
        self.apply_txn(session, cxid, zxid, time_ms, txn)
    }

    /// Logs and applies a txn built without prepare (failed decoding, refused opcodes).
    fn write_error(&mut self, session: SessionId, cxid: i32, code: ErrorCode) -> Zxid {
        debug_assert!(
            !self.is_cluster(),
            "cluster mode applies a write only when it is committed"
        );
        let zxid = self.next_zxid();
        self.apply_txn(session, cxid, zxid, wall_clock_ms(), Txn::Error(code));
        zxid
    }

    fn apply_txn(
        &mut self,
        session: SessionId,
        cxid: i32,
        zxid: Zxid,
        time_ms: i64,
        txn: Txn,
    ) -> ApplyOutcome {
        let header = TxnHeader {
            session_id: session,
            cxid,
            zxid,
            time_ms,
        };
        let outcome = self.tree.apply(&header, &txn);
        self.pending.push((header, txn));
        self.fire(&outcome.events);
        outcome
    }

    /// Turns tree events into notifications for the watching connections that may read the node.
    pub(super) fn fire(&mut self, events: &[TreeEvent]) {
        for event in events {
            let fired = self.watches.trigger(&event.path, event_kind(event.kind));
            for (watcher, kind, path) in fired {
                let id = ConnId(watcher.0);
                let allowed = self.io.conns.get(&id).is_some_and(|conn| {
                    acl::check_acl(&event.acl, Perms::READ, &conn.auth).is_ok()
                });
                if allowed {
                    self.notify_one(id, kind, &path);
                }
            }
        }
    }

    fn notify_one(&mut self, id: ConnId, kind: EventKind, path: &str) {
        let event = super::event_type(kind);
        self.stage(id, false, |out| {
            zk_proto::watcher::encode_notification(event, path, out)
        });
    }

    /// Drops a request that gets no reply, returning its budget.
    pub(super) fn discard(&mut self, id: ConnId) {
        self.release(1);
        if let Some(conn) = self.io.conns.get(&id) {
            conn.outbox.written(1);
        }
    }

    pub(super) fn on_request(&mut self, id: ConnId, incoming: Incoming) {
        let Some(conn) = self.io.conns.get(&id) else {
            self.discard(id);
            return;
        };
        let (session, closed) = (conn.session, conn.closed);
        let Some(session) = session.filter(|_| !closed) else {
            self.discard(id);
            return;
        };
        let stats = &conn.outbox.stats;
        stats.last_op.store(i64::from(incoming.op), Relaxed);
        if incoming.xid.0 >= 0 {
            stats.last_cxid.store(i64::from(incoming.xid.0), Relaxed);
        }
        let Incoming {
            xid,
            op,
            body,
            received,
        } = incoming;
        let now = self.now_ms();
        self.cluster_touch(session);
        if !self.sessions.touch(session, now) {
            info!(%session, "request on a closing or expired session; closing the connection");
            self.reply_err(id, xid, ErrorCode::SessionExpired, received);
            self.close_after_flush(id);
            return;
        }
        match body {
            Body::Unknown => self.unimplemented(id, xid, op, received),
            Body::Undecodable(opcode, e) => match opcode {
                OpCode::Auth | OpCode::Sasl => {
                    warn!(%session, op, error = %e, "undecodable auth packet; closing the connection");
                    self.discard(id);
                    self.close_after_flush(id);
                }
                OpCode::Notification | OpCode::CreateSession | OpCode::Error => {
                    self.unimplemented(id, xid, op, received)
                }
                OpCode::Multi if self.is_cluster() => {
                    warn!(%session, op, error = %e, "undecodable multi; answering MARSHALLINGERROR");
                    self.cluster_submit(
                        id,
                        session,
                        xid,
                        crate::cluster::op_error(ErrorCode::MarshallingError),
                        super::cluster::ReplyKind::Empty,
                        received,
                    );
                }
                OpCode::Multi => {
                    warn!(%session, op, error = %e, "undecodable multi; answering MARSHALLINGERROR");
                    let zxid = self.write_error(session, xid.0, ErrorCode::MarshallingError);
                    self.reply(id, xid, zxid, ErrorCode::MarshallingError, received, |_| {});
                }
                _ => {
                    warn!(%session, op, error = %e, "undecodable request; answering MARSHALLINGERROR");
                    self.reply_err(id, xid, ErrorCode::MarshallingError, received);
                }
            },
            Body::Decoded(request) => self.dispatch(id, session, xid, request, received),
        }
    }

    /// ZooKeeper 3.8 answers an opcode it does not serve with UNIMPLEMENTED and closes.
    fn unimplemented(&mut self, id: ConnId, xid: Xid, op: i32, received: Instant) {
        let session = self
            .io
            .conns
            .get(&id)
            .and_then(|conn| conn.session)
            .unwrap_or_default();
        warn!(
            %session,
            op,
            "unsupported opcode; answering UNIMPLEMENTED and closing the connection"
        );
        // Java's UnimplementedRequestProcessor replies with the request's zxid, which is -1.
        self.reply(
            id,
            xid,
            Zxid(u64::MAX),
            ErrorCode::Unimplemented,
            received,
            |_| {},
        );
        self.close_after_flush(id);
    }

    fn reply_err(&mut self, id: ConnId, xid: Xid, err: ErrorCode, received: Instant) {
        trace_request(id, 0, err);
        let zxid = self.last_zxid;
        self.reply(id, xid, zxid, err, received, |_| {});
    }

    fn reply_ok(&mut self, id: ConnId, xid: Xid, received: Instant, body: &impl Record) {
        let zxid = self.last_zxid;
        self.reply(id, xid, zxid, ErrorCode::Ok, received, |out| {
            body.encode(out)
        });
    }

    fn reply_result<R: Record>(
        &mut self,
        id: ConnId,
        xid: Xid,
        received: Instant,
        result: Result<R, ErrorCode>,
    ) {
        match result {
            Ok(body) => self.reply_ok(id, xid, received, &body),
            Err(err) => self.reply_err(id, xid, err, received),
        }
    }

    fn auth(&self, id: ConnId) -> &[Id] {
        self.io
            .conns
            .get(&id)
            .map_or(&[], |conn| conn.auth.as_slice())
    }

    fn add_watch(&mut self, id: ConnId, path: &str, kind: WatchKind) {
        self.watches.add(path, kind, zk_watch::WatcherId(id.0));
    }

    fn dispatch(
        &mut self,
        id: ConnId,
        session: SessionId,
        xid: Xid,
        request: Request,
        received: Instant,
    ) {
        let cxid = xid.0;
        let request = if self.is_cluster() {
            match super::cluster::cluster_write(request) {
                Ok((op, kind)) => {
                    return self.cluster_submit(id, session, xid, op, kind, received);
                }
                Err(request) => request,
            }
        } else {
            request
        };
        match request {
            // ZooKeeper answers a ping with xid -2 whatever xid it came with.
            Request::Ping => self.reply(
                id,
                Xid::PING,
                self.last_zxid,
                ErrorCode::Ok,
                received,
                |_| {},
            ),
            Request::Create(r) => self.create(id, session, xid, OpCode::Create, r, None, received),
            Request::Create2(r) => {
                self.create(id, session, xid, OpCode::Create2, r, None, received)
            }
            Request::CreateContainer(r) => {
                self.create(id, session, xid, OpCode::CreateContainer, r, None, received)
            }
            Request::CreateTtl(r) => {
                let create = CreateRequest {
                    path: r.path,
                    data: r.data,
                    acl: r.acl,
                    flags: r.flags,
                };
                self.create(
                    id,
                    session,
                    xid,
                    OpCode::CreateTtl,
                    create,
                    Some(r.ttl),
                    received,
                )
            }
            Request::Delete(r) => {
                let outcome = self.write(
                    session,
                    cxid,
                    &Op::Delete {
                        path: r.path,
                        version: r.version,
                    },
                );
                self.reply_write(id, xid, received, outcome.result, |_, _| {});
            }
            Request::SetData(r) => {
                let outcome = self.write(
                    session,
                    cxid,
                    &Op::SetData {
                        path: r.path,
                        data: r.data,
                        version: r.version,
                    },
                );
                self.reply_write(id, xid, received, outcome.result, |result, out| {
                    encode_write_body(&ReplyKind::SetData, result, out)
                });
            }
            Request::SetAcl(r) => {
                let outcome = self.write(
                    session,
                    cxid,
                    &Op::SetAcl {
                        path: r.path,
                        acl: r.acl,
                        version: r.version,
                    },
                );
                self.reply_write(id, xid, received, outcome.result, |result, out| {
                    encode_write_body(&ReplyKind::SetAcl, result, out)
                });
            }
            Request::Check(_) => {
                // ZooKeeper 3.8's `Request.isValid` refuses a standalone check.
                self.unimplemented(id, xid, OpCode::Check.code(), received)
            }
            Request::Multi(multi) => self.multi(id, session, xid, multi.ops, received),
            Request::MultiRead(multi) => self.multi_read(id, xid, multi.ops, received),
            Request::Reconfig(_) => {
                let zxid = self.write_error(session, cxid, ErrorCode::ReconfigDisabled);
                self.reply(id, xid, zxid, ErrorCode::ReconfigDisabled, received, |_| {});
            }
            Request::DeleteContainer(r) => {
                let outcome = self.write(session, cxid, &Op::DeleteContainer { path: r.path });
                self.reply_write(id, xid, received, outcome.result, |_, _| {});
            }
            Request::CloseSession => {
                let zxid = self.close_session(session, cxid);
                self.reply(id, xid, zxid, ErrorCode::Ok, received, |_| {});
                self.close_after_flush(id);
            }
            Request::Exists(r) => {
                if r.path.contains('\0') {
                    return self.reply_err(id, xid, ErrorCode::BadArguments, received);
                }
                // As ZooKeeper 3.8.0 (the Debian build the conformance suite runs against):
                // exists checks no ACL. (3.8.4 added a READ check, ZOOKEEPER-2590.)
                let result = match self.tree.exists(&r.path) {
                    Some(stat) => {
                        if r.watch {
                            self.add_watch(id, &r.path, WatchKind::Data);
                        }
                        Ok(ExistsResponse { stat })
                    }
                    None => {
                        if r.watch {
                            self.add_watch(id, &r.path, WatchKind::Exist);
                        }
                        Err(ErrorCode::NoNode)
                    }
                };
                self.reply_result(id, xid, received, result);
            }
            Request::GetData(r) => {
                let auth = self
                    .io
                    .conns
                    .get(&id)
                    .map_or(&[][..], |c| c.auth.as_slice());
                let result = self.tree.get_data(&r.path, auth);
                if r.watch && result.is_ok() {
                    self.watches
                        .add(&r.path, WatchKind::Data, zk_watch::WatcherId(id.0));
                }
                let zxid = self.last_zxid;
                match result {
                    Ok((data, stat)) => {
                        self.io
                            .reply(id, xid, zxid, ErrorCode::Ok, received, |out| {
                                // Null data (created or set as a null buffer) stays null.
                                match data {
                                    Some(data) => out.write_buffer(data),
                                    None => out.write_null(),
                                }
                                stat.encode(out);
                            })
                    }
                    Err(err) => self.reply_err(id, xid, err, received),
                }
            }
            Request::GetChildren(r) => {
                let result = self.tree.get_children(&r.path, self.auth(id));
                if r.watch && result.is_ok() {
                    self.add_watch(id, &r.path, WatchKind::Child);
                }
                let result = result.map(|(children, _)| GetChildrenResponse { children });
                self.reply_result(id, xid, received, result);
            }
            Request::GetChildren2(r) => {
                let result = self.tree.get_children(&r.path, self.auth(id));
                if r.watch && result.is_ok() {
                    self.add_watch(id, &r.path, WatchKind::Child);
                }
                let result = result.map(|(children, stat)| GetChildren2Response { children, stat });
                self.reply_result(id, xid, received, result);
            }
            Request::GetAcl(r) => {
                let result = self
                    .tree
                    .get_acl(&r.path, self.auth(id))
                    .map(|(acl, stat)| GetAclResponse { acl, stat });
                self.reply_result(id, xid, received, result);
            }
            Request::GetAllChildrenNumber(r) => {
                let result = self
                    .tree
                    .get_all_children_number(&r.path, self.auth(id))
                    .map(|total_number| GetAllChildrenNumberResponse { total_number });
                self.reply_result(id, xid, received, result);
            }
            Request::GetEphemerals(r) => {
                let ephemerals = self.tree.ephemerals(session, &r.prefix_path);
                self.reply_ok(id, xid, received, &GetEphemeralsResponse { ephemerals });
            }
            Request::Sync(r) => self.reply_ok(id, xid, received, &SyncResponse { path: r.path }),
            Request::Auth(packet) => {
                let ip = self
                    .io
                    .conns
                    .get(&id)
                    .map(|c| c.peer.ip().to_string())
                    .unwrap_or_default();
                match zk_tree::auth::authenticate(
                    &packet.scheme,
                    &packet.auth,
                    &ip,
                    self.super_digest.as_deref(),
                ) {
                    Ok(ids) => {
                        if let Some(conn) = self.io.conns.get_mut(&id) {
                            for new_id in ids {
                                if !conn.auth.contains(&new_id) {
                                    conn.auth.push(new_id);
                                }
                            }
                        }
                        self.reply(id, xid, Zxid::ZERO, ErrorCode::Ok, received, |_| {});
                    }
                    Err(e) => {
                        warn!(%session, scheme = %e.scheme, "authentication failed; closing the connection");
                        self.shared.stats.auth_failed_count.fetch_add(1, Relaxed);
                        self.reply(id, xid, Zxid::ZERO, ErrorCode::AuthFailed, received, |_| {});
                        self.close_after_flush(id);
                    }
                }
            }
            Request::Sasl(_) => {
                // Without SASL configured, ZooKeeper answers OK with a null token.
                self.reply(id, xid, Zxid::ZERO, ErrorCode::Ok, received, |out| {
                    out.write_null()
                });
            }
            Request::SetWatches(r) => {
                let lists = SetWatchLists {
                    data: r.data_watches,
                    exist: r.exist_watches,
                    child: r.child_watches,
                    persistent: Vec::new(),
                    persistent_recursive: Vec::new(),
                };
                self.set_watches(id, xid, r.relative_zxid, &lists, received);
            }
            Request::SetWatches2(r) => {
                let lists = SetWatchLists {
                    data: r.data_watches,
                    exist: r.exist_watches,
                    child: r.child_watches,
                    persistent: r.persistent_watches,
                    persistent_recursive: r.persistent_recursive_watches,
                };
                self.set_watches(id, xid, r.relative_zxid, &lists, received);
            }
            Request::CheckWatches(r) => {
                let watcher = zk_watch::WatcherId(id.0);
                let result = match RemoveKind::from_code(r.watcher_type) {
                    None => Err(ErrorCode::MarshallingError),
                    Some(kind) => self
                        .watches
                        .check(watcher, &r.path, kind)
                        .map_err(|_| ErrorCode::NoWatcher),
                };
                self.reply_empty(id, xid, received, result);
            }
            Request::RemoveWatches(r) => {
                let watcher = zk_watch::WatcherId(id.0);
                let result = match RemoveKind::from_code(r.watcher_type) {
                    None => Err(ErrorCode::MarshallingError),
                    Some(kind) => self
                        .watches
                        .remove(watcher, &r.path, kind)
                        .map_err(|_| ErrorCode::NoWatcher),
                };
                self.reply_empty(id, xid, received, result);
            }
            Request::AddWatch(r) => {
                let kind = match r.mode {
                    0 => Some(WatchKind::Persistent),
                    1 => Some(WatchKind::PersistentRecursive),
                    _ => None,
                };
                match kind {
                    Some(kind) => {
                        self.add_watch(id, &r.path, kind);
                        self.reply_ok(id, xid, received, &ErrorResponse { err: 0 });
                    }
                    None => self.reply_err(id, xid, ErrorCode::MarshallingError, received),
                }
            }
            Request::WhoAmI => {
                // `ServerCnxn.getClientInfos`: ids of schemes with a provider only (so not
                // `super`), with the provider's user name (digest: the part before `:`).
                let client_info = self
                    .auth(id)
                    .iter()
                    .filter_map(|auth| {
                        let user = match auth.scheme.as_str() {
                            "digest" => auth.id.split(':').next().unwrap_or("").to_owned(),
                            "ip" | "sasl" | "x509" => auth.id.clone(),
                            _ => return None,
                        };
                        Some(ClientInfo {
                            auth_scheme: auth.scheme.clone(),
                            user,
                        })
                    })
                    .collect();
                self.reply_ok(id, xid, received, &WhoAmIResponse { client_info });
            }
            _ => self.unimplemented(id, xid, i32::MIN, received),
        }
    }

    fn reply_empty(
        &mut self,
        id: ConnId,
        xid: Xid,
        received: Instant,
        result: Result<(), ErrorCode>,
    ) {
        match result {
            Ok(()) => self.reply(id, xid, self.last_zxid, ErrorCode::Ok, received, |_| {}),
            Err(err) => self.reply_err(id, xid, err, received),
        }
    }

    fn set_watches(
        &mut self,
        id: ConnId,
        xid: Xid,
        relative_zxid: Zxid,
        lists: &SetWatchLists,
        received: Instant,
    ) {
        let events = self.watches.set_watches(
            zk_watch::WatcherId(id.0),
            relative_zxid,
            lists,
            &TreeView(&self.tree),
        );
        for (kind, path) in events {
            self.notify_one(id, kind, &path);
        }
        self.reply(id, xid, self.last_zxid, ErrorCode::Ok, received, |_| {});
    }

    /// Replies to a write: the txn's zxid in the header, the body only on success.
    fn reply_write(
        &mut self,
        id: ConnId,
        xid: Xid,
        received: Instant,
        result: TxnResult,
        body: impl FnOnce(&TxnResult, &mut Vec<u8>),
    ) {
        let err = result.error_code();
        trace_request(id, 0, err);
        let zxid = self.last_zxid;
        self.reply(id, xid, zxid, err, received, |out| body(&result, out));
    }

    #[allow(clippy::too_many_arguments)]
    fn create(
        &mut self,
        id: ConnId,
        session: SessionId,
        xid: Xid,
        opcode: OpCode,
        request: CreateRequest,
        ttl: Option<i64>,
        received: Instant,
    ) {
        let Some(mode) = CreateMode::from_flags(request.flags) else {
            let zxid = self.write_error(session, xid.0, ErrorCode::BadArguments);
            self.reply(id, xid, zxid, ErrorCode::BadArguments, received, |_| {});
            return;
        };
        let op = Op::Create {
            path: request.path,
            data: request.data,
            acl: request.acl,
            mode,
            ttl_ms: ttl,
        };
        let outcome = self.write(session, xid.0, &op);
        let kind = if opcode == OpCode::Create {
            ReplyKind::Create
        } else {
            ReplyKind::Create2
        };
        self.reply_write(id, xid, received, outcome.result, |result, out| {
            encode_write_body(&kind, result, out)
        });
    }

    fn multi(
        &mut self,
        id: ConnId,
        session: SessionId,
        xid: Xid,
        ops: Vec<MultiOp>,
        received: Instant,
    ) {
        let kinds: Vec<OpCode> = ops.iter().map(MultiOp::op).collect();
        let Some(tree_ops) = ops
            .into_iter()
            .map(multi_write_op)
            .collect::<Option<Vec<Op>>>()
        else {
            // ZooKeeper refuses reads in a multi while decoding it, after taking a zxid.
            let zxid = self.write_error(session, xid.0, ErrorCode::MarshallingError);
            self.reply(id, xid, zxid, ErrorCode::MarshallingError, received, |_| {});
            return;
        };
        let outcome = self.write(session, xid.0, &Op::Multi(tree_ops));
        let response = multi_response(outcome.result, kinds);
        let zxid = self.last_zxid;
        self.reply(id, xid, zxid, ErrorCode::Ok, received, |out| {
            response.encode(out)
        });
    }

    fn multi_read(&mut self, id: ConnId, xid: Xid, ops: Vec<MultiOp>, received: Instant) {
        let mut results = Vec::with_capacity(ops.len());
        for op in &ops {
            let result = match op {
                MultiOp::GetData(r) => match self.tree.get_data(&r.path, self.auth(id)) {
                    Ok((data, stat)) => MultiResult::GetData(GetDataResponse {
                        data: data.map(<[u8]>::to_vec),
                        stat,
                    }),
                    Err(err) => MultiResult::error(err),
                },
                MultiOp::GetChildren(r) => match self.tree.get_children(&r.path, self.auth(id)) {
                    Ok((children, _)) => MultiResult::GetChildren(GetChildrenResponse { children }),
                    Err(err) => MultiResult::error(err),
                },
                // ZooKeeper refuses write ops in a multiRead while decoding it.
                _ => {
                    return self.reply_err(id, xid, ErrorCode::MarshallingError, received);
                }
            };
            results.push(result);
        }
        let response = MultiResponse { results };
        self.reply_ok(id, xid, received, &response);
    }

    /// Empty containers and expired TTL nodes go through deleteContainer txns (ContainerManager).
    pub(super) fn delete_containers(&mut self) {
        let now = wall_clock_ms();
        let mut paths = self.tree.containers_to_delete(now, 0);
        paths.extend(self.tree.expired_ttl_nodes(now));
        for path in paths {
            let outcome = self.write(SessionId(0), 0, &Op::DeleteContainer { path: path.clone() });
            if outcome.result.error_code().is_ok() {
                info!(path, "deleted empty container or expired TTL node");
            }
        }
    }
}

/// The tree op for one op of a multi; `None` for a read op, which a multi may not carry.
/// The answer to a multi from its txn's result.
pub(super) fn multi_response(result: TxnResult, kinds: Vec<OpCode>) -> MultiResponse {
    let results = match result {
        TxnResult::Multi(results) => results,
        TxnResult::Error(code) => vec![TxnResult::Error(code); kinds.len()],
        other => vec![other],
    };
    MultiResponse {
        results: results
            .into_iter()
            .zip(kinds)
            .map(|(result, kind)| multi_result(result, kind))
            .collect(),
    }
}

pub(super) fn multi_write_op(op: MultiOp) -> Option<Op> {
    // Unknown create flags fail the op with BADARGUMENTS where ZooKeeper's `CreateMode.fromFlag`
    // does: a non-TTL mode with a TTL is refused with that code before any other check.
    let create = |path, data, acl, flags, ttl: Option<i64>| match CreateMode::from_flags(flags) {
        Some(mode) => Op::Create {
            path,
            data,
            acl,
            mode,
            ttl_ms: ttl,
        },
        None => Op::Create {
            path,
            data,
            acl,
            mode: CreateMode::Persistent,
            ttl_ms: Some(0),
        },
    };
    Some(match op {
        MultiOp::Create(r) | MultiOp::Create2(r) | MultiOp::CreateContainer(r) => {
            create(r.path, r.data, r.acl, r.flags, None)
        }
        MultiOp::CreateTtl(r) => create(r.path, r.data, r.acl, r.flags, Some(r.ttl)),
        MultiOp::Delete(r) => Op::Delete {
            path: r.path,
            version: r.version,
        },
        MultiOp::SetData(r) => Op::SetData {
            path: r.path,
            data: r.data,
            version: r.version,
        },
        MultiOp::Check(r) => Op::Check {
            path: r.path,
            version: r.version,
        },
        MultiOp::GetData(_) | MultiOp::GetChildren(_) => return None,
    })
}

fn multi_result(result: TxnResult, kind: OpCode) -> MultiResult {
    match result {
        TxnResult::Created { path, stat } => {
            if kind == OpCode::Create {
                MultiResult::Create(CreateResponse { path })
            } else {
                MultiResult::Create2(Create2Response { path, stat })
            }
        }
        TxnResult::Deleted { .. } => MultiResult::Delete,
        TxnResult::SetData { stat, .. } => MultiResult::SetData(SetDataResponse { stat }),
        TxnResult::Checked { .. } => MultiResult::Check,
        TxnResult::Error(code) => MultiResult::error(code),
        _ => MultiResult::error(ErrorCode::SystemError),
    }
}
