//! The fast upstream stand-in, served by hyper directly inside the bench process:
//! Google OAuth and Cloud Code `v1internal` for the gateway, and the same answers
//! in each client protocol's shape for the direct reference. It paces streamed
//! chunks, stamps when each chunk was written (per request id, for the per-chunk
//! latency), and answers a scripted share of 429s per account.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::time::Sleep;

use crate::shapes::{Params, QUOTA_EXHAUSTED, Shape, stream_frames, unary_body};

/// Shared state: write stamps, counters and the failover script.
#[derive(Debug, Default)]
pub struct StandIn {
    pub addr: Option<SocketAddr>,
    stamps: Mutex<HashMap<u64, Vec<Instant>>>,
    /// Per account index, the share of failover-lane requests answered with 429.
    failover_share: Vec<f64>,
    /// Per account index, failover-lane requests seen.
    failover_seen: Vec<AtomicU64>,
    pub cloudcode_streams: AtomicU64,
    pub quota_429s: AtomicU64,
    pub direct_requests: AtomicU64,
}

impl StandIn {
    /// Bind on 127.0.0.1:0 and serve in the background, on a thread and
    /// runtime of its own: an upstream is another process, so a request to it
    /// wakes it and its answer wakes the client, through the gateway or not.
    /// (Sharing the load generator's runtime let direct calls skip both
    /// wake-ups while calls through the gateway paid them, which charged the
    /// gateway with the load generator's own scheduling.)
    pub async fn start(failover_share: Vec<f64>) -> std::io::Result<Arc<StandIn>> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let seen = failover_share.iter().map(|_| AtomicU64::new(0)).collect();
        let state = Arc::new(StandIn {
            addr: Some(listener.local_addr()?),
            failover_seen: seen,
            failover_share,
            ..StandIn::default()
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let serving = state.clone();
        std::thread::Builder::new()
            .name("stand-in".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match TcpListener::from_std(listener) {
                        Ok(listener) => accept_loop(listener, serving).await,
                        Err(e) => eprintln!("error: the stand-in cannot listen: {e}"),
                    }
                });
            })?;
        Ok(state)
    }

    pub fn port(&self) -> u16 {
        self.addr.map_or(0, |a| a.port())
    }

    /// The write times of request `id`'s chunks (taken: each is read once).
    pub fn take_stamps(&self, id: u64) -> Option<Vec<Instant>> {
        self.stamps.lock().ok()?.remove(&id)
    }

    pub fn clear_stamps(&self) {
        if let Ok(mut s) = self.stamps.lock() {
            s.clear();
        }
    }

    fn put_stamps(&self, id: u64, stamps: Vec<Instant>) {
        if let Ok(mut s) = self.stamps.lock() {
            s.insert(id, stamps);
        }
    }

    /// Whether this failover-lane request to account `index` gets a 429: the
    /// `k`-th request fails when `floor(k * share)` steps up.
    fn scripted_429(&self, index: usize) -> bool {
        let (Some(share), Some(seen)) = (
            self.failover_share.get(index),
            self.failover_seen.get(index),
        ) else {
            return false;
        };
        let k = seen.fetch_add(1, Ordering::Relaxed) as f64;
        ((k + 1.0) * share).floor() > (k * share).floor()
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<StandIn>) {
    loop {
        let (socket, _) = match listener.accept().await {
            Ok(s) => s,
            Err(_) => {
                // Out of descriptors or similar: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        let _ = socket.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(state.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .keep_alive(true)
                .serve_connection(TokioIo::new(socket), service)
                .await;
        });
    }
}

/// A response body: whole, or paced chunks.
pub enum Out {
    Full(Option<Bytes>),
    Paced(Box<Paced>),
}

impl Body for Out {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Out::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Out::Paced(paced) => paced.poll(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Out::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Out::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Out::Full(None) => SizeHint::with_exact(0),
            Out::Paced(_) => SizeHint::default(),
        }
    }
}

/// Frames written `pace` apart from the start; each write is stamped.
pub struct Paced {
    frames: Vec<Bytes>,
    next: usize,
    start: tokio::time::Instant,
    pace: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
    stamps: Vec<Instant>,
    sink: Option<(u64, Arc<StandIn>)>,
}

impl Paced {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let Some(frame) = self.frames.get(self.next).cloned() else {
            return Poll::Ready(None);
        };
        if self.next > 0 && !self.pace.is_zero() {
            let due = self.start + self.pace * self.next as u32;
            let sleep = self
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due)));
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.sleep = None;
        }
        self.next += 1;
        if self.sink.is_some() {
            self.stamps.push(Instant::now());
        }
        if self.next == self.frames.len()
            && let Some((id, state)) = self.sink.take()
        {
            state.put_stamps(id, std::mem::take(&mut self.stamps));
        }
        Poll::Ready(Some(Ok(Frame::data(frame))))
    }
}

fn respond(status: StatusCode, content_type: &str, body: Out) -> Response<Out> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    if let Ok(v) = http::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    response
}

fn json(status: StatusCode, body: impl Into<Bytes>) -> Response<Out> {
    respond(status, "application/json", Out::Full(Some(body.into())))
}

fn not_found(path: &str) -> Response<Out> {
    json(
        StatusCode::NOT_FOUND,
        format!(
            "{{\"error\":{{\"code\":404,\"message\":\"stand-in: no route {path}\",\"status\":\"NOT_FOUND\"}}}}"
        ),
    )
}

/// The string value of the first `"key": "…"` in a JSON body (no escapes).
pub fn str_field<'a>(body: &'a [u8], key: &str) -> Option<&'a str> {
    let pattern = format!("\"{key}\"");
    let start = memchr::memmem::find(body, pattern.as_bytes())?;
    let rest = body.get(start + pattern.len()..)?;
    let rest = trim_start(rest).strip_prefix(b":")?;
    let rest = trim_start(rest).strip_prefix(b"\"")?;
    let end = memchr::memchr2(b'"', b'\\', rest)?;
    std::str::from_utf8(rest.get(..end)?).ok()
}

/// Whether the body says `"key": true` (first occurrence).
pub fn true_field(body: &[u8], key: &str) -> bool {
    let pattern = format!("\"{key}\"");
    let Some(start) = memchr::memmem::find(body, pattern.as_bytes()) else {
        return false;
    };
    body.get(start + pattern.len()..)
        .map(trim_start)
        .and_then(|r| r.strip_prefix(b":"))
        .map(trim_start)
        .is_some_and(|r| r.starts_with(b"true"))
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    b.get(n..).unwrap_or_default()
}

/// `bench-<n>` → n.
pub fn bench_id(s: &str) -> Option<u64> {
    s.strip_prefix("bench-")?.parse().ok()
}

async fn handle(state: Arc<StandIn>, req: Request<Incoming>) -> Result<Response<Out>, Infallible> {
    let path = req.uri().path().to_owned();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let bearer = header("authorization");
    let header_id = header("x-request-id").as_deref().and_then(bench_id);
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(json(StatusCode::BAD_REQUEST, "{}")),
    };
    let response = match path.as_str() {
        "/token" => token(&body),
        "/userinfo" => json(StatusCode::OK, "{\"email\":\"bench@example.com\"}"),
        "/v1internal:loadCodeAssist" => json(StatusCode::OK, "{\"cloudaicompanionProject\":\"p\"}"),
        "/v1internal:fetchAvailableModels" => json(
            StatusCode::OK,
            "{\"models\":{\"bench\":{\"quotaInfo\":{\"remainingFraction\":1.0,\"resetTime\":\"2030-01-01T00:00:00Z\"}}}}",
        ),
        "/v1internal:onboardUser" => json(
            StatusCode::OK,
            "{\"done\":true,\"response\":{\"cloudaicompanionProject\":{\"id\":\"p\"}}}",
        ),
        "/v1internal:streamGenerateContent" => cloudcode(&state, &body, bearer.as_deref()),
        "/v1/chat/completions" => direct(&state, &body, Shape::OpenAiChat, None, header_id),
        "/v1/messages" => direct(&state, &body, Shape::Anthropic, None, header_id),
        "/v1/responses" => direct(&state, &body, Shape::Responses, None, header_id),
        p if p.starts_with("/v1beta/models/") || p.starts_with("/v1/models/") => {
            gemini(&state, p, &body, header_id)
        }
        p => not_found(p),
    };
    Ok(response)
}

fn token(body: &[u8]) -> Response<Out> {
    let form = String::from_utf8_lossy(body);
    let refresh = form
        .split('&')
        .find_map(|kv| kv.strip_prefix("refresh_token="))
        .unwrap_or("rt-0");
    let access = refresh.replacen("rt-", "at-", 1);
    json(
        StatusCode::OK,
        format!("{{\"access_token\":\"{access}\",\"expires_in\":3600,\"token_type\":\"Bearer\"}}"),
    )
}

fn cloudcode(state: &Arc<StandIn>, body: &[u8], bearer: Option<&str>) -> Response<Out> {
    let model = str_field(body, "model").unwrap_or("gemini-bench");
    let params = Params::from_model(model);
    let account = bearer
        .and_then(|b| b.strip_prefix("Bearer at-"))
        .and_then(|n| n.parse::<usize>().ok());
    if params.failover
        && let Some(index) = account
        && state.scripted_429(index)
    {
        state.quota_429s.fetch_add(1, Ordering::Relaxed);
        return json(StatusCode::TOO_MANY_REQUESTS, QUOTA_EXHAUSTED);
    }
    state.cloudcode_streams.fetch_add(1, Ordering::Relaxed);
    // The gateway puts the client's x-request-id in the envelope, after the
    // (possibly large) inner request: search from the end.
    let id = rfind_str_field(body, "requestId").and_then(bench_id);
    paced(state, Shape::CloudCode, model, params, id)
}

fn rfind_str_field<'a>(body: &'a [u8], key: &str) -> Option<&'a str> {
    let pattern = format!("\"{key}\"");
    let start = memchr::memmem::rfind(body, pattern.as_bytes())?;
    str_field(body.get(start..)?, key)
}

fn direct(
    state: &Arc<StandIn>,
    body: &[u8],
    shape: Shape,
    model: Option<&str>,
    id: Option<u64>,
) -> Response<Out> {
    state.direct_requests.fetch_add(1, Ordering::Relaxed);
    let model = model
        .or_else(|| str_field(body, "model"))
        .unwrap_or("bench");
    let params = Params::from_model(model);
    if shape == Shape::Gemini || true_field(body, "stream") {
        return paced(state, shape, model, params, id);
    }
    json(StatusCode::OK, unary_body(shape, model, params.chunks))
}

fn gemini(state: &Arc<StandIn>, path: &str, body: &[u8], id: Option<u64>) -> Response<Out> {
    let target = path.rsplit('/').next().unwrap_or_default();
    match target.rsplit_once(':') {
        Some((model, "streamGenerateContent")) => {
            direct(state, body, Shape::Gemini, Some(model), id)
        }
        Some((model, "generateContent")) => {
            state.direct_requests.fetch_add(1, Ordering::Relaxed);
            let n = Params::from_model(model).chunks;
            json(StatusCode::OK, unary_body(Shape::Gemini, model, n))
        }
        _ => not_found(path),
    }
}

fn paced(
    state: &Arc<StandIn>,
    shape: Shape,
    model: &str,
    params: Params,
    id: Option<u64>,
) -> Response<Out> {
    let frames = stream_frames(shape, model, params.chunks);
    let body = if params.pace.is_zero() && id.is_none() {
        Out::Full(Some(Bytes::from(frames.concat())))
    } else {
        Out::Paced(Box::new(Paced {
            frames: frames.into_iter().map(Bytes::from).collect(),
            next: 0,
            start: tokio::time::Instant::now(),
            pace: params.pace,
            sleep: None,
            stamps: Vec::with_capacity(params.chunks),
            sink: id.map(|id| (id, state.clone())),
        }))
    };
    let mut response = respond(StatusCode::OK, "text/event-stream", body);
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-cache"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_found_without_parsing_the_body() {
        let body = br#"{"project":"p","model": "gemini-bench-n3-p0","request":{"x":"\"model\""},"requestId":"bench-42"}"#;
        assert_eq!(str_field(body, "model"), Some("gemini-bench-n3-p0"));
        assert_eq!(rfind_str_field(body, "requestId"), Some("bench-42"));
        assert_eq!(bench_id("bench-42"), Some(42));
        assert!(true_field(br#"{"stream": true}"#, "stream"));
        assert!(!true_field(br#"{"stream":false}"#, "stream"));
    }

    #[test]
    fn the_429_script_fails_the_given_share() {
        let state = StandIn {
            failover_share: vec![0.0, 0.5, 1.0],
            failover_seen: (0..3).map(|_| AtomicU64::new(0)).collect(),
            ..StandIn::default()
        };
        let count = |i| (0..100).filter(|_| state.scripted_429(i)).count();
        assert_eq!((count(0), count(1), count(2), count(7)), (0, 50, 100, 0));
    }
}
