//! Prometheus metrics kept in memory and rendered in the text format. Updated
//! once per finished request (a short lock), never on the streaming path.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::Record;

/// At most this many distinct model labels; names beyond it count as `other`
/// (clients choose model names, and each would otherwise add series forever).
const MAX_MODELS: usize = 64;
const OTHER_MODEL: &str = "other";

/// Upper bounds, in seconds, of the latency and time-to-first-byte buckets.
const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.counts[i] += 1;
            }
        }
        self.sum += secs;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        for (i, bound) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}le=\"{bound}\"}} {}",
                self.counts[i]
            );
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(
            out,
            "{name}_sum{{{}}} {}",
            labels.trim_end_matches(','),
            self.sum
        );
        let _ = writeln!(
            out,
            "{name}_count{{{}}} {}",
            labels.trim_end_matches(','),
            self.count
        );
    }
}

/// Label keys borrow the protocol's static name and share one `Arc` per model,
/// so counting a request allocates nothing once its labels have been seen.
#[derive(Debug, Default)]
struct Inner {
    /// (protocol, model, status) → count.
    requests: BTreeMap<(&'static str, Arc<str>, u16), u64>,
    /// protocol → latency.
    latency: BTreeMap<&'static str, Histogram>,
    ttfb: BTreeMap<&'static str, Histogram>,
    /// (model, kind) → tokens.
    tokens: BTreeMap<(Arc<str>, &'static str), u64>,
    /// The model labels in use.
    models: BTreeSet<Arc<str>>,
}

impl Inner {
    /// The label for `name`: the interned one, or `other` once the labels are full.
    fn model_label(&mut self, name: &str) -> Arc<str> {
        let name = if self.models.len() < MAX_MODELS || self.models.contains(name) {
            name
        } else {
            OTHER_MODEL
        };
        if let Some(label) = self.models.get(name) {
            return label.clone();
        }
        let label = Arc::<str>::from(name);
        self.models.insert(label.clone());
        label
    }
}

#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
    /// Upstream attempts by outcome.
    attempts_ok: AtomicU64,
    attempts_failed: AtomicU64,
}

/// Gauges read at render time from the rest of the gateway.
#[derive(Debug, Default, Clone)]
pub struct Gauges {
    /// state → number of accounts.
    pub accounts: BTreeMap<&'static str, u64>,
    /// Accounts cooling down for at least one model.
    pub cooling: u64,
    pub dropped_records: u64,
}

impl Metrics {
    pub fn observe(&self, r: &Record) {
        let attempts = u64::from(r.attempts);
        if r.status < 400 {
            self.attempts_ok.fetch_add(1, Ordering::Relaxed);
            self.attempts_failed
                .fetch_add(attempts.saturating_sub(1), Ordering::Relaxed);
        } else {
            self.attempts_failed.fetch_add(attempts, Ordering::Relaxed);
        }
        let Ok(mut m) = self.inner.lock() else {
            return;
        };
        let name = r.mapped_model.as_deref().or(r.model.as_deref());
        let model = m.model_label(name.unwrap_or_default());
        *m.requests
            .entry((r.protocol, model.clone(), r.status))
            .or_default() += 1;
        m.latency
            .entry(r.protocol)
            .or_default()
            .observe(r.duration_ms as f64 / 1000.0);
        if let Some(t) = r.ttfb_ms {
            m.ttfb
                .entry(r.protocol)
                .or_default()
                .observe(t as f64 / 1000.0);
        }
        for (kind, n) in [
            ("input", r.usage.input_tokens),
            ("output", r.usage.output_tokens),
            ("cached", r.usage.cached_input_tokens),
            ("reasoning", r.usage.reasoning_tokens),
        ] {
            if n > 0 {
                *m.tokens.entry((model.clone(), kind)).or_default() += n;
            }
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::new();
        let Ok(m) = self.inner.lock() else {
            return out;
        };
        out.push_str("# HELP uplink_requests_total Proxied requests by client protocol, model and status.\n# TYPE uplink_requests_total counter\n");
        for ((protocol, model, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "uplink_requests_total{{protocol=\"{protocol}\",model=\"{}\",status=\"{status}\"}} {n}",
                escape(model)
            );
        }
        out.push_str("# HELP uplink_request_duration_seconds Time from request to the end of the response.\n# TYPE uplink_request_duration_seconds histogram\n");
        for (protocol, h) in &m.latency {
            h.render(
                &mut out,
                "uplink_request_duration_seconds",
                &format!("protocol=\"{protocol}\","),
            );
        }
        out.push_str("# HELP uplink_time_to_first_byte_seconds Time from request to the first response byte.\n# TYPE uplink_time_to_first_byte_seconds histogram\n");
        for (protocol, h) in &m.ttfb {
            h.render(
                &mut out,
                "uplink_time_to_first_byte_seconds",
                &format!("protocol=\"{protocol}\","),
            );
        }
        out.push_str("# HELP uplink_tokens_total Tokens by model and kind.\n# TYPE uplink_tokens_total counter\n");
        for ((model, kind), n) in &m.tokens {
            let _ = writeln!(
                out,
                "uplink_tokens_total{{model=\"{}\",kind=\"{kind}\"}} {n}",
                escape(model)
            );
        }
        out.push_str("# HELP uplink_upstream_attempts_total Upstream attempts by outcome.\n# TYPE uplink_upstream_attempts_total counter\n");
        let _ = writeln!(
            out,
            "uplink_upstream_attempts_total{{outcome=\"ok\"}} {}",
            self.attempts_ok.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "uplink_upstream_attempts_total{{outcome=\"failed\"}} {}",
            self.attempts_failed.load(Ordering::Relaxed)
        );
        out.push_str("# HELP uplink_accounts Accounts by state.\n# TYPE uplink_accounts gauge\n");
        for (state, n) in &gauges.accounts {
            let _ = writeln!(out, "uplink_accounts{{state=\"{state}\"}} {n}");
        }
        out.push_str("# HELP uplink_accounts_cooling Accounts cooling down for at least one model.\n# TYPE uplink_accounts_cooling gauge\n");
        let _ = writeln!(out, "uplink_accounts_cooling {}", gauges.cooling);
        out.push_str("# HELP uplink_monitor_dropped_records_total Request records dropped because the writer fell behind.\n# TYPE uplink_monitor_dropped_records_total counter\n");
        let _ = writeln!(
            out,
            "uplink_monitor_dropped_records_total {}",
            gauges.dropped_records
        );
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
