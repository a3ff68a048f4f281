//! The simulator: N servers stepping a real election state machine on one virtual clock, with
//! one seeded RNG deciding every delay, loss, duplication, partition, crash and restart.
//!
//! Events sit in a queue ordered by `(deliver_at, seq)`, so a run is a pure function of the seed
//! and of the code. Messages cross the simulated network as their postcard bytes, exactly as
//! they would cross a socket.
//!
//! The network models ZooKeeper's election transport (one TCP connection per pair of servers):
//! a lost message is a broken connection, as are partitions and crashes. A broken connection is
//! re-established by the next message either side sends while they can reach each other (and
//! by heals and restarts), and then, as `QuorumCnxManager`'s send workers do, the last message
//! each side had sent over it is sent again. Without that re-send, FastLeaderElection can
//! starve: once back-offs reach their cap, a server whose better vote was lost may never re-send
//! it, because every notification it receives restarts its wait.
//!
//! Between elections a small stand-in for Zab plays each server's role: a follower (or observer)
//! whose leader is down, unreachable or not LEADING, and a leader without a quorum of reachable
//! followers, go back to LOOKING after `sync_limit_ms`, as ZooKeeper's learners and leaders do
//! after `syncLimit` ticks.

use std::collections::BTreeMap;

use tracing::info_span;
use zk_elect::{Action, Election, Input, Millis, Outcome, QuorumVerifier, ServerState};
use zk_proto::Sid;

use crate::invariants::{self, settles, Violation};
use crate::rng::SplitMix64;
use crate::world::{FaultKind, World};

/// Settings of a run that do not come from the seed.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Once faults stop, the time within which every server must settle on one leader.
    pub liveness_bound_ms: u64,
    /// How long a settled ensemble must stay settled for the run to end successfully.
    pub settle_hold_ms: u64,
    /// How often the Zab stand-in checks each server's role.
    pub role_check_interval_ms: u64,
    /// How long a new follower may take to reach its leader, and a new leader to gather a
    /// quorum of followers, before going back to LOOKING (ZooKeeper's `initLimit` ticks).
    pub init_limit_ms: u64,
    /// How long an established follower without its leader, or an established leader without
    /// a quorum, keeps its role (ZooKeeper's `syncLimit` ticks).
    pub sync_limit_ms: u64,
    /// Upper bound on processed events, against livelock in the simulator itself.
    pub max_events: u64,
    /// Datagram transport (LeaderElection, AuthFastLeaderElection over UDP): a lost message is
    /// just lost; no connection breaks and nothing is re-sent on reconnection.
    pub datagram: bool,
}

impl Default for SimOptions {
    fn default() -> SimOptions {
        SimOptions {
            // Five back-off caps (60 s): after a long fault phase every LOOKING server may be
            // at the cap. The slowest of 150 000 seeds settled 87 s after faults stopped.
            liveness_bound_ms: 300_000,
            settle_hold_ms: 10_000,
            role_check_interval_ms: 500,
            // zoo.cfg's usual tickTime=2000, initLimit=10 and syncLimit=5.
            init_limit_ms: 20_000,
            sync_limit_ms: 10_000,
            max_events: 2_000_000,
            datagram: false,
        }
    }
}

/// A server's role as the Zab stand-in sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Crashed.
    Down,
    /// Running an election.
    Looking,
    /// Following the given leader.
    Following(Sid),
    /// Leading.
    Leading,
    /// Observing the given leader.
    Observing(Sid),
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// A hash of every event, decision and message of the run: equal hashes, equal runs.
    pub trace_hash: u64,
    /// Events processed.
    pub events: u64,
    /// Point-to-point messages sent (a broadcast counts once per recipient).
    pub messages: u64,
    /// Decisions taken.
    pub decisions: u64,
    /// Virtual time at the end of the run.
    pub end_ms: u64,
    /// Virtual time from the end of the fault phase to settling, if it settled.
    pub settle_ms: Option<u64>,
    /// The first broken invariant, if any.
    pub violation: Option<Violation>,
    /// The world the seed drew, in one line.
    pub world: String,
}

enum Event {
    Boot(Sid),
    Deliver {
        from: Sid,
        to: Sid,
        from_incarnation: u64,
        to_incarnation: u64,
        bytes: Vec<u8>,
    },
    Timer {
        sid: Sid,
        incarnation: u64,
    },
    /// A connection to a crashed server broke: its peer's transport reports it (TCP only).
    PeerDown {
        to: Sid,
        to_incarnation: u64,
        peer: Sid,
    },
    Fault,
    Quiet,
    RoleCheck,
}

struct Node<E> {
    machine: Option<E>,
    incarnation: u64,
    timer_at_ms: Option<u64>,
    role: Role,
    /// Whether the current role was ever healthy (established), which picks the time limit.
    established: bool,
    /// When the current role must be given up unless it becomes healthy.
    give_up_at_ms: Option<u64>,
}

/// Builds a server's election machine from its sid and the ensemble's quorum verifier.
pub type Factory<'a, E> = dyn Fn(Sid, &QuorumVerifier) -> E + 'a;

/// One run of one world.
pub struct Simulator<'a, E: Election> {
    world: World,
    options: SimOptions,
    factory: &'a Factory<'a, E>,
    rng: SplitMix64,
    now_ms: u64,
    queue: BTreeMap<(u64, u64), Event>,
    next_seq: u64,
    nodes: BTreeMap<Sid, Node<E>>,
    voters: Vec<Sid>,
    side: BTreeMap<Sid, u8>,
    /// The last message each server sent to each other server.
    last_sent: BTreeMap<(Sid, Sid), Vec<u8>>,
    /// Connections (unordered pairs, smaller sid first) that broke and are not re-established.
    broken: std::collections::BTreeSet<(Sid, Sid)>,
    faults_on: bool,
    quiet_at_ms: u64,
    settled_since_ms: Option<u64>,
    hash: u64,
    events: u64,
    messages: u64,
    decisions: u64,
    violation: Option<Violation>,
    done: bool,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

impl<'a, E: Election> Simulator<'a, E> {
    /// A simulator for `world`, building machines with `factory`.
    pub fn new(world: World, options: SimOptions, factory: &'a Factory<'a, E>) -> Simulator<'a, E> {
        let rng = SplitMix64::new(world.seed);
        let nodes = world
            .servers
            .keys()
            .map(|&sid| {
                let node = Node {
                    machine: None,
                    incarnation: 0,
                    timer_at_ms: None,
                    role: Role::Down,
                    established: false,
                    give_up_at_ms: None,
                };
                (sid, node)
            })
            .collect();
        let voters = world.quorum.voters();
        let side = world.servers.keys().map(|&sid| (sid, 0)).collect();
        let quiet_at_ms = world.faults.fault_phase_ms;
        let mut sim = Simulator {
            world,
            options,
            factory,
            rng,
            now_ms: 0,
            queue: BTreeMap::new(),
            next_seq: 0,
            nodes,
            voters,
            side,
            last_sent: BTreeMap::new(),
            broken: std::collections::BTreeSet::new(),
            faults_on: quiet_at_ms > 0,
            quiet_at_ms,
            settled_since_ms: None,
            hash: FNV_OFFSET,
            events: 0,
            messages: 0,
            decisions: 0,
            violation: None,
            done: false,
        };
        let boots: Vec<(Sid, u64)> = sim
            .world
            .servers
            .values()
            .map(|s| (s.sid, s.start_at_ms))
            .collect();
        for (sid, at) in boots {
            sim.schedule(at, Event::Boot(sid));
        }
        if sim.faults_on {
            let first = sim.fault_gap_ms();
            sim.schedule(first, Event::Fault);
        }
        sim.schedule(quiet_at_ms, Event::Quiet);
        sim.schedule(sim.options.role_check_interval_ms, Event::RoleCheck);
        sim
    }

    /// Runs to the end: success once settled long enough, failure at the first violation.
    pub fn run(mut self) -> Report {
        while !self.done {
            let Some(((at, _), event)) = self.queue.pop_first() else {
                self.fail("Settles", "the event queue ran dry".to_owned());
                break;
            };
            self.now_ms = at;
            self.events += 1;
            if self.events > self.options.max_events {
                self.fail(
                    "EventBudget",
                    format!("more than {} events", self.options.max_events),
                );
                break;
            }
            self.handle(event);
        }
        Report {
            seed: self.world.seed,
            trace_hash: self.hash,
            events: self.events,
            messages: self.messages,
            decisions: self.decisions,
            end_ms: self.now_ms,
            settle_ms: self
                .settled_since_ms
                .map(|at| at.saturating_sub(self.quiet_at_ms)),
            violation: self.violation,
            world: self.world.summary(),
        }
    }

    fn fail(&mut self, invariant: &'static str, detail: String) {
        if self.violation.is_none() {
            self.violation = Some(Violation {
                invariant,
                detail: format!("at {} ms: {detail}", self.now_ms),
            });
        }
        self.done = true;
    }

    fn schedule(&mut self, at_ms: u64, event: Event) {
        self.queue.insert((at_ms, self.next_seq), event);
        self.next_seq += 1;
    }

    fn mix(&mut self, value: u64) {
        for byte in value.to_le_bytes() {
            self.hash = (self.hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
        }
    }

    fn mix_bytes(&mut self, bytes: &[u8]) {
        self.mix(bytes.len() as u64);
        for &byte in bytes {
            self.hash = (self.hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
        }
    }

    fn fault_gap_ms(&mut self) -> u64 {
        let mean = self.world.faults.fault_interval_ms_mean;
        self.rng.range(1, 2 * mean)
    }

    fn local_ms(&self, sid: Sid, global_ms: u64) -> u64 {
        global_ms * self.world.servers[&sid].clock_rate_per_mille / 1000
    }

    /// The first global time at which `sid`'s clock reads `local_ms` or later.
    fn global_ms(&self, sid: Sid, local_ms: u64) -> u64 {
        let rate = self.world.servers[&sid].clock_rate_per_mille;
        (local_ms * 1000).div_ceil(rate)
    }

    fn connected(&self, a: Sid, b: Sid) -> bool {
        self.side[&a] == self.side[&b]
    }

    fn is_up(&self, sid: Sid) -> bool {
        self.nodes[&sid].machine.is_some()
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Boot(sid) => {
                if !self.is_up(sid) {
                    self.boot(sid);
                }
            }
            Event::Deliver {
                from,
                to,
                from_incarnation,
                to_incarnation,
                bytes,
            } => {
                let alive = self.nodes[&from].incarnation == from_incarnation
                    && self.nodes[&from].machine.is_some()
                    && self.nodes[&to].incarnation == to_incarnation
                    && self.nodes[&to].machine.is_some();
                if !alive || !self.connected(from, to) {
                    self.broken.insert(pair(from, to));
                    return;
                }
                self.mix(1);
                self.mix(self.now_ms);
                self.mix(from.0);
                self.mix(to.0);
                self.mix_bytes(&bytes);
                let msg: E::Msg = match postcard::from_bytes(&bytes) {
                    Ok(msg) => msg,
                    Err(error) => {
                        self.fail(
                            "WireRoundTrip",
                            format!("a message from {from} to {to} does not decode: {error}"),
                        );
                        return;
                    }
                };
                self.step(to, Input::Recv { from, msg });
            }
            Event::PeerDown {
                to,
                to_incarnation,
                peer,
            } => {
                if self.nodes[&to].incarnation == to_incarnation
                    && self.nodes[&to].machine.is_some()
                {
                    self.mix(8);
                    self.mix(self.now_ms);
                    self.mix(to.0);
                    self.mix(peer.0);
                    self.step(to, Input::PeerDown(peer));
                }
            }
            Event::Timer { sid, incarnation } => {
                let node = &self.nodes[&sid];
                if node.incarnation == incarnation
                    && node.machine.is_some()
                    && node.timer_at_ms == Some(self.now_ms)
                {
                    self.nodes.get_mut(&sid).expect("known sid").timer_at_ms = None;
                    self.mix(2);
                    self.mix(self.now_ms);
                    self.mix(sid.0);
                    self.step(sid, Input::Tick);
                }
            }
            Event::Fault => {
                if self.faults_on {
                    self.inject_fault();
                    let at = self.now_ms + self.fault_gap_ms();
                    self.schedule(at, Event::Fault);
                }
            }
            Event::Quiet => {
                self.faults_on = false;
                self.mix(3);
                for side in self.side.values_mut() {
                    *side = 0;
                }
                let down: Vec<Sid> = self
                    .nodes
                    .iter()
                    .filter(|(_, n)| n.machine.is_none())
                    .map(|(&s, _)| s)
                    .collect();
                for sid in down {
                    // Servers not booted yet boot at their own time.
                    if self.nodes[&sid].incarnation > 0 {
                        self.boot(sid);
                    }
                }
                self.repair_all();
            }
            Event::RoleCheck => {
                self.check_roles();
                self.check_liveness();
                let at = self.now_ms + self.options.role_check_interval_ms;
                self.schedule(at, Event::RoleCheck);
            }
        }
    }

    fn inject_fault(&mut self) {
        let kind = self.world.faults.draw(&mut self.rng);
        let sids: Vec<Sid> = self.world.servers.keys().copied().collect();
        match kind {
            FaultKind::Crash => {
                let up: Vec<Sid> = sids.iter().copied().filter(|&s| self.is_up(s)).collect();
                if !up.is_empty() {
                    let sid = self.rng.pick(&up);
                    self.crash(sid);
                }
            }
            FaultKind::Restart => {
                let down: Vec<Sid> = sids
                    .iter()
                    .copied()
                    .filter(|&s| !self.is_up(s) && self.nodes[&s].incarnation > 0)
                    .collect();
                if !down.is_empty() {
                    let sid = self.rng.pick(&down);
                    self.boot(sid);
                }
            }
            FaultKind::Partition => {
                for sid in sids {
                    let side = self.rng.range(0, 1) as u8;
                    self.side.insert(sid, side);
                }
                self.mix(4);
            }
            FaultKind::Heal => {
                for side in self.side.values_mut() {
                    *side = 0;
                }
                self.mix(5);
                self.repair_all();
            }
        }
    }

    fn boot(&mut self, sid: Sid) {
        let machine = (self.factory)(sid, &self.world.quorum);
        let node = self.nodes.get_mut(&sid).expect("known sid");
        node.machine = Some(machine);
        node.incarnation += 1;
        node.timer_at_ms = None;
        self.mix(6);
        self.mix(self.now_ms);
        self.mix(sid.0);
        self.start_looking(sid);
    }

    fn crash(&mut self, sid: Sid) {
        let node = self.nodes.get_mut(&sid).expect("known sid");
        node.machine = None;
        node.role = Role::Down;
        node.timer_at_ms = None;
        node.give_up_at_ms = None;
        let peers: Vec<Sid> = self
            .world
            .servers
            .keys()
            .copied()
            .filter(|&p| p != sid)
            .collect();
        for peer in peers {
            self.broken.insert(pair(sid, peer));
            // A crash closes its TCP connections: each live peer's transport notices within a
            // network delay (a datagram transport notices nothing).
            if !self.options.datagram && self.nodes[&peer].machine.is_some() {
                let event = Event::PeerDown {
                    to: peer,
                    to_incarnation: self.nodes[&peer].incarnation,
                    peer: sid,
                };
                let at = self.now_ms + self.world.network.delay_ms_max;
                self.schedule(at, event);
            }
        }
        self.mix(7);
        self.mix(self.now_ms);
        self.mix(sid.0);
    }

    fn start_looking(&mut self, sid: Sid) {
        let spec = &self.world.servers[&sid];
        let input = Input::Start {
            last_zxid: spec.last_zxid,
            peer_epoch: spec.peer_epoch,
        };
        let node = self.nodes.get_mut(&sid).expect("known sid");
        node.role = Role::Looking;
        node.established = false;
        node.give_up_at_ms = None;
        self.step(sid, input);
    }

    fn step(&mut self, sid: Sid, input: Input<E::Msg>) {
        let local = Millis(self.local_ms(sid, self.now_ms));
        let mut out = Vec::new();
        {
            let _span = info_span!("server", sid = %sid, at_ms = self.now_ms).entered();
            let machine = self
                .nodes
                .get_mut(&sid)
                .and_then(|n| n.machine.as_mut())
                .expect("stepping a running server");
            machine.step(local, input, &mut out);
        }
        for action in out {
            match action {
                Action::Send { to, msg } => self.send(sid, to, &msg),
                Action::Broadcast(msg) => {
                    for to in self.voters.clone() {
                        if to != sid {
                            self.send(sid, to, &msg);
                        }
                    }
                }
                Action::Decided(outcome) => self.on_decided(sid, outcome),
            }
        }
        self.check_state(sid);
        self.rearm_timer(sid);
    }

    fn rearm_timer(&mut self, sid: Sid) {
        let deadline = self.nodes[&sid].machine.as_ref().and_then(|m| m.deadline());
        let at = deadline.map(|d| self.global_ms(sid, d.0).max(self.now_ms));
        let incarnation = self.nodes[&sid].incarnation;
        let node = self.nodes.get_mut(&sid).expect("known sid");
        if node.timer_at_ms == at {
            return;
        }
        node.timer_at_ms = at;
        if let Some(at) = at {
            self.schedule(at, Event::Timer { sid, incarnation });
        }
    }

    fn send(&mut self, from: Sid, to: Sid, msg: &E::Msg) {
        self.messages += 1;
        if !self.world.servers.contains_key(&to) {
            self.fail(
                "KnownRecipient",
                format!("{from} sent to unknown server {to}"),
            );
            return;
        }
        let bytes = match postcard::to_allocvec(msg) {
            Ok(bytes) => bytes,
            Err(error) => {
                self.fail(
                    "WireRoundTrip",
                    format!("a message from {from} does not encode: {error}"),
                );
                return;
            }
        };
        self.last_sent.insert((from, to), bytes.clone());
        if !self.connected(from, to) || !self.is_up(to) {
            self.broken.insert(pair(from, to));
            return;
        }
        if !self.options.datagram && self.broken.contains(&pair(from, to)) {
            // Reconnecting: the other side's send worker re-sends its last message.
            self.broken.remove(&pair(from, to));
            if let Some(last) = self.last_sent.get(&(to, from)).cloned() {
                self.transmit(to, from, last);
            }
        }
        self.transmit(from, to, bytes);
    }

    /// Puts one message on a connection: lost (breaking it), delivered once, or twice.
    fn transmit(&mut self, from: Sid, to: Sid, bytes: Vec<u8>) {
        let network = self.world.network.clone();
        let copies = if self.faults_on {
            if self.rng.chance(network.loss_per_mille) {
                self.broken.insert(pair(from, to));
                0
            } else if self.rng.chance(network.duplicate_per_mille) {
                2
            } else {
                1
            }
        } else {
            1
        };
        for _ in 0..copies {
            let delay = self.rng.range(network.delay_ms_min, network.delay_ms_max);
            let event = Event::Deliver {
                from,
                to,
                from_incarnation: self.nodes[&from].incarnation,
                to_incarnation: self.nodes[&to].incarnation,
                bytes: bytes.clone(),
            };
            self.schedule(self.now_ms + delay, event);
        }
    }

    /// Re-establishes every broken connection whose ends are up and can reach each other, and
    /// re-sends the last message each end had sent over it.
    fn repair_all(&mut self) {
        if self.options.datagram {
            return;
        }
        let repairable: Vec<(Sid, Sid)> = self
            .broken
            .iter()
            .copied()
            .filter(|&(a, b)| self.is_up(a) && self.is_up(b) && self.connected(a, b))
            .collect();
        for (a, b) in repairable {
            self.broken.remove(&(a, b));
            for (from, to) in [(a, b), (b, a)] {
                if let Some(last) = self.last_sent.get(&(from, to)).cloned() {
                    self.transmit(from, to, last);
                }
            }
        }
    }

    fn on_decided(&mut self, sid: Sid, outcome: Outcome) {
        self.decisions += 1;
        self.mix(8);
        self.mix(self.now_ms);
        self.mix(sid.0);
        self.mix(outcome.vote.leader.0);
        self.mix(u64::from(outcome.state.ordinal()));
        if let Err(violation) = invariants::check_decision(&self.world, sid, &outcome) {
            self.fail(violation.invariant, violation.detail);
            return;
        }
        let role = match outcome.state {
            ServerState::Leading => Role::Leading,
            ServerState::Following => Role::Following(outcome.vote.leader),
            ServerState::Observing => Role::Observing(outcome.vote.leader),
            ServerState::Looking => {
                self.fail("DecidedState", format!("{sid} decided LOOKING"));
                return;
            }
        };
        let node = self.nodes.get_mut(&sid).expect("known sid");
        node.role = role;
        node.established = false;
        node.give_up_at_ms = None;
    }

    /// After every step: the machine's state matches the role it last decided.
    fn check_state(&mut self, sid: Sid) {
        let Some(state) = self.nodes[&sid].machine.as_ref().map(|m| m.state()) else {
            return;
        };
        let role = self.nodes[&sid].role;
        let consistent = matches!(
            (state, role),
            (ServerState::Looking, Role::Looking)
                | (ServerState::Leading, Role::Leading)
                | (ServerState::Following, Role::Following(_))
                | (ServerState::Observing, Role::Observing(_))
        );
        if !consistent {
            self.fail(
                "StateMatchesDecision",
                format!("{sid} is {state} but last decided {role:?}"),
            );
        }
    }

    /// The Zab stand-in: roles that lost their leader or their quorum go back to LOOKING.
    fn check_roles(&mut self) {
        let sids: Vec<Sid> = self.nodes.keys().copied().collect();
        for sid in sids {
            let role = self.nodes[&sid].role;
            let healthy = match role {
                Role::Down | Role::Looking => continue,
                Role::Following(leader) | Role::Observing(leader) => {
                    self.nodes
                        .get(&leader)
                        .is_some_and(|n| n.role == Role::Leading)
                        && self.connected(sid, leader)
                }
                Role::Leading => {
                    let followers = self
                        .nodes
                        .iter()
                        .filter(|(&f, n)| {
                            f == sid || (n.role == Role::Following(sid) && self.connected(sid, f))
                        })
                        .map(|(&f, _)| f);
                    self.world.quorum.contains_quorum(followers)
                }
            };
            let now = self.now_ms;
            let limit_ms = if self.nodes[&sid].established {
                self.options.sync_limit_ms
            } else {
                self.options.init_limit_ms
            };
            // Jitter, as real timers have: without it a fixed-delay world can repeat one
            // unlucky schedule forever.
            let jitter_ms = self.rng.range(0, limit_ms / 4);
            let node = self.nodes.get_mut(&sid).expect("known sid");
            if healthy {
                node.established = true;
                node.give_up_at_ms = None;
                continue;
            }
            let give_up_at = *node.give_up_at_ms.get_or_insert(now + limit_ms + jitter_ms);
            if now >= give_up_at {
                self.mix(9);
                self.mix(now);
                self.mix(sid.0);
                self.start_looking(sid);
            }
        }
    }

    fn check_liveness(&mut self) {
        if self.faults_on || self.now_ms < self.quiet_at_ms {
            return;
        }
        let all_booted = self.nodes.values().all(|n| n.incarnation > 0);
        let roles: BTreeMap<Sid, Role> = self.nodes.iter().map(|(&sid, n)| (sid, n.role)).collect();
        match settles::settled_leader(&roles).filter(|_| all_booted) {
            Some(_) => {
                let since = *self.settled_since_ms.get_or_insert(self.now_ms);
                if self.now_ms - since >= self.options.settle_hold_ms {
                    self.done = true;
                }
            }
            None => {
                self.settled_since_ms = None;
                if self.now_ms - self.quiet_at_ms > self.options.liveness_bound_ms {
                    self.fail(
                        "Settles",
                        format!(
                            "no single leader {} ms after faults stopped: roles {roles:?}",
                            self.options.liveness_bound_ms
                        ),
                    );
                }
            }
        }
    }
}

/// The unordered pair of two servers, smaller sid first: one connection serves both directions.
fn pair(a: Sid, b: Sid) -> (Sid, Sid) {
    (a.min(b), a.max(b))
}
