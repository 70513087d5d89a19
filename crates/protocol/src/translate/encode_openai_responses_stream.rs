//! IR stream events → OpenAI Responses SSE events ([`ResponsesStreamEncoder`]).
//!
//! Sequence (as the API streams it), every event with a `sequence_number` counting
//! from 0: `response.created` and `response.in_progress` (the response object with
//! `status: "in_progress"` and no output); then per output item
//! `response.output_item.added` →
//! - message: `response.content_part.added`, `response.output_text.delta`…,
//!   `response.output_text.done`, `response.content_part.done`;
//! - reasoning: `response.reasoning_summary_part.added`,
//!   `response.reasoning_summary_text.delta`…, `…text.done`, `…part.done`;
//! - function call: `response.function_call_arguments.delta`…, `….done`;
//! - custom tool call: `response.custom_tool_call_input.delta` and `….done` once
//!   the call is whole (its input is a field of the upstream's JSON arguments);
//!
//! → `response.output_item.done` with the full item. A `local_shell_call` and a
//! reasoning item that only carries a signature are added and done at once. Then
//! exactly one terminal event carrying the whole response (`output`, `usage`):
//! `response.completed`, `response.incomplete` (length or content filter), or
//! `response.failed` with `error`.
//!
//! The terminal event is written by [`ResponsesStreamEncoder::finish`] — usage may
//! follow the finish reason — except on an IR `Error`, which writes
//! `response.failed` at once. A stream that ends with neither a finish reason nor
//! an error (a cut) also ends in `response.failed`: Codex treats a missing
//! `response.completed` as an error and retries the turn, and a partial answer
//! passed off as complete would be worse than a retry.
//!
//! `output_index` is the item's place in `output`; `content_index` and
//! `summary_index` are 0 (one part per item); `item_id` is the item's id.

use serde::Serialize;

use super::encode_openai_responses::{
    ItemIds, call_item, call_signature_state, custom_input, kind_prefix, message_item,
    reasoning_item, response_error, streamed_arguments, terminal_status,
};
use super::responses_context::{ResponsesContext, ResponsesToolKind};
use super::responses_reasoning::ReasoningState;
use crate::error::ErrorKind;
use crate::ir::{FinishReason, Signature, StreamEvent, Usage};
use crate::openai::{
    ResponsesIncompleteDetails, ResponsesOutputContent, ResponsesOutputItem, ResponsesResponse,
    ResponsesStreamEvent, ResponsesSummaryPart, ResponsesUsage,
};

/// One SSE event: its `event:` name and its `data` JSON.
pub type ResponsesSse = (&'static str, String);

/// The item being streamed.
#[derive(Debug)]
enum Open {
    Message {
        id: String,
        index: usize,
        text: String,
    },
    Reasoning {
        id: String,
        index: usize,
        text: String,
    },
    Call {
        id: String,
        index: usize,
        call_id: String,
        name: String,
        kind: ResponsesToolKind,
        args: String,
    },
}

/// A lifecycle event, serialized from the response the encoder holds.
#[derive(Serialize)]
struct Lifecycle<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    sequence_number: u64,
    response: &'a ResponsesResponse,
}

/// Stateful encoder of one streamed answer into Responses SSE events.
#[derive(Debug)]
pub struct ResponsesStreamEncoder {
    /// The response object: echoed request fields, finished items so far.
    response: ResponsesResponse,
    ctx: ResponsesContext,
    ids: ItemIds,
    sequence: u64,
    started: bool,
    open: Option<Open>,
    usage: Usage,
    saw_usage: bool,
    finish: Option<FinishReason>,
    /// A terminal event was written; nothing follows.
    done: bool,
}

impl ResponsesStreamEncoder {
    /// An encoder for the response `id` (`resp_…`) answering with `model` (the
    /// name the client asked for).
    pub fn new(ctx: &ResponsesContext, id: &str, model: &str, created_at: u64) -> Self {
        let mut response = ctx.template.clone();
        response.id = id.to_owned();
        response.object = "response".to_owned();
        response.created_at = created_at;
        response.model = model.to_owned();
        response.status = "in_progress".to_owned();
        response.output = Vec::new();
        response.usage = None;
        let ctx = ResponsesContext {
            custom_tools: ctx.custom_tools.clone(),
            local_shell: ctx.local_shell,
            ..ResponsesContext::default()
        };
        Self {
            response,
            ctx,
            ids: ItemIds::new(id),
            sequence: 0,
            started: false,
            open: None,
            usage: Usage::default(),
            saw_usage: false,
            finish: None,
            done: false,
        }
    }

    /// The events for one IR event (often one, sometimes none or several).
    pub fn event(&mut self, event: &StreamEvent) -> Vec<ResponsesSse> {
        let mut out = Vec::new();
        if self.done {
            return out;
        }
        self.ensure_started(&mut out);
        match event {
            StreamEvent::Start { .. } => {}
            StreamEvent::TextDelta(text) if !text.is_empty() => {
                if !matches!(self.open, Some(Open::Message { .. })) {
                    self.close_open(&mut out, "completed");
                    self.open_message(&mut out);
                }
                if let Some(Open::Message {
                    id,
                    index,
                    text: all,
                }) = &mut self.open
                {
                    all.push_str(text);
                    let event = ResponsesStreamEvent::OutputTextDelta {
                        item_id: id.clone(),
                        output_index: *index,
                        content_index: 0,
                        delta: text.clone(),
                        logprobs: Vec::new(),
                        sequence_number: 0,
                    };
                    self.emit(&mut out, event);
                }
            }
            StreamEvent::ThinkingDelta(text) if !text.is_empty() => {
                if !matches!(self.open, Some(Open::Reasoning { .. })) {
                    self.close_open(&mut out, "completed");
                    self.open_reasoning(&mut out);
                }
                if let Some(Open::Reasoning {
                    id,
                    index,
                    text: all,
                }) = &mut self.open
                {
                    all.push_str(text);
                    let event = ResponsesStreamEvent::ReasoningSummaryTextDelta {
                        item_id: id.clone(),
                        output_index: *index,
                        summary_index: 0,
                        delta: text.clone(),
                        sequence_number: 0,
                    };
                    self.emit(&mut out, event);
                }
            }
            StreamEvent::RedactedThinking(data) => {
                self.close_open(&mut out, "completed");
                self.whole_reasoning(&mut out, ReasoningState::Redacted(data.clone()));
            }
            StreamEvent::Signature(sig) => self.signature(&mut out, sig),
            StreamEvent::ToolCallStart { id, name } => {
                self.close_open(&mut out, "completed");
                self.open_call(&mut out, id, name);
            }
            StreamEvent::ToolCallDelta(fragment) if !fragment.is_empty() => {
                if let Some(Open::Call {
                    id,
                    index,
                    kind,
                    args,
                    ..
                }) = &mut self.open
                {
                    args.push_str(fragment);
                    if *kind == ResponsesToolKind::Function {
                        let event = ResponsesStreamEvent::FunctionCallArgumentsDelta {
                            item_id: id.clone(),
                            output_index: *index,
                            delta: fragment.clone(),
                            sequence_number: 0,
                        };
                        self.emit(&mut out, event);
                    }
                }
            }
            StreamEvent::Usage(usage) => {
                self.usage.merge(usage);
                self.saw_usage = true;
            }
            StreamEvent::Finish(reason) => {
                let (_, incomplete) = terminal_status(Some(reason));
                let status = if incomplete.is_some() {
                    "incomplete"
                } else {
                    "completed"
                };
                self.close_open(&mut out, status);
                self.finish = Some(reason.clone());
            }
            StreamEvent::Error(error) => self.fail(&mut out, error.kind, &error.message),
            // An empty delta of another kind still ends the open block (IR rule),
            // but opens no item.
            StreamEvent::TextDelta(_) => {
                if !matches!(self.open, None | Some(Open::Message { .. })) {
                    self.close_open(&mut out, "completed");
                }
            }
            StreamEvent::ThinkingDelta(_) => {
                if !matches!(self.open, None | Some(Open::Reasoning { .. })) {
                    self.close_open(&mut out, "completed");
                }
            }
            StreamEvent::ToolCallDelta(_) => {}
        }
        out
    }

    /// Nothing is held back between upstream chunks; present so that every client
    /// encoder has the same `event` / `flush` / `finish` shape.
    pub fn flush(&mut self) -> Vec<ResponsesSse> {
        Vec::new()
    }

    /// The terminal event, unless one was written: `response.completed` or
    /// `response.incomplete` after a finish reason, else `response.failed` (the
    /// upstream stream was cut).
    pub fn finish(&mut self) -> Vec<ResponsesSse> {
        let mut out = Vec::new();
        if self.done {
            return out;
        }
        self.ensure_started(&mut out);
        let Some(reason) = self.finish.clone() else {
            self.fail(
                &mut out,
                ErrorKind::Upstream,
                "the upstream stream ended before the response was complete",
            );
            return out;
        };
        self.close_open(&mut out, "completed");
        let (status, incomplete) = terminal_status(Some(&reason));
        self.response.status = status.to_owned();
        self.response.incomplete_details = incomplete.map(|reason| ResponsesIncompleteDetails {
            reason: reason.to_owned(),
        });
        self.response.usage = Some(ResponsesUsage::from(&self.usage));
        let kind = if incomplete.is_some() {
            "response.incomplete"
        } else {
            "response.completed"
        };
        self.emit_lifecycle(&mut out, kind);
        self.done = true;
        out
    }

    fn ensure_started(&mut self, out: &mut Vec<ResponsesSse>) {
        if !self.started {
            self.started = true;
            self.emit_lifecycle(out, "response.created");
            self.emit_lifecycle(out, "response.in_progress");
        }
    }

    fn next_sequence(&mut self) -> u64 {
        let n = self.sequence;
        self.sequence += 1;
        n
    }

    fn emit_lifecycle(&mut self, out: &mut Vec<ResponsesSse>, kind: &'static str) {
        let sequence_number = self.next_sequence();
        let event = Lifecycle {
            kind,
            sequence_number,
            response: &self.response,
        };
        if let Ok(json) = crate::json::to_string(&event) {
            out.push((kind, json));
        }
    }

    fn emit(&mut self, out: &mut Vec<ResponsesSse>, mut event: ResponsesStreamEvent) {
        let Some(kind) = event.known_type() else {
            return;
        };
        let n = self.next_sequence();
        event.set_sequence_number(n);
        if let Ok(json) = crate::json::to_string(&event) {
            out.push((kind, json));
        }
    }

    fn item_added(&mut self, out: &mut Vec<ResponsesSse>, index: usize, item: ResponsesOutputItem) {
        let event = ResponsesStreamEvent::OutputItemAdded {
            output_index: index,
            item,
            sequence_number: 0,
        };
        self.emit(out, event);
    }

    /// `output_item.done` for a finished item, which joins `output`.
    fn item_done(&mut self, out: &mut Vec<ResponsesSse>, index: usize, item: ResponsesOutputItem) {
        let event = ResponsesStreamEvent::OutputItemDone {
            output_index: index,
            item: item.clone(),
            sequence_number: 0,
        };
        self.emit(out, event);
        self.response.output.push(item);
    }

    fn open_message(&mut self, out: &mut Vec<ResponsesSse>) {
        let index = self.response.output.len();
        let id = self.ids.id("msg", index);
        let mut item = message_item(id.clone(), "", "in_progress");
        if let ResponsesOutputItem::Message(m) = &mut item {
            m.content.clear();
        }
        self.item_added(out, index, item);
        let event = ResponsesStreamEvent::ContentPartAdded {
            item_id: id.clone(),
            output_index: index,
            content_index: 0,
            part: ResponsesOutputContent::output_text(""),
            sequence_number: 0,
        };
        self.emit(out, event);
        self.open = Some(Open::Message {
            id,
            index,
            text: String::new(),
        });
    }

    fn open_reasoning(&mut self, out: &mut Vec<ResponsesSse>) {
        let index = self.response.output.len();
        let id = self.ids.id("rs", index);
        self.item_added(out, index, reasoning_item(id.clone(), "", None));
        let event = ResponsesStreamEvent::ReasoningSummaryPartAdded {
            item_id: id.clone(),
            output_index: index,
            summary_index: 0,
            part: ResponsesSummaryPart::summary_text(""),
            sequence_number: 0,
        };
        self.emit(out, event);
        self.open = Some(Open::Reasoning {
            id,
            index,
            text: String::new(),
        });
    }

    fn open_call(&mut self, out: &mut Vec<ResponsesSse>, call_id: &str, name: &str) {
        let kind = self.ctx.tool_kind(name);
        let index = self.response.output.len();
        let id = self.ids.id(kind_prefix(kind), index);
        if kind != ResponsesToolKind::LocalShell {
            let mut item = call_item(
                kind,
                id.clone(),
                call_id,
                name,
                &serde_json::Value::Null,
                "in_progress",
            );
            match &mut item {
                ResponsesOutputItem::FunctionCall(f) => f.arguments.clear(),
                ResponsesOutputItem::CustomToolCall(c) => c.input.clear(),
                _ => {}
            }
            self.item_added(out, index, item);
        }
        self.open = Some(Open::Call {
            id,
            index,
            call_id: call_id.to_owned(),
            name: name.to_owned(),
            kind,
            args: String::new(),
        });
    }

    /// A signature completes the open block (IR rule): it becomes the open
    /// reasoning item's `encrypted_content`, or follows the open call (or text) as
    /// a reasoning item of its own.
    fn signature(&mut self, out: &mut Vec<ResponsesSse>, sig: &Signature) {
        match self.open.take() {
            Some(Open::Reasoning { id, index, text }) => {
                let state = ReasoningState::Signature(sig.clone());
                self.close_reasoning(out, id, index, &text, Some(&state), "completed");
            }
            Some(open) => {
                let state = match &open {
                    Open::Call { call_id, .. } => call_signature_state(call_id, sig),
                    Open::Message { .. } | Open::Reasoning { .. } => {
                        ReasoningState::Signature(sig.clone())
                    }
                };
                self.close(out, open, "completed");
                self.whole_reasoning(out, state);
            }
            None => self.whole_reasoning(out, ReasoningState::Signature(sig.clone())),
        }
    }

    /// A reasoning item with no summary, added and done at once.
    fn whole_reasoning(&mut self, out: &mut Vec<ResponsesSse>, state: ReasoningState) {
        let index = self.response.output.len();
        let id = self.ids.id("rs", index);
        self.item_added(out, index, reasoning_item(id.clone(), "", None));
        self.item_done(out, index, reasoning_item(id, "", Some(&state)));
    }

    fn close_open(&mut self, out: &mut Vec<ResponsesSse>, status: &str) {
        if let Some(open) = self.open.take() {
            self.close(out, open, status);
        }
    }

    fn close(&mut self, out: &mut Vec<ResponsesSse>, open: Open, status: &str) {
        match open {
            Open::Message { id, index, text } => {
                let event = ResponsesStreamEvent::OutputTextDone {
                    item_id: id.clone(),
                    output_index: index,
                    content_index: 0,
                    text: text.clone(),
                    logprobs: Vec::new(),
                    sequence_number: 0,
                };
                self.emit(out, event);
                let event = ResponsesStreamEvent::ContentPartDone {
                    item_id: id.clone(),
                    output_index: index,
                    content_index: 0,
                    part: ResponsesOutputContent::output_text(text.as_str()),
                    sequence_number: 0,
                };
                self.emit(out, event);
                self.item_done(out, index, message_item(id, &text, status));
            }
            Open::Reasoning { id, index, text } => {
                self.close_reasoning(out, id, index, &text, None, status);
            }
            Open::Call {
                id,
                index,
                call_id,
                name,
                kind,
                args,
            } => {
                let arguments = streamed_arguments(&args);
                match kind {
                    ResponsesToolKind::Function => {
                        let raw = if args.trim().is_empty() {
                            "{}".to_owned()
                        } else {
                            args
                        };
                        let event = ResponsesStreamEvent::FunctionCallArgumentsDone {
                            item_id: id.clone(),
                            output_index: index,
                            name: Some(name.clone()),
                            arguments: raw.clone(),
                            sequence_number: 0,
                        };
                        self.emit(out, event);
                        let mut item = call_item(kind, id, &call_id, &name, &arguments, status);
                        if let ResponsesOutputItem::FunctionCall(f) = &mut item {
                            f.arguments = raw;
                        }
                        self.item_done(out, index, item);
                    }
                    ResponsesToolKind::Custom => {
                        let input = custom_input(&arguments);
                        if !input.is_empty() {
                            let event = ResponsesStreamEvent::CustomToolCallInputDelta {
                                item_id: id.clone(),
                                output_index: index,
                                delta: input.clone(),
                                sequence_number: 0,
                            };
                            self.emit(out, event);
                        }
                        let event = ResponsesStreamEvent::CustomToolCallInputDone {
                            item_id: id.clone(),
                            output_index: index,
                            input,
                            sequence_number: 0,
                        };
                        self.emit(out, event);
                        let item = call_item(kind, id, &call_id, &name, &arguments, status);
                        self.item_done(out, index, item);
                    }
                    ResponsesToolKind::LocalShell => {
                        let added =
                            call_item(kind, id.clone(), &call_id, &name, &arguments, "in_progress");
                        self.item_added(out, index, added);
                        let item = call_item(kind, id, &call_id, &name, &arguments, status);
                        self.item_done(out, index, item);
                    }
                }
            }
        }
    }

    fn close_reasoning(
        &mut self,
        out: &mut Vec<ResponsesSse>,
        id: String,
        index: usize,
        text: &str,
        state: Option<&ReasoningState>,
        status: &str,
    ) {
        let event = ResponsesStreamEvent::ReasoningSummaryTextDone {
            item_id: id.clone(),
            output_index: index,
            summary_index: 0,
            text: text.to_owned(),
            sequence_number: 0,
        };
        self.emit(out, event);
        let event = ResponsesStreamEvent::ReasoningSummaryPartDone {
            item_id: id.clone(),
            output_index: index,
            summary_index: 0,
            part: ResponsesSummaryPart::summary_text(text),
            sequence_number: 0,
        };
        self.emit(out, event);
        let mut item = reasoning_item(id, text, state);
        if status != "completed" {
            item.set_status(status);
        }
        self.item_done(out, index, item);
    }

    /// `response.failed`: the open item joins `output` as `incomplete`; `usage` only
    /// when the upstream reported some.
    fn fail(&mut self, out: &mut Vec<ResponsesSse>, kind: ErrorKind, message: &str) {
        if let Some(open) = self.open.take() {
            let item = match open {
                Open::Message { id, text, .. } => message_item(id, &text, "incomplete"),
                Open::Reasoning { id, text, .. } => {
                    let mut item = reasoning_item(id, &text, None);
                    item.set_status("incomplete");
                    item
                }
                Open::Call {
                    id,
                    call_id,
                    name,
                    kind,
                    args,
                    ..
                } => {
                    let mut item = call_item(
                        kind,
                        id,
                        &call_id,
                        &name,
                        &streamed_arguments(&args),
                        "incomplete",
                    );
                    if let ResponsesOutputItem::FunctionCall(f) = &mut item {
                        f.arguments = args;
                    }
                    item
                }
            };
            self.response.output.push(item);
        }
        self.response.status = "failed".to_owned();
        self.response.error = Some(response_error(kind, message));
        self.response.usage = self.saw_usage.then(|| ResponsesUsage::from(&self.usage));
        self.emit_lifecycle(out, "response.failed");
        self.done = true;
    }
}

#[cfg(test)]
#[path = "encode_openai_responses_stream_tests.rs"]
mod tests;
