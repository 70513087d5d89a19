//! Every Anthropic rejection rule, each next to a near-identical request that passes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::client;
use common::providers::*;
use serde_json::{Value, json};
use uplink_fake_upstream::{FakeUpstream, Family, Provider};

fn req(messages: Value) -> Value {
    json!({"model": "claude-sonnet-4-5", "max_tokens": 1024, "messages": messages})
}

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

/// Sends `bad` (expecting 400 with `message`) and `good` (expecting 200).
async fn rule(fake: &FakeUpstream, bad: Value, message: &str, good: Value) {
    let c = client();
    let r = messages(fake, &c, ANT_KEY, &bad).await;
    assert_eq!(r.status, 400, "{bad} → {}", r.body());
    let b = r.json();
    assert_eq!(b["error"]["type"], "invalid_request_error");
    assert_eq!(ant_message(&b), message, "{bad}");
    let r = messages(fake, &c, ANT_KEY, &good).await;
    assert_eq!(r.status, 200, "{good} → {}", r.body());
}

#[tokio::test]
async fn required_fields_and_extra_inputs() {
    let fake = fake_with_keys().await;
    let good = req(json!([user("hi")]));
    let mut bad = good.clone();
    bad.as_object_mut().unwrap().remove("max_tokens");
    rule(&fake, bad, "max_tokens: Field required", good.clone()).await;

    let mut bad = good.clone();
    bad.as_object_mut().unwrap().remove("model");
    rule(&fake, bad, "model: Field required", good.clone()).await;

    let mut bad = good.clone();
    bad["extra_body"] = json!({});
    rule(
        &fake,
        bad,
        "extra_body: Extra inputs are not permitted",
        good.clone(),
    )
    .await;

    let mut bad = good.clone();
    bad["max_tokens"] = json!(0);
    rule(
        &fake,
        bad,
        "max_tokens: Input should be greater than or equal to 1",
        good.clone(),
    )
    .await;

    rule(
        &fake,
        req(json!([])),
        "messages: at least one message is required",
        good.clone(),
    )
    .await;

    let mut bad = good.clone();
    bad["temperature"] = json!(1.5);
    let mut ok = good.clone();
    ok["temperature"] = json!(1.0);
    rule(
        &fake,
        bad,
        "temperature: Input should be less than or equal to 1",
        ok,
    )
    .await;
}

#[tokio::test]
async fn beta_fields_need_the_beta_header() {
    let fake = fake_with_keys().await;
    let c = client();
    let mut body = req(json!([user("hi")]));
    body["context_management"] = json!({"edits": []});
    let r = messages(&fake, &c, ANT_KEY, &body).await;
    assert_eq!(
        ant_message(&r.json()),
        "context_management: Extra inputs are not permitted"
    );
    let url = format!("{}/v1/messages", fake.anthropic_url());
    let h = [
        ("x-api-key", ANT_KEY),
        ("anthropic-version", "2023-06-01"),
        ("anthropic-beta", "context-management-2025-06-27"),
    ];
    assert_eq!(post(&c, &url, &h, &body).await.status, 200);
}

#[tokio::test]
async fn roles_and_content() {
    let fake = fake_with_keys().await;
    rule(
        &fake,
        req(json!([{"role": "system", "content": "x"}])),
        "messages.0.role: Input should be 'user' or 'assistant'",
        req(json!([user("x")])),
    )
    .await;
    // Consecutive turns of one role are accepted (the API combines them), as is a
    // conversation that ends with an assistant prefill.
    rule(
        &fake,
        req(json!([user("a"), user("")])),
        "messages.1: all messages must have non-empty content except for the optional final \
         assistant message",
        req(json!([user("a"), user("b"), {"role": "assistant", "content": ""}])),
    )
    .await;
    rule(
        &fake,
        req(json!([{"role": "user", "content": [{"type": "text", "text": ""}]}])),
        "messages: text content blocks must be non-empty",
        req(json!([{"role": "user", "content": [{"type": "text", "text": "x"}]}])),
    )
    .await;
    rule(
        &fake,
        req(json!([{"role": "user", "content": "x", "name": "bob"}])),
        "messages.0.name: Extra inputs are not permitted",
        req(json!([{"role": "user", "content": "x"}])),
    )
    .await;
}

#[tokio::test]
async fn block_tags_and_fields() {
    let fake = fake_with_keys().await;
    let bad = req(json!([{"role": "user", "content": [{"type": "input_text", "text": "x"}]}]));
    let c = client();
    let r = messages(&fake, &c, ANT_KEY, &bad).await;
    assert_eq!(r.status, 400);
    assert!(
        ant_message(&r.json()).starts_with(
            "messages.0.content.0: Input tag 'input_text' found using 'type' does not match any \
             of the expected tags: 'text', 'image'"
        ),
        "{}",
        r.body()
    );
    rule(
        &fake,
        req(json!([{"role": "user", "content": [
            {"type": "text", "text": "x", "cache_control": {"type": "ephemeral", "scope": "g"}}]}])),
        "messages.0.content.0.text.cache_control.ephemeral.scope: Extra inputs are not permitted",
        req(json!([{"role": "user", "content": [
            {"type": "text", "text": "x", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}])),
    )
    .await;
    rule(
        &fake,
        req(json!([user("x"), {"role": "assistant", "content": [
            {"type": "text", "text": "y"},
            {"type": "tool_use", "id": "t1", "name": "f", "input": {}, "text": "z"}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1"}]}])),
        "messages.1.content.1.tool_use.text: Extra inputs are not permitted",
        req(json!([user("x"), {"role": "assistant", "content": [
            {"type": "text", "text": "y"},
            {"type": "tool_use", "id": "t1", "name": "f", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1"}]}])),
    )
    .await;
    let img = |mt: &str| {
        req(json!([{"role": "user", "content": [{"type": "image",
            "source": {"type": "base64", "media_type": mt, "data": "aGk="}}]}]))
    };
    rule(
        &fake,
        img("image/bmp"),
        "messages.0.content.0.image.source.base64.media_type: Input should be 'image/jpeg', \
         'image/png', 'image/gif' or 'image/webp'",
        img("image/png"),
    )
    .await;
    let mut bad_system = req(json!([user("x")]));
    bad_system["system"] = json!([{"type": "image", "source": {}}]);
    let mut good_system = req(json!([user("x")]));
    good_system["system"] = json!([{"type": "text", "text": "be brief"}]);
    rule(
        &fake,
        bad_system,
        "system.0: Input tag 'image' found using 'type' does not match any of the expected tags: \
         'text'",
        good_system,
    )
    .await;
}

fn call(ids: &[&str]) -> Value {
    let blocks: Vec<Value> = ids
        .iter()
        .map(|id| json!({"type": "tool_use", "id": id, "name": "f", "input": {}}))
        .collect();
    json!({"role": "assistant", "content": blocks})
}

fn results(ids: &[&str]) -> Value {
    let blocks: Vec<Value> = ids
        .iter()
        .map(|id| json!({"type": "tool_result", "tool_use_id": id, "content": "r"}))
        .collect();
    json!({"role": "user", "content": blocks})
}

#[tokio::test]
async fn tool_use_and_tool_result_pair() {
    let fake = fake_with_keys().await;
    rule(
        &fake,
        req(json!([user("x"), call(&["t1", "t2"]), results(&["t1"])])),
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: \
         t2. Each `tool_use` block must have a corresponding `tool_result` block in the next \
         message.",
        req(json!([
            user("x"),
            call(&["t1", "t2"]),
            results(&["t1", "t2"])
        ])),
    )
    .await;
    rule(
        &fake,
        req(json!([user("x"), call(&["t1"]), results(&["t9"])])),
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: \
         t1. Each `tool_use` block must have a corresponding `tool_result` block in the next \
         message.",
        req(json!([user("x"), call(&["t1"]), results(&["t1"])])),
    )
    .await;
    rule(
        &fake,
        req(json!([results(&["t1"])])),
        "messages.0.content.0: unexpected `tool_use_id` found in `tool_result` blocks: t1. Each \
         `tool_result` block must have a corresponding `tool_use` block in the previous message.",
        req(json!([user("x"), call(&["t1"]), results(&["t1"])])),
    )
    .await;
}

#[tokio::test]
async fn tool_definitions() {
    let fake = fake_with_keys().await;
    let with_tools = |tools: Value| {
        let mut b = req(json!([user("x")]));
        b["tools"] = tools;
        b
    };
    rule(
        &fake,
        with_tools(json!([{"name": "f", "input_schema": {"type": "string"}}])),
        "tools.0.custom.input_schema.type: Input should be 'object'",
        with_tools(json!([{"name": "f", "input_schema": {"type": "object"}}])),
    )
    .await;
    rule(
        &fake,
        with_tools(json!([{"name": "f", "input_schema": {"properties": {}}}])),
        "tools.0.custom.input_schema.type: Field required",
        with_tools(json!([{"name": "f", "input_schema": {"type": "object", "properties": {}}}])),
    )
    .await;
    rule(
        &fake,
        with_tools(json!([{"name": "f"}])),
        "tools.0.custom.input_schema: Field required",
        with_tools(json!([{"name": "f", "input_schema": {"type": "object"}}])),
    )
    .await;
    rule(
        &fake,
        with_tools(json!([{"name": "f", "input_schema": {"type": "object"}, "parameters": {}}])),
        "tools.0.custom.parameters: Extra inputs are not permitted",
        with_tools(
            json!([{"type": "custom", "name": "f", "input_schema": {"type": "object"}},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 2}]),
        ),
    )
    .await;
    rule(
        &fake,
        with_tools(json!([{"name": "f", "input_schema": {"type": "object"}},
            {"name": "f", "input_schema": {"type": "object"}}])),
        "tools: Tool names must be unique.",
        with_tools(json!([{"name": "f", "input_schema": {"type": "object"}},
            {"name": "g", "input_schema": {"type": "object"}}])),
    )
    .await;
}

fn thinking_req(budget: i64, max_tokens: i64, messages: Value) -> Value {
    json!({"model": "claude-sonnet-4-5", "max_tokens": max_tokens, "messages": messages,
        "thinking": {"type": "enabled", "budget_tokens": budget}})
}

#[tokio::test]
async fn thinking_budget_rules() {
    let fake = fake_with_keys().await;
    let m = json!([user("x")]);
    rule(
        &fake,
        thinking_req(1023, 4096, m.clone()),
        "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
        thinking_req(1024, 4096, m.clone()),
    )
    .await;
    rule(
        &fake,
        thinking_req(4096, 4096, m.clone()),
        "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our \
         documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size",
        thinking_req(4095, 4096, m.clone()),
    )
    .await;
    let mut bad = req(m.clone());
    bad["thinking"] = json!({"type": "on"});
    let mut good = req(m);
    good["thinking"] = json!({"type": "disabled"});
    rule(
        &fake,
        bad,
        "thinking: Input tag 'on' found using 'type' does not match any of the expected tags: \
         'enabled', 'disabled', 'adaptive'",
        good,
    )
    .await;
}

#[tokio::test]
async fn thinking_blocks_need_a_signature_this_provider_issued() {
    let fake = fake_with_keys().await;
    let turn = |block: Value| {
        json!([user("x"), {"role": "assistant", "content": [block, {"type": "text", "text": "y"}]},
            user("z")])
    };
    let mine = fake.issue_provider_signature(Provider::Anthropic);
    rule(
        &fake,
        req(turn(json!({"type": "thinking", "thinking": "t"}))),
        "messages.1.content.0.thinking.signature: Field required",
        req(turn(
            json!({"type": "thinking", "thinking": "t", "signature": mine}),
        )),
    )
    .await;
    // Cloud Code's Claude signatures and made-up ones are foreign here.
    for foreign in [fake.issue_signature(Family::Claude), "c2ln".to_string()] {
        rule(
            &fake,
            req(turn(
                json!({"type": "thinking", "thinking": "t", "signature": foreign}),
            )),
            "messages.1.content.0: Invalid `signature` in `thinking` block",
            req(turn(
                json!({"type": "thinking", "thinking": "t", "signature": mine}),
            )),
        )
        .await;
    }
}

#[tokio::test]
async fn with_thinking_the_tool_loop_starts_with_thinking() {
    let fake = fake_with_keys().await;
    let sig = fake.issue_provider_signature(Provider::Anthropic);
    let tool_use = json!({"type": "tool_use", "id": "t1", "name": "f", "input": {}});
    let loop_with = |first: Vec<Value>| {
        thinking_req(
            2048,
            4096,
            json!([user("x"), {"role": "assistant", "content": first}, results(&["t1"])]),
        )
    };
    rule(
        &fake,
        loop_with(vec![tool_use.clone()]),
        "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found \
         `tool_use`. When `thinking` is enabled, a final `assistant` message must start with a \
         thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We \
         recommend you include thinking blocks from previous turns. To avoid this requirement, \
         disable `thinking`. Please consult our documentation at \
         https://docs.claude.com/en/docs/build-with-claude/extended-thinking",
        loop_with(vec![
            json!({"type": "thinking", "thinking": "t", "signature": sig}),
            tool_use,
        ]),
    )
    .await;
}
