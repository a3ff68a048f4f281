//! `cargo xtask elections`: election time and messages per algorithm with real processes.

use anyhow::{bail, Result};

pub(crate) fn run(_args: &[String]) -> Result<()> {
    bail!("cargo xtask elections: being written (see docs/benchmarks.md for the simulator's figures)")
}
