//! The simulator on FastLeaderElection: replays are exact, a sweep of seeds holds every
//! invariant, and deliberately broken variants are caught within the CI seed budget.

use zk_elect::QuorumVerifier;
use zk_fle::{FastLeaderElection, FleConfig, Mutant};
use zk_proto::Sid;
use zk_sim::{run_fle_seed, run_seed, SimOptions};

#[test]
fn a_seed_replays_to_the_same_trace_hash() {
    let options = SimOptions::default();
    for seed in [0, 7, 1234] {
        let first = run_fle_seed(seed, &options);
        let second = run_fle_seed(seed, &options);
        assert_eq!(first.trace_hash, second.trace_hash, "seed {seed}");
        assert_eq!(first.events, second.events, "seed {seed}");
    }
    assert_ne!(
        run_fle_seed(1, &options).trace_hash,
        run_fle_seed(2, &options).trace_hash
    );
}

#[test]
fn a_sweep_of_seeds_holds_every_invariant() {
    let options = SimOptions::default();
    let mut decisions = 0;
    for seed in 0..300 {
        let report = run_fle_seed(seed, &options);
        assert!(
            report.violation.is_none(),
            "seed {seed}: {:?} ({})",
            report.violation,
            report.world
        );
        assert!(
            report.settle_ms.is_some(),
            "seed {seed} ended without settling"
        );
        decisions += report.decisions;
    }
    assert!(decisions >= 300, "every seed elects at least once");
}

/// The first failing seed below the CI budget (2000 seeds) with `mutant`, and its invariant.
fn first_failure(mutant: Mutant) -> Option<(u64, &'static str)> {
    let factory = move |sid: Sid, quorum: &QuorumVerifier| {
        let mut config = FleConfig::new(sid, quorum.clone());
        config.mutant = Some(mutant);
        FastLeaderElection::new(config)
    };
    let options = SimOptions::default();
    (0..2000).find_map(|seed| {
        let report = run_seed(seed, &options, &factory);
        report
            .violation
            .map(|violation| (seed, violation.invariant))
    })
}

#[test]
fn a_broken_vote_order_is_caught_within_the_ci_budget() {
    let (seed, invariant) = first_failure(Mutant::VoteOrderPrefersLowerZxid).expect("caught");
    assert_eq!(invariant, "LeaderNotBehind", "seed {seed}");
}

#[test]
fn a_broken_quorum_count_is_caught_within_the_ci_budget() {
    let (seed, invariant) = first_failure(Mutant::HalfIsAQuorum).expect("caught");
    assert_eq!(invariant, "QuorumBacked", "seed {seed}");
}
