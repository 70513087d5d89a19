//! Every OpenAI rejection rule, each next to a near-identical request that passes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::client;
use common::providers::*;
use serde_json::{Value, json};
use uplink_fake_upstream::FakeUpstream;

fn req(messages: Value) -> Value {
    json!({"model": "gpt-4o", "messages": messages})
}

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

/// Sends `bad` (expecting 400 with exactly `error`) and `good` (expecting 200).
async fn rule(fake: &FakeUpstream, bad: Value, error: Value, good: Value) {
    let c = client();
    let r = chat(fake, &c, OAI_KEY, &bad).await;
    assert_eq!(r.status, 400, "{bad} → {}", r.body());
    let mut expected = error;
    expected["type"] = json!("invalid_request_error");
    assert_eq!(r.json(), json!({"error": expected}), "{bad}");
    let r = chat(fake, &c, OAI_KEY, &good).await;
    assert_eq!(r.status, 200, "{good} → {}", r.body());
}

fn err(message: &str, param: Option<&str>, code: Option<&str>) -> Value {
    json!({"message": message, "param": param, "code": code})
}

#[tokio::test]
async fn required_and_unrecognized_arguments() {
    let fake = fake_with_keys().await;
    let good = req(json!([user("hi")]));
    let mut bad = good.clone();
    bad.as_object_mut().unwrap().remove("model");
    rule(
        &fake,
        bad,
        err("you must provide a model parameter", None, None),
        good.clone(),
    )
    .await;

    let bad = json!({"model": "gpt-4o"});
    rule(
        &fake,
        bad,
        err(
            "Missing required parameter: 'messages'.",
            Some("messages"),
            Some("missing_required_parameter"),
        ),
        good.clone(),
    )
    .await;

    rule(
        &fake,
        req(json!([])),
        err(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got \
             an empty array instead.",
            Some("messages"),
            Some("empty_array"),
        ),
        good.clone(),
    )
    .await;

    let mut bad = good.clone();
    bad["top_k"] = json!(5);
    let mut ok = good.clone();
    ok["top_p"] = json!(0.5);
    rule(
        &fake,
        bad,
        err("Unrecognized request argument supplied: top_k", None, None),
        ok,
    )
    .await;

    let mut bad = good.clone();
    bad["stream_options"] = json!({"include_usage": true});
    let mut ok = bad.clone();
    ok["stream"] = json!(true);
    rule(
        &fake,
        bad,
        err(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            Some("stream_options"),
            None,
        ),
        ok,
    )
    .await;
}

#[tokio::test]
async fn roles_fields_and_content_parts() {
    let fake = fake_with_keys().await;
    rule(
        &fake,
        req(json!([{"role": "model", "content": "x"}])),
        err(
            "Invalid value: 'model'. Supported values are: 'system', 'assistant', 'user', \
             'function', 'tool', and 'developer'.",
            Some("messages[0].role"),
            Some("invalid_value"),
        ),
        req(json!([{"role": "developer", "content": "x"}, user("y")])),
    )
    .await;
    rule(
        &fake,
        req(json!([{"role": "user"}])),
        err(
            "Missing required parameter: 'messages[0].content'.",
            Some("messages[0].content"),
            Some("missing_required_parameter"),
        ),
        req(json!([user("x")])),
    )
    .await;
    rule(
        &fake,
        req(json!([{"role": "user", "content": "x", "reasoning_content": "y"}])),
        err(
            "Unknown parameter: 'messages[0].reasoning_content'.",
            Some("messages[0].reasoning_content"),
            Some("unknown_parameter"),
        ),
        req(json!([{"role": "user", "content": "x", "name": "bob"}])),
    )
    .await;
    rule(
        &fake,
        req(json!([{"role": "user", "content": [{"type": "input_text", "text": "x"}]}])),
        err(
            "Invalid value: 'input_text'. Supported values are: 'text', 'image_url', \
             'input_audio', 'refusal', 'audio', and 'file'.",
            Some("messages[0].content[0].type"),
            Some("invalid_value"),
        ),
        req(json!([{"role": "user", "content": [{"type": "text", "text": "x"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,aGk=", "detail": "low"}}]}])),
    )
    .await;
    rule(
        &fake,
        req(json!([user("x"), {"role": "assistant"}])),
        err(
            "Missing required parameter: 'messages[1].content'.",
            Some("messages[1].content"),
            Some("missing_required_parameter"),
        ),
        req(json!([user("x"), {"role": "assistant", "content": "y"}, user("z")])),
    )
    .await;
}

fn assistant_calls(ids: &[&str]) -> Value {
    let calls: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "type": "function", "function": {"name": "f", "arguments": "{}"}}))
        .collect();
    json!({"role": "assistant", "content": null, "tool_calls": calls})
}

fn tool(id: &str) -> Value {
    json!({"role": "tool", "tool_call_id": id, "content": "r"})
}

#[tokio::test]
async fn tool_messages_answer_the_preceding_calls() {
    let fake = fake_with_keys().await;
    rule(
        &fake,
        req(json!([user("x"), tool("c1")])),
        err(
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding \
             message with 'tool_calls'.",
            Some("messages.[1].role"),
            None,
        ),
        req(json!([user("x"), assistant_calls(&["c1"]), tool("c1")])),
    )
    .await;
    rule(
        &fake,
        req(json!([
            user("x"),
            assistant_calls(&["c1", "c2"]),
            tool("c1")
        ])),
        err(
            "An assistant message with 'tool_calls' must be followed by tool messages responding \
             to each 'tool_call_id'. The following tool_call_ids did not have response messages: \
             c2",
            Some("messages.[1].role"),
            None,
        ),
        req(json!([
            user("x"),
            assistant_calls(&["c1", "c2"]),
            tool("c2"),
            tool("c1")
        ])),
    )
    .await;
    rule(
        &fake,
        req(json!([
            user("x"),
            assistant_calls(&["c1"]),
            tool("c1"),
            tool("c9")
        ])),
        err(
            "Invalid parameter: 'tool_call_id' of 'c9' not found in 'tool_calls' of previous \
             message.",
            Some("messages.[3].tool_call_id"),
            None,
        ),
        req(json!([
            user("x"),
            assistant_calls(&["c1"]),
            tool("c1"),
            user("y")
        ])),
    )
    .await;
    rule(
        &fake,
        req(json!([user("x"), {"role": "tool", "content": "r"}])),
        err(
            "Missing required parameter: 'messages[1].tool_call_id'.",
            Some("messages[1].tool_call_id"),
            Some("missing_required_parameter"),
        ),
        req(json!([user("x"), assistant_calls(&["c1"]), tool("c1")])),
    )
    .await;
}

#[tokio::test]
async fn tool_definitions() {
    let fake = fake_with_keys().await;
    let with_tools = |tools: Value, choice: Option<Value>| {
        let mut b = req(json!([user("x")]));
        b["tools"] = tools;
        if let Some(c) = choice {
            b["tool_choice"] = c;
        }
        b
    };
    rule(
        &fake,
        with_tools(
            json!([{"type": "retrieval", "function": {"name": "f"}}]),
            None,
        ),
        err(
            "Invalid value: 'retrieval'. Supported values are: 'function' and 'custom'.",
            Some("tools[0].type"),
            Some("invalid_value"),
        ),
        with_tools(
            json!([{"type": "function", "function": {"name": "f"}}]),
            None,
        ),
    )
    .await;
    rule(
        &fake,
        with_tools(
            json!([{"type": "function", "function": {"description": "d"}}]),
            None,
        ),
        err(
            "Missing required parameter: 'tools[0].function.name'.",
            Some("tools[0].function.name"),
            Some("missing_required_parameter"),
        ),
        with_tools(
            json!([{"type": "function", "function": {"name": "f", "description": "d"}}]),
            None,
        ),
    )
    .await;
    rule(
        &fake,
        with_tools(
            json!([{"type": "function", "function": {"name": "get weather"}}]),
            None,
        ),
        err(
            "Invalid 'tools[0].function.name': string does not match pattern. Expected a string \
             that matches the pattern '^[a-zA-Z0-9_-]+$'.",
            Some("tools[0].function.name"),
            Some("invalid_value"),
        ),
        with_tools(
            json!([{"type": "function", "function": {"name": "get_weather"}}]),
            None,
        ),
    )
    .await;
    rule(
        &fake,
        with_tools(
            json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "array"}}}]),
            None,
        ),
        err(
            "Invalid schema for function 'f': schema must be a JSON Schema of 'type: \"object\"', \
             got 'type: \"array\"'.",
            Some("tools[0].function.parameters"),
            Some("invalid_function_parameters"),
        ),
        with_tools(
            json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]),
            None,
        ),
    )
    .await;
    rule(
        &fake,
        with_tools(
            json!([{"type": "function", "function": {"name": "f"}}]),
            Some(json!("always")),
        ),
        err(
            "Invalid value: 'always'. Supported values are: 'none', 'auto', and 'required'.",
            Some("tool_choice"),
            Some("invalid_value"),
        ),
        with_tools(
            json!([{"type": "function", "function": {"name": "f"}}]),
            Some(json!({"type": "function", "function": {"name": "f"}})),
        ),
    )
    .await;
    let mut bad = req(json!([user("x")]));
    bad["tool_choice"] = json!("auto");
    rule(
        &fake,
        bad,
        err(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are \
             specified.",
            Some("tool_choice"),
            None,
        ),
        with_tools(
            json!([{"type": "function", "function": {"name": "f"}}]),
            Some(json!("auto")),
        ),
    )
    .await;
}

#[tokio::test]
async fn malformed_json_is_rejected() {
    let fake = fake_with_keys().await;
    let c = client();
    let resp = c
        .post(format!("{}/chat/completions", fake.openai_url()))
        .bearer_auth(OAI_KEY)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let b: Value = resp.json().await.unwrap();
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("We could not parse the JSON body of your request.")
    );
}
