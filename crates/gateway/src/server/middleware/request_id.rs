//! Every request gets an id: the client's `x-request-id` when it is sane, else a
//! fresh one. It is returned as `x-request-id` and available to handlers.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;

use crate::state::AppState;

pub const HEADER: &str = "x-request-id";

/// The request's id, in the request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub HeaderValue);

impl RequestId {
    pub fn as_str(&self) -> &str {
        self.0.to_str().unwrap_or("")
    }
}

fn fresh() -> HeaderValue {
    // 128 random bits as hex: visible ASCII, so always a valid header value.
    HeaderValue::from_str(&format!("req_{:032x}", rand::random::<u128>()))
        .unwrap_or_else(|_| HeaderValue::from_static("req_unknown"))
}

fn acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty() && bytes.len() <= 128 && bytes.iter().all(|b| b.is_ascii_graphic())
}

/// Also where a request starts and ends for the busy poller.
pub async fn request_id(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let warm = state.busy_poll().is_some_and(|poll| poll.start());
    let id = match req.headers().get(HEADER) {
        Some(v) if acceptable(v) => v.clone(),
        _ => fresh(),
    };
    req.extensions_mut().insert(RequestId(id.clone()));
    // Only the debug line below reads these: nothing is copied when it is off.
    let logged = tracing::enabled!(tracing::Level::DEBUG).then(|| {
        (
            Instant::now(),
            req.method().clone(),
            req.uri().path().to_owned(),
        )
    });
    let mut response = next.run(req).await;
    if let Some((started, method, path)) = logged {
        tracing::debug!(
            request_id = %id.to_str().unwrap_or(""),
            %method,
            path,
            status = response.status().as_u16(),
            elapsed_us = started.elapsed().as_micros() as u64,
            "request"
        );
    }
    response.headers_mut().insert(HEADER, id);
    if let Some(poll) = state.busy_poll() {
        poll.end(warm);
    }
    response
}
