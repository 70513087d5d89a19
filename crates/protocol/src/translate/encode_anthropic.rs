//! IR → Anthropic Messages answers: a whole `Message`
//! ([`encode_anthropic_message`]), or the stream of named SSE events from
//! [`AnthropicStreamEncoder`].
//!
//! Stream shape, as the API streams it: `message_start` (the message with empty
//! content and the usage known so far); per block `content_block_start`,
//! `content_block_delta`s and `content_block_stop`, with indices 0, 1, … in order —
//! `text` (`text_delta`), `thinking` (`thinking_delta`s, then `signature_delta`
//! before the block stops; the start carries `"thinking": "", "signature": ""`),
//! `redacted_thinking` (whole in its start), `tool_use` (start with `input: {}`,
//! then `input_json_delta`s with `partial_json`); then `message_delta` with
//! `stop_reason`, `stop_sequence` and the usage (`input_tokens`, cache fields,
//! `output_tokens`), then `message_stop`. A mid-stream error becomes an `error`
//! event (`{"type":"error","error":{"type","message"}}`), which the SDKs raise;
//! nothing follows it. Each event goes on the wire as `event: <name>` plus one
//! `data:` line ([`crate::sse::write_event`]).
//!
//! Usage: Anthropic's `input_tokens` excludes cache reads and cache writes, which
//! are reported apart; the IR counts them inside `input_tokens` (see
//! [`crate::ir::Usage`]).
//!
//! Signatures with no Anthropic field — a Gemini 3 signature on a function call or
//! a text part — are not written; they are reported as [`DetachedSignature`]s for
//! the gateway to store (see [`super::signatures`]). A signature on a thinking
//! block, or one arriving on its own, is written as the thinking block's
//! signature, whatever its family: the client hands it back, and the gateway
//! attributes it from what it relayed.

use serde_json::{Value, json};

use super::signatures::{DetachedSignature, SignatureAnchor};
use crate::anthropic::{
    AnthropicContentBlock, AnthropicCountTokensResponse, AnthropicMessage,
    AnthropicRedactedThinkingBlock, AnthropicThinkingBlock, AnthropicToolUseBlock, AnthropicUsage,
};
use crate::error::{Dialect, ErrorBody, ErrorKind};
use crate::ir::{ContentBlock, FinishReason, Response, StreamEvent, Usage};

/// Stop reasons the API defines; an upstream-specific `Other` reason that is one
/// of them passes through.
const STOP_REASONS: &[&str] = &[
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
];

/// One SSE event: its `event:` name and its `data:` JSON.
pub type AnthropicSse = (&'static str, String);

/// Anthropic's `stop_reason` for an IR reason.
pub fn anthropic_stop_reason(reason: &FinishReason) -> &str {
    match reason {
        FinishReason::Stop => "end_turn",
        FinishReason::Length => "max_tokens",
        FinishReason::ToolCalls => "tool_use",
        FinishReason::StopSequence(_) => "stop_sequence",
        FinishReason::ContentFilter => "refusal",
        FinishReason::Other(other) if STOP_REASONS.contains(&other.as_str()) => other,
        FinishReason::Other(_) => "end_turn",
    }
}

/// `stop_reason` and `stop_sequence`; a natural stop after tool calls is `tool_use`.
fn stop_fields(reason: Option<&FinishReason>, tool_calls: bool) -> (&str, Option<&str>) {
    match reason {
        Some(FinishReason::StopSequence(seq)) => ("stop_sequence", seq.as_deref()),
        Some(FinishReason::Stop) | None if tool_calls => ("tool_use", None),
        Some(r) => (anthropic_stop_reason(r), None),
        None => ("end_turn", None),
    }
}

/// IR usage in Anthropic's convention.
pub fn anthropic_usage(u: &Usage) -> AnthropicUsage {
    AnthropicUsage {
        input_tokens: Some(u.uncached_input_tokens()),
        cache_creation_input_tokens: Some(u.cache_creation_input_tokens),
        cache_read_input_tokens: Some(u.cached_input_tokens),
        output_tokens: u.output_tokens,
        extra: Default::default(),
    }
}

/// Usage JSON in the API's field order.
fn usage_json(u: &Usage) -> String {
    format!(
        "{{\"input_tokens\":{},\"cache_creation_input_tokens\":{},\"cache_read_input_tokens\":{},\"output_tokens\":{}}}",
        u.uncached_input_tokens(),
        u.cache_creation_input_tokens,
        u.cached_input_tokens,
        u.output_tokens
    )
}

/// A tool call's input object; arguments kept raw because they were malformed
/// (`{"_raw": …}`) go out as they are — still an object, as the API requires.
fn tool_input(arguments: &Value) -> Value {
    match arguments {
        Value::Object(_) => arguments.clone(),
        other => json!({ "_raw": other }),
    }
}

/// Walk an answer's blocks as the client sees them: the Anthropic blocks, and the
/// signatures that have no place among them.
fn answer_blocks(resp: &Response) -> (Vec<AnthropicContentBlock>, Vec<DetachedSignature>) {
    let mut blocks = Vec::with_capacity(resp.content.len());
    let mut detached = Vec::new();
    let mut last_text: Option<u32> = None;
    for block in &resp.content {
        let index = u32::try_from(blocks.len()).unwrap_or(u32::MAX);
        match block {
            ContentBlock::Text { text } => {
                if text.is_empty() {
                    continue;
                }
                blocks.push(AnthropicContentBlock::text(text.clone()));
                last_text = Some(index);
                continue;
            }
            ContentBlock::Thinking { text, signature } => match (signature, last_text) {
                // A signature that arrived on the text part before it (Gemini 3).
                (Some(sig), Some(text_index)) if text.is_empty() => {
                    detached.push(DetachedSignature {
                        anchor: SignatureAnchor::Text { index: text_index },
                        signature: sig.clone(),
                    });
                }
                (None, _) if text.is_empty() => {}
                _ => blocks.push(AnthropicContentBlock::Thinking(AnthropicThinkingBlock {
                    thinking: text.clone(),
                    signature: signature
                        .as_ref()
                        .map(|s| s.value.clone())
                        .unwrap_or_default(),
                    ..AnthropicThinkingBlock::default()
                })),
            },
            ContentBlock::RedactedThinking { data } => {
                blocks.push(AnthropicContentBlock::RedactedThinking(
                    AnthropicRedactedThinkingBlock { data: data.clone() },
                ))
            }
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
                signature,
            } => {
                blocks.push(AnthropicContentBlock::ToolUse(AnthropicToolUseBlock {
                    id: id.clone(),
                    name: name.clone(),
                    input: tool_input(arguments),
                    ..AnthropicToolUseBlock::default()
                }));
                if let Some(sig) = signature {
                    detached.push(DetachedSignature {
                        anchor: SignatureAnchor::ToolCall(id.clone()),
                        signature: sig.clone(),
                    });
                }
            }
            // Never part of an answer.
            ContentBlock::Image { .. }
            | ContentBlock::File { .. }
            | ContentBlock::ToolResult { .. } => continue,
        }
        last_text = None;
    }
    (blocks, detached)
}

/// A whole answer as a `Message`. `id` is the client-facing `msg_…` id, `model`
/// the model name the client asked for.
pub fn encode_anthropic_message(resp: &Response, id: &str, model: &str) -> AnthropicMessage {
    let (content, _) = answer_blocks(resp);
    let tool_calls = content
        .iter()
        .any(|b| matches!(b, AnthropicContentBlock::ToolUse(_)));
    let (stop_reason, stop_sequence) = stop_fields(resp.finish_reason.as_ref(), tool_calls);
    AnthropicMessage {
        id: id.to_owned(),
        kind: "message".to_owned(),
        role: "assistant".to_owned(),
        model: model.to_owned(),
        content,
        stop_reason: Some(stop_reason.to_owned()),
        stop_sequence: stop_sequence.map(str::to_owned),
        usage: anthropic_usage(&resp.usage),
        extra: Default::default(),
    }
}

/// The signatures of an answer that [`encode_anthropic_message`] leaves out, for
/// the gateway to store.
pub fn detached_signatures(resp: &Response) -> Vec<DetachedSignature> {
    answer_blocks(resp).1
}

/// The answer of `count_tokens`.
pub fn encode_anthropic_count_tokens(input_tokens: u64) -> AnthropicCountTokensResponse {
    AnthropicCountTokensResponse { input_tokens }
}

/// A keep-alive `ping` event.
pub fn anthropic_ping() -> AnthropicSse {
    ("ping", "{\"type\":\"ping\"}".to_owned())
}

/// An `error` event, for a failure the gateway reports inside a stream.
pub fn anthropic_error_event(kind: ErrorKind, message: &str) -> AnthropicSse {
    let body = ErrorBody::new(Dialect::Anthropic, kind, message).to_json(Dialect::Anthropic);
    let kind = body["error"]["type"].as_str().unwrap_or("api_error");
    (
        "error",
        format!(
            "{{\"type\":\"error\",\"error\":{{\"type\":{},\"message\":{}}}}}",
            quoted(kind),
            quoted(message)
        ),
    )
}

/// A JSON string literal.
fn quoted(s: &str) -> String {
    crate::json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Open {
    None,
    Text,
    Thinking,
    ToolUse(String),
}

/// Stateful encoder of one streamed answer into Anthropic SSE events.
///
/// Call [`event`](Self::event) per IR event, [`flush`](Self::flush) after each
/// upstream chunk and [`finish`](Self::finish) at the end. The closing
/// `message_delta` + `message_stop` go out at the first `flush` after the
/// `Finish` event (so usage reported with the finish is included), else at
/// `finish`. [`has_answer`](Self::has_answer) tells, before anything is sent,
/// whether the answer so far has text or a tool call.
#[derive(Debug)]
pub struct AnthropicStreamEncoder {
    id: String,
    model: String,
    started: bool,
    open: Open,
    next_index: u32,
    usage: Usage,
    finish: Option<FinishReason>,
    tool_calls: bool,
    answered: bool,
    closed: bool,
    detached: Vec<DetachedSignature>,
}

impl AnthropicStreamEncoder {
    /// `id`: the client-facing `msg_…` id; `model`: the model the client asked for.
    pub fn new(id: &str, model: &str) -> Self {
        Self {
            id: id.to_owned(),
            model: model.to_owned(),
            started: false,
            open: Open::None,
            next_index: 0,
            usage: Usage::default(),
            finish: None,
            tool_calls: false,
            answered: false,
            closed: false,
            detached: Vec::new(),
        }
    }

    /// Whether text or a tool call has been seen (thinking alone is no answer).
    pub fn has_answer(&self) -> bool {
        self.answered
    }

    /// Signatures that were not written (see the module documentation).
    pub fn detached_signatures(&self) -> &[DetachedSignature] {
        &self.detached
    }

    /// Take the signatures reported so far.
    pub fn take_detached_signatures(&mut self) -> Vec<DetachedSignature> {
        std::mem::take(&mut self.detached)
    }

    /// The events for one IR event.
    pub fn event(&mut self, event: &StreamEvent) -> Vec<AnthropicSse> {
        let mut out = Vec::new();
        if self.closed {
            return out;
        }
        if self.finish.is_some() && !matches!(event, StreamEvent::Usage(_)) {
            // The answer is complete; only late usage still counts.
            return out;
        }
        match event {
            StreamEvent::Start { .. } => self.start(&mut out),
            StreamEvent::TextDelta(text) => {
                if text.is_empty() {
                    // An empty delta of another kind still ends the open block
                    // (IR rule), but opens none.
                    if !matches!(self.open, Open::None | Open::Text) {
                        self.close(&mut out);
                    }
                    return out;
                }
                self.ensure_open(&mut out, Open::Text);
                self.delta(&mut out, "text_delta", "text", text);
                self.answered = true;
            }
            StreamEvent::ThinkingDelta(text) => {
                if text.is_empty() {
                    if !matches!(self.open, Open::None | Open::Thinking) {
                        self.close(&mut out);
                    }
                    return out;
                }
                self.ensure_open(&mut out, Open::Thinking);
                self.delta(&mut out, "thinking_delta", "thinking", text);
            }
            StreamEvent::RedactedThinking(data) => {
                self.start(&mut out);
                self.close(&mut out);
                let block = format!(
                    "{{\"type\":\"redacted_thinking\",\"data\":{}}}",
                    quoted(data)
                );
                self.open_block(&mut out, Open::None, &block);
                self.close_index(&mut out);
            }
            StreamEvent::Signature(sig) => {
                self.start(&mut out);
                match self.open.clone() {
                    Open::Thinking => {}
                    Open::Text => self.detached.push(DetachedSignature {
                        anchor: SignatureAnchor::Text {
                            index: self.next_index.saturating_sub(1),
                        },
                        signature: sig.clone(),
                    }),
                    Open::ToolUse(id) => self.detached.push(DetachedSignature {
                        anchor: SignatureAnchor::ToolCall(id),
                        signature: sig.clone(),
                    }),
                    Open::None => self.ensure_open(&mut out, Open::Thinking),
                }
                if self.open == Open::Thinking {
                    self.delta(&mut out, "signature_delta", "signature", &sig.value);
                }
                self.close(&mut out);
            }
            StreamEvent::ToolCallStart { id, name } => {
                self.start(&mut out);
                self.close(&mut out);
                let block = format!(
                    "{{\"type\":\"tool_use\",\"id\":{},\"name\":{},\"input\":{{}}}}",
                    quoted(id),
                    quoted(name)
                );
                self.open_block(&mut out, Open::ToolUse(id.clone()), &block);
                self.tool_calls = true;
                self.answered = true;
            }
            StreamEvent::ToolCallDelta(fragment) => {
                if matches!(self.open, Open::ToolUse(_)) && !fragment.is_empty() {
                    self.delta(&mut out, "input_json_delta", "partial_json", fragment);
                }
            }
            StreamEvent::Usage(usage) => self.usage.merge(usage),
            StreamEvent::Finish(reason) => {
                self.start(&mut out);
                self.close(&mut out);
                self.finish = Some(reason.clone());
            }
            StreamEvent::Error(error) => {
                self.closed = true;
                out.push(anthropic_error_event(error.kind, &error.message));
            }
        }
        out
    }

    /// After a `Finish`: the closing `message_delta` and `message_stop`.
    pub fn flush(&mut self) -> Vec<AnthropicSse> {
        let mut out = Vec::new();
        if !self.closed && self.finish.is_some() {
            self.end(&mut out);
        }
        out
    }

    /// Close the message if it is still open (an `end_turn`, or `tool_use` after
    /// tool calls, when no finish reason came). Nothing after an error.
    pub fn finish(&mut self) -> Vec<AnthropicSse> {
        let mut out = Vec::new();
        if !self.closed {
            self.start(&mut out);
            self.close(&mut out);
            self.end(&mut out);
        }
        out
    }

    fn start(&mut self, out: &mut Vec<AnthropicSse>) {
        if self.started {
            return;
        }
        self.started = true;
        out.push((
            "message_start",
            format!(
                "{{\"type\":\"message_start\",\"message\":{{\"id\":{},\"type\":\"message\",\"role\":\"assistant\",\"model\":{},\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{}}}}}",
                quoted(&self.id),
                quoted(&self.model),
                usage_json(&self.usage)
            ),
        ));
    }

    /// Open a block of `kind` unless one is open already.
    fn ensure_open(&mut self, out: &mut Vec<AnthropicSse>, kind: Open) {
        self.start(out);
        if self.open == kind {
            return;
        }
        self.close(out);
        let block = match kind {
            Open::Text => "{\"type\":\"text\",\"text\":\"\"}",
            _ => "{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}",
        };
        self.open_block(out, kind, block);
    }

    fn open_block(&mut self, out: &mut Vec<AnthropicSse>, kind: Open, block: &str) {
        out.push((
            "content_block_start",
            format!(
                "{{\"type\":\"content_block_start\",\"index\":{},\"content_block\":{block}}}",
                self.next_index
            ),
        ));
        self.next_index += 1;
        self.open = kind;
    }

    fn delta(&self, out: &mut Vec<AnthropicSse>, kind: &str, field: &str, value: &str) {
        out.push((
            "content_block_delta",
            format!(
                "{{\"type\":\"content_block_delta\",\"index\":{},\"delta\":{{\"type\":\"{kind}\",\"{field}\":{}}}}}",
                self.next_index.saturating_sub(1),
                quoted(value)
            ),
        ));
    }

    fn close(&mut self, out: &mut Vec<AnthropicSse>) {
        if self.open != Open::None {
            self.close_index(out);
        }
    }

    fn close_index(&mut self, out: &mut Vec<AnthropicSse>) {
        self.open = Open::None;
        out.push((
            "content_block_stop",
            format!(
                "{{\"type\":\"content_block_stop\",\"index\":{}}}",
                self.next_index.saturating_sub(1)
            ),
        ));
    }

    fn end(&mut self, out: &mut Vec<AnthropicSse>) {
        self.closed = true;
        let (stop_reason, stop_sequence) = stop_fields(self.finish.as_ref(), self.tool_calls);
        let stop_sequence = stop_sequence.map_or_else(|| "null".to_owned(), quoted);
        out.push((
            "message_delta",
            format!(
                "{{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":{},\"stop_sequence\":{stop_sequence}}},\"usage\":{}}}",
                quoted(stop_reason),
                usage_json(&self.usage)
            ),
        ));
        out.push(("message_stop", "{\"type\":\"message_stop\"}".to_owned()));
    }
}

#[cfg(test)]
#[path = "encode_anthropic_tests.rs"]
mod tests;
