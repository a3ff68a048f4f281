//! `zk-bench`: a load generator that speaks ZooKeeper's client protocol (raw jute over TCP) to
//! any server, ours or Apache ZooKeeper, so both are measured by the same code.
//!
//! ```text
//! zk-bench --server 127.0.0.1:2181 --op get --sessions 16 --duration-s 10 --warmup-s 2
//! zk-bench --server 127.0.0.1:2181 --populate 100000 --value-bytes 100 --pid 1234
//! ```
//!
//! Each session is its own TCP connection and tokio task and keeps `--pipeline` requests in
//! flight (1 = closed loop: the next request leaves when the previous reply arrives, which is
//! what the latency figures mean). The result is printed as one JSON line (read by
//! `cargo xtask bench servers`) followed by one line for people. The JSON fields of a load run
//! are `op`, `sessions`, `pipeline`, `value_bytes`, `duration_s`, `ops`, `errors`, `ops_per_s`,
//! `mean_us`, `p50_us`, `p99_us`, `p999_us`, `max_us` and `rss_kib` (null without `--pid`);
//! a populate run gives `znodes`, `seconds`, `creates_per_s` and `rss_kib`.

mod args;
mod connection;
mod load;
mod records;
mod stats;

use anyhow::Result;

use crate::args::{Mode, Options};
use crate::stats::{rss_kib, JsonLine};

fn main() -> Result<()> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let options = match args::parse(&argv) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{}", args::USAGE);
            return Ok(());
        }
        Err(error) => {
            eprintln!("{}", args::USAGE);
            return Err(error);
        }
    };
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(threads) = options.threads {
        runtime.worker_threads(threads);
    }
    runtime.build()?.block_on(run(&options))
}

async fn run(options: &Options) -> Result<()> {
    match options.mode {
        Mode::Load(op) => {
            let result = load::run_load(options, op).await?;
            let rss = server_rss(options);
            let summary = result.latencies.summary();
            let ops_per_s = summary.count as f64 / result.measured.as_secs_f64();
            let json = JsonLine::default()
                .str("mode", "load")
                .str("server", &options.server)
                .str("op", op.name())
                .int("sessions", options.sessions as u64)
                .int("pipeline", options.pipeline as u64)
                .int("value_bytes", options.value_bytes as u64)
                .num("duration_s", result.measured.as_secs_f64())
                .int("ops", summary.count)
                .int("errors", result.errors)
                .num("ops_per_s", ops_per_s)
                .num("mean_us", summary.mean_us)
                .num("p50_us", summary.p50_us)
                .num("p99_us", summary.p99_us)
                .num("p999_us", summary.p999_us)
                .num("max_us", summary.max_us)
                .opt_int("rss_kib", rss)
                .finish();
            println!("{json}");
            println!(
                "{} {} x{} sessions (pipeline {}): {:.0} ops/s, p50 {:.0} us, p99 {:.0} us, \
                 p999 {:.0} us, max {:.0} us, {} errors{}",
                options.server,
                op.name(),
                options.sessions,
                options.pipeline,
                ops_per_s,
                summary.p50_us,
                summary.p99_us,
                summary.p999_us,
                summary.max_us,
                result.errors,
                rss.map(|kib| format!(", server RSS {} MiB", kib / 1024))
                    .unwrap_or_default(),
            );
            if let Some(err) = result.first_error {
                eprintln!("zk-bench: first error reply: {}", records::error_name(err));
            }
        }
        Mode::Populate(count) => {
            let result = load::populate(options, count).await?;
            let rss = server_rss(options);
            let seconds = result.elapsed.as_secs_f64();
            let json = JsonLine::default()
                .str("mode", "populate")
                .str("server", &options.server)
                .int("znodes", result.znodes)
                .int("value_bytes", options.value_bytes as u64)
                .num("seconds", seconds)
                .num("creates_per_s", result.znodes as f64 / seconds)
                .opt_int("rss_kib", rss)
                .finish();
            println!("{json}");
            println!(
                "{} populated {} znodes of {} bytes in {:.1} s ({:.0}/s){}",
                options.server,
                result.znodes,
                options.value_bytes,
                seconds,
                result.znodes as f64 / seconds,
                rss.map(|kib| format!(", server RSS {} MiB", kib / 1024))
                    .unwrap_or_default(),
            );
        }
    }
    Ok(())
}

/// The server's RSS when `--pid` was given; a failure to read it is reported, not fatal.
fn server_rss(options: &Options) -> Option<u64> {
    let pid = options.pid?;
    match rss_kib(pid) {
        Ok(kib) => Some(kib),
        Err(error) => {
            eprintln!("zk-bench: {error}");
            None
        }
    }
}
