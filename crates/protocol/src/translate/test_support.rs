//! Test helpers: arbitrary JSON strategies for the decoders' never-panic tests.

use proptest::prelude::*;
use serde_json::Value;

/// Keys the decoders look at, so that random objects reach deep code paths.
const KEYS: &[&str] = &[
    "model",
    "messages",
    "role",
    "content",
    "type",
    "text",
    "image_url",
    "url",
    "input_audio",
    "data",
    "format",
    "file",
    "file_data",
    "file_id",
    "tool_calls",
    "id",
    "function",
    "name",
    "arguments",
    "tool_call_id",
    "tools",
    "tool_choice",
    "parameters",
    "response_format",
    "json_schema",
    "schema",
    "reasoning_effort",
    "stream",
    "stream_options",
    "include_usage",
    "stop",
    "n",
    "prompt",
    "contents",
    "parts",
    "functionCall",
    "functionResponse",
    "args",
    "response",
    "thought",
    "thoughtSignature",
    "inlineData",
    "mimeType",
    "fileData",
    "fileUri",
    "systemInstruction",
    "functionDeclarations",
    "parametersJsonSchema",
    "toolConfig",
    "functionCallingConfig",
    "mode",
    "generationConfig",
    "thinkingConfig",
    "thinkingBudget",
    "thinkingLevel",
    "responseMimeType",
    "responseSchema",
    "generateContentRequest",
    "candidates",
    "finishReason",
    "usageMetadata",
    "error",
    "$ref",
    "properties",
    "items",
    "delta",
    "content_block",
    "index",
    "partial_json",
    "thinking",
    "signature",
    "reasoning_content",
    "reasoning",
    "finish_reason",
    "usage",
    "choices",
    "stop_reason",
    "input",
    "message",
    "prompt_tokens",
    "completion_tokens",
    "prompt_tokens_details",
    "cached_tokens",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1.0e6f64..1.0e6).prop_map(Value::from),
        prop_oneof![
            Just("user".to_owned()),
            Just("assistant".to_owned()),
            Just("tool".to_owned()),
            Just("model".to_owned()),
            Just("text".to_owned()),
            Just("function".to_owned()),
            Just("image_url".to_owned()),
            Just("data:image/png;base64,AAAA".to_owned()),
            Just("https://x.test/a.png".to_owned()),
            Just("{\"a\":1}".to_owned()),
            Just("content_block_start".to_owned()),
            Just("content_block_delta".to_owned()),
            Just("text_delta".to_owned()),
            Just("tool_use".to_owned()),
            Just("stop".to_owned()),
            "[a-z:/ ]{0,10}",
        ]
        .prop_map(Value::String),
    ]
}

/// Arbitrary JSON values, biased towards the shapes the decoders read.
pub(crate) fn arb_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 96, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    proptest::sample::select(KEYS).prop_map(str::to_owned),
                    "[a-z]{1,5}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `base` with one node (chosen by `at`) replaced by `with`.
pub(crate) fn mutate(base: &Value, at: prop::sample::Index, with: Value) -> Value {
    fn paths(v: &Value, prefix: String, out: &mut Vec<String>) {
        out.push(prefix.clone());
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    paths(
                        child,
                        format!("{prefix}/{}", k.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    paths(child, format!("{prefix}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut all = Vec::new();
    paths(base, String::new(), &mut all);
    let mut out = base.clone();
    let target = &all[at.index(all.len())];
    if let Some(node) = out.pointer_mut(target) {
        *node = with;
    }
    out
}
