//! The leader side: `Leader.lead`, `LearnerHandler.run`/`syncFollower` and the broadcast
//! pipeline (`Leader.propose`, `processAck`, `tryToCommit`) as handlers of a pure machine.

use std::collections::{BTreeMap, BTreeSet};

use tracing::{debug, info, warn};
use zk_elect::Millis;
use zk_proto::{Epoch, Sid, Zxid};

use crate::config::Mutant;
use crate::io::{Action, Entry};
use crate::message::ZabMsg;
use crate::zab::{Role, Zab};

/// Where one learner is, as its handler on the leader sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stage {
    /// FOLLOWERINFO received.
    Info,
    /// ACKEPOCH received, waiting for the epoch-ack quorum before syncing.
    AckedEpoch,
    /// Sync stream and NEWLEADER sent; new proposals are forwarded.
    Syncing,
    /// NEWLEADER ACKed, waiting for the leader to be established.
    AckedNewLeader,
    /// UPTODATE sent.
    UpToDate,
}

/// One connected learner.
#[derive(Clone, Debug)]
pub(crate) struct Learner {
    pub(crate) observer: bool,
    pub(crate) stage: Stage,
    pub(crate) last_zxid: Zxid,
    pub(crate) last_heard: Millis,
}

/// The leader's volatile state.
#[derive(Debug)]
pub(crate) struct LeaderState {
    pub(crate) started: Millis,
    /// The new epoch, once a quorum of acceptedEpochs fixed it.
    pub(crate) epoch: Option<Epoch>,
    /// acceptedEpochs contributed (by the leader itself and learners) before the epoch was fixed.
    pub(crate) contributions: BTreeMap<Sid, Epoch>,
    pub(crate) learners: BTreeMap<Sid, Learner>,
    /// Voters whose ACKEPOCH counted.
    pub(crate) epoch_ackers: BTreeSet<Sid>,
    /// The leader's last zxid when the epoch-ack quorum formed: the history NEWLEADER commits.
    pub(crate) sync_point: Option<Zxid>,
    /// Whether the leader's own history is durable and its currentEpoch recorded.
    pub(crate) self_newleader_acked: bool,
    /// Voters that ACKed NEWLEADER.
    pub(crate) newleader_ackers: BTreeSet<Sid>,
    pub(crate) established: bool,
    /// Proposals not yet committed, with the voters that ACKed them.
    pub(crate) outstanding: BTreeMap<Zxid, Outstanding>,
}

/// A proposal not yet committed.
#[derive(Debug)]
pub(crate) struct Outstanding {
    /// The voters that ACKed it.
    pub(crate) ackers: BTreeSet<Sid>,
    /// When it was made (for the per-learner ACK lag check).
    pub(crate) proposed_at: Millis,
}

impl Zab {
    fn leader(&mut self) -> &mut LeaderState {
        match &mut self.role {
            Role::Leader(l) => l,
            _ => unreachable!("leader handler outside the leader role"),
        }
    }

    fn leader_ref(&self) -> &LeaderState {
        match &self.role {
            Role::Leader(l) => l,
            _ => unreachable!("leader handler outside the leader role"),
        }
    }

    pub(crate) fn leader_start(&mut self, now: Millis, out: &mut Vec<Action>) {
        info!(sid = %self.sid(), last_zxid = %self.last_logged_zxid(), "LEADING: discovery");
        let mut contributions = BTreeMap::new();
        contributions.insert(self.sid(), self.accepted_epoch);
        self.role = Role::Leader(Box::new(LeaderState {
            started: now,
            epoch: None,
            contributions,
            learners: BTreeMap::new(),
            epoch_ackers: BTreeSet::new(),
            sync_point: None,
            self_newleader_acked: false,
            newleader_ackers: BTreeSet::new(),
            established: false,
            outstanding: BTreeMap::new(),
        }));
        self.try_fix_epoch(out);
    }

    /// Whether the leader plus `sids` form a quorum of voters.
    fn quorum_with_self(&self, sids: &BTreeSet<Sid>) -> bool {
        let me = self.sid();
        self.config.quorum.contains_quorum(
            sids.iter()
                .copied()
                .chain([me])
                .filter(|&s| self.config.quorum.is_voter(s)),
        )
    }

    /// `getEpochToPropose`: once the leader and a quorum of voters contributed their
    /// acceptedEpoch, the new epoch is one more than the largest, and it is frozen.
    fn try_fix_epoch(&mut self, out: &mut Vec<Action>) {
        let l = self.leader_ref();
        if l.epoch.is_some() {
            return;
        }
        let contributors: BTreeSet<Sid> = l.contributions.keys().copied().collect();
        if !self.quorum_with_self(&contributors) {
            return;
        }
        let max = if self.config.is(Mutant::EpochIgnoresLearners) {
            self.accepted_epoch
        } else {
            l.contributions.values().copied().max().unwrap_or_default()
        };
        let epoch = Epoch(max.0.max(self.accepted_epoch.0) + 1);
        info!(sid = %self.sid(), %epoch, "leader: new epoch fixed");
        self.accepted_epoch = epoch;
        out.push(Action::PersistAcceptedEpoch(epoch));
        let l = self.leader();
        l.epoch = Some(epoch);
        let to: Vec<Sid> = l.learners.keys().copied().collect();
        for to in to {
            out.push(Action::Send {
                to,
                msg: ZabMsg::LeaderInfo { epoch },
            });
        }
        self.try_start_sync(out);
    }

    pub(crate) fn leader_on_recv(
        &mut self,
        now: Millis,
        from: Sid,
        msg: ZabMsg,
        out: &mut Vec<Action>,
    ) {
        if let ZabMsg::FollowerInfo {
            accepted_epoch,
            observer,
        } = msg
        {
            self.on_follower_info(now, from, accepted_epoch, observer, out);
            return;
        }
        let Some(learner) = self.leader().learners.get_mut(&from) else {
            debug!(%from, kind = msg.kind(), "leader: packet from an unknown learner");
            return;
        };
        learner.last_heard = now;
        let stage = learner.stage;
        match msg {
            ZabMsg::AckEpoch {
                current_epoch,
                last_zxid,
            } if stage == Stage::Info && self.leader_ref().epoch.is_some() => {
                self.on_ack_epoch(from, current_epoch, last_zxid, out)
            }
            ZabMsg::Ack { zxid } if zxid.counter() == 0 => {
                if Some(zxid.epoch()) == self.leader_ref().epoch && stage == Stage::Syncing {
                    self.on_new_leader_ack(from, out);
                } else {
                    debug!(%from, %zxid, "leader: ACK of a NEWLEADER ignored");
                }
            }
            ZabMsg::Ack { zxid } => self.on_ack(from, zxid, out),
            ZabMsg::Ping { .. } => {}
            other => {
                warn!(%from, kind = other.kind(), ?stage, "leader: unexpected packet, ignored");
            }
        }
    }

    fn on_follower_info(
        &mut self,
        now: Millis,
        from: Sid,
        accepted_epoch: Epoch,
        observer: bool,
        out: &mut Vec<Action>,
    ) {
        let observer = observer || !self.config.quorum.is_voter(from);
        let known = self.leader_ref().learners.get(&from).map(|l| l.stage);
        if known.is_some_and(|stage| stage > Stage::Info) {
            debug!(sid = %self.sid(), %from, "leader: repeated FOLLOWERINFO ignored");
            return;
        }
        debug!(sid = %self.sid(), %from, %accepted_epoch, observer, "leader: FOLLOWERINFO");
        let l = self.leader();
        l.learners.insert(
            from,
            Learner {
                observer,
                stage: Stage::Info,
                last_zxid: Zxid::ZERO,
                last_heard: now,
            },
        );
        match l.epoch {
            Some(epoch) => out.push(Action::Send {
                to: from,
                msg: ZabMsg::LeaderInfo { epoch },
            }),
            None => {
                l.contributions.insert(from, accepted_epoch);
                self.try_fix_epoch(out);
            }
        }
    }

    fn on_ack_epoch(
        &mut self,
        from: Sid,
        current_epoch: Option<Epoch>,
        last_zxid: Zxid,
        out: &mut Vec<Action>,
    ) {
        if let Some(current) = current_epoch {
            let theirs = (current, last_zxid);
            let ours = (self.current_epoch, self.last_logged_zxid());
            if theirs > ours && !self.config.is(Mutant::LeaderIgnoresMoreRecentLearner) {
                self.go_looking(
                    format!("learner {from} is more recent (epoch {current}, zxid {last_zxid}) than the leader"),
                    out,
                );
                return;
            }
        }
        let voter = self.config.quorum.is_voter(from);
        let l = self.leader();
        let learner = l.learners.get_mut(&from).expect("known learner");
        learner.stage = Stage::AckedEpoch;
        learner.last_zxid = last_zxid;
        if current_epoch.is_some() && voter && !learner.observer {
            l.epoch_ackers.insert(from);
        }
        if l.sync_point.is_some() {
            self.sync_learner(from, out);
            return;
        }
        self.try_start_sync(out);
    }

    /// `waitForEpochAck`: once the leader and a quorum of voters acknowledged the epoch, fix
    /// the history to synchronize and sync every learner that is waiting.
    fn try_start_sync(&mut self, out: &mut Vec<Action>) {
        let l = self.leader_ref();
        if l.sync_point.is_some() || l.epoch.is_none() {
            return;
        }
        let ackers = l.epoch_ackers.clone();
        if self.quorum_with_self(&ackers) {
            let sync_point = self.last_logged_zxid();
            info!(sid = %self.sid(), %sync_point, "leader: a quorum acknowledged the epoch: synchronizing");
            self.leader().sync_point = Some(sync_point);
            self.try_self_new_leader(out);
            let waiting: Vec<Sid> = self
                .leader_ref()
                .learners
                .iter()
                .filter(|(_, l)| l.stage == Stage::AckedEpoch)
                .map(|(&s, _)| s)
                .collect();
            for sid in waiting {
                self.sync_learner(sid, out);
            }
        }
    }

    /// `syncFollower` + `startForwarding`: DIFF, TRUNC or SNAP, the committed proposals with
    /// their COMMITs, the outstanding proposals, then NEWLEADER, all in one step so that no
    /// proposal falls in a gap.
    fn sync_learner(&mut self, to: Sid, out: &mut Vec<Action>) {
        let l = self.leader_ref();
        let learner = l.learners[&to].clone();
        let epoch = l.epoch.expect("syncing after the epoch is fixed");
        let sync_point = l.sync_point.expect("syncing after the epoch-ack quorum");
        // Everything up to here is sent with a COMMIT: the history NEWLEADER commits, plus what
        // this epoch already committed.
        let committed = self.committed.max(sync_point);
        let last = self.last_logged_zxid();
        let peer = learner.last_zxid;
        // The oldest proposal the in-memory committed log still holds.
        let window_start = self.log.len().saturating_sub(self.config.commit_log_count);
        let min_committed_log = if window_start == 0 {
            self.snapshot_zxid
        } else {
            self.log[window_start - 1].zxid
        };
        // A snapshot holds only what this leader knows to be committed (what it delivered, or
        // its own snapshot), never the history NEWLEADER is about to commit: if this leader
        // fails before it is established, a later one may TRUNC those proposals, and a
        // learner cannot truncate into its snapshot (found by the simulator, seed 10).
        let snapshot_zxid = self.committed.max(self.snapshot_zxid);
        let start: Zxid;
        if peer == last {
            out.push(Action::Send {
                to,
                msg: ZabMsg::Diff { zxid: peer },
            });
            start = peer;
        } else if peer > last {
            out.push(Action::Send {
                to,
                msg: ZabMsg::Trunc { zxid: last },
            });
            start = last;
        } else if peer >= min_committed_log
            && (peer == self.snapshot_zxid || self.entry(peer).is_some())
        {
            out.push(Action::Send {
                to,
                msg: ZabMsg::Diff { zxid: last },
            });
            start = peer;
        } else if peer >= min_committed_log {
            // The learner has a proposal we do not: truncate it to our previous one, within
            // its epoch; across an epoch boundary, send a snapshot.
            let previous = self
                .log
                .iter()
                .map(|e| e.zxid)
                .rfind(|&z| z < peer)
                .unwrap_or(self.snapshot_zxid);
            if previous.epoch() == peer.epoch() {
                out.push(Action::Send {
                    to,
                    msg: ZabMsg::Trunc { zxid: previous },
                });
                start = previous;
            } else {
                out.push(Action::SendSnapshot {
                    to,
                    zxid: snapshot_zxid,
                });
                start = snapshot_zxid;
            }
        } else {
            out.push(Action::SendSnapshot {
                to,
                zxid: snapshot_zxid,
            });
            start = snapshot_zxid;
        }
        info!(sid = %self.sid(), learner = %to, peer_zxid = %peer, from = %start, "leader: synchronizing learner");
        for entry in self.log.iter().filter(|e| e.zxid > start) {
            out.push(Action::Send {
                to,
                msg: ZabMsg::Proposal {
                    zxid: entry.zxid,
                    txn: entry.txn.clone(),
                },
            });
            if entry.zxid <= committed {
                out.push(Action::Send {
                    to,
                    msg: ZabMsg::Commit { zxid: entry.zxid },
                });
            }
        }
        // The learner's log may already hold committed proposals the stream did not resend
        // (an empty DIFF after a restart): say explicitly how far everything is committed.
        if committed > Zxid::ZERO {
            out.push(Action::Send {
                to,
                msg: ZabMsg::Commit { zxid: committed },
            });
        }
        out.push(Action::Send {
            to,
            msg: ZabMsg::NewLeader {
                zxid: Zxid::new(epoch, 0),
            },
        });
        self.leader()
            .learners
            .get_mut(&to)
            .expect("known learner")
            .stage = Stage::Syncing;
    }

    /// The leader counts its own NEWLEADER ACK once its history is durable, recording
    /// currentEpoch first.
    fn try_self_new_leader(&mut self, out: &mut Vec<Action>) {
        let l = self.leader_ref();
        if l.self_newleader_acked || l.sync_point.is_none() || !self.all_durable() {
            return;
        }
        let epoch = l.epoch.expect("epoch fixed before sync");
        self.leader().self_newleader_acked = true;
        self.current_epoch = epoch;
        out.push(Action::PersistCurrentEpoch(epoch));
        self.try_establish(out);
    }

    fn on_new_leader_ack(&mut self, from: Sid, out: &mut Vec<Action>) {
        let voter = self.config.quorum.is_voter(from);
        let l = self.leader();
        let learner = l.learners.get_mut(&from).expect("known learner");
        let observer = learner.observer;
        if l.established {
            learner.stage = Stage::UpToDate;
            out.push(Action::Send {
                to: from,
                msg: ZabMsg::UpToDate,
            });
            return;
        }
        learner.stage = Stage::AckedNewLeader;
        if voter && !observer {
            l.newleader_ackers.insert(from);
        }
        self.try_establish(out);
    }

    /// `waitForNewLeaderAck`: once the leader and a quorum of voters ACKed NEWLEADER, commit
    /// the synced history, serve clients and send UPTODATE.
    fn try_establish(&mut self, out: &mut Vec<Action>) {
        let l = self.leader_ref();
        if l.established || !l.self_newleader_acked {
            return;
        }
        let ackers = l.newleader_ackers.clone();
        if !self.quorum_with_self(&ackers) {
            return;
        }
        let epoch = l.epoch.expect("epoch fixed");
        let sync_point = l.sync_point.expect("sync point fixed");
        info!(sid = %self.sid(), %epoch, "leader: a quorum ACKed NEWLEADER: established");
        self.leader().established = true;
        self.commit_to(sync_point, out);
        out.push(Action::ServeClients { epoch });
        let waiting: Vec<Sid> = self
            .leader_ref()
            .learners
            .iter()
            .filter(|(_, l)| l.stage == Stage::AckedNewLeader)
            .map(|(&s, _)| s)
            .collect();
        for to in waiting {
            self.leader().learners.get_mut(&to).expect("known").stage = Stage::UpToDate;
            out.push(Action::Send {
                to,
                msg: ZabMsg::UpToDate,
            });
        }
    }

    /// The learners new proposals and commits are forwarded to.
    fn forwarding(&self, observer: bool) -> Vec<Sid> {
        let first = if self.config.is(Mutant::NoForwardingDuringSync) {
            Stage::AckedNewLeader
        } else {
            Stage::Syncing
        };
        self.leader_ref()
            .learners
            .iter()
            .filter(|(_, l)| l.stage >= first && l.observer == observer)
            .map(|(&s, _)| s)
            .collect()
    }

    pub(crate) fn leader_on_propose(&mut self, now: Millis, txn: Vec<u8>, out: &mut Vec<Action>) {
        let epoch = self.leader_ref().epoch.expect("established");
        let last = self.last_logged_zxid();
        let zxid = if last.epoch() == epoch {
            Zxid::new(epoch, last.counter() + 1)
        } else {
            Zxid::new(epoch, 1)
        };
        debug!(sid = %self.sid(), %zxid, "leader: PROPOSAL");
        self.append(
            vec![Entry {
                zxid,
                txn: txn.clone(),
            }],
            out,
        );
        self.leader().outstanding.insert(
            zxid,
            Outstanding {
                ackers: BTreeSet::new(),
                proposed_at: now,
            },
        );
        for to in self.forwarding(false) {
            out.push(Action::Send {
                to,
                msg: ZabMsg::Proposal {
                    zxid,
                    txn: txn.clone(),
                },
            });
        }
    }

    /// An ACK is cumulative: a follower ACKs `zxid` once its log up to `zxid` is durable, so it
    /// counts for every outstanding proposal up to `zxid`. The proposals a follower has ACKed
    /// are therefore always the oldest outstanding ones, and the newest first are counted until
    /// one already was (a ZooKeeper-style ACK per proposal costs one step, not a rescan).
    fn on_ack(&mut self, from: Sid, zxid: Zxid, out: &mut Vec<Action>) {
        if !self.config.quorum.is_voter(from) {
            return;
        }
        let mut counted = false;
        for (_, proposal) in self.leader().outstanding.range_mut(..=zxid).rev() {
            if !proposal.ackers.insert(from) {
                break;
            }
            counted = true;
        }
        if counted {
            self.try_commit(out);
        }
    }

    pub(crate) fn leader_on_persisted(&mut self, _now: Millis, out: &mut Vec<Action>) {
        self.try_self_new_leader(out);
        if self.leader_ref().established {
            self.try_commit(out);
        }
    }

    /// `tryToCommit`: commit outstanding proposals in zxid order while each has a quorum of
    /// ACKs (the leader's own counts once the proposal is durable here). Followers get one
    /// COMMIT for the newest committed zxid (a COMMIT commits the log up to it); observers get
    /// an INFORM with each transaction.
    fn try_commit(&mut self, out: &mut Vec<Action>) {
        let me = self.sid();
        let persisted = self.persisted;
        let observers = self.forwarding(true);
        let mut informs = Vec::new();
        let mut newest = None;
        while let Some((&zxid, proposal)) = self.leader_ref().outstanding.first_key_value() {
            let ackers = proposal
                .ackers
                .iter()
                .copied()
                .filter(|&s| s != me)
                .chain((persisted >= zxid).then_some(me));
            if !self.config.quorum.contains_quorum(ackers) {
                break;
            }
            self.leader().outstanding.pop_first();
            debug!(sid = %self.sid(), %zxid, "leader: COMMIT");
            newest = Some(zxid);
            if !observers.is_empty() {
                informs.push(zxid);
            }
        }
        let Some(newest) = newest else {
            return;
        };
        self.commit_to(newest, out);
        for to in self.forwarding(false) {
            out.push(Action::Send {
                to,
                msg: ZabMsg::Commit { zxid: newest },
            });
        }
        for zxid in informs {
            let txn = &self.entry(zxid).expect("committed proposal is logged").txn;
            for &to in &observers {
                out.push(Action::Send {
                    to,
                    msg: ZabMsg::Inform {
                        zxid,
                        txn: txn.clone(),
                    },
                });
            }
        }
    }

    pub(crate) fn leader_on_tick(&mut self, now: Millis, out: &mut Vec<Action>) {
        let init_limit_ms = self.config.init_limit_ms();
        let sync_limit_ms = self.config.sync_limit_ms();
        let last = self.last_logged_zxid();
        let l = self.leader_ref();
        if !l.established {
            if now.since(l.started) > init_limit_ms {
                self.go_looking(
                    format!("no quorum ACKed NEWLEADER within {init_limit_ms} ms"),
                    out,
                );
            }
            return;
        }
        // A follower that has not ACKed a proposal older than syncLimit is dropped, as
        // ZooKeeper's leader does at the next ping.
        let lagging: Vec<Sid> = l
            .learners
            .iter()
            .filter(|(_, x)| !x.observer && x.stage >= Stage::AckedNewLeader)
            .filter(|(&sid, _)| {
                l.outstanding.values().any(|proposal| {
                    !proposal.ackers.contains(&sid)
                        && now.since(proposal.proposed_at) > sync_limit_ms
                })
            })
            .map(|(&sid, _)| sid)
            .collect();
        for peer in lagging {
            warn!(sid = %self.sid(), %peer, "leader: follower lags more than syncLimit in ACKs: disconnecting");
            self.leader().learners.remove(&peer);
            out.push(Action::Disconnect { peer });
        }
        let l = self.leader_ref();
        let synced: BTreeSet<Sid> = l
            .learners
            .iter()
            .filter(|(_, x)| {
                !x.observer && x.stage >= Stage::Syncing && now.since(x.last_heard) <= sync_limit_ms
            })
            .map(|(&s, _)| s)
            .collect();
        let to: Vec<Sid> = l
            .learners
            .iter()
            .filter(|(_, x)| x.stage >= Stage::Syncing)
            .map(|(&s, _)| s)
            .collect();
        if !self.quorum_with_self(&synced) {
            self.go_looking("lost the quorum of synced followers".to_owned(), out);
            return;
        }
        for to in to {
            out.push(Action::Send {
                to,
                msg: ZabMsg::Ping { zxid: last },
            });
        }
    }

    pub(crate) fn leader_on_peer_down(&mut self, peer: Sid) {
        if self.leader().learners.remove(&peer).is_some() {
            debug!(sid = %self.sid(), %peer, "leader: learner disconnected");
        }
    }
}
