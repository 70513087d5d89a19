//! The Anthropic-compatible API under `/anthropic` (`POST /v1/messages`,
//! `POST /v1/messages/count_tokens`): `x-api-key` or `Authorization: Bearer` keys, the
//! required `anthropic-version` header, strict validation, scripted answers as a `Message`
//! or an SSE stream, and scripted failures in Anthropic's error shapes.

mod pairing;
mod render;
mod validate;

use std::time::Duration;

use axum::body::{Body, Bytes};
use http::{HeaderValue, Method};
use serde_json::{Value, json};

use super::plan::{Ask, Plan};
use super::{Call, HttpError, authenticate, json_response, next_behavior, ok_response};
use crate::cloudcode::Outcome;
use crate::config::Provider;
use crate::respond::{estimate_tokens, timed_body};
use crate::script::Behavior;
use crate::state::{Inner, KeyProblem};
use crate::timefmt;

/// `messages`, `count_tokens`, or the path itself for anything else.
pub(crate) fn endpoint(rest: &str) -> String {
    match rest.trim_end_matches('/') {
        "/v1/messages" => "messages".into(),
        "/v1/messages/count_tokens" => "count_tokens".into(),
        other => other.trim_start_matches('/').to_string(),
    }
}

fn request_id(seq: u64) -> String {
    format!("req_fake{seq:016}")
}

/// `{"type":"error","error":{"type","message"},"request_id"}` with a `request-id` header.
pub(crate) fn error(status: u16, kind: &str, message: &str, seq: u64) -> HttpError {
    HttpError::new(
        status,
        json!({"type": "error", "error": {"type": kind, "message": message},
            "request_id": request_id(seq)}),
    )
    .with_header("request-id", request_id(seq))
}

/// The error type and default message Anthropic uses for a status.
fn kind_of(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("invalid_request_error", "Invalid request"),
        401 => ("authentication_error", "invalid x-api-key"),
        402 => (
            "billing_error",
            "Your credit balance is too low to access the Anthropic API.",
        ),
        403 => (
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        ),
        404 => ("not_found_error", "Not found"),
        413 => (
            "request_too_large",
            "Request exceeds the maximum allowed number of bytes.",
        ),
        429 => (
            "rate_limit_error",
            "Number of requests has exceeded your rate limit \
             (https://docs.claude.com/en/api/rate-limits). Please try again later or contact \
             sales at https://www.anthropic.com/contact-sales to discuss your options for a rate \
             limit increase.",
        ),
        529 => ("overloaded_error", "Overloaded"),
        s if s >= 500 => ("api_error", "Internal server error"),
        _ => ("invalid_request_error", "Invalid request"),
    }
}

/// The canonical error of a status.
fn status_error(status: u16, seq: u64) -> HttpError {
    let (kind, message) = kind_of(status);
    error(status, kind, message, seq)
}

/// The error a scripted behaviour stands for, if it is an error behaviour: 429
/// `rate_limit_error` with `retry-after` (1 s, or the quota's reset delay), 529
/// `overloaded_error`, 403 `permission_error`, 401 `authentication_error`, any status.
pub(crate) fn behavior_error(behavior: &Behavior, seq: u64) -> Option<HttpError> {
    Some(match behavior {
        Behavior::RateLimited => status_error(429, seq).with_header("retry-after", "1"),
        Behavior::QuotaExhausted { reset_delay } => {
            let secs = timefmt::parse_go_duration(reset_delay)
                .unwrap_or_default()
                .as_secs_f64()
                .ceil()
                .max(1.0);
            status_error(429, seq).with_header("retry-after", format!("{secs}"))
        }
        Behavior::Capacity => status_error(529, seq),
        Behavior::ServerError(code) => status_error(*code, seq),
        Behavior::ValidationRequired | Behavior::Forbidden => status_error(403, seq),
        Behavior::Unauthorized => status_error(401, seq),
        Behavior::Error { status, body } => HttpError::new(*status, body.clone()),
        _ => return None,
    })
}

fn fail(endpoint: String, e: HttpError, who: Option<String>) -> (String, Outcome) {
    (endpoint, e.outcome(who, Duration::ZERO))
}

/// Routing, authentication, version header, JSON, validation, then the answer.
pub(crate) fn handle(inner: &mut Inner, call: &Call<'_>) -> (String, Outcome) {
    let endpoint = endpoint(call.rest);
    let seq = call.seq;
    let known = endpoint == "messages" || endpoint == "count_tokens";
    if !known || *call.method != Method::POST {
        return fail(
            endpoint,
            error(404, "not_found_error", "Not Found", seq),
            None,
        );
    }
    let key = call.header("x-api-key").or_else(|| call.bearer());
    let label = match authenticate(inner, Provider::Anthropic, key) {
        Ok(l) => l,
        Err((KeyProblem::Missing, _)) => {
            let e = error(
                401,
                "authentication_error",
                "x-api-key header is required",
                seq,
            );
            return fail(endpoint, e, None);
        }
        Err((_, label)) => {
            let e = error(401, "authentication_error", "invalid x-api-key", seq);
            return fail(endpoint, e, label);
        }
    };
    let who = Some(label.clone());
    if call.header("anthropic-version").is_none() {
        let e = error(
            400,
            "invalid_request_error",
            "anthropic-version: header is required",
            seq,
        );
        return fail(endpoint, e, who);
    }
    let body: Value = match serde_json::from_slice(call.body) {
        Ok(v) => v,
        Err(e) => {
            let msg = format!("There was an issue with the JSON body of your request: {e}");
            return fail(
                endpoint,
                error(400, "invalid_request_error", &msg, seq),
                who,
            );
        }
    };
    let beta = call.header("anthropic-beta").is_some();
    let count = endpoint == "count_tokens";
    let checked = match validate::check(&body, &inner.signatures, count, beta) {
        Ok(c) => c,
        Err(msg) => {
            return fail(
                endpoint,
                error(400, "invalid_request_error", &msg, seq),
                who,
            );
        }
    };
    if !inner.provider_serves(Provider::Anthropic, &checked.model) {
        let msg = format!("model: {}", checked.model);
        return fail(endpoint, error(404, "not_found_error", &msg, seq), who);
    }
    let input_tokens = estimate_tokens(&checked.input_tokens_text);
    if count {
        let mut response = json_response(
            200,
            &json!({"input_tokens": input_tokens}),
            "application/json",
        );
        add_request_id(&mut response, seq);
        let outcome = Outcome {
            status: 200,
            account: who,
            first_byte: Duration::ZERO,
            response,
        };
        return (endpoint, outcome);
    }
    (
        endpoint,
        generate(inner, seq, &label, &checked, input_tokens),
    )
}

fn add_request_id(response: &mut axum::response::Response, seq: u64) {
    if let Ok(v) = HeaderValue::from_str(&request_id(seq)) {
        response.headers_mut().insert("request-id", v);
    }
}

/// The `error` event of a mid-stream failure.
fn stream_error_event(status: u16) -> Value {
    let (kind, message) = kind_of(status);
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

/// The next behaviour of the key, rendered as a `Message` or an event stream.
fn generate(
    inner: &mut Inner,
    seq: u64,
    label: &str,
    checked: &validate::Checked,
    input_tokens: u64,
) -> Outcome {
    let who = Some(label.to_string());
    let behavior = next_behavior(inner, label, &checked.model);
    let timing = behavior.timing();
    let (first_byte, between) = (timing.first_byte, timing.between_chunks);
    let (cut_after, stream_error) = (timing.cut_after, timing.stream_error);
    let b = timing.behavior.clone();
    let failure = match stream_error {
        Some((_, status)) if !checked.stream => Some(status_error(status, seq)),
        _ => behavior_error(&b, seq),
    };
    if let Some(e) = failure {
        return e.outcome(who, first_byte);
    }
    let n = inner.next_counter();
    let (body, content_type) = if let Behavior::Raw(values) = &b {
        raw_body(values, checked.stream, between)
    } else {
        let plan = Plan::build(
            &b,
            &Ask {
                model: &checked.model,
                said: checked.said.as_deref(),
                thinking: checked.thinking,
                words: cut_after.is_some() || stream_error.is_some(),
            },
        );
        let signature = plan
            .thought
            .as_ref()
            .map(|_| inner.signatures.issue_for_provider(Provider::Anthropic));
        let answer = render::Answer {
            id: format!("msg_fake{n:016}"),
            model: &checked.model,
            plan: &plan,
            signature,
            tool_ids: (0..plan.calls.len())
                .map(|i| format!("toolu_fake{n:08}{i:02}"))
                .collect(),
            input_tokens,
        };
        if !checked.stream {
            let body = if cut_after.is_some() {
                timed_body(Vec::new(), between, true)
            } else {
                Body::from(answer.message().to_string())
            };
            (body, "application/json")
        } else {
            let mut frames: Vec<Bytes> = answer
                .events()
                .iter()
                .map(|(name, data)| render::frame(name, data))
                .collect();
            if let Some(k) = cut_after {
                super::truncate_frames(&mut frames, k);
            }
            if let Some((k, status)) = stream_error {
                super::truncate_frames(&mut frames, k);
                frames.push(render::frame("error", &stream_error_event(status)));
            }
            (
                timed_body(frames, between, cut_after.is_some()),
                "text/event-stream; charset=utf-8",
            )
        }
    };
    let mut response = ok_response(body, content_type);
    add_request_id(&mut response, seq);
    Outcome {
        status: 200,
        account: who,
        first_byte,
        response,
    }
}

/// `Raw` values verbatim: stream events named by their `type`, or the single value (an
/// array for several) as the non-stream body.
fn raw_body(values: &[Value], stream: bool, between: Duration) -> (Body, &'static str) {
    if stream {
        let frames = values
            .iter()
            .map(|v| {
                render::frame(
                    v.get("type").and_then(Value::as_str).unwrap_or("message"),
                    v,
                )
            })
            .collect();
        (
            timed_body(frames, between, false),
            "text/event-stream; charset=utf-8",
        )
    } else {
        let v = match values {
            [one] => one.clone(),
            many => Value::Array(many.to_vec()),
        };
        (Body::from(v.to_string()), "application/json")
    }
}
