//! The request log in the admin API: filtered pages (newest first, paging with
//! `before_id`), one record with its captured bodies, a server-sent-events
//! feed of records as they finish (the live monitor), and token usage over
//! time per model and account.

use std::convert::Infallible;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Body as HttpBody;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt as _;
use http::header;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::error::{AdminError, Params, parse_id};
use crate::monitor::Record;
use crate::state::AppState;
use crate::storage::{LogFilter, UsageBucket};

/// A page holds this many records unless asked otherwise (at most 1000).
const PAGE: i64 = 50;
/// A comment line this often keeps proxies and browsers from closing the feed.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Exact status, or a class: 2, 4, 5.
    status: Option<i64>,
    model: Option<String>,
    account: Option<String>,
    request_id: Option<String>,
    since_ms: Option<i64>,
    until_ms: Option<i64>,
    before_id: Option<i64>,
    limit: Option<i64>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// `GET /api/requests?status&model&account&request_id&since_ms&until_ms&before_id&limit`.
pub async fn list(
    State(state): State<AppState>,
    Params(q): Params<ListQuery>,
) -> Result<Json<Value>, AdminError> {
    let limit = q.limit.unwrap_or(PAGE);
    if !(1..=1000).contains(&limit) {
        return Err(AdminError::bad_request(
            "`limit` must be between 1 and 1000.",
        ));
    }
    if let Some(status) = q.status
        && !(1..=5).contains(&status)
        && !(100..=599).contains(&status)
    {
        return Err(AdminError::bad_request(
            "`status` is an HTTP status (100–599) or a class (2 for 2xx, 4 for 4xx, 5 for 5xx).",
        ));
    }
    let filter = LogFilter {
        status: q.status,
        model: non_empty(q.model),
        account: non_empty(q.account),
        request_id: non_empty(q.request_id),
        since_ms: q.since_ms,
        until_ms: q.until_ms,
        before_id: q.before_id,
        limit,
    };
    let rows = state.storage().query_requests(&filter).await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    Ok(Json(json!({ "requests": rows, "next_before_id": next })))
}

/// `GET /api/requests/{id}`: one record, with bodies when they were captured.
pub async fn one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let id = parse_id(&id, "request")?;
    let row = state
        .storage()
        .request(id)
        .await?
        .ok_or_else(|| AdminError::not_found(format!("No request record #{id}.")))?;
    Ok(Json(json!({
        "request": row,
        "capture_bodies": state.config().monitor.capture_bodies,
    })))
}

/// A finished record as the feed sends it: the fields of a stored row (no id
/// yet: the writer assigns it later; find it by `request_id`).
fn record_json(r: &Record) -> Value {
    json!({
        "id": null,
        "request_id": r.request_id,
        "ts_ms": r.ts_ms,
        "protocol": r.protocol,
        "method": r.method,
        "path": r.path,
        "model": r.model,
        "mapped_model": r.mapped_model,
        "account": r.account,
        "status": r.status,
        "duration_ms": r.duration_ms,
        "ttfb_ms": r.ttfb_ms,
        "stream": r.stream,
        "input_tokens": r.usage.input_tokens,
        "output_tokens": r.usage.output_tokens,
        "cached_tokens": r.usage.cached_input_tokens,
        "reasoning_tokens": r.usage.reasoning_tokens,
        "attempts": r.attempts,
        "client_ip": r.client_ip,
        "error": r.error,
    })
}

fn frame(event: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

/// `GET /api/requests/live`: `text/event-stream` of `request` events (one per
/// finished record), `lagged` when the reader fell behind and records were
/// skipped, and keep-alive comments. Ends when the gateway shuts down.
pub async fn live(State(state): State<AppState>) -> Response {
    let rx = state.monitor().subscribe();
    let stop = state.admin().feeds_stop().clone();
    let hello = Bytes::from_static(b"retry: 3000\n: connected\n\n");
    let events = futures_util::stream::unfold((rx, stop), |(mut rx, stop)| async move {
        let next = tokio::select! {
            biased;
            () = stop.cancelled() => return None,
            next = tokio::time::timeout(KEEP_ALIVE, rx.recv()) => next,
        };
        let bytes = match next {
            Err(_) => Bytes::from_static(b": keep-alive\n\n"),
            Ok(Ok(record)) => frame("request", &record_json(&record)),
            Ok(Err(RecvError::Lagged(missed))) => frame("lagged", &json!({ "missed": missed })),
            Ok(Err(RecvError::Closed)) => return None,
        };
        Some((Ok::<_, Infallible>(bytes), (rx, stop)))
    });
    let stream = futures_util::stream::iter([Ok::<_, Infallible>(hello)]).chain(events);
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
            (http::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        HttpBody::from_stream(stream),
    )
        .into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageQuery {
    /// `hour` (default) or `day`.
    bucket: Option<String>,
    /// Default: 24 hours ago for hours, 30 days ago for days.
    since_ms: Option<i64>,
}

/// `GET /api/usage?bucket=hour|day&since_ms`: requests, errors and tokens per
/// bucket, model and account.
pub async fn usage(
    State(state): State<AppState>,
    Params(q): Params<UsageQuery>,
) -> Result<Json<Value>, AdminError> {
    let (bucket, name, span) = match q.bucket.as_deref().unwrap_or("hour") {
        "hour" => (UsageBucket::Hour, "hour", 24 * 3600 * 1000),
        "day" => (UsageBucket::Day, "day", 30 * 24 * 3600 * 1000),
        other => {
            return Err(AdminError::bad_request(format!(
                "`bucket` is `hour` or `day`, not `{other}`."
            )));
        }
    };
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let since_ms = q.since_ms.unwrap_or(now_ms - span);
    let rows = state.storage().usage(bucket, since_ms).await?;
    Ok(Json(json!({
        "bucket": name,
        "since_ms": since_ms,
        "now_ms": now_ms,
        "rows": rows,
    })))
}
