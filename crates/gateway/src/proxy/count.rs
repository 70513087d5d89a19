//! Token counting: an Anthropic-compatible provider that serves the model counts
//! with its own `count_tokens`; else Cloud Code's `countTokens` through a usable
//! account; else a local estimate — never a made-up zero.

use bytes::Bytes;
use secrecy::ExposeSecret;
use uplink_protocol::error::Dialect;
use uplink_protocol::ir::Request;
use uplink_protocol::translate::{
    encode_anthropic_request, encode_cloudcode_count_tokens, estimate_tokens,
};

use crate::config::providers::ProviderKind;

use crate::state::AppState;
use crate::upstream::cloudcode::read_json;
use crate::upstream::http::{MAX_ANSWER_BYTES, read_body};
use crate::upstream::provider;

/// The number of prompt tokens `request` would cost on `upstream_model`, for a
/// client of `dialect`.
pub async fn count_tokens(
    state: &AppState,
    request: &Request,
    upstream_model: &str,
    dialect: Dialect,
) -> u64 {
    if let Some(n) = provider_count(state, request, upstream_model, dialect).await {
        return n;
    }
    match upstream_count(state, request, upstream_model).await {
        Some(n) => n,
        None => estimate_tokens(request),
    }
}

/// `POST {base}/v1/messages/count_tokens` with a usable key of the first
/// Anthropic-compatible provider that serves the model.
async fn provider_count(
    state: &AppState,
    request: &Request,
    upstream_model: &str,
    dialect: Dialect,
) -> Option<u64> {
    let (config, key, model) = state.providers().list.iter().find_map(|(config, keys)| {
        if config.kind != ProviderKind::Anthropic {
            return None;
        }
        let model = if config.serves(dialect, &request.model) {
            config.model_for(&request.model)
        } else if config.serves(dialect, upstream_model) {
            config.model_for(upstream_model)
        } else {
            return None;
        };
        let key = keys.iter().find(|k| k.is_usable())?;
        Some((config, key, model))
    })?;
    let mut body = serde_json::to_value(encode_anthropic_request(request, &model).ok()?).ok()?;
    if let Some(obj) = body.as_object_mut() {
        // The count endpoint refuses what only generation takes.
        for field in [
            "max_tokens",
            "stream",
            "temperature",
            "top_p",
            "top_k",
            "stop_sequences",
            "metadata",
        ] {
            obj.remove(field);
        }
    }
    let secret = key.key.as_ref()?.key.expose_secret();
    let url = format!("{}/v1/messages/count_tokens", config.base_url);
    let capacity = crate::upstream::body_capacity(request.meta.body_len);
    let request = provider::anthropic_post(&state.upstreams().http, url, secret);
    let response = provider::json(request, &body, capacity)
        .ok()?
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        tracing::debug!(provider = %config.id, status = response.status().as_u16(), "provider count_tokens failed; counting elsewhere");
        return None;
    }
    let body = read_body(response, MAX_ANSWER_BYTES).await.ok()?;
    let value: serde_json::Value = serde_json::from_slice(&body).ok()?;
    value
        .get("input_tokens")
        .and_then(serde_json::Value::as_u64)
        .filter(|n| *n > 0)
}

async fn upstream_count(state: &AppState, request: &Request, upstream_model: &str) -> Option<u64> {
    let body = encode_cloudcode_count_tokens(request, upstream_model).ok()?;
    let body = Bytes::from(serde_json::to_vec(&body).ok()?);
    let account = state
        .pool()
        .candidates(upstream_model, None, &state.config().scheduling)
        .ok()?
        .into_iter()
        .next()?;
    let upstreams = state.upstreams();
    let token = account.access_token(&upstreams.oauth).await.ok()?;
    let response = upstreams
        .cloudcode
        .post("countTokens", "", &token, body)
        .await
        .ok()?;
    match read_json(response).await {
        Ok(value) => value
            .get("totalTokens")
            .and_then(serde_json::Value::as_u64)
            .filter(|n| *n > 0),
        Err(e) => {
            tracing::debug!(
                "upstream countTokens failed, estimating locally: {}",
                e.message
            );
            None
        }
    }
}
