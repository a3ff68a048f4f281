//! Virtual-time benchmarks of all three algorithms side by side: time and messages to elect a
//! leader for 3, 5, 7 and 9 servers, from a cold start and after the leader crashes.
//!
//! Same setting as [`crate::bench`]: a lossless network with a fixed one-way delay of
//! [`DELAY_MS`]; every server starts at once (cold start: empty databases; after the crash the
//! survivors start again with equal databases). A message is one datagram or one notification;
//! AuthFastLeaderElection is measured with keys (challenge request, challenge, notification and
//! ack per exchange).

use std::fmt::Write;

use zk_elect::testkit::LocalNet;
use zk_elect::{Election, QuorumVerifier};
use zk_proto::{Epoch, Sid, Zxid};

use crate::algorithms::{auth_fle_factory, le_factory, Algorithm, AuthMode};
use crate::bench::{run, Figures, DELAY_MS};
use crate::world::World;

/// Cold start, then a leader crash, for `size` servers built by `factory`.
pub fn measure<E: Election>(
    size: u64,
    factory: &dyn Fn(Sid, &QuorumVerifier) -> E,
    connections: bool,
) -> (Figures, Figures) {
    let sids: Vec<Sid> = (1..=size).map(Sid).collect();
    let quorum = QuorumVerifier::majority(sids.clone()).expect("non-empty");
    let machines = sids
        .iter()
        .map(|&sid| (sid, factory(sid, &quorum)))
        .collect();
    let mut net = LocalNet::new(machines, sids.clone(), DELAY_MS);
    for &sid in &sids {
        net.start(sid, Zxid::ZERO, Epoch(0));
    }
    let cold = run(&mut net, &sids, 0, 0);
    net.run_to(net.now() + 1_000);
    let leader = sids
        .iter()
        .copied()
        .find(|&sid| net.outcome(sid).is_some_and(|o| o.vote.leader == sid))
        .expect("a leader");
    net.crash(leader);
    let crash_ms = net.now().0;
    let before = net.messages_sent();
    let survivors: Vec<Sid> = sids.iter().copied().filter(|&sid| sid != leader).collect();
    // Over TCP (FastLeaderElection) the crash breaks the leader's connections and every
    // survivor's transport reports it; datagrams tell nobody anything.
    if connections {
        for &sid in &survivors {
            net.peer_down(sid, leader);
        }
    }
    for &sid in &survivors {
        net.start(sid, Zxid::new(Epoch(1), 100), Epoch(1));
    }
    let crash = run(&mut net, &survivors, crash_ms, before);
    (cold, crash)
}

/// The figures of `algorithm` for `size` servers.
pub fn figures(algorithm: Algorithm, size: u64) -> (Figures, Figures) {
    // The factories only read the world's seed and observers: a world without observers.
    let mut world = World::draw(0);
    world.seed = size;
    for spec in world.servers.values_mut() {
        spec.observer = false;
    }
    match algorithm {
        Algorithm::LeaderElection => measure(size, &le_factory(&world), false),
        Algorithm::AuthFastLeaderElection => {
            measure(size, &auth_fle_factory(&world, AuthMode::Keyed), false)
        }
        Algorithm::FastLeaderElection => measure(size, &crate::fle_factory, true),
    }
}

/// The table `zk-sim bench` prints after FastLeaderElection's own.
pub fn report() -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "All algorithms, virtual time, lossless network, one-way delay {DELAY_MS} ms"
    );
    let _ = writeln!(
        text,
        "{:>9} | {:>7} | {:>16} | {:>16}",
        "algorithm", "servers", "cold start", "leader crash"
    );
    let _ = writeln!(
        text,
        "{:>9} | {:>7} | {:>16} | {:>16}",
        "", "", "ms / messages", "ms / messages"
    );
    for algorithm in Algorithm::ALL {
        for size in [3u64, 5, 7, 9] {
            let (cold, crash) = figures(algorithm, size);
            let _ = writeln!(
                text,
                "{:>9} | {size:>7} | {:>16} | {:>16}",
                algorithm.name(),
                cold.to_string(),
                crash.to_string(),
            );
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_elects_from_cold_and_after_a_crash_within_a_few_rounds() {
        // Generous bounds that still catch a stall: LeaderElection needs a round interval (1 s)
        // and a few polls; the fast algorithms a finalize wait and a few round trips.
        for algorithm in Algorithm::ALL {
            for size in [3, 5, 7, 9] {
                let (cold, crash) = figures(algorithm, size);
                let bound_ms = match algorithm {
                    Algorithm::LeaderElection => 2 * 1_000 + 2 * size * 200,
                    _ => 1_000,
                };
                assert!(cold.elapsed_ms <= bound_ms, "{algorithm} {size}: {cold:?}");
                assert!(
                    crash.elapsed_ms <= bound_ms,
                    "{algorithm} {size}: {crash:?}"
                );
            }
        }
    }
}
