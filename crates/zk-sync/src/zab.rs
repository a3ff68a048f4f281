//! The Zab machine: the state every role shares (log, epochs, durability), the dispatch of
//! inputs to the role's handlers, and the role changes.

use std::collections::VecDeque;

use tracing::{info, warn};
use zk_elect::{Millis, ServerState};
use zk_proto::{Epoch, Sid, Zxid};

use crate::config::ZabConfig;
use crate::follower::FollowerState;
use crate::io::{Action, Durable, Entry, Input};
use crate::leader::LeaderState;

/// What the machine is doing.
#[derive(Debug)]
pub(crate) enum Role {
    /// Waiting for an election to decide.
    Looking,
    /// Leading (discovery, synchronization, then broadcast).
    Leader(Box<LeaderState>),
    /// Following or observing.
    Follower(Box<FollowerState>),
}

/// One server's Zab as a pure state machine stepped with `(now, input)`.
#[derive(Debug)]
pub struct Zab {
    pub(crate) config: ZabConfig,
    pub(crate) accepted_epoch: Epoch,
    pub(crate) current_epoch: Epoch,
    /// The host's snapshot zxid: proposals up to it are not in `log`.
    pub(crate) snapshot_zxid: Zxid,
    /// Logged proposals above `snapshot_zxid`, in zxid order (durable or not yet).
    pub(crate) log: Vec<Entry>,
    /// For each history write issued and not yet reported durable, the log's last zxid after it.
    pub(crate) pending_writes: VecDeque<Zxid>,
    /// The log is durable up to here.
    pub(crate) persisted: Zxid,
    /// The host was told to commit up to here.
    pub(crate) committed: Zxid,
    pub(crate) role: Role,
    pub(crate) next_tick: Option<Millis>,
}

impl Zab {
    /// A machine restored from `durable`, LOOKING.
    pub fn new(config: ZabConfig, durable: Durable) -> Zab {
        assert!(
            durable.accepted_epoch >= durable.current_epoch,
            "acceptedEpoch {} is below currentEpoch {}",
            durable.accepted_epoch,
            durable.current_epoch
        );
        assert!(
            durable.log.windows(2).all(|w| w[0].zxid < w[1].zxid),
            "log out of order"
        );
        assert!(
            durable
                .log
                .first()
                .is_none_or(|e| e.zxid > durable.snapshot_zxid),
            "log starts at or below the snapshot"
        );
        let last = durable.log.last().map_or(durable.snapshot_zxid, |e| e.zxid);
        Zab {
            config,
            accepted_epoch: durable.accepted_epoch,
            current_epoch: durable.current_epoch,
            snapshot_zxid: durable.snapshot_zxid,
            log: durable.log,
            pending_writes: VecDeque::new(),
            persisted: last,
            committed: Zxid::ZERO,
            role: Role::Looking,
            next_tick: None,
        }
    }

    /// This server's id.
    pub fn sid(&self) -> Sid {
        self.config.sid
    }

    /// The zxid of the last logged proposal (durable or not): what the server votes with.
    pub fn last_logged_zxid(&self) -> Zxid {
        self.log.last().map_or(self.snapshot_zxid, |e| e.zxid)
    }

    /// The `acceptedEpoch` the machine has asked the host to record.
    pub fn accepted_epoch(&self) -> Epoch {
        self.accepted_epoch
    }

    /// The `currentEpoch` the machine has asked the host to record (what the server votes with).
    pub fn current_epoch(&self) -> Epoch {
        self.current_epoch
    }

    /// The zxid up to which the host was told to commit.
    pub fn committed_zxid(&self) -> Zxid {
        self.committed
    }

    /// The server's state: LOOKING, LEADING, FOLLOWING or OBSERVING.
    pub fn state(&self) -> ServerState {
        match &self.role {
            Role::Looking => ServerState::Looking,
            Role::Leader(_) => ServerState::Leading,
            Role::Follower(f) if f.observer => ServerState::Observing,
            Role::Follower(_) => ServerState::Following,
        }
    }

    /// The epoch this server serves clients in, once it is an established leader or an
    /// up-to-date learner.
    pub fn serving_epoch(&self) -> Option<Epoch> {
        match &self.role {
            Role::Leader(l) if l.established => l.epoch,
            Role::Follower(f) if f.up_to_date => f.epoch,
            _ => None,
        }
    }

    /// Whether [`Input::Propose`] would be accepted now (an established leader).
    pub fn can_propose(&self) -> bool {
        matches!(&self.role, Role::Leader(l) if l.established)
    }

    /// Forgets logged proposals the host no longer needs in memory: those up to `up_to` (the
    /// zxid of a snapshot the host has taken of its committed state) that are committed and
    /// older than the last `commit_log_count` entries, which stay for DIFF. A learner behind
    /// the forgotten part gets a SNAP. Returns how many entries were dropped.
    pub fn compact(&mut self, up_to: Zxid) -> usize {
        let limit = up_to.min(self.committed);
        let keep_from = self.log.len().saturating_sub(self.config.commit_log_count);
        let drop = self.log[..keep_from]
            .iter()
            .take_while(|e| e.zxid <= limit)
            .count();
        if drop > 0 {
            self.snapshot_zxid = self.log[drop - 1].zxid;
            self.log.drain(..drop);
        }
        drop
    }

    /// The logged proposals above `zxid` still held in memory, in zxid order.
    pub fn entries_after(&self, zxid: Zxid) -> &[Entry] {
        let start = self.log.partition_point(|e| e.zxid <= zxid);
        &self.log[start..]
    }

    /// The `up_to` of an [`Input::Persisted`] that reports the oldest `writes` history writes
    /// durable at once (the host wrote them together; 1 for the oldest alone): the log's last
    /// zxid after them, `None` when fewer writes are outstanding.
    pub fn persist_point_after(&self, writes: usize) -> Option<Zxid> {
        self.pending_writes.get(writes.checked_sub(1)?).copied()
    }

    /// When the host should next feed [`Input::Tick`], if a timer is armed.
    pub fn deadline(&self) -> Option<Millis> {
        self.next_tick
    }

    /// Feeds one input at time `now` and appends the resulting actions to `out`.
    pub fn step(&mut self, now: Millis, input: Input, out: &mut Vec<Action>) {
        match input {
            Input::ElectionDecided { leader, state } => {
                self.on_election_decided(now, leader, state, out)
            }
            Input::Persisted { up_to } => self.on_persisted(now, up_to, out),
            Input::Tick => {
                if self.next_tick.is_some_and(|t| now >= t) {
                    self.next_tick = Some(now + self.config.tick_ms / 2);
                }
                match &self.role {
                    Role::Looking => {}
                    Role::Leader(_) => self.leader_on_tick(now, out),
                    Role::Follower(_) => self.follower_on_tick(now, out),
                }
            }
            Input::Recv { from, msg } => match &self.role {
                Role::Looking => {
                    tracing::debug!(sid = %self.sid(), %from, kind = msg.kind(), "LOOKING: dropped");
                }
                Role::Leader(_) => self.leader_on_recv(now, from, msg, out),
                Role::Follower(_) => self.follower_on_recv(now, from, msg, out),
            },
            Input::Propose(txn) => match &self.role {
                Role::Leader(l) if l.established => self.leader_on_propose(now, txn, out),
                _ => warn!(sid = %self.sid(), "proposal refused: not an established leader"),
            },
            Input::PeerDown(peer) => match &self.role {
                Role::Looking => {}
                Role::Leader(_) => self.leader_on_peer_down(peer),
                Role::Follower(f) => {
                    if f.leader == peer {
                        self.go_looking(format!("connection to leader {peer} lost"), out);
                    }
                }
            },
        }
    }

    fn on_election_decided(
        &mut self,
        now: Millis,
        leader: Sid,
        state: ServerState,
        out: &mut Vec<Action>,
    ) {
        if !matches!(self.role, Role::Looking) {
            warn!(sid = %self.sid(), "election decided while not LOOKING: leaving the old role");
            self.role = Role::Looking;
        }
        self.next_tick = Some(now + self.config.tick_ms / 2);
        match state {
            ServerState::Leading => {
                assert_eq!(leader, self.sid(), "LEADING someone else");
                self.leader_start(now, out);
            }
            ServerState::Following | ServerState::Observing => {
                assert_ne!(leader, self.sid(), "following oneself");
                self.follower_start(now, leader, state == ServerState::Observing, out);
            }
            ServerState::Looking => {
                self.next_tick = None;
            }
        }
    }

    /// Leaves the role: the host closes the role's connections and starts an election.
    pub(crate) fn go_looking(&mut self, reason: String, out: &mut Vec<Action>) {
        info!(sid = %self.sid(), %reason, "going back to LOOKING");
        self.role = Role::Looking;
        self.next_tick = None;
        out.push(Action::GoLooking { reason });
    }

    /// The oldest history writes are durable, through the first one that ends at `up_to`.
    fn on_persisted(&mut self, now: Millis, up_to: Zxid, out: &mut Vec<Action>) {
        let Some(last) = self.pending_writes.iter().position(|&end| end == up_to) else {
            debug_assert!(
                self.pending_writes.is_empty(),
                "Persisted {up_to} matches none of {:?}",
                self.pending_writes
            );
            warn!(sid = %self.sid(), %up_to, "Persisted matches no outstanding write: ignored");
            return;
        };
        self.pending_writes.drain(..=last);
        self.persisted = up_to;
        match &self.role {
            Role::Looking => {}
            Role::Leader(_) => self.leader_on_persisted(now, out),
            Role::Follower(_) => self.follower_on_persisted(now, out),
        }
    }

    /// Whether every history write issued so far is durable.
    pub(crate) fn all_durable(&self) -> bool {
        self.pending_writes.is_empty()
    }

    /// Appends proposals to the in-memory log and asks the host to log them.
    pub(crate) fn append(&mut self, entries: Vec<Entry>, out: &mut Vec<Action>) {
        assert!(!entries.is_empty());
        for entry in &entries {
            assert!(entry.zxid > self.last_logged_zxid(), "append out of order");
            self.log.push(entry.clone());
        }
        self.pending_writes.push_back(self.last_logged_zxid());
        out.push(Action::Append(entries));
    }

    /// Drops logged proposals above `zxid` and asks the host to do the same.
    pub(crate) fn truncate(&mut self, zxid: Zxid, out: &mut Vec<Action>) {
        self.log.retain(|e| e.zxid <= zxid);
        self.persisted = self.persisted.min(zxid);
        self.pending_writes.push_back(self.last_logged_zxid());
        out.push(Action::Truncate(zxid));
    }

    /// Asks the host to commit up to `zxid`, if that is news.
    pub(crate) fn commit_to(&mut self, zxid: Zxid, out: &mut Vec<Action>) {
        if zxid > self.committed {
            assert!(zxid <= self.last_logged_zxid(), "commit beyond the log");
            self.committed = zxid;
            out.push(Action::Commit(zxid));
        }
    }

    /// The logged proposal with this zxid.
    pub(crate) fn entry(&self, zxid: Zxid) -> Option<&Entry> {
        self.log
            .binary_search_by(|e| e.zxid.cmp(&zxid))
            .ok()
            .map(|i| &self.log[i])
    }
}
