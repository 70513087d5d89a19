//! The request monitor: one [`Record`] per proxied request, annotated along the
//! way (handler → proxy → relay) through a shared [`Note`], finished exactly once
//! when the response body ends or is dropped, then handed to a bounded channel.
//! A batched SQLite writer drains the channel; when it falls behind, records are
//! dropped and counted — recording never blocks a request. Live subscribers
//! (the web UI's monitor) get every record as it is finished.

mod layer;
pub mod metrics;
mod writer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::{broadcast, mpsc};
use uplink_protocol::ir::Usage;

pub use layer::record_requests;
pub use metrics::Metrics;
pub use writer::{Retention, spawn_writer};

/// One proxied request, as stored and as streamed to live subscribers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Record {
    pub request_id: String,
    pub ts_ms: i64,
    pub protocol: &'static str,
    pub method: String,
    pub path: String,
    pub model: Option<String>,
    pub mapped_model: Option<String>,
    pub account: Option<String>,
    pub status: u16,
    pub duration_ms: i64,
    pub ttfb_ms: Option<i64>,
    pub stream: bool,
    #[serde(serialize_with = "usage_fields")]
    pub usage: Usage,
    pub attempts: u32,
    pub client_ip: Option<String>,
    pub error: Option<String>,
    #[serde(skip)]
    pub request_body: Option<String>,
    #[serde(skip)]
    pub response_body: Option<String>,
    /// `Name: value` lines, credentials redacted; only when bodies are captured.
    #[serde(skip)]
    pub request_headers: Option<String>,
    #[serde(skip)]
    pub response_headers: Option<String>,
}

fn usage_fields<S: serde::Serializer>(u: &Usage, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut st = s.serialize_struct("Usage", 4)?;
    st.serialize_field("input_tokens", &u.input_tokens)?;
    st.serialize_field("output_tokens", &u.output_tokens)?;
    st.serialize_field("cached_tokens", &u.cached_input_tokens)?;
    st.serialize_field("reasoning_tokens", &u.reasoning_tokens)?;
    st.end()
}

/// What the handler and the proxy learn about a request while serving it.
#[derive(Debug, Default)]
pub struct NoteData {
    pub model: Option<String>,
    pub mapped_model: Option<String>,
    pub account: Option<String>,
    pub attempts: u32,
    pub stream: bool,
    pub usage: Usage,
    pub error: Option<String>,
    pub request_body: Option<String>,
}

/// A shared, cheap handle to a request's notes (in the request extensions).
#[derive(Debug, Clone, Default)]
pub struct Note(Arc<Mutex<NoteData>>);

impl Note {
    pub fn update(&self, f: impl FnOnce(&mut NoteData)) {
        if let Ok(mut data) = self.0.lock() {
            f(&mut data);
        }
    }

    fn take(&self) -> NoteData {
        self.0
            .lock()
            .map(|mut d| std::mem::take(&mut *d))
            .unwrap_or_default()
    }
}

/// Monitor settings.
#[derive(Debug, Clone)]
pub struct MonitorConfig {
    /// Keep request and response bodies, truncated to this many bytes.
    pub capture_bodies: Option<usize>,
    pub channel_capacity: usize,
}

#[derive(Debug)]
pub struct Monitor {
    tx: mpsc::Sender<Record>,
    dropped: AtomicU64,
    live: broadcast::Sender<Arc<Record>>,
    pub metrics: Metrics,
    config: MonitorConfig,
}

impl Monitor {
    /// A monitor and the receiving end its writer drains.
    pub fn new(config: MonitorConfig) -> (Monitor, mpsc::Receiver<Record>) {
        let (tx, rx) = mpsc::channel(config.channel_capacity.max(1));
        let (live, _) = broadcast::channel(1024);
        (
            Monitor {
                tx,
                dropped: AtomicU64::new(0),
                live,
                metrics: Metrics::default(),
                config,
            },
            rx,
        )
    }

    pub fn capture_limit(&self) -> Option<usize> {
        self.config.capture_bodies
    }

    /// Finish a record: metrics now, storage later. Never waits.
    pub fn submit(&self, record: Record) {
        self.metrics.observe(&record);
        if self.live.receiver_count() > 0 {
            let _ = self.live.send(Arc::new(record.clone()));
        }
        if self.tx.try_send(record).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records dropped because the writer fell behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// A feed of records as they finish.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Record>> {
        self.live.subscribe()
    }
}

/// Headers that carry credentials: recorded as `[redacted]`.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "x-goog-api-key",
    "cookie",
    "set-cookie",
];

/// Headers as `Name: value` lines for the record, credentials redacted.
pub fn header_lines(headers: &http::HeaderMap) -> String {
    let mut out = String::new();
    for (name, value) in headers {
        let value = if SECRET_HEADERS.contains(&name.as_str()) {
            "[redacted]".into()
        } else {
            String::from_utf8_lossy(value.as_bytes())
        };
        out.push_str(name.as_str());
        out.push_str(": ");
        out.push_str(&value);
        out.push('\n');
    }
    out
}

/// Cut `bytes` to at most `limit` bytes of valid UTF-8, marking the cut.
pub fn truncate(bytes: &[u8], limit: usize) -> String {
    let cut = &bytes[..bytes.len().min(limit)];
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if bytes.len() > limit {
        text.push_str(&format!("…[{} more bytes]", bytes.len() - limit));
    }
    text
}

#[cfg(test)]
mod tests;
