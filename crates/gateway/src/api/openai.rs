//! OpenAI Chat Completions and legacy Completions: decode, dispatch, encode.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use uplink_protocol::error::Dialect;
use uplink_protocol::ir::Request;
use uplink_protocol::translate::{
    ChatChunkEncoder, CompletionChunkEncoder, TranslateError, decode_openai_chat,
    decode_openai_completions, encode_chat_completion, encode_text_completion,
};

use super::ApiError;
use super::body::RawBody;
use super::respond::{Ctx, answer_headers, new_id, stream_error, stream_response, unix_now};
use super::stream::DataLines;
use crate::proxy::{self, relay};
use crate::state::AppState;

const D: Dialect = Dialect::OpenAi;

fn bad_request(e: TranslateError) -> ApiError {
    ApiError::from_body(D, e.to_error_body(D))
}

/// `POST /v1/chat/completions`.
pub async fn chat_completions(
    State(state): State<AppState>,
    ctx: Ctx,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let mut request = decode_openai_chat(&body).map_err(bad_request)?;
    ctx.note_request(&state, &request.model, request.stream, &body);
    session_from_headers(&mut request, &ctx);
    let answer = proxy::dispatch(
        &state,
        &mut request,
        D,
        &ctx.request_id,
        &ctx.note,
        proxy::Commit::FirstContent,
    )
    .await?;
    let headers = answer_headers(&answer);
    let (id, created) = (new_id("chatcmpl-"), unix_now());
    if request.stream {
        let encoder =
            ChatChunkEncoder::new(&id, &request.model, created, request.meta.include_usage);
        let body = relay::sse_body(
            answer,
            DataLines {
                encoder,
                terminator: Some("[DONE]"),
            },
        );
        return Ok(stream_response(headers, "text/event-stream", body));
    }
    let response = relay::collect(answer)
        .await
        .map_err(|e| stream_error(D, e))?;
    let body = encode_chat_completion(&response, &id, &request.model, created);
    Ok((headers, Json(body)).into_response())
}

/// `POST /v1/completions`.
pub async fn completions(
    State(state): State<AppState>,
    ctx: Ctx,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let mut request = decode_openai_completions(&body).map_err(bad_request)?;
    ctx.note_request(&state, &request.model, request.stream, &body);
    session_from_headers(&mut request, &ctx);
    let answer = proxy::dispatch(
        &state,
        &mut request,
        D,
        &ctx.request_id,
        &ctx.note,
        proxy::Commit::FirstContent,
    )
    .await?;
    let headers = answer_headers(&answer);
    let (id, created) = (new_id("cmpl-"), unix_now());
    if request.stream {
        let encoder =
            CompletionChunkEncoder::new(&id, &request.model, created, request.meta.include_usage);
        let body = relay::sse_body(
            answer,
            DataLines {
                encoder,
                terminator: Some("[DONE]"),
            },
        );
        return Ok(stream_response(headers, "text/event-stream", body));
    }
    let response = relay::collect(answer)
        .await
        .map_err(|e| stream_error(D, e))?;
    let body = encode_text_completion(&response, &id, &request.model, created);
    Ok((headers, Json(body)).into_response())
}

/// Codex and some SDK wrappers name the session in a header.
fn session_from_headers(request: &mut Request, ctx: &Ctx) {
    if request.meta.session_id.is_none() {
        request.meta.session_id = ctx
            .header("session-id")
            .or_else(|| ctx.header("x-session-id"))
            .map(str::to_owned);
    }
}
