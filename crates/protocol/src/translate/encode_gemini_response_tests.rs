//! Tests of the Gemini answer encoders.

use serde_json::{Value, json};

use super::*;
use crate::error::ErrorKind;
use crate::ir::{ModelFamily, Signature, StreamError};

fn run(events: &[StreamEvent]) -> Vec<Value> {
    let mut enc = GeminiChunkEncoder::new("models/gemini-x");
    let mut out = Vec::new();
    for e in events {
        out.extend(enc.event(e));
    }
    out.extend(enc.finish());
    out.iter()
        .map(|s| serde_json::from_str(s).unwrap())
        .collect()
}

fn parts(chunks: &[Value]) -> Vec<Value> {
    chunks
        .iter()
        .map(|c| c["candidates"][0]["content"]["parts"][0].clone())
        .collect()
}

#[test]
fn signatures_land_on_their_part_and_calls_are_whole() {
    let sig = |s: &str| StreamEvent::Signature(Signature::new(s, Some(ModelFamily::Gemini)));
    let chunks = run(&[
        StreamEvent::Start {
            id: Some("r".into()),
            model: None,
        },
        StreamEvent::ThinkingDelta("t".into()),
        sig("s1"),
        StreamEvent::TextDelta("a".into()),
        StreamEvent::TextDelta("b".into()),
        StreamEvent::ToolCallStart {
            id: "c".into(),
            name: "f".into(),
        },
        StreamEvent::ToolCallDelta("{\"x\"".into()),
        StreamEvent::ToolCallDelta(":1}".into()),
        sig("s2"),
        StreamEvent::ToolCallStart {
            id: "d".into(),
            name: "g".into(),
        },
        StreamEvent::Usage(Usage {
            input_tokens: 5,
            output_tokens: 7,
            reasoning_tokens: 2,
            ..Usage::default()
        }),
        StreamEvent::Finish(FinishReason::ToolCalls),
    ]);
    assert_eq!(
        parts(&chunks),
        vec![
            json!({"text": "t", "thought": true, "thoughtSignature": "s1"}),
            json!({"text": "a"}),
            json!({"text": "b"}),
            json!({"functionCall": {"id": "c", "name": "f", "args": {"x": 1}}, "thoughtSignature": "s2"}),
            json!({"functionCall": {"id": "d", "name": "g", "args": {}}}),
        ]
    );
    let last = chunks.last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last["modelVersion"], "gemini-x");
    assert_eq!(last["responseId"], "r");
    assert_eq!(
        last["usageMetadata"],
        json!({"promptTokenCount": 5, "candidatesTokenCount": 5, "thoughtsTokenCount": 2, "totalTokenCount": 12})
    );
    assert!(
        chunks[..chunks.len() - 1]
            .iter()
            .all(|c| c["candidates"][0].get("finishReason").is_none())
    );
}

#[test]
fn the_last_chunk_always_has_a_finish_reason_and_errors_end_the_stream() {
    let chunks = run(&[]);
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0]["candidates"][0]["finishReason"], "STOP");
    let chunks = run(&[
        StreamEvent::TextDelta("partial".into()),
        StreamEvent::Error(StreamError::new(ErrorKind::RateLimited, "quota")),
    ]);
    assert_eq!(parts(&chunks[..1]), vec![json!({"text": "partial"})]);
    assert_eq!(
        chunks[1],
        json!({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}})
    );
    assert_eq!(chunks.len(), 2);
    let length = run(&[StreamEvent::Finish(FinishReason::Length)]);
    assert_eq!(length[0]["candidates"][0]["finishReason"], "MAX_TOKENS");
    let other = run(&[StreamEvent::Finish(FinishReason::Other("weird".into()))]);
    assert_eq!(other[0]["candidates"][0]["finishReason"], "OTHER");
}

#[test]
fn a_whole_response() {
    let resp = Response {
        id: Some("r".into()),
        content: vec![
            ContentBlock::text("hi"),
            ContentBlock::Thinking {
                text: String::new(),
                signature: Some(Signature::new("s", None)),
            },
            ContentBlock::ToolCall {
                id: "c".into(),
                name: "f".into(),
                arguments: json!({"a": 1}),
                signature: None,
            },
        ],
        finish_reason: Some(FinishReason::ContentFilter),
        ..Response::default()
    };
    let v = serde_json::to_value(encode_gemini_response(&resp, "m")).unwrap();
    assert_eq!(
        v["candidates"][0],
        json!({"content": {"role": "model", "parts": [
            {"text": "hi", "thoughtSignature": "s"},
            {"functionCall": {"id": "c", "name": "f", "args": {"a": 1}}}
        ]}, "finishReason": "SAFETY", "index": 0})
    );
}
