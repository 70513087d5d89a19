//! API-key providers in the pool, against the strict fake's provider APIs:
//! dispatch modes, key failures, and cross-protocol translation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::Harness;
use uplink_fake_upstream::{Behavior, FakeUpstream, Provider};

/// A harness whose config adds one provider of `kind` at the fake, with keys
/// `k1`, `k2`… labelled the same.
async fn with_provider(cloud: &[&str], kind: &str, keys: usize, extra: &str) -> Harness {
    let fake = FakeUpstream::start().await.unwrap();
    let provider = match kind {
        "anthropic" => Provider::Anthropic,
        "openai" => Provider::OpenAi,
        _ => Provider::Gemini,
    };
    let labels: Vec<String> = (1..=keys).map(|i| format!("k{i}")).collect();
    for label in &labels {
        fake.add_api_key(provider, label, label);
    }
    let keys_toml: Vec<String> = labels.iter().map(|l| format!("{l:?}")).collect();
    let toml = format!(
        "[[providers]]\nid = \"p\"\nkind = \"{kind}\"\nbase_url = {:?}\napi_keys = [{}]\n{extra}\n",
        fake.provider_url(provider),
        keys_toml.join(", "),
    );
    let endpoints = vec![fake.cloudcode_url()];
    Harness::start_on(fake, cloud, &endpoints, &toml).await
}

fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

async fn served_by(h: &Harness, body: Value) -> (u16, String, Value) {
    let res = h.post("/v1/chat/completions", body).send().await.unwrap();
    let status = res.status().as_u16();
    let account = res
        .headers()
        .get("x-account-email")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (status, account, body)
}

#[tokio::test]
async fn a_gemini_provider_serves_with_no_cloud_code_account() {
    let h = with_provider(&[], "gemini", 1, "models = [\"gemini-2.5-flash\"]").await;
    let (status, account, body) = served_by(&h, chat("gemini-2.5-flash")).await;
    assert_eq!((status, account.as_str()), (200, "p#1"), "{body}");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Hello from gemini-2.5-flash. You said: hi"
    );
    assert_eq!(h.fake.provider_calls(Provider::Gemini, "k1").len(), 1);
}

#[tokio::test]
async fn an_invalid_key_is_disabled_and_skipped() {
    let h = with_provider(
        &[],
        "gemini",
        2,
        "models = [\"gemini-2.5-flash\"]\n[scheduling]\nmode = \"round_robin\"",
    )
    .await;
    h.fake.revoke_api_key("k1");
    for _ in 0..4 {
        let (status, account, _) = served_by(&h, chat("gemini-2.5-flash")).await;
        assert_eq!((status, account.as_str()), (200, "p#2"));
    }
    assert_eq!(
        h.fake.provider_calls(Provider::Gemini, "k1").len(),
        1,
        "tried once, then disabled"
    );
}

#[tokio::test]
async fn fallback_serves_when_every_cloud_code_account_is_exhausted() {
    let h = with_provider(
        &["a@x.com"],
        "gemini",
        1,
        "models = [\"gemini-2.5-*\"]\ndispatch = \"fallback\"",
    )
    .await;
    // Healthy Cloud Code first: the provider is not used.
    assert_eq!(served_by(&h, chat("gemini-2.5-flash")).await.1, "a@x.com");
    h.fake
        .set_default_behavior("a@x.com", Some(Behavior::quota_exhausted("1h")));
    for _ in 0..2 {
        let (status, account, _) = served_by(&h, chat("gemini-2.5-flash")).await;
        assert_eq!((status, account.as_str()), (200, "p#1"));
    }
}

#[tokio::test]
async fn exclusive_replaces_the_pool_and_off_is_ignored() {
    let h = with_provider(
        &["a@x.com"],
        "gemini",
        1,
        "models = [\"gemini-2.5-pro\"]\ndispatch = \"exclusive\"",
    )
    .await;
    assert_eq!(served_by(&h, chat("gemini-2.5-pro")).await.1, "p#1");
    assert_eq!(
        served_by(&h, chat("gemini-2.5-flash")).await.1,
        "a@x.com",
        "other models stay on Cloud Code"
    );
    assert_eq!(h.generate_calls("a@x.com"), 1);

    let h = with_provider(
        &["a@x.com"],
        "gemini",
        1,
        "models = [\"gemini-2.5-pro\"]\ndispatch = \"off\"",
    )
    .await;
    assert_eq!(served_by(&h, chat("gemini-2.5-pro")).await.1, "a@x.com");
}

#[tokio::test]
async fn pooled_keys_rotate_with_the_cloud_code_accounts() {
    let h = with_provider(
        &["a@x.com"],
        "gemini",
        1,
        "models = [\"gemini-2.5-flash\"]\n[scheduling]\nmode = \"round_robin\"",
    )
    .await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..6 {
        seen.insert(served_by(&h, chat("gemini-2.5-flash")).await.1);
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
}

fn sse_events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|f| !f.trim().is_empty())
        .map(|frame| {
            let name = frame
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or("")
                .to_owned();
            let data = frame
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap_or("null");
            (name, serde_json::from_str(data).unwrap_or(Value::Null))
        })
        .collect()
}

#[tokio::test]
async fn an_anthropic_client_through_an_anthropic_provider_with_a_tool_round_trip() {
    let h = with_provider(
        &[],
        "anthropic",
        1,
        "models = [\"claude-*\"]\nmapping = { \"claude-*\" = \"glm-4.6\" }",
    )
    .await;
    h.fake.script(
        "k1",
        vec![Behavior::function_call("Bash", json!({"command": "ls"}))],
    );
    let tools = json!([{"name": "Bash", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}]);
    let first = json!({"model": "claude-sonnet-4-5", "max_tokens": 1024, "stream": true, "tools": tools, "messages": [{"role": "user", "content": "list"}]});
    let res = h.post("/v1/messages", first.clone()).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-mapped-model"], "glm-4.6");
    let ev = sse_events(&res.text().await.unwrap());
    let tool = ev
        .iter()
        .find(|(n, d)| n == "content_block_start" && d["content_block"]["type"] == "tool_use")
        .unwrap()
        .1["content_block"]
        .clone();
    assert_eq!(ev.last().unwrap().0, "message_stop");

    let mut second = first;
    second["messages"] = json!([
        {"role": "user", "content": "list"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": tool["id"], "name": "Bash", "input": {"command": "ls"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool["id"], "content": "a.txt"}]},
    ]);
    let res = h.post("/v1/messages", second).send().await.unwrap();
    let status = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    let text: String = sse_events(&body)
        .iter()
        .filter(|(_, d)| d["delta"]["type"] == "text_delta")
        .map(|(_, d)| d["delta"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert!(text.starts_with("Hello from glm-4.6"), "{body}");
    let sent = h
        .fake
        .provider_calls(Provider::Anthropic, "k1")
        .last()
        .unwrap()
        .body
        .clone()
        .unwrap();
    assert_eq!(sent["model"], "glm-4.6");
    assert_eq!(sent["messages"][2]["content"][0]["type"], "tool_result");
}

#[tokio::test]
async fn an_anthropic_client_through_an_openai_provider() {
    let h = with_provider(
        &[],
        "openai",
        1,
        "models = [\"claude-*\"]\nmapping = { \"claude-*\" = \"qwen3\" }",
    )
    .await;
    let body = json!({"model": "claude-sonnet-4-5", "max_tokens": 256, "system": "Be brief.", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let res = h.post("/v1/messages", body).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let ev = sse_events(&res.text().await.unwrap());
    let text: String = ev
        .iter()
        .filter(|(_, d)| d["delta"]["type"] == "text_delta")
        .map(|(_, d)| d["delta"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(text, "Hello from qwen3. You said: hi");
    assert_eq!(
        ev.iter().find(|(n, _)| n == "message_delta").unwrap().1["delta"]["stop_reason"],
        "end_turn"
    );
    let sent = h.fake.provider_calls(Provider::OpenAi, "k1")[0]
        .body
        .clone()
        .unwrap();
    assert_eq!(sent["messages"][0]["role"], "system");
    assert_eq!(sent["stream"], true);
}

#[tokio::test]
async fn an_openai_client_tool_call_through_an_openai_provider() {
    let h = with_provider(&[], "openai", 1, "models = [\"gpt-*\"]").await;
    h.fake.script(
        "k1",
        vec![Behavior::function_call(
            "get_weather",
            json!({"city": "Paris"}),
        )],
    );
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]);
    let (status, _, body) = served_by(&h, json!({"model": "gpt-4o", "tools": tools, "messages": [{"role": "user", "content": "weather?"}]})).await;
    assert_eq!(status, 200, "{body}");
    let call = &body["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(
        serde_json::from_str::<Value>(call["function"]["arguments"].as_str().unwrap()).unwrap(),
        json!({"city": "Paris"})
    );
}

#[tokio::test]
async fn provider_errors_map_to_cooldowns_and_disabled_keys() {
    let h = with_provider(
        &[],
        "anthropic",
        3,
        "models = [\"claude-*\"]\n[scheduling]\nmode = \"round_robin\"",
    )
    .await;
    let msg = json!({"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]});
    h.fake
        .set_default_behavior("k1", Some(Behavior::RateLimited));
    h.fake.set_default_behavior("k2", Some(Behavior::Capacity));
    h.fake.revoke_api_key("k3");
    let res = h.post("/v1/messages", msg.clone()).send().await.unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 429, "a rate limit is retryable later: {body}");
    assert_eq!(body["type"], "error");
    let msg_text = body["error"]["message"].as_str().unwrap();
    assert!(
        msg_text.contains("p#1") && msg_text.contains("p#2") && msg_text.contains("p#3"),
        "{msg_text}"
    );

    // The refused key is disabled for good; the others only cool down.
    h.fake.set_default_behavior("k1", None);
    h.fake.set_default_behavior("k2", None);
    h.fake.restore_api_key("k3");
    let res = h.post("/v1/messages", msg).send().await.unwrap();
    assert_ne!(
        res.status(),
        200,
        "k1 and k2 are still cooling, k3 is disabled"
    );
    assert_eq!(h.fake.provider_calls(Provider::Anthropic, "k3").len(), 1);
}

#[tokio::test]
async fn count_tokens_is_forwarded_to_an_anthropic_provider() {
    let h = with_provider(&["a@x.com"], "anthropic", 1, "models = [\"claude-*\"]").await;
    let body = json!({
        "model": "claude-sonnet-4-5",
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "count these words for me please"}],
        "tools": [{"name": "t", "input_schema": {"type": "object", "properties": {}}}],
    });
    let res = h
        .post("/v1/messages/count_tokens", body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let counted: Value = res.json().await.unwrap();
    assert!(counted["input_tokens"].as_u64().unwrap() > 0, "{counted}");
    let calls: Vec<_> = h
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/v1/messages/count_tokens"))
        .collect();
    assert_eq!(calls.len(), 1, "asked the provider");
    assert_eq!(calls[0].status, 200, "the provider accepted the body");
    assert_eq!(
        h.fake.call_count(Some("a@x.com"), "countTokens"),
        0,
        "not Cloud Code"
    );
}
