//! Gemini answers (Cloud Code or public API) → IR stream events.
//!
//! [`GeminiStreamDecoder`] is fed each `GenerateContentResponse` chunk — or the raw
//! SSE `data` of a Cloud Code stream with [`GeminiStreamDecoder::push_data`] — and
//! emits: `Start` on the first chunk; per part, `ThinkingDelta` (thought parts),
//! `TextDelta`, or `ToolCallStart` + one `ToolCallDelta` with the serialized args
//! (Gemini sends each call whole), followed by `Signature` when the part carries a
//! `thoughtSignature`; then `Usage` when the counts changed; then `Finish`.
//! Only the first candidate is read.
//!
//! Usage: `promptTokenCount` (which includes cached tokens) plus
//! `toolUsePromptTokenCount` is input; `candidatesTokenCount + thoughtsTokenCount`
//! is output, thoughts being reasoning.
//!
//! A stream that ends without a finish reason is the caller's to report
//! ([`GeminiStreamDecoder::saw_finish`]).

use serde_json::Value;

use crate::cloudcode::{CloudCodeChunk, unwrap_response};
use crate::error::ErrorKind;
use crate::gemini::{
    BlockReason, GeminiErrorBody, GeminiFinishReason, GenerateContentResponse, Part, UsageMetadata,
};
use crate::ir::{
    FinishReason, ModelFamily, Response, ResponseBuilder, Signature, StreamError, StreamEvent,
    Usage,
};

/// Stateful decoder of one Gemini answer.
#[derive(Debug)]
pub struct GeminiStreamDecoder {
    family: Option<ModelFamily>,
    call_prefix: Option<String>,
    started: bool,
    saw_finish: bool,
    saw_function_call: bool,
    next_call: u32,
    last_usage: Option<Usage>,
}

impl GeminiStreamDecoder {
    /// A decoder for an answer from `upstream_model`; signatures are attributed to
    /// that model's family.
    pub fn new(upstream_model: &str) -> Self {
        let family = ModelFamily::of(upstream_model);
        Self {
            family: Some(family),
            call_prefix: None,
            started: false,
            saw_finish: false,
            saw_function_call: false,
            next_call: 0,
            last_usage: None,
        }
    }

    /// Prefix for generated tool-call ids (`call_<prefix>_<n>`), e.g. the request
    /// id. Without one, the upstream's response id is used.
    pub fn with_call_id_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.call_prefix = Some(prefix.into());
        self
    }

    /// Whether a finish reason (or a prompt block) was seen.
    pub fn saw_finish(&self) -> bool {
        self.saw_finish
    }

    /// Whether the first chunk has been seen.
    pub fn started(&self) -> bool {
        self.started
    }

    /// Decode one SSE `data` payload of a Cloud Code (or public API) stream: an
    /// enveloped or bare response, or an in-band error. Malformed data becomes an
    /// `Error` event.
    pub fn push_data(&mut self, data: &[u8], out: &mut Vec<StreamEvent>) {
        let trimmed = data.trim_ascii();
        if trimmed.is_empty() || trimmed == b"[DONE]" {
            return;
        }
        match unwrap_response(trimmed) {
            Ok(CloudCodeChunk::Response(resp)) => self.push_response(&resp, out),
            Ok(CloudCodeChunk::Error(err)) => self.push_error(&err, out),
            Err(e) => out.push(StreamEvent::Error(StreamError::new(
                ErrorKind::Upstream,
                format!("malformed upstream chunk: {e}"),
            ))),
        }
    }

    /// An in-band error body.
    pub fn push_error(&mut self, err: &GeminiErrorBody, out: &mut Vec<StreamEvent>) {
        out.push(StreamEvent::Error(StreamError::new(
            error_kind(err),
            if err.message.is_empty() {
                "upstream error".to_owned()
            } else {
                err.message.clone()
            },
        )));
    }

    /// Decode one response chunk.
    pub fn push_response(&mut self, chunk: &GenerateContentResponse, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.started = true;
            if self.call_prefix.is_none() {
                self.call_prefix = chunk.response_id.clone();
            }
            out.push(StreamEvent::Start {
                id: chunk.response_id.clone(),
                model: chunk.model_version.clone(),
            });
        }
        let candidate = chunk
            .candidates
            .iter()
            .find(|c| c.index.unwrap_or(0) == 0)
            .or_else(|| chunk.candidates.first());
        if let Some(content) = candidate.and_then(|c| c.content.as_ref()) {
            for part in &content.parts {
                self.push_part(part, out);
            }
        }
        if let Some(usage) = chunk.usage_metadata.as_deref().map(usage_from)
            && self.last_usage != Some(usage)
        {
            self.last_usage = Some(usage);
            out.push(StreamEvent::Usage(usage));
        }
        if let Some(reason) = candidate.and_then(|c| c.finish_reason.as_ref()) {
            self.saw_finish = true;
            out.push(StreamEvent::Finish(self.finish_reason(reason)));
        } else if candidate.is_none()
            && let Some(block) = chunk
                .prompt_feedback
                .as_ref()
                .and_then(|f| f.block_reason.as_ref())
            && *block != BlockReason::Unspecified
        {
            self.saw_finish = true;
            out.push(StreamEvent::Finish(FinishReason::ContentFilter));
        }
    }

    fn push_part(&mut self, part: &Part, out: &mut Vec<StreamEvent>) {
        if let Some(call) = &part.function_call {
            self.saw_function_call = true;
            let id = match call.id.as_deref().filter(|id| !id.is_empty()) {
                Some(id) => id.to_owned(),
                None => self.generate_id(),
            };
            out.push(StreamEvent::ToolCallStart {
                id,
                name: call.name.as_ref().to_owned(),
            });
            let args = match call.args.as_deref() {
                Some(v @ Value::Object(_)) => v.to_string(),
                _ => "{}".to_owned(),
            };
            out.push(StreamEvent::ToolCallDelta(args));
        } else if let Some(text) = &part.text {
            if !text.is_empty() {
                out.push(if part.is_thought() {
                    StreamEvent::ThinkingDelta(text.as_ref().to_owned())
                } else {
                    StreamEvent::TextDelta(text.as_ref().to_owned())
                });
            }
        } else if let Some(blob) = &part.inline_data {
            // No IR event carries generated media; a data-URL image in markdown
            // is what chat clients can show.
            out.push(StreamEvent::TextDelta(format!(
                "![image](data:{};base64,{})",
                blob.mime_type, blob.data
            )));
        } else if let Some(code) = &part.executable_code {
            let lang = code.language.as_deref().unwrap_or("").to_ascii_lowercase();
            let lang = if lang == "language_unspecified" {
                ""
            } else {
                lang.as_str()
            };
            out.push(StreamEvent::TextDelta(format!(
                "\n```{lang}\n{}\n```\n",
                code.code
            )));
        } else if let Some(result) = &part.code_execution_result {
            let output = result.output.as_deref().unwrap_or("");
            out.push(StreamEvent::TextDelta(format!(
                "\n```output\n{output}\n```\n"
            )));
        }
        if let Some(sig) = part.thought_signature.as_deref().filter(|s| !s.is_empty()) {
            out.push(StreamEvent::Signature(Signature::new(sig, self.family)));
        }
    }

    fn generate_id(&mut self) -> String {
        let n = self.next_call;
        self.next_call += 1;
        match &self.call_prefix {
            Some(prefix) => format!("call_{prefix}_{n}"),
            None => format!("call_{n}"),
        }
    }

    fn finish_reason(&self, reason: &GeminiFinishReason) -> FinishReason {
        match reason {
            GeminiFinishReason::Stop | GeminiFinishReason::Unspecified => {
                if self.saw_function_call {
                    FinishReason::ToolCalls
                } else {
                    FinishReason::Stop
                }
            }
            GeminiFinishReason::MaxTokens => FinishReason::Length,
            GeminiFinishReason::Safety
            | GeminiFinishReason::Recitation
            | GeminiFinishReason::Blocklist
            | GeminiFinishReason::ProhibitedContent
            | GeminiFinishReason::Spii
            | GeminiFinishReason::ImageSafety
            | GeminiFinishReason::ImageProhibitedContent
            | GeminiFinishReason::ImageRecitation => FinishReason::ContentFilter,
            other => FinishReason::Other(other.as_str().to_owned()),
        }
    }
}

/// Token usage in the IR convention.
pub fn usage_from(u: &UsageMetadata) -> Usage {
    let prompt = u.prompt_token_count.unwrap_or(0) + u.tool_use_prompt_token_count.unwrap_or(0);
    let thoughts = u.thoughts_token_count.unwrap_or(0);
    Usage {
        input_tokens: prompt,
        output_tokens: u.candidates_token_count.unwrap_or(0) + thoughts,
        cached_input_tokens: u.cached_content_token_count.unwrap_or(0),
        cache_creation_input_tokens: 0,
        reasoning_tokens: thoughts,
    }
}

/// The kind of an upstream error body: from its HTTP code, else its status.
pub fn error_kind(err: &GeminiErrorBody) -> ErrorKind {
    if (400..600).contains(&err.code) {
        return ErrorKind::from_status(err.code);
    }
    match err.status.as_deref().unwrap_or("") {
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => ErrorKind::InvalidRequest,
        "UNAUTHENTICATED" => ErrorKind::Authentication,
        "PERMISSION_DENIED" => ErrorKind::PermissionDenied,
        "NOT_FOUND" => ErrorKind::NotFound,
        "RESOURCE_EXHAUSTED" => ErrorKind::RateLimited,
        "UNAVAILABLE" => ErrorKind::Overloaded,
        "DEADLINE_EXCEEDED" => ErrorKind::Timeout,
        "INTERNAL" | "UNKNOWN" | "DATA_LOSS" => ErrorKind::Internal,
        _ => ErrorKind::Upstream,
    }
}

/// Decode a whole (non-streamed) answer.
pub fn decode_gemini_response(resp: &GenerateContentResponse, upstream_model: &str) -> Response {
    let mut decoder = GeminiStreamDecoder::new(upstream_model);
    let mut events = Vec::new();
    decoder.push_response(resp, &mut events);
    let mut builder = ResponseBuilder::new();
    for e in events {
        builder.push(e);
    }
    // Only a stream carries errors; a parsed response cannot contain one.
    builder.finish().unwrap_or_default()
}

#[cfg(test)]
#[path = "decode_gemini_response_tests.rs"]
mod tests;
