//! The Anthropic-compatible API through real sockets: answers (Message and exact SSE),
//! thinking with signatures, tool use, count_tokens, authentication, scripted failures and
//! recording per key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::client;
use common::providers::*;
use serde_json::{Value, json};
use uplink_fake_upstream::{Behavior, Provider, ScriptedCall};

fn hello(extra: Value) -> Value {
    let mut body = json!({"model": "claude-sonnet-4-5", "max_tokens": 1024,
        "messages": [{"role": "user", "content": "ping"}]});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    body
}

#[tokio::test]
async fn message_has_the_real_shape() {
    let fake = fake_with_keys().await;
    let c = client();
    let r = messages(&fake, &c, ANT_KEY, &hello(json!({}))).await;
    assert_eq!(r.status, 200, "{}", r.body());
    assert!(r.header("request-id").unwrap().starts_with("req_"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let mut m = r.json();
    let id = m["id"].take();
    assert!(id.as_str().unwrap().starts_with("msg_"));
    assert_eq!(
        m,
        json!({"id": null, "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "Hello from claude-sonnet-4-5. You said: ping"}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 1, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0, "output_tokens": 11}})
    );
}

#[tokio::test]
async fn stream_framing_is_exact() {
    let fake = fake_with_keys().await;
    let c = client();
    let r = messages(&fake, &c, ANT_KEY, &hello(json!({"stream": true}))).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    let events = anthropic_events(r.body());
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let start = &events[0].1["message"];
    assert_eq!(start["content"], json!([]));
    assert_eq!(start["stop_reason"], Value::Null);
    assert_eq!(start["usage"]["input_tokens"], 1);
    assert_eq!(
        events[1].1,
        json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "text", "text": ""}})
    );
    let text: String = events
        .iter()
        .filter(|(n, _)| n == "content_block_delta")
        .map(|(_, v)| v["delta"]["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(text, "Hello from claude-sonnet-4-5. You said: ping");
    assert_eq!(
        events[6].1,
        json!({"type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": null},
            "usage": {"output_tokens": 11}})
    );
}

#[tokio::test]
async fn thinking_comes_signed_and_the_signature_replays() {
    let fake = fake_with_keys().await;
    let c = client();
    let thinking = json!({"type": "enabled", "budget_tokens": 2048});
    let r = messages(
        &fake,
        &c,
        ANT_KEY,
        &hello(json!({"thinking": thinking, "stream": true, "max_tokens": 4096})),
    )
    .await;
    let events = anthropic_events(r.body());
    assert_eq!(
        events[1].1["content_block"],
        json!({"type": "thinking", "thinking": "", "signature": ""})
    );
    let sig = events
        .iter()
        .find(|(_, v)| v["delta"]["type"] == "signature_delta")
        .map(|(_, v)| v["delta"]["signature"].as_str().unwrap().to_string())
        .unwrap();
    let thought: String = events
        .iter()
        .filter(|(_, v)| v["delta"]["type"] == "thinking_delta")
        .map(|(_, v)| v["delta"]["thinking"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(thought, "Thinking about: ping");
    // The signed block goes back in the next turn and is accepted.
    let next = json!({"model": "claude-sonnet-4-5", "max_tokens": 4096, "thinking": thinking,
        "messages": [
            {"role": "user", "content": "ping"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": thought, "signature": sig},
                {"type": "text", "text": "pong"}]},
            {"role": "user", "content": "again"}]});
    let r = messages(&fake, &c, ANT_KEY, &next).await;
    assert_eq!(r.status, 200, "{}", r.body());
    let m = r.json();
    assert_eq!(m["content"][0]["type"], "thinking");
    assert!(!m["content"][0]["signature"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn scripted_tool_use_streams_input_json_and_the_result_is_accepted() {
    let fake = fake_with_keys().await;
    let c = client();
    fake.script(
        ANT,
        vec![Behavior::FunctionCalls(vec![
            ScriptedCall {
                name: "get_weather".into(),
                args: json!({"city": "Paris"}),
            },
            ScriptedCall {
                name: "get_time".into(),
                args: json!({}),
            },
        ])],
    );
    let tools = json!([
        {"name": "get_weather", "input_schema": {"type": "object",
            "properties": {"city": {"type": "string"}}}},
        {"name": "get_time", "input_schema": {"type": "object"}}]);
    let r = messages(
        &fake,
        &c,
        ANT_KEY,
        &hello(json!({"tools": tools, "stream": true})),
    )
    .await;
    let events = anthropic_events(r.body());
    let starts: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| n == "content_block_start")
        .map(|(_, v)| &v["content_block"])
        .collect();
    assert_eq!(starts.len(), 2);
    assert_eq!(starts[0]["name"], "get_weather");
    assert_eq!(starts[0]["input"], json!({}));
    let partial: String = events
        .iter()
        .filter(|(_, v)| v["index"] == 0 && v["delta"]["type"] == "input_json_delta")
        .map(|(_, v)| v["delta"]["partial_json"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&partial).unwrap(),
        json!({"city": "Paris"})
    );
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    let ids: Vec<String> = starts
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let follow = json!({"model": "claude-sonnet-4-5", "max_tokens": 1024, "tools": tools,
        "messages": [
            {"role": "user", "content": "ping"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": ids[0], "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": ids[1], "name": "get_time", "input": {}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": ids[0], "content": "sunny"},
                {"type": "tool_result", "tool_use_id": ids[1],
                    "content": [{"type": "text", "text": "noon"}]}]}]});
    let r = messages(&fake, &c, ANT_KEY, &follow).await;
    assert_eq!(r.status, 200, "{}", r.body());
    assert_eq!(r.json()["stop_reason"], "end_turn");
}

#[tokio::test]
async fn count_tokens_needs_no_max_tokens() {
    let fake = fake_with_keys().await;
    let c = client();
    let url = format!("{}/v1/messages/count_tokens", fake.anthropic_url());
    let body = json!({"model": "claude-sonnet-4-5", "system": "be brief",
        "messages": [{"role": "user", "content": "hello there"}]});
    let h = [("x-api-key", ANT_KEY), ("anthropic-version", "2023-06-01")];
    let r = post(&c, &url, &h, &body).await;
    assert_eq!(r.status, 200, "{}", r.body());
    assert_eq!(r.json(), json!({"input_tokens": 5}));
    let r = post(&c, &url, &h, &hello(json!({}))).await;
    assert_eq!(
        ant_message(&r.json()),
        "max_tokens: Extra inputs are not permitted"
    );
    assert_eq!(fake.call_count(Some(ANT), "count_tokens"), 2);
}

#[tokio::test]
async fn authentication_and_version_header() {
    let fake = fake_with_keys().await;
    let c = client();
    let url = format!("{}/v1/messages", fake.anthropic_url());
    let v = ("anthropic-version", "2023-06-01");
    let r = post(&c, &url, &[v], &hello(json!({}))).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["type"], "authentication_error");
    assert_eq!(ant_message(&r.json()), "x-api-key header is required");

    let r = post(&c, &url, &[v, ("x-api-key", "sk-wrong")], &hello(json!({}))).await;
    assert_eq!(r.status, 401);
    let mut b = r.json();
    assert!(b["request_id"].take().as_str().unwrap().starts_with("req_"));
    assert_eq!(
        b,
        json!({"type": "error", "request_id": null,
            "error": {"type": "authentication_error", "message": "invalid x-api-key"}})
    );
    // A key of another provider is unknown here.
    let r = post(&c, &url, &[v, ("x-api-key", OAI_KEY)], &hello(json!({}))).await;
    assert_eq!(r.status, 401);

    // z.ai style: Authorization: Bearer.
    let bearer = format!("Bearer {ANT_KEY2}");
    let r = post(
        &c,
        &url,
        &[v, ("authorization", &bearer)],
        &hello(json!({})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body());

    let r = post(&c, &url, &[("x-api-key", ANT_KEY)], &hello(json!({}))).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["type"], "invalid_request_error");
    assert_eq!(
        ant_message(&r.json()),
        "anthropic-version: header is required"
    );

    fake.revoke_api_key(ANT);
    let r = messages(&fake, &c, ANT_KEY, &hello(json!({}))).await;
    assert_eq!(r.status, 401);
    fake.restore_api_key(ANT_KEY);
    assert_eq!(
        messages(&fake, &c, ANT_KEY, &hello(json!({}))).await.status,
        200
    );
    // The call without a version header, the revoked call and the last one count for the
    // key; calls with unknown keys count for nobody.
    assert_eq!(fake.provider_calls(Provider::Anthropic, ANT).len(), 3);
    assert_eq!(fake.provider_calls(Provider::Anthropic, ANT2).len(), 1);
}

async fn scripted(behavior: Behavior, stream: bool) -> Reply {
    let fake = fake_with_keys().await;
    fake.script(ANT, vec![behavior]);
    messages(&fake, &client(), ANT_KEY, &hello(json!({"stream": stream}))).await
}

#[tokio::test]
async fn scripted_failures_have_anthropic_shapes() {
    let r = scripted(Behavior::RateLimited, false).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.json()["error"]["type"], "rate_limit_error");

    let r = scripted(Behavior::quota_exhausted("1m30.5s"), true).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("91"));

    let r = scripted(Behavior::Capacity, false).await;
    assert_eq!(r.status, 529);
    assert_eq!(
        r.json()["error"],
        json!({"type": "overloaded_error", "message": "Overloaded"})
    );

    let r = scripted(Behavior::ServerError(500), true).await;
    assert_eq!(r.status, 500);
    assert_eq!(
        r.json()["error"],
        json!({"type": "api_error", "message": "Internal server error"})
    );

    let r = scripted(Behavior::Unauthorized, false).await;
    assert_eq!(
        (r.status, r.json()["error"]["type"].clone()),
        (401, json!("authentication_error"))
    );

    let r = scripted(Behavior::Forbidden, false).await;
    assert_eq!(
        (r.status, r.json()["error"]["type"].clone()),
        (403, json!("permission_error"))
    );

    let body = json!({"type": "error", "error": {"type": "x", "message": "y"}});
    let r = scripted(
        Behavior::Error {
            status: 418,
            body: body.clone(),
        },
        false,
    )
    .await;
    assert_eq!((r.status, r.json()), (418, body));
}

#[tokio::test]
async fn stream_cut_and_error_event_mid_stream() {
    let r = scripted(Behavior::CutAfter(4), true).await;
    assert_eq!(r.status, 200);
    assert!(r.text.is_err(), "the connection is cut");

    let r = scripted(Behavior::stream_error(4, 529), true).await;
    assert_eq!(r.status, 200);
    let events = anthropic_events(r.body());
    assert_eq!(events.len(), 5);
    assert_eq!(
        events[4],
        (
            "error".to_string(),
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
        )
    );
    assert!(!events.iter().any(|(n, _)| n == "message_stop"));

    // Without streaming the same script is the plain error.
    let r = scripted(Behavior::stream_error(4, 529), false).await;
    assert_eq!(r.status, 529);
}

#[tokio::test]
async fn content_behaviours_map_to_anthropic_fields() {
    let r = scripted(
        Behavior::Finish {
            text: "cut".into(),
            reason: "MAX_TOKENS".into(),
        },
        false,
    )
    .await;
    assert_eq!(r.json()["stop_reason"], "max_tokens");
    let r = scripted(Behavior::Chunks(vec!["a".into(), "b".into()]), true).await;
    let deltas: Vec<Value> = anthropic_events(r.body())
        .into_iter()
        .filter(|(n, _)| n == "content_block_delta")
        .map(|(_, v)| v["delta"]["text"].clone())
        .collect();
    assert_eq!(deltas, [json!("a"), json!("b")]);
    let r = scripted(
        Behavior::Thinking {
            thought: "hmm".into(),
            answer: "ok".into(),
        },
        false,
    )
    .await;
    assert_eq!(r.json()["content"][0]["thinking"], "hmm");
    assert_eq!(r.json()["content"][1]["text"], "ok");
    let raw = json!({"type": "message_stop"});
    let r = scripted(Behavior::Raw(vec![raw.clone()]), true).await;
    assert_eq!(r.body(), format!("event: message_stop\ndata: {raw}\n\n"));
}

#[tokio::test]
async fn scripts_are_per_key_and_calls_are_recorded_per_key() {
    let fake = fake_with_keys().await;
    let c = client();
    fake.script(ANT_KEY2, vec![Behavior::RateLimited]); // by key string
    fake.script_model(ANT, "claude-opus-4-5", vec![Behavior::Capacity]);
    assert_eq!(
        messages(&fake, &c, ANT_KEY, &hello(json!({}))).await.status,
        200
    );
    assert_eq!(
        messages(&fake, &c, ANT_KEY2, &hello(json!({})))
            .await
            .status,
        429
    );
    assert_eq!(
        messages(&fake, &c, ANT_KEY2, &hello(json!({})))
            .await
            .status,
        200
    );
    let opus = hello(json!({"model": "claude-opus-4-5"}));
    assert_eq!(messages(&fake, &c, ANT_KEY, &opus).await.status, 529);
    let calls = fake.provider_calls(Provider::Anthropic, ANT);
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].endpoint, "messages");
    assert_eq!(calls[0].prefix, "/anthropic");
    assert_eq!(calls[0].path, "/anthropic/v1/messages");
    assert_eq!(calls[0].provider.as_deref(), Some("anthropic"));
    assert_eq!(calls[1].status, 529);
    assert_eq!(calls[1].body.as_ref().unwrap()["model"], "claude-opus-4-5");
    assert_eq!(fake.call_count(Some(ANT2), "messages"), 2);
    assert!(
        fake.generate_calls(ANT2)
            .iter()
            .all(|r| r.header("x-api-key") == Some(ANT_KEY2))
    );
}

#[tokio::test]
async fn provider_model_list_and_prefix_failures() {
    let fake = fake_with_keys().await;
    let c = client();
    fake.set_provider_models(Provider::Anthropic, Some(vec!["glm-4.6".into()]));
    let r = messages(&fake, &c, ANT_KEY, &hello(json!({}))).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json()["error"],
        json!({"type": "not_found_error", "message": "model: claude-sonnet-4-5"})
    );
    let glm = hello(json!({"model": "glm-4.6"}));
    assert_eq!(messages(&fake, &c, ANT_KEY, &glm).await.status, 200);
    fake.script_prefix("/anthropic", vec![Behavior::ServerError(503)]);
    assert_eq!(messages(&fake, &c, ANT_KEY2, &glm).await.status, 503);
    assert_eq!(messages(&fake, &c, ANT_KEY2, &glm).await.status, 200);
    let r = post(
        &c,
        &format!("{}/v1/nothing", fake.anthropic_url()),
        &[],
        &json!({}),
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["type"], "not_found_error");
}
