//! Multi-turn tool conversations through OpenAI-format clients, which cannot
//! carry thinking signatures: the gateway restores the ones the upstream issued,
//! and the strict fake (which enforces the real rules) accepts the replay.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::Harness;
use uplink_fake_upstream::{Behavior, DUMMY_SIGNATURES};

fn tools() -> Value {
    json!([{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}])
}

/// Turn one: the model calls `lookup`. Turn two: the client replays the call
/// (no signature, no thinking — OpenAI's format has no place for them) with a
/// result. Returns the upstream request of turn two and the status.
async fn two_turns(h: &Harness, model: &str, extra: Value) -> (u16, Value) {
    h.fake.script(
        "a@x.com",
        vec![Behavior::function_call("lookup", json!({"q": "rust"}))],
    );
    let mut first = json!({"model": model, "messages": [{"role": "user", "content": "find rust"}], "tools": tools()});
    first
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let body: Value = h
        .post("/v1/chat/completions", first.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let call = body["choices"][0]["message"]["tool_calls"][0].clone();
    assert_eq!(call["function"]["name"], "lookup", "{body}");

    let mut second = first;
    second["messages"] = json!([
        {"role": "user", "content": "find rust"},
        {"role": "assistant", "content": null, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "a language"},
    ]);
    let res = h.post("/v1/chat/completions", second).send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    let calls = h.fake.generate_calls("a@x.com");
    (status, calls.last().unwrap().body.clone().unwrap())
}

#[tokio::test]
async fn gemini_3_gets_the_signature_it_issued_not_a_fallback() {
    let h = Harness::start(&["a@x.com"]).await;
    let (_, sent) = two_turns(&h, "gemini-3-pro-preview", json!({})).await;
    let model_turn = &sent["request"]["contents"][1];
    assert_eq!(model_turn["role"], "model");
    let sig = model_turn["parts"][0]["thoughtSignature"].as_str().unwrap();
    assert!(
        !DUMMY_SIGNATURES.contains(&sig),
        "restored the real signature, got {sig}"
    );
}

#[tokio::test]
async fn claude_thinking_tool_loops_replay_the_signed_thinking_block() {
    let h = Harness::start(&["a@x.com"]).await;
    let (_, sent) = two_turns(
        &h,
        "claude-sonnet-4-5-thinking",
        json!({"reasoning_effort": "medium"}),
    )
    .await;
    let model_turn = &sent["request"]["contents"][1];
    let first = &model_turn["parts"][0];
    assert_eq!(first["thought"], true, "{model_turn}");
    assert!(
        first["thoughtSignature"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert!(model_turn["parts"][1]["functionCall"].is_object());
}

#[tokio::test]
async fn without_the_store_the_strict_upstream_would_refuse() {
    // The control: the same replay with a signature the upstream never issued
    // is rejected, so the test above would fail if the gateway made one up.
    let h = Harness::start(&["a@x.com"]).await;
    h.fake.script(
        "a@x.com",
        vec![Behavior::function_call("lookup", json!({"q": "x"}))],
    );
    let body = json!({"model": "claude-sonnet-4-5-thinking", "reasoning_effort": "medium", "tools": tools(), "messages": [
        {"role": "user", "content": "find rust"},
        {"role": "assistant", "content": null, "reasoning_content": "thinking", "tool_calls": [{"id": "never-seen", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "never-seen", "content": "x"},
    ]});
    let res = h.post("/v1/chat/completions", body).send().await.unwrap();
    // Either the gateway drops the unsigned thinking (and turns thinking off for
    // the turn) and succeeds, or it is refused; it must never send a fake value.
    let status = res.status().as_u16();
    let sent = h.fake.generate_calls("a@x.com");
    if let Some(last) = sent.last() {
        let parts = &last.body.as_ref().unwrap()["request"]["contents"][1]["parts"];
        for part in parts.as_array().unwrap() {
            assert!(
                part.get("thoughtSignature").is_none(),
                "made-up signature sent: {part}"
            );
        }
    }
    assert!(status == 200 || status == 400, "{status}");
}
