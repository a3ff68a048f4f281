//! The node task of a cluster-mode server: election, then Zab as leader or learner, and again.
//!
//! It owns the [`Zab`] machine, the durable store and the quorum-port links, and executes the
//! machine's actions in order: packets go to links; proposals are appended to the store's log
//! (group commit) and reported durable in order ([`Input::Persisted`]); TRUNC and SNAP rewrite
//! the log (and the state) before anything else happens; the epoch files are written durably
//! before the next action; committed transactions go to the core, which applies and answers
//! them; ServeClients lets the core serve. When Zab gives up the role (GoLooking), the core
//! stops serving (every client is disconnected, as ZooKeeper does) and a new election starts.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{sleep, sleep_until, Instant};
use tracing::{debug, error, info, info_span, warn, Instrument};
use zk_elect::{Millis, ServerState};
use zk_proto::{Sid, Zxid};
use zk_storage::{AppendHandle, DataStore};
use zk_sync::{Action, Durable, Entry, Input, Zab, ZabConfig, ZabMsg};
use zk_tree::{TreeConfig, Txn, TxnHeader};

use super::peer::{self, Link, PeerEvent, QuorumListener};
use super::{decode_txn, encode_txn, ClusterStats, PeerMsg, ServingRole, ToCore, ToNode};
use crate::config::Config;
use crate::core::cluster::ClusterLink;
use crate::core::CoreMsg;
use crate::election::runner::ElectionRunner;
use crate::ensemble::Ensemble;
use crate::error::{ServerError, StorageError};
use crate::server::{InitialState, Server};

/// A history write in flight, reported durable to Zab in issue order.
enum Persist {
    /// Appended proposals of this many Zab appends, durable once the store's handle resolves.
    Append(AppendHandle, usize),
    /// A TRUNC or SNAP, already durable when queued (they run synchronously).
    Done,
}

/// The most queued events or core messages taken before the accumulated actions are executed.
const BURST_MAX: usize = 256;

/// Whether the role goes on.
#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Looking,
}

fn storage(context: &str, e: impl std::fmt::Display) -> ServerError {
    ServerError::Storage(StorageError::Other(format!("{context}: {e}")))
}

/// The node task's state.
struct Node {
    sid: Sid,
    ensemble: Ensemble,
    zab: Zab,
    store: DataStore,
    tree_config: TreeConfig,
    core: mpsc::Sender<CoreMsg>,
    from_core: mpsc::UnboundedReceiver<ToNode>,
    stats: Arc<ClusterStats>,
    events_tx: mpsc::Sender<PeerEvent>,
    events_rx: mpsc::Receiver<PeerEvent>,
    accepted: mpsc::Receiver<Link>,
    links: BTreeMap<Sid, Link>,
    next_link_id: u64,
    /// Logged proposals not yet handed to the core, in zxid order.
    unapplied: VecDeque<(TxnHeader, Txn)>,
    /// Proposals this leader made, by zxid, until Zab's Append of them is executed.
    proposed: VecDeque<(TxnHeader, Txn)>,
    persists: VecDeque<Persist>,
    /// Inputs produced while executing actions (a learner dropped for a failed snapshot).
    deferred: VecDeque<Input>,
    /// Actions of inputs fed since the last flush, executed together so that consecutive
    /// appends share one log write and consecutive commits one message to the core.
    actions: Vec<Action>,
    start: Instant,
}

/// Runs one server of an ensemble until `shutdown` turns true or storage fails.
pub async fn run(
    config: Config,
    ensemble: Ensemble,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), ServerError> {
    let sid = ensemble.my_sid;
    let span = info_span!("server", %sid);
    // Recovery reads the data directory with blocking IO. The log is not replayed: the tail
    // after the snapshot is applied once Zab commits it.
    let mut store_config = crate::durable::store_config(&config, sid.0);
    store_config.replay_log = false;
    let tree_config = store_config.tree_config;
    let (store, recovered) = tokio::task::spawn_blocking(move || DataStore::open(store_config))
        .await
        .map_err(|e| storage("recovery task failed", e))?
        .map_err(|e| storage("cannot open the data directory", e))?;
    let (mut accepted_epoch, mut current_epoch) = store
        .read_epochs()
        .map_err(|e| storage("cannot read the epoch files", e))?;
    // As ZooKeeper: a missing currentEpoch is the epoch of the last logged zxid.
    let last_epoch = recovered.last_zxid.epoch();
    if current_epoch < last_epoch {
        warn!(parent: &span, %current_epoch, %last_epoch, "currentEpoch behind the log; taking the log's epoch");
        current_epoch = last_epoch;
        store
            .write_current_epoch(current_epoch)
            .map_err(|e| storage("cannot write currentEpoch", e))?;
    }
    if accepted_epoch < current_epoch {
        accepted_epoch = current_epoch;
        store
            .write_accepted_epoch(accepted_epoch)
            .map_err(|e| storage("cannot write acceptedEpoch", e))?;
    }
    span.in_scope(|| {
        info!(
            snapshot_zxid = %recovered.snapshot_zxid,
            last_zxid = %recovered.last_zxid,
            tail = recovered.tail.len(),
            %accepted_epoch,
            %current_epoch,
            "recovered the data directory"
        )
    });
    let log: Vec<Entry> = recovered
        .tail
        .iter()
        .map(|(h, t)| Entry {
            zxid: h.zxid,
            txn: encode_txn(h, t),
        })
        .collect();
    let mut zab_config = ZabConfig::new(sid, ensemble.quorum.clone());
    zab_config.tick_ms = ensemble.tick_time_ms.max(2);
    zab_config.init_limit_ticks = ensemble.init_limit_ticks.max(1);
    zab_config.sync_limit_ticks = ensemble.sync_limit_ticks.max(1);
    let zab = Zab::new(
        zab_config,
        Durable {
            snapshot_zxid: recovered.snapshot_zxid,
            log,
            accepted_epoch,
            current_epoch,
        },
    );
    let stats = Arc::new(ClusterStats::default());
    stats.epoch.store(current_epoch.0, Relaxed);
    let (to_node, from_core) = mpsc::unbounded_channel();
    let initial = InitialState {
        tree: Some(recovered.tree),
        sessions: recovered.sessions.into_iter().collect(),
        last_zxid: recovered.snapshot_zxid,
    };
    let link = ClusterLink {
        to_node,
        stats: stats.clone(),
        my_sid: sid,
        snapshot_gate: store.snapshot_gate(),
    };
    let handle = Server::start_cluster(config, initial, link).await?;
    span.in_scope(|| info!(addr = %handle.local_addr(), "client port bound; not serving until a leader is established"));
    let me = ensemble.me()?.clone();
    let listener = QuorumListener::bind(me.quorum_addr)
        .await
        .map_err(|source| ServerError::Bind {
            addr: me.quorum_addr,
            source,
        })?;
    let (events_tx, events_rx) = mpsc::channel(4096);
    let (accepted_tx, accepted) = mpsc::channel(16);
    let accept_task = tokio::spawn(
        accept_loop(listener, sid, events_tx.clone(), accepted_tx).instrument(span.clone()),
    );
    let mut runner = ElectionRunner::start(&ensemble).await?;
    let mut node = Node {
        sid,
        ensemble,
        zab,
        store,
        tree_config,
        core: handle.core_sender(),
        from_core,
        stats,
        events_tx,
        events_rx,
        accepted,
        links: BTreeMap::new(),
        next_link_id: 1,
        unapplied: recovered.tail.into(),
        proposed: VecDeque::new(),
        persists: VecDeque::new(),
        deferred: VecDeque::new(),
        actions: Vec::new(),
        start: Instant::now(),
    };
    let result = node
        .main_loop(&mut runner, &mut shutdown)
        .instrument(span.clone())
        .await;
    accept_task.abort();
    if let Err(e) = &result {
        span.in_scope(|| error!(error = %e, "cluster node stopped"));
    }
    handle.shutdown().await;
    if let Err(e) = node.store.close() {
        span.in_scope(|| warn!(error = %e, "closing the data store"));
    }
    result
}

/// Accepts learners on the quorum port for the server's lifetime; the node keeps the links
/// while it leads and drops them otherwise.
async fn accept_loop(
    listener: QuorumListener,
    sid: Sid,
    events: mpsc::Sender<PeerEvent>,
    accepted: mpsc::Sender<Link>,
) {
    let mut next_id: u64 = 1 << 40;
    loop {
        next_id += 1;
        match listener.accept(sid, next_id, events.clone()).await {
            Ok(Some(link)) => {
                if accepted.send(link).await.is_err() {
                    return;
                }
            }
            Ok(None) => {}
            Err(e) => {
                warn!(error = %e, "quorum port accept failed");
                sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Waits until the oldest history write is durable (never resolves when there is none).
async fn oldest_persisted(persists: &mut VecDeque<Persist>) -> Result<(), ServerError> {
    match persists.front_mut() {
        None => std::future::pending().await,
        Some(Persist::Done) => Ok(()),
        Some(Persist::Append(handle, _)) => handle
            .await
            .map(drop)
            .map_err(|e| storage("transaction log write failed", e)),
    }
}

impl Node {
    fn now(&self) -> Millis {
        Millis(self.start.elapsed().as_millis() as u64)
    }

    async fn to_core(&self, msg: ToCore) {
        // The core outlives the node's loop; a failed send means it is shutting down.
        let _ = self.core.send(CoreMsg::Cluster(msg)).await;
    }

    async fn main_loop(
        &mut self,
        runner: &mut ElectionRunner,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), ServerError> {
        loop {
            self.stats.state.store(0, Relaxed);
            self.stats.leader.store(0, Relaxed);
            self.to_core(ToCore::StopServing).await;
            self.links.clear();
            self.deferred.clear();
            while self.from_core.try_recv().is_ok() {}
            let (last_zxid, epoch) = (self.zab.last_logged_zxid(), self.zab.current_epoch());
            info!(%last_zxid, %epoch, "LOOKING");
            let looking_since = Instant::now();
            let outcome = tokio::select! {
                outcome = runner.elect(last_zxid, epoch) => outcome,
                _ = shutdown.changed() => return Ok(()),
            };
            self.stats.elections.fetch_add(1, Relaxed);
            self.stats
                .last_election_time_ms
                .store(looking_since.elapsed().as_millis() as u64, Relaxed);
            self.stats
                .election_messages_sent
                .store(runner.messages_sent(), Relaxed);
            let leader = outcome.vote.leader;
            info!(state = ?outcome.state, %leader, "election decided");
            self.stats.leader.store(leader.0, Relaxed);
            let stop = match outcome.state {
                ServerState::Leading => self.lead(shutdown).await?,
                ServerState::Following | ServerState::Observing => {
                    self.follow(leader, outcome.state, shutdown).await?
                }
                ServerState::Looking => false,
            };
            if stop || *shutdown.borrow() {
                return Ok(());
            }
        }
    }

    /// Steps Zab; its actions wait for [`Node::flush`].
    fn feed(&mut self, input: Input) {
        let now = self.now();
        self.zab.step(now, input, &mut self.actions);
    }

    /// Executes the accumulated actions (and the inputs they defer).
    async fn flush(&mut self) -> Result<Flow, ServerError> {
        loop {
            if self.actions.is_empty() {
                match self.deferred.pop_front() {
                    Some(input) => {
                        self.feed(input);
                        continue;
                    }
                    None => return Ok(Flow::Continue),
                }
            }
            let actions = std::mem::take(&mut self.actions);
            if self.execute(actions).await? == Flow::Looking {
                self.actions.clear();
                return Ok(Flow::Looking);
            }
        }
    }

    /// Steps Zab and executes its actions.
    async fn step(&mut self, input: Input) -> Result<Flow, ServerError> {
        self.feed(input);
        self.flush().await
    }

    fn send_to(&mut self, to: Sid, msg: &PeerMsg) {
        let ok = self
            .links
            .get(&to)
            .is_some_and(|link| link.send(msg.encode()));
        if !ok {
            self.drop_link(to);
        }
    }

    /// Closes the link to `to`, if any, and has Zab hear that the peer is down (after the
    /// actions being executed now).
    fn drop_link(&mut self, to: Sid) {
        if self.links.remove(&to).is_some() {
            self.deferred.push_back(Input::PeerDown(to));
        }
    }

    async fn execute(&mut self, actions: Vec<Action>) -> Result<Flow, ServerError> {
        let mut actions = actions.into_iter().peekable();
        while let Some(action) = actions.next() {
            match action {
                Action::Send { to, msg } => {
                    match &msg {
                        ZabMsg::Diff { .. } => self.stats.diff_count.fetch_add(1, Relaxed),
                        ZabMsg::Trunc { .. } => self.stats.trunc_count.fetch_add(1, Relaxed),
                        _ => 0,
                    };
                    self.send_to(to, &PeerMsg::Zab(msg));
                }
                Action::SendSnapshot { to, zxid } => self.send_snapshot(to, zxid).await,
                Action::Append(first) => {
                    // Consecutive appends become one log write (one Persisted each still).
                    let mut entries = first;
                    let mut appends = 1;
                    while let Some(Action::Append(more)) = actions.peek_mut() {
                        entries.append(more);
                        appends += 1;
                        actions.next();
                    }
                    let mut txns = Vec::with_capacity(entries.len());
                    for entry in entries {
                        let pair = match self.proposed.front() {
                            Some((h, _)) if h.zxid == entry.zxid => {
                                self.proposed.pop_front().expect("front exists")
                            }
                            _ => decode_txn(&entry.txn).map_err(|e| {
                                storage(&format!("undecodable proposal {}", entry.zxid), e)
                            })?,
                        };
                        if pair.0.zxid != entry.zxid {
                            return Err(storage(
                                "proposal zxid mismatch",
                                format!("txn {} logged as {}", pair.0.zxid, entry.zxid),
                            ));
                        }
                        txns.push(pair);
                    }
                    let handle = self.store.append(&txns);
                    self.unapplied.extend(txns);
                    self.persists.push_back(Persist::Append(handle, appends));
                }
                Action::Truncate(zxid) => {
                    info!(%zxid, "TRUNC: dropping logged proposals above");
                    self.store
                        .truncate_after(zxid)
                        .map_err(|e| storage("cannot truncate the log", e))?;
                    self.unapplied.retain(|(h, _)| h.zxid <= zxid);
                    self.persists.push_back(Persist::Done);
                }
                Action::ApplySnapshot { zxid, state } => {
                    info!(%zxid, bytes = state.len(), "SNAP: installing the leader's snapshot");
                    let (snap_zxid, tree, sessions) =
                        zk_storage::decode_snapshot(&state, self.tree_config)
                            .map_err(|e| storage("undecodable snapshot from the leader", e))?;
                    if snap_zxid != zxid {
                        return Err(storage(
                            "snapshot from the leader",
                            format!("holds {snap_zxid}, announced {zxid}"),
                        ));
                    }
                    self.store
                        .install_snapshot(zxid, &state)
                        .map_err(|e| storage("cannot install the leader's snapshot", e))?;
                    self.unapplied.clear();
                    self.to_core(ToCore::ReplaceState { tree, sessions }).await;
                    self.persists.push_back(Persist::Done);
                }
                Action::PersistAcceptedEpoch(epoch) => self
                    .store
                    .write_accepted_epoch(epoch)
                    .map_err(|e| storage("cannot write acceptedEpoch", e))?,
                Action::PersistCurrentEpoch(epoch) => {
                    self.store
                        .write_current_epoch(epoch)
                        .map_err(|e| storage("cannot write currentEpoch", e))?;
                    self.stats.epoch.store(epoch.0, Relaxed);
                }
                Action::Commit(first) => {
                    let mut zxid = first;
                    while let Some(Action::Commit(next)) = actions.peek() {
                        zxid = zxid.max(*next);
                        actions.next();
                    }
                    let mut batch = Vec::new();
                    while self.unapplied.front().is_some_and(|(h, _)| h.zxid <= zxid) {
                        batch.push(self.unapplied.pop_front().expect("front exists"));
                    }
                    if !batch.is_empty() {
                        self.to_core(ToCore::Apply(batch)).await;
                    }
                }
                Action::ServeClients { epoch } => {
                    let (role, ordinal) = match self.zab.state() {
                        ServerState::Leading => (ServingRole::Leader, 2),
                        ServerState::Observing => (ServingRole::Observer, 3),
                        _ => (ServingRole::Follower, 1),
                    };
                    info!(?role, %epoch, "serving clients");
                    self.stats.state.store(ordinal, Relaxed);
                    self.stats.epoch.store(epoch.0, Relaxed);
                    self.to_core(ToCore::Serve { role, epoch }).await;
                }
                Action::Disconnect { peer } => {
                    self.links.remove(&peer);
                }
                Action::GoLooking { reason } => {
                    info!(%reason, "leaving the role");
                    return Ok(Flow::Looking);
                }
            }
        }
        Ok(Flow::Continue)
    }

    /// SNAP: the core's applied state, which must be exactly `zxid`.
    async fn send_snapshot(&mut self, to: Sid, zxid: Zxid) {
        self.stats.snap_count.fetch_add(1, Relaxed);
        let (reply, rx) = oneshot::channel();
        self.to_core(ToCore::TakeSnapshot { reply }).await;
        let Ok((tree, sessions)) = rx.await else {
            return;
        };
        let applied = tree.last_processed_zxid();
        if applied != zxid {
            error!(%to, %zxid, %applied, "cannot snapshot the requested zxid; dropping the learner");
            self.drop_link(to);
            return;
        }
        // Sorting and encoding a big tree takes a while: off the runtime's threads.
        let encoded = tokio::task::spawn_blocking(move || {
            zk_storage::encode_snapshot(&tree.sorted(), &sessions, zxid)
        })
        .await;
        let Ok(state) = encoded else {
            error!(%to, %zxid, "encoding the snapshot failed; dropping the learner");
            self.drop_link(to);
            return;
        };
        info!(learner = %to, %zxid, bytes = state.len(), "sending a snapshot");
        self.send_to(to, &PeerMsg::Zab(ZabMsg::Snap { zxid, state }));
    }

    /// A snapshot of committed state from the core: written in the background; the log in
    /// memory before it is no longer needed.
    fn take_snapshot(
        &mut self,
        tree: zk_tree::TreeCapture,
        sessions: Vec<(zk_proto::SessionId, i32)>,
    ) {
        let zxid = tree.last_processed_zxid();
        if self.store.snapshot(tree, sessions) {
            let dropped = self.zab.compact(zxid);
            debug!(%zxid, dropped, "snapshot started; in-memory log compacted");
        }
    }

    fn deadline(&self) -> Option<Instant> {
        self.zab
            .deadline()
            .map(|at| self.start + Duration::from_millis(at.0))
    }

    /// Feeds Zab the durability of the oldest history write: one input for all the appends
    /// that one log write covered, so that a follower sends one (cumulative) ACK for them.
    async fn on_persisted(&mut self) -> Result<Flow, ServerError> {
        let writes = match self.persists.pop_front() {
            Some(Persist::Append(_, appends)) => appends,
            _ => 1,
        };
        if let Some(up_to) = self.zab.persist_point_after(writes) {
            self.stats.last_logged_zxid.store(up_to.0, Relaxed);
            self.feed(Input::Persisted { up_to });
        }
        self.flush().await
    }

    fn update_leader_stats(&self) {
        let voters = self
            .links
            .keys()
            .filter(|s| self.ensemble.quorum.is_voter(**s))
            .count() as u64;
        self.stats.learners.store(self.links.len() as u64, Relaxed);
        self.stats.synced_followers.store(voters, Relaxed);
        self.stats
            .observers
            .store(self.links.len() as u64 - voters, Relaxed);
    }

    /// Leads until Zab gives up the role; true when the server is shutting down.
    async fn lead(&mut self, shutdown: &mut watch::Receiver<bool>) -> Result<bool, ServerError> {
        self.proposed.clear();
        // Links accepted while this server was still electing stay: a follower that decided
        // first connects before its leader leads (ZooKeeper's listen backlog keeps it waiting
        // the same way). A stale one is closed and reported as such.
        let decided = Input::ElectionDecided {
            leader: self.sid,
            state: ServerState::Leading,
        };
        if self.step(decided).await? == Flow::Looking {
            return Ok(false);
        }
        loop {
            let deadline = self.deadline();
            let flow = tokio::select! {
                biased;
                _ = shutdown.changed() => return Ok(true),
                persisted = oldest_persisted(&mut self.persists) => {
                    persisted?;
                    self.on_persisted().await?
                }
                Some(link) = self.accepted.recv() => {
                    let sid = link.sid();
                    if self.ensemble.members.contains_key(&sid) && sid != self.sid {
                        debug!(learner = %sid, "learner connected");
                        // A reconnection replaces the old link: Zab must forget the old session
                        // with this learner, or it would ignore the new FOLLOWERINFO.
                        if self.links.insert(sid, link).is_some() {
                            self.step(Input::PeerDown(sid)).await?
                        } else {
                            Flow::Continue
                        }
                    } else {
                        warn!(%sid, "quorum connection from a server not in the ensemble; closing");
                        Flow::Continue
                    }
                }
                Some(event) = self.events_rx.recv() => {
                    self.leader_event(event).await;
                    for _ in 0..BURST_MAX {
                        match self.events_rx.try_recv() {
                            Ok(event) => self.leader_event(event).await,
                            Err(_) => break,
                        }
                    }
                    self.flush().await?
                }
                Some(msg) = self.from_core.recv() => {
                    self.leader_core_msg(msg);
                    for _ in 0..BURST_MAX {
                        match self.from_core.try_recv() {
                            Ok(msg) => self.leader_core_msg(msg),
                            Err(_) => break,
                        }
                    }
                    self.flush().await?
                }
                _ = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    self.step(Input::Tick).await?
                }
            };
            self.update_leader_stats();
            if flow == Flow::Looking {
                return Ok(false);
            }
        }
    }

    /// A learner's frame or broken link (its actions wait for the flush).
    async fn leader_event(&mut self, event: PeerEvent) {
        match event {
            PeerEvent::Frame { sid, link, bytes } => {
                if self.links.get(&sid).map(Link::id) != Some(link) {
                    return;
                }
                match PeerMsg::decode(&bytes) {
                    Ok(PeerMsg::Zab(msg)) => self.feed(Input::Recv { from: sid, msg }),
                    Ok(msg) => self.to_core(ToCore::FromLearner { sid, msg }).await,
                    Err(e) => {
                        warn!(learner = %sid, error = %e, "undecodable frame; dropping the learner");
                        self.links.remove(&sid);
                        self.feed(Input::PeerDown(sid));
                    }
                }
            }
            PeerEvent::Closed { sid, link } => {
                if self.links.get(&sid).map(Link::id) == Some(link) {
                    self.links.remove(&sid);
                    self.feed(Input::PeerDown(sid));
                }
            }
        }
    }

    /// A message from the core (its actions wait for the flush).
    fn leader_core_msg(&mut self, msg: ToNode) {
        match msg {
            ToNode::Propose(batch) => {
                for (header, txn) in batch {
                    if !self.zab.can_propose() {
                        warn!(zxid = %header.zxid, "proposal while not an established leader: dropped");
                        continue;
                    }
                    let bytes = encode_txn(&header, &txn);
                    self.stats.record_proposal_size(bytes.len());
                    self.proposed.push_back((header, txn));
                    self.feed(Input::Propose(bytes));
                }
            }
            ToNode::ToLearner { sid, msg } => self.send_to(sid, &msg),
            ToNode::Snapshot { tree, sessions } => self.take_snapshot(tree, sessions),
            ToNode::ToLeader(_) => {}
        }
    }

    /// Follows (or observes) `leader` until Zab gives up the role; true when shutting down.
    async fn follow(
        &mut self,
        leader: Sid,
        state: ServerState,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<bool, ServerError> {
        let Some(member) = self.ensemble.members.get(&leader) else {
            warn!(%leader, "elected leader is not in the ensemble");
            return Ok(false);
        };
        let addr = member.quorum_addr;
        let give_up = Instant::now()
            + Duration::from_millis(
                self.ensemble.tick_time_ms * self.ensemble.init_limit_ticks.max(1),
            );
        let link = loop {
            self.next_link_id += 1;
            let id = self.next_link_id;
            let attempt = peer::connect(self.sid, leader, addr, id, self.events_tx.clone());
            let result = tokio::select! {
                result = attempt => result,
                _ = shutdown.changed() => return Ok(true),
            };
            match result {
                Ok(link) => break link,
                Err(e) if Instant::now() < give_up => {
                    debug!(%leader, error = %e, "cannot reach the leader yet; retrying");
                    tokio::select! {
                        _ = sleep(Duration::from_millis(50)) => {}
                        _ = shutdown.changed() => return Ok(true),
                    }
                }
                Err(e) => {
                    info!(%leader, error = %e, "leader unreachable for initLimit; electing again");
                    return Ok(false);
                }
            }
        };
        let link_id = link.id();
        self.links.insert(leader, link);
        if self.step(Input::ElectionDecided { leader, state }).await? == Flow::Looking {
            return Ok(false);
        }
        loop {
            let deadline = self.deadline();
            let flow = tokio::select! {
                biased;
                _ = shutdown.changed() => return Ok(true),
                persisted = oldest_persisted(&mut self.persists) => {
                    persisted?;
                    self.on_persisted().await?
                }
                Some(_) = self.accepted.recv() => Flow::Continue,
                Some(event) = self.events_rx.recv() => {
                    self.learner_event(leader, link_id, event).await;
                    for _ in 0..BURST_MAX {
                        match self.events_rx.try_recv() {
                            Ok(event) => self.learner_event(leader, link_id, event).await,
                            Err(_) => break,
                        }
                    }
                    self.flush().await?
                }
                Some(msg) = self.from_core.recv() => {
                    self.learner_core_msg(leader, msg);
                    for _ in 0..BURST_MAX {
                        match self.from_core.try_recv() {
                            Ok(msg) => self.learner_core_msg(leader, msg),
                            Err(_) => break,
                        }
                    }
                    self.flush().await?
                }
                _ = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    self.step(Input::Tick).await?
                }
            };
            if flow == Flow::Looking {
                return Ok(false);
            }
        }
    }

    /// A frame or broken link on the link to `leader` (its actions wait for the flush).
    async fn learner_event(&mut self, leader: Sid, link_id: u64, event: PeerEvent) {
        match event {
            PeerEvent::Frame { sid, link, bytes } if sid == leader && link == link_id => {
                match PeerMsg::decode(&bytes) {
                    Ok(PeerMsg::Zab(msg)) => self.feed(Input::Recv { from: sid, msg }),
                    Ok(PeerMsg::SyncDone {
                        session,
                        cxid,
                        zxid,
                    }) => {
                        self.to_core(ToCore::SyncDone {
                            session,
                            cxid,
                            zxid,
                        })
                        .await
                    }
                    Ok(_) => {}
                    Err(e) => {
                        warn!(%leader, error = %e, "undecodable frame from the leader");
                        self.links.remove(&leader);
                        self.feed(Input::PeerDown(leader));
                    }
                }
            }
            PeerEvent::Closed { sid, link } if sid == leader && link == link_id => {
                self.links.remove(&leader);
                self.feed(Input::PeerDown(leader));
            }
            _ => {}
        }
    }

    /// A message from the core while learning (its actions wait for the flush).
    fn learner_core_msg(&mut self, leader: Sid, msg: ToNode) {
        match msg {
            ToNode::ToLeader(msg) => self.send_to(leader, &msg),
            ToNode::Snapshot { tree, sessions } => self.take_snapshot(tree, sessions),
            ToNode::Propose(_) | ToNode::ToLearner { .. } => {}
        }
    }
}
