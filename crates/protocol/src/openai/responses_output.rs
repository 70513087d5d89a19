//! OpenAI Responses answer shapes: the `response` object, its output items and
//! usage, and the streamed events (`response.created` … `response.completed`).
//!
//! Serialized the way the API does, `null`s included, so that the official SDKs'
//! models parse them. Item and event types this version does not know are kept
//! verbatim in an `Other` variant rather than failing a parse.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::responses::{ResponsesReasoningConfig, ResponsesTextConfig};

/// The `response` object (`object: "response"`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ResponsesResponse {
    /// `resp_…`.
    pub id: String,
    /// Always `response`.
    pub object: String,
    /// Unix seconds.
    pub created_at: u64,
    /// `in_progress`, `completed`, `incomplete` or `failed`.
    pub status: String,
    pub background: bool,
    pub error: Option<ResponsesError>,
    pub incomplete_details: Option<ResponsesIncompleteDetails>,
    pub instructions: Option<String>,
    pub max_output_tokens: Option<u32>,
    pub model: String,
    pub output: Vec<ResponsesOutputItem>,
    pub parallel_tool_calls: bool,
    pub previous_response_id: Option<String>,
    pub prompt_cache_key: Option<String>,
    pub reasoning: Option<ResponsesReasoningConfig>,
    pub service_tier: Option<String>,
    pub store: bool,
    pub temperature: Option<f64>,
    pub text: ResponsesTextConfig,
    /// As the client sent it (`"auto"` when it did not).
    pub tool_choice: Value,
    /// As the client sent them.
    pub tools: Vec<Value>,
    pub top_p: Option<f64>,
    pub truncation: Option<String>,
    pub usage: Option<ResponsesUsage>,
    pub user: Option<String>,
    pub metadata: Map<String, Value>,
}

/// `error` of a failed response. `code` is one the SDKs know: `server_error`,
/// `rate_limit_exceeded`, `invalid_prompt`, ….
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResponsesError {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

/// `incomplete_details`: `max_output_tokens` or `content_filter`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResponsesIncompleteDetails {
    #[serde(default)]
    pub reason: String,
}

/// Token usage in OpenAI's convention: `input_tokens` includes cached tokens,
/// `output_tokens` includes reasoning tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ResponsesUsage {
    pub input_tokens: u64,
    pub input_tokens_details: ResponsesInputTokensDetails,
    pub output_tokens: u64,
    pub output_tokens_details: ResponsesOutputTokensDetails,
    pub total_tokens: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResponsesInputTokensDetails {
    #[serde(default)]
    pub cached_tokens: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResponsesOutputTokensDetails {
    #[serde(default)]
    pub reasoning_tokens: u64,
}

impl From<&crate::ir::Usage> for ResponsesUsage {
    fn from(u: &crate::ir::Usage) -> Self {
        Self {
            input_tokens: u.input_tokens,
            input_tokens_details: ResponsesInputTokensDetails {
                cached_tokens: u.cached_input_tokens,
            },
            output_tokens: u.output_tokens,
            output_tokens_details: ResponsesOutputTokensDetails {
                reasoning_tokens: u.reasoning_tokens,
            },
            total_tokens: u.total_tokens(),
        }
    }
}

/// One item of `output`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponsesOutputItem {
    Message(ResponsesOutputMessage),
    Reasoning(ResponsesReasoningItem),
    FunctionCall(ResponsesFunctionCall),
    CustomToolCall(ResponsesCustomToolCall),
    LocalShellCall(ResponsesLocalShellCall),
    /// An item of another type (hosted tool calls …), kept verbatim.
    #[serde(untagged)]
    Other(Value),
}

impl ResponsesOutputItem {
    /// The item's `id`.
    pub fn id(&self) -> Option<&str> {
        match self {
            ResponsesOutputItem::Message(m) => Some(&m.id),
            ResponsesOutputItem::Reasoning(r) => Some(&r.id),
            ResponsesOutputItem::FunctionCall(f) => Some(&f.id),
            ResponsesOutputItem::CustomToolCall(c) => Some(&c.id),
            ResponsesOutputItem::LocalShellCall(l) => Some(&l.id),
            ResponsesOutputItem::Other(v) => v.get("id").and_then(Value::as_str),
        }
    }

    /// Set the item's `status` (`in_progress`, `completed`, `incomplete`).
    pub fn set_status(&mut self, status: &str) {
        match self {
            ResponsesOutputItem::Message(m) => m.status = status.to_owned(),
            ResponsesOutputItem::Reasoning(r) => r.status = Some(status.to_owned()),
            ResponsesOutputItem::FunctionCall(f) => f.status = status.to_owned(),
            ResponsesOutputItem::CustomToolCall(c) => c.status = Some(status.to_owned()),
            ResponsesOutputItem::LocalShellCall(l) => l.status = status.to_owned(),
            ResponsesOutputItem::Other(_) => {}
        }
    }
}

/// An assistant message.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResponsesOutputMessage {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub status: String,
    /// Always `assistant`.
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub content: Vec<ResponsesOutputContent>,
}

/// A part of an assistant message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponsesOutputContent {
    OutputText {
        #[serde(default)]
        text: String,
        #[serde(default)]
        annotations: Vec<Value>,
        #[serde(default)]
        logprobs: Vec<Value>,
    },
    Refusal {
        #[serde(default)]
        refusal: String,
    },
    #[serde(untagged)]
    Other(Value),
}

impl ResponsesOutputContent {
    pub fn output_text(text: impl Into<String>) -> Self {
        ResponsesOutputContent::OutputText {
            text: text.into(),
            annotations: Vec::new(),
            logprobs: Vec::new(),
        }
    }
}

/// A reasoning item: visible summary parts and opaque state to replay.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResponsesReasoningItem {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub summary: Vec<ResponsesSummaryPart>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<ResponsesSummaryPart>>,
    #[serde(default)]
    pub encrypted_content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// `{"type":"summary_text","text"}` (or `reasoning_text` in `content`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResponsesSummaryPart {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub text: String,
}

impl ResponsesSummaryPart {
    pub fn summary_text(text: impl Into<String>) -> Self {
        Self {
            kind: "summary_text".to_owned(),
            text: text.into(),
        }
    }
}

/// A call of a client function; `arguments` is a JSON string.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResponsesFunctionCall {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub call_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub arguments: String,
    #[serde(default)]
    pub status: String,
}

/// A call of a `custom` (free-form) tool.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResponsesCustomToolCall {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub call_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub input: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A call of the `local_shell` tool.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResponsesLocalShellCall {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub call_id: String,
    #[serde(default)]
    pub action: ResponsesLocalShellAction,
    #[serde(default)]
    pub status: String,
}

/// `{"type":"exec","command":[…],"env":{},"timeout_ms","user","working_directory"}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResponsesLocalShellAction {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub command: Vec<String>,
    #[serde(default)]
    pub env: Map<String, Value>,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub working_directory: Option<String>,
}

/// A streamed event. Every event carries `sequence_number`; the SSE `event:` name
/// equals `type` ([`ResponsesStreamEvent::event_type`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ResponsesStreamEvent {
    #[serde(rename = "response.created")]
    Created {
        response: Box<ResponsesResponse>,
        sequence_number: u64,
    },
    #[serde(rename = "response.in_progress")]
    InProgress {
        response: Box<ResponsesResponse>,
        sequence_number: u64,
    },
    #[serde(rename = "response.completed")]
    Completed {
        response: Box<ResponsesResponse>,
        sequence_number: u64,
    },
    #[serde(rename = "response.incomplete")]
    Incomplete {
        response: Box<ResponsesResponse>,
        sequence_number: u64,
    },
    #[serde(rename = "response.failed")]
    Failed {
        response: Box<ResponsesResponse>,
        sequence_number: u64,
    },
    #[serde(rename = "response.output_item.added")]
    OutputItemAdded {
        output_index: usize,
        item: ResponsesOutputItem,
        sequence_number: u64,
    },
    #[serde(rename = "response.output_item.done")]
    OutputItemDone {
        output_index: usize,
        item: ResponsesOutputItem,
        sequence_number: u64,
    },
    #[serde(rename = "response.content_part.added")]
    ContentPartAdded {
        item_id: String,
        output_index: usize,
        content_index: usize,
        part: ResponsesOutputContent,
        sequence_number: u64,
    },
    #[serde(rename = "response.content_part.done")]
    ContentPartDone {
        item_id: String,
        output_index: usize,
        content_index: usize,
        part: ResponsesOutputContent,
        sequence_number: u64,
    },
    #[serde(rename = "response.output_text.delta")]
    OutputTextDelta {
        item_id: String,
        output_index: usize,
        content_index: usize,
        delta: String,
        #[serde(default)]
        logprobs: Vec<Value>,
        sequence_number: u64,
    },
    #[serde(rename = "response.output_text.done")]
    OutputTextDone {
        item_id: String,
        output_index: usize,
        content_index: usize,
        text: String,
        #[serde(default)]
        logprobs: Vec<Value>,
        sequence_number: u64,
    },
    #[serde(rename = "response.refusal.delta")]
    RefusalDelta {
        item_id: String,
        output_index: usize,
        content_index: usize,
        delta: String,
        sequence_number: u64,
    },
    #[serde(rename = "response.refusal.done")]
    RefusalDone {
        item_id: String,
        output_index: usize,
        content_index: usize,
        refusal: String,
        sequence_number: u64,
    },
    #[serde(rename = "response.function_call_arguments.delta")]
    FunctionCallArgumentsDelta {
        item_id: String,
        output_index: usize,
        delta: String,
        sequence_number: u64,
    },
    #[serde(rename = "response.function_call_arguments.done")]
    FunctionCallArgumentsDone {
        item_id: String,
        output_index: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        arguments: String,
        sequence_number: u64,
    },
    #[serde(rename = "response.custom_tool_call_input.delta")]
    CustomToolCallInputDelta {
        item_id: String,
        output_index: usize,
        delta: String,
        sequence_number: u64,
    },
    #[serde(rename = "response.custom_tool_call_input.done")]
    CustomToolCallInputDone {
        item_id: String,
        output_index: usize,
        input: String,
        sequence_number: u64,
    },
    #[serde(rename = "response.reasoning_summary_part.added")]
    ReasoningSummaryPartAdded {
        item_id: String,
        output_index: usize,
        summary_index: usize,
        part: ResponsesSummaryPart,
        sequence_number: u64,
    },
    #[serde(rename = "response.reasoning_summary_part.done")]
    ReasoningSummaryPartDone {
        item_id: String,
        output_index: usize,
        summary_index: usize,
        part: ResponsesSummaryPart,
        sequence_number: u64,
    },
    #[serde(rename = "response.reasoning_summary_text.delta")]
    ReasoningSummaryTextDelta {
        item_id: String,
        output_index: usize,
        summary_index: usize,
        delta: String,
        sequence_number: u64,
    },
    #[serde(rename = "response.reasoning_summary_text.done")]
    ReasoningSummaryTextDone {
        item_id: String,
        output_index: usize,
        summary_index: usize,
        text: String,
        sequence_number: u64,
    },
    #[serde(rename = "response.reasoning_text.delta")]
    ReasoningTextDelta {
        item_id: String,
        output_index: usize,
        content_index: usize,
        delta: String,
        sequence_number: u64,
    },
    #[serde(rename = "response.reasoning_text.done")]
    ReasoningTextDone {
        item_id: String,
        output_index: usize,
        content_index: usize,
        text: String,
        sequence_number: u64,
    },
    /// A stream-level error (the API sends it for failures outside a response).
    #[serde(rename = "error")]
    Error {
        #[serde(default)]
        code: Option<String>,
        #[serde(default)]
        message: String,
        #[serde(default)]
        param: Option<String>,
        sequence_number: u64,
    },
    /// Any other event (hosted tools, audio, …), kept verbatim.
    #[serde(untagged)]
    Other(Value),
}

impl ResponsesStreamEvent {
    /// The event's `type`, which is also its SSE `event:` name.
    pub fn event_type(&self) -> &str {
        match self {
            ResponsesStreamEvent::Other(v) => v.get("type").and_then(Value::as_str).unwrap_or(""),
            known => known.known_type().unwrap_or(""),
        }
    }

    /// Set `sequence_number` (an `Other` event is left as it is).
    pub fn set_sequence_number(&mut self, n: u64) {
        use ResponsesStreamEvent as E;
        match self {
            E::Created {
                sequence_number, ..
            }
            | E::InProgress {
                sequence_number, ..
            }
            | E::Completed {
                sequence_number, ..
            }
            | E::Incomplete {
                sequence_number, ..
            }
            | E::Failed {
                sequence_number, ..
            }
            | E::OutputItemAdded {
                sequence_number, ..
            }
            | E::OutputItemDone {
                sequence_number, ..
            }
            | E::ContentPartAdded {
                sequence_number, ..
            }
            | E::ContentPartDone {
                sequence_number, ..
            }
            | E::OutputTextDelta {
                sequence_number, ..
            }
            | E::OutputTextDone {
                sequence_number, ..
            }
            | E::RefusalDelta {
                sequence_number, ..
            }
            | E::RefusalDone {
                sequence_number, ..
            }
            | E::FunctionCallArgumentsDelta {
                sequence_number, ..
            }
            | E::FunctionCallArgumentsDone {
                sequence_number, ..
            }
            | E::CustomToolCallInputDelta {
                sequence_number, ..
            }
            | E::CustomToolCallInputDone {
                sequence_number, ..
            }
            | E::ReasoningSummaryPartAdded {
                sequence_number, ..
            }
            | E::ReasoningSummaryPartDone {
                sequence_number, ..
            }
            | E::ReasoningSummaryTextDelta {
                sequence_number, ..
            }
            | E::ReasoningSummaryTextDone {
                sequence_number, ..
            }
            | E::ReasoningTextDelta {
                sequence_number, ..
            }
            | E::ReasoningTextDone {
                sequence_number, ..
            }
            | E::Error {
                sequence_number, ..
            } => *sequence_number = n,
            E::Other(_) => {}
        }
    }

    /// The `type` of a known event; `None` for [`ResponsesStreamEvent::Other`].
    pub fn known_type(&self) -> Option<&'static str> {
        Some(match self {
            ResponsesStreamEvent::Created { .. } => "response.created",
            ResponsesStreamEvent::InProgress { .. } => "response.in_progress",
            ResponsesStreamEvent::Completed { .. } => "response.completed",
            ResponsesStreamEvent::Incomplete { .. } => "response.incomplete",
            ResponsesStreamEvent::Failed { .. } => "response.failed",
            ResponsesStreamEvent::OutputItemAdded { .. } => "response.output_item.added",
            ResponsesStreamEvent::OutputItemDone { .. } => "response.output_item.done",
            ResponsesStreamEvent::ContentPartAdded { .. } => "response.content_part.added",
            ResponsesStreamEvent::ContentPartDone { .. } => "response.content_part.done",
            ResponsesStreamEvent::OutputTextDelta { .. } => "response.output_text.delta",
            ResponsesStreamEvent::OutputTextDone { .. } => "response.output_text.done",
            ResponsesStreamEvent::RefusalDelta { .. } => "response.refusal.delta",
            ResponsesStreamEvent::RefusalDone { .. } => "response.refusal.done",
            ResponsesStreamEvent::FunctionCallArgumentsDelta { .. } => {
                "response.function_call_arguments.delta"
            }
            ResponsesStreamEvent::FunctionCallArgumentsDone { .. } => {
                "response.function_call_arguments.done"
            }
            ResponsesStreamEvent::CustomToolCallInputDelta { .. } => {
                "response.custom_tool_call_input.delta"
            }
            ResponsesStreamEvent::CustomToolCallInputDone { .. } => {
                "response.custom_tool_call_input.done"
            }
            ResponsesStreamEvent::ReasoningSummaryPartAdded { .. } => {
                "response.reasoning_summary_part.added"
            }
            ResponsesStreamEvent::ReasoningSummaryPartDone { .. } => {
                "response.reasoning_summary_part.done"
            }
            ResponsesStreamEvent::ReasoningSummaryTextDelta { .. } => {
                "response.reasoning_summary_text.delta"
            }
            ResponsesStreamEvent::ReasoningSummaryTextDone { .. } => {
                "response.reasoning_summary_text.done"
            }
            ResponsesStreamEvent::ReasoningTextDelta { .. } => "response.reasoning_text.delta",
            ResponsesStreamEvent::ReasoningTextDone { .. } => "response.reasoning_text.done",
            ResponsesStreamEvent::Error { .. } => "error",
            ResponsesStreamEvent::Other(_) => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_items_and_events_are_kept_verbatim() {
        let item: ResponsesOutputItem =
            serde_json::from_value(json!({"type": "web_search_call", "id": "ws_1"})).unwrap();
        assert_eq!(item.id(), Some("ws_1"));
        assert!(matches!(item, ResponsesOutputItem::Other(_)));
        let event: ResponsesStreamEvent = serde_json::from_value(
            json!({"type": "response.web_search_call.searching", "sequence_number": 3}),
        )
        .unwrap();
        assert_eq!(event.event_type(), "response.web_search_call.searching");
    }

    #[test]
    fn known_items_round_trip_with_their_type_tag() {
        let item = ResponsesOutputItem::FunctionCall(ResponsesFunctionCall {
            id: "fc_1".into(),
            call_id: "call_1".into(),
            name: "f".into(),
            arguments: "{}".into(),
            status: "completed".into(),
        });
        let v = serde_json::to_value(&item).unwrap();
        assert_eq!(v["type"], "function_call");
        assert_eq!(
            serde_json::from_value::<ResponsesOutputItem>(v).unwrap(),
            item
        );
        let event = ResponsesStreamEvent::OutputTextDelta {
            item_id: "msg_1".into(),
            output_index: 0,
            content_index: 0,
            delta: "hi".into(),
            logprobs: Vec::new(),
            sequence_number: 4,
        };
        let v = serde_json::to_value(&event).unwrap();
        assert_eq!(v["type"], "response.output_text.delta");
        assert_eq!(
            serde_json::from_value::<ResponsesStreamEvent>(v).unwrap(),
            event
        );
    }
}
