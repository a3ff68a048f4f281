//! Virtual-time benchmarks: how long FastLeaderElection takes, and how many messages it sends,
//! to elect a leader for 3, 5, 7 and 9 servers, from a cold start and after the leader crashes.
//!
//! The network is lossless with a fixed one-way delay ([`DELAY_MS`]); "after the leader crashes"
//! is measured from the moment the followers notice (they all start a new election; in the
//! staggered variant each notices at a random time within one round trip).
//! The common-case target is finalize wait (200 ms) + 2 round trips. Staggered starts can cost a
//! re-send or two more: a follower that notices late has already answered the first
//! notifications as FOLLOWING, and the holder of the best vote stays silent until it re-sends.

use std::fmt::Write;

use zk_elect::testkit::LocalNet;
use zk_elect::{Election, Millis, QuorumVerifier};
use zk_fle::{FastLeaderElection, FleConfig};
use zk_proto::{Epoch, Sid, Zxid};

use crate::rng::SplitMix64;

/// One-way network delay of the benchmarks.
pub const DELAY_MS: u64 = 5;

/// Time and messages of one election.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Figures {
    /// Virtual time from the first `Start` until every live server decided.
    pub elapsed_ms: u64,
    /// Point-to-point messages sent meanwhile.
    pub messages: u64,
}

impl std::fmt::Display for Figures {
    /// `ms / messages`, as the benchmark tables print one election.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.elapsed_ms, self.messages)
    }
}

fn cluster(size: u64) -> LocalNet<FastLeaderElection> {
    let sids: Vec<Sid> = (1..=size).map(Sid).collect();
    let quorum = QuorumVerifier::majority(sids.clone()).expect("non-empty");
    let machines = sids
        .iter()
        .map(|&sid| {
            (
                sid,
                FastLeaderElection::new(FleConfig::new(sid, quorum.clone())),
            )
        })
        .collect();
    LocalNet::new(machines, sids, DELAY_MS)
}

/// Runs `net` until every server of `sids` decided; the figures count from `start_ms` and from
/// `messages_before` messages sent.
pub(crate) fn run<E: Election>(
    net: &mut LocalNet<E>,
    sids: &[Sid],
    start_ms: u64,
    messages_before: u64,
) -> Figures {
    let decided = net.run_until(Millis(start_ms + 600_000), |net| {
        sids.iter().all(|&sid| net.outcome(sid).is_some())
    });
    assert!(decided, "a lossless network always elects");
    Figures {
        elapsed_ms: net.now().since(Millis(start_ms)),
        messages: net.messages_sent() - messages_before,
    }
}

/// Cold start: every server starts at time 0 with an empty database (`stagger_seed`: each
/// starts at a random time within one round trip instead).
pub fn cold_start(size: u64, stagger_seed: Option<u64>) -> (LocalNet<FastLeaderElection>, Figures) {
    let mut net = cluster(size);
    let sids: Vec<Sid> = (1..=size).map(Sid).collect();
    let starts = start_times(&sids, 0, stagger_seed);
    for (at, sid) in starts {
        net.run_to(Millis(at));
        net.start(sid, Zxid::ZERO, Epoch(0));
    }
    let figures = run(&mut net, &sids, 0, 0);
    (net, figures)
}

/// After a cold start, the leader crashes; the followers (all at the same zxid) elect again.
pub fn leader_crash(size: u64, stagger_seed: Option<u64>) -> Figures {
    let (mut net, _) = cold_start(size, None);
    let leader = Sid(size);
    net.run_to(net.now() + 1_000);
    net.crash(leader);
    let crash_ms = net.now().0;
    let before = net.messages_sent();
    let followers: Vec<Sid> = (1..size).map(Sid).collect();
    // The crash closes the leader's election connections; every follower's transport says so.
    for &sid in &followers {
        net.peer_down(sid, leader);
    }
    for (at, sid) in start_times(&followers, crash_ms, stagger_seed) {
        net.run_to(Millis(at));
        net.start(sid, Zxid::new(Epoch(1), 100), Epoch(1));
    }
    run(&mut net, &followers, crash_ms, before)
}

fn start_times(sids: &[Sid], base_ms: u64, stagger_seed: Option<u64>) -> Vec<(u64, Sid)> {
    let mut rng = stagger_seed.map(SplitMix64::new);
    let mut starts: Vec<(u64, Sid)> = sids
        .iter()
        .map(|&sid| {
            (
                base_ms + rng.as_mut().map_or(0, |rng| rng.range(0, 2 * DELAY_MS)),
                sid,
            )
        })
        .collect();
    starts.sort();
    starts
}

/// The benchmark table, as `zk-sim bench` prints it.
pub fn report() -> String {
    let mut text = String::new();
    let rtt = 2 * DELAY_MS;
    let _ = writeln!(text, "FastLeaderElection, virtual time, lossless network, one-way delay {DELAY_MS} ms (round trip {rtt} ms)");
    let _ = writeln!(
        text,
        "ZooKeeper after a leader crash: finalize wait 200 ms + 2 round trips = {} ms; here the wait ends once every voter still connected agrees",
        200 + 2 * rtt
    );
    let _ = writeln!(
        text,
        "{:>7} | {:>16} | {:>16} | {:>26} | {:>26}",
        "servers", "cold start", "leader crash", "cold start, staggered", "leader crash, staggered"
    );
    let _ = writeln!(
        text,
        "{:>7} | {:>16} | {:>16} | {:>26} | {:>26}",
        "",
        "ms / messages",
        "ms / messages",
        "mean ms (max) / messages",
        "mean ms (max) / messages"
    );
    for size in [3u64, 5, 7, 9] {
        let (_, cold) = cold_start(size, None);
        let crash = leader_crash(size, None);
        let staggered = |f: &dyn Fn(u64) -> Figures| {
            let runs: Vec<Figures> = (0..100).map(f).collect();
            let mean_ms = runs.iter().map(|r| r.elapsed_ms).sum::<u64>() / runs.len() as u64;
            let max_ms = runs.iter().map(|r| r.elapsed_ms).max().unwrap_or(0);
            let messages = runs.iter().map(|r| r.messages).sum::<u64>() / runs.len() as u64;
            format!("{mean_ms} ({max_ms}) / {messages}")
        };
        let cold_staggered = staggered(&|seed| cold_start(size, Some(seed)).1);
        let crash_staggered = staggered(&|seed| leader_crash(size, Some(seed)));
        let _ = writeln!(
            text,
            "{size:>7} | {:>16} | {:>16} | {cold_staggered:>26} | {crash_staggered:>26}",
            cold.to_string(),
            crash.to_string(),
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_leader_is_decided_within_finalize_wait_and_two_round_trips_after_a_crash() {
        for size in [3, 5, 7, 9] {
            let figures = leader_crash(size, None);
            assert!(
                figures.elapsed_ms <= 200 + 4 * DELAY_MS,
                "{size} servers: {figures:?}"
            );
        }
    }

    #[test]
    fn staggered_elections_still_decide_within_a_few_resends() {
        // A follower that notices the crash late has already answered the first notifications
        // as FOLLOWING, so the holder of the best vote stays silent until its first re-send.
        for size in [3, 5, 7, 9] {
            for seed in 0..20 {
                let figures = leader_crash(size, Some(seed));
                assert!(
                    figures.elapsed_ms <= 200 + 200 + 400 + 4 * DELAY_MS,
                    "{size} servers, seed {seed}: {figures:?}"
                );
            }
        }
    }
}
