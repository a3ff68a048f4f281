//! `cargo xtask conformance`: unmodified ZooKeeper clients against our server and Apache's.
//!
//! Suites (each run with `ZK_ADDR=host:port` of the server under test):
//! - `kazoo`: the pytest suite in `tests/kazoo` (kazoo plus a raw wire-protocol client);
//! - `interop`: `crates/zk-interop`, the `zookeeper-client` crate (`cargo test -- --ignored`);
//! - `cli`: `tests/cli/cli_session.py`, Debian's C `cli_mt` and Java `zkCli.sh`;
//! - `client`: our own `crates/zk-client` (its recipes and `zk-cli`, `cargo test -- --ignored`);
//! - `curator`: `tests/curator/CuratorConformance.java`, Apache Curator 5 (Debian's
//!   `libcurator-recipes-java`) with its recipes, compiled with `javac` into
//!   `target/conformance/curator`.
//!
//! Targets: `ours` (`zk-server`, release build, port 22181), `apache` (Apache ZooKeeper
//! 3.8 via `scripts/apache-zookeeper.sh`, port 22182) and `ensemble` (three `zk-server`
//! processes in one ensemble, client ports 23181..23183, directories under
//! `target/conformance/ensemble`; the kazoo, interop and curator suites run against a
//! follower's port, found with `srvr`, so that writes are forwarded to the leader; then five
//! more ensembles, one per election algorithm and size (electionAlg 1, 2 and 3 with 3 and 5
//! servers), each serving kazoo's CRUD, session and recipe tests through a follower). Every
//! suite must pass against Apache: that is what shows the suites assert ZooKeeper's
//! behaviour.
//!
//! Options: `--only ours|apache|ensemble`, `--ensemble` (= `--only ensemble`),
//! `--suite kazoo|interop|cli|client|curator` (both repeatable).
//! Missing prerequisites are installed: the Python venv in `target/conformance-venv`, and
//! (as root) Debian's `zookeeper`/`zookeeper-bin`, `libcurator-recipes-java` and
//! `default-jdk-headless` packages. Servers started here are stopped by guards, also when a
//! suite fails.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::cluster::{Ensemble, EnsembleSpec};
use crate::util::{cargo, run as exec, workspace_root};

const OURS_PORT: u16 = 22181;
const APACHE_PORT: u16 = 22182;
/// First client port of the ensemble target (its servers use the next ones, and +100/+200 for
/// their quorum and election ports).
const ENSEMBLE_BASE_PORT: u16 = 23181;
/// The suites that run against the ensemble targets.
const ENSEMBLE_SUITES: [Suite; 3] = [Suite::Kazoo, Suite::Interop, Suite::Curator];
/// An ensemble target: its election algorithm and size.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct EnsembleKind {
    election_alg: u8,
    size: usize,
}
/// The main ensemble target (FastLeaderElection, 3 servers): every kazoo test and interop.
const ENSEMBLE_MAIN: EnsembleKind = EnsembleKind {
    election_alg: 3,
    size: 3,
};
/// The other ensembles, one per election algorithm and size, serving a smaller kazoo set
/// ([`KAZOO_SMOKE`]): every algorithm elects a leader that serves kazoo with 3 and 5 servers.
const ENSEMBLE_OTHERS: [EnsembleKind; 5] = [
    EnsembleKind {
        election_alg: 3,
        size: 5,
    },
    EnsembleKind {
        election_alg: 1,
        size: 3,
    },
    EnsembleKind {
        election_alg: 1,
        size: 5,
    },
    EnsembleKind {
        election_alg: 2,
        size: 3,
    },
    EnsembleKind {
        election_alg: 2,
        size: 5,
    },
];
/// The kazoo files the other ensembles run (CRUD, sessions, and kazoo's own recipes).
const KAZOO_SMOKE: [&str; 3] = ["test_crud.py", "test_sessions.py", "test_recipes.py"];
const APACHE_JAR: &str = "/usr/share/java/zookeeper.jar";
const CLI_MT: &str = "/usr/lib/zookeeper/bin/cli_mt";
const ZKCLI: &str = "/usr/share/zookeeper/bin/zkCli.sh";
/// How long a server may take to answer `ruok` after starting.
const STARTUP_WAIT: Duration = Duration::from_secs(90);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Target {
    Ours,
    Apache,
    /// An ensemble of ours, the suites connected to a follower.
    Ensemble(EnsembleKind),
}

impl Target {
    fn name(self) -> String {
        match self {
            Target::Ours => "ours".to_owned(),
            Target::Apache => "apache".to_owned(),
            Target::Ensemble(ENSEMBLE_MAIN) => "ensemble".to_owned(),
            Target::Ensemble(kind) => format!(
                "ensemble (electionAlg={}, {} servers)",
                kind.election_alg, kind.size
            ),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Suite {
    Kazoo,
    Interop,
    Cli,
    Client,
    Curator,
}

impl Suite {
    /// Every suite, in the order they run by default.
    const ALL: [Suite; 5] = [
        Suite::Kazoo,
        Suite::Interop,
        Suite::Cli,
        Suite::Client,
        Suite::Curator,
    ];

    /// The suite named `name` on the command line.
    fn named(name: &str) -> Option<Suite> {
        Suite::ALL.into_iter().find(|suite| suite.name() == name)
    }

    /// The suites' names as the usage message lists them: `kazoo|interop|...`.
    fn choices() -> String {
        Suite::ALL.map(Suite::name).join("|")
    }

    fn name(self) -> &'static str {
        match self {
            Suite::Kazoo => "kazoo",
            Suite::Interop => "interop",
            Suite::Cli => "cli",
            Suite::Client => "client",
            Suite::Curator => "curator",
        }
    }
}

struct Options {
    targets: Vec<Target>,
    suites: Vec<Suite>,
}

/// Every ensemble target, the main one first.
fn all_ensembles() -> Vec<Target> {
    std::iter::once(ENSEMBLE_MAIN)
        .chain(ENSEMBLE_OTHERS)
        .map(Target::Ensemble)
        .collect()
}

fn is_ensemble(target: Target) -> bool {
    matches!(target, Target::Ensemble(_))
}

fn parse(args: &[String]) -> Result<Options> {
    let mut targets = Vec::new();
    let mut suites = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let mut value = || {
            iter.next()
                .map(String::as_str)
                .with_context(|| format!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--only" => targets.push(match value()? {
                "ours" => Target::Ours,
                "apache" => Target::Apache,
                "ensemble" => {
                    targets.extend(all_ensembles());
                    continue;
                }
                other => bail!("--only takes ours|apache|ensemble, not {other:?}"),
            }),
            "--ensemble" => targets.extend(all_ensembles()),
            "--suite" => {
                let name = value()?;
                match Suite::named(name) {
                    Some(suite) => suites.push(suite),
                    None => bail!("--suite takes {}, not {name:?}", Suite::choices()),
                }
            }
            other => bail!(
                "unknown argument {other:?}; usage: cargo xtask conformance \
                 [--only ours|apache|ensemble] [--ensemble] [--suite {}]",
                Suite::choices()
            ),
        }
    }
    if targets.is_empty() {
        targets = vec![Target::Ours, Target::Apache];
        targets.extend(all_ensembles());
    }
    if suites.is_empty() {
        suites = Suite::ALL.to_vec();
    }
    Ok(Options { targets, suites })
}

pub(crate) fn run(args: &[String]) -> Result<()> {
    let options = parse(args)?;
    let root = workspace_root();
    let work = root.join("target/conformance");
    fs::create_dir_all(&work).context("create target/conformance")?;

    let python = prerequisites(&root, &options)?;
    // A failed build fails only the runs that need it: Apache is still checked.
    let built = if options
        .targets
        .iter()
        .any(|&t| t == Target::Ours || is_ensemble(t))
    {
        exec(cargo().args(["build", "-p", "zk-server", "--release"]))
    } else {
        Ok(())
    };
    if options.suites.contains(&Suite::Interop) {
        // Compile up front so that the build does not run while a server waits; a failure
        // shows again (and is counted) when the suite runs.
        let _ = exec(cargo().args(["test", "-p", "zk-interop", "--no-run"]));
    }
    if options.suites.contains(&Suite::Client) {
        let _ = exec(cargo().args(["test", "-p", "zk-client", "--no-run"]));
    }
    // A failed compile fails the curator runs only (as a failed build of ours does).
    let curator = if options.suites.contains(&Suite::Curator) {
        compile_curator(&root).map_err(|e| format!("{e:#}"))
    } else {
        Ok(())
    };

    let mut outcomes: Vec<(Target, Suite, Result<String>)> = Vec::new();
    for &target in &options.targets {
        let suites: Vec<Suite> = options
            .suites
            .iter()
            .copied()
            .filter(|suite| match target {
                Target::Ensemble(ENSEMBLE_MAIN) => ENSEMBLE_SUITES.contains(suite),
                Target::Ensemble(_) => *suite == Suite::Kazoo,
                _ => true,
            })
            .collect();
        if suites.is_empty() {
            continue;
        }
        let mut port = match target {
            Target::Ours => OURS_PORT,
            Target::Apache => APACHE_PORT,
            Target::Ensemble(_) => ENSEMBLE_BASE_PORT,
        };
        eprintln!(
            "\n=== conformance: starting {} on 127.0.0.1:{port}",
            target.name()
        );
        // Guards: whichever server started is stopped when they go out of scope.
        let started = match target {
            Target::Ours | Target::Ensemble(_) if built.is_err() => {
                Err(anyhow::anyhow!("zk-server did not build"))
            }
            Target::Ours => {
                OurServer::start(&root, &work.join("ours"), port).map(|s| (Some(s), None, None))
            }
            Target::Apache => ApacheServer::start(&root, &work.join("apache"), port)
                .map(|s| (None, Some(s), None)),
            Target::Ensemble(kind) => {
                start_ensemble(&work.join("ensemble"), kind).map(|(ensemble, p)| {
                    port = p;
                    (None, None, Some(ensemble))
                })
            }
        };
        let _guards: (Option<OurServer>, Option<ApacheServer>, Option<Ensemble>) = match started {
            Ok(guards) => guards,
            Err(error) => {
                for &suite in &suites {
                    outcomes.push((
                        target,
                        suite,
                        Err(anyhow::anyhow!("server did not start: {error:#}")),
                    ));
                }
                continue;
            }
        };
        let addr = format!("127.0.0.1:{port}");
        for &suite in &suites {
            eprintln!(
                "\n=== conformance: {} suite against {} ({addr})",
                suite.name(),
                target.name()
            );
            let outcome = match (suite, &curator) {
                (Suite::Curator, Err(error)) => Err(anyhow::anyhow!("did not compile: {error}")),
                _ => run_suite(&root, &python, suite, &addr, target),
            };
            if let Err(error) = &outcome {
                eprintln!("=== {} against {}: {error:#}", suite.name(), target.name());
                match target {
                    Target::Ours => print_log_tail(&work.join("ours/server.log")),
                    Target::Ensemble(kind) => {
                        for sid in 1..=kind.size {
                            print_log_tail(&work.join(format!("ensemble/s{sid}/server.log")));
                        }
                    }
                    Target::Apache => {}
                }
            }
            outcomes.push((target, suite, outcome));
        }
    }

    eprintln!("\n=== conformance summary");
    if outcomes.is_empty() {
        bail!("no suite was run (the ensemble target runs only kazoo, interop and curator)");
    }
    let mut failed = 0;
    let (mut tests_passed, mut tests_failed) = (0, 0);
    for (target, suite, outcome) in &outcomes {
        let text = match outcome {
            Ok(count) => {
                eprintln!("  {:<8} {:<8} PASS  {count}", target.name(), suite.name());
                count.clone()
            }
            Err(error) => {
                failed += 1;
                eprintln!("  {:<8} {:<8} FAIL  {error:#}", target.name(), suite.name());
                format!("{error:#}")
            }
        };
        let (passed, failed_tests) = test_counts(&text);
        tests_passed += passed;
        tests_failed += failed_tests;
    }
    println!("conformance: {tests_passed} passed, {tests_failed} failed");
    if failed > 0 {
        bail!("{failed} of {} conformance runs failed", outcomes.len());
    }
    eprintln!("cargo xtask conformance: every suite passed");
    Ok(())
}

/// The `N passed` and `N failed` numbers in a runner's closing line.
fn test_counts(line: &str) -> (u64, u64) {
    let words: Vec<&str> = line
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    let mut counts = (0, 0);
    for pair in words.windows(2) {
        match (pair[0].parse::<u64>(), pair[1]) {
            (Ok(n), "passed") => counts.0 += n,
            (Ok(n), "failed") => counts.1 += n,
            _ => {}
        }
    }
    counts
}

/// Prints the end of our server's log, to explain a failed suite.
fn print_log_tail(log: &Path) {
    let text = fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    eprintln!("--- last lines of {}:", log.display());
    for line in &lines[lines.len().saturating_sub(30)..] {
        eprintln!("{line}");
    }
}

/// Runs one suite; returns its runner's closing count line (e.g. pytest's `N passed`).
fn run_suite(
    root: &Path,
    python: &Path,
    suite: Suite,
    addr: &str,
    target: Target,
) -> Result<String> {
    // The smaller ensembles run only a few kazoo files.
    let files: Vec<&str> = match target {
        Target::Ensemble(kind) if kind != ENSEMBLE_MAIN => KAZOO_SMOKE.to_vec(),
        _ => Vec::new(),
    };
    match suite {
        Suite::Kazoo => run_counted(
            Command::new(python)
                .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
                .args(&files)
                .env(
                    "ZK_EXPECT_MODE",
                    if is_ensemble(target) {
                        "follower"
                    } else {
                        "standalone"
                    },
                )
                .current_dir(root.join("tests/kazoo"))
                .env("ZK_ADDR", addr)
                .env("PYTHONDONTWRITEBYTECODE", "1"),
            |line| line.contains(" passed") || line.contains(" failed"),
        ),
        Suite::Interop => run_cargo_tests(
            cargo()
                .args([
                    "test",
                    "-p",
                    "zk-interop",
                    "--",
                    "--ignored",
                    "--test-threads=1",
                ])
                .env("ZK_ADDR", addr),
        ),
        Suite::Client => run_cargo_tests(
            cargo()
                .args([
                    "test",
                    "-p",
                    "zk-client",
                    "--",
                    "--ignored",
                    "--test-threads=1",
                ])
                .env("ZK_ADDR", addr),
        ),
        Suite::Cli => run_counted(
            Command::new(python)
                .arg(root.join("tests/cli/cli_session.py"))
                .env("ZK_ADDR", addr)
                .env("PYTHONDONTWRITEBYTECODE", "1"),
            |line| line.starts_with("cli: "),
        ),
        Suite::Curator => run_counted(
            Command::new("java")
                .arg("-cp")
                .arg(curator_class_path(root))
                .arg("CuratorConformance")
                .env("ZK_ADDR", addr),
            |line| line.starts_with("curator: "),
        ),
    }
}

/// The jars the Curator suite needs, all from Debian's packages.
const CURATOR_JARS: [&str; 7] = [
    "curator-framework.jar",
    "curator-client.jar",
    "curator-recipes.jar",
    "zookeeper.jar",
    "zookeeper-jute.jar",
    "guava.jar",
    "slf4j-api.jar",
];

/// Where the Curator suite is compiled to.
fn curator_classes(root: &Path) -> PathBuf {
    root.join("target/conformance/curator")
}

/// The compiled suite followed by [`CURATOR_JARS`] from /usr/share/java.
fn curator_class_path(root: &Path) -> String {
    let mut path = curator_classes(root).display().to_string();
    for jar in CURATOR_JARS {
        path.push_str(":/usr/share/java/");
        path.push_str(jar);
    }
    path
}

/// Compiles `tests/curator/CuratorConformance.java` into [`curator_classes`].
fn compile_curator(root: &Path) -> Result<()> {
    let classes = curator_classes(root);
    fs::create_dir_all(&classes).with_context(|| format!("create {}", classes.display()))?;
    exec(
        Command::new("javac")
            .arg("-cp")
            .arg(curator_class_path(root))
            .arg("-d")
            .arg(&classes)
            .arg(root.join("tests/curator/CuratorConformance.java")),
    )
}

/// Runs `command` like [`exec`], echoing its stdout as it comes, and returns the last stdout
/// line for which `is_count` holds (the runner's summary), or an error if it failed.
fn run_counted(command: &mut Command, is_count: fn(&str) -> bool) -> Result<String> {
    run_summarised(command, is_count, false)
}

/// Like [`run_counted`] for `cargo test`, which prints one `test result:` line per test
/// binary: the counts of every such line are added up.
fn run_cargo_tests(command: &mut Command) -> Result<String> {
    run_summarised(
        command,
        |line| line.starts_with("test result:") && !line.contains(" 0 passed; 0 failed"),
        true,
    )
}

fn run_summarised(
    command: &mut Command,
    is_count: fn(&str) -> bool,
    add_up: bool,
) -> Result<String> {
    use std::io::BufRead;

    let shown = format!("{command:?}");
    eprintln!("$ {shown}");
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {shown}"))?;
    let mut count = String::new();
    let (mut passed, mut failed) = (0, 0);
    if let Some(stdout) = child.stdout.take() {
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.context("read runner output")?;
            println!("{line}");
            if is_count(&line) {
                count = line.trim().to_owned();
                let (p, f) = test_counts(&line);
                passed += p;
                failed += f;
            }
        }
    }
    if add_up {
        count = format!("{passed} passed, {failed} failed");
    }
    let status = child.wait().context("wait for the runner")?;
    if !status.success() {
        bail!("{count} ({status})");
    }
    Ok(count)
}

/// Installs what the chosen suites need; returns the venv's python.
fn prerequisites(root: &Path, options: &Options) -> Result<PathBuf> {
    let needs_apache = options.targets.contains(&Target::Apache);
    let needs_cli = options.suites.contains(&Suite::Cli);
    let missing_debian = (needs_apache && !Path::new(APACHE_JAR).exists())
        || (needs_cli && (!Path::new(CLI_MT).exists() || !Path::new(ZKCLI).exists()));
    if missing_debian {
        apt_install(&["zookeeper", "zookeeper-bin"])?;
    }
    if options.suites.contains(&Suite::Curator) {
        let mut missing = Vec::new();
        if !CURATOR_JARS
            .iter()
            .all(|jar| Path::new("/usr/share/java").join(jar).exists())
        {
            missing.extend(["libcurator-recipes-java", "zookeeper"]);
        }
        let has_javac = Command::new("javac")
            .arg("-version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !has_javac {
            missing.push("default-jdk-headless");
        }
        if !missing.is_empty() {
            apt_install(&missing)?;
        }
    }

    let venv = root.join("target/conformance-venv");
    let python = venv.join("bin/python");
    let ready = python.exists()
        && Command::new(&python)
            .args(["-c", "import kazoo, pytest"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
    if !ready {
        let created = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|status| status.success());
        if !created {
            apt_install(&["python3-venv"])?;
            exec(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        }
        exec(
            Command::new(&python)
                .args(["-m", "pip", "install", "-q", "-r"])
                .arg(root.join("tests/kazoo/requirements.txt")),
        )?;
    }
    Ok(python)
}

fn apt_install(packages: &[&str]) -> Result<()> {
    let uid = Command::new("id").arg("-u").output().context("run id -u")?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        bail!(
            "missing prerequisites; install them as root: apt-get install -y {}",
            packages.join(" ")
        );
    }
    exec(
        Command::new("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    exec(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// Our `zk-server`, a child process killed on drop.
struct OurServer {
    child: Child,
}

impl OurServer {
    fn start(root: &Path, dir: &Path, port: u16) -> Result<OurServer> {
        ensure_port_free(port)?;
        if dir.exists() {
            fs::remove_dir_all(dir).with_context(|| format!("clear {}", dir.display()))?;
        }
        let data = dir.join("data");
        fs::create_dir_all(&data).with_context(|| format!("create {}", data.display()))?;
        let config = dir.join("zoo.cfg");
        fs::write(
            &config,
            format!(
                "tickTime=2000\n\
                 dataDir={}\n\
                 clientPort={port}\n\
                 clientPortAddress=127.0.0.1\n\
                 maxClientCnxns=0\n\
                 4lw.commands.whitelist=*\n\
                 extendedTypesEnabled=true\n",
                data.display()
            ),
        )
        .context("write zoo.cfg")?;
        let log_path = dir.join("server.log");
        let log = fs::File::create(&log_path).context("create server.log")?;
        let binary = root.join("target/release/zk-server");
        let child = Command::new(&binary)
            .arg(&config)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("start {}", binary.display()))?;
        let mut server = OurServer { child };
        let started = Instant::now();
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "zk-server exited with {status} during startup; log {}:\n{}",
                    log_path.display(),
                    fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
            if ruok(port) {
                eprintln!("zk-server on 127.0.0.1:{port} (log {})", log_path.display());
                return Ok(server);
            }
            if started.elapsed() > STARTUP_WAIT {
                bail!("zk-server did not answer ruok on port {port}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for OurServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the ensemble target `kind` in `dir`; returns it with a follower's client port.
fn start_ensemble(dir: &Path, kind: EnsembleKind) -> Result<(Ensemble, u16)> {
    // A fresh directory: each ensemble target starts from empty data directories.
    let _ = fs::remove_dir_all(dir);
    let spec = EnsembleSpec {
        size: kind.size,
        election_alg: kind.election_alg,
        base_port: ENSEMBLE_BASE_PORT,
        dir: dir.to_path_buf(),
        tick_time_ms: 2000,
        log_filter: "info".to_owned(),
    };
    let binary = crate::util::target_dir().join("release/zk-server");
    let mut ensemble = Ensemble::start(&spec, &binary)?;
    let follower = ensemble.follower()?;
    let port = spec.client_port(follower);
    eprintln!(
        "zk-server ensemble {} (logs {}/s<k>/server.log); suites run against follower {follower} \
         on 127.0.0.1:{port}",
        spec.connect_string(),
        dir.display()
    );
    Ok((ensemble, port))
}

/// Apache ZooKeeper run by `scripts/apache-zookeeper.sh`, stopped on drop.
struct ApacheServer {
    script: PathBuf,
    dir: PathBuf,
}

impl ApacheServer {
    fn start(root: &Path, dir: &Path, port: u16) -> Result<ApacheServer> {
        ensure_port_free(port)?;
        if dir.exists() {
            fs::remove_dir_all(dir).with_context(|| format!("clear {}", dir.display()))?;
        }
        let script = root.join("scripts/apache-zookeeper.sh");
        // The guard exists before the start so that a half-started server is stopped too.
        let server = ApacheServer {
            script: script.clone(),
            dir: dir.to_path_buf(),
        };
        exec(
            Command::new("bash")
                .arg(&script)
                .arg("start")
                .arg(port.to_string())
                .arg(dir),
        )?;
        Ok(server)
    }
}

impl Drop for ApacheServer {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(&self.script)
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

fn ensure_port_free(port: u16) -> Result<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    if TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok() {
        bail!("port {port} is already in use: stop whatever listens there first");
    }
    Ok(())
}

/// True when the server on `port` answers the four-letter word `ruok` with `imok`.
fn ruok(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream.write_all(b"ruok").is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer == "imok"
}

#[cfg(test)]
mod tests {
    use super::{parse, test_counts, Suite};

    #[test]
    fn suites_are_chosen_by_name() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let options = parse(&args(&["--suite", "curator", "--suite", "kazoo"])).expect("parses");
        assert_eq!(options.suites, [Suite::Curator, Suite::Kazoo]);
        assert_eq!(parse(&[]).expect("parses").suites, Suite::ALL);
        let error = parse(&args(&["--suite", "junit"])).err().expect("refused");
        assert_eq!(
            error.to_string(),
            "--suite takes kazoo|interop|cli|client|curator, not \"junit\""
        );
    }

    #[test]
    fn counts_come_from_each_runners_closing_line() {
        assert_eq!(
            test_counts("2 failed, 182 passed in 86.07s (0:01:26)"),
            (182, 2)
        );
        assert_eq!(
            test_counts("test result: ok. 20 passed; 0 failed; 0 ignored; 0 measured"),
            (20, 0)
        );
        assert_eq!(test_counts("cli: 38 passed, 0 failed"), (38, 0));
        assert_eq!(
            test_counts("server did not start: port 22181 in use"),
            (0, 0)
        );
    }
}
