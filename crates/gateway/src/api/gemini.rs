//! Gemini `generateContent`, `streamGenerateContent` and `countTokens`, under
//! both `/v1beta/models/…` and `/v1/models/…` (google-genai uses v1).

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use uplink_protocol::error::{Dialect, ErrorKind};
use uplink_protocol::translate::{
    GeminiChunkEncoder, decode_gemini, decode_gemini_count_tokens, encode_gemini_response,
};

use super::ApiError;
use super::body::RawBody;
use super::respond::{Ctx, Json, answer_headers, stream_error, stream_response};
use super::stream::{DataLines, JsonArray};
use crate::proxy::{self, relay};
use crate::state::AppState;

const D: Dialect = Dialect::Gemini;

/// `POST /{v}/models/{model}:{method}`.
pub async fn model_method(
    State(state): State<AppState>,
    Path(target): Path<String>,
    RawQuery(query): RawQuery,
    ctx: Ctx,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let Some((model, method)) = target.rsplit_once(':') else {
        return Err(ApiError::new(
            D,
            ErrorKind::NotFound,
            format!(
                "Unknown method on models/{target}: expected models/{{model}}:generateContent, :streamGenerateContent or :countTokens."
            ),
        ));
    };
    match method {
        "generateContent" => generate(&state, &ctx, model, &body, Mode::Unary).await,
        "streamGenerateContent" => {
            let mode = if wants_sse(query.as_deref()) {
                Mode::Sse
            } else {
                Mode::JsonArray
            };
            generate(&state, &ctx, model, &body, mode).await
        }
        "countTokens" => {
            let request = decode_gemini_count_tokens(&body, model)
                .map_err(|e| ApiError::from_body(D, e.to_error_body(D)))?;
            let upstream = state.resolve_model(model).model;
            let total = proxy::count_tokens(&state, &request, &upstream, D).await;
            Ok(Json(json!({ "totalTokens": total })).into_response())
        }
        other => Err(ApiError::new(
            D,
            ErrorKind::NotFound,
            format!(
                "Method {other} is not supported on models/{model}; Uplink serves generateContent, streamGenerateContent and countTokens."
            ),
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Unary,
    Sse,
    JsonArray,
}

/// `alt=sse` asks for SSE; without it (or with `$alt=json…`) the stream is a
/// JSON array, as google-generativeai's REST transport expects.
fn wants_sse(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        q.split('&').any(|pair| {
            matches!(pair.split_once('='), Some(("alt" | "%24alt" | "$alt", v)) if v.eq_ignore_ascii_case("sse"))
        })
    })
}

async fn generate(
    state: &AppState,
    ctx: &Ctx,
    model: &str,
    body: &[u8],
    mode: Mode,
) -> Result<Response, ApiError> {
    ctx.note_request(state, model, mode != Mode::Unary, body);
    let mut request = decode_gemini(body, model, mode != Mode::Unary)
        .map_err(|e| ApiError::from_body(D, e.to_error_body(D)))?;
    request.meta.body_len = body.len();
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
    let encoder = GeminiChunkEncoder::new(model);
    match mode {
        Mode::Sse => {
            let body = relay::sse_body(
                answer,
                DataLines {
                    encoder,
                    terminator: None,
                },
            );
            Ok(stream_response(headers, "text/event-stream", body))
        }
        Mode::JsonArray => {
            let body = relay::sse_body(answer, JsonArray::new(encoder));
            Ok(stream_response(headers, "application/json", body))
        }
        Mode::Unary => {
            let response = relay::collect(answer)
                .await
                .map_err(|e| stream_error(D, e))?;
            Ok((headers, Json(encode_gemini_response(&response, model))).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn alt_sse_is_recognised_in_its_spellings() {
        assert!(super::wants_sse(Some("alt=sse")));
        assert!(super::wants_sse(Some("key=k&alt=SSE")));
        assert!(!super::wants_sse(Some("%24alt=json%3Benum-encoding%3Dint")));
        assert!(!super::wants_sse(None));
    }
}
