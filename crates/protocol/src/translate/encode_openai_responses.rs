//! IR → OpenAI Responses answers: a whole `response` object
//! ([`encode_responses_response`]), and the output items both it and the stream
//! encoder ([`super::ResponsesStreamEncoder`]) build.
//!
//! Blocks become output items in order: text → `message` (one `output_text`
//! part, `annotations: []`); thinking → `reasoning` (the text as one
//! `summary_text` part; the signature, always, as `encrypted_content` in the
//! gateway's encoding, see [`super::encode_reasoning_state`]); a redacted block →
//! a `reasoning` item carrying it; a tool call → `function_call`, or
//! `custom_tool_call` / `local_shell_call` for the tools the request declared so
//! ([`ResponsesContext::tool_kind`]). A tool call's own signature (Gemini 3) has no
//! field on a call item: it follows the call as a `reasoning` item without summary
//! whose `encrypted_content` names the call id, and the decoder re-attaches it.
//!
//! Status: a length stop is `incomplete` with `incomplete_details.reason:
//! "max_output_tokens"`, a content filter `incomplete` with `"content_filter"`;
//! the last item of an incomplete response is `incomplete` too, unless a signature
//! completed it (then the stop came after it). Item ids are
//! derived from the response id (`resp_X` → `msg_X_0`, `rs_X_1`, `fc_X_2`, …), so
//! they are unique per response and stable for the same answer.

use serde_json::Value;

use super::encode_openai_chat::arguments_string;
use super::responses_context::{ResponsesContext, ResponsesToolKind};
use super::responses_reasoning::{ReasoningState, encode_reasoning_state};
use crate::error::ErrorKind;
use crate::ir::{ContentBlock, FinishReason, Response, Signature, parse_arguments};
use crate::openai::{
    ResponsesCustomToolCall, ResponsesError, ResponsesFunctionCall, ResponsesIncompleteDetails,
    ResponsesLocalShellAction, ResponsesLocalShellCall, ResponsesOutputContent,
    ResponsesOutputItem, ResponsesOutputMessage, ResponsesReasoningItem, ResponsesResponse,
    ResponsesSummaryPart, ResponsesUsage,
};

/// A whole answer as a `response` object. `id` is the gateway's `resp_…` id,
/// `model` the model name the client asked for.
pub fn encode_responses_response(
    resp: &Response,
    ctx: &ResponsesContext,
    id: &str,
    model: &str,
    created_at: u64,
) -> ResponsesResponse {
    let ids = ItemIds::new(id);
    let mut output: Vec<ResponsesOutputItem> = Vec::with_capacity(resp.content.len());
    // Whether the last block made an item: only then can that item be the one a
    // length stop cut.
    let mut last_block_emitted = false;
    for block in &resp.content {
        let index = output.len();
        match block {
            ContentBlock::Text { text } if !text.is_empty() => {
                output.push(message_item(ids.id("msg", index), text, "completed"));
            }
            ContentBlock::Thinking { text, signature }
                if !text.is_empty() || signature.is_some() =>
            {
                let state = signature.clone().map(ReasoningState::Signature);
                output.push(reasoning_item(ids.id("rs", index), text, state.as_ref()));
            }
            ContentBlock::RedactedThinking { data } => {
                let state = ReasoningState::Redacted(data.clone());
                output.push(reasoning_item(ids.id("rs", index), "", Some(&state)));
            }
            ContentBlock::ToolCall {
                id: call_id,
                name,
                arguments,
                signature,
            } => {
                let kind = ctx.tool_kind(name);
                let item_id = ids.id(kind_prefix(kind), index);
                output.push(call_item(
                    kind,
                    item_id,
                    call_id,
                    name,
                    arguments,
                    "completed",
                ));
                if let Some(sig) = signature {
                    let state = call_signature_state(call_id, sig);
                    output.push(reasoning_item(ids.id("rs", index + 1), "", Some(&state)));
                }
            }
            ContentBlock::Text { .. }
            | ContentBlock::Thinking { .. }
            | ContentBlock::Image { .. }
            | ContentBlock::File { .. }
            | ContentBlock::ToolResult { .. } => {}
        }
        last_block_emitted = output.len() > index;
    }
    let (status, incomplete) = terminal_status(resp.finish_reason.as_ref());
    if incomplete.is_some()
        && last_block_emitted
        && let Some(last) = output.last_mut()
        && !is_sealed(last)
    {
        last.set_status("incomplete");
    }
    let mut r = ctx.template.clone();
    r.id = id.to_owned();
    r.object = "response".to_owned();
    r.created_at = created_at;
    r.model = model.to_owned();
    r.status = status.to_owned();
    r.incomplete_details = incomplete.map(|reason| ResponsesIncompleteDetails {
        reason: reason.to_owned(),
    });
    r.output = output;
    r.usage = Some(ResponsesUsage::from(&resp.usage));
    r
}

/// Whether an item was completed by a signature (a reasoning item carrying
/// state): the answer stopped after it, not inside it.
fn is_sealed(item: &ResponsesOutputItem) -> bool {
    matches!(item, ResponsesOutputItem::Reasoning(r) if r.encrypted_content.is_some())
}

/// The response `status` for a finish reason, and the `incomplete_details.reason`.
pub(crate) fn terminal_status(
    reason: Option<&FinishReason>,
) -> (&'static str, Option<&'static str>) {
    match reason {
        Some(FinishReason::Length) => ("incomplete", Some("max_output_tokens")),
        Some(FinishReason::ContentFilter) => ("incomplete", Some("content_filter")),
        Some(
            FinishReason::Stop
            | FinishReason::ToolCalls
            | FinishReason::StopSequence(_)
            | FinishReason::Other(_),
        )
        | None => ("completed", None),
    }
}

/// The `error` of a failed response: a code the SDKs and Codex know (Codex reads a
/// retry delay from a `rate_limit_exceeded` message and stops on `invalid_prompt`).
pub(crate) fn response_error(kind: ErrorKind, message: &str) -> ResponsesError {
    let code = match kind {
        ErrorKind::RateLimited => "rate_limit_exceeded",
        ErrorKind::InvalidRequest | ErrorKind::RequestTooLarge => "invalid_prompt",
        ErrorKind::Authentication
        | ErrorKind::PermissionDenied
        | ErrorKind::NotFound
        | ErrorKind::Internal
        | ErrorKind::Upstream
        | ErrorKind::Unavailable
        | ErrorKind::Overloaded
        | ErrorKind::Timeout => "server_error",
    };
    ResponsesError {
        code: code.to_owned(),
        message: message.to_owned(),
    }
}

/// Item ids derived from the response id.
#[derive(Debug, Clone)]
pub(crate) struct ItemIds {
    base: String,
}

impl ItemIds {
    pub(crate) fn new(response_id: &str) -> Self {
        Self {
            base: response_id
                .strip_prefix("resp_")
                .unwrap_or(response_id)
                .to_owned(),
        }
    }

    pub(crate) fn id(&self, prefix: &str, index: usize) -> String {
        format!("{prefix}_{}_{index}", self.base)
    }
}

/// The id prefix of a call item.
pub(crate) fn kind_prefix(kind: ResponsesToolKind) -> &'static str {
    match kind {
        ResponsesToolKind::Function => "fc",
        ResponsesToolKind::Custom => "ctc",
        ResponsesToolKind::LocalShell => "lsh",
    }
}

pub(crate) fn message_item(id: String, text: &str, status: &str) -> ResponsesOutputItem {
    ResponsesOutputItem::Message(ResponsesOutputMessage {
        id,
        status: status.to_owned(),
        role: "assistant".to_owned(),
        content: vec![ResponsesOutputContent::output_text(text)],
    })
}

pub(crate) fn reasoning_item(
    id: String,
    text: &str,
    state: Option<&ReasoningState>,
) -> ResponsesOutputItem {
    ResponsesOutputItem::Reasoning(ResponsesReasoningItem {
        id,
        summary: if text.is_empty() {
            Vec::new()
        } else {
            vec![ResponsesSummaryPart::summary_text(text)]
        },
        content: None,
        encrypted_content: state.map(encode_reasoning_state),
        status: None,
    })
}

pub(crate) fn call_signature_state(call_id: &str, signature: &Signature) -> ReasoningState {
    ReasoningState::CallSignature {
        call_id: call_id.to_owned(),
        signature: signature.clone(),
    }
}

/// The output item of a tool call of `kind`.
pub(crate) fn call_item(
    kind: ResponsesToolKind,
    item_id: String,
    call_id: &str,
    name: &str,
    arguments: &Value,
    status: &str,
) -> ResponsesOutputItem {
    match kind {
        ResponsesToolKind::Function => ResponsesOutputItem::FunctionCall(ResponsesFunctionCall {
            id: item_id,
            call_id: call_id.to_owned(),
            name: name.to_owned(),
            arguments: arguments_string(arguments),
            status: status.to_owned(),
        }),
        ResponsesToolKind::Custom => ResponsesOutputItem::CustomToolCall(ResponsesCustomToolCall {
            id: item_id,
            call_id: call_id.to_owned(),
            name: name.to_owned(),
            input: custom_input(arguments),
            status: Some(status.to_owned()),
        }),
        ResponsesToolKind::LocalShell => {
            ResponsesOutputItem::LocalShellCall(ResponsesLocalShellCall {
                id: item_id,
                call_id: call_id.to_owned(),
                action: shell_action(arguments),
                status: status.to_owned(),
            })
        }
    }
}

/// The free-form input of a custom tool call from the function arguments the
/// upstream produced: `input`; else the only string value; else the raw text.
pub(crate) fn custom_input(arguments: &Value) -> String {
    let Value::Object(map) = arguments else {
        return arguments.to_string();
    };
    for key in ["input", "_raw"] {
        if let Some(Value::String(s)) = map.get(key) {
            return s.clone();
        }
    }
    let mut strings = map.values().filter_map(Value::as_str);
    match (strings.next(), strings.next()) {
        (Some(only), None) if map.len() == 1 => only.to_owned(),
        _ => arguments_string(arguments),
    }
}

/// The `exec` action of a `local_shell_call` from the `local_shell` function's
/// arguments. A command given as one string runs under `bash -lc`.
pub(crate) fn shell_action(arguments: &Value) -> ResponsesLocalShellAction {
    let command = match arguments.get("command") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Some(Value::String(s)) => vec!["bash".to_owned(), "-lc".to_owned(), s.clone()],
        _ => Vec::new(),
    };
    let working_directory = ["workdir", "working_directory"]
        .iter()
        .find_map(|k| arguments.get(*k).and_then(Value::as_str))
        .map(str::to_owned);
    let timeout_ms = ["timeout_ms", "timeout"]
        .iter()
        .find_map(|k| arguments.get(*k).and_then(Value::as_u64));
    ResponsesLocalShellAction {
        kind: "exec".to_owned(),
        command,
        env: Default::default(),
        timeout_ms,
        user: None,
        working_directory,
    }
}

/// Arguments streamed as text, parsed the way the IR folds them.
pub(crate) fn streamed_arguments(raw: &str) -> Value {
    parse_arguments(raw)
}

#[cfg(test)]
#[path = "encode_openai_responses_tests.rs"]
mod tests;
