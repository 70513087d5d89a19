//! What every protocol handler does after decoding: dispatch through the proxy
//! and answer as a stream or as one JSON body, with the gateway's headers.

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, header};
use uplink_protocol::error::Dialect;
use uplink_protocol::ir::StreamError;

use super::ApiError;
use crate::monitor::Note;
use crate::proxy::Answer;
use crate::server::middleware::request_id::RequestId;

/// Facts about the incoming request that handlers pass down.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub request_id: String,
    pub headers: HeaderMap,
    /// The request monitor's notes for this request.
    pub note: Note,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .map(|id| id.as_str().to_owned())
            .unwrap_or_default();
        Ok(Ctx {
            request_id,
            headers: parts.headers.clone(),
            note: parts.extensions.get::<Note>().cloned().unwrap_or_default(),
        })
    }
}

impl Ctx {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Note the requested model, whether it streams, and (when bodies are
    /// captured) the request body.
    pub fn note_request(
        &self,
        state: &crate::state::AppState,
        model: &str,
        stream: bool,
        body: &[u8],
    ) {
        let captured = state
            .monitor()
            .capture_limit()
            .map(|limit| crate::monitor::truncate(body, limit));
        self.note.update(|n| {
            n.model = Some(model.to_owned());
            n.stream = stream;
            n.request_body = captured;
        });
    }
}

/// `X-Mapped-Model` and (unless turned off for privacy) `X-Account-Email` for a
/// committed answer.
pub fn answer_headers(answer: &Answer) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&answer.upstream_model) {
        headers.insert("x-mapped-model", v);
    }
    if answer.expose_account
        && let Ok(v) = HeaderValue::from_str(&answer.account)
    {
        headers.insert("x-account-email", v);
    }
    headers
}

/// A whole JSON answer, written by `uplink_protocol::json`: serde_json's bytes,
/// with strings scanned a word at a time instead of a byte at a time. A value
/// that cannot be written is a 500, as with axum's `Json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

/// Room for a small answer without regrowth.
const ANSWER_CAPACITY: usize = 1024;

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match uplink_protocol::json::to_vec_with_capacity(&self.0, ANSWER_CAPACITY) {
            Ok(body) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            Err(e) => (
                http::StatusCode::INTERNAL_SERVER_ERROR,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                )],
                format!("cannot encode the answer: {e}"),
            )
                .into_response(),
        }
    }
}

/// A streaming response: SSE or (for Gemini without `alt=sse`) a JSON array.
pub fn stream_response(headers: HeaderMap, content_type: &'static str, body: Body) -> Response {
    let mut response = (headers, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Tell buffering reverse proxies (nginx) to pass events through at once.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// An error that ended a collected (non-stream) answer.
pub fn stream_error(dialect: Dialect, error: StreamError) -> ApiError {
    ApiError::new(dialect, error.kind, error.message)
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A random id with a protocol's prefix (`chatcmpl-…`, `msg_…`).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}{:024x}", rand::random::<u128>() >> 32)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    async fn read(response: Response) -> (http::StatusCode, String, Vec<u8>) {
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, content_type, body.to_vec())
    }

    #[tokio::test]
    async fn a_json_answer_is_serde_jsons_bytes() {
        let value = serde_json::json!({
            "text": "a \"quoted\"\nline\tend é \u{1}", "n": [1, -2.5, 1e300], "none": null, "t": true
        });
        let (status, content_type, body) = read(Json(&value).into_response()).await;
        assert_eq!(status, http::StatusCode::OK);
        assert_eq!(content_type, "application/json");
        assert_eq!(body, serde_json::to_vec(&value).unwrap());
    }

    #[tokio::test]
    async fn an_answer_that_cannot_be_written_is_a_500() {
        let value = BTreeMap::from([(vec![1u8], 1)]);
        let (status, content_type, body) = read(Json(&value).into_response()).await;
        assert_eq!(status, http::StatusCode::INTERNAL_SERVER_ERROR);
        assert!(content_type.starts_with("text/plain"));
        assert!(String::from_utf8_lossy(&body).starts_with("cannot encode the answer"));
    }
}
