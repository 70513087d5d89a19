//! Tests of the Chat Completions answer decoders.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::ir::ResponseBuilder;
use crate::translate::test_support::{arb_json, mutate};

fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

fn decode(chunks: &[Value], done: bool) -> (Vec<StreamEvent>, bool) {
    let mut d = OpenAiChunkDecoder::new();
    let mut out = Vec::new();
    for c in chunks {
        d.push_data(c.to_string().as_bytes(), &mut out);
    }
    if done {
        d.push_data(b"[DONE]", &mut out);
    }
    d.finish(&mut out);
    (out, d.saw_finish())
}

fn start() -> StreamEvent {
    StreamEvent::Start {
        id: Some("chatcmpl-1".into()),
        model: Some("m".into()),
    }
}

fn call_start(id: &str, name: &str) -> StreamEvent {
    StreamEvent::ToolCallStart {
        id: id.into(),
        name: name.into(),
    }
}

fn args(s: &str) -> StreamEvent {
    StreamEvent::ToolCallDelta(s.into())
}

fn usage_chunk() -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [],
           "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120,
                     "prompt_tokens_details": {"cached_tokens": 64}, "completion_tokens_details": {"reasoning_tokens": 8}}})
}

const USAGE: Usage = Usage {
    input_tokens: 100,
    output_tokens: 20,
    cached_input_tokens: 64,
    cache_creation_input_tokens: 0,
    reasoning_tokens: 8,
};

#[test]
fn text_reasoning_and_usage_after_the_finish() {
    let (events, finished) = decode(
        &[
            chunk(json!({"role": "assistant", "content": ""}), None),
            chunk(
                json!({"reasoning_content": "think", "reasoning": "think"}),
                None,
            ),
            chunk(json!({"reasoning": " more"}), None),
            chunk(json!({"content": "Hel"}), None),
            chunk(json!({"content": "lo"}), None),
            chunk(json!({}), Some("stop")),
            usage_chunk(),
        ],
        true,
    );
    assert!(finished);
    assert_eq!(
        events,
        vec![
            start(),
            StreamEvent::ThinkingDelta("think".into()),
            StreamEvent::ThinkingDelta(" more".into()),
            StreamEvent::TextDelta("Hel".into()),
            StreamEvent::TextDelta("lo".into()),
            StreamEvent::Usage(USAGE),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
}

#[test]
fn text_fields_are_read_leniently_and_escaped_text_is_kept() {
    let (events, finished) = decode(
        &[
            json!({"id": "chat\"é", "model": "m\n1",
                   "choices": [{"index": 0, "delta": {"role": "assistant", "content": null}}]}),
            // Non-strings where text goes (some servers send parts or flags) are skipped.
            chunk(
                json!({"content": [{"type": "text", "text": "x"}], "reasoning": 7, "refusal": {"a": [1]}}),
                None,
            ),
            chunk(
                json!({"content": "line\nnext \"q\" é", "reasoning_content": true}),
                None,
            ),
            chunk(json!({"content": "plain"}), Some("stop")),
        ],
        true,
    );
    assert!(finished);
    assert_eq!(
        events,
        vec![
            StreamEvent::Start {
                id: Some("chat\"é".into()),
                model: Some("m\n1".into()),
            },
            StreamEvent::TextDelta("line\nnext \"q\" é".into()),
            StreamEvent::TextDelta("plain".into()),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
}

#[test]
fn the_first_call_streams_and_the_others_follow_whole() {
    let (events, _) = decode(
        &[
            chunk(
                json!({"tool_calls": [{"index": 0, "id": "c0", "type": "function", "function": {"name": "a", "arguments": ""}}]}),
                None,
            ),
            chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"x\":"}}]}),
                None,
            ),
            chunk(
                json!({"tool_calls": [{"index": 1, "id": "c1", "type": "function", "function": {"name": "b", "arguments": "{\"y\""}}]}),
                None,
            ),
            // Interleaved: call 0 continues after call 1 began.
            chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}),
                None,
            ),
            chunk(
                json!({"tool_calls": [{"index": 1, "function": {"arguments": ":2}"}}]}),
                None,
            ),
            chunk(json!({"content": "trailing"}), None),
            chunk(json!({}), Some("tool_calls")),
        ],
        true,
    );
    assert_eq!(
        events,
        vec![
            start(),
            call_start("c0", "a"),
            args("{\"x\":"),
            args("1}"),
            call_start("c1", "b"),
            args("{\"y\":2}"),
            StreamEvent::TextDelta("trailing".into()),
            StreamEvent::Finish(FinishReason::ToolCalls),
        ]
    );
    // Folded, both calls are whole and well-formed.
    let mut b = ResponseBuilder::new();
    for e in events {
        b.push(e);
    }
    let r = b.finish().unwrap();
    assert!(
        matches!(&r.content[0], ContentBlock::ToolCall { arguments, .. } if *arguments == json!({"x": 1}))
    );
    assert!(
        matches!(&r.content[1], ContentBlock::ToolCall { arguments, .. } if *arguments == json!({"y": 2}))
    );
}

#[test]
fn calls_without_index_or_id_and_a_stop_after_calls() {
    let (events, _) = decode(
        &[
            // Whole calls in one chunk, without `index` (some servers).
            chunk(
                json!({"tool_calls": [
                    {"id": "a", "function": {"name": "f", "arguments": "{}"}},
                    {"id": "b", "function": {"name": "g", "arguments": {"k": 1}}}
                ]}),
                None,
            ),
            chunk(json!({}), Some("stop")),
        ],
        false,
    );
    assert_eq!(
        events,
        vec![
            start(),
            call_start("a", "f"),
            args("{}"),
            call_start("b", "g"),
            args("{\"k\":1}"),
            StreamEvent::Finish(FinishReason::ToolCalls),
        ]
    );
    let (events, _) = decode(
        &[
            chunk(
                json!({"function_call": {"name": "legacy", "arguments": "{}"}}),
                None,
            ),
            chunk(json!({}), Some("function_call")),
        ],
        true,
    );
    assert_eq!(events[1], call_start("call_chatcmpl-1_0", "legacy"));
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Finish(FinishReason::ToolCalls))
    );
}

#[test]
fn finish_reasons_map_to_ir_reasons() {
    for (reason, want) in [
        ("stop", FinishReason::Stop),
        ("length", FinishReason::Length),
        ("content_filter", FinishReason::ContentFilter),
        ("sensitive", FinishReason::Other("sensitive".into())),
    ] {
        let (events, finished) = decode(&[chunk(json!({"content": "x"}), Some(reason))], true);
        assert!(finished);
        assert_eq!(events.last(), Some(&StreamEvent::Finish(want)));
    }
}

#[test]
fn a_cut_stream_has_no_finish_and_done_without_reason_is_a_stop() {
    let (events, finished) = decode(&[chunk(json!({"content": "x"}), None)], false);
    assert!(!finished);
    assert_eq!(events.len(), 2);
    let (events, finished) = decode(&[chunk(json!({"content": "x"}), None)], true);
    assert!(finished);
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Finish(FinishReason::Stop))
    );
}

#[test]
fn errors_in_the_stream() {
    let (events, finished) = decode(
        &[
            chunk(json!({"content": "x"}), None),
            json!({"error": {"message": "Rate limit reached", "type": "rate_limit_error", "code": "rate_limit_exceeded"}}),
            chunk(json!({"content": "ignored"}), Some("stop")),
        ],
        true,
    );
    assert!(!finished);
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error(StreamError::new(
            ErrorKind::RateLimited,
            "Rate limit reached"
        )))
    );
    // vLLM puts the HTTP status in `code`; OpenRouter too.
    let (events, _) = decode(&[json!({"error": {"message": "boom", "code": 502}})], false);
    assert_eq!(
        events,
        vec![StreamEvent::Error(StreamError::new(
            ErrorKind::Upstream,
            "boom"
        ))]
    );
    let (events, _) = decode(&[], false);
    assert!(events.is_empty());
    let mut d = OpenAiChunkDecoder::new();
    let mut out = Vec::new();
    d.push_data(b"{oops", &mut out);
    assert!(matches!(&out[..], [StreamEvent::Error(e)] if e.kind == ErrorKind::Upstream));
}

#[test]
fn deepseek_cache_hits_count_as_cached() {
    let (events, _) = decode(
        &[
            json!({"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 2, "prompt_cache_hit_tokens": 6, "prompt_cache_miss_tokens": 4}}),
        ],
        false,
    );
    assert_eq!(
        events[1],
        StreamEvent::Usage(Usage {
            input_tokens: 10,
            output_tokens: 2,
            cached_input_tokens: 6,
            ..Usage::default()
        })
    );
}

#[test]
fn a_whole_completion_matches_the_folded_stream() {
    let body = json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello", "reasoning_content": "think",
            "tool_calls": [{"id": "c0", "type": "function", "function": {"name": "a", "arguments": "{\"x\":1}"}}]},
            "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120,
                  "prompt_tokens_details": {"cached_tokens": 64}, "completion_tokens_details": {"reasoning_tokens": 8}}
    });
    let whole = decode_openai_chat_completion(body.to_string().as_bytes()).unwrap();
    let (events, _) = decode(
        &[
            chunk(json!({"reasoning_content": "think"}), None),
            chunk(json!({"content": "Hello"}), None),
            chunk(
                json!({"tool_calls": [{"index": 0, "id": "c0", "function": {"name": "a", "arguments": "{\"x\":1}"}}]}),
                None,
            ),
            chunk(json!({}), Some("tool_calls")),
            usage_chunk(),
        ],
        true,
    );
    let mut b = ResponseBuilder::new();
    for e in events {
        b.push(e);
    }
    assert_eq!(whole, b.finish().unwrap());
    assert!(decode_openai_chat_completion(br#"{"choices": []}"#).is_err());
    let err = decode_openai_chat_completion(
        br#"{"error": {"message": "nope", "type": "invalid_request_error"}}"#,
    )
    .unwrap_err();
    assert_eq!(err, StreamError::new(ErrorKind::InvalidRequest, "nope"));
}

#[test]
fn error_bodies_of_every_server_shape() {
    let openai = br#"{"error": {"message": "Incorrect API key", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}"#;
    assert_eq!(
        openai_error_kind(401, openai),
        (ErrorKind::Authentication, "Incorrect API key".to_owned())
    );
    let vllm = br#"{"object": "error", "message": "model too busy", "type": "ServiceUnavailableError", "code": 503}"#;
    assert_eq!(
        openai_error_kind(503, vllm),
        (ErrorKind::Overloaded, "model too busy".to_owned())
    );
    let ollama = br#"{"error": "model 'x' not found"}"#;
    assert_eq!(
        openai_error_kind(404, ollama),
        (ErrorKind::NotFound, "model 'x' not found".to_owned())
    );
    assert_eq!(
        openai_error_kind(429, b"Too Many Requests"),
        (ErrorKind::RateLimited, "Too Many Requests".to_owned())
    );
    // Without an error status the body decides.
    assert_eq!(
        openai_error_kind(
            200,
            br#"{"error": {"message": "q", "code": "insufficient_quota"}}"#
        )
        .0,
        ErrorKind::RateLimited
    );
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_chunks(
        chunks in proptest::collection::vec(arb_json(), 0..8),
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut d = OpenAiChunkDecoder::new();
        let mut out = Vec::new();
        d.push_data(&bytes, &mut out);
        for c in &chunks {
            d.push_data(c.to_string().as_bytes(), &mut out);
        }
        d.finish(&mut out);
        let _ = openai_error_kind(500, &bytes);
        let _ = decode_openai_chat_completion(&bytes);
    }

    #[test]
    fn mutated_streams_keep_the_block_rules(
        at in any::<prop::sample::Index>(),
        which in 0usize..5,
        with in arb_json(),
    ) {
        let mut chunks = vec![
            chunk(json!({"tool_calls": [{"index": 0, "id": "c0", "function": {"name": "a", "arguments": "{"}}]}), None),
            chunk(json!({"tool_calls": [{"index": 1, "id": "c1", "function": {"name": "b", "arguments": "{}"}}]}), None),
            chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "}"}}]}), None),
            chunk(json!({}), Some("tool_calls")),
            usage_chunk(),
        ];
        chunks[which] = mutate(&chunks[which], at, with);
        let (out, _) = decode(&chunks, true);
        // Start first; nothing after an error; only late usage after the finish.
        if let Some(first) = out.first() {
            let ok = matches!(first, StreamEvent::Start { .. } | StreamEvent::Error(_));
            prop_assert!(ok, "first event {:?}", first);
        }
        if let Some(end) = out.iter().position(|e| matches!(e, StreamEvent::Error(_))) {
            prop_assert_eq!(end, out.len() - 1);
        }
        if let Some(end) = out.iter().position(|e| matches!(e, StreamEvent::Finish(_))) {
            prop_assert!(out[end + 1..].iter().all(|e| matches!(e, StreamEvent::Usage(_))));
        }
        // Every call is one uninterrupted block: its deltas follow its start.
        let mut open = false;
        for e in &out {
            match e {
                StreamEvent::ToolCallStart { .. } => open = true,
                StreamEvent::ToolCallDelta(_) => prop_assert!(open),
                StreamEvent::Usage(_) => {}
                _ => open = false,
            }
        }
        let _ = decode_openai_chat_completion(chunks[which].to_string().as_bytes());
    }
}
