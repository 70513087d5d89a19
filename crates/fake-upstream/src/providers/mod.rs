//! The API-key providers served next to Cloud Code under path prefixes (`/anthropic`,
//! `/openai`, `/gemini`): routing, per-prefix scripted failures, key authentication, JSON
//! parsing, behaviour selection per key and recording of every call.

mod anthropic;
mod gemini;
mod openai;
pub(crate) mod plan;

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use serde_json::Value;

use crate::cloudcode::Outcome;
use crate::config::Provider;
use crate::errors::GoogleError;
use crate::record::{RecordedRequest, headers_of};
use crate::script::Behavior;
use crate::state::{Inner, KeyProblem, Shared};

/// An error response of any provider: status, JSON body and extra headers.
#[derive(Clone, Debug)]
pub(crate) struct HttpError {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(&'static str, String)>,
}

impl HttpError {
    pub fn new(status: u16, body: Value) -> HttpError {
        HttpError {
            status,
            body,
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> HttpError {
        self.headers.push((name, value.into()));
        self
    }

    /// The outcome for `account`, with `first_byte` delay.
    pub fn outcome(self, account: Option<String>, first_byte: Duration) -> Outcome {
        let mut response = json_response(self.status, &self.body, "application/json");
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                response
                    .headers_mut()
                    .insert(HeaderName::from_static(name), v);
            }
        }
        Outcome {
            status: self.status,
            account,
            first_byte,
            response,
        }
    }
}

impl From<GoogleError> for HttpError {
    fn from(e: GoogleError) -> HttpError {
        HttpError::new(e.status, e.body)
    }
}

/// A JSON response with a content type.
pub(crate) fn json_response(status: u16, body: &Value, content_type: &'static str) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A 200 response with a body and content type.
pub(crate) fn ok_response(body: Body, content_type: &'static str) -> Response {
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// One provider request, as the handlers see it (the state is locked around it).
pub(crate) struct Call<'a> {
    pub provider: Provider,
    pub seq: u64,
    pub method: &'a Method,
    /// The path after the provider prefix, e.g. `/v1/messages`.
    pub rest: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
}

impl Call<'_> {
    /// A header value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The bearer token of `Authorization`, if any.
    pub fn bearer(&self) -> Option<&str> {
        self.header("authorization")
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
    }

    /// A query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query?
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }
}

/// Who a call belongs to after authentication.
pub(crate) type Auth = Result<String, (KeyProblem, Option<String>)>;

/// Checks `key` for `provider`; a revoked key's label is still reported for the record.
pub(crate) fn authenticate(inner: &Inner, provider: Provider, key: Option<&str>) -> Auth {
    inner.key_owner(provider, key).map_err(|p| {
        let label = key.and_then(|k| {
            inner
                .api_keys
                .iter()
                .find(|x| x.spec.provider == provider && x.spec.key == k)
                .map(|x| x.spec.label.clone())
        });
        (p, label)
    })
}

/// The behaviour of a generate call of `label` for `model`: its queues, then its default,
/// then `Ok`.
pub(crate) fn next_behavior(inner: &mut Inner, label: &str, model: &str) -> Behavior {
    inner.next_behavior(label, model).unwrap_or(Behavior::Ok)
}

/// Entry point for every path under a provider prefix (Cloud Code paths excluded).
pub(crate) async fn dispatch(
    shared: Shared,
    provider: Provider,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let rest = path.strip_prefix(provider.prefix()).unwrap_or(path);
    let parsed: Option<Value> = if body.is_empty() {
        None
    } else {
        serde_json::from_slice(&body).ok()
    };
    let outcome = {
        let mut inner = shared.lock();
        let seq = inner.next_seq();
        let call = Call {
            provider,
            seq,
            method: &method,
            rest,
            query: uri.query(),
            headers: &headers,
            body: &body,
        };
        let (endpoint, outcome) = handle(&mut inner, &call);
        inner.log.push(RecordedRequest {
            seq,
            method: method.to_string(),
            path: path.to_string(),
            query: uri.query().map(str::to_string),
            headers: headers_of(&headers),
            body: parsed,
            endpoint,
            prefix: provider.prefix().to_string(),
            account: outcome.account.clone(),
            status: outcome.status,
            provider: Some(provider.as_str().to_string()),
        });
        outcome
    };
    if !outcome.first_byte.is_zero() {
        tokio::time::sleep(outcome.first_byte).await;
    }
    outcome.response
}

/// Per-prefix failures first (as for Cloud Code prefixes), then the provider's handler.
fn handle(inner: &mut Inner, call: &Call<'_>) -> (String, Outcome) {
    if let Some(b) = inner.next_prefix_behavior(call.provider.prefix()) {
        let timing = b.timing();
        let first_byte = timing.first_byte;
        let inner_behavior = timing.behavior.clone();
        let model = model_hint(call);
        let error = match call.provider {
            Provider::Anthropic => anthropic::behavior_error(&inner_behavior, call.seq),
            Provider::OpenAi => openai::behavior_error(&inner_behavior, &model),
            Provider::Gemini => gemini::behavior_error(&inner_behavior, &model),
        };
        if let Some(e) = error {
            let endpoint = endpoint_hint(call);
            return (endpoint, e.outcome(None, first_byte));
        }
    }
    match call.provider {
        Provider::Anthropic => anthropic::handle(inner, call),
        Provider::OpenAi => openai::handle(inner, call),
        Provider::Gemini => gemini::handle(inner, call),
    }
}

/// The model a request names (body `model`, or the Gemini path), for error texts.
fn model_hint(call: &Call<'_>) -> String {
    if call.provider == Provider::Gemini {
        return gemini::split_path(call.rest).map_or_else(String::new, |(m, _)| m);
    }
    serde_json::from_slice::<Value>(call.body)
        .ok()
        .and_then(|v| v.get("model").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default()
}

/// The endpoint name a path stands for (also for calls that fail early).
fn endpoint_hint(call: &Call<'_>) -> String {
    match call.provider {
        Provider::Anthropic => anthropic::endpoint(call.rest),
        Provider::OpenAi => openai::endpoint(call.rest),
        Provider::Gemini => gemini::split_path(call.rest).map_or_else(String::new, |(_, m)| m),
    }
}

/// Cuts a frame list for `CutAfter(n)` / `StreamError{after: n}`: at most `n` frames and
/// never the final one.
pub(crate) fn truncate_frames<T>(frames: &mut Vec<T>, n: usize) {
    let keep = n.min(frames.len().saturating_sub(1));
    frames.truncate(keep);
}
