//! Anthropic Messages answers (the API, or an Anthropic-compatible upstream such
//! as z.ai) → IR: the SSE stream ([`AnthropicStreamDecoder`]), a whole message
//! ([`decode_anthropic_message`]) and error bodies ([`anthropic_error_kind`]).
//!
//! Stream events, per the streaming reference: `message_start` → `Start` (and the
//! usage known so far); `content_block_start` opens a block by index —
//! `text`, `thinking` (a `ThinkingDelta`, empty when the text is still to come, so
//! that a new thinking block is always a new IR block), `redacted_thinking`
//! (`RedactedThinking`, whole), `tool_use` (`ToolCallStart`, plus its `input` when
//! the start already carries a non-empty one); `content_block_delta` —
//! `text_delta`, `thinking_delta`, `signature_delta` (`Signature` of the upstream
//! model's family: Claude for Claude models), `input_json_delta`
//! (`ToolCallDelta`); `message_delta` → `Usage` and `Finish`; `message_stop` ends
//! (a `Finish` if none came); `ping` is ignored; `error` → `Error` with the kind of
//! its `error.type`. Server-tool blocks (`server_tool_use`,
//! `web_search_tool_result`), citations and block types this version does not
//! know are skipped, as are unknown event types (the API reserves the right to
//! add them). Consecutive text blocks merge into one IR text block.
//!
//! Usage: Anthropic's `input_tokens` excludes cache reads and writes; the IR's
//! includes them (`input = input_tokens + cache_read + cache_creation`). Figures
//! are cumulative; `message_delta` repeats or extends what `message_start` said.

use serde::Deserialize;

use super::util::parse_body;
use crate::anthropic::{
    AnthropicContentBlock, AnthropicDelta, AnthropicErrorDetail, AnthropicErrorResponse,
    AnthropicMessage, AnthropicStreamEvent, AnthropicUsage,
};
use crate::error::ErrorKind;
use crate::ir::{
    ContentBlock, FinishReason, ModelFamily, Response, Signature, StreamError, StreamEvent, Usage,
};

/// Event names the decoder knows; other names are skipped.
const KNOWN_EVENTS: &[&str] = &[
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
    "error",
];

/// An error message is cut to this many characters.
const MAX_MESSAGE_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq)]
enum Block {
    Text,
    /// A signature that came in the block's start, sent at its stop.
    Thinking(Option<String>),
    ToolUse,
    Skipped,
}

/// Stateful decoder of one Anthropic SSE answer.
#[derive(Debug)]
pub struct AnthropicStreamDecoder {
    family: ModelFamily,
    started: bool,
    saw_finish: bool,
    failed: bool,
    saw_tool_use: bool,
    /// Open blocks by their index.
    blocks: Vec<(u32, Block)>,
    usage: AnthropicUsage,
    last_usage: Usage,
    next_call: u32,
}

impl AnthropicStreamDecoder {
    /// A decoder for an answer from `upstream_model`; signatures are attributed to
    /// that model's family.
    pub fn new(upstream_model: &str) -> Self {
        Self {
            family: ModelFamily::of(upstream_model),
            started: false,
            saw_finish: false,
            failed: false,
            saw_tool_use: false,
            blocks: Vec::new(),
            usage: AnthropicUsage::default(),
            last_usage: Usage::default(),
            next_call: 0,
        }
    }

    /// Whether a `Finish` was emitted. A stream that ends without one was cut.
    pub fn saw_finish(&self) -> bool {
        self.saw_finish
    }

    /// Whether `Start` was emitted.
    pub fn started(&self) -> bool {
        self.started
    }

    /// Decode one SSE event: its `event:` name (when it had one) and its `data`.
    /// The payload's own `type` wins over the name. Malformed data becomes an
    /// `Error` event; nothing is decoded after an `Error`.
    pub fn push_event(
        &mut self,
        event_name: Option<&str>,
        data: &[u8],
        out: &mut Vec<StreamEvent>,
    ) {
        let data = data.trim_ascii();
        if self.failed || data.is_empty() {
            return;
        }
        match parse_body::<AnthropicStreamEvent>(data) {
            Ok(event) => self.push(event, out),
            Err(e) => match self.recover(event_name, data) {
                Recovered::Event(event) => self.push(*event, out),
                Recovered::Skip => {}
                Recovered::Malformed => {
                    self.failed = true;
                    out.push(StreamEvent::Error(StreamError::new(
                        ErrorKind::Upstream,
                        format!("malformed upstream event: {e}"),
                    )));
                }
            },
        }
    }

    /// A payload that did not parse: an unknown event type (skipped), a known one
    /// whose `type` is only in the SSE name, or a malformed one.
    fn recover(&self, event_name: Option<&str>, data: &[u8]) -> Recovered {
        #[derive(Deserialize)]
        struct Typed {
            #[serde(rename = "type")]
            kind: Option<String>,
        }
        let Ok(Typed { kind }) = serde_json::from_slice::<Typed>(data) else {
            return Recovered::Malformed;
        };
        match (kind.as_deref(), event_name) {
            (Some(kind), _) if !KNOWN_EVENTS.contains(&kind) => Recovered::Skip,
            (Some(_), _) => Recovered::Malformed,
            (None, Some(name)) if !KNOWN_EVENTS.contains(&name) => Recovered::Skip,
            (None, Some(name)) => {
                let Ok(serde_json::Value::Object(mut map)) =
                    serde_json::from_slice::<serde_json::Value>(data)
                else {
                    return Recovered::Malformed;
                };
                map.insert("type".to_owned(), serde_json::Value::from(name));
                serde_json::from_value(serde_json::Value::Object(map))
                    .map_or(Recovered::Malformed, |e| Recovered::Event(Box::new(e)))
            }
            (None, None) => Recovered::Skip,
        }
    }

    /// Decode one parsed event.
    pub fn push(&mut self, event: AnthropicStreamEvent, out: &mut Vec<StreamEvent>) {
        if self.failed {
            return;
        }
        match event {
            AnthropicStreamEvent::MessageStart { message } => {
                if !self.started {
                    self.started = true;
                    out.push(StreamEvent::Start {
                        id: Some(message.id).filter(|s| !s.is_empty()),
                        model: Some(message.model).filter(|s| !s.is_empty()),
                    });
                }
                self.merge_usage(&message.usage, out);
            }
            AnthropicStreamEvent::ContentBlockStart {
                index,
                content_block,
            } => {
                self.ensure_started(out);
                let block = self.start_block(content_block, out);
                self.blocks.retain(|(i, _)| *i != index);
                self.blocks.push((index, block));
            }
            AnthropicStreamEvent::ContentBlockDelta { index, delta } => {
                self.ensure_started(out);
                self.delta(index, delta, out);
            }
            AnthropicStreamEvent::ContentBlockStop { index } => {
                let Some(pos) = self.blocks.iter().position(|(i, _)| *i == index) else {
                    return;
                };
                if let (_, Block::Thinking(Some(sig))) = self.blocks.swap_remove(pos) {
                    out.push(StreamEvent::Signature(Signature::new(
                        sig,
                        Some(self.family),
                    )));
                }
            }
            AnthropicStreamEvent::MessageDelta { delta, usage } => {
                self.ensure_started(out);
                self.merge_usage(&usage, out);
                if let Some(reason) = delta.stop_reason.as_deref().filter(|r| !r.is_empty())
                    && !self.saw_finish
                {
                    self.saw_finish = true;
                    out.push(StreamEvent::Finish(finish_reason(
                        reason,
                        delta.stop_sequence,
                    )));
                }
            }
            AnthropicStreamEvent::MessageStop => {
                if !self.saw_finish {
                    self.ensure_started(out);
                    self.saw_finish = true;
                    out.push(StreamEvent::Finish(if self.saw_tool_use {
                        FinishReason::ToolCalls
                    } else {
                        FinishReason::Stop
                    }));
                }
            }
            AnthropicStreamEvent::Ping => {}
            AnthropicStreamEvent::Error { error } => {
                self.failed = true;
                out.push(StreamEvent::Error(stream_error(&error)));
            }
        }
    }

    fn ensure_started(&mut self, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                id: None,
                model: None,
            });
        }
    }

    fn start_block(&mut self, block: AnthropicContentBlock, out: &mut Vec<StreamEvent>) -> Block {
        match block {
            AnthropicContentBlock::Text(t) => {
                if !t.text.is_empty() {
                    out.push(StreamEvent::TextDelta(t.text));
                }
                Block::Text
            }
            AnthropicContentBlock::Thinking(t) => {
                out.push(StreamEvent::ThinkingDelta(t.thinking));
                Block::Thinking(Some(t.signature).filter(|s| !s.is_empty()))
            }
            AnthropicContentBlock::RedactedThinking(r) => {
                out.push(StreamEvent::RedactedThinking(r.data));
                Block::Skipped
            }
            AnthropicContentBlock::ToolUse(u) => {
                self.saw_tool_use = true;
                let id = if u.id.is_empty() {
                    self.next_call += 1;
                    format!("toolu_{}", self.next_call)
                } else {
                    u.id
                };
                out.push(StreamEvent::ToolCallStart { id, name: u.name });
                if u.input.as_object().is_some_and(|o| !o.is_empty()) {
                    out.push(StreamEvent::ToolCallDelta(u.input.to_string()));
                }
                Block::ToolUse
            }
            _ => Block::Skipped,
        }
    }

    fn delta(&mut self, index: u32, delta: AnthropicDelta, out: &mut Vec<StreamEvent>) {
        let block = self
            .blocks
            .iter_mut()
            .find(|(i, _)| *i == index)
            .map(|(_, b)| b);
        if matches!(block, Some(Block::Skipped)) {
            return;
        }
        match delta {
            AnthropicDelta::TextDelta { text } if !text.is_empty() => {
                out.push(StreamEvent::TextDelta(text));
            }
            AnthropicDelta::ThinkingDelta { thinking } if !thinking.is_empty() => {
                out.push(StreamEvent::ThinkingDelta(thinking));
            }
            AnthropicDelta::SignatureDelta { signature } if !signature.is_empty() => {
                if let Some(Block::Thinking(pending)) = block {
                    *pending = None;
                }
                out.push(StreamEvent::Signature(Signature::new(
                    signature,
                    Some(self.family),
                )));
            }
            AnthropicDelta::InputJsonDelta { partial_json }
                if !partial_json.is_empty() && matches!(block, Some(Block::ToolUse)) =>
            {
                out.push(StreamEvent::ToolCallDelta(partial_json));
            }
            _ => {}
        }
    }

    fn merge_usage(&mut self, later: &AnthropicUsage, out: &mut Vec<StreamEvent>) {
        let u = &mut self.usage;
        for (field, value) in [
            (&mut u.input_tokens, later.input_tokens),
            (
                &mut u.cache_read_input_tokens,
                later.cache_read_input_tokens,
            ),
            (
                &mut u.cache_creation_input_tokens,
                later.cache_creation_input_tokens,
            ),
        ] {
            if value.is_some() {
                *field = value;
            }
        }
        if later.output_tokens != 0 {
            u.output_tokens = later.output_tokens;
        }
        let usage = usage_from(&self.usage);
        if usage != self.last_usage {
            self.last_usage = usage;
            out.push(StreamEvent::Usage(usage));
        }
    }
}

enum Recovered {
    Event(Box<AnthropicStreamEvent>),
    Skip,
    Malformed,
}

/// Token usage in the IR convention.
fn usage_from(u: &AnthropicUsage) -> Usage {
    let cached = u.cache_read_input_tokens.unwrap_or(0);
    let creation = u.cache_creation_input_tokens.unwrap_or(0);
    Usage {
        input_tokens: u.input_tokens.unwrap_or(0) + cached + creation,
        output_tokens: u.output_tokens,
        cached_input_tokens: cached,
        cache_creation_input_tokens: creation,
        reasoning_tokens: 0,
    }
}

/// The IR reason for Anthropic's `stop_reason`.
fn finish_reason(reason: &str, stop_sequence: Option<String>) -> FinishReason {
    match reason {
        "end_turn" => FinishReason::Stop,
        "max_tokens" => FinishReason::Length,
        "stop_sequence" => FinishReason::StopSequence(stop_sequence),
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

/// The kind of Anthropic's `error.type`, when it is one the API documents.
fn kind_of_type(kind: &str) -> Option<ErrorKind> {
    Some(match kind {
        "invalid_request_error" => ErrorKind::InvalidRequest,
        "authentication_error" => ErrorKind::Authentication,
        "permission_error" | "billing_error" => ErrorKind::PermissionDenied,
        "not_found_error" => ErrorKind::NotFound,
        "request_too_large" => ErrorKind::RequestTooLarge,
        "rate_limit_error" => ErrorKind::RateLimited,
        "api_error" => ErrorKind::Internal,
        "overloaded_error" => ErrorKind::Overloaded,
        "timeout_error" => ErrorKind::Timeout,
        _ => return None,
    })
}

fn stream_error(error: &AnthropicErrorDetail) -> StreamError {
    StreamError::new(
        kind_of_type(&error.kind).unwrap_or(ErrorKind::Upstream),
        if error.message.is_empty() {
            format!("upstream error ({})", error.kind)
        } else {
            error.message.clone()
        },
    )
}

/// The kind and message of an Anthropic error response
/// (`{"type":"error","error":{"type","message"}}`): the documented `error.type`
/// decides, else the HTTP status. A body of another shape (a proxy's HTML page)
/// gives its text, cut to 500 characters.
pub fn anthropic_error_kind(status: u16, body: &[u8]) -> (ErrorKind, String) {
    if let Ok(resp) = serde_json::from_slice::<AnthropicErrorResponse>(body)
        && (!resp.error.kind.is_empty() || !resp.error.message.is_empty())
    {
        let kind = kind_of_type(&resp.error.kind).unwrap_or_else(|| ErrorKind::from_status(status));
        let message = if resp.error.message.is_empty() {
            body_message(status, &[])
        } else {
            cut(&resp.error.message)
        };
        return (kind, message);
    }
    (ErrorKind::from_status(status), body_message(status, body))
}

/// A body's text, cut, or a line naming the status when it has none.
pub(crate) fn body_message(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        format!("upstream returned HTTP {status}")
    } else {
        cut(text)
    }
}

pub(crate) fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Decode a whole (non-streamed) Messages answer from `upstream_model`. An error
/// body, or one that is not a message, is an `Err`.
pub fn decode_anthropic_message(
    body: &[u8],
    upstream_model: &str,
) -> Result<Response, StreamError> {
    let msg: AnthropicMessage = serde_json::from_slice(body).map_err(|e| {
        StreamError::new(
            ErrorKind::Upstream,
            format!("malformed upstream answer: {e}"),
        )
    })?;
    if msg.kind == "error" {
        let detail = msg
            .extra
            .get("error")
            .and_then(|e| AnthropicErrorDetail::deserialize(e).ok())
            .unwrap_or_default();
        return Err(stream_error(&detail));
    }
    let family = ModelFamily::of(upstream_model);
    let mut content = Vec::with_capacity(msg.content.len());
    for block in msg.content {
        match block {
            AnthropicContentBlock::Text(t) if !t.text.is_empty() => {
                content.push(ContentBlock::Text { text: t.text });
            }
            AnthropicContentBlock::Thinking(t) => content.push(ContentBlock::Thinking {
                text: t.thinking,
                signature: Some(t.signature)
                    .filter(|s| !s.is_empty())
                    .map(|s| Signature::new(s, Some(family))),
            }),
            AnthropicContentBlock::RedactedThinking(r) => {
                content.push(ContentBlock::RedactedThinking { data: r.data });
            }
            AnthropicContentBlock::ToolUse(u) => content.push(ContentBlock::ToolCall {
                id: u.id,
                name: u.name,
                arguments: match u.input {
                    serde_json::Value::Object(_) => u.input,
                    serde_json::Value::Null => serde_json::json!({}),
                    other => serde_json::json!({ "_raw": other }),
                },
                signature: None,
            }),
            _ => {}
        }
    }
    Ok(Response {
        id: Some(msg.id).filter(|s| !s.is_empty()),
        model: Some(msg.model).filter(|s| !s.is_empty()),
        content,
        finish_reason: msg
            .stop_reason
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(|r| finish_reason(r, msg.stop_sequence)),
        usage: usage_from(&msg.usage),
    })
}

#[cfg(test)]
#[path = "decode_anthropic_stream_tests.rs"]
mod tests;
