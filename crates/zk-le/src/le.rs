//! The LeaderElection state machine: ZooKeeper's `lookForLeader` loop (poll, tally, sleep) and
//! its `ResponderThread` (answer every poll) in one value.
//!
//! A round polls the voters one at a time in sid order: send a request, wait for that voter's
//! reply or [`LeConfig::poll_timeout_ms`], then poll the next. The server's own vote is counted
//! without a datagram. After the last voter the round is tallied; if no quorum supports one
//! candidate the server adopts the best candidate and waits [`LeConfig::round_interval_ms`]
//! before the next round, still counting late replies of the round (each re-tallies).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use tracing::{debug, info, trace};
use zk_elect::{
    Action, Backer, Election, ElectionEpoch, Input, Millis, Outcome, ServerState, Vote,
};
use zk_proto::{Epoch, Sid, Zxid};

use crate::config::LeConfig;
use crate::message::{LeMessage, RequestId};
use crate::rng::SplitMix64;

/// One reply counted in the current round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reply {
    state: ServerState,
    vote: Vote,
}

/// The polls of the current round.
#[derive(Clone, Debug)]
struct Round {
    id: RequestId,
    /// Voters still to poll, in order.
    pending: VecDeque<Sid>,
    /// The voter being polled and when its poll times out.
    polling: Option<(Sid, Millis)>,
    /// Replies by responder sid (ZooKeeper keys them by socket address).
    replies: BTreeMap<Sid, Reply>,
    /// When all voters were polled: the round is tallied, and the next starts at this time.
    next_round_at: Option<Millis>,
}

/// What a tally of one round found.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Tally {
    /// The best candidate heard: the vote this server moves to.
    best: Option<Vote>,
    /// The candidate a quorum supports, with its supporters.
    winner: Option<(Vote, BTreeMap<Sid, Backer>)>,
}

/// LeaderElection for one server.
#[derive(Clone, Debug)]
pub struct LeaderElection {
    config: LeConfig,
    rng: SplitMix64,
    state: ServerState,
    started: bool,
    election: ElectionEpoch,
    own_vote: Vote,
    current_vote: Option<Vote>,
    round: Option<Round>,
    decided: Option<Vote>,
}

impl LeaderElection {
    /// A machine that waits for [`Input::Start`].
    pub fn new(config: LeConfig) -> LeaderElection {
        let rng = SplitMix64::new(config.seed);
        let own_vote = Vote::new(config.sid, Zxid::ZERO, Epoch(0));
        LeaderElection {
            config,
            rng,
            state: ServerState::Looking,
            started: false,
            election: ElectionEpoch(0),
            own_vote,
            current_vote: None,
            round: None,
            decided: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &LeConfig {
        &self.config
    }

    /// The vote this server answers polls with while LOOKING (`None` for an observer).
    pub fn current_vote(&self) -> Option<Vote> {
        self.current_vote
    }

    /// The vote that ended the last election, once decided.
    pub fn decided_vote(&self) -> Option<Vote> {
        self.decided
    }

    /// The id of the current poll round, while LOOKING.
    pub fn request_id(&self) -> Option<RequestId> {
        self.round.as_ref().map(|round| round.id)
    }

    /// The voter being polled now, while LOOKING.
    pub fn polling(&self) -> Option<Sid> {
        self.round
            .as_ref()
            .and_then(|round| round.polling)
            .map(|(sid, _)| sid)
    }

    fn is_participant(&self) -> bool {
        self.config.quorum.is_voter(self.config.sid)
    }

    fn on_start(
        &mut self,
        now: Millis,
        last_zxid: Zxid,
        peer_epoch: Epoch,
        out: &mut Vec<Action<LeMessage>>,
    ) {
        self.own_vote = Vote::new(self.config.sid, last_zxid, peer_epoch);
        self.state = ServerState::Looking;
        self.started = true;
        self.decided = None;
        self.election = ElectionEpoch(self.election.0 + 1);
        self.current_vote = self.is_participant().then_some(self.own_vote);
        let xid = self.rng.next_u64() as u32;
        info!(sid = %self.config.sid, election = %self.election, vote = %self.own_vote, "LOOKING");
        self.start_round(now, RequestId { xid, round: 1 }, out);
    }

    fn start_round(&mut self, now: Millis, id: RequestId, out: &mut Vec<Action<LeMessage>>) {
        let me = self.config.sid;
        let pending = self
            .config
            .quorum
            .voters()
            .into_iter()
            .filter(|&sid| sid != me)
            .collect();
        let mut replies = BTreeMap::new();
        if let Some(vote) = self.current_vote.filter(|_| self.is_participant()) {
            // ZooKeeper polls itself through its own responder; the answer is this vote.
            replies.insert(
                me,
                Reply {
                    state: ServerState::Looking,
                    vote,
                },
            );
        }
        trace!(sid = %me, id = %id, "poll round");
        self.round = Some(Round {
            id,
            pending,
            polling: None,
            replies,
            next_round_at: None,
        });
        self.poll_next(now, out);
    }

    /// Polls the next voter, or tallies the round when every voter was polled.
    fn poll_next(&mut self, now: Millis, out: &mut Vec<Action<LeMessage>>) {
        let timeout_ms = self.config.poll_timeout_ms;
        let round = self.round.as_mut().expect("polling needs a round");
        if let Some(next) = round.pending.pop_front() {
            round.polling = Some((next, now + timeout_ms));
            out.push(Action::Send {
                to: next,
                msg: LeMessage::Request { id: round.id },
            });
            return;
        }
        round.polling = None;
        round.next_round_at = Some(now + self.config.round_interval_ms);
        self.tally_and_maybe_decide(out);
    }

    fn on_tick(&mut self, now: Millis, out: &mut Vec<Action<LeMessage>>) {
        if self.state != ServerState::Looking || !self.started {
            return;
        }
        let Some(round) = &self.round else { return };
        if round.polling.is_some_and(|(_, until)| now >= until) {
            let (silent, _) = round.polling.expect("checked");
            trace!(sid = %self.config.sid, %silent, "poll timed out");
            self.poll_next(now, out);
        } else if round.next_round_at.is_some_and(|at| now >= at) {
            let id = round.id;
            let next = RequestId {
                xid: id.xid,
                round: id.round.wrapping_add(1),
            };
            self.start_round(now, next, out);
        }
    }

    fn on_message(
        &mut self,
        now: Millis,
        from: Sid,
        msg: LeMessage,
        out: &mut Vec<Action<LeMessage>>,
    ) {
        if !self.started {
            debug!(sid = %self.config.sid, %from, "message before start: dropped");
            return;
        }
        match msg {
            LeMessage::Request { id } => self.on_request(from, id, out),
            LeMessage::Response { id, state, vote } => {
                self.on_response(now, from, id, Reply { state, vote }, out)
            }
        }
    }

    /// `ResponderThread`: answer with the current vote, or the decided one once decided.
    /// Observers keep themselves to themselves, as in ZooKeeper (nobody polls them).
    fn on_request(&mut self, from: Sid, id: RequestId, out: &mut Vec<Action<LeMessage>>) {
        if !self.is_participant() {
            trace!(sid = %self.config.sid, %from, "observer: poll not answered");
            return;
        }
        let vote = match self.state {
            ServerState::Looking => self.current_vote.unwrap_or(self.own_vote),
            _ => self.decided.expect("a decided server has a decided vote"),
        };
        out.push(Action::Send {
            to: from,
            msg: LeMessage::Response {
                id,
                state: self.state,
                vote,
            },
        });
    }

    fn on_response(
        &mut self,
        now: Millis,
        from: Sid,
        id: RequestId,
        reply: Reply,
        out: &mut Vec<Action<LeMessage>>,
    ) {
        if self.state != ServerState::Looking {
            return;
        }
        let Some(round) = self.round.as_mut() else {
            return;
        };
        if id != round.id {
            debug!(sid = %self.config.sid, %from, got = %id, expected = %round.id, "reply with a bad request id: dropped");
            return;
        }
        if !self.config.quorum.is_voter(from) {
            debug!(sid = %self.config.sid, %from, "reply from a non-voter: dropped");
            return;
        }
        trace!(sid = %self.config.sid, %from, state = %reply.state, vote = %reply.vote, "reply");
        round.replies.insert(from, reply);
        if round.polling.is_some_and(|(polled, _)| polled == from) {
            self.poll_next(now, out);
        } else if round.next_round_at.is_some() {
            // A late reply after the round was tallied: tally again.
            self.tally_and_maybe_decide(out);
        }
    }

    /// `countVotes`, fixed: only votes for voters heard from this round and able to lead count;
    /// the best candidate is the greatest of those and this server's own vote; a candidate
    /// wins only with a quorum of supporters by the quorum verifier.
    fn tally(&self) -> Tally {
        let round = self.round.as_ref().expect("tallying needs a round");
        let heard: BTreeSet<Sid> = round.replies.keys().copied().collect();
        let valid = round.replies.iter().filter(|(_, reply)| {
            heard.contains(&reply.vote.leader) && self.config.quorum.can_lead(reply.vote.leader)
        });
        let mut supporters: BTreeMap<Vote, BTreeMap<Sid, Backer>> = BTreeMap::new();
        for (&sid, reply) in valid {
            let backer = Backer {
                state: reply.state,
                vote: reply.vote,
                election_epoch: self.election,
            };
            supporters
                .entry(reply.vote)
                .or_default()
                .insert(sid, backer);
        }
        // The own vote is the floor even when this server cannot lead (weight 0): a vote never
        // moves below the voter's own history, or it could back a leader behind it.
        let own = Some(self.own_vote).filter(|_| self.is_participant());
        let best = supporters.keys().copied().chain(own).max();
        #[cfg(feature = "mutants")]
        let best = if self.config.mutant == Some(crate::config::Mutant::ZooKeeperVoteOrder) {
            supporters
                .keys()
                .copied()
                .max_by_key(|vote| (vote.zxid, vote.leader))
        } else {
            best
        };
        // Quorums intersect, so at most one candidate has a quorum; `rev` makes the choice
        // deterministic (the greatest) even so.
        let winner = supporters
            .into_iter()
            .rev()
            .find(|(_, backers)| self.config.quorum.contains_quorum(backers.keys().copied()));
        Tally { best, winner }
    }

    fn tally_and_maybe_decide(&mut self, out: &mut Vec<Action<LeMessage>>) {
        let tally = self.tally();
        if let Some((vote, backing)) = tally.winner {
            if vote.leader == self.config.sid && !self.is_participant() {
                // ZooKeeper logs "OBSERVER elected as leader!" and keeps electing.
                return;
            }
            self.decide(vote, backing, out);
            return;
        }
        if self.is_participant() {
            if tally.best != self.current_vote {
                debug!(sid = %self.config.sid, vote = ?tally.best, "moving the vote to the best candidate");
            }
            // ZOOKEEPER-569: with no valid vote this is the own vote again.
            self.current_vote = tally.best.or(Some(self.own_vote));
        }
    }

    fn decide(
        &mut self,
        vote: Vote,
        backing: BTreeMap<Sid, Backer>,
        out: &mut Vec<Action<LeMessage>>,
    ) {
        self.state = if vote.leader == self.config.sid {
            ServerState::Leading
        } else if self.is_participant() {
            ServerState::Following
        } else {
            ServerState::Observing
        };
        self.decided = Some(vote);
        self.round = None;
        info!(sid = %self.config.sid, state = %self.state, leader = %vote.leader, election = %self.election, "election decided");
        out.push(Action::Decided(Outcome {
            state: self.state,
            vote,
            election_epoch: self.election,
            backing,
        }));
    }
}

impl Election for LeaderElection {
    type Msg = LeMessage;

    fn step(&mut self, now: Millis, input: Input<LeMessage>, out: &mut Vec<Action<LeMessage>>) {
        match input {
            Input::Start {
                last_zxid,
                peer_epoch,
            } => self.on_start(now, last_zxid, peer_epoch, out),
            Input::Tick => self.on_tick(now, out),
            Input::Recv { from, msg } => self.on_message(now, from, msg, out),
            Input::PeerDown(sid) => {
                // UDP has no connections: a silent voter simply times out.
                trace!(sid = %self.config.sid, peer = %sid, "peer down");
            }
        }
    }

    fn deadline(&self) -> Option<Millis> {
        if self.state != ServerState::Looking || !self.started {
            return None;
        }
        let round = self.round.as_ref()?;
        round
            .polling
            .map(|(_, until)| until)
            .or(round.next_round_at)
    }

    fn state(&self) -> ServerState {
        self.state
    }
}

#[cfg(test)]
#[path = "le_tests.rs"]
mod tests;
