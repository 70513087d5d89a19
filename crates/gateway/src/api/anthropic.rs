//! Anthropic Messages (`/v1/messages`, `/v1/messages/count_tokens`) and Claude
//! Code's specifics: warm-up requests answered locally, background housekeeping
//! optionally routed to a cheaper model, telemetry accepted and dropped.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue};
use serde_json::json;
use uplink_protocol::error::Dialect;
use uplink_protocol::ir::{
    ContentBlock, FinishReason, Request, ResponseBuilder, Role, StreamEvent, ThinkingMode,
    ToolResultContent, Usage,
};
use uplink_protocol::translate::{
    AnthropicStreamEncoder, decode_anthropic, decode_anthropic_count_tokens,
    encode_anthropic_count_tokens, encode_anthropic_message,
};

use super::ApiError;
use super::body::RawBody;
use super::respond::{Ctx, Json, answer_headers, new_id, stream_error, stream_response};
use super::stream::EventLines;
use crate::proxy::relay::ClientEncoder;
use crate::proxy::{self, Commit, relay};
use crate::state::AppState;

const D: Dialect = Dialect::Anthropic;

/// `POST /v1/messages` (`?beta=true` is tolerated).
pub async fn messages(
    State(state): State<AppState>,
    ctx: Ctx,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let decoded =
        decode_anthropic(&body).map_err(|e| ApiError::from_body(D, e.to_error_body(D)))?;
    if !decoded.dropped_tools.is_empty() || !decoded.dropped_blocks.is_empty() {
        tracing::debug!(
            request_id = %ctx.request_id,
            dropped_tools = ?decoded.dropped_tools,
            dropped_blocks = ?decoded.dropped_blocks,
            "dropped what the upstream cannot run"
        );
    }
    let mut request = decoded.request;
    request.meta.body_len = body.len();
    ctx.note_request(&state, &request.model, request.stream, &body);
    if request.meta.session_id.is_none() {
        request.meta.session_id = ctx.header("x-claude-code-session-id").map(str::to_owned);
    }
    if is_warmup(&request) {
        return Ok(warmup(&request));
    }
    let client_model = request.model.clone();
    if let Some(background) = state.config().background_model.as_deref()
        && is_background(&request)
    {
        tracing::debug!(request_id = %ctx.request_id, from = %request.model, to = background, "background request");
        request.model = background.to_owned();
    }
    let answer = proxy::dispatch(
        &state,
        &mut request,
        D,
        &ctx.request_id,
        &ctx.note,
        Commit::FirstAnswer,
    )
    .await?;
    let headers = answer_headers(&answer);
    let id = new_id("msg_");
    if request.stream {
        let encoder = AnthropicStreamEncoder::new(&id, &client_model);
        let body = relay::sse_body(answer, EventLines(encoder));
        return Ok(stream_response(headers, "text/event-stream", body));
    }
    let response = relay::collect(answer)
        .await
        .map_err(|e| stream_error(D, e))?;
    if !response.has_answer() {
        return Err(ApiError::new(
            D,
            uplink_protocol::error::ErrorKind::Upstream,
            "the upstream ended the answer without any text or tool call",
        ));
    }
    Ok((
        headers,
        Json(encode_anthropic_message(&response, &id, &client_model)),
    )
        .into_response())
}

/// `POST /v1/messages/count_tokens`: the upstream's count, else a local estimate.
pub async fn count_tokens(
    State(state): State<AppState>,
    RawBody(body): RawBody,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut request = decode_anthropic_count_tokens(&body)
        .map_err(|e| ApiError::from_body(D, e.to_error_body(D)))?
        .request;
    request.meta.body_len = body.len();
    let upstream = state.resolve_model(&request.model).model;
    let total = proxy::count_tokens(&state, &request, &upstream, D).await;
    Ok(Json(json!(encode_anthropic_count_tokens(total))))
}

/// `POST /v1/api/event_logging[/batch]`: Claude Code's telemetry, accepted and dropped.
pub async fn event_logging() -> Json<serde_json::Value> {
    Json(json!({}))
}

/// Claude Code's warm-up: the last user turn is just "Warmup" (as text or as a
/// tool result). Answering it upstream would spend quota for nothing.
pub fn is_warmup(request: &Request) -> bool {
    let Some(last) = request.messages.last().filter(|m| m.role == Role::User) else {
        return false;
    };
    let mut text = String::new();
    for block in &last.content {
        match block {
            ContentBlock::Text { text: t } => text.push_str(t),
            ContentBlock::ToolResult { content, .. } => {
                for c in content {
                    if let ToolResultContent::Text(t) = c {
                        text.push_str(t);
                    }
                }
            }
            _ => return false,
        }
    }
    text.trim().eq_ignore_ascii_case("warmup")
}

/// Background housekeeping (titles, summaries, suggestions): Claude Code sends
/// it to its small, fast model — a haiku — with no tools and no thinking. That is
/// the rule: a `haiku` model name, no tools, thinking not enabled.
pub fn is_background(request: &Request) -> bool {
    request.model.to_ascii_lowercase().contains("haiku")
        && request.tools.is_empty()
        && !request
            .thinking
            .as_ref()
            .is_some_and(|t| t.mode != ThinkingMode::Disabled)
}

/// A minimal valid answer to a warm-up, streamed or not.
fn warmup(request: &Request) -> Response {
    let id = new_id("msg_");
    let events = [
        StreamEvent::Start {
            id: None,
            model: None,
        },
        StreamEvent::TextDelta("OK".into()),
        StreamEvent::Usage(Usage {
            input_tokens: 1,
            output_tokens: 1,
            ..Usage::default()
        }),
        StreamEvent::Finish(FinishReason::Stop),
    ];
    let mut headers = HeaderMap::new();
    headers.insert("x-warmup-intercepted", HeaderValue::from_static("true"));
    if request.stream {
        let mut lines = EventLines(AnthropicStreamEncoder::new(&id, &request.model));
        let mut out = bytes::BytesMut::new();
        for event in &events {
            lines.event(event, &mut out);
        }
        lines.flush(&mut out);
        lines.finish(&mut out);
        return stream_response(
            headers,
            "text/event-stream",
            axum::body::Body::from(out.freeze()),
        );
    }
    let mut builder = ResponseBuilder::new();
    for event in events {
        builder.push(event);
    }
    match builder.finish() {
        Ok(response) => (
            headers,
            Json(encode_anthropic_message(&response, &id, &request.model)),
        )
            .into_response(),
        Err(e) => ApiError::new(D, e.kind, e.message).into_response(),
    }
}
