//! Starting and stopping a standalone server: binds the client port, runs the accept loop
//! (enforcing `maxClientCnxns` per client IP), spawns the core task and one task per connection.
//!
//! ```no_run
//! # async fn demo() -> Result<(), zk_server::ServerError> {
//! let handle = zk_server::Server::start(zk_server::Config::for_tests(200)).await?;
//! println!("listening on {}", handle.local_addr());
//! handle.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinHandle;
use tracing::{info, warn, Instrument};

use crate::config::Config;
use crate::core::{Core, CoreMsg};
use crate::error::ServerError;
use crate::stats::{ConnId, ConnStats, ServerStats};
use crate::txn_log::{MemoryTxnLog, TxnLog};

/// Messages the core may have waiting before connection tasks wait.
const CORE_QUEUE_LEN: usize = 1024;

/// The state every task of one server shares.
pub(crate) struct Shared {
    pub(crate) config: Arc<Config>,
    pub(crate) stats: ServerStats,
    pub(crate) core_tx: mpsc::Sender<CoreMsg>,
    /// `globalOutstandingLimit` permits: one per request read and not yet answered on the wire.
    pub(crate) budget: Arc<Semaphore>,
    /// The most requests one connection hands the core at once.
    pub(crate) max_batch: usize,
    pub(crate) shutdown: watch::Receiver<bool>,
    /// The bound client port.
    pub(crate) client_port: u16,
    registry: Mutex<Registry>,
}

#[derive(Default)]
struct Registry {
    connections: BTreeMap<ConnId, Arc<ConnStats>>,
    per_ip: HashMap<IpAddr, u32>,
}

impl Shared {
    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a new connection from `ip`, or refuses it when `maxClientCnxns` is reached.
    fn admit(&self, ip: IpAddr) -> bool {
        let limit = self.config.max_client_cnxns;
        let mut registry = self.registry();
        let count = registry.per_ip.entry(ip).or_insert(0);
        if limit != 0 && *count >= limit {
            return false;
        }
        *count += 1;
        true
    }

    pub(crate) fn register(&self, id: ConnId, stats: Arc<ConnStats>) {
        self.registry().connections.insert(id, stats);
    }

    pub(crate) fn unregister(&self, id: ConnId, ip: IpAddr) {
        let mut registry = self.registry();
        registry.connections.remove(&id);
        if let Some(count) = registry.per_ip.get_mut(&ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                registry.per_ip.remove(&ip);
            }
        }
    }

    /// Every open connection's statistics, in connection order.
    pub(crate) fn connections(&self) -> Vec<Arc<ConnStats>> {
        self.registry().connections.values().cloned().collect()
    }
}

/// What a server starts from: by default an empty tree; after a restart, the state the
/// durable storage recovered.
#[derive(Debug, Default)]
pub struct InitialState {
    /// The data tree (`None`: ZooKeeper's initial tree, with the configuration's
    /// `extendedTypesEnabled`).
    pub tree: Option<zk_tree::DataTree>,
    /// Live sessions and their negotiated timeouts; each is re-tracked with a fresh timer.
    pub sessions: Vec<(zk_proto::SessionId, i32)>,
    /// The last applied zxid; the next write takes the one after it.
    pub last_zxid: zk_proto::Zxid,
}

/// A standalone ZooKeeper-compatible server.
#[derive(Debug)]
pub struct Server;

impl Server {
    /// Refuses configurations an in-process standalone server cannot run (cluster mode is
    /// [`crate::cluster::node::run`], which the binary picks for a zoo.cfg with `server.N` lines).
    pub fn check_supported(config: &Config) -> Result<(), ServerError> {
        if config.servers.is_empty() {
            Ok(())
        } else {
            Err(ServerError::Unsupported(format!(
                "zoo.cfg has {} server.N lines: run it with the zk-server binary (cluster mode), or remove them to run standalone",
                config.servers.len()
            )))
        }
    }

    /// Binds the client port and starts serving with an in-memory transaction log.
    ///
    /// Must be called inside a tokio runtime; the server's tasks run on it until
    /// [`ServerHandle::shutdown`].
    pub async fn start(config: Config) -> Result<ServerHandle, ServerError> {
        Server::start_with_log(config, Box::new(MemoryTxnLog::default())).await
    }

    /// Binds the client port and starts serving, logging transactions to `log`.
    pub async fn start_with_log(
        config: Config,
        log: Box<dyn TxnLog>,
    ) -> Result<ServerHandle, ServerError> {
        Server::start_with_state(config, log, InitialState::default()).await
    }

    /// Binds the client port and starts serving from `initial` (state recovered from disk),
    /// logging transactions to `log`.
    pub async fn start_with_state(
        config: Config,
        log: Box<dyn TxnLog>,
        initial: InitialState,
    ) -> Result<ServerHandle, ServerError> {
        Server::check_supported(&config)?;
        Server::start_inner(config, log, initial, None).await
    }

    /// Binds the client port and starts the core in cluster mode (not serving until the node
    /// task says so); returns the handle and the core's channel for the node task.
    pub(crate) async fn start_cluster(
        config: Config,
        initial: InitialState,
        link: crate::core::cluster::ClusterLink,
    ) -> Result<ServerHandle, ServerError> {
        Server::start_inner(
            config,
            Box::new(MemoryTxnLog::default()),
            initial,
            Some(link),
        )
        .await
    }

    async fn start_inner(
        config: Config,
        log: Box<dyn TxnLog>,
        initial: InitialState,
        cluster: Option<crate::core::cluster::ClusterLink>,
    ) -> Result<ServerHandle, ServerError> {
        let sid = cluster.as_ref().map_or(0, |c| c.my_sid.0);
        let ip = config
            .client_port_address
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let addr = SocketAddr::new(ip, config.client_port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let (core_tx, core_rx) = mpsc::channel(CORE_QUEUE_LEN);
        let limit = config.global_outstanding_limit.max(1) as usize;
        let config = Arc::new(config);
        let shared = Arc::new(Shared {
            config: config.clone(),
            stats: ServerStats::default(),
            core_tx,
            budget: Arc::new(Semaphore::new(limit)),
            max_batch: limit.min(128),
            shutdown: shutdown_rx.clone(),
            client_port: local_addr.port(),
            registry: Mutex::new(Registry::default()),
        });
        let span = tracing::info_span!("server", sid);
        let core_tx = shared.core_tx.clone();
        let core = Core::new(shared.clone(), log, initial, cluster);
        let core_task = tokio::spawn(
            core.run(core_rx, shutdown_rx.clone())
                .instrument(span.clone()),
        );
        let accept_task = tokio::spawn(
            accept_loop(shared.clone(), listener, shutdown_rx).instrument(span.clone()),
        );
        span.in_scope(|| info!(%local_addr, "serving clients"));
        Ok(ServerHandle {
            local_addr,
            core_tx,
            shutdown_tx,
            core_task,
            accept_task,
        })
    }
}

impl Server {
    /// Starts a server on its own thread with its own tokio runtime, for harnesses that are not
    /// async or that must not share their runtime with the server. The server stops when the
    /// returned value is dropped (or [`BackgroundServer::stop`] is called).
    pub fn start_background(config: Config) -> Result<BackgroundServer, ServerError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("zk-server".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(ServerError::Unsupported(format!(
                            "cannot start a tokio runtime: {e}"
                        ))));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match Server::start(config).await {
                        Ok(handle) => {
                            let _ = ready_tx.send(Ok(handle.local_addr()));
                            let _ = stop_rx.await;
                            handle.shutdown().await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })
            .map_err(|e| {
                ServerError::Unsupported(format!("cannot spawn the server thread: {e}"))
            })?;
        let local_addr = ready_rx.recv().map_err(|_| {
            ServerError::Unsupported("the server thread stopped during startup".into())
        })??;
        Ok(BackgroundServer {
            local_addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

/// A server running on its own thread (see [`Server::start_background`]).
#[derive(Debug)]
pub struct BackgroundServer {
    local_addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundServer {
    /// The address the client port is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops the server and waits for its thread.
    pub fn stop(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for BackgroundServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// A running server.
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    core_tx: mpsc::Sender<CoreMsg>,
    shutdown_tx: watch::Sender<bool>,
    core_task: JoinHandle<Result<(), ServerError>>,
    accept_task: JoinHandle<()>,
}

impl ServerHandle {
    /// The address the client port is bound to (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The core's channel (cluster mode: the node task talks to the core through it).
    pub(crate) fn core_sender(&self) -> mpsc::Sender<CoreMsg> {
        self.core_tx.clone()
    }

    /// Stops accepting, closes every connection and stops the core.
    pub async fn shutdown(self) {
        let _ = self.shutdown_tx.send(true);
        let _ = self.accept_task.await;
        let _ = self.core_task.await;
    }

    /// Waits until the server stops by itself (a fatal storage error) or is shut down.
    pub async fn wait(&mut self) -> Result<(), ServerError> {
        match (&mut self.core_task).await {
            Ok(result) => result,
            Err(e) => Err(ServerError::Unsupported(format!("core task failed: {e}"))),
        }
    }
}

async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
) {
    let next_id = AtomicU64::new(1);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors and the like: back off briefly instead of spinning.
                warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        if !shared.admit(peer.ip()) {
            warn!(
                %peer,
                max_client_cnxns = shared.config.max_client_cnxns,
                "too many connections from this address; closing the new one"
            );
            drop(stream);
            continue;
        }
        let id = ConnId(next_id.fetch_add(1, Relaxed));
        tokio::spawn(crate::connection::serve(shared.clone(), stream, peer, id).in_current_span());
    }
}
