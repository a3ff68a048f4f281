//! `cargo xtask sim [--seed N | --seeds A..B] [--verbose]`: the deterministic election simulator.
//!
//! Runs `zk-sim` in release mode. Every failing seed prints one line ending in
//! `reproduce: cargo xtask sim --seed N`; `--seed N` replays that seed twice and checks that the
//! trace hash repeats. The last line is `sim: N passed, M failed`, and the command fails when any
//! seed failed. `cargo xtask sim bench` prints the virtual-time election benchmarks.

use anyhow::Result;

use crate::util::{cargo, run as exec};

pub(crate) fn run(args: &[String]) -> Result<()> {
    exec(
        cargo()
            .args(["run", "--quiet", "--package", "zk-sim", "--release", "--"])
            .args(args),
    )
}
