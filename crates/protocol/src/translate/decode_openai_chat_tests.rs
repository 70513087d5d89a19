//! Tests of the Chat Completions decoder.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::ir::{ContentBlock, MediaSource, Role, ToolResultContent};
use crate::translate::test_support::{arb_json, mutate};

fn decode(v: Value) -> Result<Request, TranslateError> {
    decode_openai_chat(v.to_string().as_bytes())
}

fn rich_request() -> Value {
    json!({
        "model": "m",
        "messages": [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                {"type": "file", "file": {"file_id": "file-1", "filename": "a.pdf"}}
            ]},
            {"role": "assistant", "reasoning_content": "hmm", "content": "ok", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"x\":1}"}},
                {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{bad"}}
            ]},
            {"role": "tool", "tool_call_id": "c1", "content": "one"},
            {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "two"}]},
            {"role": "user", "content": "next"}
        ],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "response_format": {"type": "json_object"},
        "reasoning_effort": "high",
        "max_tokens": 10,
        "max_completion_tokens": 20,
        "stop": ["a", ""],
        "stream": true,
        "stream_options": {"include_usage": true},
        "logprobs": true,
        "user": "u"
    })
}

#[test]
fn decodes_every_role_and_merges_tool_results_into_the_next_user_turn() {
    let req = decode(rich_request()).unwrap();
    assert_eq!(req.system_text().as_deref(), Some("sys"));
    assert_eq!(req.messages.len(), 3);
    assert_eq!(req.messages[0].role, Role::User);
    assert_eq!(
        req.messages[0].content[1],
        ContentBlock::Image {
            source: MediaSource::Base64 {
                mime_type: "image/png".into(),
                data: "AAAA".into()
            }
        }
    );
    assert!(matches!(
        &req.messages[0].content[2],
        ContentBlock::File { source: MediaSource::FileId { id, mime_type: Some(m) }, name: Some(n) }
            if id == "file-1" && m == "application/pdf" && n == "a.pdf"
    ));
    let assistant = &req.messages[1].content;
    assert_eq!(
        assistant[0],
        ContentBlock::Thinking {
            text: "hmm".into(),
            signature: None
        }
    );
    assert_eq!(assistant[1], ContentBlock::text("ok"));
    assert!(
        matches!(&assistant[3], ContentBlock::ToolCall { arguments, .. } if *arguments == json!({"_raw": "{bad"}))
    );
    let user = &req.messages[2].content;
    assert_eq!(
        user[0],
        ContentBlock::ToolResult {
            call_id: "c1".into(),
            name: Some("f".into()),
            content: vec![ToolResultContent::Text("one".into())],
            is_error: false
        }
    );
    assert!(matches!(&user[1], ContentBlock::ToolResult { name: Some(n), .. } if n == "g"));
    assert_eq!(user[2], ContentBlock::text("next"));
    assert_eq!(req.tool_choice, ToolChoice::Tool("f".into()));
    assert_eq!(req.response_format, ResponseFormat::JsonObject);
    assert_eq!(req.generation.max_output_tokens, Some(20));
    assert_eq!(req.generation.stop_sequences, vec!["a".to_owned()]);
    let thinking = req.thinking.unwrap();
    assert_eq!(
        (thinking.mode, thinking.effort),
        (ThinkingMode::Enabled, Some(ReasoningEffort::High))
    );
    assert!(req.stream && req.meta.include_usage);
    assert_eq!(req.meta.user.as_deref(), Some("u"));
}

#[test]
fn legacy_functions_resolve_by_name() {
    let req = decode(json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}},
            {"role": "function", "name": "f", "content": "done"}
        ],
        "functions": [{"name": "f"}],
        "function_call": "auto"
    }))
    .unwrap();
    let ContentBlock::ToolCall { id, .. } = &req.messages[1].content[0] else {
        panic!()
    };
    let ContentBlock::ToolResult { call_id, .. } = &req.messages[2].content[0] else {
        panic!()
    };
    assert_eq!(id, call_id);
    assert_eq!(req.tools.len(), 1);
}

#[test]
fn errors_name_the_field() {
    for (body, message) in [
        (
            json!({"messages": [{"role": "user", "content": "x"}]}),
            "model: required",
        ),
        (
            json!({"model": "m", "messages": []}),
            "messages: must contain at least one message",
        ),
        (
            json!({"model": "m", "messages": [{"role": "robot", "content": "x"}]}),
            "messages[0].role: unsupported role `robot`",
        ),
        (
            json!({"model": "m", "messages": [{"content": "x"}]}),
            "messages[0].role: required",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": 5}]}),
            "messages[0].content: invalid type: integer `5`, expected a string or an array of content parts",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]}),
            "messages[0].content[0].text: invalid type: integer `1`, expected a string",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "video"}]}]}),
            "messages[0].content[0].type: unsupported content part type `video`",
        ),
        (
            json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]}),
            "messages[0].tool_call_id: required",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}),
            "temperature: invalid type: string \"hot\", expected f64",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function", "function": {"name": 3}}]}),
            "tools[0].function: invalid type: integer `3`, expected a string",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": "sometimes"}),
            "tool_choice: unsupported value `sometimes`",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "reasoning_effort": "extreme"}),
            "reasoning_effort: unsupported value `extreme`",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 2}),
            "n: only one choice (n = 1) is supported",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema"}}),
            "response_format.json_schema: required",
        ),
    ] {
        assert_eq!(decode(body).unwrap_err().to_string(), message);
    }
    assert!(
        decode_openai_chat(b"{not json")
            .unwrap_err()
            .message
            .starts_with("invalid JSON")
    );
    assert_eq!(
        decode_openai_chat(b"[1]").unwrap_err().message,
        "the body must be a JSON object"
    );
}

#[test]
fn reasoning_effort_none_disables_thinking() {
    let req = decode(json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "reasoning_effort": "none"})).unwrap();
    assert_eq!(req.thinking.unwrap().mode, ThinkingMode::Disabled);
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_json(v in arb_json()) {
        let _ = decode(v);
    }

    #[test]
    fn never_panics_on_a_mutated_valid_request(at in any::<prop::sample::Index>(), with in arb_json()) {
        let _ = decode(mutate(&rich_request(), at, with));
    }
}

#[test]
fn media_sources_can_be_resolved_in_place() {
    let mut req = decode(json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}]},
            {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c", "content": [{"type": "image_url", "image_url": {"url": "https://x.test/b.png"}}]}
        ]
    }))
    .unwrap();
    let mut urls = Vec::new();
    for source in req.media_sources_mut() {
        if let MediaSource::Url { url, .. } = source {
            urls.push(url.clone());
            *source = MediaSource::Base64 {
                mime_type: "image/png".into(),
                data: "AA".into(),
            };
        }
    }
    assert_eq!(urls, ["https://x.test/a.png", "https://x.test/b.png"]);
    assert_eq!(
        req.media_sources_mut()
            .filter(|s| matches!(s, MediaSource::Url { .. }))
            .count(),
        0
    );
}
