//! Tests of the Anthropic Messages decoder.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::ir::{
    CacheControl, ContentBlock, MediaSource, ModelFamily, Signature, ToolResultContent,
};
use crate::translate::encode_gemini_request;
use crate::translate::test_support::{arb_json, mutate};

fn decode(v: Value) -> Result<AnthropicDecoded, TranslateError> {
    decode_anthropic(v.to_string().as_bytes())
}

fn ephemeral() -> Option<CacheControl> {
    Some(CacheControl {
        kind: "ephemeral".into(),
        ttl: None,
    })
}

fn rich_request() -> Value {
    json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "system": [{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "look"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
                {"type": "image", "source": {"type": "url", "url": "https://x.test/a.jpg"}},
                {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"}, "title": "a.pdf"},
                {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain"}, "title": "notes"}
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "sig-1"},
                {"type": "redacted_thinking", "data": "enc"},
                {"type": "text", "text": "calling"},
                {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"x": 1}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "is_error": true, "content": [
                    {"type": "text", "text": "boom"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "BBBB"}}
                ], "cache_control": {"type": "ephemeral"}}
            ]},
            {"role": "user", "content": "next"}
        ],
        "tools": [
            {"name": "f", "description": "F", "input_schema": {"type": "object", "properties": {"x": {"type": "integer"}}}, "cache_control": {"type": "ephemeral", "ttl": "1h"}},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
            {"type": "bash_20250124", "name": "bash"},
            {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}
        ],
        "mcp_servers": [{"type": "url", "url": "https://mcp.test", "name": "docs"}],
        "tool_choice": {"type": "tool", "name": "f", "disable_parallel_tool_use": true},
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "stop_sequences": ["END", ""],
        "temperature": 0.5,
        "top_p": 0.9,
        "top_k": 40,
        "stream": true,
        "metadata": {"user_id": "user_abc_account__session_5f1c"}
    })
}

#[test]
fn decodes_every_block_and_setting() {
    let d = decode(rich_request()).unwrap();
    let req = &d.request;
    assert_eq!(req.system.len(), 1);
    assert_eq!(req.system[0].cache_control, ephemeral());
    assert_eq!(req.messages.len(), 3);
    let user = &req.messages[0].content;
    assert_eq!(
        user[1],
        ContentBlock::Image {
            source: MediaSource::Base64 {
                mime_type: "image/png".into(),
                data: "AAAA".into()
            }
        }
    );
    assert_eq!(
        user[2],
        ContentBlock::Image {
            source: MediaSource::Url {
                url: "https://x.test/a.jpg".into(),
                mime_type: Some("image/jpeg".into())
            }
        }
    );
    assert_eq!(
        user[3],
        ContentBlock::File {
            source: MediaSource::Base64 {
                mime_type: "application/pdf".into(),
                data: "JVBE".into()
            },
            name: Some("a.pdf".into())
        }
    );
    assert_eq!(user[4], ContentBlock::text("notes\n\nplain"));
    let assistant = &req.messages[1].content;
    assert_eq!(
        assistant[0],
        ContentBlock::Thinking {
            text: "hmm".into(),
            signature: Some(Signature::new("sig-1", None))
        }
    );
    assert_eq!(
        assistant[1],
        ContentBlock::RedactedThinking { data: "enc".into() }
    );
    assert!(
        matches!(&assistant[3], ContentBlock::ToolCall { id, arguments, .. } if id == "toolu_1" && *arguments == json!({"x": 1}))
    );
    // The tool result and the next user text merged into one user turn.
    let results = &req.messages[2];
    assert_eq!(results.cache_control, ephemeral());
    assert_eq!(
        results.content[0],
        ContentBlock::ToolResult {
            call_id: "toolu_1".into(),
            name: Some("f".into()),
            content: vec![
                ToolResultContent::Text("boom".into()),
                ToolResultContent::Image(MediaSource::Base64 {
                    mime_type: "image/png".into(),
                    data: "BBBB".into()
                })
            ],
            is_error: true,
        }
    );
    assert_eq!(results.content[1], ContentBlock::text("next"));

    assert_eq!(req.tools.len(), 2);
    let Tool::Function(f) = &req.tools[0] else {
        panic!("{:?}", req.tools[0])
    };
    assert_eq!(f.cache_control.as_ref().unwrap().ttl.as_deref(), Some("1h"));
    assert_eq!(req.tools[1], Tool::WebSearch);
    assert_eq!(
        d.dropped_tools,
        ["bash", "str_replace_based_edit_tool", "mcp:docs"]
    );
    assert_eq!(req.tool_choice, ToolChoice::Tool("f".into()));
    assert_eq!(req.parallel_tool_calls, Some(false));
    let t = req.thinking.as_ref().unwrap();
    assert_eq!(
        (t.mode, t.budget_tokens, t.include_thoughts),
        (ThinkingMode::Enabled, Some(2048), true)
    );
    let g = &req.generation;
    assert_eq!(g.stop_sequences, ["END"]);
    assert_eq!(
        (g.max_output_tokens, g.temperature, g.top_p, g.top_k),
        (Some(1024), Some(0.5), Some(0.9), Some(40))
    );
    assert!(req.stream);
    assert_eq!(req.meta.user.as_deref(), Some("user_abc"));
    assert_eq!(req.meta.session_id.as_deref(), Some("5f1c"));
}

#[test]
fn system_messages_inside_messages_are_lifted_in_order() {
    let d = decode(json!({
        "model": "m",
        "system": "top",
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "lifted", "cache_control": {"type": "ephemeral"}}]},
            {"role": "user", "content": "hi"},
            {"role": "system", "content": "later"}
        ]
    }))
    .unwrap();
    let texts: Vec<&str> = d.request.system.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["top", "lifted", "later"]);
    assert_eq!(d.request.system[1].cache_control, ephemeral());
    assert_eq!(d.request.messages.len(), 1);
}

#[test]
fn consecutive_roles_merge_and_the_later_breakpoint_wins() {
    let d = decode(json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "a", "cache_control": {"type": "ephemeral", "ttl": "5m"}}]},
            {"role": "user", "content": [{"type": "text", "text": "b", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]},
            {"role": "user", "content": "c"},
            {"role": "assistant", "content": ""}
        ]
    }))
    .unwrap();
    let m = &d.request.messages;
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].text(), "abc");
    assert_eq!(
        m[0].cache_control.as_ref().unwrap().ttl.as_deref(),
        Some("1h")
    );
}

#[test]
fn server_tool_blocks_in_history_become_readable_text() {
    let d = decode(json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": "search"},
            {"role": "assistant", "content": [
                {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "rust"}},
                {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": [
                    {"type": "web_search_result", "url": "https://rust-lang.org", "title": "Rust", "encrypted_content": "xx", "page_age": "1 day"}
                ]},
                {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_2", "content": {"type": "web_search_tool_result_error", "error_code": "max_uses_exceeded"}},
                {"type": "mcp_tool_use", "id": "mcptoolu_1", "name": "echo", "server_name": "s", "input": {"m": 1}},
                {"type": "mcp_tool_result", "tool_use_id": "mcptoolu_1", "content": [{"type": "text", "text": "echoed"}]},
                {"type": "container_upload", "file_id": "f"}
            ]}
        ]
    }))
    .unwrap();
    let texts: Vec<String> = d.request.messages[1]
        .content
        .iter()
        .map(|b| match b {
            ContentBlock::Text { text } => text.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        texts,
        [
            "[server tool call web_search (srvtoolu_1)] {\"query\":\"rust\"}",
            "[web search results for srvtoolu_1]\n1. Rust — https://rust-lang.org (1 day)",
            "[web search error for srvtoolu_2: max_uses_exceeded]",
            "[server tool call echo (mcptoolu_1)] {\"m\":1}",
            "[mcp_tool_result for mcptoolu_1]\nechoed",
        ]
    );
    assert_eq!(
        d.dropped_blocks,
        ["messages[1].content[5]: container_upload"]
    );
}

#[test]
fn documents_of_every_source_and_search_results() {
    let d = decode(json!({
        "model": "m",
        "messages": [{"role": "user", "content": [
            {"type": "document", "source": {"type": "url", "url": "https://x.test/paper"}},
            {"type": "document", "source": {"type": "file", "file_id": "file_1"}},
            {"type": "document", "source": {"type": "content", "content": [{"type": "text", "text": "inner"}]}, "title": "T", "context": "C"},
            {"type": "search_result", "source": "https://kb.test/1", "title": "KB", "content": [{"type": "text", "text": "fact"}]},
            {"type": "tool_result", "tool_use_id": "t", "content": [
                {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JV"}}
            ]}
        ]}]
    }))
    .unwrap();
    let c = &d.request.messages[0].content;
    assert_eq!(
        c[0],
        ContentBlock::File {
            source: MediaSource::Url {
                url: "https://x.test/paper".into(),
                mime_type: Some("application/pdf".into())
            },
            name: None
        }
    );
    assert_eq!(
        c[1],
        ContentBlock::File {
            source: MediaSource::FileId {
                id: "file_1".into(),
                mime_type: None
            },
            name: None
        }
    );
    assert_eq!(c[2], ContentBlock::text("T\n\nC"));
    assert_eq!(c[3], ContentBlock::text("inner"));
    assert_eq!(
        c[4],
        ContentBlock::text("[search result: KB — https://kb.test/1]\nfact")
    );
    assert!(
        matches!(&c[5], ContentBlock::ToolResult { content, name: None, .. } if content.is_empty())
    );
    assert!(matches!(&c[6], ContentBlock::File { .. }));
}

#[test]
fn thinking_modes_and_effort() {
    let thinking = |extra: Value| {
        let mut body = json!({"model": "m", "messages": [{"role": "user", "content": "x"}]});
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        decode(body).map(|d| d.request.thinking)
    };
    let adaptive = thinking(
        json!({"thinking": {"type": "adaptive", "display": "omitted"}, "output_config": {"effort": "max"}}),
    )
    .unwrap()
    .unwrap();
    assert_eq!(adaptive.mode, ThinkingMode::Adaptive);
    assert_eq!(adaptive.effort, Some(ReasoningEffort::XHigh));
    assert!(!adaptive.include_thoughts);
    let disabled = thinking(json!({"thinking": {"type": "disabled"}}))
        .unwrap()
        .unwrap();
    assert_eq!(disabled.mode, ThinkingMode::Disabled);
    let effort_only = thinking(json!({"output_config": {"effort": "low"}}))
        .unwrap()
        .unwrap();
    assert_eq!(
        (effort_only.mode, effort_only.effort),
        (ThinkingMode::Adaptive, Some(ReasoningEffort::Low))
    );
    assert_eq!(thinking(json!({})).unwrap(), None);
    assert_eq!(
        thinking(json!({"thinking": {"type": "sometimes"}}))
            .unwrap_err()
            .path,
        "thinking.type"
    );
    assert_eq!(
        thinking(json!({"output_config": {"effort": "extreme"}}))
            .unwrap_err()
            .path,
        "output_config.effort"
    );
}

#[test]
fn structured_output_in_both_forms() {
    for key in ["output_config", "output_format"] {
        let format = json!({"type": "json_schema", "schema": {"type": "object"}});
        let wrapped = if key == "output_config" {
            json!({ "format": format })
        } else {
            format
        };
        let d = decode(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], key: wrapped}),
        )
        .unwrap();
        assert!(matches!(
            d.request.response_format,
            ResponseFormat::JsonSchema { .. }
        ));
    }
}

#[test]
fn tool_choices() {
    for (choice, want, parallel) in [
        (json!({"type": "auto"}), ToolChoice::Auto, None),
        (
            json!({"type": "any", "disable_parallel_tool_use": false}),
            ToolChoice::Required,
            Some(true),
        ),
        (json!({"type": "none"}), ToolChoice::None, None),
    ] {
        let d = decode(json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": choice})).unwrap();
        assert_eq!(d.request.tool_choice, want);
        assert_eq!(d.request.parallel_tool_calls, parallel);
    }
}

#[test]
fn user_ids_of_every_claude_code_generation() {
    assert_eq!(
        parse_user_id(
            r#"{"device_id":"dev1","account_uuid":"","session_id":"0b5c6e6e-1111-2222-3333-444455556666"}"#
        ),
        (
            Some("dev1".into()),
            Some("0b5c6e6e-1111-2222-3333-444455556666".into())
        )
    );
    assert_eq!(
        parse_user_id(r#"{"device_id":"dev1","account_uuid":"acc","session_id":"s"}"#),
        (Some("acc".into()), Some("s".into()))
    );
    assert_eq!(
        parse_user_id("user_9f86d08_account_acc-1_session_sess-2"),
        (Some("acc-1".into()), Some("sess-2".into()))
    );
    assert_eq!(
        parse_user_id("user_9f86d08_account__session_sess-2"),
        (Some("user_9f86d08".into()), Some("sess-2".into()))
    );
    assert_eq!(parse_user_id("alice"), (Some("alice".into()), None));
    assert_eq!(parse_user_id("{not json"), (Some("{not json".into()), None));
}

#[test]
fn errors_name_the_field() {
    let err = |v: Value| decode(v).unwrap_err().to_string();
    assert_eq!(err(json!({"messages": []})), "model: required");
    assert_eq!(
        err(json!({"model": "m", "messages": []})),
        "messages: must contain at least one message"
    );
    assert!(
        err(json!({"model": "m", "messages": [{"content": "x"}]})).starts_with("messages[0].role")
    );
    assert_eq!(
        err(json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]})),
        "messages[0].role: unsupported role `tool`"
    );
    assert!(
        err(json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]}))
            .starts_with("messages[0].content[0].text")
    );
    assert_eq!(
        err(json!({"model": "m", "messages": [{"role": "user", "content": [{"text": "x"}]}]})),
        "messages[0].content[0].type: required"
    );
    assert_eq!(
        err(
            json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "base64", "data": "AA"}}]}]})
        ),
        "messages[0].content[0].source.media_type: required"
    );
    assert_eq!(
        err(
            json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "tool_result", "content": "x"}]}]})
        ),
        "messages[0].content[0].tool_use_id: required"
    );
    assert!(
        err(json!({"model": "m", "messages": [{"role": "user", "content": 5}]}))
            .starts_with("messages[0].content")
    );
    assert!(
        err(json!({"model": "m", "messages": [], "max_tokens": "x"})).starts_with("max_tokens")
    );
    assert!(
        err(json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{"name": 5}]}))
            .starts_with("tools[0].name")
    );
    assert_eq!(
        err(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{"input_schema": {}}]})
        ),
        "tools[0].name: required"
    );
    assert_eq!(
        err(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": {"type": "tool"}})
        ),
        "tool_choice.name: required"
    );
    assert!(
        err(json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "ok"},
            {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "image", "source": 7}]}
        ]}]}))
        .starts_with("messages[0].content[1].content[0].source")
    );
    assert!(
        err(json!({"model": "m", "system": [{"type": "text", "text": ["x"]}], "messages": [{"role": "user", "content": "x"}]}))
            .starts_with("system[0].text")
    );
    assert_eq!(
        err(json!({"model": "m", "messages": [{"role": "user", "content": [{"type": 5}]}]})),
        "messages[0].content[0].type: expected a string"
    );
    assert!(
        decode_anthropic(b"{oops")
            .unwrap_err()
            .message
            .starts_with("invalid JSON")
    );
    let not_utf8 = decode_anthropic(
        b"{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"a\xffb\"}]}",
    )
    .unwrap_err()
    .message;
    assert!(
        not_utf8.starts_with("invalid JSON") && not_utf8.contains("column"),
        "{not_utf8}"
    );
}

#[test]
fn count_tokens_bodies_never_stream() {
    let body =
        json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": true});
    let d = decode_anthropic_count_tokens(body.to_string().as_bytes()).unwrap();
    assert!(!d.request.stream);
}

#[test]
fn the_billing_header_is_recognised_and_kept() {
    let d = decode(json!({
        "model": "m",
        "system": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.80.abc; cc_entrypoint=cli; cch=00000;"}],
        "messages": [{"role": "user", "content": "x"}]
    }))
    .unwrap();
    assert!(is_billing_header(&d.request.system[0].text));
    assert!(!is_billing_header("You are Claude Code"));
}

#[test]
fn every_decoded_rich_request_encodes_for_gemini_and_claude() {
    let mut d = decode(rich_request()).unwrap();
    for model in [
        "gemini-3-pro-high",
        "claude-sonnet-4-5-thinking",
        "gemini-2.5-flash",
    ] {
        encode_gemini_request(&d.request, model).unwrap();
    }
    // Unattributed signatures are never replayed.
    let up = encode_gemini_request(&d.request, "claude-sonnet-4-5-thinking").unwrap();
    assert!(!serde_json::to_string(&up).unwrap().contains("sig-1"));
    if let ContentBlock::Thinking {
        signature: Some(s), ..
    } = &mut d.request.messages[1].content[0]
    {
        s.family = Some(ModelFamily::Claude);
    }
    let up = encode_gemini_request(&d.request, "claude-sonnet-4-5-thinking").unwrap();
    assert!(serde_json::to_string(&up).unwrap().contains("sig-1"));
}

/// Keys and values of the Anthropic wire, so that random bodies reach deep paths.
const KEYS: &[&str] = &[
    "model",
    "messages",
    "role",
    "content",
    "type",
    "text",
    "system",
    "source",
    "media_type",
    "data",
    "url",
    "file_id",
    "id",
    "name",
    "input",
    "tool_use_id",
    "is_error",
    "thinking",
    "signature",
    "cache_control",
    "ttl",
    "tools",
    "input_schema",
    "tool_choice",
    "disable_parallel_tool_use",
    "budget_tokens",
    "display",
    "output_config",
    "effort",
    "format",
    "schema",
    "metadata",
    "user_id",
    "stop_sequences",
    "max_tokens",
    "title",
    "context",
    "mcp_servers",
    "defer_loading",
];
const VALUES: &[&str] = &[
    "user",
    "assistant",
    "system",
    "text",
    "image",
    "document",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
    "server_tool_use",
    "web_search_tool_result",
    "search_result",
    "mcp_tool_use",
    "code_execution_tool_result",
    "base64",
    "url",
    "file",
    "content",
    "enabled",
    "adaptive",
    "disabled",
    "auto",
    "any",
    "tool",
    "none",
    "ephemeral",
    "json_schema",
    "high",
    "max",
    "web_search_20250305",
    "bash_20250124",
    "https://x.test/a.pdf",
    "data:image/png;base64,AAAA",
    "user_x_account__session_y",
    "{\"session_id\":\"s\"}",
];

fn arb_anthropic_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (0u64..100_000).prop_map(Value::from),
        proptest::sample::select(VALUES).prop_map(Value::from),
        "[a-z_ ]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 128, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map(
                proptest::sample::select(KEYS).prop_map(str::to_owned),
                inner,
                0..7
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_json(v in arb_json()) {
        let _ = decode(v);
    }

    #[test]
    fn never_panics_on_anthropic_shaped_json(v in arb_anthropic_json()) {
        if let Ok(d) = decode(v) {
            let _ = encode_gemini_request(&d.request, "claude-sonnet-4-5-thinking");
        }
    }

    #[test]
    fn never_panics_on_a_mutated_valid_request(at in any::<prop::sample::Index>(), with in arb_json()) {
        if let Ok(d) = decode(mutate(&rich_request(), at, with)) {
            let _ = encode_gemini_request(&d.request, "gemini-3-pro-high");
        }
    }
}
