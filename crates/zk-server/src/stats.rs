//! Counters behind the four-letter words: server-wide packet counts and request latency, and
//! per-connection statistics for `cons`/`stat`. Everything is a relaxed atomic: the numbers are
//! for humans and monitoring, not for correctness.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use zk_proto::{OpCode, SessionId};

/// Milliseconds since the Unix epoch, as ZooKeeper's `est`/`lresp` fields print them.
pub(crate) fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Minimum, maximum, total and count of latencies in milliseconds.
#[derive(Debug)]
pub(crate) struct Latency {
    min_ms: AtomicU64,
    max_ms: AtomicU64,
    total_ms: AtomicU64,
    count: AtomicU64,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            min_ms: AtomicU64::new(u64::MAX),
            max_ms: AtomicU64::new(0),
            total_ms: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }
}

impl Latency {
    pub(crate) fn record(&self, latency_ms: u64) {
        self.min_ms.fetch_min(latency_ms, Relaxed);
        self.max_ms.fetch_max(latency_ms, Relaxed);
        self.total_ms.fetch_add(latency_ms, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }

    pub(crate) fn reset(&self) {
        self.min_ms.store(u64::MAX, Relaxed);
        self.max_ms.store(0, Relaxed);
        self.total_ms.store(0, Relaxed);
        self.count.store(0, Relaxed);
    }

    pub(crate) fn min_ms(&self) -> u64 {
        match self.min_ms.load(Relaxed) {
            u64::MAX => 0,
            v => v,
        }
    }

    pub(crate) fn max_ms(&self) -> u64 {
        self.max_ms.load(Relaxed)
    }

    /// The average as ZooKeeper prints it: a Java double rounded to 4 decimals.
    /// The average latency in whole milliseconds, as `cons` prints it (`ServerCnxn.getAvgLatency`
    /// is a `long`).
    pub(crate) fn avg_ms(&self) -> u64 {
        let count = self.count.load(Relaxed);
        self.total_ms.load(Relaxed).checked_div(count).unwrap_or(0)
    }

    pub(crate) fn avg_text(&self) -> String {
        let count = self.count.load(Relaxed);
        let avg = if count == 0 {
            0.0
        } else {
            self.total_ms.load(Relaxed) as f64 / count as f64
        };
        java_double(avg)
    }
}

/// Formats a non-negative double the way Java's `Double.toString` does for values with at most
/// four decimals: `0.0`, `3.0`, `0.4167`.
pub(crate) fn java_double(value: f64) -> String {
    let rounded = (value * 10_000.0).round() / 10_000.0;
    let mut text = format!("{rounded:.4}");
    while text.ends_with('0') && !text.ends_with(".0") {
        text.pop();
    }
    text
}

/// Server-wide counters (`ServerStats`).
#[derive(Debug)]
pub(crate) struct ServerStats {
    pub(crate) packets_received: AtomicU64,
    pub(crate) packets_sent: AtomicU64,
    pub(crate) latency: Latency,
    pub(crate) auth_failed_count: AtomicU64,
    pub(crate) last_response_size: AtomicU64,
    pub(crate) min_response_size: AtomicU64,
    pub(crate) max_response_size: AtomicU64,
    pub(crate) started: Instant,
}

impl Default for ServerStats {
    fn default() -> Self {
        ServerStats {
            packets_received: AtomicU64::new(0),
            packets_sent: AtomicU64::new(0),
            latency: Latency::default(),
            auth_failed_count: AtomicU64::new(0),
            last_response_size: AtomicU64::new(0),
            min_response_size: AtomicU64::new(u64::MAX),
            max_response_size: AtomicU64::new(0),
            started: Instant::now(),
        }
    }
}

impl ServerStats {
    /// `srst`: resets latency and packet counters.
    pub(crate) fn reset(&self) {
        self.packets_received.store(0, Relaxed);
        self.packets_sent.store(0, Relaxed);
        self.latency.reset();
        self.last_response_size.store(0, Relaxed);
        self.min_response_size.store(u64::MAX, Relaxed);
        self.max_response_size.store(0, Relaxed);
    }

    pub(crate) fn record_response_size(&self, bytes: u64) {
        self.last_response_size.store(bytes, Relaxed);
        self.min_response_size.fetch_min(bytes, Relaxed);
        self.max_response_size.fetch_max(bytes, Relaxed);
    }

    pub(crate) fn min_response_size(&self) -> u64 {
        match self.min_response_size.load(Relaxed) {
            u64::MAX => 0,
            v => v,
        }
    }

    pub(crate) fn uptime_ms(&self) -> u128 {
        self.started.elapsed().as_millis()
    }
}

/// Identifies one client connection for the server's lifetime.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub(crate) struct ConnId(pub(crate) u64);

/// Per-connection statistics (`cons`).
#[derive(Debug)]
pub(crate) struct ConnStats {
    pub(crate) peer: SocketAddr,
    pub(crate) session_id: AtomicI64,
    pub(crate) timeout_ms: AtomicU32,
    pub(crate) established_ms: AtomicI64,
    pub(crate) packets_received: AtomicU64,
    pub(crate) packets_sent: AtomicU64,
    /// Requests read and not yet answered.
    pub(crate) queued: AtomicU64,
    pub(crate) last_op: AtomicI64,
    pub(crate) last_cxid: AtomicI64,
    pub(crate) last_zxid: AtomicI64,
    pub(crate) last_response_ms: AtomicI64,
    pub(crate) last_latency_ms: AtomicU64,
    pub(crate) latency: Latency,
}

/// `lop` marker before any request.
const NO_OP: i64 = i64::MIN;

impl ConnStats {
    pub(crate) fn new(peer: SocketAddr) -> ConnStats {
        ConnStats {
            peer,
            session_id: AtomicI64::new(0),
            timeout_ms: AtomicU32::new(0),
            established_ms: AtomicI64::new(0),
            packets_received: AtomicU64::new(0),
            packets_sent: AtomicU64::new(0),
            queued: AtomicU64::new(0),
            last_op: AtomicI64::new(NO_OP),
            last_cxid: AtomicI64::new(-1),
            last_zxid: AtomicI64::new(-1),
            last_response_ms: AtomicI64::new(0),
            last_latency_ms: AtomicU64::new(0),
            latency: Latency::default(),
        }
    }

    /// `crst`: resets this connection's counters.
    pub(crate) fn reset(&self) {
        self.packets_received.store(0, Relaxed);
        self.packets_sent.store(0, Relaxed);
        self.last_op.store(NO_OP, Relaxed);
        self.last_cxid.store(-1, Relaxed);
        self.last_zxid.store(-1, Relaxed);
        self.last_response_ms.store(0, Relaxed);
        self.last_latency_ms.store(0, Relaxed);
        self.latency.reset();
    }

    pub(crate) fn session_id(&self) -> SessionId {
        SessionId(self.session_id.load(Relaxed))
    }

    /// One `cons`/`stat` line without the trailing newline (`ServerCnxn.dumpConnectionInfo`).
    pub(crate) fn dump(&self, out: &mut String, brief: bool) {
        let _ = write!(
            out,
            " /{}:{}[1](queued={},recved={},sent={}",
            self.peer.ip(),
            self.peer.port(),
            self.queued.load(Relaxed),
            self.packets_received.load(Relaxed),
            self.packets_sent.load(Relaxed),
        );
        let session = self.session_id.load(Relaxed);
        if !brief && session != 0 {
            let _ = write!(
                out,
                ",sid=0x{:x},lop={},est={},to={}",
                session,
                op_tag(self.last_op.load(Relaxed)),
                self.established_ms.load(Relaxed),
                self.timeout_ms.load(Relaxed),
            );
            let cxid = self.last_cxid.load(Relaxed);
            if cxid >= 0 {
                let _ = write!(out, ",lcxid=0x{cxid:x}");
            }
            let _ = write!(
                out,
                ",lzxid=0x{:x},lresp={},llat={},minlat={},avglat={},maxlat={}",
                self.last_zxid.load(Relaxed),
                self.last_response_ms.load(Relaxed),
                self.last_latency_ms.load(Relaxed),
                self.latency.min_ms(),
                self.latency.avg_ms(),
                self.latency.max_ms(),
            );
        }
        out.push(')');
    }
}

/// The four-letter tag ZooKeeper prints as `lop` (`Request.op2String`).
fn op_tag(code: i64) -> &'static str {
    if code == NO_OP {
        return "NA";
    }
    let Some(op) = i32::try_from(code).ok().and_then(OpCode::from_code) else {
        return "UNKNOWN";
    };
    match op {
        OpCode::Notification => "notification",
        OpCode::Create => "CREA",
        OpCode::Create2 => "CREA",
        OpCode::CreateContainer => "CREC",
        OpCode::CreateTtl => "CRET",
        OpCode::Delete => "DELE",
        OpCode::DeleteContainer => "DELC",
        OpCode::Exists => "EXIS",
        OpCode::GetData => "GETD",
        OpCode::SetData => "SETD",
        OpCode::GetAcl => "GETA",
        OpCode::SetAcl => "SETA",
        OpCode::GetChildren => "GETC",
        OpCode::GetChildren2 => "GETC",
        OpCode::Sync => "SYNC",
        OpCode::Ping => "PING",
        OpCode::Check => "CHEC",
        OpCode::Multi => "MULT",
        OpCode::MultiRead => "MLTR",
        OpCode::Reconfig => "RECO",
        OpCode::CheckWatches => "CHKW",
        OpCode::RemoveWatches => "REMW",
        OpCode::Auth => "AUTH",
        OpCode::SetWatches => "SETW",
        OpCode::SetWatches2 => "STW2",
        OpCode::Sasl => "SASL",
        OpCode::GetEphemerals => "GETE",
        OpCode::GetAllChildrenNumber => "GETACN",
        OpCode::AddWatch => "ADDW",
        OpCode::WhoAmI => "HOMI",
        OpCode::CreateSession => "SESS",
        OpCode::CloseSession => "CLOS",
        OpCode::Error => "ERR",
        _ => "UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(3.0), "3.0");
        assert_eq!(java_double(5.0 / 12.0), "0.4167");
        assert_eq!(java_double(0.5), "0.5");
    }

    #[test]
    fn latency_without_samples_reads_as_zero() {
        let latency = Latency::default();
        assert_eq!(latency.min_ms(), 0);
        assert_eq!(latency.avg_text(), "0.0");
        latency.record(3);
        latency.record(1);
        assert_eq!((latency.min_ms(), latency.max_ms()), (1, 3));
        assert_eq!(latency.avg_text(), "2.0");
    }

    #[test]
    fn brief_connection_dump_matches_zookeeper() {
        let stats = ConnStats::new("127.0.0.1:50012".parse().unwrap());
        stats.packets_received.store(12, Relaxed);
        stats.packets_sent.store(12, Relaxed);
        let mut out = String::new();
        stats.dump(&mut out, true);
        assert_eq!(out, " /127.0.0.1:50012[1](queued=0,recved=12,sent=12)");
    }
}
