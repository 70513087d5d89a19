//! OpenAI Responses (`/v1/responses`, `/responses`): what Codex CLI speaks.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use uplink_protocol::error::{Dialect, ErrorKind};
use uplink_protocol::translate::{
    ResponsesStreamEncoder, decode_openai_responses, encode_responses_response,
};

use super::ApiError;
use super::body::RawBody;
use super::respond::{Ctx, Json, answer_headers, new_id, stream_error, stream_response, unix_now};
use super::stream::EventLines;
use crate::proxy::{self, Commit, relay};
use crate::state::AppState;

const D: Dialect = Dialect::OpenAi;

/// `POST /v1/responses` and `POST /responses`.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let (mut request, context) =
        decode_openai_responses(&body).map_err(|e| ApiError::from_body(D, e.to_error_body(D)))?;
    request.meta.body_len = body.len();
    ctx.note_request(&state, &request.model, request.stream, &body);
    if context.needs_stored_state() {
        return Err(ApiError::new(
            D,
            ErrorKind::InvalidRequest,
            "previous_response_id, conversation and item_reference need responses stored by the server, and this gateway does not store them: send the whole conversation in `input` (as Codex does with store: false).",
        )
        .with_code("unsupported_parameter"));
    }
    if !context.dropped_tools.is_empty() {
        tracing::debug!(request_id = %ctx.request_id, dropped = ?context.dropped_tools, "dropped tools the upstream cannot run");
    }
    if request.meta.session_id.is_none() {
        request.meta.session_id = ctx
            .header("session-id")
            .or_else(|| ctx.header("session_id"))
            .map(str::to_owned);
    }
    let answer = proxy::dispatch(
        &state,
        &mut request,
        D,
        &ctx.request_id,
        &ctx.note,
        Commit::FirstContent,
    )
    .await?;
    let headers = answer_headers(&answer);
    let (id, created) = (new_id("resp_"), unix_now());
    if request.stream {
        let encoder = ResponsesStreamEncoder::new(&context, &id, &request.model, created);
        let body = relay::sse_body(answer, EventLines(encoder));
        return Ok(stream_response(headers, "text/event-stream", body));
    }
    let response = relay::collect(answer)
        .await
        .map_err(|e| stream_error(D, e))?;
    Ok((
        headers,
        Json(encode_responses_response(
            &response,
            &context,
            &id,
            &request.model,
            created,
        )),
    )
        .into_response())
}
