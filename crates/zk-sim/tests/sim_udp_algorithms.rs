//! The simulator on LeaderElection and AuthFastLeaderElection: replays are exact and a sweep of
//! seeds holds every invariant, under the fault model FastLeaderElection runs under.

use zk_sim::algorithms::{run_algorithm_seed, Algorithm, AuthMode};

const UDP_ALGORITHMS: [Algorithm; 2] =
    [Algorithm::LeaderElection, Algorithm::AuthFastLeaderElection];

#[test]
fn a_seed_replays_to_the_same_trace_hash() {
    for algorithm in UDP_ALGORITHMS {
        let options = algorithm.options();
        for seed in [0, 7, 1234] {
            let first = run_algorithm_seed(algorithm, seed, &options);
            let second = run_algorithm_seed(algorithm, seed, &options);
            assert_eq!(
                first.trace_hash, second.trace_hash,
                "{algorithm} seed {seed}"
            );
            assert_eq!(first.events, second.events, "{algorithm} seed {seed}");
        }
        let one = run_algorithm_seed(algorithm, 1, &options).trace_hash;
        assert_ne!(
            one,
            run_algorithm_seed(algorithm, 2, &options).trace_hash,
            "{algorithm}"
        );
    }
}

#[test]
fn a_sweep_of_seeds_holds_every_invariant_for_both_udp_algorithms() {
    for algorithm in UDP_ALGORITHMS {
        let options = algorithm.options();
        assert!(options.datagram, "{algorithm} runs over datagrams");
        let mut decisions = 0;
        for seed in 0..300 {
            let report = run_algorithm_seed(algorithm, seed, &options);
            assert!(
                report.violation.is_none(),
                "{algorithm} seed {seed}: {:?} ({})",
                report.violation,
                report.world
            );
            assert!(
                report.settle_ms.is_some(),
                "{algorithm} seed {seed} ended without settling"
            );
            decisions += report.decisions;
        }
        assert!(
            decisions >= 300,
            "{algorithm}: every seed elects at least once"
        );
    }
}

#[test]
fn seeds_cover_every_authentication_mode() {
    let modes: Vec<AuthMode> = (0..3).map(AuthMode::of_seed).collect();
    for mode in [AuthMode::Plain, AuthMode::Challenge, AuthMode::Keyed] {
        assert!(modes.contains(&mode), "{mode:?}");
    }
}

#[test]
fn algorithms_parse_by_name_and_election_alg_number() {
    let table = [
        ("le", Some(Algorithm::LeaderElection)),
        ("0", Some(Algorithm::LeaderElection)),
        ("1", Some(Algorithm::LeaderElection)),
        ("auth-fle", Some(Algorithm::AuthFastLeaderElection)),
        ("2", Some(Algorithm::AuthFastLeaderElection)),
        ("fle", Some(Algorithm::FastLeaderElection)),
        ("3", Some(Algorithm::FastLeaderElection)),
        ("4", None),
        ("all", None),
    ];
    for (text, expected) in table {
        assert_eq!(Algorithm::parse(text), expected, "{text}");
    }
}

#[test]
fn zookeepers_leader_election_vote_rule_is_caught_within_the_ci_budget() {
    use zk_elect::QuorumVerifier;
    use zk_le::{LeConfig, LeaderElection, Mutant};
    use zk_proto::Sid;
    use zk_sim::{Simulator, World};

    let options = Algorithm::LeaderElection.options();
    let caught = (0..2000).find_map(|seed| {
        let factory = |sid: Sid, quorum: &QuorumVerifier| {
            let mut config = LeConfig::new(sid, quorum.clone(), seed ^ sid.0);
            config.mutant = Some(Mutant::ZooKeeperVoteOrder);
            LeaderElection::new(config)
        };
        let report = Simulator::new(World::draw(seed), options.clone(), &factory).run();
        report
            .violation
            .map(|violation| (seed, violation.invariant))
    });
    let (seed, invariant) = caught.expect("caught");
    assert_eq!(invariant, "LeaderNotBehind", "seed {seed}");
}
