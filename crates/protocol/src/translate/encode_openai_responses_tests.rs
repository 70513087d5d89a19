//! Tests of the Responses answer encoder, and of the round trip the gateway relies
//! on: an answer's output items replayed as input decode to the same blocks.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::ir::{ModelFamily, Usage};
use crate::translate::decode_openai_responses;
use crate::translate::responses_reasoning::decode_reasoning_state;

const TOOLS: &str = r#"[
    {"type": "function", "name": "f", "parameters": {"type": "object"}},
    {"type": "custom", "name": "patch"},
    {"type": "local_shell"}
]"#;

fn ctx() -> ResponsesContext {
    let body = format!(r#"{{"model": "m", "input": "hi", "tools": {TOOLS}}}"#);
    decode_openai_responses(body.as_bytes()).unwrap().1
}

fn encode(content: Vec<ContentBlock>, finish: Option<FinishReason>) -> Value {
    let resp = Response {
        content,
        finish_reason: finish,
        usage: Usage {
            input_tokens: 10,
            output_tokens: 7,
            cached_input_tokens: 4,
            cache_creation_input_tokens: 0,
            reasoning_tokens: 3,
        },
        ..Response::default()
    };
    serde_json::to_value(encode_responses_response(
        &resp,
        &ctx(),
        "resp_1",
        "gpt-x",
        42,
    ))
    .unwrap()
}

fn call(id: &str, name: &str, arguments: Value, signature: Option<Signature>) -> ContentBlock {
    ContentBlock::ToolCall {
        id: id.into(),
        name: name.into(),
        arguments,
        signature,
    }
}

#[test]
fn blocks_become_output_items_in_order() {
    let gemini = Signature::new("g", Some(ModelFamily::Gemini));
    let r = encode(
        vec![
            ContentBlock::Thinking {
                text: "hmm".into(),
                signature: Some(Signature::new("c", Some(ModelFamily::Claude))),
            },
            ContentBlock::text("hi"),
            call("c1", "f", json!({"a": 1}), Some(gemini.clone())),
            call("c2", "patch", json!({"input": "*** Begin"}), None),
            call(
                "c3",
                "local_shell",
                json!({"command": ["ls"], "workdir": "/r"}),
                None,
            ),
            ContentBlock::RedactedThinking { data: "x".into() },
        ],
        Some(FinishReason::ToolCalls),
    );
    assert_eq!(
        (
            &r["id"],
            &r["object"],
            &r["created_at"],
            &r["model"],
            &r["status"]
        ),
        (
            &json!("resp_1"),
            &json!("response"),
            &json!(42),
            &json!("gpt-x"),
            &json!("completed")
        )
    );
    let out = r["output"].as_array().unwrap();
    let kinds: Vec<&str> = out.iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "reasoning",
            "message",
            "function_call",
            "reasoning",
            "custom_tool_call",
            "local_shell_call",
            "reasoning"
        ]
    );
    let ids: Vec<&str> = out.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "rs_1_0", "msg_1_1", "fc_1_2", "rs_1_3", "ctc_1_4", "lsh_1_5", "rs_1_6"
        ]
    );
    assert_eq!(
        out[0]["summary"],
        json!([{"type": "summary_text", "text": "hmm"}])
    );
    assert_eq!(
        out[1]["content"],
        json!([{"type": "output_text", "text": "hi", "annotations": [], "logprobs": []}])
    );
    assert_eq!(out[2]["arguments"], "{\"a\":1}");
    assert_eq!(
        decode_reasoning_state(out[3]["encrypted_content"].as_str().unwrap()),
        ReasoningState::CallSignature {
            call_id: "c1".into(),
            signature: gemini
        }
    );
    assert_eq!(out[4]["input"], "*** Begin");
    assert_eq!(
        out[5]["action"],
        json!({"type": "exec", "command": ["ls"], "env": {}, "timeout_ms": null, "user": null, "working_directory": "/r"})
    );
    assert_eq!(
        decode_reasoning_state(out[6]["encrypted_content"].as_str().unwrap()),
        ReasoningState::Redacted("x".into())
    );
    assert_eq!(
        r["usage"],
        json!({
            "input_tokens": 10, "input_tokens_details": {"cached_tokens": 4},
            "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 3},
            "total_tokens": 17
        })
    );
}

#[test]
fn a_length_stop_is_incomplete_and_so_is_the_cut_item() {
    let r = encode(vec![ContentBlock::text("1, 2")], Some(FinishReason::Length));
    assert_eq!(r["status"], "incomplete");
    assert_eq!(
        r["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    assert_eq!(r["output"][0]["status"], "incomplete");
    let r = encode(
        vec![ContentBlock::text("x")],
        Some(FinishReason::ContentFilter),
    );
    assert_eq!(r["incomplete_details"], json!({"reason": "content_filter"}));
    // A signature completed the last item: the stop came after it.
    let r = encode(
        vec![ContentBlock::Thinking {
            text: "t".into(),
            signature: Some(Signature::new("s", Some(ModelFamily::Claude))),
        }],
        Some(FinishReason::Length),
    );
    assert_eq!(r["output"][0].get("status"), None);
    let r = encode(vec![ContentBlock::text("ok")], None);
    assert_eq!(
        (&r["status"], &r["incomplete_details"]),
        (&json!("completed"), &Value::Null)
    );
}

#[test]
fn custom_input_and_shell_action_tolerate_odd_arguments() {
    assert_eq!(custom_input(&json!({"input": "a"})), "a");
    assert_eq!(custom_input(&json!({"_raw": "{bad"})), "{bad");
    assert_eq!(custom_input(&json!({"patch": "p"})), "p");
    assert_eq!(
        custom_input(&json!({"a": 1, "b": "x"})),
        "{\"a\":1,\"b\":\"x\"}"
    );
    assert_eq!(custom_input(&json!("s")), "\"s\"");
    let a = shell_action(&json!({"command": "ls -la", "timeout": 9, "working_directory": "/w"}));
    assert_eq!(a.command, ["bash", "-lc", "ls -la"]);
    assert_eq!(
        (a.timeout_ms, a.working_directory.as_deref()),
        (Some(9), Some("/w"))
    );
    assert_eq!(
        shell_action(&json!({"command": ["echo", 1]})).command,
        ["echo", "1"]
    );
    assert!(shell_action(&json!({})).command.is_empty());
}

#[test]
fn failed_responses_name_a_code_the_sdks_know() {
    assert_eq!(
        response_error(ErrorKind::RateLimited, "m").code,
        "rate_limit_exceeded"
    );
    assert_eq!(
        response_error(ErrorKind::InvalidRequest, "m").code,
        "invalid_prompt"
    );
    assert_eq!(
        response_error(ErrorKind::Overloaded, "m").code,
        "server_error"
    );
}

fn arb_signature() -> impl Strategy<Value = Signature> {
    (
        "[A-Za-z0-9+/=]{1,12}",
        prop_oneof![
            Just(None),
            Just(Some(ModelFamily::Gemini)),
            Just(Some(ModelFamily::Claude)),
            Just(Some(ModelFamily::Gpt)),
            Just(Some(ModelFamily::Other)),
        ],
    )
        .prop_map(|(v, f)| Signature::new(v, f))
}

/// Blocks an answer can hold, with arguments in the shape each tool kind uses.
fn arb_block() -> impl Strategy<Value = ContentBlock> {
    let text = "[a-z ]{1,8}";
    prop_oneof![
        text.prop_map(ContentBlock::text),
        (text, proptest::option::of(arb_signature()))
            .prop_map(|(text, signature)| ContentBlock::Thinking { text, signature }),
        arb_signature().prop_map(|s| ContentBlock::Thinking {
            text: String::new(),
            signature: Some(s)
        }),
        text.prop_map(|data| ContentBlock::RedactedThinking { data }),
        (0u32..1000, proptest::option::of(arb_signature())).prop_map(|(n, s)| call(
            &format!("call_{n}"),
            "f",
            json!({ "n": n }),
            s
        )),
        (0u32..1000, text, proptest::option::of(arb_signature())).prop_map(|(n, t, s)| call(
            &format!("call_p{n}"),
            "patch",
            json!({ "input": t }),
            s
        )),
        (0u32..1000, text).prop_map(|(n, t)| call(
            &format!("call_s{n}"),
            "local_shell",
            json!({"command": ["echo", t], "workdir": "/w", "timeout_ms": n}),
            None
        )),
    ]
}

proptest! {
    /// The answer's items, replayed as input the way Codex does (`store: false`),
    /// decode to the blocks that were encoded — signatures with their family.
    #[test]
    fn output_items_replayed_as_input_decode_to_the_same_blocks(
        blocks in proptest::collection::vec(arb_block(), 1..8)
    ) {
        // Call ids are unique in an answer.
        let mut seen = std::collections::HashSet::new();
        let blocks: Vec<ContentBlock> = blocks
            .into_iter()
            .filter(|b| match b {
                ContentBlock::ToolCall { id, .. } => seen.insert(id.clone()),
                _ => true,
            })
            .collect();
        let encoded = encode(blocks.clone(), Some(FinishReason::Stop));
        let mut input = vec![json!({"role": "user", "content": "q"})];
        input.extend(encoded["output"].as_array().cloned().unwrap_or_default());
        let body = json!({"model": "m", "input": input, "tools": serde_json::from_str::<Value>(TOOLS).unwrap()});
        let (req, _) = decode_openai_responses(body.to_string().as_bytes()).unwrap();
        prop_assert_eq!(req.messages.len(), 2);
        prop_assert_eq!(&req.messages[1].content, &blocks);
    }
}
