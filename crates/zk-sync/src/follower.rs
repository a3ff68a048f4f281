//! The learner side (followers and observers): `Learner.registerWithLeader`,
//! `Learner.syncWithLeader` and `Follower.processPacket` as handlers of a pure machine.

use tracing::{debug, info, warn};
use zk_elect::Millis;
use zk_proto::{Epoch, Sid, Zxid};

use crate::config::Mutant;
use crate::io::{Action, Entry};
use crate::message::ZabMsg;
use crate::zab::{Role, Zab};

/// Where a learner is in the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// FOLLOWERINFO sent, waiting for LEADERINFO.
    Discovery,
    /// ACKEPOCH sent; receiving the DIFF/TRUNC/SNAP stream.
    Syncing,
    /// NEWLEADER received; waiting for the synced history to be durable before ACKing.
    NewLeaderPending,
    /// NEWLEADER ACKed; waiting for UPTODATE.
    AwaitUpToDate,
    /// UPTODATE received: broadcast.
    Broadcast,
}

/// A learner's volatile state.
#[derive(Debug)]
pub(crate) struct FollowerState {
    pub(crate) leader: Sid,
    pub(crate) observer: bool,
    pub(crate) phase: Phase,
    pub(crate) epoch: Option<Epoch>,
    pub(crate) last_heard: Millis,
    /// The highest COMMIT received before UPTODATE.
    pub(crate) sync_commit: Zxid,
    /// The last logged zxid when NEWLEADER arrived.
    pub(crate) newleader_mark: Option<Zxid>,
    /// Proposals ACKed up to here.
    pub(crate) acked: Zxid,
    /// Whether a DIFF, TRUNC or SNAP opened the stream.
    pub(crate) sync_mode: bool,
    pub(crate) up_to_date: bool,
}

impl Zab {
    fn follower(&mut self) -> &mut FollowerState {
        match &mut self.role {
            Role::Follower(f) => f,
            _ => unreachable!("follower handler outside the follower role"),
        }
    }

    pub(crate) fn follower_start(
        &mut self,
        now: Millis,
        leader: Sid,
        observer: bool,
        out: &mut Vec<Action>,
    ) {
        info!(sid = %self.sid(), %leader, observer, "learner: connecting to leader");
        self.role = Role::Follower(Box::new(FollowerState {
            leader,
            observer,
            phase: Phase::Discovery,
            epoch: None,
            last_heard: now,
            sync_commit: Zxid::ZERO,
            newleader_mark: None,
            acked: Zxid::ZERO,
            sync_mode: false,
            up_to_date: false,
        }));
        out.push(Action::Send {
            to: leader,
            msg: ZabMsg::FollowerInfo {
                accepted_epoch: self.accepted_epoch,
                observer,
            },
        });
    }

    pub(crate) fn follower_on_tick(&mut self, now: Millis, out: &mut Vec<Action>) {
        let f = self.follower();
        let limit_ms = if f.phase == Phase::Broadcast {
            self.config.sync_limit_ms()
        } else {
            self.config.init_limit_ms()
        };
        let f = self.follower();
        if now.since(f.last_heard) > limit_ms {
            let leader = f.leader;
            self.go_looking(format!("leader {leader} silent for {limit_ms} ms"), out);
            return;
        }
        // Until LEADERINFO arrives, FOLLOWERINFO is sent again, as ZooKeeper's learner retries
        // its connection: the leader may still have been LOOKING when the first one arrived.
        if f.phase == Phase::Discovery {
            let (leader, observer) = (f.leader, f.observer);
            out.push(Action::Send {
                to: leader,
                msg: ZabMsg::FollowerInfo {
                    accepted_epoch: self.accepted_epoch,
                    observer,
                },
            });
        }
    }

    pub(crate) fn follower_on_recv(
        &mut self,
        now: Millis,
        from: Sid,
        msg: ZabMsg,
        out: &mut Vec<Action>,
    ) {
        let f = self.follower();
        if from != f.leader {
            debug!(%from, kind = msg.kind(), "learner: packet from a server that is not our leader");
            return;
        }
        f.last_heard = now;
        let phase = f.phase;
        match (phase, msg) {
            (Phase::Discovery, ZabMsg::LeaderInfo { epoch }) => self.on_leader_info(epoch, out),
            (_, ZabMsg::LeaderInfo { epoch }) if Some(epoch) == self.follower().epoch => {
                debug!(sid = %self.sid(), %epoch, "learner: repeated LEADERINFO ignored");
            }
            (Phase::Syncing, ZabMsg::Diff { zxid }) if !self.follower().sync_mode => {
                debug!(sid = %self.sid(), %zxid, "learner: DIFF");
                self.follower().sync_mode = true;
            }
            (Phase::Syncing, ZabMsg::Trunc { zxid }) if !self.follower().sync_mode => {
                self.on_trunc(zxid, out)
            }
            (Phase::Syncing, ZabMsg::Snap { zxid, state }) if !self.follower().sync_mode => {
                self.on_snap(zxid, state, out)
            }
            (
                Phase::Syncing | Phase::NewLeaderPending | Phase::AwaitUpToDate | Phase::Broadcast,
                ZabMsg::Proposal { zxid, txn },
            ) if self.follower().sync_mode => self.on_proposal(now, zxid, txn, out),
            (
                Phase::Syncing | Phase::NewLeaderPending | Phase::AwaitUpToDate,
                ZabMsg::Commit { zxid },
            ) => {
                let f = self.follower();
                f.sync_commit = f.sync_commit.max(zxid);
            }
            (Phase::Broadcast, ZabMsg::Commit { zxid }) => self.on_commit(zxid, out),
            (Phase::Broadcast, ZabMsg::Inform { zxid, txn }) if self.follower().observer => {
                self.on_proposal(now, zxid, txn, out);
                if self.last_logged_zxid() == zxid {
                    self.commit_to(zxid, out);
                }
            }
            (Phase::Syncing, ZabMsg::NewLeader { zxid }) if self.follower().sync_mode => {
                self.on_new_leader(zxid, out)
            }
            (Phase::AwaitUpToDate, ZabMsg::UpToDate) => self.on_up_to_date(out),
            (_, ZabMsg::Ping { zxid }) => {
                let leader = self.follower().leader;
                out.push(Action::Send {
                    to: leader,
                    msg: ZabMsg::Ping { zxid },
                });
            }
            (phase, msg) => {
                warn!(sid = %self.sid(), ?phase, kind = msg.kind(), "learner: unexpected packet: leaving the leader");
                self.go_looking(format!("unexpected {} in {phase:?}", msg.kind()), out);
            }
        }
    }

    fn on_leader_info(&mut self, epoch: Epoch, out: &mut Vec<Action>) {
        let leader = self.follower().leader;
        let current_epoch = if epoch > self.accepted_epoch {
            let reported = self.current_epoch;
            if self.config.is(Mutant::CurrentEpochAtLeaderInfo) {
                self.current_epoch = epoch;
                out.push(Action::PersistCurrentEpoch(epoch));
            }
            self.accepted_epoch = epoch;
            out.push(Action::PersistAcceptedEpoch(epoch));
            Some(reported)
        } else if epoch == self.accepted_epoch {
            // We already accepted this epoch (from this leader before a reconnect, or another
            // one): our ACKEPOCH must not be counted a second time.
            None
        } else {
            self.go_looking(
                format!(
                    "LEADERINFO epoch {epoch} below our acceptedEpoch {}",
                    self.accepted_epoch
                ),
                out,
            );
            return;
        };
        info!(sid = %self.sid(), %leader, %epoch, "learner: accepted epoch, ACKEPOCH");
        let f = self.follower();
        f.epoch = Some(epoch);
        f.phase = Phase::Syncing;
        out.push(Action::Send {
            to: leader,
            msg: ZabMsg::AckEpoch {
                current_epoch,
                last_zxid: self.last_logged_zxid(),
            },
        });
    }

    fn on_trunc(&mut self, zxid: Zxid, out: &mut Vec<Action>) {
        if zxid < self.snapshot_zxid || zxid < self.committed {
            self.go_looking(
                format!("TRUNC to {zxid} below our snapshot or commits"),
                out,
            );
            return;
        }
        info!(sid = %self.sid(), %zxid, "learner: TRUNC");
        self.follower().sync_mode = true;
        self.truncate(zxid, out);
    }

    fn on_snap(&mut self, zxid: Zxid, state: Vec<u8>, out: &mut Vec<Action>) {
        info!(sid = %self.sid(), %zxid, "learner: SNAP");
        self.follower().sync_mode = true;
        if self.config.is(Mutant::SnapClearsLogFirst) {
            self.truncate(Zxid::ZERO, out);
        }
        self.log.clear();
        self.snapshot_zxid = zxid;
        self.committed = self.committed.min(zxid);
        self.persisted = self.persisted.min(zxid);
        self.pending_writes.push_back(zxid);
        out.push(Action::ApplySnapshot { zxid, state });
    }

    fn on_proposal(&mut self, now: Millis, zxid: Zxid, txn: Vec<u8>, out: &mut Vec<Action>) {
        let _ = now;
        let last = self.last_logged_zxid();
        if zxid <= last {
            debug!(sid = %self.sid(), %zxid, "learner: proposal already logged");
            return;
        }
        let follows = if zxid.epoch() == last.epoch() {
            zxid.counter() == last.counter() + 1
        } else {
            zxid.counter() == 1
        };
        if !follows && !self.config.is(Mutant::FollowerAcceptsGaps) {
            self.go_looking(
                format!("proposal {zxid} does not follow our last zxid {last}"),
                out,
            );
            return;
        }
        self.append(vec![Entry { zxid, txn }], out);
    }

    fn on_commit(&mut self, zxid: Zxid, out: &mut Vec<Action>) {
        if zxid > self.last_logged_zxid()
            || (zxid > self.snapshot_zxid && self.entry(zxid).is_none())
        {
            self.go_looking(format!("COMMIT {zxid} of a proposal we do not have"), out);
            return;
        }
        self.commit_to(zxid, out);
    }

    fn on_new_leader(&mut self, zxid: Zxid, out: &mut Vec<Action>) {
        let f = self.follower();
        if Some(zxid.epoch()) != f.epoch || zxid.counter() != 0 {
            let epoch = f.epoch;
            self.go_looking(
                format!("NEWLEADER {zxid} does not match epoch {epoch:?}"),
                out,
            );
            return;
        }
        if zxid.epoch() < self.accepted_epoch {
            self.go_looking(format!("NEWLEADER {zxid} below acceptedEpoch"), out);
            return;
        }
        let mark = self.last_logged_zxid();
        let f = self.follower();
        f.newleader_mark = Some(mark);
        // Proposals above the last COMMIT of the stream were outstanding at the leader: they
        // are ACKed once durable, like any later proposal.
        f.acked = f.sync_commit.min(mark);
        f.phase = Phase::NewLeaderPending;
        if self.config.is(Mutant::CurrentEpochBeforeDurable) {
            self.current_epoch = zxid.epoch();
            out.push(Action::PersistCurrentEpoch(zxid.epoch()));
        }
        self.try_ack_new_leader(out);
    }

    /// ACKs NEWLEADER once the synced history is durable: first currentEpoch, then the ACK.
    fn try_ack_new_leader(&mut self, out: &mut Vec<Action>) {
        if self.follower().phase != Phase::NewLeaderPending {
            return;
        }
        if !self.all_durable() && !self.config.is(Mutant::AckNewLeaderBeforeDurable) {
            return;
        }
        let f = self.follower();
        let epoch = f.epoch.expect("NEWLEADER after LEADERINFO");
        let leader = f.leader;
        f.phase = Phase::AwaitUpToDate;
        if self.current_epoch != epoch {
            self.current_epoch = epoch;
            out.push(Action::PersistCurrentEpoch(epoch));
        }
        info!(sid = %self.sid(), %epoch, "learner: synced history durable, ACK NEWLEADER");
        out.push(Action::Send {
            to: leader,
            msg: ZabMsg::Ack {
                zxid: Zxid::new(epoch, 0),
            },
        });
        self.ack_durable_proposals(out);
    }

    fn on_up_to_date(&mut self, out: &mut Vec<Action>) {
        let f = self.follower();
        f.phase = Phase::Broadcast;
        f.up_to_date = true;
        let epoch = f.epoch.expect("UPTODATE after LEADERINFO");
        // Only what the leader said is committed: the proposals it had outstanding came in
        // the stream too, without a COMMIT.
        let upto = f.sync_commit;
        info!(sid = %self.sid(), %epoch, "learner: UPTODATE, serving clients");
        let upto = upto.min(self.last_logged_zxid());
        self.commit_to(upto, out);
        out.push(Action::ServeClients { epoch });
    }

    pub(crate) fn follower_on_persisted(&mut self, _now: Millis, out: &mut Vec<Action>) {
        self.try_ack_new_leader(out);
        self.ack_durable_proposals(out);
    }

    /// ACKs the proposals after NEWLEADER that are now durable (followers only), with one
    /// cumulative ACK: an ACK of `z` says the whole log up to `z` is durable here, which holds
    /// because the log has no gap (a proposal that does not follow the last one is refused).
    fn ack_durable_proposals(&mut self, out: &mut Vec<Action>) {
        let persisted = self.persisted;
        let f = self.follower();
        if f.observer || !matches!(f.phase, Phase::AwaitUpToDate | Phase::Broadcast) {
            return;
        }
        let (leader, from) = (f.leader, f.acked);
        // The log is in zxid order: the newest durable entry by binary search, not by a scan
        // of the whole log for every durable write.
        let end = self.log.partition_point(|e| e.zxid <= persisted);
        let Some(last) = end.checked_sub(1).map(|i| self.log[i].zxid) else {
            return;
        };
        if last <= from {
            return;
        }
        self.follower().acked = last;
        out.push(Action::Send {
            to: leader,
            msg: ZabMsg::Ack { zxid: last },
        });
    }
}
