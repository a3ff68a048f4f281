//! `cargo xtask cluster`: a local ensemble of real `zk-server` processes, and the ensemble
//! helpers `conformance --ensemble` and `bench ensemble` share.
//!
//! `cargo xtask cluster [--size N] [--election-alg 1|2|3] [--base-port P] [--dir D]
//! [--tick-ms T]` builds `zk-server` in release, writes one directory per server (`D/s<k>/` with
//! `zoo.cfg`, `data/myid` and `server.log`; default `target/cluster`), starts them on 127.0.0.1,
//! prints the connect string, then polls `srvr` on every server every 500 ms and prints a line
//! whenever the leader or the set of serving servers changes, until Ctrl-C.
//!
//! Ports: server k (1-based) listens for clients on `P + k - 1`, for Zab on `P + 100 + k - 1`
//! and for elections on `P + 200 + k - 1` (as `scripts/apache-zookeeper.sh start-ensemble`).
//!
//! No orphans: Ctrl-C reaches the servers too (same process group; they shut down on SIGINT),
//! dropping an [`Ensemble`] kills them, and a watchdog in its own session (`setsid sh`) kills
//! every server whose pid file is still there once this process is gone, however it died.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::util::{cargo, run as exec, target_dir, workspace_root};

const USAGE: &str = "\
usage: cargo xtask cluster [--size N] [--election-alg 1|2|3] [--base-port P] [--dir D] [--tick-ms T]

Starts N zk-server processes (default 3) as one ensemble on 127.0.0.1 and reports leader
changes until Ctrl-C. Server k listens for clients on P+k-1 (default P = 12181), for Zab on
P+100+k-1 and for elections on P+200+k-1. Directories: D/s<k> (default target/cluster).
electionAlg 2 gets an authFleSecret. tickTime defaults to 2000 ms.";

/// How long an ensemble may take to elect its first leader.
pub(crate) const ELECTION_WAIT: Duration = Duration::from_secs(120);

/// How to lay out and configure a local ensemble.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct EnsembleSpec {
    pub(crate) size: usize,
    pub(crate) election_alg: u8,
    pub(crate) base_port: u16,
    pub(crate) dir: PathBuf,
    pub(crate) tick_time_ms: u32,
    /// `RUST_LOG` of the servers.
    pub(crate) log_filter: String,
}

impl EnsembleSpec {
    pub(crate) fn client_port(&self, sid: usize) -> u16 {
        client_port(self.base_port, sid)
    }

    pub(crate) fn quorum_port(&self, sid: usize) -> u16 {
        quorum_port(self.base_port, sid)
    }

    pub(crate) fn election_port(&self, sid: usize) -> u16 {
        election_port(self.base_port, sid)
    }

    /// `127.0.0.1:p1,127.0.0.1:p2,...`.
    pub(crate) fn connect_string(&self) -> String {
        (1..=self.size)
            .map(|sid| format!("127.0.0.1:{}", self.client_port(sid)))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The zoo.cfg of server `sid`.
    pub(crate) fn zoo_cfg(&self, sid: usize) -> String {
        local_zoo_cfg(&LocalZooCfg {
            size: self.size,
            sid,
            base_port: self.base_port,
            election_alg: self.election_alg,
            tick_time_ms: self.tick_time_ms,
            data_dir: &self.dir.join(format!("s{sid}/data")),
            extended_types: true,
            auth_secret: "xtask-cluster-secret-0123456789",
        })
    }
}

/// Client port of server `sid` (1-based) of a local ensemble whose first client port is `base`.
pub(crate) fn client_port(base_port: u16, sid: usize) -> u16 {
    base_port + sid as u16 - 1
}

/// Quorum (Zab) port of server `sid`: 100 above its client port.
pub(crate) fn quorum_port(base_port: u16, sid: usize) -> u16 {
    base_port + 100 + sid as u16 - 1
}

/// Election port of server `sid`: 200 above its client port.
pub(crate) fn election_port(base_port: u16, sid: usize) -> u16 {
    base_port + 200 + sid as u16 - 1
}

/// What [`local_zoo_cfg`] needs to know about one server of a local ensemble.
pub(crate) struct LocalZooCfg<'a> {
    pub(crate) size: usize,
    pub(crate) sid: usize,
    pub(crate) base_port: u16,
    pub(crate) election_alg: u8,
    pub(crate) tick_time_ms: u32,
    pub(crate) data_dir: &'a Path,
    /// Whether to write `extendedTypesEnabled=true`.
    pub(crate) extended_types: bool,
    /// The `authFleSecret` written for electionAlg 2.
    pub(crate) auth_secret: &'a str,
}

/// The zoo.cfg of one server of a local ensemble on 127.0.0.1 (initLimit 10, syncLimit 5, every
/// four-letter word, ports as [`client_port`], [`quorum_port`] and [`election_port`] lay out).
pub(crate) fn local_zoo_cfg(server: &LocalZooCfg<'_>) -> String {
    let mut cfg = format!(
        "tickTime={}\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={}\n\
         clientPortAddress=127.0.0.1\nmaxClientCnxns=0\n4lw.commands.whitelist=*\n",
        server.tick_time_ms,
        server.data_dir.display(),
        client_port(server.base_port, server.sid),
    );
    if server.extended_types {
        cfg.push_str("extendedTypesEnabled=true\n");
    }
    let _ = writeln!(cfg, "electionAlg={}", server.election_alg);
    if server.election_alg == 2 {
        let _ = writeln!(cfg, "authFleSecret={}", server.auth_secret);
    }
    for k in 1..=server.size {
        let _ = writeln!(
            cfg,
            "server.{k}=127.0.0.1:{}:{};{}",
            quorum_port(server.base_port, k),
            election_port(server.base_port, k),
            client_port(server.base_port, k)
        );
    }
    cfg
}

struct Options {
    spec: EnsembleSpec,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut spec = EnsembleSpec {
        size: 3,
        election_alg: 3,
        base_port: 12181,
        dir: workspace_root().join("target/cluster"),
        tick_time_ms: 2000,
        log_filter: "info".to_owned(),
    };
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        if matches!(flag.as_str(), "-h" | "--help" | "help") {
            eprintln!("{USAGE}");
            bail!("usage shown");
        }
        let value = iter
            .next()
            .with_context(|| format!("{flag} needs a value\n\n{USAGE}"))?;
        let number = |what: &str| -> Result<u64> {
            value
                .parse()
                .with_context(|| format!("{flag} wants {what}, got {value:?}"))
        };
        match flag.as_str() {
            "--size" => {
                spec.size = number("a server count")? as usize;
                if !(1..=50).contains(&spec.size) {
                    bail!("--size must be 1..=50");
                }
            }
            "--election-alg" => {
                spec.election_alg = match value.as_str() {
                    "1" => 1,
                    "2" => 2,
                    "3" => 3,
                    other => bail!("--election-alg takes 1, 2 or 3, not {other:?}"),
                }
            }
            "--base-port" => {
                let port = number("a port")?;
                if !(1024..=65_000).contains(&port) {
                    bail!("--base-port must be in 1024..=65000 (it needs 300 ports above it)");
                }
                spec.base_port = port as u16;
            }
            "--dir" => {
                let dir = PathBuf::from(value);
                spec.dir = if dir.is_absolute() {
                    dir
                } else {
                    std::env::current_dir()?.join(dir)
                };
            }
            "--tick-ms" => {
                spec.tick_time_ms = number("milliseconds")? as u32;
                if spec.tick_time_ms == 0 {
                    bail!("--tick-ms must be positive");
                }
            }
            other => bail!("unknown argument {other:?}\n\n{USAGE}"),
        }
    }
    Ok(Options { spec })
}

pub(crate) fn run(args: &[String]) -> Result<()> {
    let options = parse(args)?;
    exec(cargo().args(["build", "-p", "zk-server", "--release"]))?;
    let binary = target_dir().join("release/zk-server");
    let mut ensemble = Ensemble::start(&options.spec, &binary)?;
    println!("connect string: {}", options.spec.connect_string());
    println!(
        "directories: {} (zoo.cfg, data/, server.log per server); Ctrl-C stops every server",
        options.spec.dir.display()
    );
    let mut last = String::new();
    loop {
        for (sid, status) in ensemble.exited() {
            println!("server {sid} exited: {status}");
        }
        if ensemble.running() == 0 {
            println!("every server has stopped");
            return Ok(());
        }
        let view = ensemble.view();
        let line = view.describe(&options.spec);
        if line != last {
            println!("{line}");
            last = line;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

// ---- four-letter words -------------------------------------------------------------------------

/// A server's role as `srvr` tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Leader,
    Follower,
    Observer,
    Standalone,
    /// "This ZooKeeper instance is not currently serving requests".
    NotServing,
    /// Nothing answers.
    Down,
}

impl Mode {
    pub(crate) fn serving(self) -> bool {
        matches!(self, Mode::Leader | Mode::Follower | Mode::Observer)
    }
}

/// Sends a four-letter word to 127.0.0.1:`port`; the answer, or `None` when nothing answered.
pub(crate) fn four_letter(port: u16, word: &str) -> Option<String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(word.as_bytes()).ok()?;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    (!answer.is_empty()).then(|| String::from_utf8_lossy(&answer).into_owned())
}

/// `srvr`: the mode and the zxid (when serving).
pub(crate) fn srvr(port: u16) -> (Mode, Option<u64>) {
    match four_letter(port, "srvr") {
        None => (Mode::Down, None),
        Some(text) => parse_srvr(&text),
    }
}

fn parse_srvr(text: &str) -> (Mode, Option<u64>) {
    if text.contains("not currently serving") {
        return (Mode::NotServing, None);
    }
    let mode = match text
        .lines()
        .find_map(|line| line.strip_prefix("Mode:"))
        .map(str::trim)
    {
        Some("leader") => Mode::Leader,
        Some("follower") => Mode::Follower,
        Some("observer") => Mode::Observer,
        Some("standalone") => Mode::Standalone,
        _ => Mode::Down,
    };
    let zxid = text
        .lines()
        .find_map(|line| line.strip_prefix("Zxid:"))
        .and_then(|z| u64::from_str_radix(z.trim().trim_start_matches("0x"), 16).ok());
    (mode, zxid)
}

/// Every server's `srvr` at one moment.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct View {
    /// `(sid, mode, zxid)` in sid order.
    pub(crate) servers: Vec<(usize, Mode, Option<u64>)>,
}

impl View {
    /// Polls `srvr` on `ports[k - 1]` for every server k.
    pub(crate) fn poll(ports: &[u16]) -> View {
        View {
            servers: ports
                .iter()
                .enumerate()
                .map(|(i, &port)| {
                    let (mode, zxid) = srvr(port);
                    (i + 1, mode, zxid)
                })
                .collect(),
        }
    }

    /// The sid of the only server that says leader.
    pub(crate) fn leader(&self) -> Option<usize> {
        let mut leaders = self
            .servers
            .iter()
            .filter(|(_, mode, _)| *mode == Mode::Leader);
        match (leaders.next(), leaders.next()) {
            (Some((sid, _, _)), None) => Some(*sid),
            _ => None,
        }
    }

    pub(crate) fn serving(&self) -> Vec<usize> {
        self.servers
            .iter()
            .filter(|(_, mode, _)| mode.serving())
            .map(|(sid, _, _)| *sid)
            .collect()
    }

    /// One line: the leader with its epoch, and which servers serve.
    pub(crate) fn describe(&self, spec: &EnsembleSpec) -> String {
        let serving = self.serving();
        let serving_text = if serving.is_empty() {
            "none".to_owned()
        } else {
            serving
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        let others: Vec<String> = self
            .servers
            .iter()
            .filter(|(_, mode, _)| !mode.serving())
            .map(|(sid, mode, _)| format!("{sid} {}", mode_name(*mode)))
            .collect();
        let others = if others.is_empty() {
            String::new()
        } else {
            format!(" ({})", others.join(", "))
        };
        let leaders: Vec<&(usize, Mode, Option<u64>)> = self
            .servers
            .iter()
            .filter(|(_, mode, _)| *mode == Mode::Leader)
            .collect();
        match leaders.as_slice() {
            [] => format!("no leader; serving: {serving_text}{others}"),
            [(sid, _, zxid)] => format!(
                "leader: server {sid} (127.0.0.1:{}), epoch {}; serving: {serving_text}{others}",
                spec.client_port(*sid),
                zxid.map_or("?".to_owned(), |z| (z >> 32).to_string())
            ),
            many => format!(
                "{} servers say leader ({}); serving: {serving_text}{others}",
                many.len(),
                many.iter()
                    .map(|(sid, _, _)| sid.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Leader => "leader",
        Mode::Follower => "follower",
        Mode::Observer => "observer",
        Mode::Standalone => "standalone",
        Mode::NotServing => "not serving",
        Mode::Down => "down",
    }
}

// ---- the ensemble ------------------------------------------------------------------------------

/// A running local ensemble of our `zk-server`; every process is killed on drop.
pub(crate) struct Ensemble {
    pub(crate) spec: EnsembleSpec,
    binary: PathBuf,
    children: Vec<Option<Child>>,
    watchdog: Option<Child>,
}

impl Ensemble {
    /// Writes fresh directories, starts every server and waits until one leads and all serve.
    pub(crate) fn start(spec: &EnsembleSpec, binary: &Path) -> Result<Ensemble> {
        let mut ensemble = Ensemble::prepare(spec, binary)?;
        for sid in 1..=spec.size {
            ensemble.start_server(sid)?;
        }
        eprintln!(
            "started {} zk-server processes in {}; waiting for a leader",
            spec.size,
            spec.dir.display()
        );
        ensemble.wait_ready(ELECTION_WAIT)?;
        Ok(ensemble)
    }

    /// Stops servers an earlier run left in the directories, checks that the ports are free,
    /// writes fresh directories (zoo.cfg, data/myid) and starts the watchdog; starts no server.
    pub(crate) fn prepare(spec: &EnsembleSpec, binary: &Path) -> Result<Ensemble> {
        if !binary.exists() {
            bail!(
                "{} does not exist (build zk-server first)",
                binary.display()
            );
        }
        for sid in 1..=spec.size {
            stop_leftover(&spec.dir.join(format!("s{sid}")));
        }
        for sid in 1..=spec.size {
            for port in [
                spec.client_port(sid),
                spec.quorum_port(sid),
                spec.election_port(sid),
            ] {
                let addr = SocketAddr::from(([127, 0, 0, 1], port));
                if TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok() {
                    bail!("port {port} is already in use: stop whatever listens there first");
                }
            }
        }
        for sid in 1..=spec.size {
            let dir = spec.dir.join(format!("s{sid}"));
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("clear {}", dir.display()))?;
            }
            std::fs::create_dir_all(dir.join("data"))
                .with_context(|| format!("create {}", dir.display()))?;
            std::fs::write(dir.join("data/myid"), format!("{sid}\n"))?;
            std::fs::write(dir.join("zoo.cfg"), spec.zoo_cfg(sid))?;
        }
        let mut ensemble = Ensemble {
            spec: spec.clone(),
            binary: binary.to_path_buf(),
            children: (0..spec.size).map(|_| None).collect(),
            watchdog: None,
        };
        ensemble.watchdog = Some(spawn_watchdog(&ensemble.spec.dir, "s*/pid")?);
        Ok(ensemble)
    }

    fn dir(&self, sid: usize) -> PathBuf {
        self.spec.dir.join(format!("s{sid}"))
    }

    /// Every server's client port, in sid order.
    pub(crate) fn ports(&self) -> Vec<u16> {
        (1..=self.spec.size)
            .map(|sid| self.spec.client_port(sid))
            .collect()
    }

    pub(crate) fn view(&self) -> View {
        View::poll(&self.ports())
    }

    /// Starts (or restarts) server `sid` on its directory.
    pub(crate) fn start_server(&mut self, sid: usize) -> Result<()> {
        let dir = self.dir(sid);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("server.log"))
            .context("open server.log")?;
        let child = Command::new(&self.binary)
            .arg(dir.join("zoo.cfg"))
            .current_dir(&dir)
            .env("RUST_LOG", &self.spec.log_filter)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("start {}", self.binary.display()))?;
        std::fs::write(dir.join("pid"), child.id().to_string())?;
        self.children[sid - 1] = Some(child);
        Ok(())
    }

    /// kill -9 of server `sid`.
    pub(crate) fn kill(&mut self, sid: usize) {
        if let Some(mut child) = self.children[sid - 1].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(self.dir(sid).join("pid"));
    }

    /// Servers whose process ended by itself since the last call.
    pub(crate) fn exited(&mut self) -> Vec<(usize, std::process::ExitStatus)> {
        let mut exited = Vec::new();
        for (i, slot) in self.children.iter_mut().enumerate() {
            if let Some(child) = slot {
                if let Ok(Some(status)) = child.try_wait() {
                    exited.push((i + 1, status));
                    *slot = None;
                }
            }
        }
        exited
    }

    /// How many server processes are running.
    pub(crate) fn running(&self) -> usize {
        self.children.iter().filter(|child| child.is_some()).count()
    }

    /// Waits until exactly one server leads and every running server serves; the leader.
    pub(crate) fn wait_ready(&mut self, wait: Duration) -> Result<usize> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some((sid, status)) = self.exited().first() {
                bail!(
                    "server {sid} exited with {status}; last lines of its log:\n{}",
                    self.log_tail(*sid, 30)
                );
            }
            let view = self.view();
            let running: Vec<usize> = (1..=self.spec.size)
                .filter(|sid| self.children[sid - 1].is_some())
                .collect();
            let serving = view.serving();
            if let Some(leader) = view.leader() {
                if running.iter().all(|sid| serving.contains(sid)) {
                    return Ok(leader);
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "no ensemble within {wait:?}: {}\nlast lines of server 1's log:\n{}",
                    view.describe(&self.spec),
                    self.log_tail(1, 30)
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The sid of a follower (the first serving non-leader).
    pub(crate) fn follower(&mut self) -> Result<usize> {
        let leader = self.wait_ready(ELECTION_WAIT)?;
        self.view()
            .servers
            .iter()
            .find(|(sid, mode, _)| *sid != leader && *mode == Mode::Follower)
            .map(|(sid, _, _)| *sid)
            .context("the ensemble has no follower")
    }

    pub(crate) fn log_tail(&self, sid: usize, lines: usize) -> String {
        log_tail(&self.dir(sid).join("server.log"), lines)
    }

    /// The last `lines` lines of every server's log, for a failure report.
    pub(crate) fn log_tails(&self, lines: usize) -> String {
        let mut out = String::new();
        for sid in 1..=self.spec.size {
            let _ = writeln!(
                out,
                "--- server {sid} ({}/server.log):\n{}",
                self.dir(sid).display(),
                self.log_tail(sid, lines)
            );
        }
        out
    }
}

impl Drop for Ensemble {
    fn drop(&mut self) {
        for sid in 1..=self.spec.size {
            self.kill(sid);
        }
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
}

/// The last `lines` lines of a server log, without the polling's four-letter words and the
/// frames of a backtrace.
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text
        .lines()
        .filter(|line| {
            let trimmed = line.trim_start();
            let frame = trimmed.starts_with("at ")
                || trimmed
                    .split_once(": ")
                    .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()));
            let noise = line.contains("four-letter word") || (line.starts_with(' ') && frame);
            !noise
        })
        .collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A process in its own session that, once this process is gone (or a zombie), kills the
/// zk-servers whose pid files match `pid_files` under `dir` (checking their command line).
pub(crate) fn spawn_watchdog(dir: &Path, pid_files: &str) -> Result<Child> {
    let script = format!(
        "while s=$(sed 's/.*) //' /proc/{parent}/stat 2>/dev/null) && [ \"${{s%% *}}\" != Z ]; \
         do sleep 1; done; sleep 2; \
         for f in '{dir}'/{pid_files}; do [ -f \"$f\" ] || continue; p=$(cat \"$f\"); \
         if tr '\\0' ' ' < /proc/$p/cmdline 2>/dev/null | grep -q zk-server; then \
         kill -9 $p; fi; rm -f \"$f\"; done",
        parent = std::process::id(),
        dir = dir.display()
    );
    Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("start the watchdog (setsid sh)")
}

/// Kills a zk-server an interrupted earlier run left in `dir` (found by its pid file).
pub(crate) fn stop_leftover(dir: &Path) {
    let Ok(pid) = std::fs::read_to_string(dir.join("pid")) else {
        return;
    };
    let pid = pid.trim();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    if String::from_utf8_lossy(&cmdline).contains("zk-server") {
        let _ = Command::new("kill").args(["-9", pid]).status();
        std::thread::sleep(Duration::from_millis(500));
    }
    let _ = std::fs::remove_file(dir.join("pid"));
}

// ---- a minimal jute client (for the failover benchmark) -------------------------------------------

/// One ZooKeeper session spoken in raw jute: just enough for timed writes (xtask links no
/// workspace crate). Every read is bounded by the timeout given at connect.
pub(crate) struct JuteSession {
    stream: TcpStream,
    next_xid: i32,
}

/// The result of a write: acknowledged, or refused with ZooKeeper's error code.
pub(crate) type WriteOutcome = std::result::Result<(), i32>;

fn put_i32(out: &mut Vec<u8>, value: i32) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_i32(out, bytes.len() as i32);
    out.extend_from_slice(bytes);
}

impl JuteSession {
    /// Opens a session on 127.0.0.1:`port` (30 s session timeout).
    pub(crate) fn connect(port: u16, timeout: Duration) -> std::io::Result<JuteSession> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        let mut session = JuteSession {
            stream,
            next_xid: 1,
        };
        let mut connect = Vec::new();
        put_i32(&mut connect, 0); // protocolVersion
        connect.extend_from_slice(&0i64.to_be_bytes()); // lastZxidSeen
        put_i32(&mut connect, 30_000); // timeOut
        connect.extend_from_slice(&0i64.to_be_bytes()); // sessionId
        put_bytes(&mut connect, &[0; 16]); // passwd
        connect.push(0); // readOnly
        session.send(&connect)?;
        let answer = session.receive()?;
        let timeout_ms = answer
            .get(4..8)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .unwrap_or(0);
        if timeout_ms <= 0 {
            return Err(std::io::Error::other("session refused"));
        }
        Ok(session)
    }

    fn send(&mut self, payload: &[u8]) -> std::io::Result<()> {
        let mut frame = Vec::with_capacity(payload.len() + 4);
        put_i32(&mut frame, payload.len() as i32);
        frame.extend_from_slice(payload);
        self.stream.write_all(&frame)
    }

    fn receive(&mut self) -> std::io::Result<Vec<u8>> {
        let mut length = [0u8; 4];
        self.stream.read_exact(&mut length)?;
        let length = i32::from_be_bytes(length);
        if !(0..=(16 << 20)).contains(&length) {
            return Err(std::io::Error::other(format!("bad frame length {length}")));
        }
        let mut payload = vec![0; length as usize];
        self.stream.read_exact(&mut payload)?;
        Ok(payload)
    }

    /// Sends one request (`op` and its body) and waits for its reply header's error code.
    fn call(&mut self, op: i32, body: &[u8]) -> std::io::Result<WriteOutcome> {
        let xid = self.next_xid;
        self.next_xid += 1;
        let mut payload = Vec::with_capacity(body.len() + 8);
        put_i32(&mut payload, xid);
        put_i32(&mut payload, op);
        payload.extend_from_slice(body);
        self.send(&payload)?;
        loop {
            let reply = self.receive()?;
            if reply.len() < 16 {
                return Err(std::io::Error::other("short reply"));
            }
            let reply_xid = i32::from_be_bytes([reply[0], reply[1], reply[2], reply[3]]);
            if reply_xid != xid {
                continue; // a notification or a ping reply
            }
            let err = i32::from_be_bytes([reply[12], reply[13], reply[14], reply[15]]);
            return Ok(if err == 0 { Ok(()) } else { Err(err) });
        }
    }

    /// `create` of a persistent node with the open ACL.
    pub(crate) fn create(&mut self, path: &str, data: &[u8]) -> std::io::Result<WriteOutcome> {
        let mut body = Vec::new();
        put_bytes(&mut body, path.as_bytes());
        put_bytes(&mut body, data);
        put_i32(&mut body, 1); // one ACL: world:anyone, all permissions
        put_i32(&mut body, 31);
        put_bytes(&mut body, b"world");
        put_bytes(&mut body, b"anyone");
        put_i32(&mut body, 0); // persistent
        self.call(1, &body)
    }

    /// `setData` with any version.
    pub(crate) fn set_data(&mut self, path: &str, data: &[u8]) -> std::io::Result<WriteOutcome> {
        let mut body = Vec::new();
        put_bytes(&mut body, path.as_bytes());
        put_bytes(&mut body, data);
        put_i32(&mut body, -1);
        self.call(5, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::strings;

    #[test]
    fn options_and_layout() {
        let options = parse(&strings("--size 5 --election-alg 2 --base-port 20000")).unwrap();
        let spec = options.spec;
        assert_eq!(spec.size, 5);
        assert_eq!(spec.client_port(1), 20000);
        assert_eq!(spec.quorum_port(5), 20104);
        assert_eq!(spec.election_port(2), 20201);
        assert_eq!(
            spec.connect_string(),
            "127.0.0.1:20000,127.0.0.1:20001,127.0.0.1:20002,127.0.0.1:20003,127.0.0.1:20004"
        );
        let cfg = spec.zoo_cfg(2);
        assert!(cfg.contains("clientPort=20001\n"), "{cfg}");
        assert!(cfg.contains("electionAlg=2\nauthFleSecret="), "{cfg}");
        assert!(
            cfg.contains("server.5=127.0.0.1:20104:20204;20004\n"),
            "{cfg}"
        );
        assert!(parse(&strings("--election-alg 4")).is_err());
        assert!(parse(&strings("--size")).is_err());
        assert!(parse(&strings("--bogus 1")).is_err());
        assert_eq!(parse(&[]).unwrap().spec.size, 3);
    }

    #[test]
    fn the_local_zoo_cfg_is_whole() {
        let spec = EnsembleSpec {
            size: 2,
            election_alg: 2,
            base_port: 20000,
            dir: PathBuf::from("/tmp/c"),
            tick_time_ms: 500,
            log_filter: "warn".to_owned(),
        };
        assert_eq!(
            spec.zoo_cfg(1),
            "tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir=/tmp/c/s1/data\nclientPort=20000\n\
             clientPortAddress=127.0.0.1\nmaxClientCnxns=0\n4lw.commands.whitelist=*\n\
             extendedTypesEnabled=true\nelectionAlg=2\n\
             authFleSecret=xtask-cluster-secret-0123456789\n\
             server.1=127.0.0.1:20100:20200;20000\nserver.2=127.0.0.1:20101:20201;20001\n"
        );
        let plain = local_zoo_cfg(&LocalZooCfg {
            size: 1,
            sid: 1,
            base_port: 21000,
            election_alg: 3,
            tick_time_ms: 2000,
            data_dir: Path::new("/tmp/e/s1/data"),
            extended_types: false,
            auth_secret: "unused-secret-0123456789",
        });
        assert_eq!(
            plain,
            "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/tmp/e/s1/data\nclientPort=21000\n\
             clientPortAddress=127.0.0.1\nmaxClientCnxns=0\n4lw.commands.whitelist=*\n\
             electionAlg=3\nserver.1=127.0.0.1:21100:21200;21000\n"
        );
    }

    #[test]
    fn srvr_answers_are_read() {
        let text = "Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.0/0\nZxid: 0x300000002\n\
                    Mode: leader\nNode count: 5\n";
        assert_eq!(parse_srvr(text), (Mode::Leader, Some(0x3_0000_0002)));
        assert_eq!(
            parse_srvr("This ZooKeeper instance is not currently serving requests\n"),
            (Mode::NotServing, None)
        );
        let spec = parse(&[]).unwrap().spec;
        let view = View {
            servers: vec![
                (1, Mode::Follower, Some(5)),
                (2, Mode::Leader, Some(0x2_0000_0000)),
                (3, Mode::Down, None),
            ],
        };
        assert_eq!(view.leader(), Some(2));
        assert_eq!(
            view.describe(&spec),
            "leader: server 2 (127.0.0.1:12182), epoch 2; serving: 1,2 (3 down)"
        );
    }

    #[test]
    fn log_tails_leave_out_polling_and_backtrace_frames() {
        let path = std::env::temp_dir().join(format!("xtask-log-tail-{}.log", std::process::id()));
        std::fs::write(
            &path,
            "first\nsecond\nINFO four-letter word srvr\npanicked here\n   0: frame\n      at src/x.rs:1\nlast\n",
        )
        .unwrap();
        let tail = log_tail(&path, 3);
        let whole = log_tail(&path, 100);
        let _ = std::fs::remove_file(&path);
        assert_eq!(tail, "second\npanicked here\nlast");
        assert_eq!(whole, "first\nsecond\npanicked here\nlast");
        assert_eq!(log_tail(Path::new("/nonexistent/xtask/server.log"), 3), "");
    }
}
