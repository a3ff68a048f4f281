//! One seeded Zab run: FastLeaderElection plus zk-sync on a world drawn from the seed, client
//! writes at random, a fault phase of crashes, restarts and partitions, then a quiet phase in
//! which an established leader must commit a last write on a quorum.

use core::fmt;
use std::collections::BTreeMap;
use std::sync::Arc;

use zk_elect::QuorumVerifier;
use zk_proto::Sid;
use zk_sync::ZabConfig;

use super::cluster::{ConfigFactory, Timing, ZabCluster};
use crate::invariants::Violation;
use crate::rng::SplitMix64;
use crate::world::{FaultKind, World};

/// How long a run may take after faults stop for a leader to establish and commit.
pub const LIVENESS_BOUND_MS: u64 = 300_000;
/// The longest fault phase (the world's is capped to keep the CI sweep within seconds).
pub const FAULT_PHASE_MS_MAX: u64 = 30_000;

/// What a Zab run produced.
#[derive(Clone, Debug)]
pub struct ZabReport {
    /// The seed.
    pub seed: u64,
    /// A hash of every event of the run: equal hashes, equal runs.
    pub trace_hash: u64,
    /// Client writes proposed.
    pub proposed: u64,
    /// Transactions delivered by the most advanced server.
    pub delivered: usize,
    /// Epochs in which a leader was established.
    pub epochs: usize,
    /// Packets delivered.
    pub messages: u64,
    /// Virtual time at the end.
    pub end_ms: u64,
    /// The first broken invariant.
    pub violation: Option<Violation>,
    /// The world, in one line.
    pub world: String,
}

impl fmt::Display for ZabReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed {}: trace hash 0x{:016x}, {} writes proposed, {} delivered, {} epochs established, {} packets, ended at {} ms",
            self.seed, self.trace_hash, self.proposed, self.delivered, self.epochs, self.messages, self.end_ms
        )
    }
}

/// The simulator's Zab settings: ZooKeeper's limits on a 1 s tick.
pub fn sim_config(sid: Sid, quorum: &QuorumVerifier, commit_log_count: usize) -> ZabConfig {
    let mut config = ZabConfig::new(sid, quorum.clone());
    config.tick_ms = 1_000;
    config.commit_log_count = commit_log_count;
    config
}

const HOOK_FAULT: u64 = 1;
const HOOK_WRITE: u64 = 2;
const HOOK_QUIET: u64 = 3;

/// Runs Zab in the world of `seed` with the simulator's settings.
pub fn run_zab_seed(seed: u64) -> ZabReport {
    run_zab_seed_with(seed, Arc::new(|config| config))
}

/// Runs Zab in the world of `seed`, letting `adjust` change each server's settings (mutants).
pub fn run_zab_seed_with(seed: u64, adjust: Arc<dyn Fn(ZabConfig) -> ZabConfig>) -> ZabReport {
    let world = World::draw(seed);
    let mut rng = SplitMix64::new(seed ^ 0x7ab_d21f);
    let commit_log_count = rng.pick(&[2, 10, 500]);
    let delay_ms_max = rng.pick(&[1, 10, 50]);
    let fsync_ms_max = rng.pick(&[1, 5, 20, 300]);
    let timing = Timing {
        delay_ms_min: 1,
        delay_ms_max,
        fsync_ms_min: 1,
        fsync_ms_max,
    };
    let observers = world.observers();
    let factory: ConfigFactory =
        Box::new(move |sid, quorum| adjust(sim_config(sid, quorum, commit_log_count)));
    let mut cluster = ZabCluster::new(
        seed,
        world.quorum.clone(),
        &observers,
        factory,
        timing,
        true,
    );
    let sids = cluster.sids();
    let mut boot_order = sids.clone();
    rng.shuffle(&mut boot_order);
    for sid in boot_order {
        cluster.boot(sid);
        let gap = rng.range(0, 300);
        cluster.run_for(gap);
    }
    let fault_phase_ms = world.faults.fault_phase_ms.min(FAULT_PHASE_MS_MAX);
    let quiet_at_ms = cluster.now_ms() + fault_phase_ms;
    let write_gap_ms_max = rng.pick(&[100, 400, 1_500]);
    let fault_gap_ms_mean = world.faults.fault_interval_ms_mean.max(500);
    if fault_phase_ms > 0 {
        cluster.schedule_hook(
            cluster.now_ms() + rng.range(1, 2 * fault_gap_ms_mean),
            HOOK_FAULT,
        );
    }
    cluster.schedule_hook(
        cluster.now_ms() + rng.range(1, write_gap_ms_max),
        HOOK_WRITE,
    );
    cluster.schedule_hook(quiet_at_ms, HOOK_QUIET);
    let mut proposed = 0u64;
    let mut faults_on = fault_phase_ms > 0;
    let end_ms = quiet_at_ms + LIVENESS_BOUND_MS;
    let mut final_writes: Vec<Vec<u8>> = Vec::new();
    let mut outcome: Result<(), Violation> = Ok(());
    loop {
        let done = cluster.run_until(end_ms, |c| {
            final_writes.iter().any(|txn| {
                let holders = c
                    .sids()
                    .into_iter()
                    .filter(|&s| c.delivered(s).iter().any(|e| &e.txn == txn));
                c.quorum_contains(holders)
            })
        });
        if done || cluster.violation.is_some() {
            break;
        }
        if cluster.due_hooks.is_empty() {
            outcome = Err(Violation {
                invariant: "Settles",
                detail: format!(
                    "no write committed on a quorum {LIVENESS_BOUND_MS} ms after faults stopped (leader {:?}, final write proposed: {})\n{}",
                    cluster.established_leader(),
                    !final_writes.is_empty(),
                    cluster.describe()
                ),
            });
            break;
        }
        for hook in std::mem::take(&mut cluster.due_hooks) {
            let now = cluster.now_ms();
            match hook {
                HOOK_FAULT if faults_on => {
                    inject_fault(&mut cluster, &mut rng, &world, &sids);
                    cluster.schedule_hook(now + rng.range(1, 2 * fault_gap_ms_mean), HOOK_FAULT);
                }
                HOOK_WRITE if final_writes.is_empty() => {
                    let txn = format!("w{proposed}").into_bytes();
                    if cluster.propose(txn) {
                        proposed += 1;
                    }
                    cluster.schedule_hook(now + rng.range(1, write_gap_ms_max), HOOK_WRITE);
                }
                HOOK_QUIET => {
                    faults_on = false;
                    cluster.heal();
                    for &sid in &sids {
                        if !cluster.is_up(sid) {
                            cluster.boot(sid);
                        }
                    }
                    // From here on the run waits for one last write to commit on a quorum.
                    cluster.schedule_hook(now + 1, 4);
                }
                4 => {
                    // A client retrying: a write handed to a leader that is about to step down
                    // is lost, as ZooKeeper's clients see a connection loss.
                    let txn = format!("final{proposed}").into_bytes();
                    if cluster.propose(txn.clone()) {
                        proposed += 1;
                        final_writes.push(txn);
                        cluster.schedule_hook(now + 5_000, 4);
                    } else {
                        cluster.schedule_hook(now + 500, 4);
                    }
                }
                _ => {}
            }
        }
    }
    let violation = cluster.violation.clone().or(outcome.err());
    ZabReport {
        seed,
        trace_hash: cluster.trace_hash(),
        proposed,
        delivered: cluster.ghost.delivered_ever.len(),
        epochs: cluster.ghost.established.len(),
        messages: cluster.messages,
        end_ms: cluster.now_ms(),
        violation,
        world: format!(
            "{} servers (observers {:?}, {} quorum), fault phase {fault_phase_ms} ms, delay 1..={delay_ms_max} ms, fsync 1..={fsync_ms_max} ms, commitLogCount {commit_log_count}, write gap up to {write_gap_ms_max} ms",
            world.servers.len(),
            observers.iter().map(|s| s.0).collect::<Vec<_>>(),
            match world.quorum {
                QuorumVerifier::Majority(_) => "majority",
                QuorumVerifier::Hierarchical(_) => "hierarchical",
            },
        ),
    }
}

fn inject_fault(cluster: &mut ZabCluster, rng: &mut SplitMix64, world: &World, sids: &[Sid]) {
    match world.faults.draw(rng) {
        FaultKind::Crash => {
            let up: Vec<Sid> = sids.iter().copied().filter(|&s| cluster.is_up(s)).collect();
            // Half the crashes hit a server whose disk is behind its memory, where the
            // durability rules matter.
            let behind: Vec<Sid> = up
                .iter()
                .copied()
                .filter(|&s| cluster.has_pending_writes(s))
                .collect();
            if !behind.is_empty() && rng.chance(500) {
                cluster.crash(rng.pick(&behind));
            } else if !up.is_empty() {
                cluster.crash(rng.pick(&up));
            }
        }
        FaultKind::Restart => {
            let down: Vec<Sid> = sids
                .iter()
                .copied()
                .filter(|&s| !cluster.is_up(s))
                .collect();
            if !down.is_empty() {
                cluster.boot(rng.pick(&down));
            }
        }
        FaultKind::Partition => {
            let sides: BTreeMap<Sid, u8> =
                sids.iter().map(|&s| (s, rng.range(0, 1) as u8)).collect();
            cluster.partition(&sides);
        }
        FaultKind::Heal => cluster.heal(),
    }
}
