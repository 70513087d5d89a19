//! API-key providers: send the IR request in the provider's own protocol and
//! hand back its answer as IR events. Failures are classified like Cloud Code's,
//! with one difference: a key the provider refuses is disabled.

use secrecy::ExposeSecret;
use uplink_protocol::error::ErrorKind;
use uplink_protocol::ir::Request;
use uplink_protocol::openai::StreamOptions;
use uplink_protocol::translate::{
    AnthropicStreamDecoder, GeminiStreamDecoder, OpenAiChunkDecoder, anthropic_error_kind,
    encode_anthropic_request, encode_gemini_request, encode_openai_chat_request, openai_error_kind,
};

use std::time::Duration;

use super::body_capacity;
use super::error::{AccountChange, Next, SHORT_BACKOFF, Scope, UpstreamError};
use super::http::{Http, MAX_ANSWER_BYTES, RequestBuilder, Response, read_body, retry_after};
use super::{EventStream, stream};
use crate::config::providers::{ProviderConfig, ProviderKind};
use crate::pool::ProviderKey;

/// The Messages API version the gateway speaks to Anthropic-compatible upstreams.
const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Send `request` for `model` with one key of a provider.
pub async fn send(
    http: &Http,
    key: &ProviderKey,
    model: &str,
    request: &Request,
) -> Result<EventStream, UpstreamError> {
    let provider = &key.provider;
    let secret = key.key.expose_secret();
    let capacity = body_capacity(request.meta.body_len);
    let (builder, decoder): (
        RequestBuilder<'_>,
        Box<dyn FnOnce(Response) -> EventStream + Send>,
    ) = match provider.kind {
        ProviderKind::Gemini => {
            let body = encode_gemini_request(request, model).map_err(translate_error)?;
            let url = format!(
                "{}/v1beta/models/{model}:streamGenerateContent?alt=sse",
                provider.base_url
            );
            let decoder = GeminiStreamDecoder::new(model);
            (
                json(
                    http.post(url).header("x-goog-api-key", secret),
                    &body,
                    capacity,
                )?,
                Box::new(move |r| stream::events(r, decoder)),
            )
        }
        ProviderKind::Anthropic => {
            let mut body = encode_anthropic_request(request, model).map_err(translate_error)?;
            body.stream = Some(true);
            let decoder = AnthropicStreamDecoder::new(model);
            (
                json(
                    anthropic_post(http, endpoint(provider)?, secret),
                    &body,
                    capacity,
                )?,
                Box::new(move |r| stream::events(r, decoder)),
            )
        }
        ProviderKind::OpenAi => {
            let mut body = encode_openai_chat_request(request, model).map_err(translate_error)?;
            body.stream = Some(true);
            body.stream_options = Some(StreamOptions {
                include_usage: Some(true),
            });
            let decoder = OpenAiChunkDecoder::new();
            (
                json(
                    http.post(endpoint(provider)?).bearer_auth(secret),
                    &body,
                    capacity,
                )?,
                Box::new(move |r| stream::events(r, decoder)),
            )
        }
    };
    let response = builder.send().await.map_err(|e| {
        UpstreamError::network(format!("provider {} unreachable: {e}", provider.id))
    })?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(decoder(response));
    }
    let retry = retry_after(&response);
    let body = read_body(response, MAX_ANSWER_BYTES)
        .await
        .unwrap_or_default();
    Err(classify(provider.kind, status, &body, retry))
}

/// The provider's generation URL, parsed when the configuration was read.
fn endpoint(provider: &ProviderConfig) -> Result<http::Uri, UpstreamError> {
    provider.endpoint.clone().ok_or_else(|| UpstreamError {
        kind: ErrorKind::Internal,
        next: Next::Fail,
        ..UpstreamError::network(format!("provider {} has no endpoint", provider.id))
    })
}

/// A POST to an Anthropic-compatible provider, with its key and API version.
pub fn anthropic_post<'a, U>(http: &'a Http, url: U, secret: &str) -> RequestBuilder<'a>
where
    http::Uri: TryFrom<U>,
    <http::Uri as TryFrom<U>>::Error: Into<http::Error>,
{
    http.post(url)
        .header("x-api-key", secret)
        .header("anthropic-version", ANTHROPIC_VERSION)
}

/// `body` as the request's JSON body, written into a buffer of `capacity`.
pub fn json<'a>(
    builder: RequestBuilder<'a>,
    body: &impl serde::Serialize,
    capacity: usize,
) -> Result<RequestBuilder<'a>, UpstreamError> {
    let bytes =
        uplink_protocol::json::to_vec_with_capacity(body, capacity).map_err(|e| UpstreamError {
            kind: ErrorKind::Internal,
            next: Next::Fail,
            ..UpstreamError::network(format!("cannot encode the upstream request: {e}"))
        })?;
    Ok(builder
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(bytes))
}

fn translate_error(e: uplink_protocol::translate::TranslateError) -> UpstreamError {
    UpstreamError {
        kind: ErrorKind::InvalidRequest,
        next: Next::Fail,
        ..UpstreamError::network(e.to_string())
    }
}

/// A provider's error answer, classified like Google's: rate limits and
/// overload rotate after a cooldown, client errors are final, and a refused key
/// (401/403, or Gemini's 400 `API_KEY_INVALID`) disables that key.
pub fn classify(
    kind: ProviderKind,
    status: u16,
    body: &[u8],
    retry: Option<Duration>,
) -> UpstreamError {
    let mut error = match kind {
        ProviderKind::Gemini => UpstreamError::from_google(status, body, retry),
        ProviderKind::Anthropic => from_parsed(status, anthropic_error_kind(status, body), retry),
        ProviderKind::OpenAi => from_parsed(status, openai_error_kind(status, body), retry),
    };
    let text = String::from_utf8_lossy(body);
    let key_refused = matches!(status, 401 | 403)
        || (kind == ProviderKind::Gemini && text.contains("API_KEY_INVALID"));
    if key_refused {
        error.kind = ErrorKind::Authentication;
        error.next = Next::Rotate;
        error.cooldown = None;
        error.change = Some(AccountChange::Disable {
            reason: format!("the provider refused the key ({status}): {}", error.message),
        });
    }
    error
}

/// An Anthropic- or OpenAI-shaped error, already parsed into kind and message.
fn from_parsed(
    status: u16,
    (kind, message): (ErrorKind, String),
    retry: Option<Duration>,
) -> UpstreamError {
    let rotate = matches!(status, 408 | 429 | 401 | 403) || status >= 500;
    UpstreamError {
        kind,
        status,
        message,
        next: if rotate { Next::Rotate } else { Next::Fail },
        cooldown: (status == 429 || status >= 500)
            .then(|| (retry.unwrap_or(SHORT_BACKOFF), Scope::Model)),
        change: None,
        quota_exhausted: false,
    }
}
