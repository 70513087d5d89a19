//! Token counting: the upstream's own `countTokens` through a usable account,
//! else a local estimate — never a made-up zero.

use bytes::Bytes;
use uplink_protocol::ir::Request;
use uplink_protocol::translate::{encode_cloudcode_count_tokens, estimate_tokens};

use crate::state::AppState;
use crate::upstream::cloudcode::read_json;

/// The number of prompt tokens `request` would cost on `upstream_model`.
pub async fn count_tokens(state: &AppState, request: &Request, upstream_model: &str) -> u64 {
    match upstream_count(state, request, upstream_model).await {
        Some(n) => n,
        None => estimate_tokens(request),
    }
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
