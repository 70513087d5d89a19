//! The OpenAI-compatible API under `/openai` (base URL `/openai/v1`):
//! `POST /v1/chat/completions` and `GET /v1/models`, `Authorization: Bearer` keys, strict
//! validation, scripted answers as a completion or a chunk stream, and scripted failures in
//! OpenAI's error shape (`{"error":{"message","type","param","code"}}`).

mod pairing;
mod render;
mod validate;

use std::time::Duration;

use axum::body::{Body, Bytes};
use http::Method;
use serde_json::{Value, json};

use super::plan::{Ask, Plan};
use super::{Call, HttpError, authenticate, json_response, next_behavior, ok_response};
use crate::cloudcode::Outcome;
use crate::config::Provider;
use crate::respond::{estimate_tokens, timed_body};
use crate::script::Behavior;
use crate::state::{Inner, KeyProblem};
use crate::timefmt;

/// Models listed by `GET /v1/models` when no list was set.
const DEFAULT_MODELS: [&str; 3] = ["gpt-4o", "gpt-4o-mini", "o3-mini"];

/// `chat/completions`, `models`, or the path itself for anything else.
pub(crate) fn endpoint(rest: &str) -> String {
    match rest.trim_end_matches('/') {
        "/v1/chat/completions" => "chat/completions".into(),
        "/v1/models" => "models".into(),
        other => other.trim_start_matches('/').to_string(),
    }
}

/// `{"error":{"message","type","param","code"}}`.
pub(crate) fn error(
    status: u16,
    kind: &str,
    message: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> HttpError {
    HttpError::new(
        status,
        json!({"error": {"message": message, "type": kind, "param": param, "code": code}}),
    )
}

/// The body OpenAI uses for a status (the `error` object only).
fn status_body(status: u16, model: &str) -> Value {
    let (message, kind, code): (String, &str, Option<&str>) = match status {
        401 => (
            "Incorrect API key provided: sk-***. You can find your API key at \
             https://platform.openai.com/account/api-keys."
                .into(),
            "invalid_request_error",
            Some("invalid_api_key"),
        ),
        403 => (
            "Country, region, or territory not supported".into(),
            "request_forbidden",
            Some("unsupported_country_region_territory"),
        ),
        404 => (
            format!("The model `{model}` does not exist or you do not have access to it."),
            "invalid_request_error",
            Some("model_not_found"),
        ),
        429 => (
            format!(
                "Rate limit reached for {model} in organization org-fake on requests per min \
                 (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s. Visit \
                 https://platform.openai.com/account/rate-limits to learn more."
            ),
            "requests",
            Some("rate_limit_exceeded"),
        ),
        502 => ("Bad gateway.".into(), "server_error", None),
        503 => (
            "The engine is currently overloaded, please try again later".into(),
            "server_error",
            None,
        ),
        s if s >= 500 => (
            "The server had an error while processing your request. Sorry about that!".into(),
            "server_error",
            None,
        ),
        _ => ("Invalid request".into(), "invalid_request_error", None),
    };
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

fn status_error(status: u16, model: &str) -> HttpError {
    let e = HttpError::new(status, status_body(status, model));
    if status == 429 {
        e.with_header("retry-after", "1")
            .with_header("x-ratelimit-reset-requests", "1s")
    } else {
        e
    }
}

/// The error a scripted behaviour stands for: 429 `rate_limit_exceeded` with
/// `retry-after: 1`, 429 `insufficient_quota` (no retry hint, as OpenAI), 503 overloaded,
/// any status with OpenAI's body, 403, 401 `invalid_api_key`.
pub(crate) fn behavior_error(behavior: &Behavior, model: &str) -> Option<HttpError> {
    Some(match behavior {
        Behavior::RateLimited => status_error(429, model),
        Behavior::QuotaExhausted { .. } => error(
            429,
            "insufficient_quota",
            "You exceeded your current quota, please check your plan and billing details. For \
             more information on this error, read the docs: \
             https://platform.openai.com/docs/guides/error-codes/api-errors.",
            None,
            Some("insufficient_quota"),
        ),
        Behavior::Capacity => error(
            503,
            "server_error",
            "That model is currently overloaded with other requests. You can retry your \
             request, or contact us through our help center at help.openai.com if the error \
             persists.",
            None,
            None,
        ),
        Behavior::ServerError(code) => status_error(*code, model),
        Behavior::ValidationRequired | Behavior::Forbidden => status_error(403, model),
        Behavior::Unauthorized => status_error(401, model),
        Behavior::Error { status, body } => HttpError::new(*status, body.clone()),
        _ => return None,
    })
}

/// `sk-abc…wxyz` as OpenAI echoes a wrong key (short keys in full).
fn masked(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return key.to_string();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

fn fail(endpoint: String, e: HttpError, who: Option<String>) -> (String, Outcome) {
    (endpoint, e.outcome(who, Duration::ZERO))
}

/// Routing, authentication, JSON, validation, then the answer.
pub(crate) fn handle(inner: &mut Inner, call: &Call<'_>) -> (String, Outcome) {
    let endpoint = endpoint(call.rest);
    let route = (call.method.clone(), endpoint.as_str());
    let known = matches!(
        route,
        (Method::POST, "chat/completions") | (Method::GET, "models")
    );
    if !known {
        let msg = format!("Invalid URL ({} {})", call.method, call.rest);
        return fail(
            endpoint,
            error(404, "invalid_request_error", &msg, None, None),
            None,
        );
    }
    let key = call.bearer();
    let label = match authenticate(inner, Provider::OpenAi, key) {
        Ok(l) => l,
        Err((KeyProblem::Missing, _)) => {
            let e = error(
                401,
                "invalid_request_error",
                "You didn't provide an API key. You need to provide your API key in an \
                 Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), \
                 or as the password field (with blank username) if you're accessing the API from \
                 your browser and are prompted for a username and password. You can obtain an API \
                 key from https://platform.openai.com/account/api-keys.",
                None,
                None,
            );
            return fail(endpoint, e, None);
        }
        Err((_, label)) => {
            let msg = format!(
                "Incorrect API key provided: {}. You can find your API key at \
                 https://platform.openai.com/account/api-keys.",
                masked(key.unwrap_or(""))
            );
            let e = error(
                401,
                "invalid_request_error",
                &msg,
                None,
                Some("invalid_api_key"),
            );
            return fail(endpoint, e, label);
        }
    };
    let who = Some(label.clone());
    if endpoint == "models" {
        let list = models(inner);
        let outcome = Outcome {
            status: 200,
            account: who,
            first_byte: Duration::ZERO,
            response: json_response(200, &list, "application/json"),
        };
        return (endpoint, outcome);
    }
    let body: Value = match serde_json::from_slice(call.body) {
        Ok(v) => v,
        Err(_) => {
            let e = error(
                400,
                "invalid_request_error",
                "We could not parse the JSON body of your request. (HINT: This likely means \
                 you aren't using your HTTP library correctly. The OpenAI API expects a JSON \
                 payload, but what was sent was not valid JSON. If you have trouble figuring out \
                 how to fix this, please contact us through our help center at \
                 help.openai.com.)",
                None,
                None,
            );
            return fail(endpoint, e, who);
        }
    };
    let checked = match validate::check(&body) {
        Ok(c) => c,
        Err(v) => {
            let e = error(
                400,
                "invalid_request_error",
                &v.message,
                v.param.as_deref(),
                v.code,
            );
            return fail(endpoint, e, who);
        }
    };
    if !inner.provider_serves(Provider::OpenAi, &checked.model) {
        let e = HttpError::new(404, status_body(404, &checked.model));
        return fail(endpoint, e, who);
    }
    (endpoint, generate(inner, &label, &checked))
}

fn models(inner: &Inner) -> Value {
    let ids: Vec<String> = inner
        .provider_models
        .get(&Provider::OpenAi)
        .cloned()
        .unwrap_or_else(|| DEFAULT_MODELS.iter().map(|m| m.to_string()).collect());
    let data: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": 1_700_000_000, "owned_by": "system"}))
        .collect();
    json!({"object": "list", "data": data})
}

/// The next behaviour of the key, rendered as a completion or a chunk stream.
fn generate(inner: &mut Inner, label: &str, checked: &validate::Checked) -> Outcome {
    let who = Some(label.to_string());
    let behavior = next_behavior(inner, label, &checked.model);
    let timing = behavior.timing();
    let (first_byte, between) = (timing.first_byte, timing.between_chunks);
    let (cut_after, stream_error) = (timing.cut_after, timing.stream_error);
    let b = timing.behavior.clone();
    let failure = match stream_error {
        Some((_, status)) if !checked.stream => Some(status_error(status, &checked.model)),
        _ => behavior_error(&b, &checked.model),
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
                thinking: false,
                words: cut_after.is_some() || stream_error.is_some(),
            },
        );
        let answer = render::Answer {
            id: format!("chatcmpl-fake{n:016}"),
            created: timefmt::unix_now(),
            model: &checked.model,
            plan: &plan,
            tool_ids: (0..plan.calls.len())
                .map(|i| format!("call_fake{n:08}{i:02}"))
                .collect(),
            prompt_tokens: estimate_tokens(&checked.prompt_text),
        };
        if !checked.stream {
            let body = if cut_after.is_some() {
                timed_body(Vec::new(), between, true)
            } else {
                Body::from(answer.completion().to_string())
            };
            (body, "application/json")
        } else {
            let mut frames: Vec<Bytes> = answer
                .chunks(checked.include_usage)
                .iter()
                .map(render::frame)
                .collect();
            frames.push(render::done());
            if let Some(k) = cut_after {
                super::truncate_frames(&mut frames, k);
            }
            if let Some((k, status)) = stream_error {
                super::truncate_frames(&mut frames, k);
                frames.push(render::frame(&status_body(status, &checked.model)));
            }
            (
                timed_body(frames, between, cut_after.is_some()),
                "text/event-stream; charset=utf-8",
            )
        }
    };
    Outcome {
        status: 200,
        account: who,
        first_byte,
        response: ok_response(body, content_type),
    }
}

/// `Raw` values verbatim: one `data:` event each then `[DONE]`, or the single value (an
/// array for several) as the non-stream body.
fn raw_body(values: &[Value], stream: bool, between: Duration) -> (Body, &'static str) {
    if stream {
        let mut frames: Vec<Bytes> = values.iter().map(render::frame).collect();
        frames.push(render::done());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_masked_like_openai() {
        assert_eq!(masked("kk"), "kk");
        assert_eq!(masked("sk-abcdefgh1234"), "sk-********1234");
    }
}
