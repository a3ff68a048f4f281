//! Herd-effect benchmark of the election recipe: for each number of contenders, the watch
//! notifications the server sends per leader change and the handover time from the leader's
//! session close to the successor knowing it leads, herd-free recipe against the naive variant.
//!
//! ```text
//! cargo run --release -p zk-client --example election_bench -- \
//!     --server 127.0.0.1:2181 [--sizes 10,100,1000] [--changes 10]
//! ```
//!
//! "Notifications per change" is the number of watch notifications all remaining contenders
//! received per leader change (counted by each client, flushed with a round trip). The
//! handover runs from the moment the leader starts closing its session to the moment the
//! successor's campaign reports `Elected`. Measured on a shared 2-core machine (10 changes
//! each, release build), Apache ZooKeeper 3.8 / our zk-server:
//!
//! | contenders | variant | notifications per change | handover mean (ms) |
//! |---:|---|---:|---:|
//! | 10 | recipe | 1.0 / 1.0 | 1.4 / 0.7 |
//! | 10 | naive | 5.0 / 5.0 | 3.1 / 1.0 |
//! | 100 | recipe | 1.0 / 1.0 | 1.7 / 0.7 |
//! | 100 | naive | 94.5 / 94.5 | 8.2 / 7.4 |
//! | 1000 | recipe | 1.0 / 1.0 | 2.1 / 2.0 |
//! | 1000 | naive | 994.5 / 994.5 | 125 / 205 |
//!
//! (The naive count falls by one per change as the contenders leave: N-1, N-2, ...)

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::sync::mpsc;
use zk_client::recipes::{ElectionEvent, LeaderElection, WatchStrategy};
use zk_client::{Client, CreateMode, CreateOptions, Error};

struct Args {
    server: String,
    sizes: Vec<usize>,
    changes: usize,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        server: "127.0.0.1:2181".into(),
        sizes: vec![10, 100, 1000],
        changes: 10,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let value = it.next().with_context(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--server" => args.server = value,
            "--sizes" => {
                args.sizes = value
                    .split(',')
                    .map(|s| s.parse().context("--sizes"))
                    .collect::<Result<_>>()?
            }
            "--changes" => args.changes = value.parse().context("--changes")?,
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(args)
}

struct Outcome {
    notifications_per_change: f64,
    handover_mean: Duration,
    handover_max: Duration,
    changes: usize,
}

async fn run(
    server: &str,
    size: usize,
    changes: usize,
    strategy: WatchStrategy,
) -> Result<Outcome> {
    let admin = Client::builder(server).connect().await?;
    let root = format!(
        "/election-bench-{:?}-{size}-{}",
        strategy,
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis()
    );
    admin
        .create(&root, b"", &CreateOptions::new(CreateMode::Persistent))
        .await?;
    let (elected_tx, mut elected_rx) = mpsc::unbounded_channel::<(usize, Instant)>();
    let mut clients = Vec::with_capacity(size);
    for i in 0..size {
        let client = Client::builder(server)
            .session_timeout(Duration::from_secs(30))
            .connect()
            .await?;
        let mut campaign = LeaderElection::new(client.clone(), &root)
            .with_strategy(strategy)
            .campaign(&format!("c{i}"))
            .await?;
        let tx = elected_tx.clone();
        tokio::spawn(async move {
            while let Some(event) = campaign.next_event().await {
                if let ElectionEvent::Elected { .. } = event {
                    let _ = tx.send((i, Instant::now()));
                }
            }
        });
        clients.push(client);
    }
    let (first, _) = elected_rx.recv().await.context("no leader")?;
    anyhow::ensure!(first == 0, "contender {first} led first");
    // Let every contender set its watch before the first change.
    tokio::time::sleep(Duration::from_millis(200 + size as u64)).await;
    let changes = changes.min(size - 1);
    let mut handovers = Vec::new();
    let mut notifications = 0u64;
    for leader in 0..changes {
        let before: u64 = clients[leader + 1..]
            .iter()
            .map(Client::notifications_received)
            .sum();
        let closed_at = Instant::now();
        clients[leader].close().await?;
        let (next, at) = tokio::time::timeout(Duration::from_secs(60), elected_rx.recv())
            .await
            .context("no successor within 60 s")?
            .context("campaigns ended")?;
        anyhow::ensure!(next == leader + 1, "contender {next} followed {leader}");
        handovers.push(at - closed_at);
        // Let the herd (if any) settle, then flush every connection with a round trip: a reply
        // comes after every notification sent before it.
        tokio::time::sleep(Duration::from_millis(100 + size as u64 / 2)).await;
        let flushes: Vec<_> = clients[leader + 1..]
            .iter()
            .map(|c| {
                let c = c.clone();
                tokio::spawn(async move { c.exists("/").await })
            })
            .collect();
        for flush in flushes {
            flush.await??;
        }
        let after: u64 = clients[leader + 1..]
            .iter()
            .map(Client::notifications_received)
            .sum();
        notifications += after - before;
    }
    for client in &clients[changes..] {
        client.close().await?;
    }
    match admin.delete(&root, None).await {
        Ok(()) | Err(Error::NotEmpty) | Err(Error::NoNode) => {}
        Err(error) => return Err(error.into()),
    }
    admin.close().await?;
    let total: Duration = handovers.iter().sum();
    Ok(Outcome {
        notifications_per_change: notifications as f64 / changes as f64,
        handover_mean: total / changes as u32,
        handover_max: handovers.iter().max().copied().unwrap_or_default(),
        changes,
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    println!(
        "| contenders | variant | changes | notifications per change | handover mean (ms) | handover max (ms) |"
    );
    println!("|---:|---|---:|---:|---:|---:|");
    for &size in &args.sizes {
        for strategy in [WatchStrategy::Predecessor, WatchStrategy::Leader] {
            let outcome = run(&args.server, size, args.changes, strategy).await?;
            let variant = match strategy {
                WatchStrategy::Predecessor => "recipe (predecessor)",
                WatchStrategy::Leader => "naive (all watch leader)",
            };
            println!(
                "| {size} | {variant} | {} | {:.1} | {:.2} | {:.2} |",
                outcome.changes,
                outcome.notifications_per_change,
                outcome.handover_mean.as_secs_f64() * 1e3,
                outcome.handover_max.as_secs_f64() * 1e3,
            );
        }
    }
    Ok(())
}
