//! Command-line options of `zk-bench`, parsed by hand (the generator has no CLI dependency).

use std::time::Duration;

use anyhow::{bail, Context, Result};

/// The usage text printed by `--help` and on bad arguments.
pub(crate) const USAGE: &str = "\
usage: zk-bench --server HOST:PORT --op get|set|create [options]
       zk-bench --server HOST:PORT --populate N [options]

load mode (closed loop unless --pipeline > 1):
  --op get|set|create   the request to repeat
  --sessions N          sessions, each its own TCP connection and task (default 1)
  --value-bytes B       data size of created/set nodes (default 100)
  --duration-s S        measured seconds (default 10)
  --warmup-s W          seconds run before measuring (default 2)
  --pipeline K          requests kept in flight per session (default 1)
populate mode:
  --populate N          create N znodes under /populate (pipelined, left in place)
  --pipeline K          requests in flight per session (default 64 here)
common:
  --root PATH           parent node of the benchmark's nodes (default /bench, /populate)
  --pid PID             also report this process's resident memory (VmRSS)
  --threads T           tokio worker threads (default: number of cores)";

/// The request a load run repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// `getData` of the session's own node.
    Get,
    /// `setData` of the session's own node.
    Set,
    /// `create` of a new node with a distinct name (deleted after the run).
    Create,
}

impl Op {
    /// The name used on the command line and in the output.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Set => "set",
            Op::Create => "create",
        }
    }
}

/// What `zk-bench` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Repeat one operation for a while and report throughput and latency.
    Load(Op),
    /// Create this many znodes and report the time taken (and the server's RSS).
    Populate(u64),
}

/// Parsed options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Options {
    /// `HOST:PORT` of the server.
    pub(crate) server: String,
    /// Load or populate.
    pub(crate) mode: Mode,
    /// Number of sessions.
    pub(crate) sessions: usize,
    /// Bytes of data per node.
    pub(crate) value_bytes: usize,
    /// Measured time.
    pub(crate) duration: Duration,
    /// Time run before measuring.
    pub(crate) warmup: Duration,
    /// Requests in flight per session.
    pub(crate) pipeline: usize,
    /// Parent node of everything the run creates.
    pub(crate) root: String,
    /// Process whose VmRSS to report.
    pub(crate) pid: Option<u32>,
    /// Tokio worker threads (`None`: one per core).
    pub(crate) threads: Option<usize>,
}

fn seconds(text: &str, flag: &str) -> Result<Duration> {
    let value: f64 = text
        .parse()
        .with_context(|| format!("{flag} wants seconds, got {text:?}"))?;
    if !value.is_finite() || value < 0.0 {
        bail!("{flag} wants a non-negative number of seconds, got {text:?}");
    }
    Ok(Duration::from_secs_f64(value))
}

fn number<T: std::str::FromStr>(text: &str, flag: &str) -> Result<T> {
    text.parse()
        .map_err(|_| anyhow::anyhow!("{flag} wants a number, got {text:?}"))
}

/// Parses the arguments after the program name. `Ok(None)` means `--help` was asked for.
pub(crate) fn parse(args: &[String]) -> Result<Option<Options>> {
    let mut server = None;
    let mut op = None;
    let mut populate = None;
    let mut sessions = 1usize;
    let mut value_bytes = 100usize;
    let mut duration = Duration::from_secs(10);
    let mut warmup = Duration::from_secs(2);
    let mut pipeline = None;
    let mut root = None;
    let mut pid = None;
    let mut threads = None;

    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        let mut value = || {
            iter.next()
                .map(String::as_str)
                .with_context(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--server" => server = Some(value()?.to_owned()),
            "--op" => {
                op = Some(match value()? {
                    "get" => Op::Get,
                    "set" => Op::Set,
                    "create" => Op::Create,
                    other => bail!("--op wants get, set or create, got {other:?}"),
                })
            }
            "--populate" => populate = Some(number::<u64>(value()?, flag)?),
            "--sessions" => sessions = number(value()?, flag)?,
            "--value-bytes" => value_bytes = number(value()?, flag)?,
            "--duration-s" => duration = seconds(value()?, flag)?,
            "--warmup-s" => warmup = seconds(value()?, flag)?,
            "--pipeline" => pipeline = Some(number::<usize>(value()?, flag)?),
            "--root" => root = Some(value()?.to_owned()),
            "--pid" => pid = Some(number(value()?, flag)?),
            "--threads" => threads = Some(number(value()?, flag)?),
            other => bail!("unknown argument {other:?}"),
        }
    }

    let server = server.context("--server HOST:PORT is required")?;
    let mode = match (op, populate) {
        (Some(op), None) => Mode::Load(op),
        (None, Some(n)) => Mode::Populate(n),
        (Some(_), Some(_)) => bail!("give either --op or --populate, not both"),
        (None, None) => bail!("give --op get|set|create or --populate N"),
    };
    if sessions == 0 {
        bail!("--sessions must be at least 1");
    }
    if pipeline == Some(0) {
        bail!("--pipeline must be at least 1");
    }
    if threads == Some(0) {
        bail!("--threads must be at least 1");
    }
    if matches!(mode, Mode::Load(_)) && duration.is_zero() {
        bail!("--duration-s must be positive");
    }
    let pipeline = pipeline.unwrap_or(match mode {
        Mode::Load(_) => 1,
        Mode::Populate(_) => 64,
    });
    let root = root.unwrap_or_else(|| {
        match mode {
            Mode::Load(_) => "/bench",
            Mode::Populate(_) => "/populate",
        }
        .to_owned()
    });
    if !root.starts_with('/') || root.len() < 2 || root.ends_with('/') {
        bail!("--root must be an absolute path below /, got {root:?}");
    }
    Ok(Some(Options {
        server,
        mode,
        sessions,
        value_bytes,
        duration,
        warmup,
        pipeline,
        root,
        pid,
        threads,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn load_defaults() {
        let options = parse(&args("--server 127.0.0.1:2181 --op get"))
            .unwrap()
            .unwrap();
        assert_eq!(options.mode, Mode::Load(Op::Get));
        assert_eq!(options.sessions, 1);
        assert_eq!(options.value_bytes, 100);
        assert_eq!(options.pipeline, 1);
        assert_eq!(options.duration, Duration::from_secs(10));
        assert_eq!(options.warmup, Duration::from_secs(2));
        assert_eq!(options.root, "/bench");
        assert_eq!(options.pid, None);
    }

    #[test]
    fn every_flag_is_read() {
        let options = parse(&args(
            "--server h:1 --op create --sessions 64 --value-bytes 10 --duration-s 1.5 \
             --warmup-s 0 --pipeline 8 --root /x --pid 42 --threads 3",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(options.mode, Mode::Load(Op::Create));
        assert_eq!(options.sessions, 64);
        assert_eq!(options.value_bytes, 10);
        assert_eq!(options.duration, Duration::from_millis(1500));
        assert_eq!(options.warmup, Duration::ZERO);
        assert_eq!(options.pipeline, 8);
        assert_eq!(options.root, "/x");
        assert_eq!(options.pid, Some(42));
        assert_eq!(options.threads, Some(3));
    }

    #[test]
    fn populate_mode_pipelines_by_default() {
        let options = parse(&args("--server h:1 --populate 100000 --pid 7"))
            .unwrap()
            .unwrap();
        assert_eq!(options.mode, Mode::Populate(100_000));
        assert_eq!(options.pipeline, 64);
        assert_eq!(options.root, "/populate");
    }

    #[test]
    fn bad_arguments_are_refused() {
        for bad in [
            "--op get",
            "--server h:1",
            "--server h:1 --op delete",
            "--server h:1 --op get --populate 3",
            "--server h:1 --op get --sessions 0",
            "--server h:1 --op get --pipeline 0",
            "--server h:1 --op get --duration-s -1",
            "--server h:1 --op get --duration-s 0",
            "--server h:1 --op get --root bench",
            "--server h:1 --op get --frobnicate",
            "--server h:1 --op",
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(parse(&args("--server h:1 --help")).unwrap(), None);
    }
}
