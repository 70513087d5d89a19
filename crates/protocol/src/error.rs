//! Error kinds and their rendering in each client protocol's own error shape.
//!
//! A client never sees plain text: OpenAI clients get `{"error":{...}}`, Anthropic
//! clients `{"type":"error","error":{...}}`, Gemini clients
//! `{"error":{"code","message","status"}}`.

use serde_json::{Value, json};

/// The family of wire protocols that share an error shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// OpenAI Chat Completions, legacy Completions and Responses.
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
    /// Google Gemini (generateContent and friends).
    Gemini,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::OpenAi => "openai",
            Dialect::Anthropic => "anthropic",
            Dialect::Gemini => "gemini",
        }
    }
}

/// What went wrong, independent of who caused it and of the wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request is malformed or asks for something impossible (400).
    InvalidRequest,
    /// No or a wrong API key (401).
    Authentication,
    /// The key is valid but may not do this (403).
    PermissionDenied,
    /// Unknown path or model (404).
    NotFound,
    /// The body exceeds the configured limit (413).
    RequestTooLarge,
    /// Quota or rate limit (429).
    RateLimited,
    /// A bug or unexpected state in the gateway (500).
    Internal,
    /// The upstream answered with something the gateway cannot use, or the
    /// connection to it failed (502).
    Upstream,
    /// The gateway cannot serve now: no account, proxy stopped (503).
    Unavailable,
    /// The upstream is over capacity (Anthropic 529, others 503).
    Overloaded,
    /// The request took longer than allowed (504).
    Timeout,
}

impl ErrorKind {
    /// The HTTP status a client of `dialect` expects for this kind.
    pub fn status(self, dialect: Dialect) -> u16 {
        match self {
            ErrorKind::InvalidRequest => 400,
            ErrorKind::Authentication => 401,
            ErrorKind::PermissionDenied => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::RequestTooLarge => 413,
            ErrorKind::RateLimited => 429,
            ErrorKind::Internal => 500,
            ErrorKind::Upstream => 502,
            ErrorKind::Unavailable => 503,
            ErrorKind::Overloaded => match dialect {
                Dialect::Anthropic => 529,
                Dialect::OpenAi | Dialect::Gemini => 503,
            },
            ErrorKind::Timeout => 504,
        }
    }

    /// The kind that an HTTP status from an upstream (or a peer) stands for.
    pub fn from_status(status: u16) -> Self {
        match status {
            400 | 405 | 409 | 411 | 415 | 422 => ErrorKind::InvalidRequest,
            401 => ErrorKind::Authentication,
            402 | 403 => ErrorKind::PermissionDenied,
            404 => ErrorKind::NotFound,
            413 => ErrorKind::RequestTooLarge,
            429 => ErrorKind::RateLimited,
            408 | 504 => ErrorKind::Timeout,
            503 | 529 => ErrorKind::Overloaded,
            500 => ErrorKind::Internal,
            _ if (400..500).contains(&status) => ErrorKind::InvalidRequest,
            _ => ErrorKind::Upstream,
        }
    }

    /// OpenAI's `error.type` and default `error.code`.
    fn openai(self) -> (&'static str, Option<&'static str>) {
        match self {
            ErrorKind::InvalidRequest => ("invalid_request_error", None),
            ErrorKind::Authentication => ("invalid_request_error", Some("invalid_api_key")),
            ErrorKind::PermissionDenied => ("permission_error", Some("permission_denied")),
            ErrorKind::NotFound => ("invalid_request_error", Some("not_found")),
            ErrorKind::RequestTooLarge => ("invalid_request_error", Some("request_too_large")),
            ErrorKind::RateLimited => ("rate_limit_error", Some("rate_limit_exceeded")),
            ErrorKind::Internal => ("server_error", None),
            ErrorKind::Upstream => ("server_error", Some("bad_gateway")),
            ErrorKind::Unavailable => ("server_error", Some("service_unavailable")),
            ErrorKind::Overloaded => ("server_error", Some("overloaded")),
            ErrorKind::Timeout => ("server_error", Some("timeout")),
        }
    }

    /// Anthropic's `error.type`.
    fn anthropic(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid_request_error",
            ErrorKind::Authentication => "authentication_error",
            ErrorKind::PermissionDenied => "permission_error",
            ErrorKind::NotFound => "not_found_error",
            ErrorKind::RequestTooLarge => "request_too_large",
            ErrorKind::RateLimited => "rate_limit_error",
            ErrorKind::Internal | ErrorKind::Upstream => "api_error",
            ErrorKind::Unavailable | ErrorKind::Overloaded => "overloaded_error",
            ErrorKind::Timeout => "timeout_error",
        }
    }

    /// Google's canonical `error.status`.
    fn gemini(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest | ErrorKind::RequestTooLarge => "INVALID_ARGUMENT",
            ErrorKind::Authentication => "UNAUTHENTICATED",
            ErrorKind::PermissionDenied => "PERMISSION_DENIED",
            ErrorKind::NotFound => "NOT_FOUND",
            ErrorKind::RateLimited => "RESOURCE_EXHAUSTED",
            ErrorKind::Internal | ErrorKind::Upstream => "INTERNAL",
            ErrorKind::Unavailable | ErrorKind::Overloaded => "UNAVAILABLE",
            ErrorKind::Timeout => "DEADLINE_EXCEEDED",
        }
    }
}

/// An error as a client sees it: kind, HTTP status and message, plus an optional
/// machine-readable code (OpenAI `error.code`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    pub kind: ErrorKind,
    pub status: u16,
    pub message: String,
    pub code: Option<String>,
}

impl ErrorBody {
    /// An error with the status `dialect` expects for `kind`.
    pub fn new(dialect: Dialect, kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            status: kind.status(dialect),
            message: message.into(),
            code: None,
        }
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// The JSON body in `dialect`'s error shape.
    pub fn to_json(&self, dialect: Dialect) -> Value {
        match dialect {
            Dialect::OpenAi => {
                let (kind, default_code) = self.kind.openai();
                let code = self.code.as_deref().or(default_code);
                json!({
                    "error": {
                        "message": self.message,
                        "type": kind,
                        "param": null,
                        "code": code,
                    }
                })
            }
            Dialect::Anthropic => json!({
                "type": "error",
                "error": { "type": self.kind.anthropic(), "message": self.message },
            }),
            Dialect::Gemini => json!({
                "error": {
                    "code": self.status,
                    "message": self.message,
                    "status": self.kind.gemini(),
                }
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_each_dialects_shape() {
        let e = ErrorBody::new(Dialect::OpenAi, ErrorKind::Authentication, "bad key");
        assert_eq!(e.status, 401);
        assert_eq!(
            e.to_json(Dialect::OpenAi),
            json!({"error": {"message": "bad key", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}})
        );
        assert_eq!(
            e.to_json(Dialect::Anthropic),
            json!({"type": "error", "error": {"type": "authentication_error", "message": "bad key"}})
        );
        assert_eq!(
            e.to_json(Dialect::Gemini),
            json!({"error": {"code": 401, "message": "bad key", "status": "UNAUTHENTICATED"}})
        );
    }

    #[test]
    fn overloaded_is_529_only_for_anthropic() {
        assert_eq!(ErrorKind::Overloaded.status(Dialect::Anthropic), 529);
        assert_eq!(ErrorKind::Overloaded.status(Dialect::OpenAi), 503);
        assert_eq!(ErrorKind::Overloaded.status(Dialect::Gemini), 503);
    }

    #[test]
    fn statuses_round_trip_through_kinds() {
        for (status, kind) in [
            (400, ErrorKind::InvalidRequest),
            (401, ErrorKind::Authentication),
            (403, ErrorKind::PermissionDenied),
            (404, ErrorKind::NotFound),
            (413, ErrorKind::RequestTooLarge),
            (429, ErrorKind::RateLimited),
            (500, ErrorKind::Internal),
            (502, ErrorKind::Upstream),
            (503, ErrorKind::Overloaded),
            (504, ErrorKind::Timeout),
        ] {
            assert_eq!(ErrorKind::from_status(status), kind, "status {status}");
        }
        assert_eq!(ErrorKind::from_status(418), ErrorKind::InvalidRequest);
        assert_eq!(ErrorKind::from_status(599), ErrorKind::Upstream);
    }

    #[test]
    fn an_explicit_code_overrides_the_default() {
        let e = ErrorBody::new(Dialect::OpenAi, ErrorKind::NotFound, "no such model")
            .with_code("model_not_found");
        assert_eq!(
            e.to_json(Dialect::OpenAi)["error"]["code"],
            "model_not_found"
        );
    }
}
