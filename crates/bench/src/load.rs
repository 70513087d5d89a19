//! The load generator: one shared hyper client (keep-alive pool, TCP_NODELAY),
//! one measured request, and the drivers — an open loop at a fixed rate whose
//! latencies count from each request's scheduled send time (no coordinated
//! omission) and a closed loop of C workers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Uri;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use crate::procfs::Cpu;
use crate::scenarios::{Scenario, TOKEN};
use crate::standin::StandIn;
use crate::stats::{Hist, Pcts, chunk_latencies, count_across, scheduled_offset};

pub type Client = HyperClient<HttpConnector, Full<Bytes>>;

/// The shared client: one pool, keep-alive, no Nagle. (The bare-proxy peer
/// builds its upstream client here too, with a streamed body type.)
pub fn client<B>() -> HyperClient<HttpConnector, B>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
{
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    HyperClient::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(usize::MAX)
        .build(connector)
}

/// Everything one run needs: where to send what, and how to judge it.
#[derive(Clone)]
pub struct Job {
    pub client: Client,
    pub uri: Uri,
    pub scenario: Arc<Scenario>,
    pub standin: Arc<StandIn>,
    /// The process behind `uri`, for CPU accounting (none for the stand-in).
    pub cpu: Option<Cpu>,
    pub timeout: Duration,
    pub ids: Arc<AtomicU64>,
}

/// What one request saw.
pub struct Shot {
    pub status: u16,
    pub first_byte: Option<Instant>,
    pub done: Instant,
    /// When each streamed token arrived.
    pub tokens: Vec<Instant>,
    /// The whole body (non-stream, or an error), else the stream's last bytes.
    pub body: Vec<u8>,
    /// Whether the stream's terminator went by.
    pub terminated: bool,
}

const STREAM_TAIL: usize = 512;

/// Send one request and read the answer to its end, timing the first byte and
/// every streamed token. `terminator` is `Some` for a stream.
pub async fn shot(
    client: &Client,
    request: http::Request<Full<Bytes>>,
    terminator: Option<&str>,
) -> Result<Shot, String> {
    let response = client
        .request(request)
        .await
        .map_err(|e| format!("request failed: {e:?}"))?;
    let status = response.status().as_u16();
    let keep_all = terminator.is_none() || status != 200;
    let mut body = response.into_body();
    let mut out = Shot {
        status,
        first_byte: None,
        done: Instant::now(),
        tokens: Vec::new(),
        body: Vec::new(),
        terminated: false,
    };
    let (mut carry, mut end_carry) = (Vec::new(), Vec::new());
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("body cut: {e}"))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if data.is_empty() {
            continue;
        }
        let now = Instant::now();
        out.first_byte.get_or_insert(now);
        out.body.extend_from_slice(&data);
        if !keep_all {
            let n = count_across(&mut carry, &data, TOKEN);
            out.tokens.extend(std::iter::repeat_n(now, n));
            if let Some(end) = terminator {
                out.terminated |= count_across(&mut end_carry, &data, end.as_bytes()) > 0;
            }
            if out.body.len() > 4 * STREAM_TAIL {
                out.body.drain(..out.body.len() - STREAM_TAIL);
            }
        }
    }
    out.done = Instant::now();
    Ok(out)
}

/// How a measured request ended.
enum Outcome {
    Ok {
        latency: Duration,
        ttfb: Option<Duration>,
        lag: Duration,
        chunks: Option<Vec<Duration>>,
    },
    Error(String),
    Timeout,
}

/// Send request `i`, counting its latency from `origin` (its scheduled time).
async fn measured(job: &Job, i: u64, origin: Instant) -> Outcome {
    let id = job.ids.fetch_add(1, Ordering::Relaxed);
    let request = match job.scenario.request(&job.uri, i, id) {
        Ok(r) => r,
        Err(e) => return Outcome::Error(e),
    };
    let stream = job.scenario.is_stream();
    let sent = Instant::now();
    let result = tokio::time::timeout(
        job.timeout,
        shot(&job.client, request, job.scenario.terminator()),
    )
    .await;
    let stamps = if stream {
        job.standin.take_stamps(id)
    } else {
        None
    };
    let shot = match result {
        Err(_) => return Outcome::Timeout,
        Ok(Err(e)) => return Outcome::Error(e),
        Ok(Ok(shot)) => shot,
    };
    if let Err(e) = job
        .scenario
        .verify(shot.status, &shot.body, shot.tokens.len(), shot.terminated)
    {
        return Outcome::Error(e);
    }
    Outcome::Ok {
        latency: shot.done.saturating_duration_since(origin),
        ttfb: shot.first_byte.map(|t| t.saturating_duration_since(origin)),
        lag: sent.saturating_duration_since(origin),
        chunks: stamps.and_then(|w| chunk_latencies(&shot.tokens, &w)),
    }
}

/// One run's figures.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunStats {
    /// Requests measured (after warm-up).
    pub requests: u64,
    pub errors: u64,
    pub timeouts: u64,
    /// Completed requests per second in the measured window.
    pub rps: f64,
    pub latency: Option<Pcts>,
    pub ttfb: Option<Pcts>,
    /// Per-chunk latency (stand-in write → client read), chunks after the first.
    pub chunk: Option<Pcts>,
    /// How late the open loop sent requests (its own precision).
    pub send_lag: Option<Pcts>,
    pub cpu_s_per_1k: Option<f64>,
    /// Context switches of the process's threads per request.
    #[serde(default)]
    pub switches_per_request: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_samples: Vec<String>,
}

#[derive(Default)]
struct Recorder {
    latency: Hist,
    ttfb: Hist,
    chunk: Hist,
    lag: Hist,
    ok: u64,
    errors: u64,
    timeouts: u64,
    samples: Vec<String>,
}

impl Recorder {
    fn add(&mut self, outcome: Outcome, measure: bool) {
        match outcome {
            Outcome::Ok {
                latency,
                ttfb,
                lag,
                chunks,
            } if measure => {
                self.ok += 1;
                self.latency.record(latency);
                self.lag.record(lag);
                if let Some(t) = ttfb {
                    self.ttfb.record(t);
                }
                for c in chunks.unwrap_or_default() {
                    self.chunk.record(c);
                }
            }
            Outcome::Ok { .. } => {}
            Outcome::Error(e) => {
                self.errors += 1;
                if self.samples.len() < 3 {
                    self.samples.push(e);
                }
            }
            Outcome::Timeout => self.timeouts += 1,
        }
    }

    fn stats(
        &self,
        window: Duration,
        completed: u64,
        used: Option<(f64, u64)>,
        stream: bool,
    ) -> RunStats {
        let per_request = |total: f64, scale: f64| {
            (completed > 0).then(|| (total * scale / completed as f64 * 1_000.0).round() / 1_000.0)
        };
        RunStats {
            requests: self.ok + self.errors + self.timeouts,
            errors: self.errors,
            timeouts: self.timeouts,
            rps: completed as f64 / window.as_secs_f64().max(1e-9),
            latency: self.latency.pcts(),
            ttfb: if stream { self.ttfb.pcts() } else { None },
            chunk: self.chunk.pcts(),
            send_lag: None,
            cpu_s_per_1k: used.and_then(|(s, _)| per_request(s, 1_000.0)),
            switches_per_request: used.and_then(|(_, n)| per_request(n as f64, 1.0)),
            error_samples: self.samples.clone(),
        }
    }
}

/// CPU seconds and context switches between two samples.
fn used(before: Option<(f64, u64)>, after: Option<(f64, u64)>) -> Option<(f64, u64)> {
    let ((s0, n0), (s1, n1)) = (before?, after?);
    Some((s1 - s0, n1.saturating_sub(n0)))
}

/// Warm-up and measured window of one run, and how long a request may take.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub warmup: Duration,
    pub measure: Duration,
}

fn lock(r: &Mutex<Recorder>) -> std::sync::MutexGuard<'_, Recorder> {
    r.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Open loop: request `i` is due at `start + i / rate`, whatever happened to the
/// others; its latency counts from then. A dedicated thread keeps the schedule
/// (tokio's timer ticks in whole milliseconds, too coarse here): it sleeps to
/// just before each send time, spins the rest, and spawns the request onto the
/// runtime. How late sends start is reported as `send_lag`.
pub async fn open_loop(job: &Job, rate: f64, window: Window) -> RunStats {
    let warm = crate::stats::requests_in(window.warmup, rate);
    let total = warm + crate::stats::requests_in(window.measure, rate);
    let recorder = Arc::new(Mutex::new(Recorder::default()));
    let handle = tokio::runtime::Handle::current();
    let (job2, recorder2) = (job.clone(), recorder.clone());
    let scheduler = tokio::task::spawn_blocking(move || {
        let start = Instant::now() + Duration::from_millis(2);
        let mut tasks = Vec::with_capacity(total as usize);
        let mut cpu0 = None;
        for i in 0..total {
            let at = start + scheduled_offset(i, rate);
            wait_until(at);
            if i == warm {
                cpu0 = job2.cpu.as_ref().and_then(Cpu::sample);
            }
            let (job, recorder) = (job2.clone(), recorder2.clone());
            tasks.push(handle.spawn(async move {
                let outcome = measured(&job, i, at).await;
                lock(&recorder).add(outcome, i >= warm);
            }));
        }
        (tasks, cpu0)
    });
    let (tasks, cpu0) = scheduler.await.unwrap_or_default();
    for task in tasks {
        let _ = task.await;
    }
    let cpu = job.cpu.as_ref().and_then(Cpu::sample);
    let rec = lock(&recorder);
    let mut stats = rec.stats(
        window.measure,
        rec.ok,
        used(cpu0, cpu),
        job.scenario.is_stream(),
    );
    stats.send_lag = rec.lag.pcts();
    stats
}

/// Block this thread until `at`: sleep to ~100 µs before (the kernel's timer
/// slack is ~50 µs), then spin.
fn wait_until(at: Instant) {
    const SPIN: Duration = Duration::from_micros(100);
    let now = Instant::now();
    if at > now + SPIN {
        std::thread::sleep(at - now - SPIN);
    }
    while Instant::now() < at {
        std::hint::spin_loop();
    }
}

/// Closed loop: `workers` each send the next request `pause` after the last
/// one ended (at once when zero). Latency counts from each send.
pub async fn closed_loop(job: &Job, workers: usize, pause: Duration, window: Window) -> RunStats {
    let recorder = Arc::new(Mutex::new(Recorder::default()));
    let completed = Arc::new(AtomicU64::new(0));
    let from = Instant::now() + window.warmup;
    let end = from + window.measure;
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..workers {
        let (job, recorder, completed, next) = (
            job.clone(),
            recorder.clone(),
            completed.clone(),
            next.clone(),
        );
        tasks.spawn(async move {
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let outcome = measured(&job, i, sent).await;
                let done = Instant::now();
                if matches!(outcome, Outcome::Ok { .. }) && done >= from && done <= end {
                    completed.fetch_add(1, Ordering::Relaxed);
                }
                lock(&recorder).add(outcome, sent >= from);
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
            }
        });
    }
    tokio::time::sleep_until(from.into()).await;
    let cpu0 = job.cpu.as_ref().and_then(Cpu::sample);
    tokio::time::sleep_until(end.into()).await;
    let cpu1 = job.cpu.as_ref().and_then(Cpu::sample);
    while tasks.join_next().await.is_some() {}
    let done = completed.load(Ordering::Relaxed);
    lock(&recorder).stats(
        window.measure,
        done,
        used(cpu0, cpu1),
        job.scenario.is_stream(),
    )
}

/// One request, for probing a route: `Ok(None)` when the route is not there.
pub async fn probe(job: &Job) -> Result<Option<()>, String> {
    let id = job.ids.fetch_add(1, Ordering::Relaxed);
    let request = job.scenario.request(&job.uri, 0, id)?;
    let shot = tokio::time::timeout(
        job.timeout,
        shot(&job.client, request, job.scenario.terminator()),
    )
    .await
    .map_err(|_| "timed out".to_owned())??;
    job.standin.take_stamps(id);
    if matches!(shot.status, 404 | 405) {
        return Ok(None);
    }
    job.scenario
        .verify(shot.status, &shot.body, shot.tokens.len(), shot.terminated)
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn job() -> Job {
        let standin = StandIn::start(Vec::new()).await.unwrap();
        let scenario = crate::scenarios::all()
            .into_iter()
            .find(|s| s.name == "openai-chat")
            .unwrap();
        Job {
            client: client(),
            uri: scenario
                .uri(&format!("http://127.0.0.1:{}", standin.port()))
                .unwrap(),
            scenario: Arc::new(scenario),
            standin,
            cpu: None,
            timeout: Duration::from_secs(5),
            ids: Arc::new(AtomicU64::new(0)),
        }
    }

    #[tokio::test]
    async fn a_closed_loop_waits_its_pause_between_requests() {
        let job = job().await;
        let window = Window {
            warmup: Duration::ZERO,
            measure: Duration::from_millis(400),
        };
        let pause = Duration::from_millis(50);
        let paused = closed_loop(&job, 1, pause, window).await;
        // Each request is followed by at least the pause: at most 400 / 50 + 1
        // start within the window, however fast the stand-in answers.
        assert!(
            (1..=9).contains(&paused.requests),
            "{} requests",
            paused.requests
        );
        assert_eq!((paused.errors, paused.timeouts), (0, 0));
        let back_to_back = closed_loop(&job, 1, Duration::ZERO, window).await;
        assert!(
            back_to_back.requests > 4 * paused.requests,
            "{} back to back against {} with pauses",
            back_to_back.requests,
            paused.requests
        );
    }
}
