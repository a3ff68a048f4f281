//! `cargo xtask bench`: the workspace's criterion suites and whole-server benchmarks.
//!
//! - `cargo xtask bench`: both, with default durations.
//! - `cargo xtask bench criterion [ARGS]`: `cargo bench --workspace [ARGS]`.
//! - `cargo xtask bench servers [--duration-s S] [--warmup-s W] [--quick] [--only ours|apache]
//!   [--znodes N] [--rounds R] [--no-docs]`: builds `zk-server` and `zk-bench` in release,
//!   starts our server and Apache ZooKeeper 3.8 one at a time on this machine (fresh data
//!   directories under `target/bench/`), drives each with the same `zk-bench` runs (ops
//!   get/set/create x sessions 1/16/64, 100-byte values, closed loop; with `--rounds R`, R times
//!   each, alternating), measures each server's RSS with N znodes loaded, and rewrites the
//!   generated section of `docs/benchmarks.md` (between `<!-- servers:begin -->` and
//!   `<!-- servers:end -->`). Raw results go to `target/bench/servers.jsonl`.
//! - `cargo xtask bench ensemble [--quick] [--only ours|apache] [--duration-s S] [--warmup-s W]
//!   [--failover-runs N] [--rounds R]`: a 3-server ensemble of ours, then one of Apache
//!   ZooKeeper 3.8 (`scripts/apache-zookeeper.sh start-ensemble`), each driven by the same
//!   `zk-bench` matrix with the sessions spread over the servers (one `zk-bench` process per
//!   server), then failover: kill -9 of the leader under one writing session, the time to the
//!   first write that succeeds through a survivor and until a survivor answers `srvr` as leader
//!   (median of the runs). With `--rounds R`, R times each, alternating, as for servers.
//!   Writes the markdown section `target/bench/ensemble.md` (between `<!-- ensemble:begin -->`
//!   and `<!-- ensemble:end -->`, for docs/benchmarks.md) and the raw lines to
//!   `target/bench/ensemble.jsonl`.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::report::{command_output, git_commit, machine_description, median, thousands};
use crate::util::{cargo, run as exec, target_dir, workspace_root};

/// Port of our server during the benchmark.
const OURS_PORT: u16 = 32181;
/// Port of Apache ZooKeeper during the benchmark.
const APACHE_PORT: u16 = 32182;
/// Markers around the generated part of `docs/benchmarks.md`.
const BEGIN_MARKER: &str = "<!-- servers:begin -->";
const END_MARKER: &str = "<!-- servers:end -->";
const OPS: [&str; 3] = ["get", "set", "create"];
const SESSIONS: [u32; 3] = [1, 16, 64];
const VALUE_BYTES: u32 = 100;

const USAGE: &str = "\
usage: cargo xtask bench                       criterion suites, then the server comparison
       cargo xtask bench criterion [ARGS]      cargo bench --workspace [ARGS]
       cargo xtask bench servers [OPTIONS]     our zk-server vs Apache ZooKeeper 3.8
       cargo xtask bench ensemble [OPTIONS]    3-server ensembles: ours vs Apache ZooKeeper 3.8

servers options:
  --duration-s S      measured seconds per cell (default 8; --quick: 2)
  --warmup-s W        warmup seconds per cell (default 2; --quick: 1)
  --quick             short cells, for checking that the tool works
  --only ours|apache  run one server only (the other's columns say \"not run\")
  --znodes N          znodes loaded for the memory row (default 100000)
  --pipeline K        requests in flight per session (default 1 = closed loop)
  --rounds R          measure both servers R times, alternating, and report each cell's
                      median with its range (default 1)
  --no-docs           do not rewrite docs/benchmarks.md

ensemble options (writes target/bench/ensemble.md and ensemble.jsonl):
  --duration-s S      measured seconds per cell (default 8; --quick: 2)
  --warmup-s W        warmup seconds per cell (default 2; --quick: 1)
  --quick             short cells and 3 failover runs, for checking that the tool works
  --only ours|apache  run one ensemble only
  --failover-runs N   kill -9 of the leader N times per round (default 7; --quick: 3)
  --rounds R          measure both ensembles R times, alternating, and report each cell's
                      median with its range, and the failover medians over all runs (default 1)";

pub(crate) fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        None => {
            run_criterion(&[])?;
            run_servers(&ServersOptions::default(), "cargo xtask bench")
        }
        Some("criterion") => run_criterion(&args[1..]),
        Some("servers") => {
            let options = ServersOptions::parse(&args[1..])?;
            let command = format!("cargo xtask bench {}", args.join(" "));
            run_servers(&options, &command)
        }
        Some("ensemble") => {
            let options = EnsembleOptions::parse(&args[1..])?;
            let command = format!("cargo xtask bench {}", args.join(" "));
            run_ensemble_bench(&options, &command)
        }
        Some("help" | "--help" | "-h") => {
            eprintln!("{USAGE}");
            Ok(())
        }
        Some(other) => {
            eprintln!("{USAGE}");
            bail!("unknown bench command {other:?}")
        }
    }
}

fn run_criterion(extra: &[String]) -> Result<()> {
    exec(cargo().args(["bench", "--workspace"]).args(extra))
}

/// Which server a run is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Ours,
    Apache,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Ours => "ours",
            Side::Apache => "apache",
        }
    }

    fn port(self) -> u16 {
        match self {
            Side::Ours => OURS_PORT,
            Side::Apache => APACHE_PORT,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Side::Ours => "our zk-server",
            Side::Apache => "Apache ZooKeeper",
        }
    }
}

/// Options of `cargo xtask bench servers`.
#[derive(Clone, Debug, PartialEq)]
struct ServersOptions {
    duration_s: f64,
    warmup_s: f64,
    quick: bool,
    only: Option<Side>,
    znodes: u64,
    pipeline: u32,
    /// Times each side is measured (alternating sides); the report gives medians.
    rounds: usize,
    write_docs: bool,
}

impl Default for ServersOptions {
    fn default() -> Self {
        ServersOptions {
            duration_s: 8.0,
            warmup_s: 2.0,
            quick: false,
            only: None,
            znodes: 100_000,
            pipeline: 1,
            rounds: 1,
            write_docs: true,
        }
    }
}

impl ServersOptions {
    fn parse(args: &[String]) -> Result<ServersOptions> {
        let mut options = ServersOptions::default();
        let common = parse_common(args, "servers", |flag, value| {
            match flag {
                "--znodes" => {
                    let text = value()?;
                    options.znodes = text
                        .parse()
                        .with_context(|| format!("--znodes wants a count, got {text:?}"))?;
                }
                "--pipeline" => options.pipeline = positive_count(flag, value()?)?,
                "--rounds" => options.rounds = positive_count(flag, value()?)?,
                "--no-docs" => options.write_docs = false,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        options.quick = common.quick;
        options.only = common.only;
        (options.duration_s, options.warmup_s) =
            common.durations(options.duration_s, options.warmup_s);
        Ok(options)
    }

    fn sides(&self) -> Vec<Side> {
        sides(self.only)
    }
}

/// The value of `flag`, a count of at least 1.
fn positive_count<T: std::str::FromStr + PartialOrd + Default>(
    flag: &str,
    text: &str,
) -> Result<T> {
    text.parse()
        .ok()
        .filter(|n| *n > T::default())
        .with_context(|| format!("{flag} wants a count >= 1, got {text:?}"))
}

/// The options `servers` and `ensemble` share, as given.
#[derive(Debug, Default)]
struct CommonOptions {
    duration_s: Option<f64>,
    warmup_s: Option<f64>,
    quick: bool,
    only: Option<Side>,
}

impl CommonOptions {
    /// `(duration, warmup)` in seconds: as given, else 2 and 1 with `--quick`, else the defaults.
    fn durations(&self, duration_s: f64, warmup_s: f64) -> (f64, f64) {
        let (duration_s, warmup_s) = if self.quick {
            (2.0, 1.0)
        } else {
            (duration_s, warmup_s)
        };
        (
            self.duration_s.unwrap_or(duration_s),
            self.warmup_s.unwrap_or(warmup_s),
        )
    }
}

/// Reads `--duration-s`, `--warmup-s`, `--quick` and `--only`; hands every other flag to
/// `extra` (with a way to take its value), which says whether it knew it. Fails on an unknown
/// flag (naming `command`'s options) and on a zero duration.
fn parse_common<'a>(
    args: &'a [String],
    command: &str,
    mut extra: impl FnMut(&str, &mut dyn FnMut() -> Result<&'a str>) -> Result<bool>,
) -> Result<CommonOptions> {
    let mut common = CommonOptions::default();
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let mut value = || {
            iter.next()
                .map(String::as_str)
                .with_context(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--duration-s" => common.duration_s = Some(seconds(value()?, flag)?),
            "--warmup-s" => common.warmup_s = Some(seconds(value()?, flag)?),
            "--quick" => common.quick = true,
            "--only" => {
                common.only = Some(match value()? {
                    "ours" => Side::Ours,
                    "apache" | "zookeeper" => Side::Apache,
                    other => bail!("--only wants ours or apache, got {other:?}"),
                })
            }
            other => {
                if !extra(other, &mut value)? {
                    eprintln!("{USAGE}");
                    bail!("unknown {command} option {other:?}");
                }
            }
        }
    }
    if common
        .duration_s
        .is_some_and(|duration_s| duration_s <= 0.0)
    {
        bail!("--duration-s must be positive");
    }
    Ok(common)
}

/// The sides to run: `only`, or both.
fn sides(only: Option<Side>) -> Vec<Side> {
    match only {
        Some(side) => vec![side],
        None => vec![Side::Ours, Side::Apache],
    }
}

fn seconds(text: &str, flag: &str) -> Result<f64> {
    let value: f64 = text
        .parse()
        .with_context(|| format!("{flag} wants seconds, got {text:?}"))?;
    if !value.is_finite() || value < 0.0 {
        bail!("{flag} wants a non-negative number of seconds, got {text:?}");
    }
    Ok(value)
}

/// The measurements of one `zk-bench` load run, read from its JSON line.
#[derive(Clone, Debug, Default, PartialEq)]
struct Cell {
    ops_per_s: f64,
    p50_us: f64,
    p99_us: f64,
    errors: u64,
    /// The lowest and highest ops/s of the rounds, when the cell is the median of several.
    ops_range: Option<(f64, f64)>,
}

/// The load matrix of one side: `(op, sessions)` -> the cell, or why it failed.
type Cells = Vec<(String, u32, Result<Cell, String>)>;

/// The cell of `op` x `sessions` in `cells`.
fn find_cell<'a>(cells: &'a Cells, op: &str, sessions: u32) -> Option<&'a Result<Cell, String>> {
    cells
        .iter()
        .find(|(o, s, _)| o == op && *s == sessions)
        .map(|(_, _, cell)| cell)
}

/// Everything measured on one server.
#[derive(Debug, Default)]
struct SideResults {
    cells: Cells,
    rss_empty_kib: Option<u64>,
    rss_loaded_kib: Option<u64>,
    populate_s: Option<f64>,
    /// Bytes in the data directory after the load matrix (0: nothing was persisted).
    data_bytes: Option<u64>,
    /// Every JSON line `zk-bench` printed.
    raw: Vec<String>,
}

/// Where the release binaries and the benchmark's files are.
struct Built {
    release: PathBuf,
    bench_dir: PathBuf,
    /// The `zk-bench` binary.
    generator: PathBuf,
}

/// Creates `target/bench/`, builds `zk-bench` and, when `sides` has ours, `zk-server` in
/// release (`server_failed` words the error when `zk-server` does not build), then measures the
/// sides in turn and writes every JSON line of theirs (`raw`), each with `"side":"<side>"` in
/// front, to `target/bench/<jsonl>`.
fn measure_sides<T>(
    sides: &[Side],
    server_failed: impl FnOnce(anyhow::Error) -> anyhow::Error,
    jsonl: &str,
    mut measure: impl FnMut(Side, &Built) -> Result<T>,
    raw: impl Fn(&T) -> &Vec<String>,
) -> Result<Vec<(Side, T)>> {
    let release = target_dir().join("release");
    let bench_dir = target_dir().join("bench");
    std::fs::create_dir_all(&bench_dir)?;
    exec(cargo().args(["build", "--release", "-p", "zk-bench"]))?;
    if sides.contains(&Side::Ours) {
        exec(cargo().args(["build", "--release", "-p", "zk-server"])).map_err(server_failed)?;
    }
    let built = Built {
        generator: release.join("zk-bench"),
        release,
        bench_dir,
    };
    let mut lines = String::new();
    let mut all = Vec::new();
    for &side in sides {
        let results = measure(side, &built)?;
        for line in raw(&results) {
            // zk-bench's own JSON line, with the side in front.
            let fields = line.strip_prefix('{').unwrap_or(line);
            let _ = writeln!(lines, "{{\"side\":\"{}\",{fields}", side.name());
        }
        all.push((side, results));
    }
    std::fs::write(built.bench_dir.join(jsonl), &lines)?;
    Ok(all)
}

/// The results of every round of `side`, in the order they ran.
fn rounds_of<T>(all: &[(Side, T)], side: Side) -> Vec<&T> {
    all.iter()
        .filter(|(s, _)| *s == side)
        .map(|(_, results)| results)
        .collect()
}

fn run_servers(options: &ServersOptions, command: &str) -> Result<()> {
    let started = Instant::now();
    let server_failed = |error: anyhow::Error| {
        anyhow::anyhow!(
            "our zk-server does not build ({error:#}).\n\
             To measure Apache ZooKeeper alone: cargo xtask bench servers --only apache"
        )
    };
    // Round by round, the sides alternate: a slow minute of the machine hits both.
    let order: Vec<Side> = (0..options.rounds).flat_map(|_| options.sides()).collect();
    let all = measure_sides(
        &order,
        server_failed,
        "servers.jsonl",
        |side, built| {
            bench_side(
                side,
                options,
                &built.release,
                &built.bench_dir,
                &built.generator,
            )
            .map_err(|error| match side {
                Side::Ours => error.context(
                    "benchmarking our zk-server failed; to measure Apache ZooKeeper alone run \
                     `cargo xtask bench servers --only apache`",
                ),
                Side::Apache => error.context("benchmarking Apache ZooKeeper failed"),
            })
        },
        |results: &SideResults| &results.raw,
    )?;

    let (ours, apache) = (
        merge_rounds(&rounds_of(&all, Side::Ours)),
        merge_rounds(&rounds_of(&all, Side::Apache)),
    );
    let section = render_section(options, command, ours.as_ref(), apache.as_ref());
    eprintln!("\n{section}");
    if options.write_docs {
        let docs = workspace_root().join("docs/benchmarks.md");
        let old = std::fs::read_to_string(&docs).unwrap_or_default();
        std::fs::write(&docs, replace_section(&old, &section))?;
        eprintln!("wrote {}", docs.display());
    }
    eprintln!(
        "cargo xtask bench servers: done in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The "Rounds:" line of a generated section, when each `what` was measured more than once;
/// `others` says how the figures outside the matrix were merged.
fn write_rounds_line(s: &mut String, what: &str, rounds: usize, others: &str) {
    if rounds > 1 {
        let _ = writeln!(
            s,
            "- Rounds: each {what} measured {rounds} times, the two alternating; every ops/s is \
             the median round (lowest–highest in brackets), its latencies are that round's, and \
             the ratio is of the medians; {others}"
        );
    }
}

/// One side's rounds as one result: each cell is the round with the median ops/s (so its
/// latencies are that round's), with the range of all rounds; memory and populate times are
/// medians. `None` when the side did not run.
fn merge_rounds(rounds: &[&SideResults]) -> Option<SideResults> {
    if rounds.is_empty() {
        return None;
    }
    let cells = merge_cells(&rounds.iter().map(|r| &r.cells).collect::<Vec<_>>());
    let median_of = |value: fn(&SideResults) -> Option<f64>| {
        median(&mut rounds.iter().filter_map(|r| value(r)).collect::<Vec<_>>())
    };
    Some(SideResults {
        cells,
        rss_empty_kib: median_of(|r| r.rss_empty_kib.map(|k| k as f64)).map(|k| k as u64),
        rss_loaded_kib: median_of(|r| r.rss_loaded_kib.map(|k| k as f64)).map(|k| k as u64),
        populate_s: median_of(|r| r.populate_s),
        data_bytes: rounds.iter().filter_map(|r| r.data_bytes).min(),
        raw: rounds.iter().flat_map(|r| r.raw.iter().cloned()).collect(),
    })
}

/// The cells of several rounds as one matrix: each cell is the round with the median ops/s (so
/// its latencies are that round's), with the range of all rounds. A single round stays as it
/// is.
fn merge_cells(rounds: &[&Cells]) -> Cells {
    let Some((first, rest)) = rounds.split_first() else {
        return Cells::new();
    };
    if rest.is_empty() {
        return (*first).clone();
    }
    first
        .iter()
        .map(|(op, sessions, first_cell)| {
            let mut ok: Vec<&Cell> = rounds
                .iter()
                .filter_map(|cells| find_cell(cells, op, *sessions))
                .filter_map(|cell| cell.as_ref().ok())
                .collect();
            ok.sort_by(|a, b| a.ops_per_s.total_cmp(&b.ops_per_s));
            let cell = match (ok.first(), ok.last()) {
                (Some(low), Some(high)) => Ok(Cell {
                    ops_range: Some((low.ops_per_s, high.ops_per_s)),
                    ..*ok[(ok.len() - 1) / 2]
                }),
                _ => first_cell.clone(),
            };
            (op.clone(), *sessions, cell)
        })
        .collect()
}

/// Memory on a fresh server, then the load matrix on another fresh one.
fn bench_side(
    side: Side,
    options: &ServersOptions,
    release: &Path,
    bench_dir: &Path,
    generator: &Path,
) -> Result<SideResults> {
    let mut results = SideResults::default();
    let address = format!("127.0.0.1:{}", side.port());

    eprintln!(
        "\n== {}: memory with {} znodes",
        side.title(),
        options.znodes
    );
    {
        let server = Server::start(
            side,
            release,
            &bench_dir.join(format!("{}-memory", side.name())),
        )?;
        // Let a JVM finish starting up before the empty reading.
        std::thread::sleep(Duration::from_secs(1));
        results.rss_empty_kib = rss_kib(server.pid);
        if options.znodes > 0 {
            let line = zk_bench(
                generator,
                &[
                    "--server",
                    &address,
                    "--populate",
                    &options.znodes.to_string(),
                    "--value-bytes",
                    &VALUE_BYTES.to_string(),
                    "--sessions",
                    "4",
                    "--pid",
                    &server.pid.to_string(),
                ],
            )?;
            results.rss_loaded_kib = json_number(&line, "rss_kib").map(|kib| kib as u64);
            results.populate_s = json_number(&line, "seconds");
            results.raw.push(line);
        }
        server.stop()?;
    }

    eprintln!("\n== {}: load matrix", side.title());
    let server = Server::start(
        side,
        release,
        &bench_dir.join(format!("{}-load", side.name())),
    )?;
    for op in OPS {
        for sessions in SESSIONS {
            let args = load_args(
                &address,
                op,
                sessions,
                (options.duration_s, options.warmup_s),
                ["--pipeline", &options.pipeline.to_string()],
            );
            let line = zk_bench(
                generator,
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
            );
            if let Ok(line) = &line {
                results.raw.push(line.clone());
            }
            let cell = line.map_err(|error| format!("{error:#}")).and_then(|line| {
                Ok(Cell {
                    ops_per_s: json_number(&line, "ops_per_s").ok_or("no ops_per_s")?,
                    p50_us: json_number(&line, "p50_us").ok_or("no p50_us")?,
                    p99_us: json_number(&line, "p99_us").ok_or("no p99_us")?,
                    errors: json_number(&line, "errors").unwrap_or(0.0) as u64,
                    ops_range: None,
                })
            });
            if let Err(error) = &cell {
                eprintln!("  {op} x{sessions} failed: {error}");
            }
            results.cells.push((op.to_owned(), sessions, cell));
            if !server.is_alive() {
                bail!("{} died during {op} x{sessions}", side.title());
            }
        }
    }
    results.data_bytes = Some(dir_bytes(&server.dir.join("data")));
    server.stop()?;
    Ok(results)
}

/// The `zk-bench` arguments of one load cell: `sessions` sessions of `op` on `address` with
/// [`VALUE_BYTES`]-byte values for `(duration, warmup)` seconds, then `extra`.
fn load_args(
    address: &str,
    op: &str,
    sessions: u32,
    (duration_s, warmup_s): (f64, f64),
    extra: [&str; 2],
) -> Vec<String> {
    let mut args: Vec<String> = [
        "--server",
        address,
        "--op",
        op,
        "--sessions",
        &sessions.to_string(),
        "--value-bytes",
        &VALUE_BYTES.to_string(),
        "--duration-s",
        &duration_s.to_string(),
        "--warmup-s",
        &warmup_s.to_string(),
    ]
    .iter()
    .map(|arg| (*arg).to_owned())
    .collect();
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    args
}

/// Runs `zk-bench` and returns its JSON line; its human line is echoed.
fn zk_bench(generator: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new(generator)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start {}", generator.display()))?;
    json_line(
        &output,
        "  ",
        &format!("zk-bench {}", args.join(" ")),
        "zk-bench",
    )
    .map_err(anyhow::Error::msg)
}

/// The JSON line of a finished `zk-bench` run; its other lines are echoed after `echo_prefix`.
/// `failed` and `silent` name the run in the errors for a failed exit and a missing line.
fn json_line(
    output: &std::process::Output,
    echo_prefix: &str,
    failed: &str,
    silent: &str,
) -> Result<String, String> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    for line in stdout.lines().filter(|line| !line.starts_with('{')) {
        eprintln!("{echo_prefix}{line}");
    }
    if !output.status.success() {
        return Err(format!("{failed} failed with {}", output.status));
    }
    stdout
        .lines()
        .find(|line| line.starts_with('{'))
        .map(str::to_owned)
        .ok_or_else(|| format!("{silent} printed no JSON line"))
}

/// The number after `"key":` in a flat JSON line (`None` for null or a missing key).
fn json_number(line: &str, key: &str) -> Option<f64> {
    let pattern = format!("\"{key}\":");
    let start = line.find(&pattern)? + pattern.len();
    let rest = &line[start..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// Total size of the files under `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => dir_bytes(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Dirty and writeback page-cache bytes under which the disk counts as settled.
const SETTLED_DIRTY_KIB: u64 = 32 * 1024;

/// Lets the disk settle before a server starts: flushes what earlier runs left in the page
/// cache (the previous side's log and snapshots, the removal of its old data directory) and
/// waits, up to 30 s, until little is dirty or under writeback, so that one run's writeback
/// does not land in the next run's first cells.
fn settle_disk() {
    let _ = Command::new("sync").status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        match unsettled_kib() {
            Some(kib) if kib > SETTLED_DIRTY_KIB => std::thread::sleep(Duration::from_millis(200)),
            _ => break,
        }
    }
}

/// Removes `dir` (a side's data from an earlier run) and lets the disk settle.
fn clear_on_settled_disk(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    settle_disk();
    Ok(())
}

/// `Dirty` plus `Writeback` of /proc/meminfo, in KiB.
fn unsettled_kib() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    Some(kib_field(&meminfo, "Dirty:")? + kib_field(&meminfo, "Writeback:")?)
}

fn rss_kib(pid: u32) -> Option<u64> {
    kib_field(
        &std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?,
        "VmRSS:",
    )
}

/// The number after `name` on its line of a /proc file (`VmRSS:   1234 kB`).
fn kib_field(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// A server started for the benchmark; stopped on drop if [`Server::stop`] was not called.
struct Server {
    side: Side,
    pid: u32,
    dir: PathBuf,
    child: Option<Child>,
    stopped: bool,
}

impl Server {
    fn start(side: Side, release: &Path, dir: &Path) -> Result<Server> {
        stop_leftover(side, dir);
        clear_on_settled_disk(dir)?;
        std::fs::create_dir_all(dir.join("data"))?;
        let port = side.port();
        if TcpStream::connect_timeout(&local(port), Duration::from_millis(300)).is_ok() {
            bail!(
                "port {port} is already in use: stop whatever listens there \
                 (an earlier run's server?) and try again"
            );
        }
        let server = match side {
            Side::Ours => Server::start_ours(release, dir)?,
            Side::Apache => Server::start_apache(dir)?,
        };
        if side == Side::Ours {
            // (scripts/apache-zookeeper.sh prints its own line.)
            eprintln!(
                "{} on 127.0.0.1:{port} (pid {}, data in {})",
                side.title(),
                server.pid,
                dir.display()
            );
        }
        Ok(server)
    }

    fn start_ours(release: &Path, dir: &Path) -> Result<Server> {
        let binary = release.join("zk-server");
        if !binary.exists() {
            bail!(
                "our server binary {} does not exist (is zk-server's [[bin]] written yet?); \
                 to measure Apache ZooKeeper alone: cargo xtask bench servers --only apache",
                binary.display()
            );
        }
        let config = dir.join("zoo.cfg");
        std::fs::write(
            &config,
            format!(
                "tickTime=2000\ndataDir={}\nclientPort={OURS_PORT}\nclientPortAddress=127.0.0.1\n\
                 maxClientCnxns=0\n4lw.commands.whitelist=*\n",
                dir.join("data").display()
            ),
        )?;
        let log = std::fs::File::create(dir.join("server.log"))?;
        // WARN, like the log4j configuration Apache ZooKeeper runs with here.
        let child = Command::new(&binary)
            .arg(&config)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("could not start {}", binary.display()))?;
        let pid = child.id();
        std::fs::write(dir.join("pid"), pid.to_string())?;
        let mut server = Server {
            side: Side::Ours,
            pid,
            dir: dir.to_path_buf(),
            child: Some(child),
            stopped: false,
        };
        server.wait_ready().map_err(|error| {
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            error.context(format!(
                "our zk-server did not come up; last lines of {}:\n{}\n\
                 To measure Apache ZooKeeper alone: cargo xtask bench servers --only apache",
                dir.join("server.log").display(),
                tail.join("\n")
            ))
        })?;
        Ok(server)
    }

    fn start_apache(dir: &Path) -> Result<Server> {
        exec(
            Command::new(workspace_root().join("scripts/apache-zookeeper.sh"))
                .arg("start")
                .arg(APACHE_PORT.to_string())
                .arg(dir),
        )
        .context("Apache ZooKeeper did not start (is Debian's `zookeeper` package installed?)")?;
        let pid = std::fs::read_to_string(dir.join("pid"))?
            .trim()
            .parse()
            .context("bad pid file from scripts/apache-zookeeper.sh")?;
        Ok(Server {
            side: Side::Apache,
            pid,
            dir: dir.to_path_buf(),
            child: None,
            stopped: false,
        })
    }

    /// Waits until the server answers `ruok` with `imok`, or (for a server without four-letter
    /// words) has accepted a few connections in a row.
    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut accepted = 0;
        while Instant::now() < deadline {
            if !self.is_alive() {
                bail!("the server exited during startup");
            }
            match ruok(self.side.port()) {
                Ok(true) => return Ok(()),
                Ok(false) => {
                    accepted += 1;
                    if accepted >= 5 {
                        eprintln!(
                            "(server accepts connections but does not answer ruok; going on)"
                        );
                        return Ok(());
                    }
                }
                Err(_) => accepted = 0,
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        bail!("no answer on port {} within 30 s", self.side.port())
    }

    fn is_alive(&self) -> bool {
        Path::new(&format!("/proc/{}", self.pid)).exists() && !is_zombie(self.pid)
    }

    fn stop(mut self) -> Result<()> {
        self.stopped = true;
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<()> {
        match self.side {
            Side::Ours => {
                let _ = Command::new("kill")
                    .arg(self.pid.to_string())
                    .stderr(Stdio::null())
                    .status();
            }
            Side::Apache => {
                let _ = Command::new(workspace_root().join("scripts/apache-zookeeper.sh"))
                    .arg("stop")
                    .arg(&self.dir)
                    .status();
            }
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(child) = &mut self.child {
                if child.try_wait()?.is_some() {
                    break;
                }
            } else if !self.is_alive() {
                break;
            }
            if Instant::now() > deadline {
                if let Some(child) = &mut self.child {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                bail!("{} (pid {}) did not stop", self.side.title(), self.pid);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = std::fs::remove_file(self.dir.join("pid"));
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = self.shutdown();
        }
    }
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(true)
}

/// Stops a server an interrupted earlier run left in `dir` (found by its pid file).
fn stop_leftover(side: Side, dir: &Path) {
    let Ok(pid) = std::fs::read_to_string(dir.join("pid")) else {
        return;
    };
    let pid = pid.trim();
    match side {
        Side::Apache => {
            let _ = Command::new(workspace_root().join("scripts/apache-zookeeper.sh"))
                .arg("stop")
                .arg(dir)
                .status();
        }
        Side::Ours => {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains("zk-server") {
                let _ = Command::new("kill").arg(pid).status();
            }
        }
    }
    std::thread::sleep(Duration::from_secs(1));
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// `Ok(true)` when the server answered `imok`, `Ok(false)` when it accepted the connection but
/// did not, `Err` when nothing listens.
fn ruok(port: u16) -> std::io::Result<bool> {
    let mut stream = TcpStream::connect_timeout(&local(port), Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    stream.write_all(b"ruok")?;
    let mut answer = Vec::new();
    let _ = stream.take(16).read_to_end(&mut answer);
    Ok(answer == b"imok")
}

// ---- the generated docs section -------------------------------------------------------------

fn micros(value: f64) -> String {
    if value >= 1_000.0 {
        thousands(value)
    } else if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a".to_owned(), |kib| {
        format!("{:.0} MiB", kib as f64 / 1024.0)
    })
}

/// The version of Debian's `zookeeper` package.
fn apache_version() -> String {
    command_output("dpkg-query", &["-W", "-f=${Version}", "zookeeper"], true)
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The opening of a generated section: the `begin` marker, a note that `cargo xtask bench
/// <generator>` wrote it, a `## title`, the trial-run warning (with `quick`), then the date,
/// machine, commit and command lines.
fn write_opening(
    s: &mut String,
    begin: &str,
    generator: &str,
    title: Option<&str>,
    quick: bool,
    command: &str,
) {
    let _ = writeln!(s, "{begin}");
    let _ = writeln!(
        s,
        "<!-- generated by `cargo xtask bench {generator}`; edits between the markers are lost -->\n"
    );
    if let Some(title) = title {
        let _ = writeln!(s, "## {title}\n");
    }
    let date = command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"], true)
        .unwrap_or_else(|| "unknown date".to_owned());
    if quick {
        let _ = writeln!(
            s,
            "**Trial run (`--quick`): cells this short only show that the tool works; \
             do not quote these figures.**\n"
        );
    }
    let _ = writeln!(s, "- Date: {date}");
    let _ = writeln!(s, "- Machine: {}", machine_description());
    let _ = writeln!(s, "- Commit: {}", git_commit());
    let _ = writeln!(s, "- Command: `{command}`");
}

/// The load-matrix table: ops/s, ratio and latencies of both sides, every op x sessions.
fn write_matrix(s: &mut String, ours: Option<&Cells>, apache: Option<&Cells>) {
    let _ = writeln!(
        s,
        "| op | sessions | ops/s ours | ops/s ZooKeeper | ours / ZooKeeper | \
         p50 / p99 ours (µs) | p50 / p99 ZooKeeper (µs) |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|");
    for op in OPS {
        for sessions in SESSIONS {
            let ours_cell = ours.and_then(|cells| find_cell(cells, op, sessions));
            let apache_cell = apache.and_then(|cells| find_cell(cells, op, sessions));
            let rate = |cell: Option<&Result<Cell, String>>| match cell {
                None => "not run".to_owned(),
                Some(Err(_)) => "failed".to_owned(),
                Some(Ok(cell)) => {
                    let mut text = thousands(cell.ops_per_s);
                    if let Some((low, high)) = cell.ops_range {
                        let _ = write!(text, " ({}–{})", thousands(low), thousands(high));
                    }
                    if cell.errors > 0 {
                        let _ = write!(text, " ({} errors)", cell.errors);
                    }
                    text
                }
            };
            let latency = |cell: Option<&Result<Cell, String>>| match cell {
                Some(Ok(cell)) => format!("{} / {}", micros(cell.p50_us), micros(cell.p99_us)),
                _ => "–".to_owned(),
            };
            let ratio = match (ours_cell, apache_cell) {
                (Some(Ok(a)), Some(Ok(b))) if b.ops_per_s > 0.0 => {
                    format!("{:.2}", a.ops_per_s / b.ops_per_s)
                }
                _ => "–".to_owned(),
            };
            let _ = writeln!(
                s,
                "| {op} | {sessions} | {} | {} | {ratio} | {} | {} |",
                rate(ours_cell),
                rate(apache_cell),
                latency(ours_cell),
                latency(apache_cell),
            );
        }
    }
}

fn render_section(
    options: &ServersOptions,
    command: &str,
    ours: Option<&SideResults>,
    apache: Option<&SideResults>,
) -> String {
    let apache_version = apache_version();
    let java = command_output("java", &["-version"], true)
        .and_then(|line| {
            line.split('"')
                .nth(1)
                .map(|version| format!("OpenJDK {version}"))
        })
        .unwrap_or_else(|| "Java".to_owned());
    let mut s = String::new();
    write_opening(
        &mut s,
        BEGIN_MARKER,
        "servers",
        None,
        options.quick,
        command,
    );
    let _ = writeln!(
        s,
        "- Servers: our `zk-server` (release build) on 127.0.0.1:{OURS_PORT}; Apache ZooKeeper \
         {apache_version} (Debian package, {java}, `-Xmx1g`) on 127.0.0.1:{APACHE_PORT}; \
         standalone, one at a time, fresh data directories"
    );
    let in_flight = if options.pipeline == 1 {
        "closed loop (one request in flight per session".to_owned()
    } else {
        format!(
            "**pipelined, {} requests in flight per session** (latencies include queueing",
            options.pipeline
        )
    };
    let _ = writeln!(
        s,
        "- Load: `zk-bench`, {in_flight}; each session its own TCP connection), \
         {VALUE_BYTES}-byte values, {} s warmup then {} s measured per cell",
        options.warmup_s, options.duration_s
    );
    write_rounds_line(
        &mut s,
        "server",
        options.rounds,
        "memory figures are medians",
    );
    let durability = |r: Option<&SideResults>| match r.and_then(|r| r.data_bytes) {
        None => "not run".to_owned(),
        Some(0) => "**nothing** (writes were not persisted)".to_owned(),
        Some(bytes) => format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0)),
    };
    let _ = writeln!(
        s,
        "- Durability check, bytes in the data directory after the matrix: ours {}, \
         ZooKeeper {} (ZooKeeper fsyncs each write before answering; set/create figures of a \
         server that persists nothing are not comparable)",
        durability(ours),
        durability(apache)
    );
    let _ = writeln!(s);
    write_matrix(&mut s, ours.map(|r| &r.cells), apache.map(|r| &r.cells));
    let _ = writeln!(s);
    let _ = writeln!(s, "| resident memory (VmRSS) | ours | ZooKeeper |");
    let _ = writeln!(s, "|---|---:|---:|");
    let _ = writeln!(
        s,
        "| empty server, just started | {} | {} |",
        mib(ours.and_then(|r| r.rss_empty_kib)),
        mib(apache.and_then(|r| r.rss_empty_kib)),
    );
    let _ = writeln!(
        s,
        "| after creating {} znodes of {VALUE_BYTES} bytes | {} | {} |",
        thousands(options.znodes as f64),
        mib(ours.and_then(|r| r.rss_loaded_kib)),
        mib(apache.and_then(|r| r.rss_loaded_kib)),
    );
    let populate = |r: Option<&SideResults>| {
        r.and_then(|r| r.populate_s)
            .map_or("–".to_owned(), |s| format!("{s:.1} s"))
    };
    let _ = writeln!(
        s,
        "| (time to create them, 4 sessions x 64 in flight) | {} | {} |",
        populate(ours),
        populate(apache),
    );
    let failures: Vec<String> = [(Side::Ours, ours), (Side::Apache, apache)]
        .iter()
        .filter_map(|(side, r)| r.map(|r| (side, r)))
        .flat_map(|(side, r)| {
            r.cells.iter().filter_map(move |(op, sessions, cell)| {
                cell.as_ref()
                    .err()
                    .map(|error| format!("- {} {op} x{sessions}: {error}", side.title()))
            })
        })
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(s, "\nFailed cells:\n\n{}", failures.join("\n"));
    }
    let _ = write!(s, "{END_MARKER}");
    s
}

/// `old` with the text between the markers replaced by `section` (which holds the markers);
/// appended when the markers are missing.
fn replace_section(old: &str, section: &str) -> String {
    match (old.find(BEGIN_MARKER), old.find(END_MARKER)) {
        (Some(begin), Some(end)) if begin < end => {
            let after = &old[end + END_MARKER.len()..];
            format!("{}{section}{after}", &old[..begin])
        }
        _ => {
            let mut text = old.trim_end().to_owned();
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str("## Whole servers: ours vs Apache ZooKeeper\n\n");
            text.push_str(section);
            text.push('\n');
            text
        }
    }
}

// ---- `cargo xtask bench ensemble` ----------------------------------------------------------------

/// First client port of our ensemble during the benchmark (+100/+200: quorum, election ports;
/// all below Linux's ephemeral range, 32768.., where outgoing connections could hold them).
const ENSEMBLE_OURS_BASE: u16 = 25181;
/// First client port of Apache ZooKeeper's ensemble during the benchmark.
const ENSEMBLE_APACHE_BASE: u16 = 26181;
/// Servers per ensemble.
const ENSEMBLE_SIZE: usize = 3;
/// tickTime of both ensembles (ZooKeeper's sample configuration).
const ENSEMBLE_TICK_MS: u32 = 2000;
/// Markers around the generated section in `target/bench/ensemble.md`.
const ENSEMBLE_BEGIN: &str = "<!-- ensemble:begin -->";
const ENSEMBLE_END: &str = "<!-- ensemble:end -->";

/// Options of `cargo xtask bench ensemble`.
#[derive(Clone, Debug, PartialEq)]
struct EnsembleOptions {
    duration_s: f64,
    warmup_s: f64,
    quick: bool,
    only: Option<Side>,
    failover_runs: usize,
    rounds: usize,
}

impl Default for EnsembleOptions {
    fn default() -> Self {
        EnsembleOptions {
            duration_s: 8.0,
            warmup_s: 2.0,
            quick: false,
            only: None,
            failover_runs: 7,
            rounds: 1,
        }
    }
}

impl EnsembleOptions {
    fn parse(args: &[String]) -> Result<EnsembleOptions> {
        let mut options = EnsembleOptions::default();
        let mut runs = None;
        let common = parse_common(args, "ensemble", |flag, value| {
            match flag {
                "--failover-runs" => runs = Some(positive_count(flag, value()?)?),
                "--rounds" => options.rounds = positive_count(flag, value()?)?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        options.quick = common.quick;
        options.only = common.only;
        (options.duration_s, options.warmup_s) =
            common.durations(options.duration_s, options.warmup_s);
        if options.quick {
            options.failover_runs = 3;
        }
        options.failover_runs = runs.unwrap_or(options.failover_runs);
        Ok(options)
    }

    fn sides(&self) -> Vec<Side> {
        sides(self.only)
    }
}

/// One failover measurement.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Failover {
    /// From the kill to the first write sent after it that succeeded.
    write_ms: f64,
    /// From the kill to the first `srvr` of a survivor that says leader.
    leader_ms: f64,
}

/// Everything measured on one ensemble.
#[derive(Debug, Default)]
struct EnsembleResults {
    cells: Cells,
    failovers: Vec<Failover>,
    failover_error: Option<String>,
    rss_kib: Option<u64>,
    raw: Vec<String>,
}

/// Apache ZooKeeper's ensemble run by `scripts/apache-zookeeper.sh start-ensemble`.
struct ApacheEnsemble {
    dir: PathBuf,
}

impl Drop for ApacheEnsemble {
    fn drop(&mut self) {
        let _ = Command::new(workspace_root().join("scripts/apache-zookeeper.sh"))
            .arg("stop-ensemble")
            .arg(&self.dir)
            .status();
    }
}

/// A running three-server ensemble of either side.
enum Cluster {
    Ours(crate::cluster::Ensemble),
    Apache(ApacheEnsemble),
}

impl Cluster {
    fn start(side: Side, release: &Path, dir: &Path) -> Result<Cluster> {
        let script = workspace_root().join("scripts/apache-zookeeper.sh");
        if side == Side::Apache {
            let _ = Command::new(&script).arg("stop-ensemble").arg(dir).status();
        }
        clear_on_settled_disk(dir)?;
        match side {
            Side::Ours => {
                let spec = crate::cluster::EnsembleSpec {
                    size: ENSEMBLE_SIZE,
                    election_alg: 3,
                    base_port: ENSEMBLE_OURS_BASE,
                    dir: dir.to_path_buf(),
                    tick_time_ms: ENSEMBLE_TICK_MS,
                    // WARN, like the log4j configuration Apache ZooKeeper runs with here.
                    log_filter: "warn".to_owned(),
                };
                let ensemble = crate::cluster::Ensemble::start(&spec, &release.join("zk-server"))?;
                eprintln!("our ensemble: {}", spec.connect_string());
                Ok(Cluster::Ours(ensemble))
            }
            Side::Apache => {
                for sid in 1..=ENSEMBLE_SIZE {
                    let port = crate::cluster::client_port(ENSEMBLE_APACHE_BASE, sid);
                    if TcpStream::connect_timeout(&local(port), Duration::from_millis(300)).is_ok()
                    {
                        bail!("port {port} is already in use: stop whatever listens there");
                    }
                }
                let guard = ApacheEnsemble {
                    dir: dir.to_path_buf(),
                };
                exec(
                    Command::new(&script)
                        .arg("start-ensemble")
                        .arg(ENSEMBLE_SIZE.to_string())
                        .arg(ENSEMBLE_APACHE_BASE.to_string())
                        .arg(dir)
                        .arg(ENSEMBLE_TICK_MS.to_string()),
                )
                .context(
                    "Apache ZooKeeper's ensemble did not start (is Debian's `zookeeper` \
                     package installed?)",
                )?;
                Ok(Cluster::Apache(guard))
            }
        }
    }

    fn ports(&self) -> Vec<u16> {
        match self {
            Cluster::Ours(ensemble) => ensemble.ports(),
            Cluster::Apache(_) => (1..=ENSEMBLE_SIZE)
                .map(|sid| crate::cluster::client_port(ENSEMBLE_APACHE_BASE, sid))
                .collect(),
        }
    }

    fn pid(&self, sid: usize) -> Option<u32> {
        match self {
            Cluster::Ours(ensemble) => self_pid(&ensemble.spec.dir, sid),
            Cluster::Apache(apache) => self_pid(&apache.dir, sid),
        }
    }

    fn kill(&mut self, sid: usize) {
        match self {
            Cluster::Ours(ensemble) => ensemble.kill(sid),
            Cluster::Apache(apache) => {
                if let Some(pid) = self_pid(&apache.dir, sid) {
                    let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
                    // Until the kernel has reaped the JVM's sockets.
                    let deadline = Instant::now() + Duration::from_secs(10);
                    while Path::new(&format!("/proc/{pid}")).exists()
                        && !is_zombie(pid)
                        && Instant::now() < deadline
                    {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    let _ = std::fs::remove_file(apache.dir.join(format!("s{sid}/pid")));
                }
            }
        }
    }

    fn restart(&mut self, sid: usize) -> Result<()> {
        match self {
            Cluster::Ours(ensemble) => ensemble.start_server(sid),
            Cluster::Apache(apache) => exec(
                Command::new(workspace_root().join("scripts/apache-zookeeper.sh"))
                    .arg("start-member")
                    .arg(&apache.dir)
                    .arg(sid.to_string()),
            ),
        }
    }

    /// Waits until one server leads and all serve; the leader's sid.
    fn wait_ready(&mut self) -> Result<usize> {
        match self {
            Cluster::Ours(ensemble) => ensemble.wait_ready(crate::cluster::ELECTION_WAIT),
            Cluster::Apache(_) => {
                let deadline = Instant::now() + crate::cluster::ELECTION_WAIT;
                loop {
                    let view = crate::cluster::View::poll(&self.ports());
                    if let Some(leader) = view.leader() {
                        if view.serving().len() == ENSEMBLE_SIZE {
                            return Ok(leader);
                        }
                    }
                    if Instant::now() > deadline {
                        bail!("Apache ZooKeeper's ensemble did not recover: {view:?}");
                    }
                    std::thread::sleep(Duration::from_millis(250));
                }
            }
        }
    }

    /// Client ports with the followers first, the leader last.
    fn ports_followers_first(&mut self) -> Result<Vec<u16>> {
        let leader = self.wait_ready()?;
        let ports = self.ports();
        let mut ordered: Vec<u16> = ports
            .iter()
            .enumerate()
            .filter(|(i, _)| i + 1 != leader)
            .map(|(_, &port)| port)
            .collect();
        ordered.push(ports[leader - 1]);
        Ok(ordered)
    }

    fn rss_kib(&self) -> Option<u64> {
        (1..=ENSEMBLE_SIZE)
            .map(|sid| self.pid(sid).and_then(rss_kib))
            .sum()
    }
}

fn self_pid(dir: &Path, sid: usize) -> Option<u32> {
    std::fs::read_to_string(dir.join(format!("s{sid}/pid")))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// How `sessions` are spread over `servers` servers: round robin from the first.
fn spread(sessions: u32, servers: usize) -> Vec<u32> {
    let servers = servers.max(1) as u32;
    (0..servers)
        .map(|k| sessions / servers + u32::from(k < sessions % servers))
        .collect()
}

/// One cell: a `zk-bench` process per server with its share of the sessions, all at once;
/// throughput is summed, latency percentiles are the worst process's.
fn ensemble_cell(
    generator: &Path,
    ports: &[u16],
    op: &str,
    sessions: u32,
    options: &EnsembleOptions,
    raw: &mut Vec<String>,
) -> Result<Cell, String> {
    let mut children = Vec::new();
    for (k, (&port, &share)) in ports
        .iter()
        .zip(spread(sessions, ports.len()).iter())
        .enumerate()
    {
        if share == 0 {
            continue;
        }
        let child = Command::new(generator)
            .args(load_args(
                &format!("127.0.0.1:{port}"),
                op,
                share,
                (options.duration_s, options.warmup_s),
                ["--root", &format!("/bench-{k}")],
            ))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| format!("could not start {}: {error}", generator.display()))?;
        children.push((port, child));
    }
    let mut total = Cell::default();
    let mut failure = None;
    for (port, child) in children {
        let outcome = child
            .wait_with_output()
            .map_err(|error| format!("zk-bench on port {port}: {error}"))
            .and_then(|output| {
                let name = format!("zk-bench on port {port}");
                json_line(&output, &format!("  [{port}] "), &name, &name)
            });
        match outcome {
            Ok(line) => {
                total.ops_per_s += json_number(&line, "ops_per_s").unwrap_or(0.0);
                total.p50_us = total
                    .p50_us
                    .max(json_number(&line, "p50_us").unwrap_or(0.0));
                total.p99_us = total
                    .p99_us
                    .max(json_number(&line, "p99_us").unwrap_or(0.0));
                total.errors += json_number(&line, "errors").unwrap_or(0.0) as u64;
                let fields = line.strip_prefix('{').unwrap_or(&line);
                raw.push(format!("{{\"port\":{port},{fields}"));
            }
            Err(error) => failure = Some(error),
        }
    }
    match failure {
        Some(error) => Err(error),
        None => Ok(total),
    }
}

/// Kills the leader while one session writes through a survivor; measures the time to the
/// first write sent after the kill that succeeds and to the first survivor saying leader; then
/// restarts the killed server and waits for the ensemble to be whole again.
fn failover_once(cluster: &mut Cluster) -> Result<Failover> {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    use crate::cluster::{srvr, JuteSession, Mode};

    let leader = cluster.wait_ready()?;
    let ports = cluster.ports();
    let survivors: Vec<u16> = ports
        .iter()
        .enumerate()
        .filter(|(i, _)| i + 1 != leader)
        .map(|(_, &port)| port)
        .collect();
    {
        let mut setup = JuteSession::connect(survivors[0], Duration::from_secs(10))
            .context("session for the failover node")?;
        match setup
            .create("/failover", b"0")
            .context("create /failover")?
        {
            Ok(()) | Err(-110) => {}
            Err(code) => bail!("create /failover failed with error {code}"),
        }
    }

    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));
    let killed_at: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let first_after: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let writer = {
        let (stop, writes) = (stop.clone(), writes.clone());
        let (killed_at, first_after) = (killed_at.clone(), first_after.clone());
        let survivors = survivors.clone();
        std::thread::spawn(move || {
            let mut session: Option<JuteSession> = None;
            let mut next = 0;
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                if session.is_none() {
                    let port = survivors[next % survivors.len()];
                    next += 1;
                    match JuteSession::connect(port, Duration::from_secs(5)) {
                        Ok(s) => session = Some(s),
                        Err(_) => {
                            std::thread::sleep(Duration::from_millis(5));
                            continue;
                        }
                    }
                }
                let Some(s) = session.as_mut() else { continue };
                n += 1;
                let sent = Instant::now();
                match s.set_data("/failover", n.to_string().as_bytes()) {
                    Ok(Ok(())) => {
                        writes.fetch_add(1, Ordering::SeqCst);
                        let killed = *killed_at.lock().unwrap_or_else(|e| e.into_inner());
                        if killed.is_some_and(|killed| sent >= killed) {
                            let mut first = first_after.lock().unwrap_or_else(|e| e.into_inner());
                            first.get_or_insert_with(Instant::now);
                        }
                    }
                    Ok(Err(_)) | Err(_) => {
                        session = None;
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
            }
        })
    };

    let outcome = (|| -> Result<Failover> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while writes.load(Ordering::SeqCst) < 20 {
            if Instant::now() > deadline {
                bail!("the failover writer made no progress before the kill");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        cluster.kill(leader);
        let killed = Instant::now();
        *killed_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(killed);
        let deadline = killed + crate::cluster::ELECTION_WAIT;
        let mut leader_ms = None;
        let mut write_ms = None;
        while leader_ms.is_none() || write_ms.is_none() {
            if leader_ms.is_none() && survivors.iter().any(|&port| srvr(port).0 == Mode::Leader) {
                leader_ms = Some(killed.elapsed().as_secs_f64() * 1000.0);
            }
            if write_ms.is_none() {
                if let Some(first) = *first_after.lock().unwrap_or_else(|e| e.into_inner()) {
                    write_ms = Some((first - killed).as_secs_f64() * 1000.0);
                }
            }
            if Instant::now() > deadline {
                bail!("no new leader or no successful write within the election wait");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(Failover {
            write_ms: write_ms.unwrap_or_default(),
            leader_ms: leader_ms.unwrap_or_default(),
        })
    })();
    stop.store(true, Ordering::SeqCst);
    let _ = writer.join();
    cluster.restart(leader)?;
    cluster.wait_ready()?;
    outcome
}

fn bench_ensemble_side(
    side: Side,
    options: &EnsembleOptions,
    release: &Path,
    bench_dir: &Path,
    generator: &Path,
) -> Result<EnsembleResults> {
    let mut results = EnsembleResults::default();
    eprintln!(
        "\n== {}: ensemble of {ENSEMBLE_SIZE}, load matrix",
        side.title()
    );
    let mut cluster = Cluster::start(
        side,
        release,
        &bench_dir.join(format!("ensemble-{}", side.name())),
    )?;
    let ports = cluster.ports_followers_first()?;
    for op in OPS {
        for sessions in SESSIONS {
            let cell = ensemble_cell(generator, &ports, op, sessions, options, &mut results.raw);
            if let Err(error) = &cell {
                eprintln!("  {op} x{sessions} failed: {error}");
            }
            results.cells.push((op.to_owned(), sessions, cell));
        }
    }
    results.rss_kib = cluster.rss_kib();

    eprintln!(
        "\n== {}: failover, {} runs",
        side.title(),
        options.failover_runs
    );
    for run in 1..=options.failover_runs {
        match failover_once(&mut cluster) {
            Ok(failover) => {
                eprintln!(
                    "  run {run}: first write after {:.0} ms, new leader after {:.0} ms",
                    failover.write_ms, failover.leader_ms
                );
                results.raw.push(format!(
                    "{{\"failover_run\":{run},\"write_ms\":{:.1},\"leader_ms\":{:.1}}}",
                    failover.write_ms, failover.leader_ms
                ));
                results.failovers.push(failover);
            }
            Err(error) => {
                eprintln!("  run {run} failed: {error:#}");
                results.failover_error = Some(format!("{error:#}"));
                break;
            }
        }
    }
    drop(cluster);
    Ok(results)
}

fn run_ensemble_bench(options: &EnsembleOptions, command: &str) -> Result<()> {
    let started = Instant::now();
    let server_failed = |error: anyhow::Error| {
        error.context(
            "our zk-server does not build; to measure Apache ZooKeeper alone: \
             cargo xtask bench ensemble --only apache",
        )
    };
    // Round by round, the sides alternate, as for servers.
    let order: Vec<Side> = (0..options.rounds).flat_map(|_| options.sides()).collect();
    let all = measure_sides(
        &order,
        server_failed,
        "ensemble.jsonl",
        |side, built| {
            let measured = bench_ensemble_side(
                side,
                options,
                &built.release,
                &built.bench_dir,
                &built.generator,
            );
            Ok(measured.unwrap_or_else(|error| {
                eprintln!("{} ensemble benchmark failed: {error:#}", side.title());
                EnsembleResults {
                    failover_error: Some(format!("{error:#}")),
                    ..EnsembleResults::default()
                }
            }))
        },
        |results: &EnsembleResults| &results.raw,
    )?;
    let bench_dir = target_dir().join("bench");
    let (ours, apache) = (
        merge_ensemble_rounds(&rounds_of(&all, Side::Ours)),
        merge_ensemble_rounds(&rounds_of(&all, Side::Apache)),
    );
    let section = render_ensemble_section(options, command, ours.as_ref(), apache.as_ref());
    eprintln!("\n{section}");
    let out = bench_dir.join("ensemble.md");
    std::fs::write(&out, format!("{section}\n"))?;
    eprintln!(
        "wrote {} (paste it into docs/benchmarks.md); done in {:.0} s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    let broken: Vec<&str> = all
        .iter()
        .filter(|(_, r)| r.cells.is_empty() || r.failover_error.is_some())
        .map(|(side, _)| side.title())
        .collect();
    if !broken.is_empty() {
        bail!(
            "the ensemble benchmark did not complete for {}",
            broken.join(" and ")
        );
    }
    Ok(())
}

/// One side's ensemble rounds as one result: cells as [`merge_cells`] makes them, every
/// failover run of every round, the median memory, the first failover error. `None` when the
/// side did not run.
fn merge_ensemble_rounds(rounds: &[&EnsembleResults]) -> Option<EnsembleResults> {
    if rounds.is_empty() {
        return None;
    }
    let mut rss: Vec<f64> = rounds
        .iter()
        .filter_map(|r| r.rss_kib.map(|k| k as f64))
        .collect();
    Some(EnsembleResults {
        cells: merge_cells(&rounds.iter().map(|r| &r.cells).collect::<Vec<_>>()),
        failovers: rounds.iter().flat_map(|r| r.failovers.clone()).collect(),
        failover_error: rounds.iter().find_map(|r| r.failover_error.clone()),
        rss_kib: median(&mut rss).map(|k| k as u64),
        raw: rounds.iter().flat_map(|r| r.raw.iter().cloned()).collect(),
    })
}

fn render_ensemble_section(
    options: &EnsembleOptions,
    command: &str,
    ours: Option<&EnsembleResults>,
    apache: Option<&EnsembleResults>,
) -> String {
    let apache_version = apache_version();
    let mut s = String::new();
    write_opening(
        &mut s,
        ENSEMBLE_BEGIN,
        "ensemble",
        Some("Ensembles of three: ours vs Apache ZooKeeper"),
        options.quick,
        command,
    );
    let _ = writeln!(
        s,
        "- Ensembles: {ENSEMBLE_SIZE} servers on this one machine, 127.0.0.1; our `zk-server` \
         (release build, client ports {ENSEMBLE_OURS_BASE}..) and Apache ZooKeeper \
         {apache_version} (Debian package, `-Xmx1g` each, client ports {ENSEMBLE_APACHE_BASE}..); \
         tickTime {ENSEMBLE_TICK_MS} ms, initLimit 10, syncLimit 5, FastLeaderElection; one \
         ensemble at a time, fresh data directories"
    );
    let _ = writeln!(
        s,
        "- Load: `zk-bench`, closed loop, {VALUE_BYTES}-byte values, {} s warmup then {} s \
         measured per cell; the sessions are spread over the servers, followers first (1 session: \
         a follower; 16: 6/5/5 with the leader last), one `zk-bench` process per server; ops/s \
         are summed, p50/p99 are the worst process's",
        options.warmup_s, options.duration_s
    );
    write_rounds_line(
        &mut s,
        "ensemble",
        options.rounds,
        "failover figures are over the runs of every round, memory is the median round's",
    );
    let _ = writeln!(s);
    write_matrix(&mut s, ours.map(|r| &r.cells), apache.map(|r| &r.cells));
    let _ = writeln!(s);
    let failover = |r: Option<&EnsembleResults>, pick: fn(&Failover) -> f64| match r {
        None => "not run".to_owned(),
        Some(r) if r.failovers.is_empty() => "failed".to_owned(),
        Some(r) => {
            let mut values: Vec<f64> = r.failovers.iter().map(pick).collect();
            let runs: Vec<String> = values.iter().map(|v| format!("{v:.0}")).collect();
            let median = median(&mut values).unwrap_or_default();
            format!("**{median:.0} ms** ({})", runs.join(", "))
        }
    };
    let _ = writeln!(
        s,
        "| failover: kill -9 of the leader under one writing session (median of {} runs; \
         each run) | ours | ZooKeeper |",
        options.failover_runs * options.rounds
    );
    let _ = writeln!(s, "|---|---:|---:|");
    let _ = writeln!(
        s,
        "| kill → first successful write sent after it, through a survivor | {} | {} |",
        failover(ours, |f| f.write_ms),
        failover(apache, |f| f.write_ms)
    );
    let _ = writeln!(
        s,
        "| kill → a survivor answers `srvr` as leader | {} | {} |",
        failover(ours, |f| f.leader_ms),
        failover(apache, |f| f.leader_ms)
    );
    let _ = writeln!(
        s,
        "| resident memory of the {ENSEMBLE_SIZE} servers after the matrix (VmRSS, summed) | {} | {} |",
        mib(ours.and_then(|r| r.rss_kib)),
        mib(apache.and_then(|r| r.rss_kib)),
    );
    let mut failures: Vec<String> = Vec::new();
    for (side, r) in [(Side::Ours, ours), (Side::Apache, apache)] {
        let Some(r) = r else { continue };
        for (op, sessions, cell) in &r.cells {
            if let Err(error) = cell {
                failures.push(format!("- {} {op} x{sessions}: {error}", side.title()));
            }
        }
        if let Some(error) = &r.failover_error {
            failures.push(format!("- {}: {error}", side.title()));
        }
    }
    if !failures.is_empty() {
        let _ = writeln!(s, "\nFailures:\n\n{}", failures.join("\n"));
    }
    let _ = write!(s, "{ENSEMBLE_END}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::strings;

    #[test]
    fn proc_fields_are_read_by_name() {
        let meminfo = "MemTotal: 24000000 kB\nDirty:      1536 kB\nWriteback:     0 kB\n";
        assert_eq!(kib_field(meminfo, "Dirty:"), Some(1536));
        assert_eq!(kib_field(meminfo, "Writeback:"), Some(0));
        assert_eq!(kib_field(meminfo, "VmRSS:"), None);
        assert_eq!(kib_field("VmRSS:\t  5120 kB\n", "VmRSS:"), Some(5120));
    }

    #[test]
    fn servers_options() {
        assert_eq!(
            ServersOptions::parse(&[]).unwrap(),
            ServersOptions::default()
        );
        let quick = ServersOptions::parse(&strings("--quick --only apache")).unwrap();
        assert_eq!((quick.duration_s, quick.warmup_s), (2.0, 1.0));
        assert_eq!(quick.sides(), vec![Side::Apache]);
        let explicit =
            ServersOptions::parse(&strings("--quick --duration-s 5 --znodes 10 --no-docs"))
                .unwrap();
        assert_eq!(explicit.duration_s, 5.0);
        assert_eq!(explicit.znodes, 10);
        assert!(!explicit.write_docs);
        assert_eq!(explicit.pipeline, 1);
        let pipelined = ServersOptions::parse(&strings("--pipeline 16")).unwrap();
        assert_eq!(pipelined.pipeline, 16);
        assert!(ServersOptions::parse(&strings("--pipeline 0")).is_err());
        assert_eq!(ServersOptions::parse(&[]).unwrap().rounds, 1);
        assert_eq!(
            ServersOptions::parse(&strings("--rounds 3"))
                .unwrap()
                .rounds,
            3
        );
        assert!(ServersOptions::parse(&strings("--rounds 0")).is_err());
        assert!(ServersOptions::parse(&strings("--only both")).is_err());
        assert!(ServersOptions::parse(&strings("--duration-s 0")).is_err());
        assert!(ServersOptions::parse(&strings("--bogus")).is_err());
    }

    #[test]
    fn rounds_merge_into_the_median_round_of_each_cell_with_the_range() {
        let cell = |ops: f64, p50: f64| {
            Ok(Cell {
                ops_per_s: ops,
                p50_us: p50,
                p99_us: 2.0 * p50,
                errors: 0,
                ops_range: None,
            })
        };
        let round = |ops: f64, p50: f64, rss: u64| SideResults {
            cells: vec![
                ("get".to_owned(), 1, cell(ops, p50)),
                ("set".to_owned(), 1, Err("refused".to_owned())),
            ],
            rss_empty_kib: Some(rss),
            raw: vec![format!("{{\"ops_per_s\":{ops}}}")],
            ..SideResults::default()
        };
        let rounds = [
            round(3000.0, 30.0, 5),
            round(1000.0, 10.0, 7),
            round(2000.0, 20.0, 6),
        ];
        let merged = merge_rounds(&rounds.iter().collect::<Vec<_>>()).unwrap();
        let Some(Ok(get)) = find_cell(&merged.cells, "get", 1) else {
            panic!("no get cell: {:?}", merged.cells);
        };
        assert_eq!(
            (get.ops_per_s, get.p50_us, get.ops_range),
            (2000.0, 20.0, Some((1000.0, 3000.0)))
        );
        assert!(matches!(find_cell(&merged.cells, "set", 1), Some(Err(_))));
        assert_eq!(merged.rss_empty_kib, Some(6));
        assert_eq!(merged.raw.len(), 3);
        let mut table = String::new();
        write_matrix(&mut table, Some(&merged.cells), None);
        assert!(
            table.contains("| get | 1 | 2,000 (1,000–3,000) |"),
            "{table}"
        );
        let single = merge_rounds(&[&rounds[0]]).unwrap();
        assert_eq!(single.cells.len(), 2);
        assert!(matches!(
            find_cell(&single.cells, "get", 1),
            Some(Ok(Cell {
                ops_range: None,
                ..
            }))
        ));
        assert!(merge_rounds(&[]).is_none());
    }

    #[test]
    fn ensemble_rounds_merge_cells_and_pool_the_failover_runs() {
        let round = |ops: f64, failover_ms: f64, rss: u64| EnsembleResults {
            cells: vec![(
                "set".to_owned(),
                16,
                Ok(Cell {
                    ops_per_s: ops,
                    ..Cell::default()
                }),
            )],
            failovers: vec![Failover {
                write_ms: failover_ms,
                leader_ms: failover_ms - 1.0,
            }],
            rss_kib: Some(rss),
            raw: vec![String::new()],
            ..EnsembleResults::default()
        };
        let mut broken = round(500.0, 9.0, 1);
        broken.failover_error = Some("no leader".to_owned());
        let rounds = [round(300.0, 7.0, 30), round(100.0, 5.0, 10), broken];
        let merged = merge_ensemble_rounds(&rounds.iter().collect::<Vec<_>>()).unwrap();
        let Some(Ok(set)) = find_cell(&merged.cells, "set", 16) else {
            panic!("no set cell: {:?}", merged.cells);
        };
        assert_eq!(
            (set.ops_per_s, set.ops_range),
            (300.0, Some((100.0, 500.0)))
        );
        let writes: Vec<f64> = merged.failovers.iter().map(|f| f.write_ms).collect();
        assert_eq!(writes, vec![7.0, 5.0, 9.0]);
        assert_eq!(merged.rss_kib, Some(10));
        assert_eq!(merged.failover_error.as_deref(), Some("no leader"));
        assert_eq!(merged.raw.len(), 3);
        assert!(merge_ensemble_rounds(&[]).is_none());
    }

    #[test]
    fn ensemble_options_and_spread() {
        let defaults = EnsembleOptions::parse(&[]).unwrap();
        assert_eq!(defaults, EnsembleOptions::default());
        let quick = EnsembleOptions::parse(&strings("--quick --only ours")).unwrap();
        assert_eq!((quick.duration_s, quick.failover_runs), (2.0, 3));
        assert_eq!(quick.sides(), vec![Side::Ours]);
        let runs = EnsembleOptions::parse(&strings("--quick --failover-runs 5")).unwrap();
        assert_eq!(runs.failover_runs, 5);
        assert_eq!(runs.rounds, 1);
        let rounds = EnsembleOptions::parse(&strings("--rounds 3 --failover-runs 2")).unwrap();
        assert_eq!((rounds.rounds, rounds.failover_runs), (3, 2));
        assert!(EnsembleOptions::parse(&strings("--rounds 0")).is_err());
        assert!(EnsembleOptions::parse(&strings("--failover-runs 0")).is_err());
        assert!(EnsembleOptions::parse(&strings("--bogus")).is_err());
        assert_eq!(spread(1, 3), vec![1, 0, 0]);
        assert_eq!(spread(16, 3), vec![6, 5, 5]);
        assert_eq!(spread(64, 3), vec![22, 21, 21]);
    }

    #[test]
    fn the_ensemble_section_has_both_tables() {
        let ours = EnsembleResults {
            cells: vec![(
                "get".to_owned(),
                1,
                Ok(Cell {
                    ops_per_s: 1000.0,
                    p50_us: 50.0,
                    p99_us: 200.0,
                    errors: 0,
                    ops_range: None,
                }),
            )],
            failovers: vec![
                Failover {
                    write_ms: 300.0,
                    leader_ms: 250.0,
                },
                Failover {
                    write_ms: 100.0,
                    leader_ms: 90.0,
                },
                Failover {
                    write_ms: 200.0,
                    leader_ms: 150.0,
                },
            ],
            ..EnsembleResults::default()
        };
        let section =
            render_ensemble_section(&EnsembleOptions::default(), "cmd", Some(&ours), None);
        assert!(section.starts_with(ENSEMBLE_BEGIN) && section.ends_with(ENSEMBLE_END));
        assert!(section.contains("| get | 1 | 1,000 | not run | – | 50.0 / 200 | – |"));
        assert!(section.contains("**200 ms** (300, 100, 200)"), "{section}");
        assert!(section.contains("**150 ms** (250, 90, 150)"), "{section}");
    }

    #[test]
    fn load_cells_pass_the_same_arguments() {
        assert_eq!(
            load_args("127.0.0.1:1", "set", 16, (2.0, 0.5), ["--pipeline", "4"]),
            strings(
                "--server 127.0.0.1:1 --op set --sessions 16 --value-bytes 100 --duration-s 2 \
                 --warmup-s 0.5 --pipeline 4"
            )
        );
    }

    #[test]
    fn numbers_are_read_from_a_json_line() {
        let line = r#"{"op":"get","ops_per_s":1234.500,"p50_us":88.000,"rss_kib":null}"#;
        assert_eq!(json_number(line, "ops_per_s"), Some(1234.5));
        assert_eq!(json_number(line, "p50_us"), Some(88.0));
        assert_eq!(json_number(line, "rss_kib"), None);
        assert_eq!(json_number(line, "missing"), None);
    }

    #[test]
    fn the_section_between_markers_is_replaced() {
        let old = format!("intro\n{BEGIN_MARKER}\nold\n{END_MARKER}\ntail\n");
        let new = replace_section(&old, &format!("{BEGIN_MARKER}\nnew\n{END_MARKER}"));
        assert_eq!(
            new,
            format!("intro\n{BEGIN_MARKER}\nnew\n{END_MARKER}\ntail\n")
        );
        let appended = replace_section("intro\n", &format!("{BEGIN_MARKER}\nx\n{END_MARKER}"));
        assert!(appended.starts_with("intro\n\n## "));
        assert!(appended.ends_with(&format!("{END_MARKER}\n")));
    }

    #[test]
    fn numbers_are_formatted_for_the_table() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(micros(42.26), "42.3");
        assert_eq!(micros(250.4), "250");
        assert_eq!(micros(12345.0), "12,345");
        assert_eq!(micros(1810.2), "1,810");
        assert_eq!(mib(Some(2048)), "2 MiB");
        assert_eq!(mib(None), "n/a");
    }
}
