//! OpenAI Responses through the gateway against the strict fake upstream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::Harness;
use uplink_fake_upstream::Behavior;

const MODEL: &str = "gemini-2.5-pro";

fn events(body: &str) -> Vec<Value> {
    body.split("\n\n")
        .filter_map(|f| f.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

#[tokio::test]
async fn a_response_object_and_its_event_stream() {
    let h = Harness::start(&["a@x.com"]).await;
    let body =
        json!({"model": MODEL, "instructions": "Be brief.", "input": "ping", "store": false});
    let res = h.post("/v1/responses", body.clone()).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["object"], "response");
    assert_eq!(r["status"], "completed");
    assert!(r["id"].as_str().unwrap().starts_with("resp_"));
    let message = r["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "message")
        .unwrap();
    assert_eq!(message["content"][0]["type"], "output_text");
    assert_eq!(
        message["content"][0]["text"],
        format!("Hello from {MODEL}. You said: ping")
    );
    assert!(r["usage"]["input_tokens"].as_u64().unwrap() > 0);

    let mut streamed = body;
    streamed["stream"] = json!(true);
    let res = h.post("/responses", streamed).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let ev = events(&res.text().await.unwrap());
    let types: Vec<&str> = ev.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(&types[..2], &["response.created", "response.in_progress"]);
    assert_eq!(types.last(), Some(&"response.completed"));
    for needed in [
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.output_item.done",
    ] {
        assert!(types.contains(&needed), "{needed} missing from {types:?}");
    }
    let seq: Vec<u64> = ev
        .iter()
        .map(|e| e["sequence_number"].as_u64().unwrap())
        .collect();
    assert_eq!(seq, (0..seq.len() as u64).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_function_call_round_trip() {
    let h = Harness::start(&["a@x.com"]).await;
    h.fake.script(
        "a@x.com",
        vec![Behavior::function_call("shell", json!({"command": ["ls"]}))],
    );
    let tools = json!([{"type": "function", "name": "shell", "parameters": {"type": "object", "properties": {"command": {"type": "array", "items": {"type": "string"}}}}}]);
    let first = json!({"model": MODEL, "input": [{"role": "user", "content": [{"type": "input_text", "text": "list"}]}], "tools": tools, "stream": true});
    let ev = events(
        &h.post("/v1/responses", first)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let done: Vec<&Value> = ev
        .iter()
        .filter(|e| e["type"] == "response.output_item.done")
        .map(|e| &e["item"])
        .collect();
    let call = done.iter().find(|i| i["type"] == "function_call").unwrap();
    assert_eq!(call["name"], "shell");
    assert_eq!(
        serde_json::from_str::<Value>(call["arguments"].as_str().unwrap()).unwrap(),
        json!({"command": ["ls"]})
    );
    assert_eq!(ev.last().unwrap()["type"], "response.completed");

    let second = json!({"model": MODEL, "tools": tools, "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "list"}]},
        {"type": "function_call", "call_id": call["call_id"], "name": "shell", "arguments": call["arguments"]},
        {"type": "function_call_output", "call_id": call["call_id"], "output": "a.txt"},
    ]});
    let res = h.post("/v1/responses", second).send().await.unwrap();
    let status = res.status();
    let r: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["status"], "completed");
}

#[tokio::test]
async fn stored_state_is_refused_clearly_and_failures_end_in_response_failed() {
    let h = Harness::start(&["a@x.com"]).await;
    let res = h
        .post(
            "/v1/responses",
            json!({"model": MODEL, "input": "x", "previous_response_id": "resp_1"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("previous_response_id"),
        "{body}"
    );
    assert_eq!(h.generate_calls("a@x.com"), 0);

    h.fake.script("a@x.com", vec![Behavior::CutAfter(2)]);
    let res = h
        .post(
            "/v1/responses",
            json!({"model": MODEL, "input": "one two three four", "stream": true}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ev = events(&res.text().await.unwrap());
    assert_eq!(ev.last().unwrap()["type"], "response.failed", "{ev:?}");
    assert_eq!(
        ev.iter()
            .filter(|e| e["type"].as_str().unwrap().starts_with("response.")
                && [
                    "response.completed",
                    "response.failed",
                    "response.incomplete"
                ]
                .contains(&e["type"].as_str().unwrap()))
            .count(),
        1
    );
}
