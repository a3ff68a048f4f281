//! Facts and number formats the generated benchmark sections share (`bench`, `elections`).

use std::process::Command;

use crate::util::workspace_root;

/// The first non-empty line a command prints on stdout, or with `stderr_too` on stderr when
/// stdout is empty (`java -version` prints there); `None` when it cannot run or prints nothing.
pub(crate) fn command_output(program: &str, args: &[&str], stderr_too: bool) -> Option<String> {
    let output = Command::new(program)
        .args(args)
        .current_dir(workspace_root())
        .output()
        .ok()?;
    let text = if stderr_too && output.stdout.is_empty() {
        output.stderr
    } else {
        output.stdout
    };
    let text = String::from_utf8_lossy(&text);
    let first = text.lines().next()?.trim().to_owned();
    (!first.is_empty()).then_some(first)
}

/// `N cores (nproc), <CPU model>, M GiB RAM` of this machine.
pub(crate) fn machine_description() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map_or("unknown CPU", |(_, model)| model.trim())
        .to_owned();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .map(|kib| format!(", {} GiB RAM", (kib + (1 << 19)) >> 20))
        .unwrap_or_default();
    format!("{cores} cores (nproc), {model}{memory}")
}

/// The short HEAD commit, with ` (with uncommitted changes)` when tracked files differ from it.
pub(crate) fn git_commit() -> String {
    let commit = command_output("git", &["rev-parse", "--short=12", "HEAD"], false)
        .unwrap_or_else(|| "unknown".to_owned());
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .current_dir(workspace_root())
        .output()
        .map(|output| !output.stdout.is_empty())
        .unwrap_or(false);
    if dirty {
        format!("{commit} (with uncommitted changes)")
    } else {
        commit
    }
}

/// `value` rounded to a whole number, with commas between groups of three digits.
pub(crate) fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The median of `values` (the mean of the middle two when their number is even), `None` when
/// empty; sorts `values` on the way.
pub(crate) fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(-5.0), "0");
    }

    #[test]
    fn medians_sort_the_values() {
        let mut odd = [3.0, 1.0, 2.0];
        assert_eq!(median(&mut odd), Some(2.0));
        assert_eq!(odd, [1.0, 2.0, 3.0]);
        assert_eq!(median(&mut [4.0, 1.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn a_missing_program_has_no_output() {
        assert_eq!(
            command_output("/nonexistent/xtask-program", &[], true),
            None
        );
    }
}
