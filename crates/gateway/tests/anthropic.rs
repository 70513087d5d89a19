//! Anthropic Messages through the gateway against the strict fake upstream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::Harness;
use uplink_fake_upstream::Behavior;

const MODEL: &str = "claude-sonnet-4-5";

/// `(event, data)` pairs of an SSE body.
fn events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|f| !f.trim().is_empty())
        .map(|frame| {
            let mut name = String::new();
            let mut data = String::new();
            for line in frame.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_owned();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                }
            }
            (name, serde_json::from_str(&data).unwrap_or(Value::Null))
        })
        .collect()
}

fn message(text: &str, stream: bool) -> Value {
    json!({
        "model": MODEL,
        "max_tokens": 1024,
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}]}],
        "stream": stream,
    })
}

#[tokio::test]
async fn a_message_and_its_stream() {
    let h = Harness::start(&["a@x.com"]).await;
    let res = h
        .post("/v1/messages?beta=true", message("hi", false))
        .header("anthropic-version", "2023-06-01")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let m: Value = res.json().await.unwrap();
    assert_eq!(m["type"], "message");
    assert_eq!(m["role"], "assistant");
    assert_eq!(m["model"], MODEL);
    assert!(m["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(m["content"][0]["type"], "text");
    assert_eq!(
        m["content"][0]["text"],
        format!("Hello from {MODEL}. You said: hi")
    );
    assert_eq!(m["stop_reason"], "end_turn");
    assert!(m["usage"]["input_tokens"].as_u64().unwrap() > 0);
    // cache_control never reaches the upstream (the fake would reject it).
    let sent = h.fake.generate_calls("a@x.com")[0].body.clone().unwrap();
    assert!(!sent.to_string().contains("cache_control"));

    let res = h
        .post("/v1/messages", message("hi", true))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ev = events(&res.text().await.unwrap());
    let names: Vec<&str> = ev.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names.last(), Some(&"message_stop"));
    assert!(
        names.contains(&"content_block_start")
            && names.contains(&"content_block_delta")
            && names.contains(&"content_block_stop")
    );
    let text: String = ev
        .iter()
        .filter(|(n, d)| n == "content_block_delta" && d["delta"]["type"] == "text_delta")
        .map(|(_, d)| d["delta"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(text, format!("Hello from {MODEL}. You said: hi"));
    let delta = ev.iter().find(|(n, _)| n == "message_delta").unwrap();
    assert_eq!(delta.1["delta"]["stop_reason"], "end_turn");
    assert!(delta.1["usage"]["output_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn a_thinking_tool_loop_replays_signed_thinking() {
    let h = Harness::start(&["a@x.com"]).await;
    h.fake.script(
        "a@x.com",
        vec![Behavior::function_call("Bash", json!({"command": "ls"}))],
    );
    let tools = json!([{"name": "Bash", "description": "Run a command", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"], "additionalProperties": false}}]);
    let first = json!({
        "model": "claude-sonnet-4-5-thinking", "max_tokens": 8000, "stream": true,
        "thinking": {"type": "enabled", "budget_tokens": 2048}, "tools": tools,
        "messages": [{"role": "user", "content": "list files"}],
    });
    let ev = events(
        &h.post("/v1/messages", first.clone())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let starts: Vec<&Value> = ev
        .iter()
        .filter(|(n, _)| n == "content_block_start")
        .map(|(_, d)| &d["content_block"])
        .collect();
    assert_eq!(starts[0]["type"], "thinking", "{ev:?}");
    let signature: String = ev
        .iter()
        .filter(|(_, d)| d["delta"]["type"] == "signature_delta")
        .map(|(_, d)| d["delta"]["signature"].as_str().unwrap().to_owned())
        .collect();
    assert!(!signature.is_empty());
    let thinking: String = ev
        .iter()
        .filter(|(_, d)| d["delta"]["type"] == "thinking_delta")
        .map(|(_, d)| d["delta"]["thinking"].as_str().unwrap().to_owned())
        .collect();
    let tool = starts.iter().find(|b| b["type"] == "tool_use").unwrap();
    let input: String = ev
        .iter()
        .filter(|(_, d)| d["delta"]["type"] == "input_json_delta")
        .map(|(_, d)| d["delta"]["partial_json"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&input).unwrap(),
        json!({"command": "ls"})
    );
    assert_eq!(
        ev.iter().find(|(n, _)| n == "message_delta").unwrap().1["delta"]["stop_reason"],
        "tool_use"
    );

    // Claude Code replays the assistant turn as it got it, with the result.
    let mut second = first;
    second["messages"] = json!([
        {"role": "user", "content": "list files"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": thinking, "signature": signature},
            {"type": "tool_use", "id": tool["id"], "name": "Bash", "input": {"command": "ls"}},
        ]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool["id"], "content": "a.txt"}]},
    ]);
    let res = h.post("/v1/messages", second).send().await.unwrap();
    let status = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("message_stop"));
    let sent = h
        .fake
        .generate_calls("a@x.com")
        .last()
        .unwrap()
        .body
        .clone()
        .unwrap();
    let model_turn = &sent["request"]["contents"][1];
    assert_eq!(model_turn["parts"][0]["thought"], true);
    assert_eq!(
        model_turn["parts"][0]["thoughtSignature"],
        signature.as_str()
    );
}

#[tokio::test]
async fn warmups_are_answered_locally() {
    let h = Harness::start(&["a@x.com"]).await;
    for stream in [false, true] {
        let res = h
            .post("/v1/messages", message("Warmup", stream))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["x-warmup-intercepted"], "true");
        let body = res.text().await.unwrap();
        if stream {
            let ev = events(&body);
            assert_eq!(ev.first().unwrap().0, "message_start");
            assert_eq!(ev.last().unwrap().0, "message_stop");
        } else {
            let m: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(m["type"], "message");
            assert_eq!(m["stop_reason"], "end_turn");
        }
    }
    assert_eq!(h.generate_calls("a@x.com"), 0, "no upstream quota spent");
}

#[tokio::test]
async fn background_requests_go_to_the_background_model_when_configured() {
    let h = Harness::start_with(
        &["a@x.com"],
        "[models]\nbackground_model = \"gemini-2.5-flash-lite\"",
    )
    .await;
    let title = json!({"model": "claude-haiku-4-5-20251001", "max_tokens": 100, "system": "Write a 5-10 word title for the conversation.", "messages": [{"role": "user", "content": "help me with rust"}]});
    let res = h.post("/v1/messages", title).send().await.unwrap();
    assert_eq!(res.headers()["x-mapped-model"], "gemini-2.5-flash-lite");
    let m: Value = res.json().await.unwrap();
    assert_eq!(
        m["model"], "claude-haiku-4-5-20251001",
        "the client sees its own model name"
    );

    // With tools it is real work, not housekeeping.
    let work = json!({"model": "claude-haiku-4-5-20251001", "max_tokens": 100, "tools": [{"name": "t", "input_schema": {"type": "object", "properties": {}}}], "messages": [{"role": "user", "content": "x"}]});
    let res = h.post("/v1/messages", work).send().await.unwrap();
    assert_eq!(res.headers()["x-mapped-model"], "claude-sonnet-4-5");
}

#[tokio::test]
async fn thinking_without_an_answer_is_retried_before_the_first_byte() {
    let h = Harness::start(&["a@x.com", "b@x.com"]).await;
    let only_thought = json!({"response": {"candidates": [{"content": {"role": "model", "parts": [{"text": "hmm", "thought": true}]}, "finishReason": "STOP", "index": 0}]}});
    for email in ["a@x.com", "b@x.com"] {
        h.fake
            .script(email, vec![Behavior::Raw(vec![only_thought.clone()])]);
    }
    let res = h
        .post("/v1/messages", message("hi", true))
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), 200, "never a silent empty success");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("thinking but no answer"),
        "{body}"
    );
    assert_eq!(h.generate_calls("a@x.com") + h.generate_calls("b@x.com"), 2);
}

#[tokio::test]
async fn count_tokens_models_telemetry_and_errors() {
    let h = Harness::start(&["a@x.com"]).await;
    let res = h
        .post(
            "/v1/messages/count_tokens",
            json!({"model": MODEL, "messages": [{"role": "user", "content": "count me"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.json::<Value>().await.unwrap()["input_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );

    for path in ["/v1/api/event_logging", "/v1/api/event_logging/batch"] {
        assert_eq!(
            h.post(path, json!({"events": []}))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }

    h.fake
        .set_default_behavior("a@x.com", Some(Behavior::Capacity));
    let res = h
        .post("/v1/messages", message("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 529, "overloaded is 529 for Anthropic clients");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["type"], "overloaded_error");

    let res = h
        .post("/v1/messages", json!({"model": MODEL, "messages": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["type"].as_str(), body["error"]["type"].as_str()),
        (Some("error"), Some("invalid_request_error"))
    );
}
