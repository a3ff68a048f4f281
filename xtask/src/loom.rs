//! `cargo xtask loom` (being written).

use anyhow::{bail, Result};

pub(crate) fn run(_args: &[String]) -> Result<()> {
    bail!("cargo xtask loom is not written yet")
}
