//! Tests of the Anthropic answer decoders.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::ir::ResponseBuilder;
use crate::translate::test_support::{arb_json, mutate};

fn decode(model: &str, events: &[Value]) -> (Vec<StreamEvent>, bool) {
    let mut d = AnthropicStreamDecoder::new(model);
    let mut out = Vec::new();
    for e in events {
        let name = e["type"].as_str();
        d.push_event(name, e.to_string().as_bytes(), &mut out);
    }
    (out, d.saw_finish())
}

fn claude(sig: &str) -> Signature {
    Signature::new(sig, Some(ModelFamily::Claude))
}

fn transcript() -> Vec<Value> {
    vec![
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [], "stop_reason": null, "usage": {"input_tokens": 10, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 5, "output_tokens": 1}}}),
        json!({"type": "ping"}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hmm"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "S1"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Hi"}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "citations_delta", "citation": {}}}),
        json!({"type": "content_block_stop", "index": 1}),
        json!({"type": "content_block_start", "index": 2, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}}),
        json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "{\"a\":"}}),
        json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "1}"}}),
        json!({"type": "content_block_stop", "index": 2}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 42}}),
        json!({"type": "message_stop"}),
    ]
}

#[test]
fn a_full_transcript_becomes_ir_events() {
    let (events, finished) = decode("claude-sonnet-4-5", &transcript());
    assert!(finished);
    let usage = |output| Usage {
        input_tokens: 115,
        output_tokens: output,
        cached_input_tokens: 100,
        cache_creation_input_tokens: 5,
        reasoning_tokens: 0,
    };
    assert_eq!(
        events,
        vec![
            StreamEvent::Start {
                id: Some("msg_1".into()),
                model: Some("claude-sonnet-4-5".into())
            },
            StreamEvent::Usage(usage(1)),
            StreamEvent::ThinkingDelta(String::new()),
            StreamEvent::ThinkingDelta("hmm".into()),
            StreamEvent::Signature(claude("S1")),
            StreamEvent::TextDelta("Hi".into()),
            StreamEvent::ToolCallStart {
                id: "toolu_1".into(),
                name: "f".into()
            },
            StreamEvent::ToolCallDelta("{\"a\":".into()),
            StreamEvent::ToolCallDelta("1}".into()),
            StreamEvent::Usage(usage(42)),
            StreamEvent::Finish(FinishReason::ToolCalls),
        ]
    );
}

#[test]
fn signatures_take_the_upstream_models_family() {
    let (events, _) = decode("glm-4.6", &transcript());
    assert!(events.contains(&StreamEvent::Signature(Signature::new(
        "S1",
        Some(ModelFamily::Other)
    ))));
}

#[test]
fn stop_reasons_map_to_ir_reasons() {
    for (reason, seq, want) in [
        ("end_turn", None, FinishReason::Stop),
        ("max_tokens", None, FinishReason::Length),
        (
            "stop_sequence",
            Some("END"),
            FinishReason::StopSequence(Some("END".into())),
        ),
        ("refusal", None, FinishReason::ContentFilter),
        ("pause_turn", None, FinishReason::Other("pause_turn".into())),
    ] {
        let (events, finished) = decode(
            "claude-x",
            &[
                json!({"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": seq}, "usage": {"output_tokens": 1}}),
            ],
        );
        assert!(finished);
        assert_eq!(events.last(), Some(&StreamEvent::Finish(want)));
    }
}

#[test]
fn error_events_end_the_stream_with_their_kind() {
    let (events, finished) = decode(
        "claude-x",
        &[
            transcript()[0].clone(),
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
            json!({"type": "message_stop"}),
        ],
    );
    assert!(!finished);
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error(StreamError::new(
            ErrorKind::Overloaded,
            "Overloaded"
        )))
    );
}

#[test]
fn redacted_thinking_server_tools_and_unknown_events() {
    let mut d = AnthropicStreamDecoder::new("claude-x");
    let mut out = Vec::new();
    for (name, data) in [
        (
            Some("content_block_start"),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "redacted_thinking", "data": "ENC"}}),
        ),
        (
            None,
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "server_tool_use", "id": "s", "name": "web_search", "input": {}}}),
        ),
        (
            None,
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{}"}}),
        ),
        (
            Some("brand_new_event"),
            json!({"type": "brand_new_event", "x": 1}),
        ),
        // The type only in the SSE name.
        (
            Some("content_block_delta"),
            json!({"index": 2, "delta": {"type": "text_delta", "text": "t"}}),
        ),
        (Some("message_stop"), json!({"type": "message_stop"})),
    ] {
        d.push_event(name, data.to_string().as_bytes(), &mut out);
    }
    assert_eq!(
        out,
        vec![
            StreamEvent::Start {
                id: None,
                model: None
            },
            StreamEvent::RedactedThinking("ENC".into()),
            StreamEvent::TextDelta("t".into()),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
}

#[test]
fn malformed_data_is_an_upstream_error() {
    let mut d = AnthropicStreamDecoder::new("claude-x");
    let mut out = Vec::new();
    d.push_event(Some("message_delta"), b"{not json", &mut out);
    d.push_event(
        Some("message_stop"),
        b"{\"type\":\"message_stop\"}",
        &mut out,
    );
    assert_eq!(out.len(), 1);
    assert!(matches!(&out[0], StreamEvent::Error(e) if e.kind == ErrorKind::Upstream));
    assert!(!d.saw_finish());
}

#[test]
fn a_whole_message_matches_the_folded_stream() {
    let body = json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "S1"},
            {"type": "text", "text": "Hi"},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}},
            {"type": "server_tool_use", "id": "s", "name": "web_search", "input": {}}
        ],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 10, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 5, "output_tokens": 42}
    });
    let whole = decode_anthropic_message(body.to_string().as_bytes(), "claude-sonnet-4-5").unwrap();
    let (events, _) = decode("claude-sonnet-4-5", &transcript());
    let mut b = ResponseBuilder::new();
    for e in events {
        b.push(e);
    }
    let folded = b.finish().unwrap();
    assert_eq!(whole, folded);
}

#[test]
fn error_bodies_name_their_kind() {
    let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"#;
    assert_eq!(
        anthropic_error_kind(529, body),
        (ErrorKind::Overloaded, "Overloaded".to_owned())
    );
    for (kind, want) in [
        ("rate_limit_error", ErrorKind::RateLimited),
        ("authentication_error", ErrorKind::Authentication),
        ("permission_error", ErrorKind::PermissionDenied),
        ("not_found_error", ErrorKind::NotFound),
        ("request_too_large", ErrorKind::RequestTooLarge),
        ("invalid_request_error", ErrorKind::InvalidRequest),
        ("api_error", ErrorKind::Internal),
        ("billing_error", ErrorKind::PermissionDenied),
        ("timeout_error", ErrorKind::Timeout),
    ] {
        let body = json!({"type": "error", "error": {"type": kind, "message": "m"}}).to_string();
        assert_eq!(anthropic_error_kind(400, body.as_bytes()).0, want, "{kind}");
    }
    // Unknown types and other bodies fall back on the status.
    let body = br#"{"type":"error","error":{"type":"1113","message":"Insufficient balance"}}"#;
    assert_eq!(
        anthropic_error_kind(429, body),
        (ErrorKind::RateLimited, "Insufficient balance".to_owned())
    );
    assert_eq!(
        anthropic_error_kind(502, b"<html>Bad gateway</html>"),
        (ErrorKind::Upstream, "<html>Bad gateway</html>".to_owned())
    );
    assert_eq!(
        anthropic_error_kind(503, b""),
        (
            ErrorKind::Overloaded,
            "upstream returned HTTP 503".to_owned()
        )
    );
    let err = decode_anthropic_message(body, "claude-x").unwrap_err();
    assert_eq!(err.message, "Insufficient balance");
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_events(
        events in proptest::collection::vec((arb_json(), proptest::option::of("[a-z_]{1,20}")), 0..8),
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut d = AnthropicStreamDecoder::new("claude-x");
        let mut out = Vec::new();
        d.push_event(None, &bytes, &mut out);
        for (data, name) in &events {
            d.push_event(name.as_deref(), data.to_string().as_bytes(), &mut out);
        }
        let _ = anthropic_error_kind(400, &bytes);
        let _ = decode_anthropic_message(&bytes, "claude-x");
    }

    #[test]
    fn never_panics_on_mutated_transcripts(
        at in any::<prop::sample::Index>(),
        which in 0usize..16,
        with in arb_json(),
    ) {
        let mut events = transcript();
        let k = which % events.len();
        events[k] = mutate(&events[k], at, with);
        let (out, _) = decode("claude-x", &events);
        // Whatever happens, nothing follows an error.
        if let Some(pos) = out.iter().position(|e| matches!(e, StreamEvent::Error(_))) {
            prop_assert_eq!(pos, out.len() - 1);
        }
        let _ = decode_anthropic_message(events[k].to_string().as_bytes(), "claude-x");
    }
}
