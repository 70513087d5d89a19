//! Tests of the Gemini request encoder.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::ir::{
    FunctionTool, GenerationParams, Message, ReasoningEffort, ResponseFormat, ThinkingConfig,
    ThinkingMode, Tool, ToolChoice,
};
use crate::translate::decode_openai_chat;
use crate::translate::test_support::{arb_json, mutate};

fn encode(req: &Request, model: &str) -> Value {
    serde_json::to_value(encode_gemini_request(req, model).unwrap()).unwrap()
}

fn sig(value: &str, family: ModelFamily) -> Option<Signature> {
    Some(Signature::new(value, Some(family)))
}

fn call(id: &str, signature: Option<Signature>) -> ContentBlock {
    ContentBlock::ToolCall {
        id: id.into(),
        name: "f".into(),
        arguments: json!({}),
        signature,
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

fn thinking(
    mode: ThinkingMode,
    effort: Option<ReasoningEffort>,
    budget: Option<u32>,
) -> Option<ThinkingConfig> {
    Some(ThinkingConfig {
        mode,
        budget_tokens: budget,
        effort,
        include_thoughts: true,
    })
}

fn tool_loop(thought: Option<Signature>) -> Request {
    let mut assistant = Vec::new();
    if let Some(s) = thought {
        assistant.push(ContentBlock::Thinking {
            text: "plan".into(),
            signature: Some(s),
        });
    }
    assistant.push(call("c1", None));
    Request {
        messages: vec![
            Message::user_text("go"),
            Message::new(Role::Assistant, assistant),
            Message::new(Role::User, vec![result("c1")]),
        ],
        thinking: thinking(ThinkingMode::Enabled, None, Some(2048)),
        ..Request::default()
    }
}

#[test]
fn signatures_are_replayed_only_to_their_family() {
    let req = Request {
        messages: vec![
            Message::user_text("q"),
            Message::new(
                Role::Assistant,
                vec![
                    ContentBlock::Thinking {
                        text: "gemini thought".into(),
                        signature: sig("g", ModelFamily::Gemini),
                    },
                    ContentBlock::Thinking {
                        text: "claude thought".into(),
                        signature: sig("c", ModelFamily::Claude),
                    },
                    ContentBlock::Thinking {
                        text: "unsigned".into(),
                        signature: None,
                    },
                    ContentBlock::text("answer"),
                    ContentBlock::Thinking {
                        text: String::new(),
                        signature: sig("t", ModelFamily::Gemini),
                    },
                ],
            ),
            Message::user_text("more"),
        ],
        ..Request::default()
    };
    let gemini = encode(&req, "gemini-2.5-pro");
    assert_eq!(
        gemini["contents"][1]["parts"],
        json!([
            {"text": "gemini thought", "thought": true, "thoughtSignature": "g"},
            {"text": "answer", "thoughtSignature": "t"}
        ])
    );
    let claude = encode(&req, "claude-sonnet-4-5");
    assert_eq!(
        claude["contents"][1]["parts"],
        json!([{"text": "claude thought", "thought": true, "thoughtSignature": "c"}, {"text": "answer"}])
    );
}

#[test]
fn gemini_3_gets_the_documented_skip_value_on_the_first_call_of_each_turn() {
    let req = Request {
        messages: vec![
            Message::user_text("q"),
            Message::new(Role::Assistant, vec![call("a", None), call("b", None)]),
            Message::new(Role::User, vec![result("a"), result("b")]),
            Message::new(
                Role::Assistant,
                vec![call("c", sig("real", ModelFamily::Gemini))],
            ),
            Message::new(Role::User, vec![result("c")]),
        ],
        ..Request::default()
    };
    let v = encode(&req, "gemini-3-pro-high");
    assert_eq!(
        v["contents"][1]["parts"][0]["thoughtSignature"],
        SKIP_SIGNATURE
    );
    assert!(
        v["contents"][1]["parts"][1]
            .get("thoughtSignature")
            .is_none()
    );
    assert_eq!(v["contents"][3]["parts"][0]["thoughtSignature"], "real");
    let older = encode(&req, "gemini-2.5-flash");
    assert!(
        older["contents"][1]["parts"][0]
            .get("thoughtSignature")
            .is_none()
    );
}

#[test]
fn every_call_is_answered_and_orphans_become_text() {
    let req = Request {
        messages: vec![
            Message::new(Role::User, vec![result("stray"), ContentBlock::text("hi")]),
            Message::new(Role::Assistant, vec![call("a", None), call("b", None)]),
            Message::new(
                Role::User,
                vec![ContentBlock::text("never mind"), result("b"), result("zzz")],
            ),
            Message::new(Role::Assistant, vec![call("c", None)]),
        ],
        ..Request::default()
    };
    let v = encode(&req, "gemini-2.5-flash");
    assert_eq!(
        v["contents"][0]["parts"][0],
        json!({"text": "[Result of tool call stray]\nok"})
    );
    let answers = &v["contents"][2]["parts"];
    assert_eq!(
        answers[0]["functionResponse"]["response"]["error"],
        "No result was provided for this tool call."
    );
    assert_eq!(answers[0]["functionResponse"]["id"], "a");
    assert_eq!(answers[1]["functionResponse"]["id"], "b");
    assert_eq!(answers[2], json!({"text": "[Result of tool call zzz]\nok"}));
    assert_eq!(answers[3], json!({"text": "never mind"}));
    // A trailing call gets a synthesised answer turn.
    assert_eq!(v["contents"][4]["role"], "user");
    assert_eq!(
        v["contents"][4]["parts"][0]["functionResponse"]["name"],
        "f"
    );
}

#[test]
fn tool_results_carry_objects_errors_and_images() {
    let req = Request {
        messages: vec![
            Message::user_text("q"),
            Message::new(Role::Assistant, vec![call("a", None), call("b", None)]),
            Message::new(
                Role::User,
                vec![
                    ContentBlock::ToolResult {
                        call_id: "a".into(),
                        name: None,
                        content: vec![ToolResultContent::Text("{\"k\": 1}".into())],
                        is_error: false,
                    },
                    ContentBlock::ToolResult {
                        call_id: "b".into(),
                        name: Some("f".into()),
                        content: vec![
                            ToolResultContent::Text("boom".into()),
                            ToolResultContent::Image(MediaSource::Base64 {
                                mime_type: "image/png".into(),
                                data: "AA".into(),
                            }),
                        ],
                        is_error: true,
                    },
                ],
            ),
        ],
        ..Request::default()
    };
    let v = encode(&req, "gemini-2.5-flash");
    assert_eq!(
        v["contents"][2]["parts"],
        json!([
            {"functionResponse": {"id": "a", "name": "f", "response": {"k": 1}}},
            {"functionResponse": {"id": "b", "name": "f", "response": {"error": "boom"}}},
            {"inlineData": {"mimeType": "image/png", "data": "AA"}}
        ])
    );
}

#[test]
fn the_request_borrows_the_conversation_and_joins_split_results() {
    let req = Request {
        messages: vec![
            Message::user_text("look at this"),
            Message::new(Role::Assistant, vec![call("a", None)]),
            Message::new(
                Role::User,
                vec![
                    ContentBlock::ToolResult {
                        call_id: "a".into(),
                        name: None,
                        content: vec![
                            ToolResultContent::Text("line 1".into()),
                            ToolResultContent::Text("line 2".into()),
                        ],
                        is_error: false,
                    },
                    ContentBlock::Image {
                        source: MediaSource::Base64 {
                            mime_type: "image/png".into(),
                            data: "AA".into(),
                        },
                    },
                    ContentBlock::text("and this"),
                ],
            ),
        ],
        ..Request::default()
    };
    let encoded = encode_gemini_request(&req, "gemini-2.5-flash").unwrap();
    let borrowed = |c: &Option<Cow<'_, str>>| matches!(c, Some(Cow::Borrowed(_)));
    assert!(borrowed(&encoded.contents[0].parts[0].text));
    let call = encoded.contents[1].parts[0].function_call.as_ref().unwrap();
    assert!(matches!(call.args, Some(Cow::Borrowed(_))));
    let answer = &encoded.contents[2].parts;
    let response = answer[0].function_response.as_ref().unwrap();
    // Two text blocks of one result are joined, so that one is a copy.
    assert_eq!(
        response.response,
        Some(ResponseBody::Object(json!({"output": "line 1\nline 2"})))
    );
    assert!(matches!(
        answer[1].inline_data.as_ref().map(|b| &b.data),
        Some(Cow::Borrowed("AA"))
    ));
    assert!(borrowed(&answer[2].text));
    assert_eq!(
        serde_json::to_value(&encoded).unwrap()["contents"][2]["parts"][0],
        json!({"functionResponse": {"id": "a", "name": "f", "response": {"output": "line 1\nline 2"}}})
    );
}

#[test]
fn claude_tool_loops_without_signed_thinking_turn_thinking_off() {
    let unsigned = encode(&tool_loop(None), "claude-opus-4-5-thinking");
    assert!(unsigned.get("generationConfig").is_none());
    let foreign = encode(
        &tool_loop(sig("g", ModelFamily::Gemini)),
        "claude-opus-4-5-thinking",
    );
    assert!(foreign.get("generationConfig").is_none());
    let signed = encode(
        &tool_loop(sig("c", ModelFamily::Claude)),
        "claude-opus-4-5-thinking",
    );
    assert_eq!(
        signed["generationConfig"]["thinkingConfig"],
        json!({"includeThoughts": true, "thinkingBudget": 2048})
    );
    assert_eq!(signed["generationConfig"]["maxOutputTokens"], 64000);
    assert_eq!(
        signed["contents"][1]["parts"][0],
        json!({"text": "plan", "thought": true, "thoughtSignature": "c"})
    );
}

#[test]
fn thinking_controls_follow_the_model() {
    let base = |t: Option<ThinkingConfig>| Request {
        messages: vec![Message::user_text("q")],
        thinking: t,
        generation: GenerationParams {
            max_output_tokens: Some(1000),
            ..GenerationParams::default()
        },
        ..Request::default()
    };
    let tc = |model: &str, t| encode(&base(t), model)["generationConfig"]["thinkingConfig"].clone();
    assert_eq!(
        tc(
            "gemini-3-pro-high",
            thinking(ThinkingMode::Enabled, Some(ReasoningEffort::Medium), None)
        ),
        json!({"includeThoughts": true, "thinkingLevel": "high"})
    );
    assert_eq!(
        tc(
            "gemini-3-flash",
            thinking(ThinkingMode::Enabled, Some(ReasoningEffort::Medium), None)
        ),
        json!({"includeThoughts": true, "thinkingLevel": "medium"})
    );
    assert_eq!(
        tc(
            "gemini-3-pro-low",
            thinking(ThinkingMode::Adaptive, None, None)
        ),
        json!({"includeThoughts": true, "thinkingLevel": "low"})
    );
    assert_eq!(
        tc(
            "gemini-3-flash",
            thinking(ThinkingMode::Enabled, None, Some(1000))
        ),
        json!({"includeThoughts": true, "thinkingLevel": "low"})
    );
    assert_eq!(
        tc(
            "gemini-3-flash",
            thinking(ThinkingMode::Disabled, None, None)
        ),
        json!({"includeThoughts": false, "thinkingLevel": "minimal"})
    );
    assert_eq!(
        tc(
            "gemini-2.5-pro",
            thinking(ThinkingMode::Disabled, None, None)
        ),
        json!({"includeThoughts": false, "thinkingBudget": 128})
    );
    assert_eq!(
        tc(
            "gemini-2.5-flash",
            thinking(ThinkingMode::Disabled, None, None)
        ),
        json!({"includeThoughts": false, "thinkingBudget": 0})
    );
    assert_eq!(
        tc(
            "gemini-2.5-flash",
            thinking(ThinkingMode::Enabled, None, Some(100_000))
        ),
        json!({"includeThoughts": true, "thinkingBudget": 24576})
    );
    assert_eq!(
        tc(
            "gemini-2.5-pro",
            thinking(ThinkingMode::Adaptive, None, None)
        ),
        json!({"includeThoughts": true, "thinkingBudget": -1})
    );
    assert_eq!(tc("gemini-2.5-flash", None), Value::Null);
    // Claude: budget below the output limit, max tokens above the budget.
    let claude = encode(
        &base(thinking(
            ThinkingMode::Enabled,
            Some(ReasoningEffort::XHigh),
            None,
        )),
        "claude-sonnet-4-5",
    );
    assert_eq!(
        claude["generationConfig"]["thinkingConfig"]["thinkingBudget"],
        32768
    );
    assert_eq!(claude["generationConfig"]["maxOutputTokens"], 40960);
    let huge = encode(
        &base(thinking(ThinkingMode::Enabled, None, Some(1_000_000))),
        "claude-sonnet-4-5",
    );
    assert_eq!(
        huge["generationConfig"]["thinkingConfig"]["thinkingBudget"],
        62976
    );
    assert_eq!(huge["generationConfig"]["maxOutputTokens"], 64000);
    assert!(
        encode(&base(None), "claude-sonnet-4-5")["generationConfig"]
            .get("thinkingConfig")
            .is_none()
    );
    assert!(
        encode(&base(None), "claude-sonnet-4-5-thinking")["generationConfig"]
            .get("thinkingConfig")
            .is_some()
    );
}

#[test]
fn generation_limits_and_tool_settings() {
    let req = Request {
        messages: vec![Message::user_text("q")],
        generation: GenerationParams {
            max_output_tokens: Some(1_000_000),
            stop_sequences: (0..8).map(|i| i.to_string()).collect(),
            seed: Some(i64::MAX),
            candidate_count: Some(1),
            ..GenerationParams::default()
        },
        tools: vec![
            Tool::Function(FunctionTool {
                name: "noargs".into(),
                description: None,
                parameters: json!({"type": "object", "properties": {}}).into(),
                strict: None,
                cache_control: None,
            }),
            Tool::WebSearch,
        ],
        tool_choice: ToolChoice::None,
        response_format: ResponseFormat::JsonObject,
        ..Request::default()
    };
    let v = encode(&req, "gemini-2.5-flash");
    assert_eq!(
        v["generationConfig"],
        json!({"maxOutputTokens": 65535, "stopSequences": ["0", "1", "2", "3", "4"], "seed": i32::MAX})
    );
    assert_eq!(
        v["tools"],
        json!([{"functionDeclarations": [{"name": "noargs"}]}, {"googleSearch": {}}])
    );
    assert_eq!(
        v["toolConfig"],
        json!({"functionCallingConfig": {"mode": "NONE"}})
    );
    let claude = encode(&req, "claude-sonnet-4-5");
    assert_eq!(
        claude["tools"][0]["functionDeclarations"][0]["parameters"],
        json!({"type": "object", "properties": {}})
    );
    let g3 = encode(&req, "gemini-3-flash");
    assert_eq!(
        g3["generationConfig"]["responseMimeType"],
        "application/json"
    );
}

proptest! {
    #[test]
    fn encoding_any_decoded_request_never_panics(at in any::<prop::sample::Index>(), with in arb_json()) {
        let base = json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "s"},
                {"role": "user", "content": [{"type": "text", "text": "q"}]},
                {"role": "assistant", "reasoning_content": "r", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "c", "content": "x"}
            ],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}, "$defs": {"A": {"type": "string"}}}}}],
            "reasoning_effort": "low",
            "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object"}}}
        });
        if let Ok(req) = decode_openai_chat(mutate(&base, at, with).to_string().as_bytes()) {
            for model in ["gemini-3-pro-high", "gemini-2.5-flash", "claude-sonnet-4-5-thinking", "other"] {
                prop_assert!(encode_gemini_request(&req, model).is_ok());
            }
        }
    }
}
