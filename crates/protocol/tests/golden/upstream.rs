//! Golden cases of the API-key upstream translators: `fixtures/upstream_anthropic/`
//! (IR → Anthropic Messages request, Anthropic answers → IR) and
//! `fixtures/upstream_openai/` (IR → Chat Completions request, chunks → IR).
//!
//! Files of a case `<case>` (all but the first optional):
//! - `<case>.client.json` — the client's request body, in the protocol named by
//!   `"client"` in `<case>.meta.json` (`"anthropic"` or `"openai"`; by default
//!   the upstream's own protocol) — cross-protocol cases set the other one;
//! - `<case>.meta.json` — also `"upstream_model"` (default: the client's model)
//!   and `"signatures"` (as in the Anthropic cases: the gateway's record of
//!   relayed thinking signatures, restored before encoding);
//! - `<case>.upstream.json` — the expected upstream request body;
//! - `<case>.upstream.sse` — an upstream SSE transcript (Anthropic: `event:` and
//!   `data:` lines; OpenAI: `data:` lines, `[DONE]`), decoded in uneven byte
//!   chunks, one batch of IR events per SSE event, and ended as the gateway ends
//!   it (a stream without a finish gets an upstream `Error`);
//! - `<case>.events.json` — the expected IR events of that transcript;
//! - `<case>.upstream.response.json` — instead of a transcript, a whole upstream
//!   answer (`{"status", "body"}`; an error status is decoded as an error body);
//! - `<case>.client.sse` / `<case>.client.response.json` — what the client gets,
//!   as in the other cases (stream or not, from the client's request).

use serde_json::{Value, json};
use uplink_protocol::error::{Dialect, ErrorBody, ErrorKind};
use uplink_protocol::ir::{FinishReason, Request, Response, StreamError, StreamEvent};
use uplink_protocol::sse::SseParser;
use uplink_protocol::translate::{self, AnthropicStreamEncoder, ChatChunkEncoder};

use super::anthropic::{check_named_sse, store};
use super::*;

#[derive(Clone, Copy, PartialEq)]
enum Proto {
    Anthropic,
    OpenAi,
}

impl Proto {
    fn parse(s: &str) -> Self {
        match s {
            "anthropic" => Proto::Anthropic,
            "openai" => Proto::OpenAi,
            other => panic!("unknown client protocol {other}"),
        }
    }

    fn dialect(self) -> Dialect {
        match self {
            Proto::Anthropic => Dialect::Anthropic,
            Proto::OpenAi => Dialect::OpenAi,
        }
    }
}

/// One IR event as fixture JSON.
fn event_json(e: &StreamEvent) -> Value {
    match e {
        StreamEvent::Start { id, model } => json!({"start": {"id": id, "model": model}}),
        StreamEvent::TextDelta(t) => json!({"text": t}),
        StreamEvent::ThinkingDelta(t) => json!({"thinking": t}),
        StreamEvent::RedactedThinking(d) => json!({"redacted": d}),
        StreamEvent::Signature(s) => {
            json!({"signature": s.value, "family": s.family.map(|f| f.as_str())})
        }
        StreamEvent::ToolCallStart { id, name } => json!({"tool_call": {"id": id, "name": name}}),
        StreamEvent::ToolCallDelta(a) => json!({"args": a}),
        StreamEvent::Usage(u) => json!({"usage": {
            "input": u.input_tokens,
            "output": u.output_tokens,
            "cached": u.cached_input_tokens,
            "cache_creation": u.cache_creation_input_tokens,
            "reasoning": u.reasoning_tokens,
        }}),
        StreamEvent::Finish(reason) => match reason {
            FinishReason::Stop => json!({"finish": "stop"}),
            FinishReason::Length => json!({"finish": "length"}),
            FinishReason::ToolCalls => json!({"finish": "tool_calls"}),
            FinishReason::ContentFilter => json!({"finish": "content_filter"}),
            FinishReason::StopSequence(seq) => {
                json!({"finish": "stop_sequence", "sequence": seq})
            }
            FinishReason::Other(other) => json!({"finish": "other", "reason": other}),
        },
        StreamEvent::Error(e) => json!({"error": format!("{:?}", e.kind), "message": e.message}),
    }
}

/// The SSE events of a transcript, fed to the parser in uneven byte chunks.
fn sse_events(path: &Path) -> Option<Vec<(Option<String>, String)>> {
    let bytes = fs::read(path).ok()?;
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    for chunk in bytes.chunks(5 + (bytes.len() % 7)) {
        events.extend(parser.feed(chunk).unwrap_or_default());
    }
    events.extend(parser.finish());
    Some(events.into_iter().map(|e| (e.event, e.data)).collect())
}

fn cut_error() -> StreamEvent {
    StreamEvent::Error(StreamError::new(
        ErrorKind::Upstream,
        "upstream stream ended without a finish reason",
    ))
}

/// Decode a transcript the way the gateway does: one batch per SSE event, then
/// the end of the stream.
fn decode_transcript(path: &Path, upstream: Proto, model: &str) -> Option<Vec<Vec<StreamEvent>>> {
    let events = sse_events(path)?;
    let mut batches = Vec::new();
    match upstream {
        Proto::Anthropic => {
            let mut d = translate::AnthropicStreamDecoder::new(model);
            for (name, data) in events {
                let mut out = Vec::new();
                d.push_event(name.as_deref(), data.as_bytes(), &mut out);
                batches.push(out);
            }
            if !d.saw_finish() && !failed(&batches) {
                batches.push(vec![cut_error()]);
            }
        }
        Proto::OpenAi => {
            let mut d = translate::OpenAiChunkDecoder::new();
            for (_, data) in events {
                let mut out = Vec::new();
                d.push_data(data.as_bytes(), &mut out);
                batches.push(out);
            }
            let mut last = Vec::new();
            d.finish(&mut last);
            if !d.saw_finish() && !failed(&batches) {
                last.push(cut_error());
            }
            batches.push(last);
        }
    }
    Some(batches)
}

fn failed(batches: &[Vec<StreamEvent>]) -> bool {
    batches
        .iter()
        .flatten()
        .any(|e| matches!(e, StreamEvent::Error(_)))
}

fn decode_client(proto: Proto, body: &[u8], meta: &Value) -> Result<Request, String> {
    let mut req = match proto {
        Proto::Anthropic => translate::decode_anthropic(body).map(|d| d.request),
        Proto::OpenAi => translate::decode_openai_chat(body),
    }
    .map_err(|e| e.to_string())?;
    store(meta).restore(&mut req);
    Ok(req)
}

fn encode_upstream(proto: Proto, req: &Request, model: &str) -> Result<Value, String> {
    let v = match proto {
        Proto::Anthropic => translate::encode_anthropic_request(req, model)
            .map(|r| serde_json::to_value(r).unwrap_or_default()),
        Proto::OpenAi => translate::encode_openai_chat_request(req, model)
            .map(|r| serde_json::to_value(r).unwrap_or_default()),
    };
    v.map_err(|e| e.to_string())
}

/// A whole upstream answer (`{"status", "body"}`) as the gateway reads it.
fn decode_whole(proto: Proto, answer: &Value, model: &str) -> Result<Response, StreamError> {
    let status = u16::try_from(answer["status"].as_u64().unwrap_or(200)).unwrap_or(200);
    let body = answer["body"].to_string();
    if status >= 400 {
        let (kind, message) = match proto {
            Proto::Anthropic => translate::anthropic_error_kind(status, body.as_bytes()),
            Proto::OpenAi => translate::openai_error_kind(status, body.as_bytes()),
        };
        return Err(StreamError::new(kind, message));
    }
    match proto {
        Proto::Anthropic => translate::decode_anthropic_message(body.as_bytes(), model),
        Proto::OpenAi => translate::decode_openai_chat_completion(body.as_bytes()),
    }
}

fn client_body(client: Proto, result: Result<Response, StreamError>, model: &str) -> Value {
    match result {
        Ok(resp) => match client {
            Proto::Anthropic => serde_json::to_value(translate::encode_anthropic_message(
                &resp, "msg_test", model,
            ))
            .unwrap_or_default(),
            Proto::OpenAi => normalise_openai(
                serde_json::to_value(translate::encode_chat_completion(
                    &resp,
                    "chatcmpl-test",
                    model,
                    CREATED,
                ))
                .unwrap_or_default(),
            ),
        },
        Err(e) => ErrorBody::new(client.dialect(), e.kind, e.message).to_json(client.dialect()),
    }
}

fn check_client_stream(
    dir: &Path,
    case: &str,
    client: Proto,
    req: &Request,
    model: &str,
    batches: &[Vec<StreamEvent>],
    failures: &mut Vec<String>,
) {
    let path = dir.join(format!("{case}.client.sse"));
    match client {
        Proto::Anthropic => {
            let mut enc = AnthropicStreamEncoder::new("msg_test", model);
            let mut events = Vec::new();
            for batch in batches {
                for e in batch {
                    events.extend(enc.event(e));
                }
                events.extend(enc.flush());
            }
            events.extend(enc.finish());
            check_named_sse(&path, &events, failures);
        }
        Proto::OpenAi => {
            let mut enc =
                ChatChunkEncoder::new("chatcmpl-test", model, CREATED, req.meta.include_usage);
            let mut payloads = encode_stream(batches, &mut enc);
            payloads.push("[DONE]".to_owned());
            check_sse(&path, &payloads, failures);
        }
    }
}

fn run(upstream: Proto, dir_name: &str) {
    let mut failures = Vec::new();
    let all = cases(dir_name);
    assert!(!all.is_empty(), "no {dir_name} fixtures");
    for (case, dir) in &all {
        let body = fs::read(dir.join(format!("{case}.client.json"))).unwrap_or_default();
        let client_json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let raw_meta = read_json(&dir.join(format!("{case}.meta.json"))).unwrap_or(json!({}));
        let client = raw_meta["client"].as_str().map_or(upstream, Proto::parse);
        let meta = meta(dir, case, &client_json);
        let req = match decode_client(client, &body, &raw_meta) {
            Ok(req) => req,
            Err(e) => {
                failures.push(format!("{case}: client decode failed: {e}"));
                continue;
            }
        };
        match encode_upstream(upstream, &req, &meta.upstream_model) {
            Ok(v) => check_json(
                &dir.join(format!("{case}.upstream.json")),
                &v,
                &mut failures,
            ),
            Err(e) => failures.push(format!("{case}: encode failed: {e}")),
        }

        let transcript = dir.join(format!("{case}.upstream.sse"));
        if let Some(batches) = decode_transcript(&transcript, upstream, &meta.upstream_model) {
            let flat: Vec<Value> = batches.iter().flatten().map(event_json).collect();
            check_json(
                &dir.join(format!("{case}.events.json")),
                &Value::Array(flat),
                &mut failures,
            );
            if req.stream {
                check_client_stream(
                    dir,
                    case,
                    client,
                    &req,
                    &meta.model,
                    &batches,
                    &mut failures,
                );
            } else {
                let body = client_body(client, fold(batches), &meta.model);
                check_json(
                    &dir.join(format!("{case}.client.response.json")),
                    &body,
                    &mut failures,
                );
            }
        } else if let Some(answer) = read_json(&dir.join(format!("{case}.upstream.response.json")))
        {
            let result = decode_whole(upstream, &answer, &meta.upstream_model);
            let body = client_body(client, result, &meta.model);
            check_json(
                &dir.join(format!("{case}.client.response.json")),
                &body,
                &mut failures,
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn upstream_anthropic_cases() {
    run(Proto::Anthropic, "upstream_anthropic");
}

#[test]
fn upstream_openai_cases() {
    run(Proto::OpenAi, "upstream_openai");
}
