//! `cargo xtask sim` (being written).

use anyhow::{bail, Result};

pub(crate) fn run(_args: &[String]) -> Result<()> {
    bail!("cargo xtask sim is not written yet")
}
