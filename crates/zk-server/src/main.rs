//! `zk-server`: a ZooKeeper-compatible server, standalone or one server of an ensemble.
//!
//! `zk-server [--port N] [CONFIG]` reads a zoo.cfg in ZooKeeper's format, or runs on the embedded
//! default (port 2181 on every address, data under `./zk-data`) without one. A zoo.cfg with
//! `server.N` lines (and `myid` in dataDir) runs the server in cluster mode.

use std::path::PathBuf;

use anyhow::{bail, Context};
use tracing::{info, warn};
use tracing_subscriber::EnvFilter;
use zk_server::{Config, DurableTxnLog, InitialState, MemoryTxnLog, Server, TxnLog};

const USAGE: &str = "\
usage: zk-server [--port PORT] [CONFIG]

Runs a ZooKeeper-compatible server: standalone, or in cluster mode when CONFIG has
server.N lines (then dataDir/myid names this server, as in ZooKeeper).

  CONFIG       a zoo.cfg in ZooKeeper's format (tickTime, dataDir, clientPort, ...);
               without it: port 2181 on every address, data under ./zk-data
  --port PORT  overrides clientPort (0 picks a free port)
  --in-memory  keeps transactions in memory only (no dataDir, nothing survives a restart;
               standalone only)
  --threads N  tokio worker threads (default: 1 on machines with at most 2 cores, where
               one thread beats cross-thread wake-ups; else the number of cores)
  --help       prints this text

Logging is controlled by RUST_LOG (default: info). The environment variable ZK_SUPER_DIGEST
sets the super user digest (super:<base64 sha1>) when zoo.cfg does not.
";

struct Args {
    config: Option<PathBuf>,
    port: Option<u16>,
    threads: Option<usize>,
    in_memory: bool,
}

fn parse_args() -> anyhow::Result<Option<Args>> {
    let mut args = Args {
        config: None,
        port: None,
        threads: None,
        in_memory: false,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" | "-p" => {
                let value = iter.next().context("--port needs a value")?;
                args.port = Some(
                    value
                        .parse()
                        .with_context(|| format!("bad port {value:?}"))?,
                );
            }
            "--in-memory" => args.in_memory = true,
            "--threads" => {
                let value = iter.next().context("--threads needs a value")?;
                let threads: usize = value
                    .parse()
                    .with_context(|| format!("bad thread count {value:?}"))?;
                if threads == 0 {
                    bail!("--threads must be at least 1");
                }
                args.threads = Some(threads);
            }
            _ if arg.starts_with('-') => bail!("unknown option {arg:?}\n\n{USAGE}"),
            _ => {
                if args.config.is_some() {
                    bail!("more than one config file given\n\n{USAGE}");
                }
                args.config = Some(PathBuf::from(arg));
            }
        }
    }
    Ok(Some(args))
}

fn main() -> anyhow::Result<()> {
    let Some(args) = parse_args()? else {
        print!("{USAGE}");
        return Ok(());
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let mut config = match &args.config {
        Some(path) => Config::from_file(path)
            .with_context(|| format!("invalid configuration {}", path.display()))?,
        None => {
            let mut config = Config::standalone_default();
            config.super_digest = std::env::var("ZK_SUPER_DIGEST")
                .ok()
                .filter(|v| !v.is_empty());
            config
        }
    };
    if let Some(port) = args.port {
        config.client_port = port;
    }
    for (line, key) in &config.unknown_keys {
        warn!(key, line, "unknown zoo.cfg key ignored");
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = args.threads.unwrap_or(if cores <= 2 { 1 } else { cores });
    let runtime = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
    .context("cannot start the tokio runtime")?;
    let ensemble = zk_server::ensemble::Ensemble::from_config(&config)
        .context("invalid ensemble configuration")?;
    if let Some(ensemble) = ensemble {
        if args.in_memory {
            bail!("--in-memory is for standalone servers; a cluster member needs its dataDir");
        }
        info!(
            sid = %ensemble.my_sid,
            servers = ensemble.members.len(),
            "starting in cluster mode"
        );
        return runtime.block_on(async move {
            let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    info!("interrupted; shutting down");
                    let _ = shutdown_tx.send(true);
                }
            });
            zk_server::cluster::node::run(config, ensemble, shutdown_rx)
                .await
                .context("server stopped")
        });
    }
    Server::check_supported(&config)?;
    // Recovery reads the data directory with blocking IO: do it before serving.
    let (log, initial): (Box<dyn TxnLog>, InitialState) = if args.in_memory {
        (Box::new(MemoryTxnLog::default()), InitialState::default())
    } else {
        let (log, initial) = DurableTxnLog::open(&config).with_context(|| {
            format!(
                "cannot use dataDir {} / dataLogDir {}",
                config.data_dir.display(),
                config.data_log_dir.display()
            )
        })?;
        (Box::new(log), initial)
    };
    runtime.block_on(async move {
        let mut handle = Server::start_with_state(config, log, initial)
            .await
            .context("cannot start the server")?;
        info!(addr = %handle.local_addr(), "zk-server started");
        tokio::select! {
            result = handle.wait() => result.context("server stopped")?,
            _ = tokio::signal::ctrl_c() => {
                info!("interrupted; shutting down");
                handle.shutdown().await;
            }
        }
        Ok(())
    })
}
