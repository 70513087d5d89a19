//! Tests of the Anthropic Messages encoders.

use serde_json::{Value, json};

use super::*;
use crate::anthropic::AnthropicStreamEvent;
use crate::error::ErrorKind;
use crate::ir::{ModelFamily, ResponseBuilder, Signature, StreamError};

/// The stream as (event name, parsed data), checking that every event parses as
/// the typed wire event and that its name is its `type`.
fn run(events: &[StreamEvent]) -> (Vec<(&'static str, Value)>, AnthropicStreamEncoder) {
    let mut enc = AnthropicStreamEncoder::new("msg_1", "claude-x");
    let mut raw = Vec::new();
    for e in events {
        raw.extend(enc.event(e));
        raw.extend(enc.flush());
    }
    raw.extend(enc.finish());
    let out = raw
        .into_iter()
        .map(|(name, data)| {
            let typed: AnthropicStreamEvent = serde_json::from_str(&data).unwrap();
            assert_eq!(typed.name(), name);
            (name, serde_json::from_str(&data).unwrap())
        })
        .collect();
    (out, enc)
}

fn names(events: &[(&'static str, Value)]) -> Vec<&'static str> {
    events.iter().map(|(n, _)| *n).collect()
}

fn claude(sig: &str) -> Signature {
    Signature::new(sig, Some(ModelFamily::Claude))
}

fn gemini(sig: &str) -> Signature {
    Signature::new(sig, Some(ModelFamily::Gemini))
}

#[test]
fn thinking_then_text_then_a_tool_call() {
    let (events, enc) = run(&[
        StreamEvent::Start {
            id: Some("up".into()),
            model: Some("claude-up".into()),
        },
        StreamEvent::ThinkingDelta("let me".into()),
        StreamEvent::ThinkingDelta(" think".into()),
        StreamEvent::Signature(claude("sig")),
        StreamEvent::TextDelta("Hi".into()),
        StreamEvent::ToolCallStart {
            id: "toolu_1".into(),
            name: "f".into(),
        },
        StreamEvent::ToolCallDelta("{\"a\":".into()),
        StreamEvent::ToolCallDelta("1}".into()),
        StreamEvent::Usage(Usage {
            input_tokens: 100,
            output_tokens: 20,
            cached_input_tokens: 60,
            cache_creation_input_tokens: 10,
            reasoning_tokens: 5,
        }),
        StreamEvent::Finish(FinishReason::Stop),
    ]);
    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    assert_eq!(
        events[0].1,
        json!({"type": "message_start", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 0}
        }})
    );
    assert_eq!(
        events[1].1["content_block"],
        json!({"type": "thinking", "thinking": "", "signature": ""})
    );
    assert_eq!(
        events[4].1["delta"],
        json!({"type": "signature_delta", "signature": "sig"})
    );
    assert_eq!(events[6].1["index"], 1);
    assert_eq!(
        events[9].1["content_block"],
        json!({"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}})
    );
    assert_eq!(
        events[10].1["delta"],
        json!({"type": "input_json_delta", "partial_json": "{\"a\":"})
    );
    assert_eq!(
        events[13].1,
        json!({"type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": null},
            "usage": {"input_tokens": 30, "cache_creation_input_tokens": 10, "cache_read_input_tokens": 60, "output_tokens": 20}})
    );
    assert!(enc.has_answer());
    assert!(enc.detached_signatures().is_empty());
}

#[test]
fn gemini_signatures_on_calls_and_text_are_detached_not_written() {
    let (events, mut enc) = run(&[
        StreamEvent::TextDelta("a".into()),
        StreamEvent::Signature(gemini("on-text")),
        StreamEvent::ToolCallStart {
            id: "c1".into(),
            name: "f".into(),
        },
        StreamEvent::ToolCallDelta("{}".into()),
        StreamEvent::Signature(gemini("on-call")),
        StreamEvent::Finish(FinishReason::ToolCalls),
    ]);
    let text = serde_json::to_string(&events.iter().map(|e| &e.1).collect::<Vec<_>>()).unwrap();
    assert!(!text.contains("on-text") && !text.contains("on-call"));
    assert_eq!(
        enc.take_detached_signatures(),
        vec![
            DetachedSignature {
                anchor: SignatureAnchor::Text { index: 0 },
                signature: gemini("on-text")
            },
            DetachedSignature {
                anchor: SignatureAnchor::ToolCall("c1".into()),
                signature: gemini("on-call")
            },
        ]
    );
    assert!(enc.detached_signatures().is_empty());
}

#[test]
fn a_lone_signature_becomes_an_empty_signed_thinking_block() {
    let (events, enc) = run(&[
        StreamEvent::Signature(claude("omitted")),
        StreamEvent::RedactedThinking("enc".into()),
        StreamEvent::TextDelta("x".into()),
        StreamEvent::Finish(FinishReason::Stop),
    ]);
    assert_eq!(
        events[1].1["content_block"],
        json!({"type": "thinking", "thinking": "", "signature": ""})
    );
    assert_eq!(events[2].1["delta"]["signature"], "omitted");
    assert_eq!(
        events[4].1,
        json!({"type": "content_block_start", "index": 1, "content_block": {"type": "redacted_thinking", "data": "enc"}})
    );
    assert_eq!(
        events[5].1,
        json!({"type": "content_block_stop", "index": 1})
    );
    assert_eq!(events[6].1["index"], 2);
    assert!(enc.has_answer());
}

#[test]
fn stop_sequences_max_tokens_and_refusals() {
    for (reason, want, seq) in [
        (
            FinishReason::StopSequence(Some("END".into())),
            "stop_sequence",
            json!("END"),
        ),
        (FinishReason::Length, "max_tokens", Value::Null),
        (FinishReason::ContentFilter, "refusal", Value::Null),
        (
            FinishReason::Other("MALFORMED_FUNCTION_CALL".into()),
            "end_turn",
            Value::Null,
        ),
        (
            FinishReason::Other("pause_turn".into()),
            "pause_turn",
            Value::Null,
        ),
    ] {
        let (events, _) = run(&[
            StreamEvent::TextDelta("x".into()),
            StreamEvent::Finish(reason),
        ]);
        let delta = &events[events.len() - 2].1["delta"];
        assert_eq!(delta["stop_reason"], want);
        assert_eq!(delta["stop_sequence"], seq);
    }
}

#[test]
fn an_error_ends_the_stream_with_an_error_event() {
    let (events, _) = run(&[
        StreamEvent::TextDelta("part".into()),
        StreamEvent::Error(StreamError::new(ErrorKind::Overloaded, "busy")),
        StreamEvent::TextDelta("ignored".into()),
    ]);
    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "error"
        ]
    );
    assert_eq!(
        events[3].1,
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}})
    );
}

#[test]
fn the_end_waits_for_usage_in_the_same_batch_and_is_sent_once() {
    let mut enc = AnthropicStreamEncoder::new("m", "x");
    let mut out = Vec::new();
    out.extend(enc.event(&StreamEvent::TextDelta("a".into())));
    out.extend(enc.event(&StreamEvent::Finish(FinishReason::Stop)));
    out.extend(enc.event(&StreamEvent::Usage(Usage {
        output_tokens: 7,
        ..Usage::default()
    })));
    assert!(out.iter().all(|(n, _)| *n != "message_delta"));
    out.extend(enc.flush());
    out.extend(enc.finish());
    out.extend(enc.flush());
    let deltas: Vec<&(&str, String)> = out.iter().filter(|(n, _)| *n == "message_delta").collect();
    assert_eq!(deltas.len(), 1);
    assert!(deltas[0].1.contains("\"output_tokens\":7"));
    assert_eq!(out.last().map(|e| e.0), Some("message_stop"));
}

#[test]
fn thinking_alone_is_no_answer_and_an_empty_stream_still_closes() {
    let (events, enc) = run(&[StreamEvent::ThinkingDelta("hmm".into())]);
    assert!(!enc.has_answer());
    assert_eq!(events.last().map(|e| e.0), Some("message_stop"));
    let (events, _) = run(&[]);
    assert_eq!(
        names(&events),
        ["message_start", "message_delta", "message_stop"]
    );
}

#[test]
fn a_whole_message_matches_the_folded_stream() {
    let stream = [
        StreamEvent::ThinkingDelta("t".into()),
        StreamEvent::Signature(claude("s1")),
        StreamEvent::TextDelta("Hello".into()),
        StreamEvent::Signature(gemini("g-text")),
        StreamEvent::ToolCallStart {
            id: "c1".into(),
            name: "f".into(),
        },
        StreamEvent::ToolCallDelta("{\"a\":1}".into()),
        StreamEvent::Signature(gemini("g-call")),
        StreamEvent::Usage(Usage {
            input_tokens: 50,
            output_tokens: 9,
            cached_input_tokens: 20,
            ..Usage::default()
        }),
        StreamEvent::Finish(FinishReason::Stop),
    ];
    let mut b = ResponseBuilder::new();
    for e in stream.iter().cloned() {
        b.push(e);
    }
    let resp = b.finish().unwrap();
    let msg = serde_json::to_value(encode_anthropic_message(&resp, "msg_1", "claude-x")).unwrap();
    assert_eq!(
        msg,
        json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
            "content": [
                {"type": "thinking", "thinking": "t", "signature": "s1"},
                {"type": "text", "text": "Hello"},
                {"type": "tool_use", "id": "c1", "name": "f", "input": {"a": 1}}
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 30, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 20, "output_tokens": 9}
        })
    );
    let (_, enc) = run(&stream);
    assert_eq!(detached_signatures(&resp), enc.detached_signatures());
}

#[test]
fn malformed_arguments_stay_an_object() {
    let resp = Response {
        content: vec![ContentBlock::ToolCall {
            id: "c".into(),
            name: "f".into(),
            arguments: json!([1]),
            signature: None,
        }],
        ..Response::default()
    };
    let msg = encode_anthropic_message(&resp, "m", "x");
    assert_eq!(
        serde_json::to_value(&msg.content[0]).unwrap()["input"],
        json!({"_raw": [1]})
    );
    assert_eq!(msg.stop_reason.as_deref(), Some("tool_use"));
}

#[test]
fn helpers_render_their_shapes() {
    assert_eq!(anthropic_ping(), ("ping", "{\"type\":\"ping\"}".to_owned()));
    assert_eq!(
        serde_json::to_value(encode_anthropic_count_tokens(12)).unwrap(),
        json!({"input_tokens": 12})
    );
    let (name, data) = anthropic_error_event(ErrorKind::RateLimited, "slow down");
    assert_eq!(name, "error");
    assert_eq!(
        serde_json::from_str::<Value>(&data).unwrap(),
        json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}})
    );
}

#[test]
fn nothing_but_usage_counts_after_the_finish() {
    let (events, _) = run(&[
        StreamEvent::TextDelta("done".into()),
        StreamEvent::Finish(FinishReason::Stop),
    ]);
    let mut enc = AnthropicStreamEncoder::new("msg_1", "claude-x");
    let mut late = Vec::new();
    for e in [
        StreamEvent::TextDelta("done".into()),
        StreamEvent::Finish(FinishReason::Stop),
        StreamEvent::TextDelta("late".into()),
        StreamEvent::Error(StreamError::new(ErrorKind::Upstream, "reset")),
    ] {
        late.extend(enc.event(&e));
    }
    late.extend(enc.flush());
    late.extend(enc.finish());
    let late: Vec<&'static str> = late.iter().map(|(n, _)| *n).collect();
    assert_eq!(late, names(&events));
}

#[test]
fn an_empty_thinking_delta_ends_the_open_block_so_its_signature_is_a_thinking_block() {
    // Interleaved thinking with `display: "omitted"`: a tool call, then a thinking
    // block whose text is empty and whose signature follows.
    let (events, enc) = run(&[
        StreamEvent::ToolCallStart {
            id: "t1".into(),
            name: "f".into(),
        },
        StreamEvent::ToolCallDelta("{}".into()),
        StreamEvent::ThinkingDelta(String::new()),
        StreamEvent::Signature(claude("sig")),
        StreamEvent::TextDelta(String::new()),
        StreamEvent::TextDelta("done".into()),
        StreamEvent::Finish(FinishReason::Stop),
    ]);
    assert!(enc.detached_signatures().is_empty());
    let starts: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| *n == "content_block_start")
        .map(|(_, v)| &v["content_block"]["type"])
        .collect();
    assert_eq!(
        starts,
        [&json!("tool_use"), &json!("thinking"), &json!("text")]
    );
    assert!(events.iter().any(|(_, v)| v["delta"]["signature"] == "sig"));
}
