//! Zab on the simulator: a sweep of seeds holds every Zab.tla invariant and commits after the
//! faults stop, and a seed replays to the same trace hash.

use zk_sim::zab::run_zab_seed;

#[test]
fn a_zab_seed_replays_to_the_same_trace_hash() {
    for seed in [0, 7, 1234] {
        let first = run_zab_seed(seed);
        let second = run_zab_seed(seed);
        assert_eq!(first.trace_hash, second.trace_hash, "seed {seed}");
    }
}

#[test]
fn a_sweep_of_zab_seeds_holds_every_invariant_and_commits() {
    let (mut proposed, mut epochs) = (0, 0);
    for seed in 0..100 {
        let report = run_zab_seed(seed);
        assert!(
            report.violation.is_none(),
            "{report}: {:?} ({})",
            report.violation,
            report.world
        );
        proposed += report.proposed;
        epochs += report.epochs;
    }
    assert!(
        proposed > 1_000,
        "the sweep exercised broadcast ({proposed} writes)"
    );
    assert!(
        epochs > 100,
        "the sweep exercised recovery ({epochs} epochs)"
    );
}

#[test]
fn the_zab_sweep_catches_a_snapshot_install_that_is_not_atomic() {
    let mutant = std::sync::Arc::new(|mut config: zk_sync::ZabConfig| {
        config.mutant = Some(zk_sync::Mutant::SnapClearsLogFirst);
        config
    });
    let caught = (0..200)
        .filter_map(|seed| zk_sim::zab::run::run_zab_seed_with(seed, mutant.clone()).violation)
        .next();
    assert!(caught.is_some(), "200 seeds did not catch the mutant");
}
