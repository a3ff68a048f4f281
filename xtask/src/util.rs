//! Helpers to run cargo and other commands from the workspace root.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The workspace root (the parent of `xtask/`).
pub(crate) fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .expect("xtask sits one level below the workspace root")
        .to_path_buf()
}

/// The workspace's target directory (`CARGO_TARGET_DIR` or `target/`).
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// A `cargo` command (from `$CARGO`, as cargo sets it for `cargo xtask`) run in the root.
pub(crate) fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(workspace_root());
    command
}

/// Runs a command, echoing it first, and fails when it exits non-zero.
pub(crate) fn run(command: &mut Command) -> Result<()> {
    eprintln!("$ {}", display(command));
    let status = command
        .status()
        .with_context(|| format!("could not start {}", display(command)))?;
    if !status.success() {
        bail!("{} failed with {status}", display(command));
    }
    Ok(())
}

fn display(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// The words of `text` as command-line arguments (for the tests of the option parsers).
#[cfg(test)]
pub(crate) fn strings(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}
