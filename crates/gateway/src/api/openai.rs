//! OpenAI Chat Completions and legacy Completions: decode, dispatch, encode.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use uplink_protocol::error::Dialect;
use uplink_protocol::ir::{Request, Response as IrResponse};
use uplink_protocol::translate::{
    ChatChunkEncoder, CompletionChunkEncoder, TranslateError, decode_openai_chat,
    decode_openai_completions, encode_chat_completion, encode_text_completion,
};

use super::ApiError;
use super::body::RawBody;
use super::respond::{Ctx, Json, answer_headers, new_id, stream_error, stream_response, unix_now};
use super::stream::{DataLines, PayloadEncoder};
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
    let request = decode_openai_chat(&body).map_err(bad_request)?;
    serve(
        &state,
        &ctx,
        &body,
        request,
        "chatcmpl-",
        ChatChunkEncoder::new,
        |r: &IrResponse, id: &str, model: &str, created: u64| {
            encode_chat_completion(r, id, model, created)
        },
    )
    .await
}

/// `POST /v1/completions`.
pub async fn completions(
    State(state): State<AppState>,
    ctx: Ctx,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let request = decode_openai_completions(&body).map_err(bad_request)?;
    serve(
        &state,
        &ctx,
        &body,
        request,
        "cmpl-",
        CompletionChunkEncoder::new,
        |r: &IrResponse, id: &str, model: &str, created: u64| {
            encode_text_completion(r, id, model, created)
        },
    )
    .await
}

/// What both endpoints do once the request is decoded: dispatch, then stream
/// chunks ending in `[DONE]` or answer with one object. `chunks` and `whole`
/// take the id, the client's model name and the creation time.
async fn serve<E, T>(
    state: &AppState,
    ctx: &Ctx,
    body: &[u8],
    mut request: Request,
    id_prefix: &str,
    chunks: impl FnOnce(&str, &str, u64, bool) -> E,
    whole: impl FnOnce(&IrResponse, &str, &str, u64) -> T,
) -> Result<Response, ApiError>
where
    E: PayloadEncoder,
    T: serde::Serialize,
{
    request.meta.body_len = body.len();
    ctx.note_request(state, &request.model, request.stream, body);
    session_from_headers(&mut request, ctx);
    let answer = proxy::dispatch(
        state,
        &mut request,
        D,
        &ctx.request_id,
        &ctx.note,
        proxy::Commit::FirstContent,
    )
    .await?;
    let headers = answer_headers(&answer);
    let (id, created) = (new_id(id_prefix), unix_now());
    if request.stream {
        let encoder = chunks(&id, &request.model, created, request.meta.include_usage);
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
    Ok((
        headers,
        Json(whole(&response, &id, &request.model, created)),
    )
        .into_response())
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
