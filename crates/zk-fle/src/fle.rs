//! The FastLeaderElection state machine.
//!
//! One value plays both parts of ZooKeeper's implementation: the receiver thread (which answers
//! peers whatever our state) and the `lookForLeader` loop (which runs while LOOKING). Handlers
//! are named after the event they handle; the tests beside this file drive every branch.

use std::collections::BTreeMap;

use tracing::{debug, info, trace};
use zk_elect::{
    Action, Backer, Election, ElectionEpoch, Input, Millis, Outcome, ServerState, Vote,
};
use zk_proto::{Epoch, Sid, Zxid};

use crate::config::FleConfig;
use crate::message::{Notification, NOTIFICATION_VERSION};

/// FastLeaderElection for one server.
#[derive(Clone, Debug)]
pub struct FastLeaderElection {
    config: FleConfig,
    state: ServerState,
    started: bool,
    logical_clock: ElectionEpoch,
    own_vote: Vote,
    proposal: Option<Vote>,
    recv_set: BTreeMap<Sid, Backer>,
    out_of_election: BTreeMap<Sid, Backer>,
    notification_timeout_ms: u64,
    resend_at: Option<Millis>,
    finalize_at: Option<Millis>,
    decided: Option<(Vote, ElectionEpoch)>,
    /// Voters whose connection broke and that sent nothing since (the transport says so).
    down: std::collections::BTreeSet<Sid>,
}

impl FastLeaderElection {
    /// A machine that waits for [`Input::Start`].
    pub fn new(config: FleConfig) -> FastLeaderElection {
        let own_vote = Vote::new(config.sid, Zxid::ZERO, Epoch(0));
        let notification_timeout_ms = config.min_notification_interval_ms;
        FastLeaderElection {
            config,
            state: ServerState::Looking,
            started: false,
            logical_clock: ElectionEpoch(0),
            own_vote,
            proposal: None,
            recv_set: BTreeMap::new(),
            out_of_election: BTreeMap::new(),
            notification_timeout_ms,
            resend_at: None,
            finalize_at: None,
            decided: None,
            down: std::collections::BTreeSet::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &FleConfig {
        &self.config
    }

    /// The logical clock: the current (or last) election round.
    pub fn logical_clock(&self) -> ElectionEpoch {
        self.logical_clock
    }

    /// The vote this server proposes while LOOKING (`None` for an observer, which proposes
    /// nobody).
    pub fn proposal(&self) -> Option<Vote> {
        self.proposal
    }

    /// The vote that ended the last election and its round, once decided.
    pub fn decided_vote(&self) -> Option<(Vote, ElectionEpoch)> {
        self.decided
    }

    /// The current re-send timeout (doubles up to the cap while nothing arrives).
    pub fn notification_timeout_ms(&self) -> u64 {
        self.notification_timeout_ms
    }

    /// Whether a quorum agrees and the finalize wait is running.
    pub fn is_finalizing(&self) -> bool {
        self.finalize_at.is_some()
    }

    fn is_participant(&self) -> bool {
        self.config.quorum.is_voter(self.config.sid)
    }

    /// What this server proposes at the start of an election: itself, unless it is an observer.
    fn initial_proposal(&self) -> Option<Vote> {
        self.is_participant().then_some(self.own_vote)
    }

    /// `totalOrderPredicate`: whether `candidate` should replace `current`.
    fn beats(&self, candidate: Vote, current: Option<Vote>) -> bool {
        if !self.config.quorum.can_lead(candidate.leader) {
            return false;
        }
        let Some(current) = current else {
            return true;
        };
        #[cfg(feature = "mutants")]
        if self.config.mutant == Some(crate::config::Mutant::VoteOrderPrefersLowerZxid) {
            let broken = |vote: Vote| (vote.peer_epoch, core::cmp::Reverse(vote.zxid), vote.leader);
            return broken(candidate) > broken(current);
        }
        candidate > current
    }

    fn contains_quorum(&self, sids: &[Sid]) -> bool {
        #[cfg(feature = "mutants")]
        if self.config.mutant == Some(crate::config::Mutant::HalfIsAQuorum) {
            let voters = self.config.quorum.voters().len();
            return sids.len() * 2 >= voters;
        }
        self.config.quorum.contains_quorum(sids.iter().copied())
    }

    /// The entries of `votes` that equal `target` under ZooKeeper's `Vote.equals`.
    fn agreeing(votes: &BTreeMap<Sid, Backer>, target: &Backer) -> BTreeMap<Sid, Backer> {
        votes
            .iter()
            .filter(|(_, backer)| same_vote(backer, target))
            .map(|(&sid, &backer)| (sid, backer))
            .collect()
    }

    /// `checkLeader`: another server as leader must itself confirm it is LEADING; this server as
    /// leader only in the current round.
    fn leader_confirmed(
        &self,
        votes: &BTreeMap<Sid, Backer>,
        leader: Sid,
        round: ElectionEpoch,
    ) -> bool {
        if leader != self.config.sid {
            votes
                .get(&leader)
                .is_some_and(|backer| backer.state == ServerState::Leading)
        } else {
            round == self.logical_clock
        }
    }

    fn proposal_notification(&self) -> Notification {
        let vote = self.proposal.unwrap_or(self.own_vote);
        notification(ServerState::Looking, vote, self.logical_clock)
    }

    /// What the receiver thread answers: the decided vote once decided, else the proposal.
    fn current_notification(&self) -> Notification {
        match self.decided {
            Some((vote, round)) if self.state != ServerState::Looking => {
                notification(self.state, vote, round)
            }
            _ => self.proposal_notification(),
        }
    }

    /// `sendNotifications`: tells every voter our proposal. A voter hears its own notification
    /// at once (ZooKeeper loops it back through the receive queue).
    ///
    /// The re-send timer restarts here, when we speak, and not (as in ZooKeeper) whenever a
    /// notification arrives: otherwise a peer re-sending a worse vote every timeout keeps us
    /// from ever re-sending our better one, and once both back-offs reach the cap the election
    /// never ends (the simulator found such schedules).
    fn send_notifications(&mut self, now: Millis, out: &mut Vec<Action<Notification>>) {
        self.resend_at = Some(now + self.notification_timeout_ms);
        let msg = self.proposal_notification();
        trace!(sid = %self.config.sid, vote = %msg.vote(), round = %self.logical_clock, "sending notifications");
        out.push(Action::Broadcast(msg));
        if let Some(own) = self.proposal_backer().filter(|_| self.is_participant()) {
            self.recv_set.insert(self.config.sid, own);
        }
    }

    fn on_start(
        &mut self,
        now: Millis,
        last_zxid: Zxid,
        peer_epoch: Epoch,
        out: &mut Vec<Action<Notification>>,
    ) {
        self.own_vote = Vote::new(self.config.sid, last_zxid, peer_epoch);
        self.state = ServerState::Looking;
        self.started = true;
        self.decided = None;
        self.logical_clock = ElectionEpoch(self.logical_clock.0 + 1);
        self.recv_set.clear();
        self.out_of_election.clear();
        self.proposal = self.initial_proposal();
        self.notification_timeout_ms = self.config.min_notification_interval_ms;
        self.finalize_at = None;
        info!(sid = %self.config.sid, round = %self.logical_clock, vote = %self.own_vote, "LOOKING");
        self.send_notifications(now, out);
        self.check_looking_quorum(now);
    }

    fn on_tick(&mut self, now: Millis, out: &mut Vec<Action<Notification>>) {
        if self.state != ServerState::Looking || !self.started {
            return;
        }
        if let Some(finalize_at) = self.finalize_at {
            if now >= finalize_at {
                self.finalize(out);
            }
            return;
        }
        if self.resend_at.is_some_and(|at| now >= at) {
            self.notification_timeout_ms =
                (self.notification_timeout_ms * 2).min(self.config.max_notification_interval_ms);
            self.send_notifications(now, out);
            debug!(sid = %self.config.sid, timeout_ms = self.notification_timeout_ms, "re-sent notifications");
            self.check_looking_quorum(now);
        }
    }

    /// The receiver thread: answers what needs answering, hands the rest to the election loop.
    fn on_notification(
        &mut self,
        now: Millis,
        from: Sid,
        n: Notification,
        out: &mut Vec<Action<Notification>>,
    ) {
        trace!(sid = %self.config.sid, %from, state = %n.state, vote = %n.vote(), round = %n.election_epoch, "notification");
        self.down.remove(&from);
        if !self.config.quorum.is_voter(from) {
            // A non-voter (an observer) only needs to learn what we think.
            out.push(Action::Send {
                to: from,
                msg: self.current_notification(),
            });
            return;
        }
        if self.state == ServerState::Looking {
            if !self.started {
                debug!(sid = %self.config.sid, %from, "notification before start: dropped");
                return;
            }
            if n.state == ServerState::Looking
                && n.election_epoch < self.logical_clock
                && self.is_participant()
            {
                // A laggard: tell it the current round and our proposal. An observer does not:
                // voters ignore what non-voters say and answer at once, so the two would
                // ping-pong for as long as both are LOOKING (ZooKeeper does exactly that).
                out.push(Action::Send {
                    to: from,
                    msg: self.proposal_notification(),
                });
            }
            self.on_election_notification(now, from, n, out);
        } else if n.state == ServerState::Looking && self.is_participant() {
            // An observer does not answer either, for the same reason as above.
            out.push(Action::Send {
                to: from,
                msg: self.current_notification(),
            });
        }
    }

    /// One iteration of `lookForLeader` for a notification from voter `from`.
    fn on_election_notification(
        &mut self,
        now: Millis,
        from: Sid,
        n: Notification,
        out: &mut Vec<Action<Notification>>,
    ) {
        if !self.config.quorum.is_voter(n.leader) {
            debug!(sid = %self.config.sid, %from, leader = %n.leader, "vote for a non-voter: ignored");
            return;
        }
        let backer = Backer {
            state: n.state,
            vote: n.vote(),
            election_epoch: n.election_epoch,
        };
        if self.finalize_at.is_some() {
            if self.beats(n.vote(), self.proposal) {
                // A better vote arrived during the finalize wait: the election goes on.
                self.finalize_at = None;
            } else {
                // Not better: the wait goes on, but a vote of this round for our proposal counts
                // towards ending it early. (Only such a vote is recorded: replacing an agreeing
                // vote with a worse one would shrink the quorum the wait started with; the
                // simulator caught that.)
                if self
                    .proposal_backer()
                    .is_some_and(|target| same_vote(&backer, &target))
                {
                    self.recv_set.insert(from, backer);
                }
                self.finalize_at = Some(self.finalize_deadline(now));
                return;
            }
        }
        match n.state {
            ServerState::Looking => self.on_looking_vote(now, from, backer, out),
            ServerState::Following | ServerState::Leading => {
                self.on_established_vote(from, backer, out)
            }
            ServerState::Observing => {
                trace!(sid = %self.config.sid, %from, "notification from an observer: ignored");
            }
        }
    }

    fn on_looking_vote(
        &mut self,
        now: Millis,
        from: Sid,
        backer: Backer,
        out: &mut Vec<Action<Notification>>,
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
                debug!(sid = %self.config.sid, round = %self.logical_clock, "newer round: joined it");
                self.send_notifications(now, out);
            }
            core::cmp::Ordering::Less => {
                trace!(sid = %self.config.sid, %from, "notification from an older round: ignored");
                return;
            }
            core::cmp::Ordering::Equal => {
                if self.beats(backer.vote, self.proposal) {
                    self.proposal = Some(backer.vote);
                    debug!(sid = %self.config.sid, vote = %backer.vote, "better vote: adopted");
                    self.send_notifications(now, out);
                } else if self.is_participant()
                    && self.config.quorum.can_lead(backer.vote.leader)
                    && self
                        .proposal
                        .is_some_and(|proposal| self.beats(proposal, Some(backer.vote)))
                {
                    // The peer proposes worse: it may have missed our notification (it arrived
                    // while it was still FOLLOWING, say). Tell it again now rather than after
                    // our re-send timer; ZooKeeper waits, which costs a failover 200 ms.
                    out.push(Action::Send {
                        to: from,
                        msg: self.proposal_notification(),
                    });
                }
            }
        }
        self.recv_set.insert(from, backer);
        self.check_looking_quorum(now);
    }

    /// Our proposal as a LOOKING vote of the current round: what agreeing votes must equal.
    fn proposal_backer(&self) -> Option<Backer> {
        self.proposal.map(|vote| Backer {
            state: ServerState::Looking,
            vote,
            election_epoch: self.logical_clock,
        })
    }

    /// When the finalize wait of a quorum agreeing on our proposal ends: `finalizeWait` from
    /// now, or now when every voter whose connection is up has voted for the proposal in this
    /// round (nothing better can arrive but from a server that is down, which may as well come
    /// back after the decision; Zab's discovery still makes a leader that meets a more recent
    /// learner step down). This is where a failover beats ZooKeeper's fixed 200 ms.
    fn finalize_deadline(&self, now: Millis) -> Millis {
        let Some(target) = self.proposal_backer() else {
            return now + self.config.finalize_wait_ms;
        };
        let all_live_agree = self.config.quorum.voters().iter().all(|&voter| {
            voter == self.config.sid
                || self.down.contains(&voter)
                || self
                    .recv_set
                    .get(&voter)
                    .is_some_and(|backer| same_vote(backer, &target))
        });
        if all_live_agree {
            now
        } else {
            now + self.config.finalize_wait_ms
        }
    }

    /// Starts the finalize wait when a quorum of this round's votes equals our proposal.
    fn check_looking_quorum(&mut self, now: Millis) {
        let Some(target) = self.proposal_backer() else {
            return;
        };
        if self.finalize_at.is_some() {
            return;
        }
        let proposal = target.vote;
        let agreeing: Vec<Sid> = Self::agreeing(&self.recv_set, &target)
            .into_keys()
            .collect();
        if self.contains_quorum(&agreeing) {
            debug!(sid = %self.config.sid, vote = %proposal, "a quorum agrees: finalize wait");
            self.finalize_at = Some(self.finalize_deadline(now));
        }
    }

    /// A vote from a member of an established ensemble (FOLLOWING or LEADING).
    fn on_established_vote(
        &mut self,
        from: Sid,
        backer: Backer,
        out: &mut Vec<Action<Notification>>,
    ) {
        let leader = backer.vote.leader;
        let round = backer.election_epoch;
        if round == self.logical_clock {
            self.recv_set.insert(from, backer);
            let agreeing = Self::agreeing(&self.recv_set, &backer);
            let sids: Vec<Sid> = agreeing.keys().copied().collect();
            if self.contains_quorum(&sids) && self.leader_confirmed(&self.recv_set, leader, round) {
                self.decide(backer.vote, round, agreeing, out);
                return;
            }
        }
        self.out_of_election.insert(from, backer);
        let agreeing = Self::agreeing(&self.out_of_election, &backer);
        let sids: Vec<Sid> = agreeing.keys().copied().collect();
        if self.contains_quorum(&sids)
            && self.leader_confirmed(&self.out_of_election, leader, round)
        {
            self.logical_clock = round;
            self.decide(backer.vote, round, agreeing, out);
        }
    }

    /// The finalize wait passed quietly: our proposal wins.
    fn finalize(&mut self, out: &mut Vec<Action<Notification>>) {
        let target = self
            .proposal_backer()
            .expect("only a proposal can be finalized");
        let proposal = target.vote;
        let agreeing = Self::agreeing(&self.recv_set, &target);
        self.decide(proposal, self.logical_clock, agreeing, out);
    }

    fn decide(
        &mut self,
        vote: Vote,
        round: ElectionEpoch,
        backing: BTreeMap<Sid, Backer>,
        out: &mut Vec<Action<Notification>>,
    ) {
        self.state = if vote.leader == self.config.sid {
            ServerState::Leading
        } else if self.is_participant() {
            ServerState::Following
        } else {
            ServerState::Observing
        };
        self.decided = Some((vote, round));
        self.finalize_at = None;
        self.resend_at = None;
        self.recv_set.clear();
        self.out_of_election.clear();
        info!(sid = %self.config.sid, state = %self.state, leader = %vote.leader, round = %round, "election decided");
        out.push(Action::Decided(Outcome {
            state: self.state,
            vote,
            election_epoch: round,
            backing,
        }));
    }
}

fn notification(state: ServerState, vote: Vote, round: ElectionEpoch) -> Notification {
    Notification {
        state,
        leader: vote.leader,
        zxid: vote.zxid,
        election_epoch: round,
        peer_epoch: vote.peer_epoch,
        version: NOTIFICATION_VERSION,
    }
}

/// ZooKeeper's `Vote.equals`: when either side is LOOKING the whole vote and the round must
/// match; between members of an established ensemble the leader and its epoch suffice.
fn same_vote(left: &Backer, right: &Backer) -> bool {
    if left.state == ServerState::Looking || right.state == ServerState::Looking {
        left.vote == right.vote && left.election_epoch == right.election_epoch
    } else {
        left.vote.leader == right.vote.leader && left.vote.peer_epoch == right.vote.peer_epoch
    }
}

impl Election for FastLeaderElection {
    type Msg = Notification;

    fn step(
        &mut self,
        now: Millis,
        input: Input<Notification>,
        out: &mut Vec<Action<Notification>>,
    ) {
        match input {
            Input::Start {
                last_zxid,
                peer_epoch,
            } => self.on_start(now, last_zxid, peer_epoch, out),
            Input::Tick => self.on_tick(now, out),
            Input::Recv { from, msg } => self.on_notification(now, from, msg, out),
            Input::PeerDown(sid) => {
                // The transport reconnects and re-sends; the election only stops counting on the
                // peer's vote to cut its finalize wait short.
                trace!(sid = %self.config.sid, peer = %sid, "peer down");
                self.down.insert(sid);
                if let Some(at) = self.finalize_at {
                    self.finalize_at = Some(at.min(self.finalize_deadline(now)));
                }
            }
        }
    }

    fn deadline(&self) -> Option<Millis> {
        if self.state != ServerState::Looking || !self.started {
            return None;
        }
        self.finalize_at.or(self.resend_at)
    }

    fn state(&self) -> ServerState {
        self.state
    }
}

#[cfg(test)]
#[path = "fle_tests.rs"]
mod tests;
