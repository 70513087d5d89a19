//! IR → Gemini answers for Gemini clients: a whole `GenerateContentResponse`, or
//! a stream of them from [`GeminiChunkEncoder`].
//!
//! Stream rules: each text or thought delta becomes a part of its own chunk, held
//! back until the next event or [`GeminiChunkEncoder::flush`] so that a
//! `Signature` that follows lands on the part it belongs to (`thoughtSignature` on
//! that part, as Gemini sends it); the caller flushes after each upstream chunk,
//! so nothing waits for the next network read; a tool call is
//! accumulated until complete and sent as one `functionCall` part with its
//! arguments as an object; usage goes on the last chunk; the last chunk always
//! carries a `finishReason` — Gemini CLI retries a stream whose last chunk lacks
//! one. A mid-stream error ends the stream with a chunk carrying Google's error
//! body `{"error": {"code", "message", "status"}}`.

use std::borrow::Cow;

use crate::error::{Dialect, ErrorBody};
use crate::gemini::{
    Candidate, Content, FunctionCall, GeminiFinishReason, GenerateContentResponse, Part,
    UsageMetadata,
};
use crate::ir::{ContentBlock, FinishReason, Response, StreamEvent, Usage, parse_arguments};

/// Gemini's `usageMetadata` for IR usage (`candidatesTokenCount` excludes
/// thoughts).
pub fn gemini_usage(u: &Usage) -> UsageMetadata {
    UsageMetadata {
        prompt_token_count: Some(u.input_tokens),
        candidates_token_count: (u.answer_tokens() > 0).then_some(u.answer_tokens()),
        total_token_count: Some(u.total_tokens()),
        cached_content_token_count: (u.cached_input_tokens > 0).then_some(u.cached_input_tokens),
        thoughts_token_count: (u.reasoning_tokens > 0).then_some(u.reasoning_tokens),
        ..UsageMetadata::default()
    }
}

/// Gemini's `finishReason` for an IR reason.
pub fn gemini_finish_reason(reason: &FinishReason) -> GeminiFinishReason {
    match reason {
        FinishReason::Stop | FinishReason::ToolCalls | FinishReason::StopSequence(_) => {
            GeminiFinishReason::Stop
        }
        FinishReason::Length => GeminiFinishReason::MaxTokens,
        FinishReason::ContentFilter => GeminiFinishReason::Safety,
        FinishReason::Other(s) => match GeminiFinishReason::from(s.as_str()) {
            GeminiFinishReason::Other(_) => GeminiFinishReason::OtherReason,
            known => known,
        },
    }
}

fn call_part(id: &str, name: &str, args: &str) -> Part<'static> {
    Part {
        function_call: Some(Box::new(FunctionCall {
            id: Some(id.to_owned().into()),
            name: name.to_owned().into(),
            args: Some(Cow::Owned(parse_arguments(args))),
        })),
        ..Part::default()
    }
}

fn chunk(parts: Vec<Part<'static>>, model: &str, id: Option<&str>) -> GenerateContentResponse {
    let model = model.strip_prefix("models/").unwrap_or(model);
    GenerateContentResponse {
        candidates: vec![Candidate {
            content: Some(Content::new("model", parts)),
            index: Some(0),
            ..Candidate::default()
        }],
        model_version: Some(model.to_owned()),
        response_id: id.map(str::to_owned),
        ..GenerateContentResponse::default()
    }
}

/// A whole answer. `model` is the model name the client asked for.
pub fn encode_gemini_response(resp: &Response, model: &str) -> GenerateContentResponse {
    let mut parts: Vec<Part<'static>> = Vec::with_capacity(resp.content.len());
    for block in &resp.content {
        match block {
            ContentBlock::Text { text } => parts.push(Part::text(text.clone())),
            ContentBlock::Thinking { text, signature } => {
                let sig = signature.as_ref().map(|s| Cow::Owned(s.value.clone()));
                if text.is_empty() {
                    // A signature that came on the part before: put it back there.
                    match parts.last_mut() {
                        Some(prev) if prev.thought_signature.is_none() && sig.is_some() => {
                            prev.thought_signature = sig;
                        }
                        _ if sig.is_some() => parts.push(Part {
                            text: Some(Cow::Borrowed("")),
                            thought_signature: sig,
                            ..Part::default()
                        }),
                        _ => {}
                    }
                } else {
                    parts.push(Part {
                        text: Some(text.clone().into()),
                        thought: Some(true),
                        thought_signature: sig,
                        ..Part::default()
                    });
                }
            }
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
                signature,
            } => parts.push(Part {
                function_call: Some(Box::new(FunctionCall {
                    id: Some(id.clone().into()),
                    name: name.clone().into(),
                    args: Some(Cow::Owned(arguments.clone())),
                })),
                thought_signature: signature.as_ref().map(|s| s.value.clone().into()),
                ..Part::default()
            }),
            _ => {}
        }
    }
    if parts.is_empty() {
        parts.push(Part::text(""));
    }
    let mut out = chunk(parts, model, resp.id.as_deref());
    if let Some(c) = out.candidates.first_mut() {
        c.finish_reason = Some(
            resp.finish_reason
                .as_ref()
                .map(gemini_finish_reason)
                .unwrap_or(GeminiFinishReason::Stop),
        );
    }
    out.usage_metadata = Some(Box::new(gemini_usage(&resp.usage)));
    out
}

/// Stateful encoder of one streamed answer into `GenerateContentResponse` JSON
/// texts (each the payload of one `data:` line).
#[derive(Debug)]
pub struct GeminiChunkEncoder {
    model: String,
    response_id: Option<String>,
    /// The last part, held until the next event shows whether a signature
    /// belongs on it.
    pending: Option<Part<'static>>,
    /// The open tool call: id, name and argument text so far.
    open_call: Option<(String, String, String)>,
    usage: Option<Usage>,
    finish: Option<FinishReason>,
    /// The last content was a thought: a signature sent on a part of its own
    /// is marked as a thought too, so that it is replayed with that thought.
    last_thought: bool,
    done: bool,
}

impl GeminiChunkEncoder {
    /// `model`: the model name the client asked for (sent as `modelVersion`).
    pub fn new(model: &str) -> Self {
        Self {
            model: model.to_owned(),
            response_id: None,
            pending: None,
            open_call: None,
            usage: None,
            finish: None,
            last_thought: false,
            done: false,
        }
    }

    pub fn event(&mut self, event: &StreamEvent) -> Vec<String> {
        let mut out = Vec::new();
        if self.done {
            return out;
        }
        match event {
            StreamEvent::Start { id, .. } => {
                if self.response_id.is_none() {
                    self.response_id = id.clone();
                }
            }
            StreamEvent::TextDelta(text) | StreamEvent::ThinkingDelta(text) => {
                if text.is_empty() {
                    return out;
                }
                self.close_call(&mut out);
                self.flush_pending(&mut out);
                self.last_thought = matches!(event, StreamEvent::ThinkingDelta(_));
                self.pending = Some(Part {
                    text: Some(text.clone().into()),
                    thought: self.last_thought.then_some(true),
                    ..Part::default()
                });
            }
            StreamEvent::Signature(sig) => {
                self.close_call(&mut out);
                match self.pending.as_mut() {
                    Some(part) if part.thought_signature.is_none() => {
                        part.thought_signature = Some(sig.value.clone().into());
                    }
                    _ => {
                        self.flush_pending(&mut out);
                        self.pending = Some(Part {
                            text: Some(Cow::Borrowed("")),
                            thought: self.last_thought.then_some(true),
                            thought_signature: Some(sig.value.clone().into()),
                            ..Part::default()
                        });
                    }
                }
            }
            StreamEvent::ToolCallStart { id, name } => {
                self.close_call(&mut out);
                self.flush_pending(&mut out);
                self.last_thought = false;
                self.open_call = Some((id.clone(), name.clone(), String::new()));
            }
            StreamEvent::ToolCallDelta(fragment) => {
                if let Some((_, _, args)) = self.open_call.as_mut() {
                    args.push_str(fragment);
                }
            }
            StreamEvent::Usage(usage) => {
                self.usage.get_or_insert_with(Usage::default).merge(usage);
            }
            StreamEvent::Finish(reason) => {
                self.close_call(&mut out);
                self.finish = Some(reason.clone());
            }
            StreamEvent::Error(error) => {
                self.close_call(&mut out);
                self.flush_pending(&mut out);
                self.done = true;
                let body = ErrorBody::new(Dialect::Gemini, error.kind, error.message.clone());
                out.push(body.to_json(Dialect::Gemini).to_string());
            }
            StreamEvent::RedactedThinking(_) => {}
        }
        out
    }

    /// Send the held part now. Call this after feeding all the events decoded
    /// from one upstream chunk: a signature arrives in the same chunk as its part,
    /// so holding longer only delays the client. (An open tool call stays open: an
    /// upstream may stream its arguments over several chunks.)
    pub fn flush(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.done && self.finish.is_none() {
            self.flush_pending(&mut out);
        }
        out
    }

    /// The last chunk: the held part (if any), `finishReason` (`STOP` when the
    /// stream gave none) and usage. Nothing after an error.
    pub fn finish(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        if self.done {
            return out;
        }
        self.done = true;
        self.close_call(&mut out);
        let part = self.pending.take().unwrap_or_else(|| Part::text(""));
        let mut last = chunk(vec![part], &self.model, self.response_id.as_deref());
        if let Some(c) = last.candidates.first_mut() {
            c.finish_reason = Some(
                self.finish
                    .as_ref()
                    .map(gemini_finish_reason)
                    .unwrap_or(GeminiFinishReason::Stop),
            );
        }
        last.usage_metadata = self.usage.as_ref().map(|u| Box::new(gemini_usage(u)));
        if let Ok(text) = crate::json::to_string(&last) {
            out.push(text);
        }
        out
    }

    /// Turn the open call into the held part.
    fn close_call(&mut self, out: &mut Vec<String>) {
        if let Some((id, name, args)) = self.open_call.take() {
            self.flush_pending(out);
            self.pending = Some(call_part(&id, &name, &args));
        }
    }

    /// Send the held part as a chunk of its own.
    fn flush_pending(&mut self, out: &mut Vec<String>) {
        if let Some(part) = self.pending.take() {
            let c = chunk(vec![part], &self.model, self.response_id.as_deref());
            if let Ok(text) = crate::json::to_string(&c) {
                out.push(text);
            }
        }
    }
}

#[cfg(test)]
#[path = "encode_gemini_response_tests.rs"]
mod tests;
