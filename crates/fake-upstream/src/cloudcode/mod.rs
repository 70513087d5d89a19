//! Cloud Code `v1internal` routing: any `<prefix>/v1internal:<method>` path, per-prefix
//! scripted failures, bearer authentication, JSON parsing, dispatch to the method handlers
//! and recording of every call.

mod generate;
mod setup;

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, Uri};
use serde_json::Value;

use crate::errors::{self, GoogleError};
use crate::oauth;
use crate::record::{RecordedRequest, headers_of};
use crate::script::Behavior;
use crate::state::{Inner, Shared, normalize_prefix};

/// What a handler decided; the lock is released before `first_byte` is waited out.
pub(crate) struct Outcome {
    pub status: u16,
    pub account: Option<String>,
    pub first_byte: Duration,
    pub response: Response,
}

impl Outcome {
    fn error(e: GoogleError, account: Option<String>) -> Outcome {
        Outcome {
            status: e.status,
            account,
            first_byte: Duration::ZERO,
            response: e.into_response(),
        }
    }

    fn json(body: &Value, account: Option<String>) -> Outcome {
        let mut response = body.to_string().into_response();
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json; charset=UTF-8"),
        );
        Outcome {
            status: 200,
            account,
            first_byte: Duration::ZERO,
            response,
        }
    }
}

/// Splits `/ep1/v1internal:generateContent` into (`/ep1`, `generateContent`).
fn split_path(path: &str) -> Option<(String, String)> {
    let idx = path.find("/v1internal:")?;
    let prefix = normalize_prefix(&path[..idx]);
    let rpc = path[idx + "/v1internal:".len()..].to_string();
    Some((prefix, rpc))
}

/// Fallback handler for everything that is not OAuth or the control API.
pub(crate) async fn dispatch(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (prefix, rpc) = split_path(uri.path()).unwrap_or_default();
    let parsed: Option<Value> = if body.is_empty() {
        None
    } else {
        serde_json::from_slice(&body).ok()
    };
    let outcome = {
        let mut inner = shared.lock();
        let seq = inner.next_seq();
        let outcome = handle(
            &mut inner, seq, &method, &uri, &headers, &body, &prefix, &rpc,
        );
        inner.log.push(RecordedRequest {
            seq,
            method: method.to_string(),
            path: uri.path().to_string(),
            query: uri.query().map(str::to_string),
            headers: headers_of(&headers),
            body: parsed,
            endpoint: rpc,
            prefix,
            account: outcome.account.clone(),
            status: outcome.status,
            provider: None,
        });
        outcome
    };
    if !outcome.first_byte.is_zero() {
        tokio::time::sleep(outcome.first_byte).await;
    }
    outcome.response
}

/// The error a scripted behaviour stands for, if it is an error behaviour.
pub(crate) fn error_of(
    behavior: &Behavior,
    model: &str,
    inner: &mut Inner,
    token: Option<&str>,
) -> Option<GoogleError> {
    Some(match behavior {
        Behavior::QuotaExhausted { reset_delay } => errors::quota_exhausted(model, reset_delay),
        Behavior::RateLimited => errors::rate_limited(model),
        Behavior::Capacity => errors::capacity(model),
        Behavior::ServerError(code) => errors::server_error(*code),
        Behavior::ValidationRequired => errors::validation_required(),
        Behavior::Forbidden => errors::forbidden(),
        Behavior::Unauthorized => {
            if let Some(t) = token {
                inner.invalidate_token(t);
            }
            errors::invalid_credentials()
        }
        Behavior::Error { status, body } => GoogleError {
            status: *status,
            body: body.clone(),
        },
        _ => return None,
    })
}

#[allow(clippy::too_many_arguments)]
fn handle(
    inner: &mut Inner,
    seq: u64,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    prefix: &str,
    rpc: &str,
) -> Outcome {
    if rpc.is_empty() {
        return Outcome::error(errors::method_not_found(), None);
    }
    let account = oauth::bearer(headers).and_then(|t| inner.token_owner(t).ok());
    if let Some(b) = inner.next_prefix_behavior(prefix) {
        let model = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("model").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| "unknown".into());
        let timing = b.timing();
        let first_byte = timing.first_byte;
        let inner_behavior = timing.behavior.clone();
        if let Some(e) = error_of(&inner_behavior, &model, inner, oauth::bearer(headers)) {
            let mut o = Outcome::error(e, account);
            o.first_byte = first_byte;
            return o;
        }
    }
    if method != Method::POST {
        return Outcome::error(errors::method_not_found(), account);
    }
    let email = match oauth::authenticate(inner, headers) {
        Ok(e) => e,
        Err(e) => return Outcome::error(e, None),
    };
    let json: Value = if body.is_empty() {
        Value::Object(serde_json::Map::new())
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                return Outcome::error(
                    GoogleError::invalid_argument(format!(
                        "Invalid JSON payload received. Unexpected token.\n(line {}, column {})",
                        e.line(),
                        e.column()
                    )),
                    Some(email),
                );
            }
        }
    };
    let who = Some(email.clone());
    let result = match rpc {
        "loadCodeAssist" => setup::load_code_assist(inner, &email, &json),
        "onboardUser" => setup::onboard_user(inner, &email, &json),
        "fetchAvailableModels" => setup::fetch_available_models(inner, &email, &json),
        "countTokens" => setup::count_tokens(inner, &json, seq),
        "generateContent" | "streamGenerateContent" => {
            let stream = rpc == "streamGenerateContent";
            let sse = uri
                .query()
                .is_some_and(|q| q.split('&').any(|kv| kv == "alt=sse"));
            let token = oauth::bearer(headers).unwrap_or("").to_string();
            return generate::generate(inner, &email, &token, &json, stream, sse, seq);
        }
        _ => Err(errors::method_not_found()),
    };
    match result {
        Ok(v) => Outcome::json(&v, who),
        Err(e) => Outcome::error(e, who),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_prefix_and_method() {
        assert_eq!(
            split_path("/v1internal:generateContent"),
            Some((String::new(), "generateContent".into()))
        );
        assert_eq!(
            split_path("/ep1/v1internal:loadCodeAssist"),
            Some(("/ep1".into(), "loadCodeAssist".into()))
        );
        assert_eq!(split_path("/nope"), None);
    }
}
