//! Golden cases of the OpenAI Responses translators, `fixtures/responses/<case>.*`.
//!
//! The files of the parent's convention, plus:
//! - `<case>.context.json` — what the decoder leaves for the gateway (custom and
//!   local-shell tools, dropped tools, skipped items, stored-state references);
//! - `<case>.client.sse` holds `event:` lines as well as `data:` lines; both are
//!   compared, and every stream is checked for the protocol's invariants: the
//!   event name equals the payload's `type`, `sequence_number` counts from 0,
//!   every payload parses as a known event, and exactly one terminal event
//!   (`response.completed` / `.incomplete` / `.failed`) ends the stream.
//!
//! Response ids are fixed (`resp_test`), so item ids are too.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use serde_json::{Value, json};
use uplink_protocol::error::{Dialect, ErrorBody};
use uplink_protocol::ir::{Request, StreamEvent};
use uplink_protocol::openai::ResponsesStreamEvent;
use uplink_protocol::sse::SseParser;
use uplink_protocol::translate::{self, ResponsesContext, ResponsesSse, TranslateError};

use super::{
    CREATED, cases, check_decode_error, check_json, check_upstream, fold, meta, updating,
    upstream_batches,
};

const RESPONSE_ID: &str = "resp_test";
const TERMINAL: [&str; 3] = [
    "response.completed",
    "response.incomplete",
    "response.failed",
];

fn context_json(ctx: &ResponsesContext) -> Value {
    json!({
        "custom_tools": ctx.custom_tools,
        "local_shell": ctx.local_shell,
        "dropped_tools": ctx.dropped_tools,
        "skipped_items": ctx.skipped_items,
        "item_references": ctx.item_references,
        "previous_response_id": ctx.previous_response_id,
        "conversation": ctx.conversation,
    })
}

/// `(event name, parsed data)` of an SSE transcript.
fn sse_pairs(text: &str) -> Vec<(Option<String>, Value)> {
    let mut parser = SseParser::new();
    let mut events = parser.feed(text.as_bytes()).unwrap_or_default();
    events.extend(parser.finish());
    events
        .into_iter()
        .map(|e| {
            let data = serde_json::from_str(&e.data).unwrap_or(Value::String(e.data));
            (e.event, data)
        })
        .collect()
}

/// The protocol's invariants over one encoded stream.
fn check_invariants(case: &str, events: &[ResponsesSse], failures: &mut Vec<String>) {
    let mut fail = |msg: String| failures.push(format!("{case}: {msg}"));
    for (n, (name, data)) in events.iter().enumerate() {
        let value: Value = serde_json::from_str(data).unwrap_or(Value::Null);
        if value["type"] != *name {
            fail(format!(
                "event {n}: name `{name}` but type {}",
                value["type"]
            ));
        }
        if value["sequence_number"] != json!(n) {
            fail(format!(
                "event {n}: sequence_number {}",
                value["sequence_number"]
            ));
        }
        match serde_json::from_value::<ResponsesStreamEvent>(value) {
            Ok(ResponsesStreamEvent::Other(_)) | Err(_) => fail(format!(
                "event {n} (`{name}`) does not parse as a known event"
            )),
            Ok(_) => {}
        }
    }
    let terminals = events
        .iter()
        .filter(|(name, _)| TERMINAL.contains(name))
        .count();
    let last_is_terminal = events.last().is_some_and(|(n, _)| TERMINAL.contains(n));
    if terminals != 1 || !last_is_terminal {
        fail(format!(
            "{terminals} terminal event(s); the last event must be the only one"
        ));
    }
}

fn check_sse(path: &Path, events: &[ResponsesSse], failures: &mut Vec<String>) {
    let mut text = String::new();
    for (name, data) in events {
        let _ = write!(text, "event: {name}\ndata: {data}\n\n");
    }
    if updating() {
        fs::write(path, &text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let Ok(expected) = fs::read_to_string(path) else {
        failures.push(format!(
            "{}: missing (run with UPDATE_GOLDEN=1)",
            path.display()
        ));
        return;
    };
    if sse_pairs(&expected) != sse_pairs(&text) {
        failures.push(format!(
            "{}: mismatch\n--- expected\n{expected}--- actual\n{text}",
            path.display()
        ));
    }
}

fn encode_stream(
    batches: &[Vec<StreamEvent>],
    enc: &mut translate::ResponsesStreamEncoder,
) -> Vec<ResponsesSse> {
    let mut out = Vec::new();
    for batch in batches {
        for e in batch {
            out.extend(enc.event(e));
        }
        out.extend(enc.flush());
    }
    out.extend(enc.finish());
    out
}

#[test]
fn openai_responses_cases() {
    let mut failures = Vec::new();
    let all = cases("responses");
    assert!(!all.is_empty(), "no responses fixtures");
    for (case, dir) in &all {
        let body = fs::read(dir.join(format!("{case}.client.json"))).unwrap_or_default();
        let client: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let meta = meta(dir, case, &client);
        let decoded = translate::decode_openai_responses(&body);
        let request: Result<Request, TranslateError> = match &decoded {
            Ok((req, _)) => Ok(req.clone()),
            Err(e) => Err(e.clone()),
        };
        if check_decode_error(dir, case, &request, &mut failures) {
            continue;
        }
        let Ok((req, ctx)) = decoded else { continue };
        check_upstream(dir, case, &req, &meta, &mut failures);
        check_json(
            &dir.join(format!("{case}.context.json")),
            &context_json(&ctx),
            &mut failures,
        );
        let sse = dir.join(format!("{case}.upstream.sse"));
        let Some(batches) = upstream_batches(&sse, &meta.upstream_model) else {
            continue;
        };
        if req.stream {
            let mut enc =
                translate::ResponsesStreamEncoder::new(&ctx, RESPONSE_ID, &meta.model, CREATED);
            let events = encode_stream(&batches, &mut enc);
            check_invariants(case, &events, &mut failures);
            check_sse(
                &dir.join(format!("{case}.client.sse")),
                &events,
                &mut failures,
            );
        } else {
            let body = match fold(batches) {
                Ok(resp) => serde_json::to_value(translate::encode_responses_response(
                    &resp,
                    &ctx,
                    RESPONSE_ID,
                    &meta.model,
                    CREATED,
                ))
                .unwrap_or_default(),
                Err(e) => {
                    ErrorBody::new(Dialect::OpenAi, e.kind, e.message).to_json(Dialect::OpenAi)
                }
            };
            let path = dir.join(format!("{case}.client.response.json"));
            check_json(&path, &body, &mut failures);
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
