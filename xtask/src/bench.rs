//! `cargo xtask bench` (being written).

use anyhow::{bail, Result};

pub(crate) fn run(_args: &[String]) -> Result<()> {
    bail!("cargo xtask bench is not written yet")
}
