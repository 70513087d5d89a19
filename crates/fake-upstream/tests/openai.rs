//! The OpenAI-compatible API through real sockets: completions, exact chunk streams
//! (usage, reasoning, tool-call fragments), models, authentication, scripted failures and
//! recording per key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::client;
use common::providers::*;
use serde_json::{Value, json};
use uplink_fake_upstream::{Behavior, Provider, ScriptedCall};

fn hello(extra: Value) -> Value {
    let mut body = json!({"model": "gpt-4o", "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "ping"}]});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    body
}

#[tokio::test]
async fn completion_has_the_real_shape() {
    let fake = fake_with_keys().await;
    let r = chat(&fake, &client(), OAI_KEY, &hello(json!({}))).await;
    assert_eq!(r.status, 200, "{}", r.body());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let mut b = r.json();
    assert!(b["id"].take().as_str().unwrap().starts_with("chatcmpl-"));
    assert!(b["created"].take().as_u64().unwrap() > 1_700_000_000);
    assert_eq!(
        b,
        json!({"id": null, "object": "chat.completion", "created": null, "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant",
                "content": "Hello from gpt-4o. You said: ping", "refusal": null,
                "annotations": []}, "logprobs": null, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0}},
            "service_tier": "default", "system_fingerprint": "fp_fake"})
    );
}

#[tokio::test]
async fn stream_framing_is_exact_and_usage_is_honoured() {
    let fake = fake_with_keys().await;
    let c = client();
    let r = chat(&fake, &c, OAI_KEY, &hello(json!({"stream": true}))).await;
    assert_eq!(
        r.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    let (chunks, done) = openai_events(r.body());
    assert!(done, "ends with [DONE]");
    assert_eq!(chunks.len(), 4);
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    assert_eq!(
        chunks[0]["choices"],
        json!([{"index": 0, "delta": {"role": "assistant", "content": "", "refusal": null},
            "logprobs": null, "finish_reason": null}])
    );
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello from gpt-4o. You said: ping");
    assert_eq!(
        chunks[3]["choices"],
        json!([{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop"}])
    );

    let with_usage = hello(json!({"stream": true, "stream_options": {"include_usage": true}}));
    let (chunks, done) = openai_events(chat(&fake, &c, OAI_KEY, &with_usage).await.body());
    assert!(done);
    assert_eq!(chunks.len(), 5);
    assert!(chunks[..4].iter().all(|c| c["usage"].is_null()));
    assert_eq!(chunks[4]["choices"], json!([]));
    assert_eq!(chunks[4]["usage"]["total_tokens"], 12);
}

#[tokio::test]
async fn tool_calls_stream_in_fragments_by_index() {
    let fake = fake_with_keys().await;
    let c = client();
    fake.script(
        OAI,
        vec![Behavior::FunctionCalls(vec![
            ScriptedCall {
                name: "get_weather".into(),
                args: json!({"city": "Paris"}),
            },
            ScriptedCall {
                name: "get_time".into(),
                args: json!({"tz": "UTC"}),
            },
        ])],
    );
    let tools = json!([
        {"type": "function", "function": {"name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
        {"type": "function", "function": {"name": "get_time"}}]);
    let body = hello(json!({"stream": true, "tools": tools}));
    let (chunks, _) = openai_events(chat(&fake, &c, OAI_KEY, &body).await.body());
    let deltas: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"].get("tool_calls"))
        .collect();
    // Per call: id+name with empty arguments, then two argument pieces.
    assert_eq!(deltas.len(), 6);
    assert_eq!(deltas[0][0]["index"], 0);
    assert_eq!(
        deltas[0][0]["function"],
        json!({"name": "get_weather", "arguments": ""})
    );
    assert!(deltas[1][0].get("id").is_none());
    let mut args = [String::new(), String::new()];
    let mut ids = [String::new(), String::new()];
    for d in &deltas {
        let i = d[0]["index"].as_u64().unwrap() as usize;
        if let Some(id) = d[0]["id"].as_str() {
            ids[i] = id.to_string();
        }
        args[i].push_str(d[0]["function"]["arguments"].as_str().unwrap());
    }
    assert_eq!(
        serde_json::from_str::<Value>(&args[0]).unwrap(),
        json!({"city": "Paris"})
    );
    assert_eq!(
        serde_json::from_str::<Value>(&args[1]).unwrap(),
        json!({"tz": "UTC"})
    );
    let finish = &chunks[chunks.len() - 1]["choices"][0]["finish_reason"];
    assert_eq!(finish, "tool_calls");
    // The answers go back as tool messages and are accepted.
    let follow = json!({"model": "gpt-4o", "tools": tools, "messages": [
        {"role": "user", "content": "ping"},
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": ids[0], "type": "function",
                "function": {"name": "get_weather", "arguments": args[0]}},
            {"id": ids[1], "type": "function",
                "function": {"name": "get_time", "arguments": args[1]}}]},
        {"role": "tool", "tool_call_id": ids[1], "content": "noon"},
        {"role": "tool", "tool_call_id": ids[0], "content": "sunny"}]});
    let r = chat(&fake, &c, OAI_KEY, &follow).await;
    assert_eq!(r.status, 200, "{}", r.body());
}

#[tokio::test]
async fn non_stream_tool_calls_and_reasoning_content() {
    let fake = fake_with_keys().await;
    let c = client();
    fake.script(
        OAI,
        vec![
            Behavior::function_call("f", json!({"a": 1})),
            Behavior::Thinking {
                thought: "let me see".into(),
                answer: "42".into(),
            },
            Behavior::Thinking {
                thought: "let me see".into(),
                answer: "42".into(),
            },
        ],
    );
    let m = chat(&fake, &c, OAI_KEY, &hello(json!({}))).await.json();
    let msg = &m["choices"][0]["message"];
    assert_eq!(msg["content"], Value::Null);
    assert_eq!(
        msg["tool_calls"][0]["function"],
        json!({"name": "f", "arguments": "{\"a\":1}"})
    );
    assert_eq!(m["choices"][0]["finish_reason"], "tool_calls");

    let m = chat(&fake, &c, OAI_KEY, &hello(json!({}))).await.json();
    assert_eq!(
        m["choices"][0]["message"]["reasoning_content"],
        "let me see"
    );
    assert_eq!(m["choices"][0]["message"]["content"], "42");
    assert_eq!(
        m["usage"]["completion_tokens_details"]["reasoning_tokens"],
        3
    );

    let (chunks, _) = openai_events(
        chat(&fake, &c, OAI_KEY, &hello(json!({"stream": true})))
            .await
            .body(),
    );
    let reasoning: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["reasoning_content"].as_str())
        .collect();
    assert_eq!(reasoning, "let me see");
    assert_eq!(chunks[3]["choices"][0]["delta"], json!({"content": "42"}));
}

#[tokio::test]
async fn models_lists_the_served_models() {
    let fake = fake_with_keys().await;
    let c = client();
    let get = |url: String| {
        let c = c.clone();
        async move {
            c.get(url)
                .bearer_auth(OAI_KEY)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let list = get(format!("{}/models", fake.openai_url())).await;
    assert_eq!(list["object"], "list");
    assert_eq!(list["data"][0]["id"], "gpt-4o");
    fake.set_provider_models(Provider::OpenAi, Some(vec!["deepseek-reasoner".into()]));
    let list = get(format!("{}/models", fake.openai_url())).await;
    assert_eq!(
        list["data"],
        json!([{"id": "deepseek-reasoner", "object": "model", "created": 1_700_000_000,
            "owned_by": "system"}])
    );
    let r = chat(&fake, &c, OAI_KEY, &hello(json!({}))).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({"error": {"message": "The model `gpt-4o` does not exist or you do not have access to it.",
            "type": "invalid_request_error", "param": null, "code": "model_not_found"}})
    );
}

#[tokio::test]
async fn authentication_failures() {
    let fake = fake_with_keys().await;
    let c = client();
    let url = format!("{}/chat/completions", fake.openai_url());
    let r = post(&c, &url, &[], &hello(json!({}))).await;
    assert_eq!(r.status, 401);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("You didn't provide an API key.")
    );
    let r = chat(&fake, &c, "sk-wrong-key-123456", &hello(json!({}))).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({"error": {"message": "Incorrect API key provided: sk-************3456. You can find your API key at https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}})
    );
    // x-api-key is not OpenAI's header.
    let r = post(&c, &url, &[("x-api-key", OAI_KEY)], &hello(json!({}))).await;
    assert_eq!(r.status, 401);
    let r = post(
        &c,
        &format!("{}/completions", fake.openai_url()),
        &[],
        &json!({}),
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json()["error"]["message"],
        "Invalid URL (POST /v1/completions)"
    );
}

async fn scripted(behavior: Behavior, stream: bool) -> Reply {
    let fake = fake_with_keys().await;
    fake.script(OAI, vec![behavior]);
    chat(&fake, &client(), OAI_KEY, &hello(json!({"stream": stream}))).await
}

#[tokio::test]
async fn scripted_failures_have_openai_shapes() {
    let r = scripted(Behavior::RateLimited, true).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("1"));
    let e = &r.json()["error"];
    assert_eq!(
        (e["type"].clone(), e["code"].clone()),
        (json!("requests"), json!("rate_limit_exceeded"))
    );

    let r = scripted(Behavior::quota_exhausted("1h"), false).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.json()["error"]["code"], "insufficient_quota");
    assert_eq!(r.header("retry-after"), None);

    for (code, message) in [
        (
            500,
            "The server had an error while processing your request. Sorry about that!",
        ),
        (
            503,
            "The engine is currently overloaded, please try again later",
        ),
    ] {
        let r = scripted(Behavior::ServerError(code), false).await;
        assert_eq!(r.status, code);
        assert_eq!(
            r.json(),
            json!({"error": {"message": message, "type": "server_error", "param": null, "code": null}})
        );
    }
    let r = scripted(Behavior::Capacity, false).await;
    assert_eq!(r.status, 503);
    let r = scripted(Behavior::Unauthorized, false).await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].clone()),
        (401, json!("invalid_api_key"))
    );
}

#[tokio::test]
async fn stream_cut_and_error_payload_mid_stream() {
    let r = scripted(Behavior::CutAfter(3), true).await;
    assert_eq!(r.status, 200);
    assert!(r.text.is_err(), "the connection is cut");

    let r = scripted(Behavior::stream_error(3, 500), true).await;
    let (chunks, done) = openai_events(r.body());
    assert!(!done, "no [DONE] after an error");
    assert_eq!(chunks.len(), 4);
    assert_eq!(
        chunks[3],
        json!({"error": {"message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error", "param": null, "code": null}})
    );
    let r = scripted(Behavior::stream_error(3, 500), false).await;
    assert_eq!(r.status, 500);
}

#[tokio::test]
async fn calls_are_recorded_per_key() {
    let fake = fake_with_keys().await;
    let c = client();
    fake.set_default_behavior(OAI_KEY, Some(Behavior::ServerError(502)));
    assert_eq!(
        chat(&fake, &c, OAI_KEY, &hello(json!({}))).await.status,
        502
    );
    fake.set_default_behavior(OAI, None);
    assert_eq!(
        chat(&fake, &c, OAI_KEY, &hello(json!({}))).await.status,
        200
    );
    let calls = fake.provider_calls(Provider::OpenAi, OAI);
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].endpoint, "chat/completions");
    assert_eq!(calls[0].path, "/openai/v1/chat/completions");
    assert_eq!((calls[0].status, calls[1].status), (502, 200));
    assert_eq!(
        calls[1].header("authorization"),
        Some(format!("Bearer {OAI_KEY}").as_str())
    );
    assert!(fake.provider_calls(Provider::Anthropic, OAI).is_empty());
}
