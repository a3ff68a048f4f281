//! `cargo xtask tidy`: repository conventions that no compiler checks.
//!
//! - The crate dependency graph of ARCHITECTURE.md: pure crates never depend on tokio or on the
//!   server, the election algorithms know only `zk-elect` and `zk-proto`.
//! - Every Rust source file opens with a `//!` doc saying what it owns.
//! - No `todo!()` or `unimplemented!()` in crate sources, and no `#[ignore]` without a reason.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::util::workspace_root;

/// For each crate with rules: the crates it must not depend on (normal dependencies).
const FORBIDDEN_DEPENDENCIES: &[(&str, &[&str])] = &[
    ("zk-proto", &["tokio", "async-trait", "zk-"]),
    (
        "zk-tree",
        &["tokio", "async-trait", "zk-watch", "zk-sync", "zk-server"],
    ),
    (
        "zk-watch",
        &["tokio", "async-trait", "zk-tree", "zk-server"],
    ),
    (
        "zk-elect",
        &[
            "tokio",
            "async-trait",
            "zk-fle",
            "zk-le",
            "zk-auth-fle",
            "zk-server",
        ],
    ),
    (
        "zk-fle",
        &["tokio", "async-trait", "zk-le", "zk-auth-fle", "zk-server"],
    ),
    (
        "zk-le",
        &["tokio", "async-trait", "zk-fle", "zk-auth-fle", "zk-server"],
    ),
    (
        "zk-auth-fle",
        &["tokio", "async-trait", "zk-fle", "zk-le", "zk-server"],
    ),
    ("zk-sync", &["tokio", "async-trait", "zk-tree", "zk-server"]),
    (
        "zk-sim",
        &["tokio", "async-trait", "zk-server", "zk-client"],
    ),
    (
        "zk-client",
        &[
            "zk-tree",
            "zk-watch",
            "zk-elect",
            "zk-sync",
            "zk-server",
            "zk-fle",
        ],
    ),
    ("zk-server", &["zk-sim", "zk-client"]),
];

pub(crate) fn run(args: &[String]) -> Result<()> {
    if let Some(extra) = args.first() {
        bail!("cargo xtask tidy takes no arguments (got {extra:?})");
    }
    let root = workspace_root();
    let mut problems = Vec::new();
    check_dependencies(&root, &mut problems)?;
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "benches"] {
        collect_rust_files(&root.join(dir), &mut files)?;
    }
    for file in &files {
        check_source(&root, file, &mut problems)?;
    }
    if problems.is_empty() {
        eprintln!(
            "tidy: {} source files and the crate graph are in order",
            files.len()
        );
        return Ok(());
    }
    for problem in &problems {
        eprintln!("tidy: {problem}");
    }
    bail!("tidy found {} problem(s)", problems.len())
}

/// The names in the `[dependencies]` table of a manifest (not dev- or build-dependencies).
fn normal_dependencies(manifest: &str) -> Vec<String> {
    let mut in_dependencies = false;
    let mut names = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        if !in_dependencies || line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((key, _)) = line.split_once('=') {
            let key = key.trim();
            let name = key.strip_suffix(".workspace").unwrap_or(key);
            names.push(name.trim().to_owned());
        }
    }
    names
}

fn check_dependencies(root: &Path, problems: &mut Vec<String>) -> Result<()> {
    for (krate, forbidden) in FORBIDDEN_DEPENDENCIES {
        let manifest_path = root.join("crates").join(krate).join("Cargo.toml");
        let Ok(manifest) = fs::read_to_string(&manifest_path) else {
            continue;
        };
        for dependency in normal_dependencies(&manifest) {
            let bad = forbidden.iter().any(|f| {
                if f.ends_with('-') {
                    dependency.starts_with(f)
                } else {
                    dependency == *f
                }
            });
            if bad {
                problems.push(format!(
                    "{krate} depends on {dependency}, which ARCHITECTURE.md forbids"
                ));
            }
        }
    }
    Ok(())
}

fn collect_rust_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            collect_rust_files(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    Ok(())
}

fn check_source(root: &Path, file: &Path, problems: &mut Vec<String>) -> Result<()> {
    let text = fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let shown = file.strip_prefix(root).unwrap_or(file).display();
    if !text.trim_start().starts_with("//!") {
        problems.push(format!("{shown} does not open with a `//!` doc"));
    }
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        if code.contains(concat!("todo", "!(")) || code.contains(concat!("unimplemented", "!(")) {
            problems.push(format!("{shown}:{}: placeholder macro", number + 1));
        }
        if code.trim() == concat!("#[", "ignore]") {
            problems.push(format!(
                "{shown}:{}: #[ignore] without a reason",
                number + 1
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_dependencies_table_is_read() {
        let manifest = "[package]\nname = \"x\"\n\n[dependencies]\nzk-proto.workspace = true\n\
                        tokio = { version = \"1\" }\n\n[dev-dependencies]\nproptest = \"1\"\n";
        assert_eq!(normal_dependencies(manifest), ["zk-proto", "tokio"]);
    }
}
