//! A world: everything a seed decides before the run (TigerBeetle's swarm testing): cluster size,
//! observers, the quorum system, each server's database, the network's behaviour, clock rates and
//! how violent the fault phase is.

use std::collections::BTreeMap;

use zk_elect::{HierarchicalQuorum, QuorumVerifier};
use zk_proto::{Epoch, Sid, Zxid};

use crate::rng::SplitMix64;

/// One server of the world.
#[derive(Clone, Debug)]
pub struct ServerSpec {
    /// Its id.
    pub sid: Sid,
    /// Whether it is an observer (never votes, never elected).
    pub observer: bool,
    /// The last zxid in its log (fixed for the run: the election alone never changes it).
    pub last_zxid: Zxid,
    /// Its current epoch.
    pub peer_epoch: Epoch,
    /// How fast its clock runs, in thousandths of real time (1000 = exact).
    pub clock_rate_per_mille: u64,
    /// When it first starts, in virtual milliseconds.
    pub start_at_ms: u64,
}

/// Network behaviour while faults are on (after the fault phase only the delay remains).
#[derive(Clone, Debug)]
pub struct NetworkSpec {
    /// Smallest one-way delay.
    pub delay_ms_min: u64,
    /// Largest one-way delay (random delays reorder messages).
    pub delay_ms_max: u64,
    /// Chance that a message is lost, in thousandths.
    pub loss_per_mille: u64,
    /// Chance that a message is delivered twice, in thousandths.
    pub duplicate_per_mille: u64,
}

/// How the fault phase behaves.
#[derive(Clone, Debug)]
pub struct FaultSpec {
    /// How long the fault phase lasts; afterwards partitions heal, crashed servers restart and
    /// the network stops losing and duplicating.
    pub fault_phase_ms: u64,
    /// Mean time between two faults.
    pub fault_interval_ms_mean: u64,
    /// Relative weights of crash, restart, partition and heal.
    pub crash_weight: u64,
    /// See `crash_weight`.
    pub restart_weight: u64,
    /// See `crash_weight`.
    pub partition_weight: u64,
    /// See `crash_weight`.
    pub heal_weight: u64,
}

/// One fault of the fault phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// A live server crashes.
    Crash,
    /// A crashed server restarts.
    Restart,
    /// The servers are split into two sides.
    Partition,
    /// Every partition heals.
    Heal,
}

impl FaultSpec {
    /// Draws the next fault, each kind with a chance proportional to its weight (a crash when
    /// every weight is zero). Takes exactly one number from `rng`.
    pub fn draw(&self, rng: &mut SplitMix64) -> FaultKind {
        let kinds = [
            (FaultKind::Crash, self.crash_weight),
            (FaultKind::Restart, self.restart_weight),
            (FaultKind::Partition, self.partition_weight),
            (FaultKind::Heal, self.heal_weight),
        ];
        let total: u64 = kinds.iter().map(|&(_, weight)| weight).sum();
        let mut pick = rng.range(0, total.max(1) - 1);
        for (kind, weight) in kinds {
            if pick < weight {
                return kind;
            }
            pick -= weight;
        }
        FaultKind::Crash
    }
}

/// Everything a seed decides.
#[derive(Clone, Debug)]
pub struct World {
    /// The seed it was drawn from.
    pub seed: u64,
    /// The servers, by sid.
    pub servers: BTreeMap<Sid, ServerSpec>,
    /// The quorum system.
    pub quorum: QuorumVerifier,
    /// The network.
    pub network: NetworkSpec,
    /// The faults.
    pub faults: FaultSpec,
}

impl World {
    /// Draws a world from `seed`.
    pub fn draw(seed: u64) -> World {
        let mut rng = SplitMix64::new(seed ^ 0x05ee_d0fa_3e1d);
        let size = rng.range(1, 9);
        let observer_count = if size >= 3 {
            rng.range(0, 2.min(size - 2))
        } else {
            0
        };
        let mut sids: Vec<Sid> = (1..=size).map(Sid).collect();
        rng.shuffle(&mut sids);
        let observers: Vec<Sid> = sids[..observer_count as usize].to_vec();
        let mut voters: Vec<Sid> = sids[observer_count as usize..].to_vec();
        voters.sort();
        let skew_per_mille = rng.pick(&[0, 0, 100, 250, 500]);
        let servers = (1..=size)
            .map(Sid)
            .map(|sid| {
                let peer_epoch = rng.range(0, 2);
                let zxid_epoch = rng.range(0, peer_epoch);
                let spec = ServerSpec {
                    sid,
                    observer: observers.contains(&sid),
                    last_zxid: Zxid::new(Epoch(zxid_epoch), rng.range(0, 3) as u32),
                    peer_epoch: Epoch(peer_epoch),
                    clock_rate_per_mille: rng
                        .range(1000 - skew_per_mille, 1000 + 2 * skew_per_mille),
                    start_at_ms: rng.range(0, 2000),
                };
                (sid, spec)
            })
            .collect();
        let quorum = if voters.len() >= 3 && rng.chance(300) {
            hierarchical(&mut rng, &voters)
        } else {
            QuorumVerifier::majority(voters).expect("at least one voter")
        };
        let delay_ms_min = rng.range(1, 5);
        let network = NetworkSpec {
            delay_ms_min,
            delay_ms_max: delay_ms_min + rng.pick(&[0, 10, 100, 500]),
            loss_per_mille: if rng.chance(300) {
                0
            } else {
                rng.range(0, 200)
            },
            duplicate_per_mille: if rng.chance(500) {
                0
            } else {
                rng.range(0, 100)
            },
        };
        let faults = FaultSpec {
            fault_phase_ms: if rng.chance(100) {
                0
            } else {
                rng.range(1_000, 120_000)
            },
            fault_interval_ms_mean: rng.pick(&[100, 500, 2_000, 10_000]),
            crash_weight: rng.range(0, 3),
            restart_weight: rng.range(1, 3),
            partition_weight: rng.range(0, 3),
            heal_weight: rng.range(1, 3),
        };
        World {
            seed,
            servers,
            quorum,
            network,
            faults,
        }
    }

    /// Whether `sid` is an observer.
    pub fn is_observer(&self, sid: Sid) -> bool {
        self.servers[&sid].observer
    }

    /// The observers, in sid order.
    pub fn observers(&self) -> Vec<Sid> {
        self.servers
            .values()
            .filter(|s| s.observer)
            .map(|s| s.sid)
            .collect()
    }

    /// A one-line description, for failure reports.
    pub fn summary(&self) -> String {
        let observers: Vec<u64> = self.observers().iter().map(|s| s.0).collect();
        let kind = match self.quorum {
            QuorumVerifier::Majority(_) => "majority",
            QuorumVerifier::Hierarchical(_) => "hierarchical",
        };
        format!(
            "{} servers (observers {:?}, {kind} quorum), delay {}..={} ms, loss {}‰, duplication {}‰, fault phase {} ms",
            self.servers.len(),
            observers,
            self.network.delay_ms_min,
            self.network.delay_ms_max,
            self.network.loss_per_mille,
            self.network.duplicate_per_mille,
            self.faults.fault_phase_ms,
        )
    }
}

/// Splits the voters into two or three groups with weights 0 to 2 (at least one weighs more).
fn hierarchical(rng: &mut SplitMix64, voters: &[Sid]) -> QuorumVerifier {
    let group_count = rng.range(2, 3.min(voters.len() as u64));
    let mut shuffled = voters.to_vec();
    rng.shuffle(&mut shuffled);
    let mut groups: BTreeMap<u64, Vec<Sid>> = BTreeMap::new();
    for (i, sid) in shuffled.iter().enumerate() {
        groups
            .entry(i as u64 % group_count + 1)
            .or_default()
            .push(*sid);
    }
    let mut weights = BTreeMap::new();
    for &sid in voters {
        if rng.chance(250) {
            weights.insert(sid, rng.pick(&[0, 2]));
        }
    }
    match HierarchicalQuorum::new(&groups, &weights) {
        Ok(quorum) => QuorumVerifier::Hierarchical(quorum),
        Err(_) => QuorumVerifier::Hierarchical(
            HierarchicalQuorum::new(&groups, &BTreeMap::new()).expect("weights of 1 always work"),
        ),
    }
}
