//! Tests of the IR → Anthropic Messages request encoder.

use serde_json::json;

use super::*;
use crate::ir::{
    FunctionTool, GenerationParams, Message, RequestMeta, Signature, SystemPart, ThinkingConfig,
};

fn encode(req: &Request, model: &str) -> Value {
    serde_json::to_value(encode_anthropic_request(req, model).unwrap()).unwrap()
}

fn thinking(
    mode: ThinkingMode,
    budget: Option<u32>,
    effort: Option<ReasoningEffort>,
) -> ThinkingConfig {
    ThinkingConfig {
        mode,
        budget_tokens: budget,
        effort,
        include_thoughts: true,
    }
}

fn call(id: &str) -> ContentBlock {
    ContentBlock::ToolCall {
        id: id.into(),
        name: "f".into(),
        arguments: json!({"a": 1}),
        signature: None,
    }
}

fn result(id: &str) -> ContentBlock {
    ContentBlock::ToolResult {
        call_id: id.into(),
        name: None,
        content: vec![ToolResultContent::Text("ok".into())],
        is_error: false,
    }
}

fn signed(text: &str, family: ModelFamily) -> ContentBlock {
    ContentBlock::Thinking {
        text: text.into(),
        signature: Some(Signature::new(format!("sig-{text}"), Some(family))),
    }
}

#[test]
fn a_minimal_request_gets_the_default_max_tokens() {
    let req = Request {
        messages: vec![Message::user_text("hi")],
        ..Request::default()
    };
    assert_eq!(
        encode(&req, "claude-sonnet-4-5"),
        json!({
            "model": "claude-sonnet-4-5",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
            "max_tokens": 8192
        })
    );
}

#[test]
fn system_cache_control_tools_and_choice_are_kept() {
    let cc = CacheControl {
        kind: "ephemeral".into(),
        ttl: Some("1h".into()),
    };
    let mut first = Message::user_text("a");
    first.cache_control = Some(cc.clone());
    let req = Request {
        system: vec![
            SystemPart {
                text: "sys".into(),
                cache_control: Some(cc.clone()),
            },
            SystemPart::new(""),
        ],
        messages: vec![first, Message::assistant_text("b  \n")],
        tools: vec![
            Tool::Function(FunctionTool {
                name: "f".into(),
                description: Some("d".into()),
                parameters: json!({"properties": {"x": {"type": "string"}}}).into(),
                strict: Some(true),
                cache_control: Some(cc),
            }),
            Tool::WebSearch,
            Tool::CodeExecution,
        ],
        tool_choice: ToolChoice::Tool("f".into()),
        parallel_tool_calls: Some(false),
        meta: RequestMeta {
            user: Some("u1".into()),
            ..RequestMeta::default()
        },
        stream: true,
        ..Request::default()
    };
    let v = encode(&req, "claude-opus-4-6");
    assert_eq!(
        v["system"],
        json!([{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral", "ttl": "1h"}}])
    );
    assert_eq!(
        v["messages"][0]["content"][0]["cache_control"],
        json!({"type": "ephemeral", "ttl": "1h"})
    );
    // Trailing whitespace of the final assistant turn is refused by the API.
    assert_eq!(v["messages"][1]["content"][0]["text"], "b");
    assert_eq!(
        v["tools"],
        json!([
            {"name": "f", "description": "d", "input_schema": {"type": "object", "properties": {"x": {"type": "string"}}},
             "cache_control": {"type": "ephemeral", "ttl": "1h"}},
            {"type": "web_search_20250305", "name": "web_search"}
        ])
    );
    assert_eq!(
        v["tool_choice"],
        json!({"type": "tool", "name": "f", "disable_parallel_tool_use": true})
    );
    assert_eq!(v["metadata"], json!({"user_id": "u1"}));
    assert_eq!(v["stream"], true);
}

#[test]
fn tool_results_come_first_and_missing_ones_are_errors() {
    let req = Request {
        messages: vec![
            Message::user_text("go"),
            Message::new(Role::Assistant, vec![call("a:1"), call("b")]),
            Message::new(
                Role::User,
                vec![
                    ContentBlock::text("and"),
                    ContentBlock::ToolResult {
                        call_id: "a:1".into(),
                        name: None,
                        content: vec![
                            ToolResultContent::Text("t".into()),
                            ToolResultContent::Image(MediaSource::Base64 {
                                mime_type: "image/png".into(),
                                data: "AA==".into(),
                            }),
                        ],
                        is_error: true,
                    },
                ],
            ),
        ],
        ..Request::default()
    };
    let v = encode(&req, "glm-4.6");
    assert_eq!(v["messages"][1]["content"][0]["id"], "a_1");
    assert_eq!(
        v["messages"][2]["content"],
        json!([
            {"type": "tool_result", "tool_use_id": "a_1", "is_error": true, "content": [
                {"type": "text", "text": "t"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}}
            ]},
            {"type": "tool_result", "tool_use_id": "b", "is_error": true, "content": MISSING_RESULT},
            {"type": "text", "text": "and"}
        ])
    );
}

#[test]
fn only_signatures_of_the_upstream_family_are_replayed() {
    let req = Request {
        messages: vec![
            Message::user_text("q"),
            Message::new(
                Role::Assistant,
                vec![
                    signed("c", ModelFamily::Claude),
                    signed("g", ModelFamily::Gemini),
                    ContentBlock::Thinking {
                        text: "unsigned".into(),
                        signature: None,
                    },
                    ContentBlock::RedactedThinking { data: "r".into() },
                    ContentBlock::text("answer"),
                ],
            ),
            Message::user_text("more"),
        ],
        ..Request::default()
    };
    let v = encode(&req, "claude-sonnet-4-5");
    assert_eq!(
        v["messages"][1]["content"],
        json!([
            {"type": "thinking", "thinking": "c", "signature": "sig-c"},
            {"type": "redacted_thinking", "data": "r"},
            {"type": "text", "text": "answer"}
        ])
    );
    let other = encode(&req, "glm-4.6");
    assert_eq!(
        other["messages"][1]["content"],
        json!([{"type": "text", "text": "answer"}])
    );
}

#[test]
fn budgets_stay_below_max_tokens_and_sampling_follows_the_thinking_rules() {
    let req = Request {
        messages: vec![Message::user_text("q")],
        thinking: Some(thinking(ThinkingMode::Enabled, Some(10_000), None)),
        generation: GenerationParams {
            max_output_tokens: Some(4_096),
            temperature: Some(0.2),
            top_p: Some(0.97),
            top_k: Some(5),
            ..GenerationParams::default()
        },
        ..Request::default()
    };
    let v = encode(&req, "claude-sonnet-4-5");
    assert_eq!(
        v["thinking"],
        json!({"type": "enabled", "budget_tokens": 10000})
    );
    assert_eq!(v["max_tokens"], 18_192);
    assert_eq!(v["top_p"], 0.97);
    assert!(v.get("temperature").is_none() && v.get("top_k").is_none());

    // Without thinking Claude keeps the temperature and loses top_p.
    let mut plain = req.clone();
    plain.thinking = None;
    let v = encode(&plain, "claude-sonnet-4-5");
    assert_eq!(v["temperature"], 0.2);
    assert!(v.get("top_p").is_none());
    assert_eq!(v["top_k"], 5);
    // Other upstreams get all three.
    let v = encode(&plain, "glm-4.6");
    assert_eq!(
        (v["temperature"].clone(), v["top_p"].clone()),
        (json!(0.2), json!(0.97))
    );
}

#[test]
fn adaptive_and_manual_thinking_follow_the_model_generation() {
    let adaptive = Request {
        messages: vec![Message::user_text("q")],
        thinking: Some(thinking(
            ThinkingMode::Adaptive,
            None,
            Some(ReasoningEffort::XHigh),
        )),
        ..Request::default()
    };
    let v = encode(&adaptive, "claude-opus-4-6");
    assert_eq!(v["thinking"], json!({"type": "adaptive"}));
    assert_eq!(v["output_config"], json!({"effort": "max"}));
    assert_eq!(v["max_tokens"], 16_384);
    // Older models take a budget instead.
    let v = encode(&adaptive, "claude-sonnet-4-5");
    assert_eq!(
        v["thinking"],
        json!({"type": "enabled", "budget_tokens": 32768})
    );
    assert!(v.get("output_config").is_none());
    // Manual thinking becomes adaptive where only adaptive exists.
    let manual = Request {
        thinking: Some(thinking(ThinkingMode::Enabled, Some(2_000), None)),
        ..adaptive.clone()
    };
    let v = encode(&manual, "claude-opus-4-7");
    assert_eq!(v["thinking"], json!({"type": "adaptive"}));
    assert_eq!(v["output_config"], json!({"effort": "low"}));
    // Disabled, and effort none, say so.
    let off = Request {
        thinking: Some(thinking(
            ThinkingMode::Adaptive,
            None,
            Some(ReasoningEffort::None),
        )),
        ..adaptive
    };
    assert_eq!(
        encode(&off, "claude-opus-4-6")["thinking"],
        json!({"type": "disabled"})
    );
}

#[test]
fn thinking_is_off_for_forced_tools_and_for_tool_turns_without_thinking() {
    let tool = Tool::Function(FunctionTool {
        name: "f".into(),
        description: None,
        parameters: json!({"type": "object"}).into(),
        strict: None,
        cache_control: None,
    });
    let base = Request {
        messages: vec![Message::user_text("q")],
        tools: vec![tool],
        thinking: Some(thinking(ThinkingMode::Enabled, Some(2_048), None)),
        ..Request::default()
    };
    let forced = Request {
        tool_choice: ToolChoice::Required,
        ..base.clone()
    };
    let v = encode(&forced, "claude-sonnet-4-5");
    assert!(v.get("thinking").is_none());
    assert_eq!(v["tool_choice"], json!({"type": "any"}));

    let mut looping = base.clone();
    looping
        .messages
        .push(Message::new(Role::Assistant, vec![call("c")]));
    looping
        .messages
        .push(Message::new(Role::User, vec![result("c")]));
    assert!(
        encode(&looping, "claude-sonnet-4-5")
            .get("thinking")
            .is_none()
    );
    // With the signed thinking first, thinking stays on.
    looping.messages[1]
        .content
        .insert(0, signed("t", ModelFamily::Claude));
    let v = encode(&looping, "claude-sonnet-4-5");
    assert_eq!(v["thinking"]["type"], "enabled");
    assert_eq!(v["messages"][1]["content"][0]["type"], "thinking");
}

#[test]
fn a_prefill_loses_its_thinking_when_thinking_is_off() {
    let req = Request {
        messages: vec![
            Message::user_text("q"),
            Message::new(
                Role::Assistant,
                vec![
                    signed("t", ModelFamily::Claude),
                    ContentBlock::text("Sure "),
                ],
            ),
        ],
        ..Request::default()
    };
    let v = encode(&req, "claude-sonnet-4-5");
    assert_eq!(
        v["messages"][1]["content"],
        json!([{"type": "text", "text": "Sure"}])
    );
}

#[test]
fn documents_images_and_refused_media() {
    let file = |mime: &str, data: &str| ContentBlock::File {
        source: MediaSource::Base64 {
            mime_type: mime.into(),
            data: data.into(),
        },
        name: Some("n".into()),
    };
    let req = Request {
        messages: vec![Message::new(
            Role::User,
            vec![
                file("application/pdf", "JVBE"),
                file("text/plain", "aGVsbG8="),
                ContentBlock::Image {
                    source: MediaSource::Url {
                        url: "https://x.test/a.png".into(),
                        mime_type: None,
                    },
                },
                ContentBlock::Image {
                    source: MediaSource::FileId {
                        id: "file_011".into(),
                        mime_type: None,
                    },
                },
            ],
        )],
        ..Request::default()
    };
    assert_eq!(
        encode(&req, "claude-sonnet-4-5")["messages"][0]["content"],
        json!([
            {"type": "document", "title": "n", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"}},
            {"type": "document", "title": "n", "source": {"type": "text", "media_type": "text/plain", "data": "hello"}},
            {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}},
            {"type": "image", "source": {"type": "file", "file_id": "file_011"}}
        ])
    );
    for bad in [
        file("audio/wav", "AA=="),
        ContentBlock::Image {
            source: MediaSource::FileId {
                id: "gs://b/x.png".into(),
                mime_type: None,
            },
        },
    ] {
        let req = Request {
            messages: vec![Message::new(Role::User, vec![bad])],
            ..Request::default()
        };
        let err = encode_anthropic_request(&req, "claude-sonnet-4-5").unwrap_err();
        assert_eq!(err.path, "messages[0].content");
    }
}

#[test]
fn at_most_four_breakpoints_the_earliest_message_ones_give_way() {
    let cc = CacheControl {
        kind: "ephemeral".into(),
        ttl: None,
    };
    let mut messages = Vec::new();
    for i in 0..6 {
        let mut m = if i % 2 == 0 {
            Message::user_text(format!("u{i}"))
        } else {
            Message::assistant_text(format!("a{i}"))
        };
        m.cache_control = Some(cc.clone());
        messages.push(m);
    }
    let req = Request {
        system: vec![SystemPart {
            text: "s".into(),
            cache_control: Some(cc),
        }],
        messages,
        ..Request::default()
    };
    let v = encode(&req, "claude-sonnet-4-5");
    let marked: Vec<bool> = v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"][0].get("cache_control").is_some())
        .collect();
    assert_eq!(marked, [false, false, false, true, true, true]);
    assert!(v["system"][0].get("cache_control").is_some());
}

#[test]
fn structured_output_goes_to_output_config_for_claude() {
    let req = Request {
        messages: vec![Message::user_text("q")],
        response_format: ResponseFormat::JsonSchema {
            name: None,
            schema: json!({"type": "object"}),
            strict: Some(true),
        },
        ..Request::default()
    };
    assert_eq!(
        encode(&req, "claude-sonnet-4-5")["output_config"],
        json!({"format": {"type": "json_schema", "schema": {"type": "object"}}})
    );
    assert!(encode(&req, "glm-4.6").get("output_config").is_none());
}
