//! The AuthFastLeaderElection state machine: ZooKeeper's `lookForLeader` loop, its
//! `WorkerReceiver` (challenges, acks, delivery) and its `WorkerSender`s (challenge requests,
//! notifications, retransmission) in one value.
//!
//! Sending a notification to a peer is an exchange identified by a tag: with the challenge step,
//! ask for a challenge (wait `ack_wait_ms * 2^attempt`), then send the notification carrying it
//! and wait for the ack (`ack_wait_ms * 10^attempt`); after `max_attempts` failures the exchange
//! restarts while its round is current and is dropped otherwise. One exchange per peer is
//! outstanding: a newer proposal supersedes it. With a key every datagram is sealed with a MAC,
//! and datagrams without a valid one are dropped before anything else looks at them.

use std::collections::{BTreeMap, VecDeque};

use tracing::{debug, info, trace, warn};
use zk_elect::{
    Action, Backer, Election, ElectionEpoch, Input, Millis, Outcome, ServerState, Vote,
};
use zk_proto::{Epoch, Sid, Zxid};

use crate::config::AuthFleConfig;
use crate::message::{AuthMessage, Body, Challenge, Tag};
use crate::rng::SplitMix64;

/// What an outstanding exchange waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// The challenge requested for the tag.
    Challenge,
    /// The ack of the notification.
    Ack,
}

/// One notification on its way to one peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Exchange {
    tag: Tag,
    vote: Vote,
    election_epoch: ElectionEpoch,
    attempt: u32,
    challenge: Option<Challenge>,
    phase: Phase,
    until: Millis,
}

/// AuthFastLeaderElection for one server.
#[derive(Clone, Debug)]
pub struct AuthFastLeaderElection {
    config: AuthFleConfig,
    rng: SplitMix64,
    state: ServerState,
    started: bool,
    logical_clock: ElectionEpoch,
    own_vote: Vote,
    proposal: Option<Vote>,
    recv_set: BTreeMap<Sid, Backer>,
    out_of_election: BTreeMap<Sid, Backer>,
    next_tag: u64,
    challenge_counter: u32,
    outgoing: BTreeMap<Sid, Exchange>,
    issued: BTreeMap<Sid, VecDeque<(Tag, Challenge)>>,
    accepted: BTreeMap<Sid, (Tag, Challenge)>,
    resend_interval_ms: u64,
    resend_at: Option<Millis>,
    finalize_at: Option<Millis>,
    decided: Option<(Vote, ElectionEpoch)>,
}

impl AuthFastLeaderElection {
    /// A machine that waits for [`Input::Start`].
    pub fn new(config: AuthFleConfig) -> AuthFastLeaderElection {
        let mut rng = SplitMix64::new(config.seed);
        let next_tag = rng.next_u64();
        let own_vote = Vote::new(config.sid, Zxid::ZERO, Epoch(0));
        let resend_interval_ms = config.min_resend_interval_ms;
        AuthFastLeaderElection {
            config,
            rng,
            state: ServerState::Looking,
            started: false,
            logical_clock: ElectionEpoch(0),
            own_vote,
            proposal: None,
            recv_set: BTreeMap::new(),
            out_of_election: BTreeMap::new(),
            next_tag,
            challenge_counter: 0,
            outgoing: BTreeMap::new(),
            issued: BTreeMap::new(),
            accepted: BTreeMap::new(),
            resend_interval_ms,
            resend_at: None,
            finalize_at: None,
            decided: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &AuthFleConfig {
        &self.config
    }

    /// The logical clock: the current (or last) election round.
    pub fn logical_clock(&self) -> ElectionEpoch {
        self.logical_clock
    }

    /// The vote this server proposes while LOOKING (`None` for an observer).
    pub fn proposal(&self) -> Option<Vote> {
        self.proposal
    }

    /// The vote that ended the last election and its round, once decided.
    pub fn decided_vote(&self) -> Option<(Vote, ElectionEpoch)> {
        self.decided
    }

    /// Whether a quorum agrees and the finalize wait is running.
    pub fn is_finalizing(&self) -> bool {
        self.finalize_at.is_some()
    }

    /// The tag of the exchange outstanding with `peer`, if any.
    pub fn outstanding_tag(&self, peer: Sid) -> Option<Tag> {
        self.outgoing.get(&peer).map(|exchange| exchange.tag)
    }

    fn me(&self) -> Sid {
        self.config.sid
    }

    fn is_participant(&self) -> bool {
        self.config.quorum.is_voter(self.me())
    }

    fn knows(&self, sid: Sid) -> bool {
        self.config.quorum.is_voter(sid) || self.config.observers.contains(&sid)
    }

    fn uses_challenges(&self) -> bool {
        self.config.challenge_response || self.config.key.is_some()
    }

    fn send(&self, to: Sid, body: Body, out: &mut Vec<Action<AuthMessage>>) {
        let msg = AuthMessage::seal(body, self.config.key.as_ref(), self.me(), to);
        out.push(Action::Send { to, msg });
    }

    /// `totalOrderPredicate` with the peer epoch first, and only for voters that may lead.
    fn beats(&self, candidate: Vote, current: Option<Vote>) -> bool {
        self.config.quorum.can_lead(candidate.leader)
            && current.is_none_or(|current| candidate > current)
    }

    fn initial_proposal(&self) -> Option<Vote> {
        self.is_participant().then_some(self.own_vote)
    }

    /// What an ack reports: the decided vote once decided, else the proposal.
    fn current(&self) -> (Vote, ElectionEpoch) {
        match self.decided {
            Some(decided) if self.state != ServerState::Looking => decided,
            _ => (self.proposal.unwrap_or(self.own_vote), self.logical_clock),
        }
    }

    // ---- the sending side (`WorkerSender`) ----

    /// `sendNotifications`: the proposal to every other voter; our own vote counts at once.
    fn send_notifications(&mut self, now: Millis, out: &mut Vec<Action<AuthMessage>>) {
        self.resend_at = Some(now + self.resend_interval_ms);
        let vote = self.proposal.unwrap_or(self.own_vote);
        trace!(sid = %self.me(), %vote, round = %self.logical_clock, "sending notifications");
        for peer in self.config.quorum.voters() {
            if peer != self.me() {
                self.notify(now, peer, vote, out);
            }
        }
        if let Some(proposal) = self.proposal.filter(|_| self.is_participant()) {
            let own = Backer {
                state: ServerState::Looking,
                vote: proposal,
                election_epoch: self.logical_clock,
            };
            self.recv_set.insert(self.me(), own);
        }
    }

    /// Starts an exchange with `peer`, unless one for the same vote and round is under way.
    fn notify(&mut self, now: Millis, peer: Sid, vote: Vote, out: &mut Vec<Action<AuthMessage>>) {
        let round = self.logical_clock;
        if self
            .outgoing
            .get(&peer)
            .is_some_and(|e| e.vote == vote && e.election_epoch == round)
        {
            return;
        }
        let tag = Tag(self.next_tag);
        self.next_tag = self.next_tag.wrapping_add(1);
        let exchange = Exchange {
            tag,
            vote,
            election_epoch: round,
            attempt: 0,
            challenge: None,
            phase: Phase::Challenge,
            until: now,
        };
        self.outgoing.insert(peer, exchange);
        self.attempt(now, peer, out);
    }

    /// One attempt of an exchange: ask for a challenge, or send the notification.
    fn attempt(&mut self, now: Millis, peer: Sid, out: &mut Vec<Action<AuthMessage>>) {
        let challenges = self.uses_challenges();
        let base_ms = self.config.ack_wait_ms;
        let exchange = self
            .outgoing
            .get_mut(&peer)
            .expect("attempting an outstanding exchange");
        let body = if challenges && exchange.challenge.is_none() {
            exchange.phase = Phase::Challenge;
            exchange.until = now + base_ms.saturating_mul(2u64.saturating_pow(exchange.attempt));
            Body::ChallengeRequest { tag: exchange.tag }
        } else {
            exchange.phase = Phase::Ack;
            exchange.until = now + base_ms.saturating_mul(10u64.saturating_pow(exchange.attempt));
            Body::Notification {
                tag: exchange.tag,
                vote: exchange.vote,
                election_epoch: exchange.election_epoch,
                challenge: exchange.challenge,
            }
        };
        self.send(peer, body, out);
    }

    /// Exchanges whose wait ran out: next attempt, restart (same round) or give up.
    fn on_exchange_timeouts(&mut self, now: Millis, out: &mut Vec<Action<AuthMessage>>) {
        let expired: Vec<Sid> = self
            .outgoing
            .iter()
            .filter(|(_, e)| e.until <= now)
            .map(|(&p, _)| p)
            .collect();
        for peer in expired {
            let max_attempts = self.config.max_attempts;
            let current_round = self.logical_clock;
            let looking = self.state == ServerState::Looking;
            let exchange = self.outgoing.get_mut(&peer).expect("just listed");
            exchange.attempt += 1;
            if exchange.attempt >= max_attempts {
                if looking && exchange.election_epoch == current_round {
                    // ZooKeeper re-queues the message with its challenge forgotten.
                    exchange.attempt = 0;
                    exchange.challenge = None;
                    debug!(sid = %self.config.sid, %peer, "exchange restarted");
                } else {
                    self.outgoing.remove(&peer);
                    continue;
                }
            }
            self.attempt(now, peer, out);
        }
    }

    // ---- the receiving side (`WorkerReceiver`) ----

    fn on_message(
        &mut self,
        now: Millis,
        from: Sid,
        msg: AuthMessage,
        out: &mut Vec<Action<AuthMessage>>,
    ) {
        if !self.started {
            debug!(sid = %self.me(), %from, "message before start: dropped");
            return;
        }
        if let Some(key) = &self.config.key {
            if !msg.verify(key, from, self.me()) {
                warn!(sid = %self.me(), %from, "message without a valid MAC: dropped");
                return;
            }
        } else if msg.mac.is_some() {
            warn!(sid = %self.me(), %from, "MAC received but no key configured: dropped");
            return;
        }
        if !self.knows(from) {
            warn!(sid = %self.me(), %from, "message from a server outside the ensemble: dropped");
            return;
        }
        match msg.body {
            Body::ChallengeRequest { tag } => self.on_challenge_request(from, tag, out),
            Body::Challenge { tag, challenge } => self.on_challenge(now, from, tag, challenge, out),
            Body::Notification {
                tag,
                vote,
                election_epoch,
                challenge,
            } => self.on_notification(now, from, tag, vote, election_epoch, challenge, out),
            Body::Ack {
                tag,
                state,
                vote,
                election_epoch,
                challenge,
            } => {
                let backer = Backer {
                    state,
                    vote,
                    election_epoch,
                };
                self.on_ack(now, from, tag, backer, challenge, out)
            }
        }
    }

    /// The challenge for (`peer`, `tag`): the one already issued, or a new one.
    fn challenge_for(&mut self, peer: Sid, tag: Tag) -> Challenge {
        if let Some(&(_, challenge)) = self
            .issued
            .get(&peer)
            .and_then(|list| list.iter().find(|(t, _)| *t == tag))
        {
            return challenge;
        }
        // ZooKeeper's layout: a counter in the high half, random bits in the low half.
        let challenge =
            Challenge((u64::from(self.challenge_counter) << 32) | (self.rng.next_u64() >> 33));
        self.challenge_counter = self.challenge_counter.wrapping_add(1);
        let limit = self.config.challenges_per_peer_max.max(1);
        let list = self.issued.entry(peer).or_default();
        while list.len() >= limit {
            list.pop_front();
        }
        list.push_back((tag, challenge));
        challenge
    }

    fn on_challenge_request(&mut self, from: Sid, tag: Tag, out: &mut Vec<Action<AuthMessage>>) {
        if !self.uses_challenges() {
            debug!(sid = %self.me(), %from, "challenge request without the challenge step: dropped");
            return;
        }
        let challenge = self.challenge_for(from, tag);
        self.send(from, Body::Challenge { tag, challenge }, out);
    }

    fn on_challenge(
        &mut self,
        now: Millis,
        from: Sid,
        tag: Tag,
        challenge: Challenge,
        out: &mut Vec<Action<AuthMessage>>,
    ) {
        let Some(exchange) = self.outgoing.get_mut(&from).filter(|e| e.tag == tag) else {
            debug!(sid = %self.config.sid, %from, ?tag, "challenge for no outstanding exchange: dropped");
            return;
        };
        if exchange.challenge == Some(challenge) {
            return;
        }
        // Requested, or the peer no longer holds the one we had (it restarted, or forgot it).
        exchange.challenge = Some(challenge);
        self.attempt(now, from, out);
    }

    #[allow(clippy::too_many_arguments)]
    fn on_notification(
        &mut self,
        now: Millis,
        from: Sid,
        tag: Tag,
        vote: Vote,
        election_epoch: ElectionEpoch,
        challenge: Option<Challenge>,
        out: &mut Vec<Action<AuthMessage>>,
    ) {
        let mut deliver = true;
        if self.uses_challenges() {
            let issued = self.issued.get(&from).and_then(|list| {
                list.iter()
                    .position(|&(t, c)| t == tag && Some(c) == challenge)
            });
            if let Some(index) = issued {
                let (tag, challenge) = self
                    .issued
                    .get_mut(&from)
                    .and_then(|list| list.remove(index))
                    .expect("just found");
                self.accepted.insert(from, (tag, challenge));
            } else if challenge.is_some()
                && self.accepted.get(&from).map(|&(t, c)| (t, Some(c))) == Some((tag, challenge))
            {
                // Our ack was lost and the sender tries again: ack, but count nothing twice.
                deliver = false;
            } else {
                debug!(sid = %self.me(), %from, ?tag, "notification without a valid challenge: challenged again");
                let challenge = self.challenge_for(from, tag);
                self.send(from, Body::Challenge { tag, challenge }, out);
                return;
            }
        }
        let (current, round) = self.current();
        let ack = Body::Ack {
            tag,
            state: self.state,
            vote: current,
            election_epoch: round,
            challenge,
        };
        self.send(from, ack, out);
        if deliver && self.config.quorum.is_voter(from) {
            let backer = Backer {
                state: ServerState::Looking,
                vote,
                election_epoch,
            };
            self.on_vote(now, from, backer, out);
        }
    }

    fn on_ack(
        &mut self,
        now: Millis,
        from: Sid,
        tag: Tag,
        backer: Backer,
        challenge: Option<Challenge>,
        out: &mut Vec<Action<AuthMessage>>,
    ) {
        let challenges = self.uses_challenges();
        let matches = self.outgoing.get(&from).is_some_and(|e| {
            e.tag == tag && e.phase == Phase::Ack && (!challenges || e.challenge == challenge)
        });
        if !matches {
            debug!(sid = %self.me(), %from, ?tag, "ack for no outstanding notification: dropped");
            return;
        }
        self.outgoing.remove(&from);
        if self.config.quorum.is_voter(from) {
            // ZooKeeper delivers acks of established servers ("out of election"); we deliver
            // every ack: a LOOKING acker's proposal is as good as its notification.
            self.on_vote(now, from, backer, out);
        }
    }

    // ---- the election loop (`lookForLeader`) ----

    fn on_start(
        &mut self,
        now: Millis,
        last_zxid: Zxid,
        peer_epoch: Epoch,
        out: &mut Vec<Action<AuthMessage>>,
    ) {
        self.own_vote = Vote::new(self.me(), last_zxid, peer_epoch);
        self.state = ServerState::Looking;
        self.started = true;
        self.decided = None;
        self.logical_clock = ElectionEpoch(self.logical_clock.0 + 1);
        self.recv_set.clear();
        self.out_of_election.clear();
        self.outgoing.clear();
        self.proposal = self.initial_proposal();
        self.resend_interval_ms = self.config.min_resend_interval_ms;
        self.finalize_at = None;
        info!(sid = %self.me(), round = %self.logical_clock, vote = %self.own_vote, "LOOKING");
        self.send_notifications(now, out);
        self.check_looking_quorum(now, out);
    }

    fn on_tick(&mut self, now: Millis, out: &mut Vec<Action<AuthMessage>>) {
        if !self.started {
            return;
        }
        self.on_exchange_timeouts(now, out);
        if self.state != ServerState::Looking {
            return;
        }
        if let Some(at) = self.finalize_at {
            if now >= at {
                self.finalize(out);
            }
            return;
        }
        if self.resend_at.is_some_and(|at| now >= at) {
            self.resend_interval_ms =
                (self.resend_interval_ms * 2).min(self.config.max_resend_interval_ms);
            // ZooKeeper re-sends only once it has heard something (`recvset` of more than one
            // vote, or an `outofelection` vote). A server whose first notifications were all
            // acked by peers still LOOKING in an older round then never speaks again once those
            // peers decide without it; the simulator found that, so we always re-send.
            self.send_notifications(now, out);
        }
    }

    /// A vote delivered from voter `from`, by its notification or its ack.
    fn on_vote(
        &mut self,
        now: Millis,
        from: Sid,
        backer: Backer,
        out: &mut Vec<Action<AuthMessage>>,
    ) {
        if self.state != ServerState::Looking {
            return;
        }
        if !self.config.quorum.can_lead(backer.vote.leader) {
            debug!(sid = %self.me(), %from, leader = %backer.vote.leader, "vote for a server that cannot lead: ignored");
            return;
        }
        if self.finalize_at.is_some() {
            if self.beats(backer.vote, self.proposal) {
                self.finalize_at = None;
            } else {
                // ZooKeeper drops it; we still count agreement, for every voter may now agree.
                if backer.state == ServerState::Looking
                    && backer.election_epoch == self.logical_clock
                    && Some(backer.vote) == self.proposal
                {
                    self.recv_set.insert(from, backer);
                    if self.agreeing().len() == self.config.quorum.voters().len() {
                        self.finalize(out);
                    }
                }
                return;
            }
        }
        match backer.state {
            ServerState::Looking => self.on_looking_vote(now, from, backer, out),
            ServerState::Following | ServerState::Leading => {
                self.on_established_vote(from, backer, out)
            }
            ServerState::Observing => {}
        }
    }

    fn on_looking_vote(
        &mut self,
        now: Millis,
        from: Sid,
        backer: Backer,
        out: &mut Vec<Action<AuthMessage>>,
    ) {
        match backer.election_epoch.cmp(&self.logical_clock) {
            core::cmp::Ordering::Greater => {
                self.logical_clock = backer.election_epoch;
                self.recv_set.clear();
                let initial = self.initial_proposal();
                self.proposal = if self.beats(backer.vote, initial) {
                    Some(backer.vote)
                } else {
                    initial
                };
                debug!(sid = %self.me(), round = %self.logical_clock, "newer round: joined it");
                self.send_notifications(now, out);
            }
            core::cmp::Ordering::Less => return,
            core::cmp::Ordering::Equal => {
                if self.beats(backer.vote, self.proposal) {
                    self.proposal = Some(backer.vote);
                    debug!(sid = %self.me(), vote = %backer.vote, "better vote: adopted");
                    self.send_notifications(now, out);
                }
            }
        }
        self.recv_set.insert(from, backer);
        self.check_looking_quorum(now, out);
    }

    /// The voters whose vote this round equals the proposal.
    fn agreeing(&self) -> BTreeMap<Sid, Backer> {
        let Some(proposal) = self.proposal else {
            return BTreeMap::new();
        };
        self.recv_set
            .iter()
            .filter(|(&sid, b)| {
                self.config.quorum.is_voter(sid)
                    && b.vote == proposal
                    && b.election_epoch == self.logical_clock
            })
            .map(|(&sid, &b)| (sid, b))
            .collect()
    }

    /// Every voter agrees: decide now. A quorum agrees: start the finalize wait.
    fn check_looking_quorum(&mut self, now: Millis, out: &mut Vec<Action<AuthMessage>>) {
        if self.finalize_at.is_some() || self.state != ServerState::Looking {
            return;
        }
        let agreeing = self.agreeing();
        if agreeing.len() == self.config.quorum.voters().len() {
            self.finalize(out);
        } else if self.config.quorum.contains_quorum(agreeing.keys().copied()) {
            debug!(sid = %self.me(), "a quorum agrees: finalize wait");
            self.finalize_at = Some(now + self.config.finalize_wait_ms);
        }
    }

    /// A member of an established ensemble: join once a quorum follows a leader that itself
    /// says it is LEADING (ZooKeeper's AuthFastLeaderElection did not ask the leader).
    fn on_established_vote(
        &mut self,
        from: Sid,
        backer: Backer,
        out: &mut Vec<Action<AuthMessage>>,
    ) {
        let leader = backer.vote.leader;
        let same =
            |b: &Backer| b.vote.leader == leader && b.vote.peer_epoch == backer.vote.peer_epoch;
        if backer.election_epoch == self.logical_clock {
            // Voters that decided in our own round: with our own vote they may form the quorum
            // (FastLeaderElection's rule; this is how the elected leader learns it leads).
            self.recv_set.insert(from, backer);
            let round = self.logical_clock;
            let agreeing: BTreeMap<Sid, Backer> = self
                .recv_set
                .iter()
                .filter(|(_, b)| same(b) && b.election_epoch == round)
                .map(|(&sid, &b)| (sid, b))
                .collect();
            let confirmed = if leader == self.me() {
                true
            } else {
                agreeing
                    .get(&leader)
                    .is_some_and(|b| b.state == ServerState::Leading)
            };
            if confirmed && self.config.quorum.contains_quorum(agreeing.keys().copied()) {
                self.decide(backer.vote, round, agreeing, out);
                return;
            }
        }
        self.out_of_election.insert(from, backer);
        let Some(leader_vote) = self
            .out_of_election
            .get(&leader)
            .filter(|b| b.state == ServerState::Leading && same(b))
            .copied()
        else {
            return;
        };
        let agreeing: BTreeMap<Sid, Backer> = self
            .out_of_election
            .iter()
            .filter(|(_, b)| same(b))
            .map(|(&sid, &b)| (sid, b))
            .collect();
        if self.config.quorum.contains_quorum(agreeing.keys().copied()) {
            self.decide(leader_vote.vote, leader_vote.election_epoch, agreeing, out);
        }
    }

    fn finalize(&mut self, out: &mut Vec<Action<AuthMessage>>) {
        let proposal = self.proposal.expect("only a proposal can be finalized");
        let agreeing = self.agreeing();
        if !self.config.quorum.contains_quorum(agreeing.keys().copied()) {
            // Reordered datagrams replaced agreeing votes with older ones: keep looking.
            debug!(sid = %self.me(), "the quorum dissolved during the finalize wait");
            self.finalize_at = None;
            return;
        }
        self.decide(proposal, self.logical_clock, agreeing, out);
    }

    fn decide(
        &mut self,
        vote: Vote,
        round: ElectionEpoch,
        backing: BTreeMap<Sid, Backer>,
        out: &mut Vec<Action<AuthMessage>>,
    ) {
        self.state = if vote.leader == self.me() {
            ServerState::Leading
        } else if self.is_participant() {
            ServerState::Following
        } else {
            ServerState::Observing
        };
        self.decided = Some((vote, round));
        self.finalize_at = None;
        self.resend_at = None;
        // Exchanges under way finish (a peer may still need our last vote); exhausted ones are
        // dropped now that we no longer look.
        self.recv_set.clear();
        self.out_of_election.clear();
        info!(sid = %self.me(), state = %self.state, leader = %vote.leader, round = %round, "election decided");
        out.push(Action::Decided(Outcome {
            state: self.state,
            vote,
            election_epoch: round,
            backing,
        }));
    }
}

impl Election for AuthFastLeaderElection {
    type Msg = AuthMessage;

    fn step(&mut self, now: Millis, input: Input<AuthMessage>, out: &mut Vec<Action<AuthMessage>>) {
        match input {
            Input::Start {
                last_zxid,
                peer_epoch,
            } => self.on_start(now, last_zxid, peer_epoch, out),
            Input::Tick => self.on_tick(now, out),
            Input::Recv { from, msg } => self.on_message(now, from, msg, out),
            Input::PeerDown(sid) => trace!(sid = %self.me(), peer = %sid, "peer down"),
        }
    }

    fn deadline(&self) -> Option<Millis> {
        if !self.started {
            return None;
        }
        let exchanges = self.outgoing.values().map(|e| e.until).min();
        let election = if self.state == ServerState::Looking {
            self.finalize_at.or(self.resend_at)
        } else {
            None
        };
        [exchanges, election].into_iter().flatten().min()
    }

    fn state(&self) -> ServerState {
        self.state
    }
}

#[cfg(test)]
#[path = "auth_fle_tests.rs"]
mod tests;
