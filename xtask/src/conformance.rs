//! `cargo xtask conformance` (being written).

use anyhow::{bail, Result};

pub(crate) fn run(_args: &[String]) -> Result<()> {
    bail!("cargo xtask conformance is not written yet")
}
