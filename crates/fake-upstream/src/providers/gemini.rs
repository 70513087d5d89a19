//! Google's public Gemini API under `/gemini`: `POST /v1beta/models/{model}:generateContent`,
//! `:streamGenerateContent` (`?alt=sse` or a JSON array) and `:countTokens`, keys from
//! `x-goog-api-key` or `?key=`. Requests get the same strict validation as Cloud Code's
//! inner request and the same answers without the `{"response": ...}` envelope; failures
//! use the Gemini API's bodies (400 `API_KEY_INVALID`, 429 `RESOURCE_EXHAUSTED` with
//! `QuotaFailure` and `RetryInfo`).

use std::time::Duration;

use axum::body::{Body, Bytes};
use http::Method;
use serde_json::{Value, json};

use super::{Call, HttpError, authenticate, json_response, next_behavior, ok_response};
use crate::cloudcode::Outcome;
use crate::config::{ModelSpec, Provider};
use crate::errors::{self, GoogleError};
use crate::respond::{self, Ctx, contents_text, estimate_tokens, timed_body};
use crate::script::Behavior;
use crate::state::{Inner, KeyProblem};
use crate::timefmt;
use crate::validate::descriptors::{GEMINI_API_COUNT, GEMINI_API_REQUEST};
use crate::validate::{self, field, items, proto, rules};

const SERVICE: &str = "generativelanguage.googleapis.com";
const RATE_LIMITS_URL: &str = "https://ai.google.dev/gemini-api/docs/rate-limits";

/// `/v1beta/models/gemini-2.5-flash:generateContent` → (`gemini-2.5-flash`,
/// `generateContent`); `v1` is accepted too.
pub(crate) fn split_path(rest: &str) -> Option<(String, String)> {
    let tail = rest
        .strip_prefix("/v1beta/models/")
        .or_else(|| rest.strip_prefix("/v1/models/"))?;
    let (model, method) = tail.split_once(':')?;
    Some((model.to_string(), method.to_string()))
}

/// 400 INVALID_ARGUMENT / API_KEY_INVALID, as Google answers an unknown key.
fn api_key_invalid() -> GoogleError {
    let msg = "API key not valid. Please pass a valid API key.";
    GoogleError::new(400, msg).with_details(vec![
        json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
            "domain": "googleapis.com", "metadata": {"service": SERVICE}}),
        json!({"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
            "message": msg}),
    ])
}

/// 403 for a call without any key.
fn unregistered_caller() -> GoogleError {
    GoogleError::new(
        403,
        "Method doesn't allow unregistered callers (callers without established identity). \
         Please use API Key or other form of API consumer identity to call this API.",
    )
}

/// 429 RESOURCE_EXHAUSTED with one quota violation and a retry delay.
fn quota(model: &str, quota_id: &str, retry: Duration) -> GoogleError {
    GoogleError::new(
        429,
        format!(
            "You exceeded your current quota, please check your plan and billing details. For \
             more information on this error, head to: {RATE_LIMITS_URL}."
        ),
    )
    .with_details(vec![
        json!({"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            "quotaId": quota_id,
            "quotaDimensions": {"location": "global", "model": model}}]}),
        json!({"@type": "type.googleapis.com/google.rpc.Help", "links": [{
            "description": "Learn more about Gemini API quotas", "url": RATE_LIMITS_URL}]}),
        json!({"@type": "type.googleapis.com/google.rpc.RetryInfo",
            "retryDelay": timefmt::proto_duration(retry)}),
    ])
}

/// The error a scripted behaviour stands for: 429 per-day (`QuotaExhausted`, retry after
/// the reset delay) or per-minute (`RateLimited`, 1 s) quota, 503 overloaded, any status,
/// 403, 400 `API_KEY_INVALID`.
pub(crate) fn behavior_error(behavior: &Behavior, model: &str) -> Option<HttpError> {
    let e = match behavior {
        Behavior::QuotaExhausted { reset_delay } => quota(
            model,
            "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
            timefmt::parse_go_duration(reset_delay).unwrap_or_default(),
        ),
        Behavior::RateLimited => quota(
            model,
            "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
            Duration::from_secs(1),
        ),
        Behavior::Capacity => {
            GoogleError::new(503, "The model is overloaded. Please try again later.")
        }
        Behavior::ServerError(code) => errors::server_error(*code),
        Behavior::ValidationRequired | Behavior::Forbidden => errors::forbidden(),
        Behavior::Unauthorized => api_key_invalid(),
        Behavior::Error { status, body } => GoogleError {
            status: *status,
            body: body.clone(),
        },
        _ => return None,
    };
    Some(e.into())
}

fn fail(endpoint: String, e: GoogleError, who: Option<String>) -> (String, Outcome) {
    (endpoint, HttpError::from(e).outcome(who, Duration::ZERO))
}

fn not_found(model: &str, method: &str) -> GoogleError {
    GoogleError::new(
        404,
        format!(
            "models/{model} is not found for API version v1beta, or is not supported for \
             {method}. Call ListModels to see the list of available models and their supported \
             methods."
        ),
    )
}

/// Routing, key, JSON, model, then countTokens or a generate call.
pub(crate) fn handle(inner: &mut Inner, call: &Call<'_>) -> (String, Outcome) {
    let Some((model_id, method)) = split_path(call.rest) else {
        return fail(String::new(), errors::method_not_found(), None);
    };
    let known = matches!(
        method.as_str(),
        "generateContent" | "streamGenerateContent" | "countTokens"
    );
    if !known || *call.method != Method::POST {
        return fail(method, errors::method_not_found(), None);
    }
    let key = call
        .header("x-goog-api-key")
        .or_else(|| call.query_param("key"));
    let label = match authenticate(inner, Provider::Gemini, key) {
        Ok(l) => l,
        Err((KeyProblem::Missing, _)) => return fail(method, unregistered_caller(), None),
        Err((_, label)) => return fail(method, api_key_invalid(), label),
    };
    let who = Some(label.clone());
    let body: Value = if call.body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(call.body) {
            Ok(v) => v,
            Err(e) => {
                let msg = format!(
                    "Invalid JSON payload received. Unexpected token.\n(line {}, column {})",
                    e.line(),
                    e.column()
                );
                return fail(method, GoogleError::invalid_argument(msg), who);
            }
        }
    };
    if !inner.provider_serves(Provider::Gemini, &model_id) {
        return fail(method.clone(), not_found(&model_id, &method), who);
    }
    let spec = inner
        .model(&model_id)
        .cloned()
        .unwrap_or_else(|| ModelSpec::new(&model_id));
    if method == "countTokens" {
        return match count_tokens(&body, &spec, call.seq) {
            Ok(v) => {
                let response = json_response(200, &v, "application/json; charset=UTF-8");
                let outcome = Outcome {
                    status: 200,
                    account: who,
                    first_byte: Duration::ZERO,
                    response,
                };
                (method, outcome)
            }
            Err(e) => fail(method, e, who),
        };
    }
    if let Err(e) = proto::check_root(&body, &GEMINI_API_REQUEST)
        .and_then(|()| validate::generate_request(&body, &spec, &inner.signatures, call.seq))
    {
        return fail(method, e, who);
    }
    let stream = method == "streamGenerateContent";
    let sse = call.query_param("alt") == Some("sse");
    let outcome = generate(inner, &label, &spec, &body, stream, sse);
    (method, outcome)
}

/// `{"contents": [...]}` or `{"generateContentRequest": {...}}` → `{"totalTokens": N}`.
fn count_tokens(body: &Value, spec: &ModelSpec, seq: u64) -> Result<Value, GoogleError> {
    proto::check_root(body, &GEMINI_API_COUNT)?;
    let req = field(body, "generateContentRequest").unwrap_or(body);
    let mut synthetic = serde_json::Map::new();
    for k in ["contents", "systemInstruction", "tools"] {
        if let Some(v) = field(req, k) {
            synthetic.insert(k.to_string(), v.clone());
        }
    }
    let synthetic = Value::Object(synthetic);
    rules::check(&synthetic, spec, seq)?;
    let mut contents = items(field(&synthetic, "contents"));
    if let Some(si) = field(&synthetic, "systemInstruction") {
        contents.push(si);
    }
    Ok(json!({"totalTokens": estimate_tokens(&contents_text(&contents))}))
}

/// A Cloud Code chunk without its envelope.
fn unwrap(v: &Value) -> Value {
    v.get("response").cloned().unwrap_or_else(|| v.clone())
}

/// The next behaviour of the key rendered like Cloud Code's, unwrapped.
fn generate(
    inner: &mut Inner,
    label: &str,
    spec: &ModelSpec,
    request: &Value,
    stream: bool,
    sse: bool,
) -> Outcome {
    let who = Some(label.to_string());
    let behavior = next_behavior(inner, label, &spec.id);
    let timing = behavior.timing();
    let (first_byte, between) = (timing.first_byte, timing.between_chunks);
    let (cut_after, stream_error) = (timing.cut_after, timing.stream_error);
    let b = timing.behavior.clone();
    let failure = match stream_error {
        Some((_, status)) if !stream => Some(errors::server_error(status).into()),
        _ => behavior_error(&b, &spec.id),
    };
    if let Some(e) = failure {
        return e.outcome(who, first_byte);
    }
    let n = inner.next_counter();
    let reply = respond::content_reply(
        &b,
        cut_after.is_some() || stream_error.is_some(),
        &mut Ctx {
            model: spec,
            request,
            registry: &mut inner.signatures,
            n,
        },
    );
    let mut payloads: Vec<Value> = if reply.raw {
        reply.payloads.clone()
    } else {
        reply.payloads.iter().map(unwrap).collect()
    };
    let json_type = "application/json; charset=UTF-8";
    let (body, content_type) = if !stream {
        if cut_after.is_some() {
            (timed_body(Vec::new(), between, true), json_type)
        } else {
            let merged = respond::non_stream_body(&reply);
            let v = if reply.raw { merged } else { unwrap(&merged) };
            (Body::from(v.to_string()), json_type)
        }
    } else {
        if let Some(k) = cut_after {
            super::truncate_frames(&mut payloads, k);
        }
        if let Some((k, status)) = stream_error {
            super::truncate_frames(&mut payloads, k);
            payloads.push(errors::server_error(status).body);
        }
        if sse {
            let frames: Vec<Bytes> = payloads.iter().map(respond::sse_frame).collect();
            (
                timed_body(frames, between, cut_after.is_some()),
                "text/event-stream",
            )
        } else {
            let frames = if cut_after.is_some() {
                Vec::new()
            } else {
                vec![Bytes::from(Value::Array(payloads).to_string())]
            };
            (timed_body(frames, between, cut_after.is_some()), json_type)
        }
    };
    Outcome {
        status: 200,
        account: who,
        first_byte,
        response: ok_response(body, content_type),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_model_and_method() {
        assert_eq!(
            split_path("/v1beta/models/gemini-2.5-flash:streamGenerateContent"),
            Some(("gemini-2.5-flash".into(), "streamGenerateContent".into()))
        );
        assert_eq!(split_path("/v1beta/models"), None);
    }
}
