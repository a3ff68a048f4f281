//! Project automation, run as `cargo xtask <command>`.
//!
//! - `ci`: everything CI checks (format, clippy, tests, docs, conformance suites, sim sweep).
//! - `sim [--seed N | --seeds A..B]`: the deterministic cluster simulator.
//! - `loom [filter]`: loom models of the shared-memory structures.
//! - `bench [...]`: criterion suites and whole-server benchmarks against Apache ZooKeeper.
//! - `tidy`: repository conventions (crate graph, file docs, no placeholders).
//! - `cluster [--size N] [--election-alg 1|2|3] [--base-port P] [--dir D]`: a local ensemble of
//!   `zk-server` processes, reporting leader changes until Ctrl-C.
//! - `elections [--quick] [--sizes LIST] [--algs LIST] [--runs N]`: election time and messages
//!   per algorithm and ensemble size, with real `zk-server` processes.
//!
//! xtask links no workspace crate: it shells out to `$CARGO`, so it compiles in seconds.

mod bench;
mod ci;
mod cluster;
mod conformance;
mod elections;
mod loom;
mod report;
mod sim;
mod tidy;
mod util;

use anyhow::{bail, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        print_usage();
        bail!("no command given");
    };
    match command.as_str() {
        "ci" => ci::run(rest),
        "sim" => sim::run(rest),
        "loom" => loom::run(rest),
        "bench" => bench::run(rest),
        "conformance" => conformance::run(rest),
        "cluster" => cluster::run(rest),
        "elections" => elections::run(rest),
        "tidy" => tidy::run(rest),
        "help" | "--help" | "-h" => {
            print_usage();
            Ok(())
        }
        other => {
            print_usage();
            bail!("unknown command {other:?}")
        }
    }
}

fn print_usage() {
    eprintln!(
        "usage: cargo xtask <command>\n\
         \n\
         commands:\n  \
           ci                     every check CI runs (the README's test command)\n  \
           sim [--seed N | --seeds A..B]  deterministic cluster simulator\n  \
           loom [filter]          loom models\n  \
           bench [...]            criterion suites and whole-server benchmarks\n  \
           conformance [...]      kazoo, zookeeper-client and C-client suites against servers\n  \
           cluster [--size N] [--election-alg 1|2|3] [--base-port P] [--dir D]\n                         \
           a local ensemble of zk-server processes (Ctrl-C stops it)\n  \
           elections [--quick] [--sizes LIST] [--algs LIST] [--runs N]\n                         \
           election time and messages per algorithm, real processes\n  \
           tidy                   repository conventions"
    );
}
