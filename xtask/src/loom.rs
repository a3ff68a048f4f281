//! `cargo xtask loom [filter]`: runs the loom models of the shared-memory structures.
//!
//! Models live next to the code they check (`src/**/tests/loom_*.rs`) in crates that list `loom`
//! as a dependency, and compile only under `--cfg loom`. They run in release mode, one test
//! thread, with `LOOM_MAX_PREEMPTIONS=2`, in their own target directory so that the `--cfg loom`
//! build does not evict the normal one. The filter (default `loom`) selects tests by name.

use std::fs;

use anyhow::{Context, Result};

use crate::util::{cargo, run as exec, workspace_root};

pub(crate) fn run(args: &[String]) -> Result<()> {
    let filter = args.first().map_or("loom", String::as_str);
    let crates = crates_with_loom()?;
    if crates.is_empty() {
        eprintln!("cargo xtask loom: there are no loom models (no crate depends on loom)");
        return Ok(());
    }
    let target_dir = workspace_root().join("target").join("loom");
    let mut command = cargo();
    command
        .args(["test", "--release"])
        .env("RUSTFLAGS", "--cfg loom")
        .env("LOOM_MAX_PREEMPTIONS", "2")
        .env("CARGO_TARGET_DIR", target_dir);
    for name in &crates {
        command.args(["--package", name]);
    }
    command.args(["--", filter, "--test-threads=1"]);
    exec(&mut command)
}

/// The packages under `crates/` whose manifest names `loom` as a dependency.
fn crates_with_loom() -> Result<Vec<String>> {
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
        let uses_loom = text.lines().any(|line| {
            let line = line.trim_start();
            line.starts_with("loom ") || line.starts_with("loom=") || line.starts_with("loom.")
        });
        if uses_loom {
            found.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    Ok(found)
}
