//! The middleware that opens a record for every proxied request and the body
//! wrapper that closes it when the response has been sent (or abandoned).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use http_body::{Body as _, Frame, SizeHint};

use super::{Monitor, Note, Record, truncate};
use crate::api::ErrorNote;
use crate::api::dialect;
use crate::server::middleware::request_id::RequestId;
use crate::state::AppState;

pub async fn record_requests(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let note = Note::default();
    req.extensions_mut().insert(note.clone());
    let monitor = state.monitor().clone();
    let record = Record {
        request_id: req
            .extensions()
            .get::<RequestId>()
            .map(|id| id.as_str().to_owned())
            .unwrap_or_default(),
        ts_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
        protocol: dialect::detect(req.uri().path(), req.headers(), req.uri().query()).as_str(),
        method: req.method().to_string(),
        path: req.uri().path().to_owned(),
        client_ip: req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
        request_headers: monitor
            .capture_limit()
            .map(|_| super::header_lines(req.headers())),
        ..Record::default()
    };
    let response = next.run(req).await;
    let (parts, body) = response.into_parts();
    let error = parts.extensions.get::<ErrorNote>().map(|e| e.0.clone());
    let capture = monitor
        .capture_limit()
        .map(|limit| (BytesMut::new(), limit));
    let response_headers = capture
        .as_ref()
        .map(|_| super::header_lines(&parts.headers));
    let body = RecordedBody {
        inner: body,
        open: Some(Open {
            monitor,
            note,
            record: Record {
                status: parts.status.as_u16(),
                error,
                response_headers,
                ..record
            },
            started,
            first_byte: None,
            capture,
        }),
    };
    Response::from_parts(parts, Body::new(body))
}

struct Open {
    monitor: Arc<Monitor>,
    note: Note,
    record: Record,
    started: Instant,
    first_byte: Option<Instant>,
    capture: Option<(BytesMut, usize)>,
}

impl Open {
    fn finish(mut self, outcome: Option<&str>) {
        let notes = self.note.take();
        let r = &mut self.record;
        r.duration_ms = self.started.elapsed().as_millis() as i64;
        r.ttfb_ms = self
            .first_byte
            .map(|t| t.duration_since(self.started).as_millis() as i64);
        r.model = notes.model;
        r.mapped_model = notes.mapped_model;
        r.account = notes.account;
        r.attempts = notes.attempts;
        r.stream = notes.stream;
        r.usage = notes.usage;
        r.request_body = notes.request_body;
        r.error = r
            .error
            .take()
            .or(notes.error)
            .or(outcome.map(str::to_owned));
        if let Some((buf, limit)) = &self.capture {
            r.response_body = Some(truncate(buf, *limit));
        }
        self.monitor.submit(self.record);
    }
}

/// Passes the body through and closes the record at its end, or when dropped
/// before the end (the client went away).
struct RecordedBody {
    inner: Body,
    open: Option<Open>,
}

impl http_body::Body for RecordedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        let ended = self.inner.is_end_stream();
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(open) = self.open.as_mut() {
                    if open.first_byte.is_none() {
                        open.first_byte = Some(Instant::now());
                    }
                    if let (Some((buf, limit)), Some(data)) =
                        (open.capture.as_mut(), frame.data_ref())
                    {
                        let room = (*limit + 1).saturating_sub(buf.len());
                        buf.extend_from_slice(&data[..data.len().min(room)]);
                    }
                }
                // hyper stops polling a body that says it has ended.
                if ended && let Some(open) = self.open.take() {
                    open.finish(None);
                }
            }
            Poll::Ready(Some(Err(_))) => {
                if let Some(open) = self.open.take() {
                    open.finish(Some("the response body failed"));
                }
            }
            Poll::Ready(None) => {
                if let Some(open) = self.open.take() {
                    open.finish(None);
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for RecordedBody {
    fn drop(&mut self) {
        if let Some(open) = self.open.take() {
            let outcome = (!self.inner.is_end_stream())
                .then_some("the client closed the connection before the end");
            open.finish(outcome);
        }
    }
}
