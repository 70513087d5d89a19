//! The Cloud Code `v1internal` envelope (the service behind Antigravity and
//! gemini-cli's Google login): a Gemini request wrapped with project, model and
//! client identity; answers wrapped in `{"response": …}`.
//!
//! Facts, from public clients of the service (gemini-cli's
//! `packages/core/src/code_assist/converter.ts`; Antigravity proxies such as
//! `lbjlaq/Antigravity-Manager` `mappers/gemini/wrapper.rs` and the
//! opencode-antigravity-auth analysis in `soilSpoon/llmux`
//! `docs/reference/antigravity-api-schema.md`):
//!
//! - request: `{"project", "model", "request": <GenerateContentRequest>, "requestId",
//!   "userAgent": "antigravity", "requestType": "agent"}`; `requestType` is
//!   `"web_search"` for grounded requests and `"image_gen"` for image models;
//! - the inner request carries the session as `request.sessionId` (Antigravity;
//!   gemini-cli sends `session_id`); `toolConfig`, `tools`, `systemInstruction` and
//!   `generationConfig` sit inside `request` exactly as in the public API;
//! - streamed and unary answers are `{"response": <GenerateContentResponse>,
//!   "traceId"?}`; errors use Google's `{"error": {...}}` body;
//! - `countTokens`: `{"request": {"model": "models/<id>", "contents": [...]}}` →
//!   `{"totalTokens": n}`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::gemini::{Content, GenerateContentRequest, GenerateContentResponse};

/// `POST /v1internal:generateContent` / `:streamGenerateContent?alt=sse` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudCodeRequest<'a> {
    pub project: String,
    pub model: String,
    pub request: CloudCodeInnerRequest<'a>,
    pub request_id: String,
    pub user_agent: String,
    pub request_type: String,
}

/// The inner request: a Gemini request plus the session id.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudCodeInnerRequest<'a> {
    #[serde(flatten)]
    pub request: GenerateContentRequest<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

/// What an Antigravity client puts in `requestType`.
pub fn request_type_for(
    upstream_model: &str,
    request: &GenerateContentRequest<'_>,
) -> &'static str {
    if upstream_model.contains("image") {
        "image_gen"
    } else if request
        .tools
        .iter()
        .any(|t| t.google_search.is_some() || t.google_search_retrieval.is_some())
    {
        "web_search"
    } else {
        "agent"
    }
}

/// Wrap a Gemini request in the Antigravity envelope.
pub fn wrap_request<'a>(
    request: GenerateContentRequest<'a>,
    project: &str,
    upstream_model: &str,
    request_id: &str,
    session_id: Option<&str>,
) -> CloudCodeRequest<'a> {
    let request_type = request_type_for(upstream_model, &request).to_owned();
    CloudCodeRequest {
        project: project.to_owned(),
        model: upstream_model.to_owned(),
        request: CloudCodeInnerRequest {
            request,
            session_id: session_id.map(str::to_owned),
        },
        request_id: request_id.to_owned(),
        user_agent: "antigravity".to_owned(),
        request_type,
    }
}

/// `{"response": …, "traceId"?}` — one SSE event or a unary body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudCodeResponse {
    #[serde(default)]
    pub response: GenerateContentResponse,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// What one Cloud Code body or SSE `data` holds.
#[derive(Debug, Clone, PartialEq)]
pub enum CloudCodeChunk {
    Response(Box<GenerateContentResponse>),
    /// Google's error body `{"error": {...}}`, delivered in-band.
    Error(crate::gemini::GeminiErrorBody),
}

/// Parse one Cloud Code body or SSE `data` payload: the enveloped answer, a bare
/// `GenerateContentResponse` (tolerated), or an error body.
pub fn unwrap_response(data: &[u8]) -> Result<CloudCodeChunk, serde_json::Error> {
    // One pass, no buffering: the envelope's fields and a bare response's fields
    // side by side. The answer is parsed straight into its box and the rare
    // members are boxed too: serde's derived code moves the probe by value
    // several times, and at ~650 bytes unboxed that copying was a seventh of a
    // chunk's parse.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        #[serde(default)]
        response: Option<Box<GenerateContentResponse>>,
        #[serde(default)]
        error: Option<Box<crate::gemini::GeminiErrorBody>>,
        #[serde(default)]
        trace_id: Option<String>,
        #[serde(default)]
        candidates: Vec<crate::gemini::Candidate>,
        #[serde(default)]
        prompt_feedback: Option<Box<crate::gemini::PromptFeedback>>,
        #[serde(default)]
        usage_metadata: Option<Box<crate::gemini::UsageMetadata>>,
        #[serde(default)]
        model_version: Option<String>,
        #[serde(default)]
        response_id: Option<String>,
    }
    let probe: Probe = crate::translate::util::parse_body(data)?;
    if let Some(error) = probe.error {
        return Ok(CloudCodeChunk::Error(*error));
    }
    let mut response = probe.response.unwrap_or_else(|| {
        Box::new(GenerateContentResponse {
            candidates: probe.candidates,
            prompt_feedback: probe.prompt_feedback,
            usage_metadata: probe.usage_metadata,
            model_version: probe.model_version,
            response_id: probe.response_id,
            create_time: None,
        })
    });
    if response.response_id.is_none() {
        response.response_id = probe.trace_id;
    }
    Ok(CloudCodeChunk::Response(response))
}

/// `POST /v1internal:countTokens` body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CloudCodeCountTokensRequest<'a> {
    pub request: CloudCodeCountTokensInner<'a>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CloudCodeCountTokensInner<'a> {
    /// `models/<id>`.
    pub model: String,
    pub contents: Vec<Content<'a>>,
}

impl<'a> CloudCodeCountTokensRequest<'a> {
    pub fn new(upstream_model: &str, contents: Vec<Content<'a>>) -> Self {
        Self {
            request: CloudCodeCountTokensInner {
                model: format!("models/{upstream_model}"),
                contents,
            },
        }
    }
}

/// `countTokens` answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudCodeCountTokensResponse {
    #[serde(default)]
    pub total_tokens: u64,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wraps_with_session_inside_the_request() {
        let req = GenerateContentRequest {
            contents: vec![Content::new("user", vec![crate::gemini::Part::text("hi")])],
            ..Default::default()
        };
        let wrapped = wrap_request(req, "proj-1", "gemini-3-pro-high", "agent-1", Some("s-1"));
        assert_eq!(
            serde_json::to_value(&wrapped).unwrap(),
            json!({
                "project": "proj-1",
                "model": "gemini-3-pro-high",
                "request": {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "sessionId": "s-1"},
                "requestId": "agent-1",
                "userAgent": "antigravity",
                "requestType": "agent",
            })
        );
    }

    #[test]
    fn unwraps_envelopes_bare_bodies_and_errors() {
        let enveloped = br#"{"response":{"candidates":[{"content":{"role":"model","parts":[{"text":"a"}]}}]},"traceId":"t1"}"#;
        let CloudCodeChunk::Response(r) = unwrap_response(enveloped).unwrap() else {
            panic!("expected a response")
        };
        assert_eq!(r.response_id.as_deref(), Some("t1"));
        assert_eq!(r.candidates.len(), 1);

        let bare = br#"{"candidates":[{"finishReason":"STOP"}]}"#;
        let CloudCodeChunk::Response(r) = unwrap_response(bare).unwrap() else {
            panic!("expected a response")
        };
        assert_eq!(r.candidates.len(), 1);

        let err = br#"{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}"#;
        assert!(matches!(unwrap_response(err).unwrap(), CloudCodeChunk::Error(e) if e.code == 429));
    }
}
