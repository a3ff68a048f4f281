//! Zab's invariants, named after `Zab.tla` (PrefixConsistency, Integrity, Agreement,
//! TotalOrder, LocalPrimaryOrder, GlobalPrimaryOrder, PrimaryIntegrity) plus "one established
//! leader per epoch" and "no committed transaction lost", checked on ghost state the cluster
//! updates at every step that delivers, proposes, establishes, truncates or installs a snapshot.
//!
//! The ghost keeps every proposal any leader broadcast, the one sequence every delivered
//! sequence must be a prefix of, and the leader established in each epoch. Each server's
//! delivered sequence is per incarnation: a restarted server rebuilds its state by delivering
//! again from the start, and must deliver the same sequence.

use std::collections::BTreeMap;

use zk_proto::{Epoch, Sid, Zxid};
use zk_sync::Entry;

use crate::invariants::Violation;

/// Ghost state shared by every checker.
#[derive(Debug, Default)]
pub struct Ghost {
    /// Every proposal a leader broadcast: zxid to (leader, txn).
    pub broadcast: BTreeMap<Zxid, (Sid, Vec<u8>)>,
    /// The longest sequence any server delivered: all others must be its prefixes.
    pub delivered_ever: Vec<Entry>,
    /// The leader established in each epoch.
    pub established: BTreeMap<Epoch, Sid>,
}

/// The entry with `zxid` in a sequence sorted by zxid.
fn find(seq: &[Entry], zxid: Zxid) -> Option<&Entry> {
    seq.binary_search_by(|e| e.zxid.cmp(&zxid))
        .ok()
        .map(|i| &seq[i])
}

fn violation(invariant: &'static str, detail: String) -> Violation {
    Violation { invariant, detail }
}

impl Ghost {
    /// A leader broadcast a proposal. Checks PrimaryIntegrity (the leader delivered every
    /// transaction of an earlier epoch anyone delivered before proposing in its own epoch) and
    /// that a zxid is proposed once.
    pub fn on_broadcast(
        &mut self,
        leader: Sid,
        entry: &Entry,
        leader_delivered: &[Entry],
    ) -> Result<(), Violation> {
        let first_of_epoch = entry.zxid.counter() == 1;
        for earlier in self
            .delivered_ever
            .iter()
            .filter(|e| first_of_epoch && e.zxid.epoch() < entry.zxid.epoch())
        {
            if find(leader_delivered, earlier.zxid).is_none() {
                return Err(violation(
                    "PrimaryIntegrity",
                    format!("leader {leader} proposes {} without having delivered {} of an earlier epoch", entry.zxid, earlier.zxid),
                ));
            }
        }
        if let Some((other, _)) = self
            .broadcast
            .insert(entry.zxid, (leader, entry.txn.clone()))
        {
            return Err(violation(
                "Agreement",
                format!(
                    "zxid {} proposed twice (by {other} and {leader})",
                    entry.zxid
                ),
            ));
        }
        Ok(())
    }

    /// Server `sid` delivered `entry` at position `index` of its delivered sequence, whose
    /// earlier part is `before`.
    pub fn on_deliver(
        &mut self,
        sid: Sid,
        index: usize,
        entry: &Entry,
        before: &[Entry],
    ) -> Result<(), Violation> {
        // Integrity: only what a leader broadcast is delivered.
        match self.broadcast.get(&entry.zxid) {
            Some((_, txn)) if *txn == entry.txn => {}
            Some(_) => {
                return Err(violation(
                    "Agreement",
                    format!(
                        "{sid} delivers {} with a transaction that differs from the broadcast one",
                        entry.zxid
                    ),
                ))
            }
            None => {
                return Err(violation(
                    "Integrity",
                    format!("{sid} delivers {}, which no leader broadcast", entry.zxid),
                ))
            }
        }
        // TotalOrder and GlobalPrimaryOrder: a server delivers in zxid order, so epochs never go back.
        if let Some(last) = before.last() {
            if last.zxid >= entry.zxid {
                return Err(violation(
                    "TotalOrder",
                    format!("{sid} delivers {} after {}", entry.zxid, last.zxid),
                ));
            }
            if last.zxid.epoch() > entry.zxid.epoch() {
                return Err(violation(
                    "GlobalPrimaryOrder",
                    format!(
                        "{sid} delivers {} of an earlier epoch after {}",
                        entry.zxid, last.zxid
                    ),
                ));
            }
        }
        // LocalPrimaryOrder: everything its primary broadcast before it was delivered first.
        let epoch = entry.zxid.epoch();
        for (&zxid, _) in self.broadcast.range(Zxid::new(epoch, 0)..entry.zxid) {
            if find(before, zxid).is_none() {
                return Err(violation(
                    "LocalPrimaryOrder",
                    format!(
                        "{sid} delivers {} before {} of the same primary",
                        entry.zxid, zxid
                    ),
                ));
            }
        }
        // PrefixConsistency: every delivered sequence is a prefix of one sequence.
        match self.delivered_ever.get(index) {
            Some(same) if same == entry => {}
            Some(other) => {
                return Err(violation(
                    "PrefixConsistency",
                    format!(
                        "{sid} delivers {} at position {index}, where {} was delivered",
                        entry.zxid, other.zxid
                    ),
                ))
            }
            None => {
                if index != self.delivered_ever.len() {
                    return Err(violation(
                        "PrefixConsistency",
                        format!(
                            "{sid} delivers {} at position {index} past the end",
                            entry.zxid
                        ),
                    ));
                }
                self.delivered_ever.push(entry.clone());
            }
        }
        Ok(())
    }

    /// A leader of `epoch` became established with `history` in memory: it is the only one of
    /// its epoch, and it holds every transaction anyone delivered (no committed transaction lost).
    pub fn on_established(
        &mut self,
        leader: Sid,
        epoch: Epoch,
        history: &[Entry],
    ) -> Result<(), Violation> {
        if let Some(&other) = self.established.get(&epoch) {
            if other != leader {
                return Err(violation(
                    "OneEstablishedLeaderPerEpoch",
                    format!("{leader} and {other} both established epoch {epoch}"),
                ));
            }
        }
        self.established.insert(epoch, leader);
        self.check_holds_all(leader, "established leader", history)
    }

    /// A server dropped or replaced part of its history: it may not lose what was delivered.
    pub fn check_holds_all(
        &self,
        sid: Sid,
        what: &str,
        history: &[Entry],
    ) -> Result<(), Violation> {
        for delivered in &self.delivered_ever {
            if find(history, delivered.zxid) != Some(delivered) {
                return Err(violation(
                    "NoCommittedTransactionLost",
                    format!(
                        "{what} {sid} lacks delivered transaction {}",
                        delivered.zxid
                    ),
                ));
            }
        }
        Ok(())
    }
}
