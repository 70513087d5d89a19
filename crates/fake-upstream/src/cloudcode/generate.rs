//! `generateContent` / `streamGenerateContent`: envelope checks (project, model), request
//! validation, then the next scripted behaviour rendered as JSON or SSE.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use serde_json::Value;

use super::{Outcome, error_of};
use crate::errors::{self, GoogleError};
use crate::respond::{self, Ctx};
use crate::script::Behavior;
use crate::state::Inner;
use crate::timefmt;
use crate::validate::{self, descriptors::ENVELOPE, field, proto};

/// Handles one generate call for `email` (already authenticated with `token`).
pub(crate) fn generate(
    inner: &mut Inner,
    email: &str,
    token: &str,
    body: &Value,
    stream: bool,
    sse: bool,
    seq: u64,
) -> Outcome {
    let who = Some(email.to_string());
    let (model, request) = match checked_envelope(inner, email, body, seq) {
        Ok(x) => x,
        Err(e) => return Outcome::error(e, who),
    };
    let behavior = next_behavior(inner, email, &model.id);
    let timing = behavior.timing();
    let first_byte = timing.first_byte;
    let between = timing.between_chunks;
    let cut_after = timing.cut_after;
    let stream_error = timing.stream_error;
    let inner_behavior = timing.behavior.clone();
    let error = match stream_error {
        Some((_, status)) if !stream => Some(errors::server_error(status)),
        _ => error_of(&inner_behavior, &model.id, inner, Some(token)),
    };
    if let Some(e) = error {
        let mut o = Outcome::error(e, who);
        o.first_byte = first_byte;
        return o;
    }
    let n = inner.next_counter();
    let reply = respond::content_reply(
        &inner_behavior,
        cut_after.is_some() || stream_error.is_some(),
        &mut Ctx {
            model: &model,
            request: &request,
            registry: &mut inner.signatures,
            n,
        },
    );
    let (content_type, body) = if !stream {
        if cut_after.is_some() {
            (
                "application/json; charset=UTF-8",
                respond::timed_body(Vec::new(), between, true),
            )
        } else {
            let v = respond::non_stream_body(&reply);
            ("application/json; charset=UTF-8", Body::from(v.to_string()))
        }
    } else if sse {
        let mut frames: Vec<_> = reply.payloads.iter().map(respond::sse_frame).collect();
        if let Some(n) = cut_after {
            frames.truncate(n.min(frames.len().saturating_sub(1)));
        }
        if let Some((n, status)) = stream_error {
            frames.truncate(n.min(frames.len().saturating_sub(1)));
            frames.push(respond::sse_frame(&errors::server_error(status).body));
        }
        (
            "text/event-stream",
            respond::timed_body(frames, between, cut_after.is_some()),
        )
    } else {
        let mut payloads = reply.payloads.clone();
        if let Some((n, status)) = stream_error {
            payloads.truncate(n.min(payloads.len().saturating_sub(1)));
            payloads.push(errors::server_error(status).body);
        }
        let array = Value::Array(payloads);
        let frames = if cut_after.is_some() {
            Vec::new()
        } else {
            vec![axum::body::Bytes::from(array.to_string())]
        };
        (
            "application/json; charset=UTF-8",
            respond::timed_body(frames, between, cut_after.is_some()),
        )
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Outcome {
        status: 200,
        account: who,
        first_byte,
        response,
    }
}

/// Envelope rules, in the order Cloud Code applies them: proto shape (unknown fields
/// anywhere → 400), `project` must be the account's (403 PERMISSION_DENIED), `model` must be
/// served (404 NOT_FOUND), then the inner request's rules (400).
fn checked_envelope(
    inner: &Inner,
    email: &str,
    body: &Value,
    seq: u64,
) -> Result<(crate::config::ModelSpec, Value), GoogleError> {
    proto::check_root(body, &ENVELOPE)?;
    let account = inner
        .account(email)
        .ok_or_else(errors::invalid_credentials)?;
    let Some(project) = field(body, "project").and_then(Value::as_str) else {
        return Err(GoogleError::invalid_argument(
            "Request contains an invalid argument.",
        ));
    };
    if account.project.as_deref() != Some(project) {
        return Err(errors::project_denied(project));
    }
    let model_id = field(body, "model").and_then(Value::as_str).unwrap_or("");
    let model = inner
        .model(model_id)
        .cloned()
        .ok_or_else(|| errors::model_not_found(model_id))?;
    let request = field(body, "request")
        .cloned()
        .unwrap_or_else(|| Value::Object(serde_json::Map::new()));
    validate::generate_request(&request, &model, &inner.signatures, seq)?;
    Ok((model, request))
}

/// The scripted behaviour, else 429 when the account's quota for the model is at zero, else
/// `Ok`.
fn next_behavior(inner: &mut Inner, email: &str, model: &str) -> Behavior {
    if let Some(b) = inner.next_behavior(email, model) {
        return b;
    }
    let q = inner.quota(email, model);
    if q.remaining_fraction <= 0.0 {
        let reset = q
            .reset_time
            .as_deref()
            .and_then(timefmt::parse_rfc3339)
            .unwrap_or(inner.started_unix + 5 * 3600);
        let secs = reset.saturating_sub(timefmt::unix_now());
        return Behavior::QuotaExhausted {
            reset_delay: timefmt::go_duration(secs),
        };
    }
    Behavior::Ok
}
