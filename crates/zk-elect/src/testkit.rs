//! Test helpers (feature `testkit`): [`LocalNet`], a lossless in-memory network with a fixed
//! one-way delay that drives any [`Election`] on one shared clock.
//!
//! It is for scenario tests and benchmarks of a single algorithm; the randomised, fault-injecting
//! simulator is `zk-sim`.

use std::collections::BTreeMap;

use zk_proto::{Epoch, Sid, Zxid};

use crate::election::{Action, Election, Input, Outcome};
use crate::time::Millis;

enum Event<M> {
    Deliver { from: Sid, to: Sid, msg: M },
}

struct Node<E> {
    machine: E,
    up: bool,
    outcome: Option<Outcome>,
}

/// A lossless network of election machines with a fixed one-way delay.
pub struct LocalNet<E: Election> {
    now: Millis,
    nodes: BTreeMap<Sid, Node<E>>,
    voters: Vec<Sid>,
    delay_ms: u64,
    queue: BTreeMap<(Millis, u64), Event<E::Msg>>,
    next_seq: u64,
    messages_sent: u64,
}

impl<E: Election> LocalNet<E> {
    /// A network of `machines`; `voters` receive [`Action::Broadcast`]s; every message takes
    /// `delay_ms` to arrive.
    pub fn new(machines: Vec<(Sid, E)>, voters: Vec<Sid>, delay_ms: u64) -> LocalNet<E> {
        let nodes = machines
            .into_iter()
            .map(|(sid, machine)| {
                let node = Node {
                    machine,
                    up: true,
                    outcome: None,
                };
                (sid, node)
            })
            .collect();
        LocalNet {
            now: Millis(0),
            nodes,
            voters,
            delay_ms,
            queue: BTreeMap::new(),
            next_seq: 0,
            messages_sent: 0,
        }
    }

    /// The shared clock.
    pub fn now(&self) -> Millis {
        self.now
    }

    /// How many point-to-point messages were sent so far (a broadcast counts once per recipient).
    pub fn messages_sent(&self) -> u64 {
        self.messages_sent
    }

    /// The machine of `sid`.
    pub fn machine(&self, sid: Sid) -> &E {
        &self.nodes[&sid].machine
    }

    /// The last outcome `sid` decided, if it decided since its last start.
    pub fn outcome(&self, sid: Sid) -> Option<&Outcome> {
        self.nodes[&sid].outcome.as_ref()
    }

    /// Feeds `Start` to `sid` now.
    pub fn start(&mut self, sid: Sid, last_zxid: Zxid, peer_epoch: Epoch) {
        let node = self.nodes.get_mut(&sid).expect("unknown sid");
        node.up = true;
        node.outcome = None;
        self.step(
            sid,
            Input::Start {
                last_zxid,
                peer_epoch,
            },
        );
    }

    /// Tells `sid` now that its connection to `peer` broke (what a TCP transport reports when
    /// `peer` crashes).
    pub fn peer_down(&mut self, sid: Sid, peer: Sid) {
        if self.nodes[&sid].up {
            self.step(sid, Input::PeerDown(peer));
        }
    }

    /// Stops `sid`: it receives nothing and its timers no longer fire.
    pub fn crash(&mut self, sid: Sid) {
        let node = self.nodes.get_mut(&sid).expect("unknown sid");
        node.up = false;
        node.outcome = None;
    }

    /// Runs every event up to `until`, then sets the clock to `until`.
    pub fn run_to(&mut self, until: Millis) {
        self.run_until(until, |_| false);
        self.now = self.now.max(until);
    }

    /// Runs until `done` holds or the clock would pass `limit`; returns whether `done` held.
    pub fn run_until(&mut self, limit: Millis, mut done: impl FnMut(&LocalNet<E>) -> bool) -> bool {
        loop {
            if done(self) {
                return true;
            }
            let next_delivery = self.queue.keys().next().map(|&(at, _)| at);
            let next_timer = self
                .nodes
                .iter()
                .filter(|(_, node)| node.up)
                .filter_map(|(&sid, node)| node.machine.deadline().map(|at| (at, sid)))
                .min();
            let timer_first = match (next_delivery, next_timer) {
                (None, None) => return false,
                (Some(delivery), Some((timer, _))) => timer < delivery,
                (None, Some(_)) => true,
                (Some(_), None) => false,
            };
            if timer_first {
                let (at, sid) = next_timer.expect("a timer is armed");
                if at > limit {
                    return false;
                }
                self.now = self.now.max(at);
                self.step(sid, Input::Tick);
            } else {
                let (&(at, seq), _) = self.queue.iter().next().expect("a delivery is queued");
                if at > limit {
                    return false;
                }
                let Event::Deliver { from, to, msg } = self
                    .queue
                    .remove(&(at, seq))
                    .expect("the key was just read");
                self.now = self.now.max(at);
                if self.nodes.get(&to).is_some_and(|node| node.up) {
                    self.step(to, Input::Recv { from, msg });
                }
            }
        }
    }

    fn step(&mut self, sid: Sid, input: Input<E::Msg>) {
        let mut out = Vec::new();
        let node = self.nodes.get_mut(&sid).expect("unknown sid");
        node.machine.step(self.now, input, &mut out);
        for action in out {
            match action {
                Action::Send { to, msg } => self.send(sid, to, msg),
                Action::Broadcast(msg) => {
                    for to in self.voters.clone() {
                        if to != sid {
                            self.send(sid, to, msg.clone());
                        }
                    }
                }
                Action::Decided(outcome) => {
                    self.nodes.get_mut(&sid).expect("unknown sid").outcome = Some(outcome);
                }
            }
        }
    }

    fn send(&mut self, from: Sid, to: Sid, msg: E::Msg) {
        self.messages_sent += 1;
        let at = self.now + self.delay_ms;
        self.queue
            .insert((at, self.next_seq), Event::Deliver { from, to, msg });
        self.next_seq += 1;
    }
}
