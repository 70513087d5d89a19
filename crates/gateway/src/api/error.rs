//! The gateway's client-facing error: a kind, a status and a message, rendered as
//! a JSON body in the caller's protocol.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use uplink_protocol::error::{Dialect, ErrorBody, ErrorKind};

/// The message of an error response, left in the response extensions for the
/// request monitor.
#[derive(Debug, Clone)]
pub struct ErrorNote(pub String);

/// An error on its way to a client of `dialect`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub dialect: Dialect,
    pub body: ErrorBody,
    /// Seconds, for `Retry-After`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(dialect: Dialect, kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            dialect,
            body: ErrorBody::new(dialect, kind, message),
            retry_after: None,
        }
    }

    /// An error whose body a translator already built.
    pub fn from_body(dialect: Dialect, body: ErrorBody) -> Self {
        Self {
            dialect,
            body,
            retry_after: None,
        }
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.body.message = message.into();
        self
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.body = self.body.with_code(code);
        self
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.body.status = status;
        self
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.body.kind
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.body.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.body.status, self.body.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body.to_json(self.dialect).to_string();
        let mut response = (
            self.status(),
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response();
        // Anthropic SDKs (Claude Code among them) retry errors for minutes unless
        // told that retrying cannot help.
        let retryable = matches!(self.body.status, 408 | 409 | 429) || self.body.status >= 500;
        response.headers_mut().insert(
            http::HeaderName::from_static("x-should-retry"),
            HeaderValue::from_static(if retryable { "true" } else { "false" }),
        );
        response
            .extensions_mut()
            .insert(ErrorNote(self.body.message.clone()));
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
