//! OpenAI Chat Completions answers (OpenAI or any compatible server) → IR: the
//! `chat.completion.chunk` stream ([`OpenAiChunkDecoder`]), a whole
//! `chat.completion` ([`decode_openai_chat_completion`]) and error bodies
//! ([`openai_error_kind`]).
//!
//! Chunks are read tolerantly (missing `id`/`model`/`index`, `null` lists, extra
//! fields); only the choice with index 0 is read. Per chunk: `Start` first;
//! `delta.reasoning_content` (vLLM, DeepSeek, …) or else `delta.reasoning`
//! (OpenRouter, newer vLLM — never both, they carry the same text) →
//! `ThinkingDelta`; `delta.content` and `delta.refusal` → `TextDelta`;
//! `delta.tool_calls` by `index` → `ToolCallStart` + `ToolCallDelta`s (legacy
//! `function_call` is call 0); `finish_reason` → `Finish` (`stop`, `length`,
//! `tool_calls`/`function_call`, `content_filter`; `stop` after tool calls is
//! `ToolCalls`; others such as z.ai's `sensitive` are kept as `Other`); `usage` →
//! `Usage` (`prompt_tokens` includes cached tokens and `completion_tokens`
//! reasoning ones, as in the IR; DeepSeek's `prompt_cache_hit_tokens` stands in
//! for `cached_tokens`); `{"error": {…}}` → `Error`; `[DONE]` ends the stream.
//!
//! Tool calls and block order. The IR needs each call as one uninterrupted block,
//! but the wire may interleave calls by `index` and put text after them. The
//! first call streams live (arguments as they come) as long as nothing else
//! arrives; every other call is buffered whole, and so is text or reasoning that
//! comes after a call; all of it is emitted, calls in order of first appearance,
//! when the finish reason arrives (or at `[DONE]` / [`OpenAiChunkDecoder::finish`]).
//! The trade-off: only the first call's arguments stream; later calls arrive
//! whole just before the finish — which is when a client can run them anyway.
//!
//! `Finish` is held back until the usage that OpenAI sends in a separate chunk
//! after the finish reason (with `stream_options.include_usage`), or until
//! `[DONE]`, so that client encoders close the message with the usage. A stream
//! that ends without `[DONE]` must be closed with [`OpenAiChunkDecoder::finish`].

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::decode_anthropic_stream::{body_message, cut};
use super::util::parse_body;
use crate::error::ErrorKind;
use crate::ir::{
    ContentBlock, FinishReason, Response, StreamError, StreamEvent, Usage, parse_arguments,
};

// The wire types borrow their strings from the chunk's text where they can
// (no escapes): a chunk's id, model and content are read once and mostly
// dropped, and a stream has one chunk per token. Rare members are boxed:
// serde's derived code moves each struct by value as it builds it.
#[derive(Debug, Default, Deserialize)]
struct Chunk<'a> {
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    model: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    choices: Option<Vec<Choice<'a>>>,
    #[serde(default)]
    usage: Option<Box<WireUsage>>,
    #[serde(default)]
    error: Option<Box<Value>>,
}

#[derive(Debug, Default, Deserialize)]
struct Choice<'a> {
    #[serde(default)]
    index: Option<u32>,
    #[serde(default, borrow)]
    delta: Option<Delta<'a>>,
    /// Whole answers, and servers that send `message` in chunks.
    #[serde(default, borrow)]
    message: Option<Box<Delta<'a>>>,
    #[serde(default, borrow)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
struct Delta<'a> {
    #[serde(default, borrow)]
    content: Text<'a>,
    #[serde(default, borrow)]
    reasoning_content: Text<'a>,
    #[serde(default, borrow)]
    reasoning: Text<'a>,
    #[serde(default, borrow)]
    refusal: Text<'a>,
    #[serde(default, borrow)]
    tool_calls: Option<Vec<ToolCallDelta<'a>>>,
    #[serde(default, borrow)]
    function_call: Option<Box<FunctionDelta<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
struct ToolCallDelta<'a> {
    #[serde(default)]
    index: Option<u32>,
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    function: Option<FunctionDelta<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct FunctionDelta<'a> {
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(default)]
    arguments: Option<Value>,
}

/// A text field, read leniently: a string is kept (borrowed when it has no
/// escapes); `null`, numbers, booleans, lists and objects are none.
#[derive(Debug, Default)]
struct Text<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Lenient<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Lenient<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'a>, E> {
                Ok(Text(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E>(self, v: String) -> Result<Text<'a>, E> {
                Ok(Text(Some(Cow::Owned(v))))
            }
            fn visit_unit<E>(self) -> Result<Text<'a>, E> {
                Ok(Text(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Text<'a>, E> {
                Ok(Text(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Text<'a>, E> {
                Ok(Text(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Text<'a>, E> {
                Ok(Text(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Text<'a>, E> {
                Ok(Text(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text<'a>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text<'a>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
        }
        d.deserialize_any(Lenient(std::marker::PhantomData))
    }
}

#[derive(Debug, Default, Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    prompt_tokens_details: Option<Details>,
    #[serde(default)]
    completion_tokens_details: Option<Details>,
    /// DeepSeek.
    #[serde(default)]
    prompt_cache_hit_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct Details {
    #[serde(default)]
    cached_tokens: Option<u64>,
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

fn usage_from(u: &WireUsage) -> Usage {
    let details = |d: &Option<Details>, f: fn(&Details) -> Option<u64>| d.as_ref().and_then(f);
    Usage {
        input_tokens: u.prompt_tokens.unwrap_or(0),
        output_tokens: u.completion_tokens.unwrap_or(0),
        cached_input_tokens: details(&u.prompt_tokens_details, |d| d.cached_tokens)
            .or(u.prompt_cache_hit_tokens)
            .unwrap_or(0),
        cache_creation_input_tokens: 0,
        reasoning_tokens: details(&u.completion_tokens_details, |d| d.reasoning_tokens)
            .unwrap_or(0),
    }
}

/// A string field as an owned string, when it is not empty.
fn owned(v: &Option<Cow<'_, str>>) -> Option<String> {
    v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A text field's text, when it is a non-empty string.
fn text<'t>(v: &'t Text<'_>) -> Option<&'t str> {
    v.0.as_deref().filter(|s| !s.is_empty())
}

/// An argument fragment: a string as is; an object (some servers) as JSON.
fn fragment(v: &Option<Value>) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    }
}

#[derive(Debug)]
struct Call {
    index: u32,
    id: Option<String>,
    name: String,
    args: String,
    emitted: bool,
}

/// Stateful decoder of one Chat Completions stream.
#[derive(Debug, Default)]
pub struct OpenAiChunkDecoder {
    started: bool,
    saw_finish: bool,
    failed: bool,
    calls: Vec<Call>,
    /// Position in `calls` of the call that streams live.
    live: Option<usize>,
    /// Text and reasoning that came after a tool call, emitted after the calls.
    trailing: Vec<StreamEvent>,
    pending_finish: Option<FinishReason>,
    saw_tool_calls: bool,
    last_usage: Option<Usage>,
    response_id: Option<String>,
    next_call: u32,
}

impl OpenAiChunkDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a `Finish` was emitted. A stream that ends without one was cut.
    pub fn saw_finish(&self) -> bool {
        self.saw_finish
    }

    /// Whether `Start` was emitted.
    pub fn started(&self) -> bool {
        self.started
    }

    /// Decode one SSE `data` payload: a chunk, an error, or `[DONE]`. Malformed
    /// data becomes an `Error` event; nothing is decoded after an `Error`.
    pub fn push_data(&mut self, data: &[u8], out: &mut Vec<StreamEvent>) {
        let data = data.trim_ascii();
        if self.failed || data.is_empty() {
            return;
        }
        if data == b"[DONE]" {
            self.done(out);
            return;
        }
        match parse_body::<Chunk>(data) {
            Ok(chunk) => self.push_chunk(chunk, out),
            Err(e) => self.fail(
                StreamError::new(
                    ErrorKind::Upstream,
                    format!("malformed upstream chunk: {e}"),
                ),
                out,
            ),
        }
    }

    /// The stream ended (after `[DONE]`, or when the connection closed): emit what
    /// is held back. Adds no `Finish` when no finish reason came.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.failed {
            return;
        }
        self.flush(out);
        self.release_finish(out);
    }

    fn done(&mut self, out: &mut Vec<StreamEvent>) {
        self.finish(out);
        if self.started && !self.saw_finish {
            // `[DONE]` is the server's own end of a complete answer.
            self.saw_finish = true;
            out.push(StreamEvent::Finish(if self.saw_tool_calls {
                FinishReason::ToolCalls
            } else {
                FinishReason::Stop
            }));
        }
    }

    fn fail(&mut self, error: StreamError, out: &mut Vec<StreamEvent>) {
        self.failed = true;
        out.push(StreamEvent::Error(error));
    }

    fn push_chunk(&mut self, chunk: Chunk, out: &mut Vec<StreamEvent>) {
        if let Some(error) = &chunk.error
            && !error.is_null()
        {
            self.fail(stream_error(error), out);
            return;
        }
        if !self.started {
            self.started = true;
            self.response_id = owned(&chunk.id);
            out.push(StreamEvent::Start {
                id: self.response_id.clone(),
                model: owned(&chunk.model),
            });
        }
        let choices = chunk.choices.unwrap_or_default();
        let choice = choices
            .iter()
            .find(|c| c.index.unwrap_or(0) == 0)
            .or_else(|| choices.first());
        if let Some(choice) = choice {
            if let Some(delta) = choice.delta.as_ref().or(choice.message.as_deref()) {
                self.push_delta(delta, out);
            }
            if let Some(reason) = choice.finish_reason.as_deref().filter(|r| !r.is_empty()) {
                self.flush(out);
                if !self.saw_finish && self.pending_finish.is_none() {
                    self.pending_finish = Some(finish_reason(reason, self.saw_tool_calls));
                }
            }
        }
        if let Some(usage) = chunk.usage.as_deref().map(usage_from) {
            if self.last_usage != Some(usage) {
                self.last_usage = Some(usage);
                out.push(StreamEvent::Usage(usage));
            }
            self.release_finish(out);
        }
    }

    fn push_delta(&mut self, delta: &Delta, out: &mut Vec<StreamEvent>) {
        let reasoning = text(&delta.reasoning_content).or_else(|| text(&delta.reasoning));
        if let Some(t) = reasoning {
            self.content(StreamEvent::ThinkingDelta(t.to_owned()), out);
        }
        for t in [text(&delta.content), text(&delta.refusal)]
            .into_iter()
            .flatten()
        {
            self.content(StreamEvent::TextDelta(t.to_owned()), out);
        }
        if let Some(calls) = &delta.tool_calls {
            for (pos, call) in calls.iter().enumerate() {
                let function = call.function.as_ref();
                self.call_fragment(
                    call.index,
                    pos,
                    call.id.as_deref(),
                    function.and_then(|f| f.name.as_deref()),
                    function.and_then(|f| fragment(&f.arguments)),
                    out,
                );
            }
        }
        if let Some(f) = &delta.function_call {
            self.call_fragment(
                Some(0),
                0,
                None,
                f.name.as_deref(),
                fragment(&f.arguments),
                out,
            );
        }
    }

    /// Text or reasoning: live, unless a tool call came before it.
    fn content(&mut self, event: StreamEvent, out: &mut Vec<StreamEvent>) {
        if self.calls.iter().any(|c| !c.emitted) || self.live.is_some() {
            self.trailing.push(event);
        } else {
            out.push(event);
        }
    }

    fn call_fragment(
        &mut self,
        index: Option<u32>,
        pos: usize,
        id: Option<&str>,
        name: Option<&str>,
        args: Option<String>,
        out: &mut Vec<StreamEvent>,
    ) {
        self.saw_tool_calls = true;
        let id = id.filter(|s| !s.is_empty());
        // Servers that omit `index` name a new call by a new id.
        let index = index.unwrap_or_else(|| {
            let known = id.and_then(|id| self.calls.iter().find(|c| c.id.as_deref() == Some(id)));
            match (known, self.calls.last()) {
                (Some(c), _) => c.index,
                (None, Some(last)) if id.is_none() => last.index,
                (None, _) => u32::try_from(self.calls.len().max(pos)).unwrap_or(u32::MAX),
            }
        });
        let at = match self.calls.iter().position(|c| c.index == index) {
            Some(at) => at,
            None => {
                self.calls.push(Call {
                    index,
                    id: None,
                    name: String::new(),
                    args: String::new(),
                    emitted: false,
                });
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[at];
        if call.id.is_none() {
            call.id = id.map(str::to_owned);
        }
        if call.name.is_empty()
            && let Some(name) = name
        {
            call.name = name.to_owned();
        }
        if self.live == Some(at) {
            if let Some(args) = args.filter(|a| !a.is_empty()) {
                out.push(StreamEvent::ToolCallDelta(args));
            }
            return;
        }
        if let Some(args) = args {
            call.args.push_str(&args);
        }
        let alone = self.live.is_none()
            && self.trailing.is_empty()
            && self.calls.iter().filter(|c| !c.emitted).count() == 1;
        if alone && !self.calls[at].name.is_empty() {
            self.emit_call(at, out);
            self.live = Some(at);
        }
    }

    fn emit_call(&mut self, at: usize, out: &mut Vec<StreamEvent>) {
        let generated = match &self.response_id {
            Some(prefix) => format!("call_{prefix}_{}", self.next_call),
            None => format!("call_{}", self.next_call),
        };
        let call = &mut self.calls[at];
        call.emitted = true;
        let id = match call.id.clone() {
            Some(id) => id,
            None => {
                self.next_call += 1;
                generated
            }
        };
        out.push(StreamEvent::ToolCallStart {
            id,
            name: call.name.clone(),
        });
        if !call.args.is_empty() {
            out.push(StreamEvent::ToolCallDelta(std::mem::take(&mut call.args)));
        }
    }

    /// Emit the buffered calls, then the content held behind them.
    fn flush(&mut self, out: &mut Vec<StreamEvent>) {
        for at in 0..self.calls.len() {
            if !self.calls[at].emitted {
                self.emit_call(at, out);
            }
        }
        self.live = None;
        out.append(&mut self.trailing);
    }

    fn release_finish(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some(reason) = self.pending_finish.take() {
            self.saw_finish = true;
            out.push(StreamEvent::Finish(reason));
        }
    }
}

/// The IR reason for a `finish_reason`.
fn finish_reason(reason: &str, saw_tool_calls: bool) -> FinishReason {
    match reason {
        "stop" | "eos" | "end_turn" if saw_tool_calls => FinishReason::ToolCalls,
        "stop" | "eos" | "end_turn" => FinishReason::Stop,
        "length" | "max_tokens" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

/// The kind of an error object without an HTTP status: its numeric `code`, else
/// its `type` or `code` name.
fn kind_of(error: &Value) -> ErrorKind {
    let code = error.get("code");
    let status = code.and_then(|c| {
        c.as_u64()
            .or_else(|| c.as_str().and_then(|s| s.parse::<u64>().ok()))
    });
    if let Some(status) = status.and_then(|s| u16::try_from(s).ok())
        && (400..600).contains(&status)
    {
        return ErrorKind::from_status(status);
    }
    let names = [error.get("type"), code]
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    for name in names {
        let kind = match name {
            "invalid_request_error" | "context_length_exceeded" | "invalid_value" => {
                ErrorKind::InvalidRequest
            }
            "authentication_error" | "invalid_api_key" => ErrorKind::Authentication,
            "permission_error" | "permission_denied" => ErrorKind::PermissionDenied,
            "not_found_error" | "model_not_found" => ErrorKind::NotFound,
            "rate_limit_error" | "rate_limit_exceeded" | "insufficient_quota" => {
                ErrorKind::RateLimited
            }
            "server_error" | "api_error" | "internal_error" => ErrorKind::Internal,
            "overloaded" | "overloaded_error" | "service_unavailable" => ErrorKind::Overloaded,
            "timeout" | "timeout_error" => ErrorKind::Timeout,
            _ => continue,
        };
        return kind;
    }
    ErrorKind::Upstream
}

/// The message of an error object, or of a bare `{"error": "text"}`.
fn message_of(error: &Value) -> Option<String> {
    match error {
        Value::String(s) if !s.is_empty() => Some(cut(s)),
        Value::Object(o) => o
            .get("message")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(cut),
        _ => None,
    }
}

fn stream_error(error: &Value) -> StreamError {
    StreamError::new(
        kind_of(error),
        message_of(error).unwrap_or_else(|| format!("upstream error: {}", cut(&error.to_string()))),
    )
}

/// The kind and message of an error response from an OpenAI-compatible server:
/// `{"error": {"message", "type", "code"}}`, vLLM's top-level
/// `{"object": "error", "message", …}`, or Ollama's `{"error": "text"}`. The HTTP
/// status decides the kind; without an error status, the body's `code`/`type`.
pub fn openai_error_kind(status: u16, body: &[u8]) -> (ErrorKind, String) {
    let value = serde_json::from_slice::<Value>(body).ok();
    let error = value
        .as_ref()
        .map(|v| match v.get("error") {
            Some(e) if !e.is_null() => e,
            _ => v,
        })
        .filter(|e| message_of(e).is_some());
    let kind = if (400..600).contains(&status) {
        ErrorKind::from_status(status)
    } else {
        error.map_or(ErrorKind::Upstream, kind_of)
    };
    let message = error
        .and_then(message_of)
        .unwrap_or_else(|| body_message(status, body));
    (kind, message)
}

/// Decode a whole (non-streamed) `chat.completion`. An error body, or one with
/// no choice, is an `Err`.
pub fn decode_openai_chat_completion(body: &[u8]) -> Result<Response, StreamError> {
    let chunk: Chunk = parse_body(body).map_err(|e| {
        StreamError::new(
            ErrorKind::Upstream,
            format!("malformed upstream answer: {e}"),
        )
    })?;
    if let Some(error) = chunk.error.as_ref().filter(|e| !e.is_null()) {
        return Err(stream_error(error));
    }
    let choices = chunk.choices.unwrap_or_default();
    let Some(choice) = choices
        .iter()
        .find(|c| c.index.unwrap_or(0) == 0)
        .or_else(|| choices.first())
    else {
        return Err(StreamError::new(
            ErrorKind::Upstream,
            "upstream answer has no choices",
        ));
    };
    let mut content = Vec::new();
    let mut calls = 0u32;
    if let Some(m) = choice.message.as_deref().or(choice.delta.as_ref()) {
        if let Some(t) = text(&m.reasoning_content).or_else(|| text(&m.reasoning)) {
            content.push(ContentBlock::Thinking {
                text: t.to_owned(),
                signature: None,
            });
        }
        for t in [text(&m.content), text(&m.refusal)].into_iter().flatten() {
            content.push(ContentBlock::text(t));
        }
        let legacy = m.function_call.as_ref().map(|f| ToolCallDelta {
            index: None,
            id: None,
            function: Some(FunctionDelta {
                name: f.name.clone(),
                arguments: f.arguments.clone(),
            }),
        });
        for call in m.tool_calls.iter().flatten().chain(legacy.as_ref()) {
            let function = call.function.as_ref();
            let arguments = match function.and_then(|f| f.arguments.as_ref()) {
                Some(Value::String(raw)) => parse_arguments(raw),
                Some(v @ Value::Object(_)) => v.clone(),
                _ => serde_json::json!({}),
            };
            calls += 1;
            content.push(ContentBlock::ToolCall {
                id: owned(&call.id).unwrap_or_else(|| format!("call_{calls}")),
                name: function
                    .and_then(|f| f.name.as_deref())
                    .unwrap_or_default()
                    .to_owned(),
                arguments,
                signature: None,
            });
        }
    }
    Ok(Response {
        id: owned(&chunk.id),
        model: owned(&chunk.model),
        finish_reason: choice
            .finish_reason
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(|r| finish_reason(r, calls > 0)),
        content,
        usage: chunk.usage.as_deref().map(usage_from).unwrap_or_default(),
    })
}

#[cfg(test)]
#[path = "decode_openai_chat_stream_tests.rs"]
mod tests;
