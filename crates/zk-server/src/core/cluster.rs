//! The core in cluster mode: writes become proposals (leader) or forwarded requests (learners),
//! and are applied, answered and watched only when the node task says they are committed.
//!
//! Ordering per client, as ZooKeeper's CommitProcessor keeps it: a connection's writes may be
//! in flight together, but a request that is not a write waits until every earlier write of
//! its connection is answered, so a client always reads its own writes. A `sync` waits until
//! this server has applied everything the leader had proposed when the sync reached it.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tracing::{debug, info, warn};
use zk_proto::connect::ConnectRequest;
use zk_proto::multi::{MultiOp, MultiResponse};
use zk_proto::request::Request;
use zk_proto::response::{SetAclResponse, SetDataResponse, SyncResponse};
use zk_proto::{CreateMode, ErrorCode, Id, OpCode, Record, SessionId, Xid, Zxid};
use zk_tree::{Op, PendingChanges, RequestContext, Txn, TxnHeader, TxnResult};
use zk_watch::SessionTable;

use super::{Body, Core, IdMap, Incoming};
use crate::cluster::{op_error, ClusterStats, PeerMsg, ServingRole, ToCore, ToNode};
use crate::stats::{wall_clock_ms, ConnId};

/// How the answer to a write is encoded once its txn is applied.
#[derive(Clone, Debug)]
pub(super) enum ReplyKind {
    /// Header only (delete, deleteContainer, refused writes).
    Empty,
    /// create: the path.
    Create,
    /// create2, createContainer, createTTL: the path and the Stat.
    Create2,
    /// setData: the Stat.
    SetData,
    /// setACL: the Stat.
    SetAcl,
    /// multi: one result per op, of these kinds.
    Multi(Vec<OpCode>),
    /// closeSession: then the connection closes.
    CloseSession,
    /// sync of this path.
    Sync(String),
}

/// The body of a successful write's answer (nothing for the kinds whose answer is the header
/// alone, or for a result that does not match its kind); the standalone path answers with it too.
pub(super) fn encode_write_body(kind: &ReplyKind, result: &TxnResult, out: &mut Vec<u8>) {
    match (kind, result) {
        (ReplyKind::Create, TxnResult::Created { path, .. }) => {
            zk_proto::jute::Writer::write_str(out, path)
        }
        (ReplyKind::Create2, TxnResult::Created { path, stat }) => {
            zk_proto::jute::Writer::write_str(out, path);
            stat.encode(out);
        }
        (ReplyKind::SetData, TxnResult::SetData { stat, .. }) => {
            SetDataResponse { stat: *stat }.encode(out)
        }
        (ReplyKind::SetAcl, TxnResult::SetAcl { stat, .. }) => {
            SetAclResponse { stat: *stat }.encode(out)
        }
        _ => {}
    }
}

/// A write (or sync) of a local client waiting for its commit.
struct Waiting {
    conn: ConnId,
    xid: Xid,
    received: Instant,
    kind: ReplyKind,
    /// For a sync: answer once this zxid is applied (`None` until the leader said which).
    sync_target: Option<Zxid>,
}

/// A new session waiting for its createSession txn.
struct PendingConnect {
    conn: ConnId,
    request: ConnectRequest,
    received: Instant,
    timeout_ms: i32,
}

/// The core's cluster-mode state.
pub(crate) struct ClusterCore {
    to_node: mpsc::UnboundedSender<ToNode>,
    pub(crate) stats: Arc<ClusterStats>,
    pub(super) role: ServingRole,
    /// Leader: the zxid of the last proposal.
    proposal_zxid: Zxid,
    /// Leader: changes proposed and not yet applied.
    pending_changes: PendingChanges,
    /// Leader: proposals of this batch.
    proposals: Vec<(TxnHeader, Txn)>,
    /// Local writes and syncs waiting for their commit, per session, in request order.
    waiting: IdMap<SessionId, VecDeque<Waiting>>,
    /// Sessions whose first waiting entry may be a sync.
    syncs: HashSet<SessionId>,
    connects: IdMap<SessionId, PendingConnect>,
    /// Learner: sessions with activity since the last touch sent to the leader.
    touched: HashSet<SessionId>,
    snapshots: zk_storage::SnapshotPolicy,
    /// Whether the node task's store is still writing the previous snapshot.
    snapshot_gate: zk_storage::SnapshotGate,
    my_sid: zk_proto::Sid,
}

/// What a cluster-mode core is started with.
pub(crate) struct ClusterLink {
    pub(crate) to_node: mpsc::UnboundedSender<ToNode>,
    pub(crate) stats: Arc<ClusterStats>,
    pub(crate) my_sid: zk_proto::Sid,
    /// The node task's store's [`zk_storage::DataStore::snapshot_gate`].
    pub(crate) snapshot_gate: zk_storage::SnapshotGate,
}

impl ClusterCore {
    pub(super) fn new(link: ClusterLink, snap_count: u32) -> ClusterCore {
        ClusterCore {
            to_node: link.to_node,
            stats: link.stats,
            role: ServingRole::NotServing,
            proposal_zxid: Zxid::ZERO,
            pending_changes: PendingChanges::new(),
            proposals: Vec::new(),
            waiting: IdMap::default(),
            syncs: HashSet::new(),
            connects: IdMap::default(),
            touched: HashSet::new(),
            snapshots: zk_storage::SnapshotPolicy::new(snap_count, link.my_sid.0),
            snapshot_gate: link.snapshot_gate,
            my_sid: link.my_sid,
        }
    }

    /// Leader: what a sync must wait for: the last proposal, or, when this epoch has proposed
    /// nothing yet, what is applied.
    fn sync_point(&self, applied: Zxid) -> Zxid {
        if self.proposal_zxid.counter() == 0 {
            applied
        } else {
            self.proposal_zxid
        }
    }

    fn send(&self, msg: ToNode) {
        // The node task outlives the core; a send fails only during shutdown.
        let _ = self.to_node.send(msg);
    }
}

/// Whether a request may be in flight together with earlier writes of its connection.
fn is_write(incoming: &Incoming) -> bool {
    match &incoming.body {
        Body::Decoded(request) => matches!(
            request,
            Request::Create(_)
                | Request::Create2(_)
                | Request::CreateContainer(_)
                | Request::CreateTtl(_)
                | Request::Delete(_)
                | Request::SetData(_)
                | Request::SetAcl(_)
                | Request::Multi(_)
                | Request::Reconfig(_)
                | Request::DeleteContainer(_)
                | Request::CloseSession
                | Request::Sync(_)
        ),
        Body::Undecodable(OpCode::Multi, _) => true,
        _ => false,
    }
}

/// The write a request asks for, with how to answer it; the request back when it is not a
/// write (served locally).
#[allow(clippy::result_large_err)] // the request goes straight back to the caller's match
pub(super) fn cluster_write(request: Request) -> Result<(Result<Op, i32>, ReplyKind), Request> {
    let create = |r: zk_proto::CreateRequest, ttl: Option<i64>, kind: ReplyKind| {
        match CreateMode::from_flags(r.flags) {
            Some(mode) => (
                Ok(Op::Create {
                    path: r.path,
                    data: r.data,
                    acl: r.acl,
                    mode,
                    ttl_ms: ttl,
                }),
                kind,
            ),
            None => (op_error(ErrorCode::BadArguments), ReplyKind::Empty),
        }
    };
    Ok(match request {
        Request::Create(r) => create(r, None, ReplyKind::Create),
        Request::Create2(r) | Request::CreateContainer(r) => create(r, None, ReplyKind::Create2),
        Request::CreateTtl(r) => create(
            zk_proto::CreateRequest {
                path: r.path,
                data: r.data,
                acl: r.acl,
                flags: r.flags,
            },
            Some(r.ttl),
            ReplyKind::Create2,
        ),
        Request::Delete(r) => (
            Ok(Op::Delete {
                path: r.path,
                version: r.version,
            }),
            ReplyKind::Empty,
        ),
        Request::SetData(r) => (
            Ok(Op::SetData {
                path: r.path,
                data: r.data,
                version: r.version,
            }),
            ReplyKind::SetData,
        ),
        Request::SetAcl(r) => (
            Ok(Op::SetAcl {
                path: r.path,
                acl: r.acl,
                version: r.version,
            }),
            ReplyKind::SetAcl,
        ),
        Request::Multi(multi) => {
            let kinds: Vec<OpCode> = multi.ops.iter().map(MultiOp::op).collect();
            match multi
                .ops
                .into_iter()
                .map(super::requests::multi_write_op)
                .collect::<Option<Vec<Op>>>()
            {
                Some(ops) => (Ok(Op::Multi(ops)), ReplyKind::Multi(kinds)),
                None => (op_error(ErrorCode::MarshallingError), ReplyKind::Empty),
            }
        }
        Request::Reconfig(_) => (op_error(ErrorCode::ReconfigDisabled), ReplyKind::Empty),
        Request::DeleteContainer(r) => (Ok(Op::DeleteContainer { path: r.path }), ReplyKind::Empty),
        Request::CloseSession => (Ok(Op::CloseSession), ReplyKind::CloseSession),
        Request::Sync(r) => (op_error(ErrorCode::Ok), ReplyKind::Sync(r.path)),
        other => return Err(other),
    })
}

impl Core {
    pub(super) fn is_cluster(&self) -> bool {
        self.cluster.is_some()
    }

    /// The cluster state; only called on cluster-mode paths.
    fn cluster_mut(&mut self) -> &mut ClusterCore {
        self.cluster.as_mut().expect("cluster mode")
    }

    /// The cluster state; only called on cluster-mode paths.
    fn cluster_ref(&self) -> &ClusterCore {
        self.cluster.as_ref().expect("cluster mode")
    }

    fn cluster_role(&self) -> ServingRole {
        self.cluster
            .as_ref()
            .map_or(ServingRole::NotServing, |c| c.role)
    }

    /// Whether this server serves clients now (always in standalone mode).
    pub(super) fn serving(&self) -> bool {
        self.cluster
            .as_ref()
            .is_none_or(|c| c.role != ServingRole::NotServing)
    }

    /// Requests of one connection in cluster mode: in order, non-writes behind writes.
    pub(super) fn cluster_incoming(&mut self, id: ConnId, incoming: Incoming) {
        let Some(conn) = self.io.conns.get_mut(&id) else {
            self.discard(id);
            return;
        };
        // Requests pipelined behind a ConnectRequest wait for the session's createSession.
        let connecting = conn.session.is_none() && !conn.closed;
        if connecting
            || !conn.queued.is_empty()
            || (conn.writes_outstanding > 0 && !is_write(&incoming))
        {
            conn.queued.push_back(incoming);
            return;
        }
        self.on_request(id, incoming);
    }

    /// Runs the requests a connection queued behind its writes, as far as they may go now.
    fn drain_queued(&mut self, id: ConnId) {
        loop {
            let Some(conn) = self.io.conns.get_mut(&id) else {
                return;
            };
            let Some(next) = conn.queued.front() else {
                return;
            };
            if conn.session.is_none() || (conn.writes_outstanding > 0 && !is_write(next)) {
                return;
            }
            let next = conn.queued.pop_front().expect("front exists");
            self.on_request(id, next);
        }
    }

    /// A learner notes client activity for the next touch; the leader's table is touched
    /// directly by `on_request`.
    pub(super) fn cluster_touch(&mut self, session: SessionId) {
        if let Some(cluster) = &mut self.cluster {
            if matches!(cluster.role, ServingRole::Follower | ServingRole::Observer) {
                cluster.touched.insert(session);
            }
        }
    }

    /// Submits a local client's write (or sync): proposes it (leader) or forwards it.
    pub(super) fn cluster_submit(
        &mut self,
        id: ConnId,
        session: SessionId,
        xid: Xid,
        op: Result<Op, i32>,
        kind: ReplyKind,
        received: Instant,
    ) {
        let role = self.cluster_role();
        if role == ServingRole::NotServing {
            self.discard(id);
            return;
        }
        let auth = self
            .io
            .conns
            .get(&id)
            .map(|c| c.auth.clone())
            .unwrap_or_default();
        if let Some(conn) = self.io.conns.get_mut(&id) {
            conn.writes_outstanding += 1;
        }
        let is_sync = matches!(kind, ReplyKind::Sync(_));
        if matches!(kind, ReplyKind::CloseSession) {
            self.sessions.set_closing(session);
        }
        // Field borrows: the tree and `last_zxid` are read while the cluster state is borrowed.
        let cluster = self.cluster.as_mut().expect("cluster mode");
        let sync_target =
            (is_sync && role == ServingRole::Leader).then_some(cluster.sync_point(self.last_zxid));
        cluster
            .waiting
            .entry(session)
            .or_default()
            .push_back(Waiting {
                conn: id,
                xid,
                received,
                kind,
                sync_target,
            });
        if is_sync {
            cluster.syncs.insert(session);
            if role == ServingRole::Leader {
                self.complete_syncs();
            } else {
                cluster.send(ToNode::ToLeader(PeerMsg::Sync {
                    session,
                    cxid: xid.0,
                }));
            }
            return;
        }
        if role == ServingRole::Leader {
            self.propose(session, xid.0, &auth, op);
        } else {
            cluster.send(ToNode::ToLeader(PeerMsg::Request {
                session,
                cxid: xid.0,
                auth,
                op,
            }));
        }
    }

    /// Leader: prepares a write against the tree and the changes in flight, and queues it for
    /// the node task to propose at the end of the batch.
    fn propose(&mut self, session: SessionId, cxid: i32, auth: &[Id], op: Result<Op, i32>) {
        let cluster = self.cluster.as_mut().expect("cluster mode");
        cluster.proposal_zxid = Zxid(cluster.proposal_zxid.0 + 1);
        let zxid = cluster.proposal_zxid;
        let time_ms = wall_clock_ms();
        let txn = match op {
            Ok(op) => {
                let ctx = RequestContext {
                    session_id: session,
                    auth,
                    time_ms,
                    zxid,
                };
                self.tree
                    .prepare_pending(&mut cluster.pending_changes, &ctx, &op)
            }
            Err(code) => Txn::Error(ErrorCode::from_code(code).unwrap_or(ErrorCode::SystemError)),
        };
        let header = TxnHeader {
            session_id: session,
            cxid,
            zxid,
            time_ms,
        };
        cluster.proposals.push((header, txn));
    }

    /// Hands this batch's proposals to the node task (leader).
    pub(super) fn flush_proposals(&mut self) {
        if let Some(cluster) = &mut self.cluster {
            if !cluster.proposals.is_empty() {
                let batch = std::mem::take(&mut cluster.proposals);
                cluster
                    .stats
                    .proposals
                    .fetch_add(batch.len() as u64, Relaxed);
                cluster.send(ToNode::Propose(batch));
            }
        }
    }

    /// A new session in cluster mode: allocated here, created by a createSession txn.
    pub(super) fn cluster_connect(
        &mut self,
        id: ConnId,
        request: ConnectRequest,
        received: Instant,
        timeout_ms: i32,
    ) {
        let session = self.sessions.next_session_id();
        let role = self.cluster_role();
        let cluster = self.cluster_mut();
        cluster.connects.insert(
            session,
            PendingConnect {
                conn: id,
                request,
                received,
                timeout_ms,
            },
        );
        let op = Ok(Op::CreateSession { timeout_ms });
        if role == ServingRole::Leader {
            self.propose(session, 0, &[], op);
        } else {
            cluster.send(ToNode::ToLeader(PeerMsg::Request {
                session,
                cxid: 0,
                auth: Vec::new(),
                op,
            }));
        }
    }

    /// Session expiry (leader) or the periodic touch of the leader's table (learners).
    pub(super) fn cluster_expire(&mut self) {
        match self.cluster_role() {
            ServingRole::Leader => {
                let now = self.now_ms();
                for session in self.sessions.expired(now) {
                    info!(%session, "session expired");
                    self.propose(session, 0, &[], Ok(Op::CloseSession));
                }
            }
            ServingRole::Follower | ServingRole::Observer => {
                let cluster = self.cluster_mut();
                if !cluster.touched.is_empty() {
                    let sessions: Vec<SessionId> = cluster.touched.drain().collect();
                    cluster.send(ToNode::ToLeader(PeerMsg::Touch { sessions }));
                }
            }
            ServingRole::NotServing => {}
        }
    }

    /// Leader: proposes the deletion of empty containers and expired TTL nodes.
    pub(super) fn cluster_delete_containers(&mut self) {
        if self.cluster_role() != ServingRole::Leader {
            return;
        }
        let now = wall_clock_ms();
        let mut paths = self.tree.containers_to_delete(now, 0);
        paths.extend(self.tree.expired_ttl_nodes(now));
        for path in paths {
            self.propose(SessionId(0), 0, &[], Ok(Op::DeleteContainer { path }));
        }
    }

    /// A message from the node task.
    pub(super) fn on_cluster(&mut self, msg: ToCore) {
        match msg {
            ToCore::StopServing => self.stop_serving(),
            ToCore::Serve { role, epoch } => self.start_serving(role, epoch),
            ToCore::Apply(txns) => self.apply_committed(txns),
            ToCore::ReplaceState { tree, sessions } => {
                info!(zxid = %tree.last_processed_zxid(), nodes = tree.node_count(), "state replaced by the leader's snapshot");
                self.last_zxid = tree.last_processed_zxid();
                self.tree = tree;
                self.rebuild_sessions(sessions.into_iter().collect());
            }
            // The capture carries the tree's own zxid (`last_zxid` may already name the new
            // epoch).
            ToCore::TakeSnapshot { reply } => {
                let _ = reply.send((self.tree.capture(), self.session_list()));
            }
            ToCore::FromLearner { sid, msg } => self.on_learner_msg(sid, msg),
            ToCore::SyncDone {
                session,
                cxid,
                zxid,
            } => {
                let cluster = self.cluster_mut();
                if let Some(waiting) = cluster.waiting.get_mut(&session) {
                    if let Some(w) = waiting.iter_mut().find(|w| {
                        w.xid.0 == cxid
                            && matches!(w.kind, ReplyKind::Sync(_))
                            && w.sync_target.is_none()
                    }) {
                        w.sync_target = Some(zxid);
                    }
                }
                self.complete_syncs();
            }
        }
    }

    fn session_list(&self) -> Vec<(SessionId, i32)> {
        self.tree.sessions().iter().map(|(&s, &t)| (s, t)).collect()
    }

    /// A fresh session table holding `sessions`, each with a fresh timer.
    fn rebuild_sessions(&mut self, sessions: Vec<(SessionId, i32)>) {
        let mut table = SessionTable::new(*self.sessions.config());
        let my_sid = self.cluster.as_ref().map_or(zk_proto::Sid(0), |c| c.my_sid);
        table.initialize_session_ids(my_sid, wall_clock_ms());
        let now = self.now_ms();
        for (session, timeout_ms) in sessions {
            table.add(session, timeout_ms, now);
        }
        self.sessions = table;
    }

    fn stop_serving(&mut self) {
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        if cluster.role != ServingRole::NotServing {
            info!(role = ?cluster.role, "no longer serving clients: closing every connection");
        }
        cluster.role = ServingRole::NotServing;
        cluster.pending_changes.clear();
        cluster.proposals.clear();
        // Writes that will never be answered here give their budget back.
        let waiting: usize = cluster.waiting.values().map(VecDeque::len).sum();
        cluster.waiting.clear();
        self.io.release(waiting as u32);
        let cluster = self.cluster_mut();
        cluster.syncs.clear();
        cluster.connects.clear();
        cluster.touched.clear();
        let ids: Vec<ConnId> = self.io.conns.keys().copied().collect();
        for id in ids {
            // What is already staged (answers to committed writes) still goes out.
            self.close_after_flush(id);
        }
    }

    fn start_serving(&mut self, role: ServingRole, epoch: zk_proto::Epoch) {
        let cluster = self.cluster_mut();
        cluster.role = role;
        cluster.proposal_zxid = Zxid::new(epoch, 0);
        cluster.pending_changes.clear();
        // Everything of earlier epochs is applied by now; like ZooKeeper, the server reports the
        // new epoch's zxid (`srvr`, reply headers) until the first write of the epoch.
        self.last_zxid = self.last_zxid.max(Zxid::new(epoch, 0));
        info!(?role, %epoch, last_zxid = %self.last_zxid, "serving clients");
        // Every session gets a fresh timer, as after a restart.
        let sessions = self.session_list();
        self.rebuild_sessions(sessions);
    }

    fn on_learner_msg(&mut self, sid: zk_proto::Sid, msg: PeerMsg) {
        if self.cluster_role() != ServingRole::Leader {
            debug!(%sid, "learner message while not leading: dropped");
            return;
        }
        match msg {
            PeerMsg::Request {
                session,
                cxid,
                auth,
                op,
            } => self.propose(session, cxid, &auth, op),
            PeerMsg::Touch { sessions } => {
                let now = self.now_ms();
                for session in sessions {
                    self.sessions.touch(session, now);
                }
            }
            PeerMsg::Sync { session, cxid } => {
                let cluster = self.cluster_ref();
                cluster.send(ToNode::ToLearner {
                    sid,
                    msg: PeerMsg::SyncDone {
                        session,
                        cxid,
                        zxid: cluster.sync_point(self.last_zxid),
                    },
                });
            }
            PeerMsg::Zab(_) | PeerMsg::SyncDone { .. } => {
                warn!(%sid, "unexpected learner message for the core: dropped");
            }
        }
    }

    /// Applies committed transactions: the tree, watches, sessions, and the answers to this
    /// server's clients.
    fn apply_committed(&mut self, txns: Vec<(TxnHeader, Txn)>) {
        let now = self.now_ms();
        let count = txns.len();
        for (header, txn) in txns {
            if header.zxid <= self.last_zxid {
                continue;
            }
            let outcome = self.tree.apply(&header, &txn);
            self.last_zxid = header.zxid;
            let session = header.session_id;
            let cluster = self.cluster_mut();
            cluster.pending_changes.applied(header.zxid);
            self.fire(&outcome.events);
            match &txn {
                Txn::CreateSession { timeout_ms } => {
                    self.sessions.add(session, *timeout_ms, now);
                    let cluster = self.cluster_mut();
                    if let Some(pending) = cluster.connects.remove(&session) {
                        if outcome.result.error_code().is_ok() {
                            debug!(%session, "new session");
                            self.attach(
                                pending.conn,
                                session,
                                pending.timeout_ms,
                                &pending.request,
                                pending.received,
                            );
                            self.drain_queued(pending.conn);
                        } else {
                            warn!(%session, err = %outcome.result.error_code(), "createSession failed");
                            self.connect_failed(pending.conn, &pending.request);
                        }
                    }
                    continue;
                }
                Txn::CloseSession { .. } => {
                    self.sessions.remove(session);
                }
                _ => {}
            }
            let cluster = self.cluster_mut();
            let mine = cluster.waiting.get_mut(&session).and_then(|queue| {
                let front = queue.front()?;
                (front.xid.0 == header.cxid && !matches!(front.kind, ReplyKind::Sync(_)))
                    .then(|| queue.pop_front())
                    .flatten()
            });
            match mine {
                Some(w) => self.answer_write(w, header.zxid, outcome.result),
                None => {
                    if matches!(txn, Txn::CloseSession { .. }) {
                        // Expired (or closed through another server): its connection here goes.
                        if let Some(id) = self.session_conns.remove(&session) {
                            self.close_after_flush(id);
                        }
                    }
                }
            }
        }
        self.complete_syncs();
        let cluster = self.cluster_mut();
        if count > 0 && cluster.snapshots.record(count) {
            if cluster.snapshot_gate.is_writing() {
                // The store would skip this one (ZooKeeper's "Too busy to snap"): no capture.
                warn!("too busy to snapshot, skipping");
                return;
            }
            let tree = self.tree.capture();
            let sessions = self.session_list();
            let cluster = self.cluster_ref();
            cluster.send(ToNode::Snapshot { tree, sessions });
        }
    }

    /// Answers syncs whose target is applied (in order behind their session's writes).
    fn complete_syncs(&mut self) {
        let applied = self.last_zxid;
        let cluster = self.cluster_mut();
        if cluster.syncs.is_empty() {
            return;
        }
        let sessions: Vec<SessionId> = cluster.syncs.iter().copied().collect();
        let mut done = Vec::new();
        for session in sessions {
            let cluster = self.cluster_mut();
            let Some(queue) = cluster.waiting.get_mut(&session) else {
                cluster.syncs.remove(&session);
                continue;
            };
            while let Some(front) = queue.front() {
                let ready = matches!(front.kind, ReplyKind::Sync(_))
                    && front.sync_target.is_some_and(|t| t <= applied);
                if !ready {
                    break;
                }
                done.push(queue.pop_front().expect("front exists"));
            }
            if !queue.iter().any(|w| matches!(w.kind, ReplyKind::Sync(_))) {
                cluster.syncs.remove(&session);
            }
        }
        for w in done {
            self.answer_write(w, applied, TxnResult::Error(ErrorCode::Ok));
        }
    }

    /// Answers a local client's write (or sync) and lets its queued requests go on.
    fn answer_write(&mut self, w: Waiting, zxid: Zxid, result: TxnResult) {
        let Waiting {
            conn: id,
            xid,
            received,
            kind,
            ..
        } = w;
        match kind {
            ReplyKind::Multi(kinds) => {
                let response: MultiResponse = super::requests::multi_response(result, kinds);
                self.reply(id, xid, zxid, ErrorCode::Ok, received, |out| {
                    response.encode(out)
                });
            }
            ReplyKind::Sync(path) => {
                let response = SyncResponse { path };
                self.reply(id, xid, zxid, ErrorCode::Ok, received, |out| {
                    response.encode(out)
                });
            }
            ReplyKind::CloseSession => {
                self.reply(id, xid, zxid, ErrorCode::Ok, received, |_| {});
                self.close_after_flush(id);
            }
            kind => {
                let err = result.error_code();
                self.reply(id, xid, zxid, err, received, |out| {
                    encode_write_body(&kind, &result, out)
                });
            }
        }
        if let Some(conn) = self.io.conns.get_mut(&id) {
            conn.writes_outstanding = conn.writes_outstanding.saturating_sub(1);
        }
        self.drain_queued(id);
    }
}
