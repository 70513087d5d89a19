//! Golden tests: client JSON → IR → upstream JSON, and upstream SSE → IR → client
//! output, for every case under `tests/fixtures/<proto>/`.
//!
//! Files of a case `<case>` (all but the first optional):
//! - `<case>.client.json` — the client's request body;
//! - `<case>.meta.json` — what is not in the body: `{"model", "stream"}` for
//!   Gemini (they come from the URL), `"upstream_model"` (default: the client's
//!   model), `"session_id"`;
//! - `<case>.error.json` — `{"error": "<message>"}` when decoding must fail;
//! - `<case>.upstream.json` — the expected inner request of the Cloud Code
//!   envelope (`request`, including `sessionId`);
//! - `<case>.upstream.sse` — an upstream Cloud Code SSE transcript;
//! - `<case>.client.sse` — the expected client stream (stream requests), or
//!   `<case>.client.response.json` — the expected client body (unary requests;
//!   named apart from the request `.client.json`).
//!
//! JSON is compared as parsed values, never as strings; top-level `id`/`created`
//! of OpenAI bodies and `responseId` of Gemini bodies are normalised. The runner
//! plays the gateway's part: a stream that ends without a finish reason gets an
//! upstream `Error` event. `UPDATE_GOLDEN=1` rewrites the expected files — review
//! every rewritten file by hand before committing it.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use uplink_protocol::cloudcode::wrap_request;
use uplink_protocol::error::{Dialect, ErrorBody, ErrorKind};
use uplink_protocol::ir::{Request, Response, ResponseBuilder, StreamError, StreamEvent};
use uplink_protocol::sse::SseParser;
use uplink_protocol::translate::{self, TranslateError};

const CREATED: u64 = 1_700_000_000;

/// OpenAI Responses cases (`fixtures/responses/`), with their own SSE shape.
#[path = "golden/responses.rs"]
mod responses;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The Anthropic Messages cases (`golden/anthropic.rs`).
#[path = "golden/anthropic.rs"]
mod anthropic;

/// The API-key upstream cases (`golden/upstream.rs`): Anthropic and
/// OpenAI-compatible upstreams.
#[path = "golden/upstream.rs"]
mod upstream;

fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

fn cases(proto: &str) -> Vec<(String, PathBuf)> {
    let dir = fixtures().join(proto);
    let mut out: Vec<(String, PathBuf)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".client.json")
                .map(|c| (c.to_owned(), dir.clone()))
        })
        .collect();
    out.sort();
    out
}

fn read_json(path: &Path) -> Option<Value> {
    let text = fs::read_to_string(path).ok()?;
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Compare `actual` with the file, or write it when updating.
fn check_json(path: &Path, actual: &Value, failures: &mut Vec<String>) {
    if updating() {
        let mut text = serde_json::to_string_pretty(actual).unwrap_or_default();
        text.push('\n');
        fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    match read_json(path) {
        None => failures.push(format!(
            "{}: missing (run with UPDATE_GOLDEN=1)",
            path.display()
        )),
        Some(expected) if expected != *actual => failures.push(format!(
            "{}: mismatch\n--- expected\n{}\n--- actual\n{}",
            path.display(),
            serde_json::to_string_pretty(&expected).unwrap_or_default(),
            serde_json::to_string_pretty(actual).unwrap_or_default()
        )),
        Some(_) => {}
    }
}

/// The `data` payloads of an SSE transcript, JSON-parsed where they are JSON.
fn sse_values(text: &str) -> Vec<Value> {
    let mut parser = SseParser::new();
    let mut events = parser.feed(text.as_bytes()).unwrap_or_default();
    events.extend(parser.finish());
    events
        .into_iter()
        .map(|e| serde_json::from_str(&e.data).unwrap_or(Value::String(e.data)))
        .collect()
}

fn check_sse(path: &Path, payloads: &[String], failures: &mut Vec<String>) {
    let mut text = String::new();
    for p in payloads {
        let _ = write!(text, "data: {p}\n\n");
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
    let (want, got) = (sse_values(&expected), sse_values(&text));
    if want != got {
        failures.push(format!(
            "{}: mismatch\n--- expected\n{}--- actual\n{}",
            path.display(),
            expected,
            text
        ));
    }
}

/// Replay an upstream transcript through the Gemini decoder, fed in small uneven
/// byte chunks, ending it the way the gateway does. One batch of events per
/// upstream SSE event, as the gateway sees them.
fn upstream_batches(path: &Path, upstream_model: &str) -> Option<Vec<Vec<StreamEvent>>> {
    let bytes = fs::read(path).ok()?;
    let mut parser = SseParser::new();
    let mut decoder =
        translate::GeminiStreamDecoder::new(upstream_model).with_call_id_prefix("test");
    let mut sse = Vec::new();
    for chunk in bytes.chunks(7 + (bytes.len() % 5)) {
        sse.extend(parser.feed(chunk).unwrap_or_default());
    }
    sse.extend(parser.finish());
    let mut batches = Vec::new();
    for e in sse {
        let mut events = Vec::new();
        decoder.push_data(e.data.as_bytes(), &mut events);
        let failed = matches!(events.last(), Some(StreamEvent::Error(_)));
        batches.push(events);
        if failed {
            return Some(batches);
        }
    }
    if !decoder.saw_finish() {
        batches.push(vec![StreamEvent::Error(StreamError::new(
            ErrorKind::Upstream,
            "upstream stream ended without a finish reason",
        ))]);
    }
    Some(batches)
}

/// The client payloads of one stream: `event` per event, `flush` per upstream
/// chunk, `finish` at the end — the calls the gateway makes.
trait ClientEncoder {
    fn event(&mut self, e: &StreamEvent) -> Vec<String>;
    fn flush(&mut self) -> Vec<String>;
    fn finish(&mut self) -> Vec<String>;
}

impl ClientEncoder for translate::ChatChunkEncoder {
    fn event(&mut self, e: &StreamEvent) -> Vec<String> {
        translate::ChatChunkEncoder::event(self, e)
    }
    fn flush(&mut self) -> Vec<String> {
        translate::ChatChunkEncoder::flush(self)
    }
    fn finish(&mut self) -> Vec<String> {
        translate::ChatChunkEncoder::finish(self)
    }
}

impl ClientEncoder for translate::GeminiChunkEncoder {
    fn event(&mut self, e: &StreamEvent) -> Vec<String> {
        translate::GeminiChunkEncoder::event(self, e)
    }
    fn flush(&mut self) -> Vec<String> {
        translate::GeminiChunkEncoder::flush(self)
    }
    fn finish(&mut self) -> Vec<String> {
        translate::GeminiChunkEncoder::finish(self)
    }
}

fn encode_stream(batches: &[Vec<StreamEvent>], enc: &mut impl ClientEncoder) -> Vec<String> {
    let mut payloads = Vec::new();
    for batch in batches {
        for e in batch {
            payloads.extend(enc.event(e));
        }
        payloads.extend(enc.flush());
    }
    payloads.extend(enc.finish());
    payloads
}

fn fold(batches: Vec<Vec<StreamEvent>>) -> Result<Response, StreamError> {
    let mut builder = ResponseBuilder::new();
    for e in batches.into_iter().flatten() {
        builder.push(e);
    }
    builder.finish()
}

struct Meta {
    model: String,
    upstream_model: String,
    stream: bool,
    session_id: Option<String>,
}

fn meta(dir: &Path, case: &str, client: &Value) -> Meta {
    let m = read_json(&dir.join(format!("{case}.meta.json"))).unwrap_or(json!({}));
    let model = m["model"]
        .as_str()
        .or(client["model"].as_str())
        .unwrap_or("gemini-3-pro-high")
        .to_owned();
    Meta {
        upstream_model: m["upstream_model"].as_str().unwrap_or(&model).to_owned(),
        stream: m["stream"]
            .as_bool()
            .or(client["stream"].as_bool())
            .unwrap_or(false),
        session_id: m["session_id"].as_str().map(str::to_owned),
        model,
    }
}

fn check_decode_error(
    dir: &Path,
    case: &str,
    result: &Result<Request, TranslateError>,
    failures: &mut Vec<String>,
) -> bool {
    let path = dir.join(format!("{case}.error.json"));
    if !path.exists() {
        if let Err(e) = result {
            failures.push(format!("{case}: unexpected decode error: {e}"));
            return true;
        }
        return false;
    }
    let actual = match result {
        Err(e) => json!({"error": e.to_string()}),
        Ok(_) => json!({"error": null}),
    };
    check_json(&path, &actual, failures);
    true
}

fn check_upstream(dir: &Path, case: &str, req: &Request, meta: &Meta, failures: &mut Vec<String>) {
    let upstream = match translate::encode_gemini_request(req, &meta.upstream_model) {
        Ok(u) => u,
        Err(e) => {
            failures.push(format!("{case}: encode failed: {e}"));
            return;
        }
    };
    let wrapped = wrap_request(
        upstream,
        "test-project",
        &meta.upstream_model,
        "req-test",
        meta.session_id.as_deref(),
    );
    let value = serde_json::to_value(&wrapped).unwrap_or_default();
    check_json(
        &dir.join(format!("{case}.upstream.json")),
        &value["request"],
        failures,
    );
}

fn normalise_openai(mut v: Value) -> Value {
    if let Some(obj) = v.as_object_mut() {
        if obj.contains_key("id") {
            obj.insert("id".into(), json!("chatcmpl-test"));
        }
        if obj.contains_key("created") {
            obj.insert("created".into(), json!(CREATED));
        }
    }
    v
}

#[test]
fn openai_chat_cases() {
    let mut failures = Vec::new();
    let all = cases("openai");
    assert!(!all.is_empty(), "no openai fixtures");
    for (case, dir) in &all {
        let body = fs::read(dir.join(format!("{case}.client.json"))).unwrap_or_default();
        let client: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let meta = meta(dir, case, &client);
        let decoded = translate::decode_openai_chat(&body);
        if check_decode_error(dir, case, &decoded, &mut failures) {
            continue;
        }
        let Ok(req) = decoded else { continue };
        check_upstream(dir, case, &req, &meta, &mut failures);
        let sse = dir.join(format!("{case}.upstream.sse"));
        let Some(batches) = upstream_batches(&sse, &meta.upstream_model) else {
            continue;
        };
        if req.stream {
            let mut enc = translate::ChatChunkEncoder::new(
                "chatcmpl-test",
                &meta.model,
                CREATED,
                req.meta.include_usage,
            );
            let mut payloads = encode_stream(&batches, &mut enc);
            payloads.push("[DONE]".to_owned());
            let path = dir.join(format!("{case}.client.sse"));
            check_sse(&path, &payloads, &mut failures);
        } else {
            let body = match fold(batches) {
                Ok(resp) => {
                    let c = translate::encode_chat_completion(
                        &resp,
                        "chatcmpl-test",
                        &meta.model,
                        CREATED,
                    );
                    normalise_openai(serde_json::to_value(c).unwrap_or_default())
                }
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

fn normalise_gemini(mut v: Value) -> Value {
    if let Some(obj) = v.as_object_mut()
        && obj.contains_key("responseId")
    {
        obj.insert("responseId".into(), json!("resp-test"));
    }
    v
}

#[test]
fn gemini_cases() {
    let mut failures = Vec::new();
    let all = cases("gemini");
    assert!(!all.is_empty(), "no gemini fixtures");
    for (case, dir) in &all {
        let body = fs::read(dir.join(format!("{case}.client.json"))).unwrap_or_default();
        let meta = meta(dir, case, &Value::Null);
        let decoded = translate::decode_gemini(&body, &meta.model, meta.stream);
        if check_decode_error(dir, case, &decoded, &mut failures) {
            continue;
        }
        let Ok(req) = decoded else { continue };
        check_upstream(dir, case, &req, &meta, &mut failures);
        let sse = dir.join(format!("{case}.upstream.sse"));
        let Some(batches) = upstream_batches(&sse, &meta.upstream_model) else {
            continue;
        };
        if meta.stream {
            let mut enc = translate::GeminiChunkEncoder::new(&meta.model);
            let payloads = encode_stream(&batches, &mut enc);
            let path = dir.join(format!("{case}.client.sse"));
            check_sse(&path, &payloads, &mut failures);
        } else {
            let body = match fold(batches) {
                Ok(resp) => normalise_gemini(
                    serde_json::to_value(translate::encode_gemini_response(&resp, &meta.model))
                        .unwrap_or_default(),
                ),
                Err(e) => {
                    ErrorBody::new(Dialect::Gemini, e.kind, e.message).to_json(Dialect::Gemini)
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
