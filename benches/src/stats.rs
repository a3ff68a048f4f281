//! Latency recording and the report a run prints: one JSON line (read by `cargo xtask bench`) and
//! one line for people.
//!
//! Latencies are recorded in nanoseconds into an [`hdrhistogram::Histogram`] with three
//! significant digits (0.1% relative error), one per session, merged at the end.

use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;

/// The largest latency a histogram tracks exactly (larger values are clamped to it).
const MAX_TRACKED_NS: u64 = 60_000_000_000;

/// A latency histogram in nanoseconds.
#[derive(Clone, Debug)]
pub(crate) struct Latencies {
    histogram: Histogram<u64>,
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies::new()
    }
}

impl Latencies {
    /// An empty histogram.
    pub(crate) fn new() -> Latencies {
        Latencies {
            histogram: Histogram::new_with_bounds(1, MAX_TRACKED_NS, 3)
                .expect("histogram bounds are valid"),
        }
    }

    /// Records one latency.
    pub(crate) fn record(&mut self, latency: Duration) {
        let ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.histogram.saturating_record(ns.max(1));
    }

    /// Adds every value of `other`.
    pub(crate) fn merge(&mut self, other: &Latencies) {
        self.histogram
            .add(&other.histogram)
            .expect("histograms share their bounds");
    }

    /// The percentiles the report shows, in microseconds.
    pub(crate) fn summary(&self) -> Summary {
        let us = |ns: u64| ns as f64 / 1000.0;
        if self.histogram.is_empty() {
            return Summary::default();
        }
        Summary {
            count: self.histogram.len(),
            mean_us: self.histogram.mean() / 1000.0,
            p50_us: us(self.histogram.value_at_quantile(0.50)),
            p99_us: us(self.histogram.value_at_quantile(0.99)),
            p999_us: us(self.histogram.value_at_quantile(0.999)),
            max_us: us(self.histogram.max()),
        }
    }
}

/// Latency percentiles in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Summary {
    /// Number of recorded operations.
    pub(crate) count: u64,
    /// Mean latency.
    pub(crate) mean_us: f64,
    /// Median latency.
    pub(crate) p50_us: f64,
    /// 99th percentile.
    pub(crate) p99_us: f64,
    /// 99.9th percentile.
    pub(crate) p999_us: f64,
    /// Largest latency.
    pub(crate) max_us: f64,
}

/// A flat JSON object built field by field (numbers, strings and null only).
#[derive(Debug, Default)]
pub(crate) struct JsonLine {
    text: String,
}

impl JsonLine {
    /// Adds a string field.
    pub(crate) fn str(mut self, key: &str, value: &str) -> JsonLine {
        self.key(key);
        self.text.push('"');
        for c in value.chars() {
            match c {
                '"' => self.text.push_str("\\\""),
                '\\' => self.text.push_str("\\\\"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(self.text, "\\u{:04x}", c as u32);
                }
                c => self.text.push(c),
            }
        }
        self.text.push('"');
        self
    }

    /// Adds an integer field.
    pub(crate) fn int(mut self, key: &str, value: u64) -> JsonLine {
        self.key(key);
        let _ = write!(self.text, "{value}");
        self
    }

    /// Adds a number field with up to three decimals (null when not finite).
    pub(crate) fn num(mut self, key: &str, value: f64) -> JsonLine {
        self.key(key);
        if value.is_finite() {
            let _ = write!(self.text, "{value:.3}");
        } else {
            self.text.push_str("null");
        }
        self
    }

    /// Adds an optional integer field (null when absent).
    pub(crate) fn opt_int(self, key: &str, value: Option<u64>) -> JsonLine {
        match value {
            Some(value) => self.int(key, value),
            None => {
                let mut this = self;
                this.key(key);
                this.text.push_str("null");
                this
            }
        }
    }

    fn key(&mut self, key: &str) {
        self.text.push(if self.text.is_empty() { '{' } else { ',' });
        let _ = write!(self.text, "\"{key}\":");
    }

    /// The finished object.
    pub(crate) fn finish(self) -> String {
        if self.text.is_empty() {
            "{}".to_owned()
        } else {
            self.text + "}"
        }
    }
}

/// Resident memory of process `pid` in KiB, from `/proc/PID/status` (`VmRSS`).
pub(crate) fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| anyhow::anyhow!("cannot read /proc/{pid}/status: {e}"))?;
    parse_vm_rss(&status).ok_or_else(|| anyhow::anyhow!("no VmRSS line for pid {pid}"))
}

/// The `VmRSS` value (KiB) of a `/proc/PID/status` text.
pub(crate) fn parse_vm_rss(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= expected * 0.002
    }

    #[test]
    fn percentiles_of_a_uniform_spread() {
        let mut latencies = Latencies::new();
        for us in 1..=1000u64 {
            latencies.record(Duration::from_micros(us));
        }
        let summary = latencies.summary();
        assert_eq!(summary.count, 1000);
        assert!(close(summary.p50_us, 500.0), "{summary:?}");
        assert!(close(summary.p99_us, 990.0), "{summary:?}");
        assert!(close(summary.p999_us, 999.0), "{summary:?}");
        assert!(close(summary.max_us, 1000.0), "{summary:?}");
        assert!(close(summary.mean_us, 500.5), "{summary:?}");
    }

    #[test]
    fn merging_sessions_weights_every_sample() {
        let mut fast = Latencies::new();
        let mut slow = Latencies::new();
        for _ in 0..98 {
            fast.record(Duration::from_micros(100));
        }
        for _ in 0..2 {
            slow.record(Duration::from_millis(5));
        }
        fast.merge(&slow);
        let summary = fast.summary();
        assert_eq!(summary.count, 100);
        assert!(close(summary.p50_us, 100.0), "{summary:?}");
        assert!(close(summary.p99_us, 5000.0), "{summary:?}");
    }

    #[test]
    fn empty_and_out_of_range_values() {
        assert_eq!(Latencies::new().summary(), Summary::default());
        let mut latencies = Latencies::new();
        latencies.record(Duration::ZERO);
        latencies.record(Duration::from_secs(3600));
        assert_eq!(latencies.summary().count, 2);
        assert!(latencies.summary().max_us <= MAX_TRACKED_NS as f64 / 1000.0 * 1.001);
    }

    #[test]
    fn json_line_is_flat_and_escaped() {
        let line = JsonLine::default()
            .str("op", "g\"et")
            .int("sessions", 16)
            .num("p50_us", 12.3456)
            .num("nan", f64::NAN)
            .opt_int("rss_kib", None)
            .finish();
        assert_eq!(
            line,
            r#"{"op":"g\"et","sessions":16,"p50_us":12.346,"nan":null,"rss_kib":null}"#
        );
    }

    #[test]
    fn vm_rss_is_read_from_proc_status() {
        let status = "Name:\tjava\nVmPeak:\t  999 kB\nVmRSS:\t  123456 kB\nThreads: 4\n";
        assert_eq!(parse_vm_rss(status), Some(123_456));
        assert_eq!(parse_vm_rss("Name: x\n"), None);
        assert!(rss_kib(std::process::id()).unwrap() > 0);
    }
}
