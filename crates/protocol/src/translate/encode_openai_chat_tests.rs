//! Tests of the Chat Completions encoders.

use serde_json::{Value, json};

use super::*;
use crate::error::ErrorKind;
use crate::ir::{ModelFamily, Signature, StreamError};

fn run(include_usage: bool, events: &[StreamEvent]) -> Vec<Value> {
    let mut enc = ChatChunkEncoder::new("id-1", "gpt-x", 42, include_usage);
    let mut out = Vec::new();
    for e in events {
        out.extend(enc.event(e));
    }
    out.extend(enc.finish());
    out.iter()
        .map(|s| serde_json::from_str(s).unwrap())
        .collect()
}

#[test]
fn every_chunk_has_the_fixed_fields_and_the_first_delta_the_role() {
    let chunks = run(false, &[StreamEvent::TextDelta("hi".into())]);
    for c in &chunks {
        assert_eq!(
            (
                c["id"].clone(),
                c["object"].clone(),
                c["created"].clone(),
                c["model"].clone()
            ),
            (
                json!("id-1"),
                json!("chat.completion.chunk"),
                json!(42),
                json!("gpt-x")
            )
        );
    }
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": "hi"})
    );
    assert_eq!(chunks[1]["choices"][0]["finish_reason"], "stop");
}

#[test]
fn tool_calls_reasoning_and_usage() {
    let chunks = run(
        true,
        &[
            StreamEvent::Start {
                id: None,
                model: None,
            },
            StreamEvent::ThinkingDelta("why".into()),
            StreamEvent::Signature(Signature::new("s", Some(ModelFamily::Gemini))),
            StreamEvent::ToolCallStart {
                id: "a".into(),
                name: "f".into(),
            },
            StreamEvent::ToolCallDelta("{\"x\":".into()),
            StreamEvent::ToolCallDelta("1}".into()),
            StreamEvent::ToolCallStart {
                id: "b".into(),
                name: "g".into(),
            },
            StreamEvent::Usage(Usage {
                input_tokens: 10,
                output_tokens: 5,
                cached_input_tokens: 2,
                reasoning_tokens: 1,
                ..Usage::default()
            }),
            StreamEvent::Finish(FinishReason::Stop),
        ],
    );
    let deltas: Vec<&Value> = chunks.iter().map(|c| &c["choices"][0]["delta"]).collect();
    assert_eq!(*deltas[1], json!({"reasoning_content": "why"}));
    assert_eq!(
        *deltas[2],
        json!({"tool_calls": [{"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": ""}}]})
    );
    assert_eq!(
        *deltas[3],
        json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"x\":"}}]})
    );
    assert_eq!(deltas[5]["tool_calls"][0]["index"], 1);
    assert_eq!(chunks[6]["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(chunks[7]["choices"], json!([]));
    assert_eq!(
        chunks[7]["usage"],
        json!({"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
               "prompt_tokens_details": {"cached_tokens": 2}, "completion_tokens_details": {"reasoning_tokens": 1}})
    );
}

#[test]
fn an_error_is_the_last_chunk() {
    let chunks = run(
        true,
        &[
            StreamEvent::TextDelta("a".into()),
            StreamEvent::Error(StreamError::new(ErrorKind::Overloaded, "busy")),
            StreamEvent::TextDelta("ignored".into()),
        ],
    );
    assert_eq!(chunks.len(), 2);
    assert_eq!(
        chunks[1],
        json!({"error": {"message": "busy", "type": "server_error", "param": null, "code": "overloaded"}})
    );
}

#[test]
fn a_whole_completion() {
    let resp = Response {
        content: vec![
            ContentBlock::Thinking {
                text: "r".into(),
                signature: None,
            },
            ContentBlock::ToolCall {
                id: "c".into(),
                name: "f".into(),
                arguments: json!({"_raw": "{bad"}),
                signature: None,
            },
        ],
        finish_reason: Some(FinishReason::ToolCalls),
        usage: Usage {
            input_tokens: 1,
            output_tokens: 2,
            ..Usage::default()
        },
        ..Response::default()
    };
    let v = serde_json::to_value(encode_chat_completion(&resp, "id", "m", 1)).unwrap();
    assert_eq!(
        v["choices"][0],
        json!({"index": 0, "logprobs": null, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": null, "reasoning_content": "r", "refusal": null,
            "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{bad"}}]
        }})
    );
    assert_eq!(v["usage"]["total_tokens"], 3);
}
