//! `cargo xtask ci`: the one command that runs every check, as CI does.

use anyhow::Result;

use crate::util::{cargo, run as exec};

pub(crate) fn run_ci() -> Result<()> {
    exec(cargo().args(["fmt", "--all", "--", "--check"]))?;
    exec(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    crate::tidy::run(&[])?;
    exec(cargo().args(["test", "--workspace"]))?;
    exec(
        cargo()
            .args(["doc", "--workspace", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    exec(cargo().args(["bench", "--workspace", "--", "--test"]))?;
    // All three election algorithms, then Zab over FastLeaderElection.
    crate::sim::run(&["--seeds".to_owned(), "0..2000".to_owned()])?;
    crate::sim::run(&[
        "--zab".to_owned(),
        "--seeds".to_owned(),
        "0..2000".to_owned(),
    ])?;
    crate::loom::run(&[])?;
    crate::conformance::run(&[])?;
    Ok(())
}

pub(crate) fn run(args: &[String]) -> Result<()> {
    if let Some(extra) = args.first() {
        anyhow::bail!("cargo xtask ci takes no arguments (got {extra:?})");
    }
    run_ci()?;
    eprintln!("cargo xtask ci: every check passed");
    Ok(())
}
