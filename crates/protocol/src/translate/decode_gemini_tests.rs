//! Tests of the Gemini request decoder.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::translate::test_support::{arb_json, mutate};

fn decode(v: Value, model: &str) -> Result<Request, TranslateError> {
    decode_gemini(v.to_string().as_bytes(), model, false)
}

fn rich_request() -> Value {
    json!({
        "systemInstruction": {"parts": [{"text": "sys"}]},
        "contents": [
            {"role": "user", "parts": [{"text": "q"}, {"inlineData": {"mimeType": "image/png", "data": "AA"}}]},
            {"role": "model", "parts": [
                {"text": "plan", "thought": true, "thoughtSignature": "t"},
                {"functionCall": {"name": "f", "args": {"a": 1}}, "thoughtSignature": "s"},
                {"functionCall": {"name": "f", "args": {"a": 2}}},
                {"functionCall": {"id": "own", "name": "g"}}
            ]},
            {"role": "function", "parts": [
                {"functionResponse": {"name": "g", "response": {"ok": true}}},
                {"functionResponse": {"name": "f", "response": {"output": "one"}}},
                {"functionResponse": {"name": "f", "response": {"error": "two"}}}
            ]}
        ],
        "tools": [{"functionDeclarations": [{"name": "f", "parameters": {"type": "OBJECT", "properties": {"a": {"type": "INTEGER"}}}}]}, {"googleSearch": {}}],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}},
        "generationConfig": {"responseMimeType": "application/json", "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": true}}
    })
}

#[test]
fn ids_are_synthesised_and_matched_by_order_and_name() {
    let req = decode(rich_request(), "models/gemini-3-pro-preview").unwrap();
    assert_eq!(req.model, "gemini-3-pro-preview");
    assert_eq!(req.system_text().as_deref(), Some("sys"));
    let model_turn = &req.messages[1].content;
    assert_eq!(
        model_turn[0],
        ContentBlock::Thinking {
            text: "plan".into(),
            signature: Some(Signature::new("t", Some(ModelFamily::Gemini)))
        }
    );
    let ids: Vec<&str> = model_turn
        .iter()
        .filter_map(|b| match b {
            ContentBlock::ToolCall { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(ids, ["call_0", "call_1", "own"]);
    let results: Vec<(&str, bool)> = req.messages[2]
        .content
        .iter()
        .filter_map(|b| match b {
            ContentBlock::ToolResult {
                call_id, is_error, ..
            } => Some((call_id.as_str(), *is_error)),
            _ => None,
        })
        .collect();
    assert_eq!(
        results,
        [("own", false), ("call_0", false), ("call_1", true)]
    );
    assert!(
        matches!(&req.messages[2].content[0], ContentBlock::ToolResult { content, .. }
        if content == &vec![ToolResultContent::Text("{\"ok\":true}".into())])
    );
    assert_eq!(req.tool_choice, ToolChoice::Tool("f".into()));
    assert!(
        matches!(&req.tools[0], Tool::Function(f) if f.parameters.to_value() == json!({"type": "object", "properties": {"a": {"type": "integer"}}}))
    );
    assert_eq!(req.tools[1], Tool::WebSearch);
    assert_eq!(req.response_format, ResponseFormat::JsonObject);
    let t = req.thinking.unwrap();
    assert_eq!(
        (t.mode, t.budget_tokens, t.include_thoughts),
        (ThinkingMode::Enabled, Some(1024), true)
    );
}

#[test]
fn signatures_are_attributed_to_the_requested_models_family() {
    let req = decode(rich_request(), "claude-opus-4-5-thinking").unwrap();
    assert!(matches!(&req.messages[1].content[0],
        ContentBlock::Thinking { signature: Some(s), .. } if s.family == Some(ModelFamily::Claude)));
}

#[test]
fn errors_name_the_field() {
    for (body, message) in [
        (
            json!({"contents": [{"role": "bot", "parts": [{"text": "x"}]}]}),
            "contents[0].role: unsupported role `bot` (expected `user` or `model`)",
        ),
        (
            json!({"contents": [{"parts": [{"functionCall": {"args": {}}}]}]}),
            "contents[0].parts[0].functionCall.name: required",
        ),
        (
            json!({"contents": [{"parts": "x"}]}),
            "contents[0].parts: invalid type: string \"x\", expected a sequence",
        ),
        (
            json!({"contents": [], "generationConfig": {"candidateCount": 2}}),
            "generationConfig.candidateCount: only one candidate is supported",
        ),
        (
            json!({"contents": [], "generationConfig": {"thinkingConfig": {"thinkingLevel": "huge"}}}),
            "generationConfig.thinkingConfig.thinkingLevel: unsupported value `huge`",
        ),
        (
            json!({"contents": [], "tools": [{"functionDeclarations": [{"description": "d"}]}]}),
            "tools[0].functionDeclarations[0].name: required",
        ),
    ] {
        assert_eq!(
            decode(body, "gemini-2.5-flash").unwrap_err().to_string(),
            message
        );
    }
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_json(v in arb_json()) {
        let _ = decode(v.clone(), "gemini-2.5-flash");
        let _ = decode_gemini_count_tokens(v.to_string().as_bytes(), "gemini-2.5-flash");
    }

    #[test]
    fn never_panics_on_a_mutated_valid_request(at in any::<prop::sample::Index>(), with in arb_json()) {
        let _ = decode(mutate(&rich_request(), at, with), "gemini-3-flash");
    }
}

#[test]
fn streamed_thought_fragments_fold_into_one_signed_block() {
    let req = decode(
        json!({"contents": [
            {"role": "user", "parts": [{"text": "q"}]},
            {"role": "model", "parts": [
                {"text": "first ", "thought": true},
                {"text": "second", "thought": true},
                {"text": "", "thought": true, "thoughtSignature": "sig"},
                {"text": "answer"},
                {"text": "", "thoughtSignature": "text-sig"}
            ]}
        ]}),
        "claude-sonnet-4-5",
    )
    .unwrap();
    let family = Some(ModelFamily::Claude);
    assert_eq!(
        req.messages[1].content,
        vec![
            ContentBlock::Thinking {
                text: "first second".into(),
                signature: Some(Signature::new("sig", family))
            },
            ContentBlock::text("answer"),
            ContentBlock::Thinking {
                text: String::new(),
                signature: Some(Signature::new("text-sig", family))
            },
        ]
    );
}
