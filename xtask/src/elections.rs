//! `cargo xtask elections`: election time and messages per algorithm with real processes.
//!
//! `cargo xtask elections [--quick] [--sizes 3,5,7,9] [--algs 1,2,3] [--runs N]` builds
//! `zk-server` in release and, for every election algorithm (1 = LeaderElection over UDP, 2 =
//! AuthFastLeaderElection over UDP with an `authFleSecret`, 3 = FastLeaderElection over TCP) and
//! every ensemble size, runs fresh ensembles on 127.0.0.1 with ZooKeeper's default timing
//! (tickTime=2000, initLimit=10, syncLimit=5), each server with its own fresh dataDir under
//! `target/elections/`. Every run measures two phases:
//!
//! 1. Cold start: every server is started at once; the time from the start until every server
//!    answers `srvr` with a Mode, and the election messages the servers sent (the sum of `mntr`'s
//!    `zk_election_messages_sent`).
//! 2. Leader crash: `kill -9` of the leader; the time from the kill until a survivor answers
//!    `srvr` as leader, until every survivor serves again, and until a write (`setData` through a
//!    fresh session, raw jute) succeeds through a survivor; and the election messages the
//!    survivors sent (the difference of their `mntr` counters before and after).
//!
//! Every server is polled with `srvr` by its own thread about every 10 ms; a server's time is the
//! first answer of its current streak of serving answers, so a server that serves, falls back to
//! LOOKING and serves again counts from the second time. A phase that does not converge within
//! 60 s is a failure: the table counts it and the section ends with the last lines of every
//! server's log.
//!
//! The runs are interleaved (run 1 of every algorithm and size, then run 2, ...), so a burst of
//! load from elsewhere on the machine does not land on a single algorithm. Every run takes a fresh
//! block of ports (client `P + k - 1`, quorum `P + 100 + k - 1`, election `P + 200 + k - 1` for
//! server k, P in 21000..31800, below the kernel's ephemeral range).
//!
//! The section goes to `target/bench/elections.md` (between `<!-- elections:begin -->` and
//! `<!-- elections:end -->`, for docs/benchmarks.md) and to stdout.
//!
//! No orphans: dropping a run's [`Ensemble`] kills its servers, Ctrl-C reaches them too (same
//! process group), and a watchdog in its own session kills every server whose pid file is left
//! once this process is gone, however it died.

use std::fmt::Write as _;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::cluster::{four_letter, srvr, Ensemble, EnsembleSpec, JuteSession, Mode};
use crate::report::{command_output, git_commit, machine_description, median, thousands};
use crate::util::{cargo, run as exec, target_dir, workspace_root};

const USAGE: &str = "\
usage: cargo xtask elections [--quick] [--sizes 3,5,7,9] [--algs 1,2,3] [--runs N]

For each election algorithm (1 LeaderElection/UDP, 2 AuthFastLeaderElection/UDP with a secret,
3 FastLeaderElection/TCP) and ensemble size, starts real zk-server processes (release build) on
127.0.0.1 with tickTime=2000, initLimit=10, syncLimit=5 and measures the cold-start election and
the election after kill -9 of the leader (time, messages, first write). Median (min-max) of the
runs; writes target/bench/elections.md and prints it.

  --quick        sizes 3,5 and 3 runs (unless --sizes/--runs say otherwise)
  --sizes LIST   ensemble sizes (default 3,5,7,9)
  --algs LIST    electionAlg values (default 1,2,3)
  --runs N       runs per algorithm and size (default 5; --quick: 3)";

/// How long a phase may take before it counts as a failure.
const CONVERGE_WAIT: Duration = Duration::from_secs(60);
/// Pause between two `srvr` polls of one server.
const POLL_EVERY: Duration = Duration::from_millis(10);
/// The first port of the first block; blocks are `PORT_BLOCK` wide.
const FIRST_PORT: u16 = 21_000;
const PORT_BLOCK: u16 = 300;
/// Blocks in 21000..31800 (below the ephemeral range 32768..).
const PORT_BLOCKS: u16 = 36;
/// initLimit × tickTime of the benchmark's configuration: runs this slow are listed.
const SLOW_MS: f64 = 20_000.0;
/// Lines of each server's log quoted for a failed run.
const LOG_TAIL_LINES: usize = 12;
/// Markers around the generated section.
const BEGIN_MARKER: &str = "<!-- elections:begin -->";
const END_MARKER: &str = "<!-- elections:end -->";

// ---- options -----------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
struct Options {
    sizes: Vec<usize>,
    algs: Vec<u8>,
    runs: usize,
    quick: bool,
}

fn parse_list<T: std::str::FromStr>(flag: &str, value: &str) -> Result<Vec<T>> {
    let items: Vec<T> = value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse().map_err(|_| {
                anyhow::anyhow!("{flag} wants a comma-separated list of numbers, got {value:?}")
            })
        })
        .collect::<Result<_>>()?;
    if items.is_empty() {
        bail!("{flag} needs at least one value");
    }
    Ok(items)
}

fn parse(args: &[String]) -> Result<Options> {
    let mut quick = false;
    let mut sizes: Option<Vec<usize>> = None;
    let mut algs: Vec<u8> = vec![1, 2, 3];
    let mut runs: Option<usize> = None;
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        match flag.as_str() {
            "-h" | "--help" | "help" => {
                eprintln!("{USAGE}");
                bail!("usage shown");
            }
            "--quick" => {
                quick = true;
                continue;
            }
            _ => {}
        }
        let value = iter
            .next()
            .with_context(|| format!("{flag} needs a value\n\n{USAGE}"))?;
        match flag.as_str() {
            "--sizes" => {
                let list: Vec<usize> = parse_list(flag, value)?;
                if list.iter().any(|size| !(3..=50).contains(size)) {
                    bail!("--sizes: every size must be in 3..=50 (a quorum must survive the kill)");
                }
                sizes = Some(list);
            }
            "--algs" => {
                let list: Vec<u8> = parse_list(flag, value)?;
                if list.iter().any(|alg| !(1..=3).contains(alg)) {
                    bail!("--algs takes 1, 2 and 3 (electionAlg values)");
                }
                algs = list;
            }
            "--runs" => {
                let n: usize = value
                    .parse()
                    .with_context(|| format!("--runs wants a number, got {value:?}"))?;
                if !(1..=100).contains(&n) {
                    bail!("--runs must be in 1..=100");
                }
                runs = Some(n);
            }
            other => bail!("unknown argument {other:?}\n\n{USAGE}"),
        }
    }
    let sizes = sizes.unwrap_or_else(|| if quick { vec![3, 5] } else { vec![3, 5, 7, 9] });
    let runs = runs.unwrap_or(if quick { 3 } else { 5 });
    Ok(Options {
        sizes,
        algs,
        runs,
        quick,
    })
}

fn alg_name(alg: u8) -> &'static str {
    match alg {
        1 => "1 LeaderElection (UDP)",
        2 => "2 AuthFastLeaderElection (UDP, secret)",
        _ => "3 FastLeaderElection (TCP)",
    }
}

// ---- layout and configuration ------------------------------------------------------------------

/// The ensemble of one run: ZooKeeper's default timing (tickTime 2000; initLimit and syncLimit
/// are [`crate::cluster::local_zoo_cfg`]'s 10 and 5), servers logging at `info`.
fn run_spec(size: usize, election_alg: u8, base_port: u16, dir: PathBuf) -> EnsembleSpec {
    EnsembleSpec {
        size,
        election_alg,
        base_port,
        dir,
        tick_time_ms: 2000,
        log_filter: "info".to_owned(),
    }
}

/// Whether every port of `spec` can be bound now (TCP, and UDP for the election ports).
fn ports_free(spec: &EnsembleSpec) -> bool {
    (1..=spec.size).all(|sid| {
        let tcp = [
            spec.client_port(sid),
            spec.quorum_port(sid),
            spec.election_port(sid),
        ];
        tcp.iter()
            .all(|&port| TcpListener::bind(("127.0.0.1", port)).is_ok())
            && [spec.quorum_port(sid), spec.election_port(sid)]
                .iter()
                .all(|&port| UdpSocket::bind(("127.0.0.1", port)).is_ok())
    })
}

/// Hands out port blocks in turn, skipping blocks with a port in use.
struct PortBlocks {
    next: u16,
}

impl PortBlocks {
    fn take(&mut self, size: usize, election_alg: u8, dir: PathBuf) -> Result<EnsembleSpec> {
        for _ in 0..PORT_BLOCKS {
            let base_port = FIRST_PORT + (self.next % PORT_BLOCKS) * PORT_BLOCK;
            self.next = self.next.wrapping_add(1);
            let spec = run_spec(size, election_alg, base_port, dir.clone());
            if ports_free(&spec) {
                return Ok(spec);
            }
        }
        bail!(
            "no free block of ports in {FIRST_PORT}..{}",
            FIRST_PORT + PORT_BLOCKS * PORT_BLOCK
        )
    }
}

// ---- the processes -----------------------------------------------------------------------------

/// Kills zk-server processes an interrupted earlier run left under `root` (by their pid files).
fn stop_leftovers(root: &Path) {
    let Ok(runs) = std::fs::read_dir(root) else {
        return;
    };
    for run in runs.flatten() {
        let Ok(servers) = std::fs::read_dir(run.path()) else {
            continue;
        };
        for server in servers.flatten() {
            crate::cluster::stop_leftover(&server.path());
        }
    }
}

// ---- observing the servers ---------------------------------------------------------------------

/// The modes one server answered, each with the moment it was first seen (changes only).
type History = Vec<(Instant, Mode)>;

/// One thread per server polling `srvr` about every 10 ms; stopped and joined on drop.
struct Pollers {
    stop: Arc<AtomicBool>,
    /// Per server (index sid - 1): whether its thread still polls.
    active: Vec<Arc<AtomicBool>>,
    histories: Vec<Arc<Mutex<History>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Pollers {
    fn start(ports: &[u16]) -> Pollers {
        let stop = Arc::new(AtomicBool::new(false));
        let mut pollers = Pollers {
            stop: stop.clone(),
            active: Vec::new(),
            histories: Vec::new(),
            threads: Vec::new(),
        };
        for &port in ports {
            let active = Arc::new(AtomicBool::new(true));
            let history: Arc<Mutex<History>> = Arc::new(Mutex::new(Vec::new()));
            let thread = {
                let (stop, active, history) = (stop.clone(), active.clone(), history.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        if active.load(Ordering::SeqCst) {
                            let (mode, _) = srvr(port);
                            let seen = Instant::now();
                            let mut history = history.lock().unwrap_or_else(|e| e.into_inner());
                            if history.last().map(|(_, last)| *last) != Some(mode) {
                                history.push((seen, mode));
                            }
                        }
                        std::thread::sleep(POLL_EVERY);
                    }
                })
            };
            pollers.active.push(active);
            pollers.histories.push(history);
            pollers.threads.push(thread);
        }
        pollers
    }

    /// Stops polling server `sid` (it was killed).
    fn retire(&self, sid: usize) {
        self.active[sid - 1].store(false, Ordering::SeqCst);
    }

    fn history(&self, sid: usize) -> History {
        self.histories[sid - 1]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for Pollers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// The mode a history ends with.
fn current_mode(history: &History) -> Mode {
    history.last().map_or(Mode::Down, |(_, mode)| *mode)
}

/// When the server's current streak of serving answers began, if it serves now and the streak
/// began after `after`.
fn serving_since(history: &History, after: Instant) -> Option<Instant> {
    let mut since = None;
    for (seen, mode) in history.iter().rev() {
        if !mode.serving() {
            break;
        }
        since = Some(*seen);
    }
    since.filter(|since| *since > after)
}

/// The first answer `leader` seen after `after`.
fn first_leader_after(history: &History, after: Instant) -> Option<Instant> {
    history
        .iter()
        .find(|(seen, mode)| *mode == Mode::Leader && *seen > after)
        .map(|(seen, _)| *seen)
}

/// The numbers of a `mntr` answer by key (`zk_` prefix included).
fn mntr_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once('\t')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// `mntr` of the server on `port`, retried while it does not answer (up to 10 s).
fn mntr(port: u16) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(text) = four_letter(port, "mntr") {
            if text.contains("zk_election_messages_sent") {
                return Ok(text);
            }
        }
        if Instant::now() > deadline {
            bail!("mntr on port {port} gave no election counters within 10 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A server's election figures from `mntr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Counters {
    /// `zk_election_messages_sent`: messages its elections sent, up to its last decision.
    messages_sent: u64,
    /// `zk_election_count`: elections it took part in.
    elections: u64,
    /// `zk_last_election_time_ms`: LOOKING to decision, its last election.
    last_election_ms: u64,
}

impl Counters {
    fn parse(text: &str) -> Counters {
        Counters {
            messages_sent: mntr_value(text, "zk_election_messages_sent").unwrap_or(0),
            elections: mntr_value(text, "zk_election_count").unwrap_or(0),
            last_election_ms: mntr_value(text, "zk_last_election_time_ms").unwrap_or(0),
        }
    }
}

/// The election figures of the server on `port`.
fn election_counters(port: u16) -> Result<Counters> {
    Ok(Counters::parse(&mntr(port)?))
}

// ---- one run -----------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
struct ColdStart {
    all_serving_ms: f64,
    /// The slowest server's `zk_last_election_time_ms` (LOOKING to decision).
    election_ms: u64,
    messages: u64,
}

#[derive(Clone, Debug, PartialEq)]
struct Failover {
    leader_ms: f64,
    all_serving_ms: f64,
    write_ms: f64,
    /// The slowest survivor's `zk_last_election_time_ms` (LOOKING to decision).
    election_ms: u64,
    messages: u64,
}

/// What one run measured; a failed phase holds its reason (with the log tails).
#[derive(Clone, Debug)]
struct RunResult {
    alg: u8,
    size: usize,
    run: usize,
    cold: std::result::Result<ColdStart, String>,
    failover: std::result::Result<Failover, String>,
}

fn ms_between(from: Instant, to: Instant) -> f64 {
    to.saturating_duration_since(from).as_secs_f64() * 1000.0
}

fn run_once(binary: &Path, spec: EnsembleSpec, alg: u8, run: usize) -> RunResult {
    let mut result = RunResult {
        alg,
        size: spec.size,
        run,
        cold: Err("not run".to_owned()),
        failover: Err("not run (cold start failed)".to_owned()),
    };
    let mut ensemble = match Ensemble::prepare(&spec, binary) {
        Ok(ensemble) => ensemble,
        Err(error) => {
            result.cold = Err(format!(
                "could not prepare {}: {error:#}",
                spec.dir.display()
            ));
            return result;
        }
    };
    let ports = ensemble.ports();
    let pollers = Pollers::start(&ports);
    let leader = match cold_start(&mut ensemble, &pollers, &ports) {
        Ok((cold, leader)) => {
            result.cold = Ok(cold);
            leader
        }
        Err(error) => {
            result.cold = Err(format!("{error:#}\n{}", ensemble.log_tails(LOG_TAIL_LINES)));
            return result;
        }
    };
    result.failover = failover(&mut ensemble, &pollers, &ports, leader)
        .map_err(|error| format!("{error:#}\n{}", ensemble.log_tails(LOG_TAIL_LINES)));
    drop(pollers);
    drop(ensemble);
    result
}

/// Starts every server; waits until one leads and all serve. The figures and the leader's sid.
fn cold_start(
    ensemble: &mut Ensemble,
    pollers: &Pollers,
    ports: &[u16],
) -> Result<(ColdStart, usize)> {
    let size = ports.len();
    let started = Instant::now();
    for sid in 1..=size {
        ensemble.start_server(sid)?;
    }
    let deadline = started + CONVERGE_WAIT;
    let (all_serving, leader) = loop {
        if let Some((sid, status)) = ensemble.exited().first() {
            bail!("server {sid} exited during the cold start with {status}");
        }
        let histories: Vec<History> = (1..=size).map(|sid| pollers.history(sid)).collect();
        let leaders: Vec<usize> = (1..=size)
            .filter(|sid| current_mode(&histories[sid - 1]) == Mode::Leader)
            .collect();
        let since: Option<Vec<Instant>> = histories
            .iter()
            .map(|history| serving_since(history, started))
            .collect();
        if let (Some(since), [leader]) = (since, leaders.as_slice()) {
            let all = since.into_iter().max().unwrap_or(started);
            break (all, *leader);
        }
        if Instant::now() > deadline {
            bail!(
                "no leader with every server serving within {CONVERGE_WAIT:?} of the cold start \
                 (modes: {})",
                describe_modes(&histories)
            );
        }
        std::thread::sleep(POLL_EVERY);
    };
    let (mut messages, mut election_ms) = (0, 0);
    for &port in ports {
        let counters = election_counters(port)?;
        messages += counters.messages_sent;
        election_ms = election_ms.max(counters.last_election_ms);
    }
    Ok((
        ColdStart {
            all_serving_ms: ms_between(started, all_serving),
            election_ms,
            messages,
        },
        leader,
    ))
}

fn describe_modes(histories: &[History]) -> String {
    histories
        .iter()
        .enumerate()
        .map(|(i, history)| format!("{}: {:?}", i + 1, current_mode(history)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writers, one per survivor, each opening sessions and sending `setData` until one succeeds;
/// the moment of the first success.
struct Writers {
    done: Arc<AtomicBool>,
    first_success: Arc<Mutex<Option<Instant>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Writers {
    fn start(ports: &[u16], path: &'static str) -> Writers {
        let done = Arc::new(AtomicBool::new(false));
        let first_success: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
        let threads = ports
            .iter()
            .map(|&port| {
                let (done, first_success) = (done.clone(), first_success.clone());
                std::thread::spawn(move || {
                    while !done.load(Ordering::SeqCst) {
                        let outcome = JuteSession::connect(port, Duration::from_secs(2))
                            .and_then(|mut session| session.set_data(path, b"after the kill"));
                        if let Ok(Ok(())) = outcome {
                            let now = Instant::now();
                            let mut first = first_success.lock().unwrap_or_else(|e| e.into_inner());
                            if first.is_none_or(|first| now < first) {
                                *first = Some(now);
                            }
                            done.store(true, Ordering::SeqCst);
                            return;
                        }
                        std::thread::sleep(POLL_EVERY);
                    }
                })
            })
            .collect();
        Writers {
            done,
            first_success,
            threads,
        }
    }

    fn first_success(&self) -> Option<Instant> {
        *self.first_success.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Writers {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

const WRITE_PATH: &str = "/elections";

/// Kills the leader and measures the election among the survivors.
fn failover(
    ensemble: &mut Ensemble,
    pollers: &Pollers,
    ports: &[u16],
    leader: usize,
) -> Result<Failover> {
    let size = ports.len();
    let survivors: Vec<usize> = (1..=size).filter(|&sid| sid != leader).collect();
    {
        let mut session = JuteSession::connect(ports[leader - 1], Duration::from_secs(10))
            .context("a session on the leader (to create the written node)")?;
        match session
            .create(WRITE_PATH, b"before the kill")
            .context("create the written node")?
        {
            Ok(()) | Err(-110) => {}
            Err(code) => bail!("create {WRITE_PATH} failed with ZooKeeper error {code}"),
        }
    }
    let mut before_sent = 0;
    let mut before_count = Vec::new();
    for &sid in &survivors {
        let counters = election_counters(ports[sid - 1])?;
        before_sent += counters.messages_sent;
        before_count.push(counters.elections);
    }

    pollers.retire(leader);
    let killed = Instant::now();
    ensemble.kill(leader);
    let survivor_ports: Vec<u16> = survivors.iter().map(|&sid| ports[sid - 1]).collect();
    let writers = Writers::start(&survivor_ports, WRITE_PATH);

    let deadline = killed + CONVERGE_WAIT;
    let mut leader_at = None;
    // A survivor polled as serving all along (it never showed LOOKING) serves again once its
    // election count has grown; its time is when that was seen.
    let mut confirmed_at: Vec<Option<Instant>> = vec![None; survivors.len()];
    let all_serving_at = loop {
        if let Some((sid, status)) = ensemble.exited().first() {
            bail!("server {sid} exited after the leader was killed, with {status}");
        }
        let histories: Vec<History> = survivors.iter().map(|&sid| pollers.history(sid)).collect();
        if leader_at.is_none() {
            leader_at = histories
                .iter()
                .filter_map(|history| first_leader_after(history, killed))
                .min();
        }
        let leaders = histories
            .iter()
            .filter(|history| current_mode(history) == Mode::Leader)
            .count();
        let all_serve = histories
            .iter()
            .all(|history| current_mode(history).serving());
        if all_serve && leaders == 1 {
            let mut times = Vec::new();
            for (i, history) in histories.iter().enumerate() {
                if let Some(since) = serving_since(history, killed) {
                    times.push(since);
                } else if let Some(at) = confirmed_at[i] {
                    times.push(at);
                } else if let Ok(counters) = election_counters(survivor_ports[i]) {
                    if counters.elections > before_count[i] {
                        let now = Instant::now();
                        confirmed_at[i] = Some(now);
                        times.push(now);
                    }
                }
            }
            if times.len() == survivors.len() && leader_at.is_some() {
                break times.into_iter().max().unwrap_or(killed);
            }
        }
        if Instant::now() > deadline {
            bail!(
                "the survivors did not elect a new leader and serve within {CONVERGE_WAIT:?} \
                 of the kill of leader {leader} (modes of the survivors {survivors:?}: {})",
                describe_modes(&histories)
            );
        }
        std::thread::sleep(POLL_EVERY);
    };
    let leader_at = leader_at.unwrap_or(all_serving_at);

    let write_at = loop {
        if let Some(at) = writers.first_success() {
            break at;
        }
        if Instant::now() > deadline {
            bail!("no write succeeded through a survivor within {CONVERGE_WAIT:?} of the kill");
        }
        std::thread::sleep(POLL_EVERY);
    };
    drop(writers);

    let (mut after_sent, mut election_ms) = (0, 0);
    for &port in &survivor_ports {
        let counters = election_counters(port)?;
        after_sent += counters.messages_sent;
        election_ms = election_ms.max(counters.last_election_ms);
    }
    Ok(Failover {
        leader_ms: ms_between(killed, leader_at),
        all_serving_ms: ms_between(killed, all_serving_at),
        write_ms: ms_between(killed, write_at),
        election_ms,
        messages: after_sent.saturating_sub(before_sent),
    })
}

// ---- the benchmark -----------------------------------------------------------------------------

pub(crate) fn run(args: &[String]) -> Result<()> {
    let options = parse(args)?;
    let command = if args.is_empty() {
        "cargo xtask elections".to_owned()
    } else {
        format!("cargo xtask elections {}", args.join(" "))
    };
    exec(cargo().args(["build", "-p", "zk-server", "--release"]))?;
    let binary = target_dir().join("release/zk-server");
    if !binary.exists() {
        bail!("{} does not exist after the build", binary.display());
    }
    let root = workspace_root().join("target/elections");
    stop_leftovers(&root);
    if root.exists() {
        std::fs::remove_dir_all(&root).with_context(|| format!("clear {}", root.display()))?;
    }
    std::fs::create_dir_all(&root)?;

    let date = command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"], false).unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned());
    let began = Instant::now();
    let mut blocks = PortBlocks { next: 0 };
    let mut results = Vec::new();
    let total = options.runs * options.sizes.len() * options.algs.len();
    for run in 1..=options.runs {
        for &size in &options.sizes {
            for &alg in &options.algs {
                let dir = root.join(format!("alg{alg}-n{size}-run{run}"));
                let spec = blocks.take(size, alg, dir)?;
                eprintln!(
                    "[{}/{total}] electionAlg={alg}, {size} servers, run {run} (ports {}..)",
                    results.len() + 1,
                    spec.base_port
                );
                let result = run_once(&binary, spec, alg, run);
                eprintln!("    {}", summarize(&result));
                results.push(result);
            }
        }
    }
    let facts = Facts {
        command,
        date,
        machine: machine_description(),
        load_at_start: load,
        commit: git_commit(),
        wall_s: began.elapsed().as_secs_f64(),
    };
    let section = render(&options, &facts, &results);
    let out_dir = workspace_root().join("target/bench");
    std::fs::create_dir_all(&out_dir)?;
    let out = out_dir.join("elections.md");
    std::fs::write(&out, &section).with_context(|| format!("write {}", out.display()))?;
    println!("{section}");
    eprintln!("written to {}", out.display());
    Ok(())
}

fn summarize(result: &RunResult) -> String {
    let cold = match &result.cold {
        Ok(cold) => format!(
            "cold start {:.0} ms (election {} ms), {} messages",
            cold.all_serving_ms, cold.election_ms, cold.messages
        ),
        Err(error) => format!("cold start FAILED: {}", first_line(error)),
    };
    let failover = match &result.failover {
        Ok(f) => format!(
            "leader crash: new leader {:.0} ms, all serving {:.0} ms, write {:.0} ms \
             (election {} ms), {} messages",
            f.leader_ms, f.all_serving_ms, f.write_ms, f.election_ms, f.messages
        ),
        Err(error) => format!("leader crash FAILED: {}", first_line(error)),
    };
    format!("{cold}; {failover}")
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

// ---- the report --------------------------------------------------------------------------------

/// Everything about the circumstances the section states.
struct Facts {
    command: String,
    date: String,
    machine: String,
    load_at_start: String,
    commit: String,
    wall_s: f64,
}

/// Median, minimum and maximum of some values (`None` when there are none).
fn stats(values: &[f64]) -> Option<(f64, f64, f64)> {
    let mut sorted = values.to_vec();
    let median = median(&mut sorted)?;
    Some((median, sorted[0], sorted[sorted.len() - 1]))
}

/// `median | min–max` cells of milliseconds, or `– | –` without values.
fn ms_cells(values: &[f64]) -> String {
    match stats(values) {
        Some((median, min, max)) => format!(
            "{} ms | {}–{}",
            thousands(median),
            thousands(min),
            thousands(max)
        ),
        None => "– | –".to_owned(),
    }
}

/// `median (min–max)` of message counts, or `–`.
fn count_cell(values: &[f64]) -> String {
    match stats(values) {
        Some((median, min, max)) if min == max => thousands(median),
        Some((median, min, max)) => format!(
            "{} ({}–{})",
            thousands(median),
            thousands(min),
            thousands(max)
        ),
        None => "–".to_owned(),
    }
}

fn render(options: &Options, facts: &Facts, results: &[RunResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN_MARKER}");
    let _ = writeln!(
        out,
        "<!-- generated by `cargo xtask elections`; edits between the markers are lost -->\n"
    );
    let _ = writeln!(out, "### Elections with real processes, per algorithm\n");
    let _ = writeln!(
        out,
        "`{}` on {} (commit {}; {:.0} s in all).\n",
        facts.command, facts.date, facts.commit, facts.wall_s
    );
    let _ = writeln!(
        out,
        "Machine: {}, shared with other builds and tests while this ran (1-minute load average \
         {} at the start), so the figures carry that noise; they compare the algorithms with \
         each other, not with other machines.\n",
        facts.machine, facts.load_at_start
    );
    let _ = writeln!(
        out,
        "Setup: release `zk-server` processes on 127.0.0.1, one fresh dataDir each under \
         `target/elections/`, tickTime=2000, initLimit=10, syncLimit=5 (ZooKeeper's defaults), \
         `authFleSecret` for electionAlg 2, logs at `info`. Every server is polled with `srvr` \
         by its own thread about every 10 ms; a server counts as serving from the first answer of \
         its current streak of `Mode:` answers. {} runs per row, interleaved across rows; each \
         cell is the median and the min–max of the runs that succeeded. Messages are the sum of \
         `mntr`'s `zk_election_messages_sent` (datagrams or frames the election sent; the \
         counter is updated when a server decides, so it covers everything sent up to that \
         decision).\n",
        options.runs
    );

    let rows: Vec<(u8, usize)> = options
        .algs
        .iter()
        .flat_map(|&alg| options.sizes.iter().map(move |&size| (alg, size)))
        .collect();
    let row_results = |alg: u8, size: usize| -> Vec<&RunResult> {
        results
            .iter()
            .filter(|r| r.alg == alg && r.size == size)
            .collect()
    };

    let _ = writeln!(out, "#### Cold start (every server started at once)\n");
    let _ = writeln!(
        out,
        "| algorithm | servers | ok | start → all serving (median) | min–max (ms) | election, \
         slowest server (ms, `mntr`) | election messages, all servers |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    for &(alg, size) in &rows {
        let runs = row_results(alg, size);
        let ok: Vec<&ColdStart> = runs.iter().filter_map(|r| r.cold.as_ref().ok()).collect();
        let column = |f: fn(&ColdStart) -> f64| -> Vec<f64> { ok.iter().map(|x| f(x)).collect() };
        let _ = writeln!(
            out,
            "| {} | {size} | {}/{} | {} | {} | {} |",
            alg_name(alg),
            ok.len(),
            runs.len(),
            ms_cells(&column(|c| c.all_serving_ms)),
            count_cell(&column(|c| c.election_ms as f64)),
            count_cell(&column(|c| c.messages as f64))
        );
    }

    let _ = writeln!(out, "\n#### After `kill -9` of the leader\n");
    let _ = writeln!(
        out,
        "| algorithm | servers | ok | kill → new leader (median) | min–max (ms) | kill → all \
         survivors serving (median) | min–max (ms) | kill → first write (median) | min–max \
         (ms) | election, slowest survivor (ms, `mntr`) | election messages, survivors |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for &(alg, size) in &rows {
        let runs = row_results(alg, size);
        let ok: Vec<&Failover> = runs
            .iter()
            .filter_map(|r| r.failover.as_ref().ok())
            .collect();
        let column = |f: fn(&Failover) -> f64| -> Vec<f64> { ok.iter().map(|x| f(x)).collect() };
        let _ = writeln!(
            out,
            "| {} | {size} | {}/{} | {} | {} | {} | {} | {} |",
            alg_name(alg),
            ok.len(),
            runs.len(),
            ms_cells(&column(|f| f.leader_ms)),
            ms_cells(&column(|f| f.all_serving_ms)),
            ms_cells(&column(|f| f.write_ms)),
            count_cell(&column(|f| f.election_ms as f64)),
            count_cell(&column(|f| f.messages as f64))
        );
    }
    let _ = writeln!(
        out,
        "\nThe first write is a `setData` through a new session on any survivor (one writer per \
         survivor, retrying every 10 ms from the kill on), so it includes creating the session \
         under the new leader. The election columns are `mntr`'s `zk_last_election_time_ms` \
         (LOOKING to decision of a server's last election, before Zab's synchronization), the \
         largest over the servers."
    );

    let slow: Vec<String> = results
        .iter()
        .flat_map(|r| {
            let cold = r
                .cold
                .as_ref()
                .ok()
                .filter(|c| c.all_serving_ms >= SLOW_MS)
                .map(|c| (r, "cold start", c.all_serving_ms));
            let failover = r
                .failover
                .as_ref()
                .ok()
                .filter(|f| f.all_serving_ms.max(f.write_ms) >= SLOW_MS)
                .map(|f| (r, "leader crash", f.all_serving_ms.max(f.write_ms)));
            cold.into_iter().chain(failover)
        })
        .map(|(r, phase, ms)| {
            format!(
                "electionAlg={} with {} servers, run {}, {phase}: {} ms",
                r.alg,
                r.size,
                r.run,
                thousands(ms)
            )
        })
        .collect();
    if !slow.is_empty() {
        let _ = writeln!(
            out,
            "\nRuns that took initLimit × tickTime (20 s) or more, the time after which a leader \
             without a quorum of synchronized followers gives up and the ensemble elects \
             again: {}.",
            slow.join("; ")
        );
    }

    let _ = writeln!(
        out,
        "\n<details><summary>Every run</summary>\n\n\
         | alg | servers | run | cold: all serving (ms) | cold: election (ms) | cold: messages \
         | crash: new leader (ms) | crash: all serving (ms) | crash: first write (ms) \
         | crash: election (ms) | crash: messages |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for r in results {
        let cold = match &r.cold {
            Ok(c) => format!(
                "{} | {} | {}",
                thousands(c.all_serving_ms),
                thousands(c.election_ms as f64),
                c.messages
            ),
            Err(_) => "failed | – | –".to_owned(),
        };
        let failover = match (&r.cold, &r.failover) {
            (_, Ok(f)) => format!(
                "{} | {} | {} | {} | {}",
                thousands(f.leader_ms),
                thousands(f.all_serving_ms),
                thousands(f.write_ms),
                thousands(f.election_ms as f64),
                f.messages
            ),
            (Ok(_), Err(_)) => "failed | – | – | – | –".to_owned(),
            (Err(_), Err(_)) => "not run | – | – | – | –".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {cold} | {failover} |",
            r.alg, r.size, r.run
        );
    }
    let _ = writeln!(out, "\n</details>");

    let failures: Vec<(&RunResult, &str, &String)> = results
        .iter()
        .flat_map(|r| {
            let cold = r.cold.as_ref().err().map(|e| (r, "cold start", e));
            let failover = match (&r.cold, &r.failover) {
                (Ok(_), Err(e)) => Some((r, "leader crash", e)),
                _ => None,
            };
            cold.into_iter().chain(failover)
        })
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "\n#### Failures\n");
        for (r, phase, error) in failures {
            let _ = writeln!(
                out,
                "electionAlg={}, {} servers, run {}, {phase}:\n\n```text\n{}\n```\n",
                r.alg,
                r.size,
                r.run,
                error.trim_end()
            );
        }
    }
    let _ = writeln!(out, "{END_MARKER}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::strings;

    #[test]
    fn options() {
        let full = parse(&[]).unwrap();
        assert_eq!(full.sizes, vec![3, 5, 7, 9]);
        assert_eq!(full.algs, vec![1, 2, 3]);
        assert_eq!(full.runs, 5);
        let quick = parse(&strings("--quick")).unwrap();
        assert_eq!((quick.sizes.clone(), quick.runs), (vec![3, 5], 3));
        let chosen = parse(&strings("--quick --sizes 7 --algs 3,1 --runs 2")).unwrap();
        assert_eq!(chosen.sizes, vec![7]);
        assert_eq!(chosen.algs, vec![3, 1]);
        assert_eq!(chosen.runs, 2);
        assert!(parse(&strings("--algs 4")).is_err());
        assert!(parse(&strings("--sizes 0")).is_err());
        assert!(parse(&strings("--sizes 3,2")).is_err());
        assert!(parse(&strings("--sizes x")).is_err());
        assert!(parse(&strings("--runs 0")).is_err());
        assert!(parse(&strings("--runs")).is_err());
        assert!(parse(&strings("--bogus 1")).is_err());
    }

    #[test]
    fn run_spec_and_config() {
        let spec = run_spec(3, 2, 21_300, PathBuf::from("/tmp/e"));
        assert_eq!(spec.client_port(3), 21_302);
        assert_eq!(spec.quorum_port(1), 21_400);
        assert_eq!(spec.election_port(2), 21_501);
        let cfg = spec.zoo_cfg(2);
        assert!(
            cfg.contains("tickTime=2000\ninitLimit=10\nsyncLimit=5\n"),
            "{cfg}"
        );
        assert!(
            cfg.contains("dataDir=/tmp/e/s2/data\nclientPort=21301\n"),
            "{cfg}"
        );
        assert!(cfg.contains("electionAlg=2\nauthFleSecret="), "{cfg}");
        assert!(
            cfg.contains("server.3=127.0.0.1:21402:21502;21302\n"),
            "{cfg}"
        );
        let fle = run_spec(3, 3, 21_300, PathBuf::from("/tmp/e"));
        assert!(!fle.zoo_cfg(1).contains("authFleSecret"));
    }

    #[test]
    fn port_blocks_stay_below_the_ephemeral_range() {
        let last = FIRST_PORT + (PORT_BLOCKS - 1) * PORT_BLOCK + 299;
        assert!(last < 32_768, "{last}");
    }

    #[test]
    fn serving_streaks_and_leaders_are_read_from_histories() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let history = vec![
            (at(1), Mode::Down),
            (at(5), Mode::NotServing),
            (at(10), Mode::Follower),
            (at(20), Mode::NotServing),
            (at(30), Mode::Follower),
            (at(40), Mode::Leader),
        ];
        assert_eq!(serving_since(&history, t0), Some(at(30)));
        assert_eq!(serving_since(&history, at(35)), None);
        assert_eq!(first_leader_after(&history, t0), Some(at(40)));
        assert_eq!(first_leader_after(&history, at(45)), None);
        assert_eq!(current_mode(&history), Mode::Leader);
        let looking = vec![(at(1), Mode::Follower), (at(2), Mode::NotServing)];
        assert_eq!(serving_since(&looking, t0), None);
        assert_eq!(current_mode(&Vec::new()), Mode::Down);
    }

    #[test]
    fn mntr_values_are_read() {
        let text = "zk_version\t3.8.0\nzk_server_state\tfollower\nzk_election_count\t2\n\
                    zk_election_messages_sent\t17\n";
        assert_eq!(mntr_value(text, "zk_election_messages_sent"), Some(17));
        assert_eq!(mntr_value(text, "zk_election_count"), Some(2));
        assert_eq!(mntr_value(text, "zk_server_state"), None);
        assert_eq!(mntr_value(text, "zk_missing"), None);
        let counters = Counters::parse(&format!("{text}zk_last_election_time_ms\t230\n"));
        assert_eq!(
            counters,
            Counters {
                messages_sent: 17,
                elections: 2,
                last_election_ms: 230,
            }
        );
    }

    #[test]
    fn medians_and_cells() {
        assert_eq!(stats(&[]), None);
        assert_eq!(stats(&[3.0, 1.0, 2.0]), Some((2.0, 1.0, 3.0)));
        assert_eq!(stats(&[4.0, 1.0, 2.0, 3.0]), Some((2.5, 1.0, 4.0)));
        assert_eq!(ms_cells(&[1200.0, 900.0, 15000.0]), "1,200 ms | 900–15,000");
        assert_eq!(ms_cells(&[]), "– | –");
        assert_eq!(count_cell(&[12.0, 12.0]), "12");
        assert_eq!(count_cell(&[10.0, 12.0, 30.0]), "12 (10–30)");
    }

    #[test]
    fn the_section_has_both_tables_and_the_failures() {
        let options = parse(&strings("--sizes 3 --algs 1,3 --runs 2")).unwrap();
        let ok = |alg, run| RunResult {
            alg,
            size: 3,
            run,
            cold: Ok(ColdStart {
                all_serving_ms: 400.0 + run as f64,
                election_ms: 210,
                messages: 12,
            }),
            failover: Ok(Failover {
                leader_ms: 300.0,
                all_serving_ms: 350.0,
                write_ms: 360.0,
                election_ms: 250,
                messages: 8,
            }),
        };
        let mut failed = ok(1, 2);
        failed.failover = Err("the survivors did not elect\n--- server 1: last line".to_owned());
        let mut slow = ok(3, 2);
        slow.failover = Ok(Failover {
            leader_ms: 20_300.0,
            all_serving_ms: 20_350.0,
            write_ms: 20_360.0,
            election_ms: 20_250,
            messages: 80,
        });
        let results = vec![ok(3, 1), slow, ok(1, 1), failed];
        let facts = Facts {
            command: "cargo xtask elections --sizes 3".to_owned(),
            date: "2026-11-27 23:00 UTC".to_owned(),
            machine: "2 cores".to_owned(),
            load_at_start: "1.5".to_owned(),
            commit: "abc".to_owned(),
            wall_s: 10.0,
        };
        let section = render(&options, &facts, &results);
        assert!(section.starts_with(BEGIN_MARKER), "{section}");
        assert!(section.trim_end().ends_with(END_MARKER), "{section}");
        assert!(section.contains("`cargo xtask elections --sizes 3` on 2026-11-27"));
        assert!(
            section
                .contains("| 3 FastLeaderElection (TCP) | 3 | 2/2 | 402 ms | 401–402 | 210 | 12 |"),
            "{section}"
        );
        assert!(
            section.contains(
                "| 1 LeaderElection (UDP) | 3 | 1/2 | 300 ms | 300–300 | 350 ms | 350–350 | \
                 360 ms | 360–360 | 250 | 8 |"
            ),
            "{section}"
        );
        assert!(
            section.contains("electionAlg=3 with 3 servers, run 2, leader crash: 20,360 ms"),
            "{section}"
        );
        assert!(
            section.contains(
                "| 3 | 3 | 2 | 402 | 210 | 12 | 20,300 | 20,350 | 20,360 | 20,250 | 80 |"
            ),
            "{section}"
        );
        assert!(
            section.contains("| 1 | 3 | 2 | 402 | 210 | 12 | failed | – | – | – | – |"),
            "{section}"
        );
        assert!(section.contains("electionAlg=1, 3 servers, run 2, leader crash:"));
        assert!(section.contains("--- server 1: last line"));
    }
}
