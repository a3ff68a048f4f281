//! A simulated ensemble running Zab: each server is a [`Zab`] machine plus a host model (an
//! in-memory view of its state, a durable disk whose history writes complete in order after
//! a random fsync delay, and the transactions it delivered), optionally with FastLeaderElection
//! deciding the roles, on one virtual clock and one seeded RNG.
//!
//! Quorum connections are FIFO and break (with [`Input::PeerDown`] at both ends) on crashes,
//! partitions and role changes; packets of a broken connection are never delivered, as with
//! TCP. Election notifications are re-sent on heals and restarts, as in the election simulator.
//! The [`Ghost`] checkers run at every step that changes what was proposed, delivered,
//! established, truncated or installed.
//!
//! Scenario tests drive the same cluster by hand: [`ZabCluster::decide`] instead of an
//! election, [`ZabCluster::hold_disk`] to keep writes from completing, crashes, restarts,
//! partitions and dropped packets at chosen moments.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use tracing::info_span;
use zk_elect::{
    Action as ElectAction, Election, Input as ElectInput, Millis, QuorumVerifier, ServerState,
};
use zk_fle::{FastLeaderElection, FleConfig, Notification};
use zk_proto::{Epoch, Sid, Zxid};
use zk_sync::{Action, Durable, Entry, Input, Zab, ZabConfig, ZabMsg};

use super::checkers::Ghost;
use crate::invariants::Violation;
use crate::rng::SplitMix64;

/// Builds a server's Zab settings from its sid and the quorum (lets tests pick mutants).
pub type ConfigFactory = Box<dyn Fn(Sid, &QuorumVerifier) -> ZabConfig>;

/// Timing of the simulated network and disks.
#[derive(Clone, Debug)]
pub struct Timing {
    /// Smallest one-way delay.
    pub delay_ms_min: u64,
    /// Largest one-way delay.
    pub delay_ms_max: u64,
    /// Smallest fsync delay.
    pub fsync_ms_min: u64,
    /// Largest fsync delay.
    pub fsync_ms_max: u64,
}

/// One pending history write on a server's disk.
#[derive(Clone, Debug)]
enum Write {
    Append(Vec<Entry>),
    Truncate(Zxid),
    Snapshot { zxid: Zxid, entries: Vec<Entry> },
}

/// What survives a crash.
#[derive(Clone, Debug, Default)]
struct Disk {
    snapshot_zxid: Zxid,
    /// Everything durable: the snapshot's transactions, then the log.
    history: Vec<Entry>,
    accepted_epoch: Epoch,
    current_epoch: Epoch,
}

struct Server {
    incarnation: u64,
    zab: Option<Zab>,
    fle: Option<FastLeaderElection>,
    disk: Disk,
    /// The host's in-memory history (snapshot transactions, then the log).
    memory: Vec<Entry>,
    pending: VecDeque<Write>,
    /// Writes whose completion is scheduled.
    in_flight: usize,
    /// Scheduled completions whose write was already completed with an earlier one (group
    /// commit): the next this many `DiskDone` events have nothing left to do.
    completed_early: usize,
    delivered: Vec<Entry>,
    zab_timer_ms: Option<u64>,
    fle_timer_ms: Option<u64>,
    disk_free_at_ms: u64,
}

enum Event {
    Zab {
        from: Sid,
        to: Sid,
        conn: u64,
        bytes: Vec<u8>,
    },
    Fle {
        from: Sid,
        to: Sid,
        bytes: Vec<u8>,
    },
    ZabTimer {
        sid: Sid,
        incarnation: u64,
    },
    FleTimer {
        sid: Sid,
        incarnation: u64,
    },
    DiskDone {
        sid: Sid,
        incarnation: u64,
    },
    Hook(u64),
}

/// A simulated Zab ensemble.
pub struct ZabCluster {
    quorum: QuorumVerifier,
    config_factory: ConfigFactory,
    timing: Timing,
    use_fle: bool,
    rng: SplitMix64,
    now_ms: u64,
    queue: BTreeMap<(u64, u64), Event>,
    seq: u64,
    servers: BTreeMap<Sid, Server>,
    side: BTreeMap<Sid, u8>,
    conn: BTreeMap<(Sid, Sid), u64>,
    fifo_at_ms: BTreeMap<(Sid, Sid), u64>,
    last_fle: BTreeMap<(Sid, Sid), Vec<u8>>,
    held_disks: BTreeSet<Sid>,
    drops: Vec<(Sid, Sid, &'static str)>,
    /// The ghost state the checkers work on.
    pub ghost: Ghost,
    /// The first broken invariant.
    pub violation: Option<Violation>,
    hash: u64,
    /// Packets delivered.
    pub messages: u64,
    /// Hooks due (events a driver scheduled with [`ZabCluster::schedule_hook`]).
    pub due_hooks: Vec<u64>,
}

const FNV_PRIME: u64 = 0x0100_0000_01b3;

fn pair(a: Sid, b: Sid) -> (Sid, Sid) {
    (a.min(b), a.max(b))
}

impl ZabCluster {
    /// An ensemble of the quorum's voters plus `observers`, all down until booted.
    pub fn new(
        seed: u64,
        quorum: QuorumVerifier,
        observers: &[Sid],
        config_factory: ConfigFactory,
        timing: Timing,
        use_fle: bool,
    ) -> ZabCluster {
        let mut sids = quorum.voters();
        sids.extend_from_slice(observers);
        let servers = sids
            .iter()
            .map(|&sid| {
                let server = Server {
                    incarnation: 0,
                    zab: None,
                    fle: None,
                    disk: Disk::default(),
                    memory: Vec::new(),
                    pending: VecDeque::new(),
                    in_flight: 0,
                    completed_early: 0,
                    delivered: Vec::new(),
                    zab_timer_ms: None,
                    fle_timer_ms: None,
                    disk_free_at_ms: 0,
                };
                (sid, server)
            })
            .collect();
        ZabCluster {
            side: sids.iter().map(|&s| (s, 0)).collect(),
            quorum,
            config_factory,
            timing,
            use_fle,
            rng: SplitMix64::new(seed ^ 0x2ab_5eed),
            now_ms: 0,
            queue: BTreeMap::new(),
            seq: 0,
            servers,
            conn: BTreeMap::new(),
            fifo_at_ms: BTreeMap::new(),
            last_fle: BTreeMap::new(),
            held_disks: BTreeSet::new(),
            drops: Vec::new(),
            ghost: Ghost::default(),
            violation: None,
            hash: 0xcbf2_9ce4_8422_2325,
            messages: 0,
            due_hooks: Vec::new(),
        }
    }

    /// The virtual time.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// A hash of everything that happened: equal hashes, equal runs.
    pub fn trace_hash(&self) -> u64 {
        self.hash
    }

    /// The server ids.
    pub fn sids(&self) -> Vec<Sid> {
        self.servers.keys().copied().collect()
    }

    /// The Zab machine of a running server.
    pub fn zab(&self, sid: Sid) -> Option<&Zab> {
        self.servers[&sid].zab.as_ref()
    }

    /// Whether the server has history writes that are not durable yet.
    pub fn has_pending_writes(&self, sid: Sid) -> bool {
        !self.servers[&sid].pending.is_empty()
    }

    /// Whether the server is running.
    pub fn is_up(&self, sid: Sid) -> bool {
        self.servers[&sid].zab.is_some()
    }

    /// What the server delivered in its current incarnation.
    pub fn delivered(&self, sid: Sid) -> &[Entry] {
        &self.servers[&sid].delivered
    }

    /// The server's durable history (snapshot transactions, then the log).
    pub fn durable_history(&self, sid: Sid) -> &[Entry] {
        &self.servers[&sid].disk.history
    }

    /// The server's durable epochs: (acceptedEpoch, currentEpoch).
    pub fn durable_epochs(&self, sid: Sid) -> (Epoch, Epoch) {
        let disk = &self.servers[&sid].disk;
        (disk.accepted_epoch, disk.current_epoch)
    }

    /// One line per server: state, epochs, last logged, committed and delivered zxids.
    pub fn describe(&self) -> String {
        let mut lines = Vec::new();
        for (sid, server) in &self.servers {
            let line = match &server.zab {
                None => format!("{sid}: down"),
                Some(zab) => format!(
                    "{sid}: {} serving {:?}, accepted {} current {}, last {} committed {}, delivered {}, {} writes pending",
                    zab.state(),
                    zab.serving_epoch(),
                    zab.accepted_epoch(),
                    zab.current_epoch(),
                    zab.last_logged_zxid(),
                    zab.committed_zxid(),
                    server.delivered.last().map_or(Zxid::ZERO, |e| e.zxid),
                    server.pending.len(),
                ),
            };
            lines.push(line);
        }
        lines.join("\n")
    }

    /// Whether `sids` contain a quorum of voters.
    pub fn quorum_contains(&self, sids: impl IntoIterator<Item = Sid>) -> bool {
        self.quorum
            .contains_quorum(sids.into_iter().filter(|&s| self.quorum.is_voter(s)))
    }

    /// The running server that is an established leader, if any (the highest epoch wins).
    pub fn established_leader(&self) -> Option<Sid> {
        self.servers
            .iter()
            .filter_map(|(&sid, s)| {
                let zab = s.zab.as_ref()?;
                zab.can_propose().then(|| (zab.serving_epoch(), sid))
            })
            .max()
            .map(|(_, sid)| sid)
    }

    fn mix(&mut self, value: u64) {
        for byte in value.to_le_bytes() {
            self.hash = (self.hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
        }
    }

    fn schedule(&mut self, at_ms: u64, event: Event) {
        self.queue.insert((at_ms, self.seq), event);
        self.seq += 1;
    }

    /// Schedules hook `id` at `at_ms`: [`ZabCluster::run_until`] stops there with it in
    /// `due_hooks`.
    pub fn schedule_hook(&mut self, at_ms: u64, id: u64) {
        self.schedule(at_ms, Event::Hook(id));
    }

    fn fail(&mut self, violation: Violation) {
        if self.violation.is_none() {
            self.violation = Some(Violation {
                invariant: violation.invariant,
                detail: format!("at {} ms: {}", self.now_ms, violation.detail),
            });
        }
    }

    fn connected(&self, a: Sid, b: Sid) -> bool {
        self.side[&a] == self.side[&b]
    }

    /// Starts (or restarts) a server from its disk; with elections on, it starts LOOKING.
    pub fn boot(&mut self, sid: Sid) {
        let config = (self.config_factory)(sid, &self.quorum);
        let server = self.servers.get_mut(&sid).expect("known sid");
        assert!(server.zab.is_none(), "booting a running server");
        let disk = server.disk.clone();
        let durable = Durable {
            snapshot_zxid: disk.snapshot_zxid,
            log: disk
                .history
                .iter()
                .filter(|e| e.zxid > disk.snapshot_zxid)
                .cloned()
                .collect(),
            accepted_epoch: disk.accepted_epoch,
            current_epoch: disk.current_epoch,
        };
        server.zab = Some(Zab::new(config, durable));
        server.memory = disk.history;
        server.delivered = Vec::new();
        server.incarnation += 1;
        server.pending.clear();
        server.in_flight = 0;
        server.completed_early = 0;
        server.zab_timer_ms = None;
        server.fle_timer_ms = None;
        self.mix(1);
        self.mix(sid.0);
        self.break_connections(sid);
        if self.use_fle {
            let fle = FastLeaderElection::new(FleConfig::new(sid, self.quorum.clone()));
            self.servers.get_mut(&sid).expect("known sid").fle = Some(fle);
            self.resend_fle(sid);
            self.start_looking(sid);
        }
    }

    /// Crashes a server: volatile state and writes not yet durable are lost.
    pub fn crash(&mut self, sid: Sid) {
        let server = self.servers.get_mut(&sid).expect("known sid");
        server.zab = None;
        server.fle = None;
        server.pending.clear();
        server.in_flight = 0;
        server.completed_early = 0;
        server.zab_timer_ms = None;
        server.fle_timer_ms = None;
        self.mix(2);
        self.mix(sid.0);
        self.break_connections(sid);
    }

    /// Splits the servers: each gets a side; servers on different sides cannot talk.
    pub fn partition(&mut self, sides: &BTreeMap<Sid, u8>) {
        let sids = self.sids();
        for (&sid, &side) in sides {
            self.side.insert(sid, side);
        }
        self.mix(3);
        for &a in &sids {
            for &b in &sids {
                if a < b && !self.connected(a, b) {
                    self.break_connection(a, b, true);
                }
            }
        }
    }

    /// Heals every partition.
    pub fn heal(&mut self) {
        for side in self.side.values_mut() {
            *side = 0;
        }
        self.mix(4);
        for sid in self.sids() {
            if self.is_up(sid) {
                self.resend_fle(sid);
            }
        }
    }

    /// Keeps (`true`) or lets (`false`) the server's history writes complete.
    pub fn hold_disk(&mut self, sid: Sid, held: bool) {
        if held {
            self.held_disks.insert(sid);
        } else {
            self.held_disks.remove(&sid);
            self.start_writes(sid);
        }
    }

    /// Completes the oldest pending history write of a server whose disk is held, now.
    pub fn flush_one_write(&mut self, sid: Sid) {
        assert!(
            self.held_disks.contains(&sid),
            "flush_one_write needs a held disk"
        );
        let server = self.servers.get_mut(&sid).expect("known sid");
        if server.pending.is_empty() {
            return;
        }
        server.in_flight += 1;
        self.complete_write(sid);
    }

    /// Drops the next packet of this kind (e.g. "PROPOSAL") from `from` to `to`.
    pub fn drop_next(&mut self, from: Sid, to: Sid, kind: &'static str) {
        self.drops.push((from, to, kind));
    }

    /// Tells a server, without an election, that `leader` leads (scenario tests).
    pub fn decide(&mut self, sid: Sid, leader: Sid) {
        let state = if leader == sid {
            ServerState::Leading
        } else if self.quorum.is_voter(sid) {
            ServerState::Following
        } else {
            ServerState::Observing
        };
        self.step_zab(sid, Input::ElectionDecided { leader, state });
    }

    /// Submits a client write to the established leader, if there is one; returns whether it
    /// was proposed.
    pub fn propose(&mut self, txn: Vec<u8>) -> bool {
        let Some(leader) = self.established_leader() else {
            return false;
        };
        self.step_zab(leader, Input::Propose(txn));
        true
    }

    fn break_connections(&mut self, sid: Sid) {
        for peer in self.sids() {
            if peer != sid {
                self.break_connection(sid, peer, false);
            }
        }
    }

    /// Breaks the quorum connection between two servers: in-flight packets are lost and both
    /// ends hear PeerDown (only `b` unless `both`: `a` broke it itself).
    fn break_connection(&mut self, a: Sid, b: Sid, both: bool) {
        *self.conn.entry(pair(a, b)).or_default() += 1;
        for (to, peer) in [(a, b), (b, a)] {
            if (both || to == b) && self.is_up(to) {
                // At once: a later role of either end must never hear of this break.
                self.step_zab(to, Input::PeerDown(peer));
            }
        }
    }

    fn start_looking(&mut self, sid: Sid) {
        if !self.use_fle {
            return;
        }
        let zab = self.servers[&sid].zab.as_ref().expect("running");
        let input = ElectInput::Start {
            last_zxid: zab.last_logged_zxid(),
            peer_epoch: zab.current_epoch(),
        };
        self.step_fle(sid, input);
    }

    fn resend_fle(&mut self, sid: Sid) {
        for peer in self.sids() {
            if peer == sid || !self.is_up(peer) || !self.connected(sid, peer) {
                continue;
            }
            for (from, to) in [(sid, peer), (peer, sid)] {
                if let Some(bytes) = self.last_fle.get(&(from, to)).cloned() {
                    self.transmit_fle(from, to, bytes);
                }
            }
        }
    }

    fn delay(&mut self) -> u64 {
        self.rng
            .range(self.timing.delay_ms_min, self.timing.delay_ms_max)
    }

    fn transmit_fle(&mut self, from: Sid, to: Sid, bytes: Vec<u8>) {
        let at = self.now_ms + self.delay();
        self.schedule(at, Event::Fle { from, to, bytes });
    }

    fn step_fle(&mut self, sid: Sid, input: ElectInput<Notification>) {
        let mut out = Vec::new();
        {
            let _span = info_span!("server", sid = %sid, at_ms = self.now_ms).entered();
            let fle = self
                .servers
                .get_mut(&sid)
                .and_then(|s| s.fle.as_mut())
                .expect("running");
            fle.step(Millis(self.now_ms), input, &mut out);
        }
        for action in out {
            match action {
                ElectAction::Send { to, msg } => self.send_fle(sid, to, &msg),
                ElectAction::Broadcast(msg) => {
                    for to in self.quorum.voters() {
                        if to != sid {
                            self.send_fle(sid, to, &msg);
                        }
                    }
                }
                ElectAction::Decided(outcome) => {
                    self.mix(5);
                    self.mix(outcome.vote.leader.0);
                    let leader = outcome.vote.leader;
                    self.step_zab(
                        sid,
                        Input::ElectionDecided {
                            leader,
                            state: outcome.state,
                        },
                    );
                }
            }
        }
        let deadline = self.servers[&sid].fle.as_ref().and_then(|f| f.deadline());
        let at = deadline.map(|d| d.0.max(self.now_ms));
        let server = self.servers.get_mut(&sid).expect("known");
        if server.fle_timer_ms != at {
            server.fle_timer_ms = at;
            let incarnation = server.incarnation;
            if let Some(at) = at {
                self.schedule(at, Event::FleTimer { sid, incarnation });
            }
        }
    }

    fn send_fle(&mut self, from: Sid, to: Sid, msg: &Notification) {
        let bytes = msg.encode();
        self.last_fle.insert((from, to), bytes.clone());
        if self.servers.contains_key(&to) && self.is_up(to) && self.connected(from, to) {
            self.transmit_fle(from, to, bytes);
        }
    }

    fn send_zab(&mut self, from: Sid, to: Sid, msg: &ZabMsg) {
        if let Some(i) = self
            .drops
            .iter()
            .position(|&(f, t, kind)| f == from && t == to && kind == msg.kind())
        {
            self.drops.remove(i);
            return;
        }
        if !self.is_up(to) || !self.connected(from, to) {
            return;
        }
        let conn = self.conn.get(&pair(from, to)).copied().unwrap_or(0);
        let fifo = self.fifo_at_ms.get(&(from, to)).copied().unwrap_or(0);
        let at = (self.now_ms + self.delay()).max(fifo);
        self.fifo_at_ms.insert((from, to), at);
        self.schedule(
            at,
            Event::Zab {
                from,
                to,
                conn,
                bytes: msg.encode(),
            },
        );
    }

    /// Steps a server's Zab machine and executes its actions, then runs the checkers.
    pub fn step_zab(&mut self, sid: Sid, input: Input) {
        let mut out = Vec::new();
        {
            let _span = info_span!("server", sid = %sid, at_ms = self.now_ms).entered();
            let Some(zab) = self.servers.get_mut(&sid).and_then(|s| s.zab.as_mut()) else {
                return;
            };
            zab.step(Millis(self.now_ms), input, &mut out);
        }
        for action in out {
            self.execute(sid, action);
        }
        let deadline = self.servers[&sid].zab.as_ref().and_then(|z| z.deadline());
        let at = deadline.map(|d| d.0.max(self.now_ms));
        let server = self.servers.get_mut(&sid).expect("known");
        if server.zab_timer_ms != at {
            server.zab_timer_ms = at;
            let incarnation = server.incarnation;
            if let Some(at) = at {
                self.schedule(at, Event::ZabTimer { sid, incarnation });
            }
        }
    }

    fn execute(&mut self, sid: Sid, action: Action) {
        match action {
            Action::Send { to, msg } => self.send_zab(sid, to, &msg),
            Action::SendSnapshot { to, zxid } => {
                let entries: Vec<Entry> = self.servers[&sid]
                    .memory
                    .iter()
                    .filter(|e| e.zxid <= zxid)
                    .cloned()
                    .collect();
                let state = postcard::to_allocvec(&entries).expect("entries serialize");
                self.send_zab(sid, to, &ZabMsg::Snap { zxid, state });
            }
            Action::Append(entries) => {
                let leader = self.servers[&sid]
                    .zab
                    .as_ref()
                    .is_some_and(|z| z.can_propose());
                if leader {
                    let delivered =
                        std::mem::take(&mut self.servers.get_mut(&sid).expect("known").delivered);
                    for entry in &entries {
                        if let Err(v) = self.ghost.on_broadcast(sid, entry, &delivered) {
                            self.fail(v);
                        }
                    }
                    self.servers.get_mut(&sid).expect("known").delivered = delivered;
                }
                self.servers
                    .get_mut(&sid)
                    .expect("known")
                    .memory
                    .extend(entries.iter().cloned());
                self.enqueue_write(sid, Write::Append(entries));
            }
            Action::Truncate(zxid) => {
                let server = self.servers.get_mut(&sid).expect("known");
                let dropped: Vec<Entry> = server
                    .memory
                    .iter()
                    .filter(|e| e.zxid > zxid)
                    .cloned()
                    .collect();
                server.memory.retain(|e| e.zxid <= zxid);
                for entry in dropped {
                    if self.ghost.delivered_ever.contains(&entry) {
                        self.fail(Violation {
                            invariant: "NoCommittedTransactionLost",
                            detail: format!("{sid} truncates delivered transaction {}", entry.zxid),
                        });
                    }
                }
                self.enqueue_write(sid, Write::Truncate(zxid));
            }
            Action::ApplySnapshot { zxid, state } => {
                let entries: Vec<Entry> =
                    postcard::from_bytes(&state).expect("our own snapshot format");
                let delivered = &self.servers[&sid].delivered;
                if !entries.starts_with(delivered) && !delivered.starts_with(&entries) {
                    self.fail(Violation {
                        invariant: "PrefixConsistency",
                        detail: format!("{sid} installs a snapshot at {zxid} that does not extend what it delivered"),
                    });
                }
                self.servers.get_mut(&sid).expect("known").memory = entries.clone();
                self.enqueue_write(sid, Write::Snapshot { zxid, entries });
            }
            Action::PersistAcceptedEpoch(epoch) => {
                let disk = &mut self.servers.get_mut(&sid).expect("known").disk;
                disk.accepted_epoch = epoch;
            }
            Action::PersistCurrentEpoch(epoch) => {
                let disk = &mut self.servers.get_mut(&sid).expect("known").disk;
                assert!(
                    disk.accepted_epoch >= epoch || epoch > disk.accepted_epoch,
                    "epoch write"
                );
                disk.current_epoch = epoch;
            }
            Action::Commit(zxid) => self.deliver(sid, zxid),
            Action::ServeClients { epoch } => {
                self.mix(6);
                self.mix(sid.0);
                self.mix(epoch.0);
                let leader = self.servers[&sid]
                    .zab
                    .as_ref()
                    .is_some_and(|z| z.state() == ServerState::Leading);
                if leader {
                    let memory = self.servers[&sid].memory.clone();
                    if let Err(v) = self.ghost.on_established(sid, epoch, &memory) {
                        self.fail(v);
                    }
                }
            }
            Action::Disconnect { peer } => {
                self.mix(11);
                self.break_connection(sid, peer, false);
            }
            Action::GoLooking { .. } => {
                self.mix(7);
                self.mix(sid.0);
                self.break_connections(sid);
                self.start_looking(sid);
            }
        }
    }

    fn deliver(&mut self, sid: Sid, zxid: Zxid) {
        let server = &self.servers[&sid];
        let last = server.delivered.last().map_or(Zxid::ZERO, |e| e.zxid);
        let new: Vec<Entry> = server
            .memory
            .iter()
            .filter(|e| e.zxid > last && e.zxid <= zxid)
            .cloned()
            .collect();
        let mut delivered =
            std::mem::take(&mut self.servers.get_mut(&sid).expect("known").delivered);
        for entry in new {
            if let Err(v) = self
                .ghost
                .on_deliver(sid, delivered.len(), &entry, &delivered)
            {
                self.fail(v);
            }
            self.mix(8);
            self.mix(entry.zxid.0);
            delivered.push(entry);
        }
        self.servers.get_mut(&sid).expect("known").delivered = delivered;
    }

    fn enqueue_write(&mut self, sid: Sid, write: Write) {
        self.servers
            .get_mut(&sid)
            .expect("known")
            .pending
            .push_back(write);
        self.start_writes(sid);
    }

    /// Schedules the completion of every pending write not yet scheduled, in order.
    fn start_writes(&mut self, sid: Sid) {
        if self.held_disks.contains(&sid) {
            return;
        }
        loop {
            let server = &self.servers[&sid];
            if server.in_flight >= server.pending.len() {
                return;
            }
            let fsync = self
                .rng
                .range(self.timing.fsync_ms_min, self.timing.fsync_ms_max);
            let server = self.servers.get_mut(&sid).expect("known");
            let at = (self.now_ms + fsync).max(server.disk_free_at_ms);
            server.disk_free_at_ms = at;
            server.in_flight += 1;
            let incarnation = server.incarnation;
            self.schedule(at, Event::DiskDone { sid, incarnation });
        }
    }

    fn complete_write(&mut self, sid: Sid) {
        let server = self.servers.get_mut(&sid).expect("known");
        let Some(write) = server.pending.pop_front() else {
            return;
        };
        server.in_flight -= 1;
        let appended = matches!(write, Write::Append(_));
        let disk = &mut server.disk;
        match write {
            Write::Append(entries) => disk.history.extend(entries),
            Write::Truncate(zxid) => disk.history.retain(|e| e.zxid <= zxid),
            Write::Snapshot { zxid, entries } => {
                disk.history = entries;
                disk.snapshot_zxid = zxid;
            }
        }
        // Group commit, as the server's log does it: appends already on their way to the disk
        // sometimes become durable with this one, and Zab hears of them in one Persisted.
        if appended {
            loop {
                let server = &self.servers[&sid];
                let next_is_append = matches!(server.pending.front(), Some(Write::Append(_)));
                if server.in_flight == 0 || !next_is_append || !self.rng.chance(500) {
                    break;
                }
                let server = self.servers.get_mut(&sid).expect("known");
                if let Some(Write::Append(entries)) = server.pending.pop_front() {
                    server.disk.history.extend(entries);
                }
                server.in_flight -= 1;
                server.completed_early += 1;
                self.mix(12);
            }
        }
        let disk = &self.servers[&sid].disk;
        let up_to = disk
            .history
            .last()
            .map_or(disk.snapshot_zxid, |e| e.zxid)
            .max(disk.snapshot_zxid);
        self.step_zab(sid, Input::Persisted { up_to });
    }

    /// Processes events until `done` holds, a violation is found, a hook falls due, or the
    /// clock passes `until_ms`. Returns whether `done` held.
    pub fn run_until(&mut self, until_ms: u64, mut done: impl FnMut(&ZabCluster) -> bool) -> bool {
        loop {
            if done(self) {
                return true;
            }
            if self.violation.is_some() || !self.due_hooks.is_empty() {
                return false;
            }
            let Some((&(at, _), _)) = self.queue.first_key_value() else {
                self.now_ms = until_ms;
                return done(self);
            };
            if at > until_ms {
                self.now_ms = until_ms;
                return done(self);
            }
            let ((at, _), event) = self.queue.pop_first().expect("peeked");
            self.now_ms = at;
            self.handle(event);
        }
    }

    /// Runs until `until_ms` (or a violation or hook).
    pub fn run_for(&mut self, duration_ms: u64) {
        let until = self.now_ms + duration_ms;
        self.run_until(until, |_| false);
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Zab {
                from,
                to,
                conn,
                bytes,
            } => {
                if self.conn.get(&pair(from, to)).copied().unwrap_or(0) != conn
                    || !self.is_up(to)
                    || !self.is_up(from)
                {
                    return;
                }
                self.messages += 1;
                self.mix(9);
                self.mix(from.0);
                self.mix(to.0);
                match ZabMsg::decode(&bytes) {
                    Ok(msg) => self.step_zab(to, Input::Recv { from, msg }),
                    Err(error) => self.fail(Violation {
                        invariant: "WireRoundTrip",
                        detail: format!("a packet from {from} to {to} does not decode: {error}"),
                    }),
                }
            }
            Event::Fle { from, to, bytes } => {
                if !self.is_up(to) || !self.is_up(from) || !self.connected(from, to) {
                    return;
                }
                self.mix(10);
                match Notification::decode(&bytes) {
                    Ok(msg) => self.step_fle(to, ElectInput::Recv { from, msg }),
                    Err(error) => self.fail(Violation {
                        invariant: "WireRoundTrip",
                        detail: format!(
                            "a notification from {from} to {to} does not decode: {error}"
                        ),
                    }),
                }
            }
            Event::ZabTimer { sid, incarnation } => {
                let server = &self.servers[&sid];
                if server.incarnation == incarnation && server.zab_timer_ms == Some(self.now_ms) {
                    self.servers.get_mut(&sid).expect("known").zab_timer_ms = None;
                    self.step_zab(sid, Input::Tick);
                }
            }
            Event::FleTimer { sid, incarnation } => {
                let server = &self.servers[&sid];
                if server.incarnation == incarnation
                    && server.fle.is_some()
                    && server.fle_timer_ms == Some(self.now_ms)
                {
                    self.servers.get_mut(&sid).expect("known").fle_timer_ms = None;
                    self.step_fle(sid, ElectInput::Tick);
                }
            }
            Event::DiskDone { sid, incarnation } => {
                if self.servers[&sid].incarnation == incarnation && self.is_up(sid) {
                    let server = self.servers.get_mut(&sid).expect("known");
                    if server.completed_early > 0 {
                        server.completed_early -= 1;
                    } else {
                        self.complete_write(sid);
                    }
                }
            }
            Event::Hook(id) => self.due_hooks.push(id),
        }
    }
}
