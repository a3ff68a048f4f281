//! The text of the four-letter words, in ZooKeeper 3.8's exact formats (reference 3.2).
//!
//! The core gathers a [`Facts`] snapshot of its state and these functions turn it into text,
//! so the formats can be tested without a running server.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use zk_proto::{SessionId, Zxid};

use crate::config::Config;
use crate::stats::{java_double, wall_clock_ms, ConnStats, ServerStats};

/// The version every version-reporting command prints; kazoo and monitoring tools parse the
/// leading `3.8.4`.
pub(crate) const VERSION_TEXT: &str = concat!(
    "3.8.4-zk-rs-",
    env!("CARGO_PKG_VERSION"),
    ", built on 2026-01-01 00:00 UTC"
);

/// The trace mask `gtmk` prints (ZooKeeper's default `ZooTrace` mask).
pub(crate) const TRACE_MASK: i64 = 306;

/// What the stat-like words answer while the server elects or synchronizes (ZooKeeper's text).
pub(crate) const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests\n";

/// What the core knows that the commands print.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    /// The last applied zxid.
    pub(crate) zxid: Zxid,
    /// Requests read and not yet answered, server-wide.
    pub(crate) outstanding: u64,
    /// Number of znodes.
    pub(crate) node_count: usize,
    /// Sum of path and data lengths.
    pub(crate) approximate_data_size: u64,
    /// Sessions with ephemerals and their paths.
    pub(crate) ephemerals: BTreeMap<SessionId, Vec<String>>,
    /// Every live session.
    pub(crate) session_count: usize,
    /// Expiry buckets: (expiry in ms since the Unix epoch, sessions).
    pub(crate) buckets: Vec<(i64, Vec<SessionId>)>,
    /// Total watches (both tables).
    pub(crate) watch_count: usize,
    /// `wchs`: watchers with a data watch, watched paths, data watches.
    pub(crate) watch_summary: (usize, usize, usize),
    /// `wchc`: session of each watching connection and its paths.
    pub(crate) watches_by_session: Vec<(SessionId, Vec<String>)>,
    /// `wchp`: each path and the sessions watching it.
    pub(crate) watches_by_path: Vec<(String, Vec<SessionId>)>,
    /// Cluster mode: the ensemble's state (`None`: standalone).
    pub(crate) cluster: Option<Arc<crate::cluster::ClusterStats>>,
}

impl Facts {
    fn mode(&self) -> &'static str {
        self.cluster.as_ref().map_or("standalone", |c| c.mode())
    }
}

/// `srvr` and `stat`.
pub(crate) fn stat(
    stats: &ServerStats,
    connections: &[Arc<ConnStats>],
    facts: &Facts,
    with_clients: bool,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Zookeeper version: {VERSION_TEXT}");
    if with_clients {
        out.push_str("Clients:\n");
        for conn in connections {
            conn.dump(&mut out, true);
            out.push('\n');
        }
        out.push('\n');
    }
    server_stats(&mut out, stats, connections.len(), facts);
    let _ = writeln!(out, "Node count: {}", facts.node_count);
    if let Some(cluster) = facts.cluster.as_ref().filter(|c| c.mode() == "leader") {
        let [last, min, max] = cluster.proposal_sizes();
        let _ = writeln!(out, "Proposal sizes last/min/max: {last}/{min}/{max}");
    }
    out
}

fn server_stats(out: &mut String, stats: &ServerStats, connections: usize, facts: &Facts) {
    let _ = writeln!(
        out,
        "Latency min/avg/max: {}/{}/{}",
        stats.latency.min_ms(),
        stats.latency.avg_text(),
        stats.latency.max_ms()
    );
    let _ = writeln!(out, "Received: {}", stats.packets_received.load(Relaxed));
    let _ = writeln!(out, "Sent: {}", stats.packets_sent.load(Relaxed));
    let _ = writeln!(out, "Connections: {connections}");
    let _ = writeln!(out, "Outstanding: {}", facts.outstanding);
    let _ = writeln!(out, "Zxid: 0x{:x}", facts.zxid.0);
    let _ = writeln!(out, "Mode: {}", facts.mode());
}

/// `cons`.
pub(crate) fn cons(connections: &[Arc<ConnStats>]) -> String {
    let mut out = String::new();
    for conn in connections {
        conn.dump(&mut out, false);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// `conf`.
pub(crate) fn conf(config: &Config, client_port: u16) -> String {
    let data_dir = absolute(&config.data_dir).join("version-2");
    let data_log_dir = absolute(&config.data_log_dir).join("version-2");
    let mut out = String::new();
    let _ = writeln!(out, "clientPort={client_port}");
    out.push_str("secureClientPort=-1\n");
    let _ = writeln!(out, "dataDir={}", data_dir.display());
    let _ = writeln!(out, "dataDirSize={}", dir_size(&data_dir));
    let _ = writeln!(out, "dataLogDir={}", data_log_dir.display());
    let _ = writeln!(out, "dataLogSize={}", dir_size(&data_log_dir));
    let _ = writeln!(out, "tickTime={}", config.tick_time_ms);
    let _ = writeln!(out, "maxClientCnxns={}", config.max_client_cnxns);
    let _ = writeln!(out, "minSessionTimeout={}", config.min_session_timeout_ms());
    let _ = writeln!(out, "maxSessionTimeout={}", config.max_session_timeout_ms());
    out.push_str("clientPortListenBacklog=-1\n");
    out.push_str("serverId=0\n");
    out
}

/// `dirs`.
pub(crate) fn dirs(config: &Config) -> String {
    format!(
        "datadir_size: {}\nlogdir_size: {}\n",
        dir_size(&absolute(&config.data_dir).join("version-2")),
        dir_size(&absolute(&config.data_log_dir).join("version-2"))
    )
}

fn absolute(path: &Path) -> std::path::PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// The total size of the regular files directly in `dir` (0 when it does not exist), as
/// ZooKeeper's `getDataDirSize`.
fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

/// `envi`.
pub(crate) fn envi() -> String {
    let mut out = String::from("Environment:\n");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into());
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let user = std::env::var("USER").unwrap_or_default();
    let home = std::env::var("HOME").unwrap_or_default();
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let entries: [(&str, String); 18] = [
        ("zookeeper.version", VERSION_TEXT.to_owned()),
        ("host.name", host),
        ("java.version", "n/a (zk-rs)".into()),
        ("java.vendor", "n/a".into()),
        ("java.home", "n/a".into()),
        ("java.class.path", exe),
        ("java.library.path", String::new()),
        ("java.io.tmpdir", std::env::temp_dir().display().to_string()),
        ("java.compiler", "<NA>".into()),
        ("os.name", capitalize(std::env::consts::OS)),
        ("os.arch", std::env::consts::ARCH.into()),
        ("os.version", os_release()),
        ("user.name", user),
        ("user.home", home),
        ("user.dir", cwd),
        ("os.memory.free", "0MB".into()),
        ("os.memory.max", "0MB".into()),
        (
            "os.memory.total",
            format!("{}MB", resident_bytes() / (1024 * 1024)),
        ),
    ];
    for (key, value) in entries {
        let _ = writeln!(out, "{key}={value}");
    }
    out
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn os_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// The resident set size of this process (0 where /proc is unavailable).
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

fn open_file_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

fn max_file_descriptors() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3)?.parse().ok())
        })
        .unwrap_or(0)
}

/// `mntr`: tab-separated `zk_` keys.
pub(crate) fn mntr(stats: &ServerStats, connections: usize, facts: &Facts) -> String {
    let ephemerals: usize = facts.ephemerals.values().map(Vec::len).sum();
    let values: Vec<(&str, String)> = vec![
        ("version", VERSION_TEXT.to_owned()),
        ("server_state", facts.mode().into()),
        ("avg_latency", stats.latency.avg_text()),
        ("max_latency", stats.latency.max_ms().to_string()),
        ("min_latency", stats.latency.min_ms().to_string()),
        (
            "packets_received",
            stats.packets_received.load(Relaxed).to_string(),
        ),
        ("packets_sent", stats.packets_sent.load(Relaxed).to_string()),
        ("num_alive_connections", connections.to_string()),
        ("outstanding_requests", facts.outstanding.to_string()),
        ("uptime", stats.uptime_ms().to_string()),
        ("znode_count", facts.node_count.to_string()),
        ("watch_count", facts.watch_count.to_string()),
        ("ephemerals_count", ephemerals.to_string()),
        (
            "approximate_data_size",
            facts.approximate_data_size.to_string(),
        ),
        ("global_sessions", facts.session_count.to_string()),
        ("local_sessions", "0".into()),
        (
            "open_file_descriptor_count",
            open_file_descriptors().to_string(),
        ),
        (
            "max_file_descriptor_count",
            max_file_descriptors().to_string(),
        ),
        ("connection_drop_probability", java_double(0.0)),
        (
            "last_client_response_size",
            stats.last_response_size.load(Relaxed).to_string(),
        ),
        (
            "max_client_response_size",
            stats.max_response_size.load(Relaxed).to_string(),
        ),
        (
            "min_client_response_size",
            stats.min_response_size().to_string(),
        ),
        ("outstanding_tls_handshake", "0".into()),
        (
            "auth_failed_count",
            stats.auth_failed_count.load(Relaxed).to_string(),
        ),
        ("non_mtls_remote_conn_count", "0".into()),
        ("non_mtls_local_conn_count", "0".into()),
    ];
    let mut values = values;
    if let Some(cluster) = &facts.cluster {
        let load = |v: &std::sync::atomic::AtomicU64| v.load(Relaxed).to_string();
        let peer_state = match cluster.mode() {
            "leader" => "leading - broadcast",
            "follower" => "following - broadcast",
            "observer" => "observing - broadcast",
            _ => "looking",
        };
        values.push(("peer_state", peer_state.to_owned()));
        values.push(("current_epoch", load(&cluster.epoch)));
        values.push(("leader_sid", load(&cluster.leader)));
        values.push(("election_count", load(&cluster.elections)));
        values.push(("last_logged_zxid", load(&cluster.last_logged_zxid)));
        values.push((
            "last_election_time_ms",
            load(&cluster.last_election_time_ms),
        ));
        values.push((
            "election_messages_sent",
            load(&cluster.election_messages_sent),
        ));
        if cluster.mode() == "leader" {
            values.push(("learners", load(&cluster.learners)));
            values.push(("followers", load(&cluster.learners)));
            values.push(("synced_followers", load(&cluster.synced_followers)));
            values.push(("synced_observers", load(&cluster.observers)));
            values.push(("proposal_count", load(&cluster.proposals)));
            let keys = [
                "last_proposal_size",
                "min_proposal_size",
                "max_proposal_size",
            ];
            for (key, size) in keys.into_iter().zip(cluster.proposal_sizes()) {
                values.push((key, size.to_string()));
            }
            values.push(("diff_count", load(&cluster.diff_count)));
            values.push(("snap_count", load(&cluster.snap_count)));
            values.push(("trunc_count", load(&cluster.trunc_count)));
        }
    }
    let mut out = String::new();
    for (key, value) in values {
        let _ = writeln!(out, "zk_{key}\t{value}");
    }
    out
}

/// `wchs`.
pub(crate) fn wchs(facts: &Facts) -> String {
    let (watchers, paths, total) = facts.watch_summary;
    format!("{watchers} connections watching {paths} paths\nTotal watches:{total}\n")
}

/// `wchc`.
pub(crate) fn wchc(facts: &Facts) -> String {
    let mut out = String::new();
    for (session, paths) in &facts.watches_by_session {
        let _ = writeln!(out, "0x{:x}", session.0);
        for path in paths {
            let _ = writeln!(out, "\t{path}");
        }
    }
    out.push('\n');
    out
}

/// `wchp`.
pub(crate) fn wchp(facts: &Facts) -> String {
    let mut out = String::new();
    for (path, sessions) in &facts.watches_by_path {
        let _ = writeln!(out, "{path}");
        for session in sessions {
            let _ = writeln!(out, "\t0x{:x}", session.0);
        }
    }
    out.push('\n');
    out
}

/// `dump`.
pub(crate) fn dump(facts: &Facts) -> String {
    let mut out = String::from("SessionTracker dump:\n");
    let _ = writeln!(
        out,
        "Session Sets ({})/({}):",
        facts.buckets.len(),
        facts.session_count
    );
    for (expiry_ms, sessions) in &facts.buckets {
        let _ = writeln!(
            out,
            "{} expire at {}:",
            sessions.len(),
            java_date(*expiry_ms)
        );
        for session in sessions {
            let _ = writeln!(out, "\t0x{:x}", session.0);
        }
    }
    out.push_str("ephemeral nodes dump:\n");
    let _ = writeln!(
        out,
        "Sessions with Ephemerals ({}):",
        facts.ephemerals.len()
    );
    for (session, paths) in &facts.ephemerals {
        let _ = writeln!(out, "0x{:x}:", session.0);
        for path in paths {
            let _ = writeln!(out, "\t{path}");
        }
    }
    out.push_str("Connections dump:\nConnections Sets (0)/(0):\n");
    out
}

/// Formats milliseconds since the Unix epoch as Java's `Date.toString` in UTC:
/// `Fri Nov 27 20:11:06 UTC 2026`.
pub(crate) fn java_date(epoch_ms: i64) -> String {
    let secs = epoch_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        WEEKDAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        year
    )
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Milliseconds since the Unix epoch for a monotonic deadline, given the current values of both
/// clocks.
pub(crate) fn to_wall_ms(monotonic_ms: i64, now_monotonic_ms: i64) -> i64 {
    wall_clock_ms() + (monotonic_ms - now_monotonic_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_dates_print_in_utc() {
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(java_date(1_795_810_266_000), "Fri Nov 27 20:11:06 UTC 2026");
    }

    #[test]
    fn srvr_has_the_mode_line_and_no_client_list() {
        let stats = ServerStats::default();
        let facts = Facts {
            zxid: Zxid(0x1_0000_0004),
            node_count: 5,
            ..Facts::default()
        };
        let text = stat(&stats, &[], &facts, false);
        assert!(text.starts_with("Zookeeper version: 3.8.4-"), "{text}");
        assert!(text.contains("\nLatency min/avg/max: 0/0.0/0\n"), "{text}");
        assert!(text.contains("\nZxid: 0x100000004\n"), "{text}");
        assert!(
            text.contains("\nMode: standalone\nNode count: 5\n"),
            "{text}"
        );
        assert!(!text.contains("Clients:"));
    }

    #[test]
    fn mntr_lines_are_tab_separated_zk_keys() {
        let text = mntr(&ServerStats::default(), 2, &Facts::default());
        for line in text.lines() {
            let (key, _value) = line.split_once('\t').expect(line);
            assert!(key.starts_with("zk_"), "{line}");
        }
        assert!(text.contains("zk_server_state\tstandalone\n"));
        assert!(text.contains("zk_num_alive_connections\t2\n"));
    }

    #[test]
    fn watch_listings_match_zookeeper() {
        let facts = Facts {
            watch_summary: (1, 2, 2),
            watches_by_session: vec![(SessionId(0x10), vec!["/a".into(), "/b".into()])],
            watches_by_path: vec![("/a".into(), vec![SessionId(0x10)])],
            ..Facts::default()
        };
        assert_eq!(
            wchs(&facts),
            "1 connections watching 2 paths\nTotal watches:2\n"
        );
        assert_eq!(wchc(&facts), "0x10\n\t/a\n\t/b\n\n");
        assert_eq!(wchp(&facts), "/a\n\t0x10\n\n");
    }
}
