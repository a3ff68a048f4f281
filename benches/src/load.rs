//! The two things the generator does: a timed load run of one operation over N sessions, and
//! populating a server with many znodes.
//!
//! A load run goes through three phases. Every session connects and creates the node it needs
//! (get/set: one node per session under the root). Once all are ready, one shared start instant
//! is handed out; each session then keeps `pipeline` requests in flight until the end instant.
//! Requests sent before the warmup ends, or answered after the end, are not counted. Last, the
//! sessions delete what they created and close.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use tokio::sync::{watch, Barrier};
use tokio::task::JoinSet;
use zk_proto::ErrorCode;

use crate::args::{Op, Options};
use crate::connection::Connection;
use crate::records::{error_name, Request};
use crate::stats::Latencies;

/// Requests in flight while creating or deleting nodes outside the measured window.
const SETUP_DEPTH: usize = 64;

/// What one load run measured.
#[derive(Debug)]
pub(crate) struct LoadResult {
    /// Latencies of the operations completed inside the measured window.
    pub(crate) latencies: Latencies,
    /// Operations that got an error reply inside the window.
    pub(crate) errors: u64,
    /// The first error code seen, if any.
    pub(crate) first_error: Option<i32>,
    /// Length of the measured window.
    pub(crate) measured: Duration,
}

/// What one session measured.
struct SessionResult {
    latencies: Latencies,
    errors: u64,
    first_error: Option<i32>,
}

fn is_ok_or(err: i32, allowed: ErrorCode) -> bool {
    err == 0 || err == allowed.code()
}

/// Creates `path` unless it exists.
async fn ensure_node(connection: &mut Connection, path: &str, data: &[u8]) -> Result<()> {
    let reply = connection.call(&Request::Create { path, data }).await?;
    ensure!(
        is_ok_or(reply.err, ErrorCode::NodeExists),
        "create {path}: {}",
        error_name(reply.err)
    );
    Ok(())
}

/// Runs `op` as the options say and returns the merged measurements.
pub(crate) async fn run_load(options: &Options, op: Op) -> Result<LoadResult> {
    let value = vec![b'x'; options.value_bytes];
    let mut admin = Connection::open(&options.server).await?;
    ensure_node(&mut admin, &options.root, b"").await?;
    // Closed now rather than left idle for the whole run, where its session could expire.
    admin.close().await;

    let ready = Arc::new(Barrier::new(options.sessions + 1));
    let (start_tx, start_rx) = watch::channel(None::<Instant>);
    let mut tasks = JoinSet::new();
    for index in 0..options.sessions {
        let session = SessionPlan {
            server: options.server.clone(),
            op,
            node: format!("{}/s{index}", options.root),
            value: value.clone(),
            warmup: options.warmup,
            duration: options.duration,
            pipeline: options.pipeline,
        };
        let ready = Arc::clone(&ready);
        let start_rx = start_rx.clone();
        tasks.spawn(async move { session.run(ready, start_rx).await });
    }
    ready.wait().await;
    start_tx.send_replace(Some(Instant::now()));

    let mut result = LoadResult {
        latencies: Latencies::new(),
        errors: 0,
        first_error: None,
        measured: options.duration,
    };
    let mut failure = None;
    while let Some(joined) = tasks.join_next().await {
        match joined.context("a session task panicked").and_then(|r| r) {
            Ok(session) => {
                result.latencies.merge(&session.latencies);
                result.errors += session.errors;
                result.first_error = result.first_error.or(session.first_error);
            }
            Err(error) => failure = failure.or(Some(error)),
        }
    }
    // The root stays if another run is still using it (NotEmpty); that is fine.
    if let Ok(mut admin) = Connection::open(&options.server).await {
        let root = Request::Delete {
            path: &options.root,
        };
        let _ = admin.call(&root).await;
        admin.close().await;
    }
    match failure {
        Some(error) => Err(error),
        None => Ok(result),
    }
}

/// One session's part of a load run.
struct SessionPlan {
    server: String,
    op: Op,
    /// The session's node (get/set) or name prefix (create).
    node: String,
    value: Vec<u8>,
    warmup: Duration,
    duration: Duration,
    pipeline: usize,
}

impl SessionPlan {
    async fn run(
        self,
        ready: Arc<Barrier>,
        mut start: watch::Receiver<Option<Instant>>,
    ) -> Result<SessionResult> {
        // Every session must reach the barrier, even one whose setup failed, or the run hangs.
        let setup = self.setup().await;
        ready.wait().await;
        let mut connection = setup?;
        let start = start
            .wait_for(Option::is_some)
            .await
            .context("the run was abandoned")?
            .expect("wait_for returned a start instant");
        let (result, created) = self.drive(&mut connection, start).await?;
        self.cleanup(&mut connection, created).await?;
        connection.close().await;
        Ok(result)
    }

    async fn setup(&self) -> Result<Connection> {
        let mut connection = Connection::open(&self.server).await?;
        if matches!(self.op, Op::Get | Op::Set) {
            ensure_node(&mut connection, &self.node, &self.value).await?;
        }
        Ok(connection)
    }

    /// The measured loop; returns the result and how many create requests were sent.
    async fn drive(
        &self,
        connection: &mut Connection,
        start: Instant,
    ) -> Result<(SessionResult, u64)> {
        let measure_from = start + self.warmup;
        let end = measure_from + self.duration;
        let mut result = SessionResult {
            latencies: Latencies::new(),
            errors: 0,
            first_error: None,
        };
        let mut in_flight: VecDeque<(i32, Instant)> = VecDeque::with_capacity(self.pipeline);
        let mut created = 0u64;
        let mut name = String::with_capacity(self.node.len() + 16);
        loop {
            if Instant::now() < end {
                while in_flight.len() < self.pipeline {
                    let request = match self.op {
                        Op::Get => Request::GetData { path: &self.node },
                        Op::Set => Request::SetData {
                            path: &self.node,
                            data: &self.value,
                        },
                        Op::Create => {
                            name.clear();
                            name.push_str(&self.node);
                            name.push('-');
                            name.push_str(&created.to_string());
                            created += 1;
                            Request::Create {
                                path: &name,
                                data: &self.value,
                            }
                        }
                    };
                    let xid = connection.queue(&request);
                    in_flight.push_back((xid, Instant::now()));
                }
                connection.flush().await?;
            }
            let Some((xid, sent)) = in_flight.pop_front() else {
                break;
            };
            let reply = connection.recv().await?;
            let done = Instant::now();
            if reply.xid != xid {
                bail!("reply xid {} does not match request xid {xid}", reply.xid);
            }
            if sent < measure_from || done > end {
                continue;
            }
            if reply.err == 0 {
                result.latencies.record(done - sent);
            } else {
                result.errors += 1;
                result.first_error = result.first_error.or(Some(reply.err));
            }
        }
        Ok((result, created))
    }

    async fn cleanup(&self, connection: &mut Connection, created: u64) -> Result<()> {
        let names: Vec<String> = match self.op {
            Op::Get | Op::Set => vec![self.node.clone()],
            Op::Create => (0..created).map(|i| format!("{}-{i}", self.node)).collect(),
        };
        let errors = connection.pipeline(&deletes(&names), SETUP_DEPTH).await?;
        if let Some(&err) = errors
            .iter()
            .find(|&&err| !is_ok_or(err, ErrorCode::NoNode))
        {
            bail!("deleting {}'s nodes: {}", self.node, error_name(err));
        }
        Ok(())
    }
}

fn deletes(paths: &[String]) -> Vec<Request<'_>> {
    paths.iter().map(|path| Request::Delete { path }).collect()
}

/// What populating measured.
#[derive(Debug)]
pub(crate) struct PopulateResult {
    /// Nodes created (or found already there).
    pub(crate) znodes: u64,
    /// Wall time taken.
    pub(crate) elapsed: Duration,
}

/// Creates `count` znodes `ROOT/n<i>` over the options' sessions, `pipeline` deep each.
pub(crate) async fn populate(options: &Options, count: u64) -> Result<PopulateResult> {
    let value = Arc::new(vec![b'x'; options.value_bytes]);
    let mut admin = Connection::open(&options.server).await?;
    ensure_node(&mut admin, &options.root, b"").await?;
    admin.close().await;

    let started = Instant::now();
    let sessions = options.sessions as u64;
    let mut tasks = JoinSet::new();
    for index in 0..sessions {
        let server = options.server.clone();
        let root = options.root.clone();
        let value = Arc::clone(&value);
        let depth = options.pipeline;
        tasks.spawn(async move {
            let mut connection = Connection::open(&server).await?;
            // Session `index` takes every `sessions`-th node, so the names stay dense.
            let names: Vec<String> = (index..count)
                .step_by(sessions as usize)
                .map(|i| format!("{root}/n{i}"))
                .collect();
            let creates: Vec<Request<'_>> = names
                .iter()
                .map(|path| Request::Create { path, data: &value })
                .collect();
            let errors = connection.pipeline(&creates, depth).await?;
            connection.close().await;
            if let Some(&err) = errors
                .iter()
                .find(|&&err| !is_ok_or(err, ErrorCode::NodeExists))
            {
                bail!("populate: create failed with {}", error_name(err));
            }
            anyhow::Ok(names.len() as u64)
        });
    }
    let mut znodes = 0;
    while let Some(joined) = tasks.join_next().await {
        znodes += joined.context("a populate task panicked")??;
    }
    Ok(PopulateResult {
        znodes,
        elapsed: started.elapsed(),
    })
}
