//! `zk-sim`: runs the deterministic election simulator over seeds, or prints the benchmarks.
//!
//! ```text
//! zk-sim [--seeds A..B | --seed N] [--alg all|le|auth-fle|fle] [--verbose] [--mutant NAME]
//! zk-sim --zab [--seeds A..B | --seed N] [--verbose] [--zab-mutant NAME]
//! zk-sim bench
//! ```
//!
//! `--zab` runs Zab instead (FastLeaderElection, then zk-sync on every server, with client
//! writes, crashes and partitions, checked against Zab.tla's invariants; see `zk_sim::zab`).
//! `--alg` picks the election algorithm (`electionAlg` numbers work too); the default, `all`,
//! runs every seed with each of the three.
//! Every failing seed prints one line with the command that reproduces it; the last line is
//! `sim: N passed, M failed`, and the exit status is non-zero when any seed failed. `--seed N`
//! runs the seed twice and fails if the two trace hashes differ. `RUST_LOG` (with `--verbose`)
//! shows the machines' tracing events.

use std::io::Write;
use std::process::ExitCode;

use zk_elect::QuorumVerifier;
use zk_fle::FastLeaderElection;
use zk_proto::Sid;
use zk_sim::algorithms::{run_algorithm_seed, Algorithm};
use zk_sim::{run_seed, Report};

/// Prints a line; a closed stdout (`| head`) is not an error worth a panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

struct Args {
    seeds: std::ops::Range<u64>,
    single: bool,
    verbose: bool,
    zab: bool,
    #[cfg(feature = "mutants")]
    zab_mutant: Option<zk_sync::Mutant>,
    algorithms: Vec<Algorithm>,
    #[cfg(feature = "mutants")]
    mutant: Option<zk_fle::Mutant>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut parsed = Args {
        seeds: 0..200,
        single: false,
        verbose: false,
        zab: false,
        #[cfg(feature = "mutants")]
        zab_mutant: None,
        algorithms: Algorithm::ALL.to_vec(),
        #[cfg(feature = "mutants")]
        mutant: None,
    };
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--seed" => {
                let value = iter.next().ok_or("--seed needs a number")?;
                let seed: u64 = value.parse().map_err(|_| format!("bad seed {value:?}"))?;
                parsed.seeds = seed..seed + 1;
                parsed.single = true;
            }
            "--seeds" => {
                let value = iter.next().ok_or("--seeds needs A..B")?;
                let (low, high) = value
                    .split_once("..")
                    .ok_or(format!("bad range {value:?}"))?;
                let low: u64 = low.parse().map_err(|_| format!("bad range {value:?}"))?;
                let high: u64 = high.parse().map_err(|_| format!("bad range {value:?}"))?;
                parsed.seeds = low..high;
            }
            "--verbose" | "-v" => parsed.verbose = true,
            "--zab" => parsed.zab = true,
            #[cfg(feature = "mutants")]
            "--zab-mutant" => {
                use zk_sync::Mutant;
                let value = iter.next().ok_or("--zab-mutant needs a name")?;
                let mutants = [
                    (
                        "ignore-more-recent-learner",
                        Mutant::LeaderIgnoresMoreRecentLearner,
                    ),
                    (
                        "current-epoch-at-leaderinfo",
                        Mutant::CurrentEpochAtLeaderInfo,
                    ),
                    (
                        "ack-newleader-before-durable",
                        Mutant::AckNewLeaderBeforeDurable,
                    ),
                    (
                        "current-epoch-before-durable",
                        Mutant::CurrentEpochBeforeDurable,
                    ),
                    ("no-forwarding-during-sync", Mutant::NoForwardingDuringSync),
                    ("accept-gaps", Mutant::FollowerAcceptsGaps),
                    ("snap-clears-log-first", Mutant::SnapClearsLogFirst),
                    ("epoch-ignores-learners", Mutant::EpochIgnoresLearners),
                ];
                let found = mutants.iter().find(|(name, _)| name == value);
                parsed.zab = true;
                parsed.zab_mutant = Some(found.ok_or(format!("unknown Zab mutant {value:?}"))?.1);
            }
            "--alg" => {
                let value = iter.next().ok_or("--alg needs all, le, auth-fle or fle")?;
                parsed.algorithms = match value.as_str() {
                    "all" => Algorithm::ALL.to_vec(),
                    name => vec![Algorithm::parse(name).ok_or(format!(
                        "unknown algorithm {name:?} (all, le, auth-fle, fle)"
                    ))?],
                };
            }
            #[cfg(feature = "mutants")]
            "--mutant" => {
                let value = iter.next().ok_or("--mutant needs a name")?;
                parsed.mutant = Some(match value.as_str() {
                    "vote-order" => zk_fle::Mutant::VoteOrderPrefersLowerZxid,
                    "half-quorum" => zk_fle::Mutant::HalfIsAQuorum,
                    other => {
                        return Err(format!(
                            "unknown mutant {other:?} (vote-order, half-quorum)"
                        ))
                    }
                });
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(parsed)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("bench") {
        say!("{}", zk_sim::bench::report().trim_end());
        say!("");
        say!("{}", zk_sim::bench_algorithms::report().trim_end());
        return ExitCode::SUCCESS;
    }
    let args = match parse(&args) {
        Ok(args) => args,
        Err(error) => {
            eprintln!("zk-sim: {error}\nusage: zk-sim [--seeds A..B | --seed N] [--alg all|le|auth-fle|fle] [--verbose]\n       zk-sim --zab [--seeds A..B | --seed N]\n       zk-sim bench");
            return ExitCode::from(2);
        }
    };
    if args.verbose {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    if args.zab {
        return run_zab(&args);
    }
    let factory = |sid: Sid, quorum: &QuorumVerifier| -> FastLeaderElection {
        #[allow(unused_mut)]
        let mut config = zk_fle::FleConfig::new(sid, quorum.clone());
        #[cfg(feature = "mutants")]
        {
            config.mutant = args.mutant;
        }
        FastLeaderElection::new(config)
    };
    let (mut passed, mut failed) = (0u64, 0u64);
    for &algorithm in &args.algorithms {
        let options = algorithm.options();
        let run = |seed: u64| match algorithm {
            Algorithm::FastLeaderElection => run_seed(seed, &options, &factory),
            other => run_algorithm_seed(other, seed, &options),
        };
        let mut settle_ms_max = 0;
        for seed in args.seeds.clone() {
            let report = run(seed);
            let mut failure = report.violation.as_ref().map(ToString::to_string);
            if args.single {
                let again = run(seed);
                failure = failure.or(replay_failure(report.trace_hash, again.trace_hash));
                describe(algorithm, &report);
            }
            match failure {
                None => {
                    passed += 1;
                    settle_ms_max = settle_ms_max.max(report.settle_ms.unwrap_or(0));
                }
                Some(failure) => {
                    failed += 1;
                    say!("seed {seed} ({algorithm}) failed: {failure}; reproduce: cargo xtask sim --seed {seed} --alg {algorithm}");
                }
            }
        }
        if !args.single {
            say!("{algorithm}: slowest settle after faults stopped: {settle_ms_max} ms of virtual time");
        }
    }
    say!("sim: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn describe(algorithm: Algorithm, report: &Report) {
    say!("seed {} ({algorithm}): {}", report.seed, report.world);
    say!(
        "seed {}: trace hash 0x{:016x}, {} events, {} messages, {} decisions, ended at {} ms, settled {}",
        report.seed,
        report.trace_hash,
        report.events,
        report.messages,
        report.decisions,
        report.end_ms,
        report.settle_ms.map_or("never".to_owned(), |ms| format!("{ms} ms after faults stopped")),
    );
}

/// The failure of a replay of a seed that ended with another trace hash than the first run.
fn replay_failure(first_hash: u64, replay_hash: u64) -> Option<String> {
    (first_hash != replay_hash)
        .then(|| format!("Determinism: trace hash 0x{first_hash:016x} then 0x{replay_hash:016x}"))
}

/// The Zab sweep: one line per failing seed, then `sim: N passed, M failed`.
fn run_zab(args: &Args) -> ExitCode {
    let (mut passed, mut failed) = (0u64, 0u64);
    #[allow(unused_mut)]
    let mut adjust: std::sync::Arc<dyn Fn(zk_sync::ZabConfig) -> zk_sync::ZabConfig> =
        std::sync::Arc::new(|config| config);
    #[cfg(feature = "mutants")]
    if let Some(mutant) = args.zab_mutant {
        adjust = std::sync::Arc::new(move |mut config| {
            config.mutant = Some(mutant);
            config
        });
    }
    let run = |seed| zk_sim::zab::run::run_zab_seed_with(seed, adjust.clone());
    for seed in args.seeds.clone() {
        let report = run(seed);
        let mut failure = report.violation.as_ref().map(ToString::to_string);
        if args.single {
            let again = run(seed);
            failure = failure.or(replay_failure(report.trace_hash, again.trace_hash));
            say!("seed {seed} (zab): {}", report.world);
            say!("{report}");
        }
        match failure {
            None => passed += 1,
            Some(failure) => {
                failed += 1;
                say!("seed {seed} (zab) failed: {failure}; reproduce: cargo xtask sim --zab --seed {seed}");
            }
        }
    }
    say!("sim: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
