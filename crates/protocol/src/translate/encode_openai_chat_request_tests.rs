//! Tests of the IR → Chat Completions request encoder.

use serde_json::json;

use super::*;
use crate::ir::{
    FunctionTool, GenerationParams, Message, RequestMeta, Signature, SystemPart, ThinkingConfig,
};

fn encode(req: &Request, model: &str) -> Value {
    serde_json::to_value(encode_openai_chat_request(req, model).unwrap()).unwrap()
}

fn call(id: &str) -> ContentBlock {
    ContentBlock::ToolCall {
        id: id.into(),
        name: "f".into(),
        arguments: json!({"a": 1}),
        signature: None,
    }
}

fn result(id: &str, text: &str) -> ContentBlock {
    ContentBlock::ToolResult {
        call_id: id.into(),
        name: None,
        content: vec![ToolResultContent::Text(text.into())],
        is_error: false,
    }
}

fn function(name: &str) -> Tool {
    Tool::Function(FunctionTool {
        name: name.into(),
        description: Some("d".into()),
        parameters: json!({"type": "object", "properties": {}}).into(),
        strict: Some(true),
        cache_control: None,
    })
}

#[test]
fn a_conversation_with_parallel_tool_calls() {
    let req = Request {
        system: vec![SystemPart::new("one"), SystemPart::new("two")],
        messages: vec![
            Message::new(
                Role::User,
                vec![ContentBlock::text("a"), ContentBlock::text("b")],
            ),
            Message::new(
                Role::Assistant,
                vec![
                    ContentBlock::Thinking {
                        text: "hmm".into(),
                        signature: Some(Signature::new("s", Some(ModelFamily::Claude))),
                    },
                    ContentBlock::text("calling"),
                    call("c1"),
                    call("c2"),
                ],
            ),
            Message::new(
                Role::User,
                vec![
                    result("c2", "two"),
                    result("c1", "one"),
                    ContentBlock::text("next"),
                ],
            ),
        ],
        tools: vec![function("f"), Tool::WebSearch],
        parallel_tool_calls: Some(true),
        meta: RequestMeta {
            user: Some("u".into()),
            ..RequestMeta::default()
        },
        ..Request::default()
    };
    assert_eq!(
        encode(&req, "qwen3-32b"),
        json!({
            "model": "qwen3-32b",
            "messages": [
                {"role": "system", "content": "one\n\ntwo"},
                {"role": "user", "content": "a\n\nb"},
                {"role": "assistant", "content": "calling", "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}},
                    {"id": "c2", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}
                ]},
                {"role": "tool", "tool_call_id": "c1", "content": "one"},
                {"role": "tool", "tool_call_id": "c2", "content": "two"},
                {"role": "user", "content": "next"}
            ],
            "tools": [{"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object", "properties": {}}, "strict": true}}],
            "parallel_tool_calls": true,
            "user": "u"
        })
    );
}

#[test]
fn media_becomes_content_parts() {
    let req = Request {
        messages: vec![Message::new(
            Role::User,
            vec![
                ContentBlock::text("look"),
                ContentBlock::Image {
                    source: MediaSource::Base64 {
                        mime_type: "image/png".into(),
                        data: "AA==".into(),
                    },
                },
                ContentBlock::File {
                    source: MediaSource::Base64 {
                        mime_type: "application/pdf".into(),
                        data: "JVBE".into(),
                    },
                    name: None,
                },
                ContentBlock::File {
                    source: MediaSource::Base64 {
                        mime_type: "audio/wav".into(),
                        data: "UklG".into(),
                    },
                    name: None,
                },
                ContentBlock::File {
                    source: MediaSource::Base64 {
                        mime_type: "text/plain".into(),
                        data: "aGVsbG8=".into(),
                    },
                    name: None,
                },
            ],
        )],
        ..Request::default()
    };
    assert_eq!(
        encode(&req, "gpt-4o")["messages"][0]["content"],
        json!([
            {"type": "text", "text": "look"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
            {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBE", "filename": "document.pdf"}},
            {"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}},
            {"type": "text", "text": "hello"}
        ])
    );
    let bad = Request {
        messages: vec![Message::new(
            Role::User,
            vec![ContentBlock::File {
                source: MediaSource::Url {
                    url: "https://x.test/a.pdf".into(),
                    mime_type: Some("application/pdf".into()),
                },
                name: None,
            }],
        )],
        ..Request::default()
    };
    assert!(encode_openai_chat_request(&bad, "gpt-4o").is_err());
}

#[test]
fn result_images_follow_the_tool_messages_and_errors_are_marked() {
    let req = Request {
        messages: vec![
            Message::new(Role::Assistant, vec![call("c1"), call("c2")]),
            Message::new(
                Role::User,
                vec![ContentBlock::ToolResult {
                    call_id: "c1".into(),
                    name: None,
                    content: vec![
                        ToolResultContent::Text("shot".into()),
                        ToolResultContent::Image(MediaSource::Url {
                            url: "https://x.test/s.png".into(),
                            mime_type: None,
                        }),
                    ],
                    is_error: true,
                }],
            ),
        ],
        ..Request::default()
    };
    let v = encode(&req, "llama3");
    assert_eq!(
        v["messages"],
        json!([
            {"role": "assistant", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}},
                {"id": "c2", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}
            ]},
            {"role": "tool", "tool_call_id": "c1", "content": "[tool error] shot"},
            {"role": "tool", "tool_call_id": "c2", "content": format!("[tool error] {MISSING_RESULT}")},
            {"role": "user", "content": [
                {"type": "text", "text": "[Images returned by tool call c1]"},
                {"type": "image_url", "image_url": {"url": "https://x.test/s.png"}}
            ]}
        ])
    );
}

#[test]
fn long_call_ids_are_hashed_the_same_on_both_sides() {
    let long = "call_".to_owned() + &"x".repeat(60);
    let req = Request {
        messages: vec![
            Message::new(Role::Assistant, vec![call(&long)]),
            Message::new(Role::User, vec![result(&long, "r")]),
        ],
        ..Request::default()
    };
    let v = encode(&req, "gpt-4o");
    let id = v["messages"][0]["tool_calls"][0]["id"].as_str().unwrap();
    assert_eq!(id.len(), 21);
    assert_eq!(v["messages"][1]["tool_call_id"], id);
}

#[test]
fn reasoning_is_replayed_only_where_the_server_needs_it() {
    let req = Request {
        messages: vec![
            Message::user_text("q"),
            Message::new(
                Role::Assistant,
                vec![
                    ContentBlock::Thinking {
                        text: "first".into(),
                        signature: None,
                    },
                    call("c"),
                ],
            ),
            Message::new(Role::User, vec![result("c", "r")]),
            Message::new(
                Role::Assistant,
                vec![
                    ContentBlock::Thinking {
                        text: "second".into(),
                        signature: None,
                    },
                    ContentBlock::text("done"),
                ],
            ),
            Message::user_text("again"),
        ],
        ..Request::default()
    };
    let v = encode(&req, "deepseek-v4-pro");
    assert_eq!(v["messages"][1]["reasoning_content"], "first");
    assert!(v["messages"][3].get("reasoning_content").is_none());
    let v = encode(&req, "gpt-4o");
    assert!(v["messages"][1].get("reasoning_content").is_none());
    let opts = OpenAiChatOptions {
        reasoning_replay: ReasoningReplay::All,
        ..OpenAiChatOptions::for_model("x")
    };
    let v =
        serde_json::to_value(encode_openai_chat_request_with(&req, "x", &opts).unwrap()).unwrap();
    assert_eq!(v["messages"][3]["reasoning_content"], "second");
}

#[test]
fn parameters_follow_the_model() {
    let req = Request {
        messages: vec![Message::user_text("q")],
        generation: GenerationParams {
            max_output_tokens: Some(100),
            temperature: Some(0.5),
            top_p: Some(0.9),
            top_k: Some(40),
            stop_sequences: (0..6).map(|i| format!("s{i}")).collect(),
            seed: Some(7),
            presence_penalty: Some(0.1),
            frequency_penalty: Some(0.2),
            candidate_count: Some(2),
        },
        thinking: Some(ThinkingConfig {
            mode: ThinkingMode::Enabled,
            budget_tokens: Some(8_000),
            effort: None,
            include_thoughts: true,
        }),
        response_format: ResponseFormat::JsonSchema {
            name: None,
            schema: json!({"type": "object"}),
            strict: Some(true),
        },
        stream: true,
        ..Request::default()
    };
    let o3 = encode(&req, "o3-mini");
    assert_eq!(o3["max_completion_tokens"], 100);
    assert_eq!(o3["reasoning_effort"], "medium");
    for absent in [
        "max_tokens",
        "temperature",
        "top_p",
        "top_k",
        "presence_penalty",
        "thinking",
    ] {
        assert!(o3.get(absent).is_none(), "{absent}");
    }
    assert_eq!(o3["stop"].as_array().unwrap().len(), 4);
    assert_eq!(o3["stream_options"], json!({"include_usage": true}));
    assert_eq!(
        o3["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "response", "schema": {"type": "object"}, "strict": true}})
    );

    let gpt4 = encode(&req, "gpt-4o");
    assert_eq!(gpt4["max_tokens"], 100);
    assert!(gpt4.get("reasoning_effort").is_none() && gpt4.get("top_k").is_none());

    let ds = encode(&req, "deepseek-chat");
    assert_eq!(ds["thinking"], json!({"type": "enabled"}));
    assert_eq!(
        (ds["top_k"].clone(), ds["n"].clone(), ds["seed"].clone()),
        (json!(40), json!(2), json!(7))
    );
    assert_eq!(ds["stop"].as_array().unwrap().len(), 6);
    assert_eq!(ds["reasoning_effort"], "medium");
}

#[test]
fn tool_choice_only_with_tools() {
    let mut req = Request {
        messages: vec![Message::user_text("q")],
        tool_choice: ToolChoice::Tool("f".into()),
        parallel_tool_calls: Some(false),
        ..Request::default()
    };
    let v = encode(&req, "m");
    assert!(v.get("tool_choice").is_none() && v.get("parallel_tool_calls").is_none());
    req.tools = vec![function("f")];
    let v = encode(&req, "m");
    assert_eq!(
        v["tool_choice"],
        json!({"type": "function", "function": {"name": "f"}})
    );
    assert_eq!(v["parallel_tool_calls"], false);
    req.tool_choice = ToolChoice::Required;
    assert_eq!(encode(&req, "m")["tool_choice"], "required");
    req.tool_choice = ToolChoice::None;
    assert_eq!(encode(&req, "m")["tool_choice"], "none");
}

#[test]
fn efforts_beyond_low_to_high_only_for_gpt_5() {
    let with = |effort| Request {
        messages: vec![Message::user_text("q")],
        thinking: Some(ThinkingConfig {
            mode: ThinkingMode::Adaptive,
            budget_tokens: None,
            effort: Some(effort),
            include_thoughts: true,
        }),
        ..Request::default()
    };
    let effort = |e, model| encode(&with(e), model).get("reasoning_effort").cloned();
    assert_eq!(
        effort(ReasoningEffort::XHigh, "gpt-5.2"),
        Some(json!("xhigh"))
    );
    assert_eq!(
        effort(ReasoningEffort::None, "gpt-5.1"),
        Some(json!("none"))
    );
    assert_eq!(
        effort(ReasoningEffort::Minimal, "gpt-5"),
        Some(json!("minimal"))
    );
    assert_eq!(effort(ReasoningEffort::XHigh, "o3"), Some(json!("high")));
    assert_eq!(
        effort(ReasoningEffort::Minimal, "qwen3-32b"),
        Some(json!("low"))
    );
    assert_eq!(effort(ReasoningEffort::None, "qwen3-32b"), None);
    // DeepSeek turns thinking off with its own toggle instead.
    let v = encode(&with(ReasoningEffort::None), "deepseek-chat");
    assert_eq!(v["thinking"], json!({"type": "disabled"}));
    assert!(v.get("reasoning_effort").is_none());
}
