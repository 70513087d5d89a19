//! Google error bodies (`{"error":{"code","message","status","details"}}`) and their shapes
//! for every failure the fake produces.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use crate::timefmt;

const DOMAIN: &str = "cloudcode-pa.googleapis.com";

/// A Google-shaped error response.
#[derive(Clone, Debug, PartialEq)]
pub struct GoogleError {
    /// HTTP status.
    pub status: u16,
    /// Full JSON body.
    pub body: Value,
}

/// The canonical `status` string for an HTTP code.
pub fn status_name(code: u16) -> &'static str {
    match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ if code >= 500 => "INTERNAL",
        _ => "UNKNOWN",
    }
}

fn default_message(code: u16) -> &'static str {
    match code {
        404 => "Requested entity was not found.",
        500 => "Internal error encountered.",
        502 => "Bad Gateway",
        503 => "The service is currently unavailable.",
        504 => "The request timed out. Please try again.",
        _ => "Internal error encountered.",
    }
}

impl GoogleError {
    /// `{"error":{"code","message","status"}}`.
    pub fn new(code: u16, message: impl Into<String>) -> GoogleError {
        GoogleError {
            status: code,
            body: json!({"error": {
                "code": code,
                "message": message.into(),
                "status": status_name(code),
            }}),
        }
    }

    /// Adds `error.details`.
    pub fn with_details(mut self, details: Vec<Value>) -> GoogleError {
        if let Some(err) = self.body.get_mut("error").and_then(Value::as_object_mut) {
            err.insert("details".into(), Value::Array(details));
        }
        self
    }

    /// 400 INVALID_ARGUMENT.
    pub fn invalid_argument(message: impl Into<String>) -> GoogleError {
        GoogleError::new(400, message)
    }

    /// The `error.message` string.
    pub fn message(&self) -> &str {
        self.body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

impl IntoResponse for GoogleError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, self.body.to_string()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=UTF-8"),
        );
        resp
    }
}

fn error_info(reason: &str, metadata: Value) -> Value {
    json!({
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": DOMAIN,
        "metadata": metadata,
    })
}

fn retry_info(delay: &str) -> Value {
    json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay})
}

/// 401 for a missing `Authorization` header.
pub fn missing_credentials() -> GoogleError {
    GoogleError::new(
        401,
        "Request is missing required authentication credential. Expected OAuth 2 access token, \
         login cookie or other valid authentication credential. See \
         https://developers.google.com/identity/sign-in/web/devconsole-project.",
    )
    .with_details(vec![json!({
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "CREDENTIALS_MISSING",
        "domain": "googleapis.com",
    })])
}

/// 401 for an unknown, expired or revoked access token.
pub fn invalid_credentials() -> GoogleError {
    GoogleError::new(
        401,
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login \
         cookie or other valid authentication credential. See \
         https://developers.google.com/identity/sign-in/web/devconsole-project.",
    )
    .with_details(vec![json!({
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "ACCESS_TOKEN_EXPIRED",
        "domain": "googleapis.com",
    })])
}

/// 403 when the envelope's `project` is not the account's project.
pub fn project_denied(project: &str) -> GoogleError {
    let resource = format!("projects/{project}/locations/global");
    GoogleError::new(
        403,
        format!(
            "Permission 'cloudaicompanion.companions.generateChat' denied on resource \
             '//cloudaicompanion.googleapis.com/{resource}' (or it may not exist)."
        ),
    )
    .with_details(vec![json!({
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "IAM_PERMISSION_DENIED",
        "domain": "cloudaicompanion.googleapis.com",
        "metadata": {
            "permission": "cloudaicompanion.companions.generateChat",
            "resource": resource,
        },
    })])
}

/// 404 for a model the fake does not serve.
pub fn model_not_found(model: &str) -> GoogleError {
    GoogleError::new(404, format!("models/{model} is not found"))
}

/// 429 QUOTA_EXHAUSTED with the real detail layout.
pub fn quota_exhausted(model: &str, reset_delay: &str) -> GoogleError {
    let delay = timefmt::parse_go_duration(reset_delay).unwrap_or_default();
    let reset_at = timefmt::rfc3339(timefmt::unix_now() + delay.as_secs());
    GoogleError::new(
        429,
        format!(
            "You have exhausted your capacity on this model. Your quota will reset after \
             {reset_delay}."
        ),
    )
    .with_details(vec![
        error_info(
            "QUOTA_EXHAUSTED",
            json!({
                "uiMessage": "true",
                "model": model,
                "quotaResetDelay": reset_delay,
                "quotaResetTimeStamp": reset_at,
            }),
        ),
        retry_info(&timefmt::proto_duration(delay)),
    ])
}

/// 429 RATE_LIMIT_EXCEEDED with a short RetryInfo (values from a captured response).
pub fn rate_limited(model: &str) -> GoogleError {
    let reset_at = timefmt::rfc3339(timefmt::unix_now() + 1);
    GoogleError::new(
        429,
        "You have exhausted your capacity on this model. Your quota will reset after 0s.",
    )
    .with_details(vec![
        error_info(
            "RATE_LIMIT_EXCEEDED",
            json!({
                "uiMessage": "true",
                "model": model,
                "quotaResetDelay": "976.066617ms",
                "quotaResetTimeStamp": reset_at,
            }),
        ),
        retry_info("0.976066617s"),
    ])
}

/// 503 MODEL_CAPACITY_EXHAUSTED.
pub fn capacity(model: &str) -> GoogleError {
    GoogleError::new(
        503,
        format!("No capacity available for model {model} on the server"),
    )
    .with_details(vec![error_info(
        "MODEL_CAPACITY_EXHAUSTED",
        json!({"model": model}),
    )])
}

/// URL carried by the VALIDATION_REQUIRED error.
pub const VALIDATION_URL: &str = "https://accounts.google.com/signin/continue?sarp=1&scc=1&continue=https://developers.google.com/gemini-code-assist/auth/auth_success_gemini&plt=fake-validation";

/// 403 VALIDATION_REQUIRED ("Verify your account to continue.").
pub fn validation_required() -> GoogleError {
    GoogleError::new(403, "Verify your account to continue.").with_details(vec![error_info(
        "VALIDATION_REQUIRED",
        json!({
            "validation_url": VALIDATION_URL,
            "validation_error_message": "Verify your account to continue.",
        }),
    )])
}

/// 403 PERMISSION_DENIED.
pub fn forbidden() -> GoogleError {
    GoogleError::new(403, "The caller does not have permission")
}

/// Any status with its canonical Google body.
pub fn server_error(code: u16) -> GoogleError {
    GoogleError::new(code, default_message(code))
}

/// 404 for an unknown `v1internal:` method or path.
pub fn method_not_found() -> GoogleError {
    GoogleError::new(404, "Method not found.")
}

/// A 400 whose message is an Anthropic error object serialised into a string — how Cloud
/// Code reports rejections coming from Claude models.
pub fn anthropic_invalid_request(message: &str, request_seq: u64) -> GoogleError {
    let inner = json!({
        "type": "error",
        "error": {"type": "invalid_request_error", "message": message},
        "request_id": format!("req_vrtx_fake{request_seq:016}"),
    });
    GoogleError::invalid_argument(inner.to_string())
}
