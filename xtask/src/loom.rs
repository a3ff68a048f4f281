//! `cargo xtask loom [filter]`: runs the loom models of the shared-memory structures.
//!
//! Models live next to the code they check (`src/**/tests/loom_*.rs`) in crates that depend on
//! `loom`, and compile only under `--cfg loom`. They run optimised, on one test thread, with
//! `LOOM_MAX_PREEMPTIONS=2`, in `target/loom` so that the loom build does not evict the normal
//! one. The filter (default `loom`) selects tests by name.
//!
//! A crate without tokio is tested with `RUSTFLAGS="--cfg loom"` (its loom dependency may then
//! be `cfg(loom)`-only). A crate with tokio cannot be: tokio drops its `net` module when it
//! sees `cfg(loom)`. Such a crate is built alone with `cargo rustc --profile test -- --cfg loom`
//! (so it needs loom as a plain dev-dependency) and its test binary is run directly.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::util::{cargo, run as exec, workspace_root};

struct LoomCrate {
    name: String,
    uses_tokio: bool,
}

pub(crate) fn run(args: &[String]) -> Result<()> {
    let filter = args.first().map_or("loom", String::as_str);
    let crates = crates_with_loom()?;
    if crates.is_empty() {
        eprintln!("cargo xtask loom: there are no loom models (no crate depends on loom)");
        return Ok(());
    }
    let target_dir = workspace_root().join("target").join("loom");
    for krate in &crates {
        if krate.uses_tokio {
            run_alone(&krate.name, filter, &target_dir)?;
        } else {
            exec(
                cargo()
                    .args(["test", "--release", "--package", &krate.name, "--"])
                    .args([filter, "--test-threads=1"])
                    .env("RUSTFLAGS", "--cfg loom")
                    .env("LOOM_MAX_PREEMPTIONS", "2")
                    .env("CARGO_TARGET_DIR", &target_dir),
            )?;
        }
    }
    Ok(())
}

/// Builds `name`'s unit tests with `--cfg loom` for that crate only, then runs the binary.
fn run_alone(name: &str, filter: &str, target_dir: &PathBuf) -> Result<()> {
    let mut build = cargo();
    build
        .args(["rustc", "--package", name, "--lib", "--profile", "test"])
        .args([
            "--message-format",
            "json-render-diagnostics",
            "--",
            "--cfg",
            "loom",
        ])
        .env("CARGO_PROFILE_TEST_OPT_LEVEL", "3")
        .env("CARGO_TARGET_DIR", target_dir);
    eprintln!("$ cargo rustc --package {name} --lib --profile test -- --cfg loom");
    let output = build
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("could not start cargo rustc")?;
    if !output.status.success() {
        bail!("building {name}'s loom models failed");
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let executable = stdout
        .lines()
        .filter_map(|line| line.split("\"executable\":\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .next_back()
        .with_context(|| format!("cargo rustc named no test binary for {name}"))?;
    exec(
        Command::new(executable)
            .args([filter, "--test-threads=1"])
            .env("LOOM_MAX_PREEMPTIONS", "2")
            .current_dir(workspace_root()),
    )
}

/// The packages under `crates/` whose manifest names `loom` as a dependency.
fn crates_with_loom() -> Result<Vec<LoomCrate>> {
    let mut found = Vec::new();
    let dir = workspace_root().join("crates");
    let mut entries: Vec<_> = fs::read_dir(&dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|entry| entry.ok())
        .collect();
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let manifest = entry.path().join("Cargo.toml");
        let Ok(text) = fs::read_to_string(&manifest) else {
            continue;
        };
        let names_dependency = |dependency: &str| {
            text.lines().any(|line| {
                let line = line.trim_start();
                line.strip_prefix(dependency)
                    .is_some_and(|rest| rest.starts_with([' ', '=', '.']))
            })
        };
        if names_dependency("loom") {
            found.push(LoomCrate {
                name: entry.file_name().to_string_lossy().into_owned(),
                uses_tokio: names_dependency("tokio"),
            });
        }
    }
    Ok(found)
}
