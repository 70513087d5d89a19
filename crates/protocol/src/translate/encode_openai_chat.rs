//! IR → OpenAI Chat Completions answers: a whole `chat.completion`, or a stream of
//! `chat.completion.chunk`s from [`ChatChunkEncoder`].
//!
//! Stream shape (as the API streams it): the first chunk's delta carries
//! `role: "assistant"`; text goes in `delta.content`, reasoning in
//! `delta.reasoning_content` (the convention of reasoning-capable compatible
//! servers); each tool call is `delta.tool_calls[{index, id, type, function:{name,
//! arguments: ""}}]` followed by argument fragments under the same `index`; the
//! last choice chunk has `finish_reason`; with `stream_options.include_usage` a
//! final chunk has `choices: []` and `usage`. A mid-stream error becomes
//! `{"error": {...}}` as a data line, which the OpenAI SDKs raise. The caller
//! writes `data: [DONE]`.
//!
//! Each chunk is serialized once: the fixed head (`id`, `object`, `created`,
//! `model`) is rendered when the encoder is built and reused.

use serde::Serialize;
use serde_json::Value;

use crate::error::{Dialect, ErrorBody};
use crate::ir::{ContentBlock, FinishReason, Response, StreamEvent, Usage};
use crate::openai::{
    ChatChoice, ChatCompletion, ChatFunctionCall, ChatResponseMessage, ChatToolCall, ChatUsage,
};

/// OpenAI's `finish_reason` for an IR reason.
pub fn openai_finish_reason(reason: &FinishReason) -> &'static str {
    match reason {
        FinishReason::Stop | FinishReason::StopSequence(_) | FinishReason::Other(_) => "stop",
        FinishReason::Length => "length",
        FinishReason::ToolCalls => "tool_calls",
        FinishReason::ContentFilter => "content_filter",
    }
}

/// Arguments as the JSON string OpenAI sends; arguments kept raw because they
/// were malformed (`{"_raw": "…"}`) go back as they came.
pub(crate) fn arguments_string(arguments: &Value) -> String {
    if let Value::Object(map) = arguments
        && map.len() == 1
        && let Some(Value::String(raw)) = map.get("_raw")
    {
        return raw.clone();
    }
    arguments.to_string()
}

/// A whole answer as `chat.completion`.
pub fn encode_chat_completion(
    resp: &Response,
    id: &str,
    model: &str,
    created: u64,
) -> ChatCompletion {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut tool_calls = Vec::new();
    for block in &resp.content {
        match block {
            ContentBlock::Text { text: t } => text.push_str(t),
            ContentBlock::Thinking { text: t, .. } => reasoning.push_str(t),
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
                ..
            } => tool_calls.push(ChatToolCall {
                id: id.clone(),
                kind: Some("function".to_owned()),
                function: ChatFunctionCall {
                    name: name.clone(),
                    arguments: Value::String(arguments_string(arguments)),
                },
            }),
            _ => {}
        }
    }
    let finish = match &resp.finish_reason {
        Some(r) => openai_finish_reason(r),
        None if !tool_calls.is_empty() => "tool_calls",
        None => "stop",
    };
    ChatCompletion {
        id: id.to_owned(),
        object: "chat.completion".to_owned(),
        created,
        model: model.to_owned(),
        choices: vec![ChatChoice {
            index: 0,
            message: ChatResponseMessage {
                role: "assistant".to_owned(),
                content: (!text.is_empty() || tool_calls.is_empty()).then_some(text),
                reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
                tool_calls,
                refusal: None,
            },
            logprobs: None,
            finish_reason: Some(finish.to_owned()),
        }],
        usage: Some(ChatUsage::from(&resp.usage)),
        system_fingerprint: None,
    }
}

#[derive(Serialize)]
struct ChunkChoice<'a> {
    index: u32,
    delta: Delta<'a>,
    logprobs: Option<()>,
    finish_reason: Option<&'a str>,
}

#[derive(Serialize, Default)]
struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<[ToolCallDelta<'a>; 1]>,
}

#[derive(Serialize)]
struct ToolCallDelta<'a> {
    index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    function: FunctionDelta<'a>,
}

#[derive(Serialize)]
struct FunctionDelta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    arguments: &'a str,
}

/// Stateful encoder of one streamed answer into `chat.completion.chunk` JSON
/// texts (each the payload of one `data:` line).
#[derive(Debug)]
pub struct ChatChunkEncoder {
    /// `{"id":…,"object":"chat.completion.chunk","created":…,"model":…,"system_fingerprint":null,"choices":`
    head: String,
    include_usage: bool,
    role_sent: bool,
    /// Index of the open tool call; tool calls seen so far.
    tool_calls: u32,
    usage: Option<Usage>,
    finished: bool,
    errored: bool,
}

impl ChatChunkEncoder {
    pub fn new(id: &str, model: &str, created: u64, include_usage: bool) -> Self {
        let head = format!(
            "{{\"id\":{},\"object\":\"chat.completion.chunk\",\"created\":{created},\"model\":{},\"system_fingerprint\":null,\"choices\":",
            Value::from(id),
            Value::from(model),
        );
        Self {
            head,
            include_usage,
            role_sent: false,
            tool_calls: 0,
            usage: None,
            finished: false,
            errored: false,
        }
    }

    /// The chunks for one event (often one, sometimes none).
    pub fn event(&mut self, event: &StreamEvent) -> Vec<String> {
        let mut out = Vec::new();
        if self.errored {
            return out;
        }
        match event {
            StreamEvent::Start { .. } => {
                if !self.role_sent {
                    self.push_delta(
                        &mut out,
                        Delta {
                            content: Some(""),
                            ..Delta::default()
                        },
                        None,
                    );
                }
            }
            StreamEvent::TextDelta(text) if !text.is_empty() => {
                self.push_delta(
                    &mut out,
                    Delta {
                        content: Some(text),
                        ..Delta::default()
                    },
                    None,
                );
            }
            StreamEvent::ThinkingDelta(text) if !text.is_empty() => {
                self.push_delta(
                    &mut out,
                    Delta {
                        reasoning_content: Some(text),
                        ..Delta::default()
                    },
                    None,
                );
            }
            StreamEvent::ToolCallStart { id, name } => {
                let index = self.tool_calls;
                self.tool_calls += 1;
                self.push_delta(
                    &mut out,
                    Delta {
                        tool_calls: Some([ToolCallDelta {
                            index,
                            id: Some(id),
                            kind: Some("function"),
                            function: FunctionDelta {
                                name: Some(name),
                                arguments: "",
                            },
                        }]),
                        ..Delta::default()
                    },
                    None,
                );
            }
            StreamEvent::ToolCallDelta(fragment) if !fragment.is_empty() && self.tool_calls > 0 => {
                let index = self.tool_calls - 1;
                self.push_delta(
                    &mut out,
                    Delta {
                        tool_calls: Some([ToolCallDelta {
                            index,
                            id: None,
                            kind: None,
                            function: FunctionDelta {
                                name: None,
                                arguments: fragment,
                            },
                        }]),
                        ..Delta::default()
                    },
                    None,
                );
            }
            StreamEvent::Usage(usage) => {
                let merged = self.usage.get_or_insert_with(Usage::default);
                merged.merge(usage);
            }
            StreamEvent::Finish(reason) => {
                if !self.finished {
                    self.finished = true;
                    let reason = match reason {
                        FinishReason::Stop if self.tool_calls > 0 => "tool_calls",
                        other => openai_finish_reason(other),
                    };
                    self.push_delta(&mut out, Delta::default(), Some(reason));
                }
            }
            StreamEvent::Error(error) => {
                self.errored = true;
                let body = ErrorBody::new(Dialect::OpenAi, error.kind, error.message.clone());
                out.push(body.to_json(Dialect::OpenAi).to_string());
            }
            StreamEvent::TextDelta(_)
            | StreamEvent::ThinkingDelta(_)
            | StreamEvent::ToolCallDelta(_)
            | StreamEvent::RedactedThinking(_)
            | StreamEvent::Signature(_) => {}
        }
        out
    }

    /// Nothing is held back by this encoder; present so that every client
    /// encoder has the same `event` / `flush` / `finish` shape.
    pub fn flush(&mut self) -> Vec<String> {
        Vec::new()
    }

    /// The closing chunks: a finish chunk if none was sent, then the usage chunk
    /// when asked for. Nothing after an error.
    pub fn finish(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        if self.errored {
            return out;
        }
        if !self.finished {
            self.finished = true;
            let reason = if self.tool_calls > 0 {
                "tool_calls"
            } else {
                "stop"
            };
            self.push_delta(&mut out, Delta::default(), Some(reason));
        }
        if self.include_usage {
            let usage = ChatUsage::from(&self.usage.unwrap_or_default());
            let usage = crate::json::to_string(&usage).unwrap_or_else(|_| "null".to_owned());
            out.push(format!("{}[],\"usage\":{usage}}}", self.head));
        }
        out
    }

    fn push_delta(&mut self, out: &mut Vec<String>, mut delta: Delta<'_>, finish: Option<&str>) {
        if !self.role_sent {
            self.role_sent = true;
            delta.role = Some("assistant");
        }
        let choice = [ChunkChoice {
            index: 0,
            delta,
            logprobs: None,
            finish_reason: finish,
        }];
        let mut chunk = Vec::with_capacity(self.head.len() + 160);
        chunk.extend_from_slice(self.head.as_bytes());
        if crate::json::to_writer(&mut chunk, &choice).is_err() {
            return;
        }
        chunk.push(b'}');
        if let Ok(chunk) = String::from_utf8(chunk) {
            out.push(chunk);
        }
    }
}

#[cfg(test)]
#[path = "encode_openai_chat_tests.rs"]
mod tests;
