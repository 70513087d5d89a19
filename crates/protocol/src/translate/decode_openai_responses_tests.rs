//! Tests of the Responses decoder.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::ir::{
    ModelFamily, ReasoningEffort, ResponseFormat, ThinkingConfig, ThinkingMode, Tool, ToolChoice,
    ToolResultContent,
};
use crate::translate::responses_context::ResponsesToolKind;
use crate::translate::responses_reasoning::encode_reasoning_state;
use crate::translate::test_support::{arb_json, mutate};

fn decode(v: Value) -> Result<(Request, ResponsesContext), TranslateError> {
    decode_openai_responses(v.to_string().as_bytes())
}

fn state(s: ReasoningState) -> String {
    encode_reasoning_state(&s)
}

fn rich_request() -> Value {
    json!({
        "model": "m",
        "instructions": "be good",
        "input": [
            {"role": "developer", "content": [{"type": "input_text", "text": "dev"}]},
            {"role": "user", "content": [
                {"type": "input_text", "text": "look"},
                {"type": "input_image", "image_url": "data:image/png;base64,AAAA"},
                {"type": "input_file", "file_id": "file-1", "filename": "a.pdf"}
            ]},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "think"}],
             "encrypted_content": state(ReasoningState::Signature(Signature::new("s1", Some(ModelFamily::Claude))))},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]},
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{\"x\":1}"},
            {"type": "reasoning", "summary": [],
             "encrypted_content": state(ReasoningState::CallSignature {
                 call_id: "c1".into(),
                 signature: Signature::new("s2", Some(ModelFamily::Gemini)),
             })},
            {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": "*** Begin Patch"},
            {"type": "local_shell_call", "call_id": "c3", "status": "completed",
             "action": {"type": "exec", "command": ["ls"], "working_directory": "/r", "timeout_ms": 5, "env": {}}},
            {"type": "function_call_output", "call_id": "c1", "output": "one"},
            {"type": "custom_tool_call_output", "call_id": "c2", "output": "two"},
            {"type": "function_call_output", "call_id": "c3", "output": [
                {"type": "input_text", "text": "three"},
                {"type": "input_image", "image_url": "https://x.test/a.png"},
                {"type": "input_file", "file_id": "file-2"}
            ]},
            {"role": "user", "content": "next"}
        ],
        "tools": [
            {"type": "function", "name": "f", "parameters": {"type": "object"}},
            {"type": "custom", "name": "apply_patch", "description": "patch",
             "format": {"type": "grammar", "syntax": "lark", "definition": "start: x"}},
            {"type": "local_shell"},
            {"type": "web_search_preview"},
            {"type": "web_search"},
            {"type": "namespace", "name": "mcp__gh", "description": "d", "tools": []},
            {"type": "file_search", "vector_store_ids": ["vs"]}
        ],
        "tool_choice": {"type": "function", "name": "f"},
        "text": {"format": {"type": "json_object"}, "verbosity": "low"},
        "reasoning": {"effort": "high", "summary": "auto"},
        "max_output_tokens": 20,
        "temperature": 0.5,
        "top_p": 0.8,
        "stream": true,
        "store": false,
        "prompt_cache_key": "conv-1",
        "safety_identifier": "u",
        "metadata": {"k": "v"}
    })
}

#[test]
fn decodes_every_item_kind_into_alternating_turns() {
    let (req, ctx) = decode(rich_request()).unwrap();
    assert_eq!(req.system_text().as_deref(), Some("be good\n\ndev"));
    assert_eq!(req.messages.len(), 3);
    let user = &req.messages[0].content;
    assert_eq!(user[0], ContentBlock::text("look"));
    assert!(
        matches!(&user[1], ContentBlock::Image { source: MediaSource::Base64 { mime_type, .. } } if mime_type == "image/png")
    );
    assert!(matches!(
        &user[2],
        ContentBlock::File { source: MediaSource::FileId { id, mime_type: Some(m) }, name: Some(n) }
            if id == "file-1" && m == "application/pdf" && n == "a.pdf"
    ));

    let assistant = &req.messages[1].content;
    assert_eq!(
        assistant[0],
        ContentBlock::Thinking {
            text: "think".into(),
            signature: Some(Signature::new("s1", Some(ModelFamily::Claude)))
        }
    );
    assert_eq!(assistant[1], ContentBlock::text("ok"));
    assert_eq!(
        assistant[2],
        ContentBlock::ToolCall {
            id: "c1".into(),
            name: "f".into(),
            arguments: json!({"x": 1}),
            signature: Some(Signature::new("s2", Some(ModelFamily::Gemini))),
        }
    );
    assert!(
        matches!(&assistant[3], ContentBlock::ToolCall { id, name, arguments, .. }
        if id == "c2" && name == "apply_patch" && *arguments == json!({"input": "*** Begin Patch"}))
    );
    assert!(
        matches!(&assistant[4], ContentBlock::ToolCall { id, name, arguments, .. }
        if id == "c3" && name == "local_shell"
            && *arguments == json!({"command": ["ls"], "workdir": "/r", "timeout_ms": 5}))
    );
    assert_eq!(assistant.len(), 5);

    let results = &req.messages[2].content;
    assert_eq!(
        results[0],
        ContentBlock::ToolResult {
            call_id: "c1".into(),
            name: Some("f".into()),
            content: vec![ToolResultContent::Text("one".into())],
            is_error: false,
        }
    );
    assert!(
        matches!(&results[1], ContentBlock::ToolResult { name: Some(n), .. } if n == "apply_patch")
    );
    let ContentBlock::ToolResult { name, content, .. } = &results[2] else {
        panic!("{:?}", results[2])
    };
    assert_eq!(name.as_deref(), Some("local_shell"));
    assert_eq!(content.len(), 3);
    assert!(matches!(
        &content[1],
        ToolResultContent::Image(MediaSource::Url { .. })
    ));
    assert_eq!(content[2], ToolResultContent::Text("[file: file-2]".into()));
    assert_eq!(results[3], ContentBlock::text("next"));

    assert_eq!(ctx.tool_kind("apply_patch"), ResponsesToolKind::Custom);
    assert_eq!(ctx.tool_kind("local_shell"), ResponsesToolKind::LocalShell);
    assert_eq!(ctx.tool_kind("f"), ResponsesToolKind::Function);
    assert!(!ctx.needs_stored_state());
}

#[test]
fn decodes_tools_choice_and_parameters() {
    let (req, ctx) = decode(rich_request()).unwrap();
    assert_eq!(req.tools.len(), 4, "{:?}", req.tools);
    let Tool::Function(custom) = &req.tools[1] else {
        panic!()
    };
    assert_eq!(custom.parameters.to_value()["required"], json!(["input"]));
    let description = custom.description.as_deref().unwrap_or("");
    assert!(
        description.starts_with("patch\n\n") && description.ends_with("lark grammar:\nstart: x")
    );
    let Tool::Function(shell) = &req.tools[2] else {
        panic!()
    };
    assert_eq!(shell.name, "local_shell");
    assert_eq!(
        shell.parameters.to_value()["properties"]["command"]["type"],
        "array"
    );
    assert_eq!(req.tools[3], Tool::WebSearch);
    assert_eq!(ctx.dropped_tools, vec!["namespace:mcp__gh", "file_search"]);
    assert_eq!(req.tool_choice, ToolChoice::Tool("f".into()));
    assert_eq!(req.response_format, ResponseFormat::JsonObject);
    assert_eq!(
        req.thinking,
        Some(ThinkingConfig {
            mode: ThinkingMode::Enabled,
            budget_tokens: None,
            effort: Some(ReasoningEffort::High),
            include_thoughts: true,
        })
    );
    assert_eq!(req.generation.max_output_tokens, Some(20));
    assert_eq!(req.generation.temperature, Some(0.5));
    assert_eq!(req.generation.top_p, Some(0.8));
    assert!(req.stream);
    assert_eq!(req.meta.session_id.as_deref(), Some("conv-1"));
    assert_eq!(req.meta.user.as_deref(), Some("u"));
}

#[test]
fn the_template_echoes_the_request_with_the_api_defaults() {
    let (_, ctx) = decode(rich_request()).unwrap();
    let t = &ctx.template;
    assert_eq!(t.instructions.as_deref(), Some("be good"));
    assert!(!t.store && t.parallel_tool_calls);
    assert_eq!(t.tools.len(), 7);
    assert_eq!(t.tools[5]["tools"], json!([]));
    assert_eq!(t.tool_choice, json!({"type": "function", "name": "f"}));
    assert_eq!(t.text.verbosity.as_deref(), Some("low"));
    assert_eq!(t.metadata.get("k"), Some(&json!("v")));
    let (_, bare) = decode(json!({"model": "m", "input": "hi"})).unwrap();
    let t = serde_json::to_value(&bare.template).unwrap();
    assert_eq!(
        (
            &t["tool_choice"],
            &t["truncation"],
            &t["temperature"],
            &t["text"]
        ),
        (
            &json!("auto"),
            &json!("disabled"),
            &json!(1.0),
            &json!({"format": {"type": "text"}, "verbosity": "medium"})
        )
    );
}

#[test]
fn tool_choice_forms() {
    let choice = |c: Value| {
        decode(json!({"model": "m", "input": "hi", "tool_choice": c})).map(|(r, _)| r.tool_choice)
    };
    assert_eq!(choice(json!("none")).unwrap(), ToolChoice::None);
    assert_eq!(choice(json!("required")).unwrap(), ToolChoice::Required);
    assert_eq!(
        choice(json!({"type": "custom", "name": "apply_patch"})).unwrap(),
        ToolChoice::Tool("apply_patch".into())
    );
    assert_eq!(
        choice(json!({"type": "allowed_tools", "mode": "required", "tools": []})).unwrap(),
        ToolChoice::Required
    );
    assert_eq!(
        choice(json!({"type": "web_search_preview"})).unwrap(),
        ToolChoice::Auto
    );
    assert_eq!(choice(json!("sometimes")).unwrap_err().path, "tool_choice");
    assert_eq!(
        choice(json!({"type": "function"})).unwrap_err().path,
        "tool_choice.name"
    );
}

#[test]
fn reasoning_settings() {
    let thinking = |r: Value| {
        decode(json!({"model": "m", "input": "hi", "reasoning": r})).map(|(req, _)| req.thinking)
    };
    let off = thinking(json!({"effort": "none"})).unwrap().unwrap();
    assert_eq!(
        (off.mode, off.include_thoughts),
        (ThinkingMode::Disabled, false)
    );
    let quiet = thinking(json!({"effort": "low", "summary": "none"}))
        .unwrap()
        .unwrap();
    assert!(!quiet.include_thoughts);
    let legacy = thinking(json!({"generate_summary": "concise"}))
        .unwrap()
        .unwrap();
    assert!(legacy.include_thoughts && legacy.effort.is_none());
    assert_eq!(
        thinking(json!({"effort": "huge"})).unwrap_err().path,
        "reasoning.effort"
    );
    let (req, _) = decode(json!({"model": "m", "input": "hi"})).unwrap();
    assert_eq!(req.thinking, None);
}

#[test]
fn text_formats() {
    let format = |f: Value| {
        decode(json!({"model": "m", "input": "hi", "text": {"format": f}}))
            .map(|(r, _)| r.response_format)
    };
    assert_eq!(
        format(json!({"type": "json_schema", "name": "p", "schema": {"type": "object"}, "strict": true}))
            .unwrap(),
        ResponseFormat::JsonSchema {
            name: Some("p".into()),
            schema: json!({"type": "object"}),
            strict: Some(true)
        }
    );
    assert_eq!(
        format(json!({"type": "json_schema", "name": "p"}))
            .unwrap_err()
            .path,
        "text.format.schema"
    );
    assert_eq!(
        format(json!({"type": "yaml"})).unwrap_err().path,
        "text.format.type"
    );
}

#[test]
fn foreign_and_redacted_reasoning() {
    let (req, _) = decode(json!({"model": "m", "input": [
        {"role": "user", "content": "q"},
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "a"}, {"type": "summary_text", "text": "b"}],
         "encrypted_content": "gAAAAB-openai"},
        {"type": "reasoning", "summary": [], "encrypted_content": state(ReasoningState::Redacted("r".into()))},
        {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": "raw"}]},
        {"type": "reasoning", "summary": []},
        {"type": "reasoning", "summary": [], "encrypted_content": state(ReasoningState::CallSignature {
            call_id: "missing".into(), signature: Signature::new("s", Some(ModelFamily::Gemini))
        })}
    ]}))
    .unwrap();
    assert_eq!(
        req.messages[1].content,
        vec![
            ContentBlock::Thinking {
                text: "a\n\nb".into(),
                signature: Some(Signature::new("gAAAAB-openai", None)),
            },
            ContentBlock::RedactedThinking { data: "r".into() },
            ContentBlock::Thinking {
                text: "raw".into(),
                signature: None
            },
        ]
    );
}

#[test]
fn stored_state_is_left_for_the_gateway() {
    let (req, ctx) = decode(json!({
        "model": "m",
        "previous_response_id": "resp_1",
        "conversation": {"id": "conv_1"},
        "input": [{"type": "item_reference", "id": "msg_1"}, {"type": "mcp_call", "id": "x"}]
    }))
    .unwrap();
    assert!(req.messages.is_empty());
    assert_eq!(ctx.previous_response_id.as_deref(), Some("resp_1"));
    assert_eq!(ctx.conversation.as_deref(), Some("conv_1"));
    assert_eq!(ctx.item_references, vec!["msg_1"]);
    assert_eq!(ctx.skipped_items, vec!["mcp_call"]);
    assert!(ctx.needs_stored_state());
}

#[test]
fn errors_name_the_field() {
    let err = |v: Value| decode(v).unwrap_err().to_string();
    assert_eq!(err(json!({"input": "hi"})), "model: required");
    assert_eq!(
        err(json!({"model": "m"})),
        "input: must contain at least one message"
    );
    assert_eq!(
        err(json!({"model": "m", "input": [{"content": "x"}]})),
        "input[0].role: required"
    );
    assert_eq!(
        err(json!({"model": "m", "input": [{"type": "function_call", "call_id": "c"}]})),
        "input[0].name: required"
    );
    assert_eq!(
        err(json!({"model": "m", "input": [{"type": "function_call_output", "output": "x"}]})),
        "input[0].call_id: required"
    );
    assert_eq!(
        err(
            json!({"model": "m", "input": [{"type": "function_call_output", "id": "fco_1", "output": "x"}]})
        ),
        "input[0].call_id: required"
    );
    assert_eq!(
        err(json!({"model": "m", "input": [{"type": "local_shell_call", "call_id": "c"}]})),
        "input[0].action: required"
    );
    assert_eq!(
        err(
            json!({"model": "m", "input": [{"role": "user", "content": [{"type": "input_image"}]}]})
        ),
        "input[0].content[0]: one of image_url or file_id is required"
    );
    assert_eq!(
        err(
            json!({"model": "m", "input": [{"role": "assistant", "content": [{"type": "input_image", "file_id": "f"}]}]})
        ),
        "input[0].content[0].type: unsupported content part type `input_image` in an assistant message"
    );
    assert_eq!(
        err(
            json!({"model": "m", "input": [{"role": "user", "content": [{"type": "input_text", "text": 5}]}]})
        ),
        "input[0].content[0].text: invalid type: integer `5`, expected a string"
    );
    assert_eq!(
        err(json!({"model": "m", "input": "hi", "tools": [{"type": "function", "name": 3}]})),
        "tools[0].name: invalid type: integer `3`, expected a string"
    );
    assert_eq!(
        err(json!({"model": "m", "input": "hi", "tools": [{"type": "function"}]})),
        "tools[0].name: required"
    );
    assert_eq!(
        err(json!({"model": "m", "input": "hi", "max_output_tokens": "many"})),
        "max_output_tokens: invalid type: string \"many\", expected u32"
    );
    assert!(err(json!([1])).contains("JSON object"));
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_json(v in arb_json()) {
        let _ = decode_openai_responses(v.to_string().as_bytes());
    }

    #[test]
    fn never_panics_on_a_mutated_request(at in any::<prop::sample::Index>(), with in arb_json()) {
        let _ = decode(mutate(&rich_request(), at, with));
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_openai_responses(&bytes);
    }
}
