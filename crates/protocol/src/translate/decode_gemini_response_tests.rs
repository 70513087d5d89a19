//! Tests of the Gemini stream decoder.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::translate::test_support::arb_json;

fn events(model: &str, chunks: &[serde_json::Value]) -> (Vec<StreamEvent>, bool) {
    let mut d = GeminiStreamDecoder::new(model);
    let mut out = Vec::new();
    for c in chunks {
        d.push_data(c.to_string().as_bytes(), &mut out);
    }
    (out, d.saw_finish())
}

#[test]
fn parts_become_events_with_signatures_after_their_content() {
    let (ev, finished) = events(
        "gemini-3-pro-high",
        &[
            json!({"response": {"responseId": "r1", "modelVersion": "v", "candidates": [{"content": {"parts": [
                {"text": "think", "thought": true},
                {"text": "answer", "thoughtSignature": "s1"},
                {"functionCall": {"name": "f", "args": {"a": 1}}, "thoughtSignature": "s2"},
                {"functionCall": {"id": "given", "name": "g"}},
                {"executableCode": {"language": "PYTHON", "code": "print(1)"}},
                {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "1"}}
            ]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "thoughtsTokenCount": 3, "cachedContentTokenCount": 4, "toolUsePromptTokenCount": 2}}}),
        ],
    );
    assert!(finished);
    let gemini = Some(ModelFamily::Gemini);
    assert_eq!(
        ev,
        vec![
            StreamEvent::Start {
                id: Some("r1".into()),
                model: Some("v".into())
            },
            StreamEvent::ThinkingDelta("think".into()),
            StreamEvent::TextDelta("answer".into()),
            StreamEvent::Signature(Signature::new("s1", gemini)),
            StreamEvent::ToolCallStart {
                id: "call_r1_0".into(),
                name: "f".into()
            },
            StreamEvent::ToolCallDelta("{\"a\":1}".into()),
            StreamEvent::Signature(Signature::new("s2", gemini)),
            StreamEvent::ToolCallStart {
                id: "given".into(),
                name: "g".into()
            },
            StreamEvent::ToolCallDelta("{}".into()),
            StreamEvent::TextDelta("\n```python\nprint(1)\n```\n".into()),
            StreamEvent::TextDelta("\n```output\n1\n```\n".into()),
            StreamEvent::Usage(Usage {
                input_tokens: 12,
                output_tokens: 8,
                cached_input_tokens: 4,
                cache_creation_input_tokens: 0,
                reasoning_tokens: 3
            }),
            StreamEvent::Finish(FinishReason::ToolCalls),
        ]
    );
}

#[test]
fn finish_reasons_map_to_the_ir() {
    for (reason, expected) in [
        ("STOP", FinishReason::Stop),
        ("MAX_TOKENS", FinishReason::Length),
        ("SAFETY", FinishReason::ContentFilter),
        ("RECITATION", FinishReason::ContentFilter),
        ("BLOCKLIST", FinishReason::ContentFilter),
        ("PROHIBITED_CONTENT", FinishReason::ContentFilter),
        ("SPII", FinishReason::ContentFilter),
        ("IMAGE_SAFETY", FinishReason::ContentFilter),
        (
            "MALFORMED_FUNCTION_CALL",
            FinishReason::Other("MALFORMED_FUNCTION_CALL".into()),
        ),
        ("SOMETHING_NEW", FinishReason::Other("SOMETHING_NEW".into())),
    ] {
        let (ev, _) = events(
            "gemini-2.5-flash",
            &[json!({"candidates": [{"finishReason": reason}]})],
        );
        assert_eq!(ev.last(), Some(&StreamEvent::Finish(expected)), "{reason}");
    }
}

#[test]
fn repeated_usage_is_reported_once_and_errors_are_classified() {
    let usage = json!({"promptTokenCount": 1});
    let (ev, finished) = events(
        "gemini-2.5-flash",
        &[
            json!({"candidates": [{"content": {"parts": [{"text": "a"}]}}], "usageMetadata": usage}),
            json!({"candidates": [{"content": {"parts": [{"text": "b"}]}}], "usageMetadata": usage}),
            json!({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}),
        ],
    );
    assert!(!finished);
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, StreamEvent::Usage(_)))
            .count(),
        1
    );
    assert_eq!(
        ev.last(),
        Some(&StreamEvent::Error(StreamError::new(
            ErrorKind::RateLimited,
            "quota"
        )))
    );
    let (ev, _) = events(
        "m",
        &[json!({"error": {"message": "x", "status": "UNAVAILABLE"}})],
    );
    assert_eq!(
        ev,
        vec![StreamEvent::Error(StreamError::new(
            ErrorKind::Overloaded,
            "x"
        ))]
    );
    let mut d = GeminiStreamDecoder::new("m");
    let mut out = Vec::new();
    d.push_data(b"{not json", &mut out);
    d.push_data(b"[DONE]", &mut out);
    assert!(matches!(&out[..], [StreamEvent::Error(e)] if e.kind == ErrorKind::Upstream));
}

#[test]
fn a_whole_response_folds_into_blocks() {
    let resp: GenerateContentResponse = serde_json::from_value(json!({
        "candidates": [{"content": {"parts": [
            {"text": "t", "thought": true, "thoughtSignature": "c"},
            {"text": "answer"}
        ]}, "finishReason": "STOP"}]
    }))
    .unwrap();
    let r = decode_gemini_response(&resp, "claude-sonnet-4-5");
    assert_eq!(
        r.content,
        vec![
            crate::ir::ContentBlock::Thinking {
                text: "t".into(),
                signature: Some(Signature::new("c", Some(ModelFamily::Claude)))
            },
            crate::ir::ContentBlock::text("answer"),
        ]
    );
    assert_eq!(r.finish_reason, Some(FinishReason::Stop));
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_chunks(chunks in proptest::collection::vec(arb_json(), 1..4)) {
        let mut d = GeminiStreamDecoder::new("gemini-3-pro-high");
        let mut out = Vec::new();
        for c in &chunks {
            d.push_data(c.to_string().as_bytes(), &mut out);
            d.push_data(json!({"response": c}).to_string().as_bytes(), &mut out);
        }
    }
}
