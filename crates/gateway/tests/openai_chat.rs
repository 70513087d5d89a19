//! OpenAI Chat Completions through the gateway against the strict fake
//! upstream: answers, streams, tools, failures and rotation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::{Harness, sse_data};
use uplink_fake_upstream::Behavior;

const MODEL: &str = "gemini-2.5-flash";

fn chat(content: &str, stream: bool) -> Value {
    json!({
        "model": MODEL,
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": content}],
        "stream": stream,
        "stream_options": {"include_usage": true},
    })
}

#[tokio::test]
async fn a_non_stream_answer_has_the_chat_completion_shape_and_headers() {
    let h = Harness::start(&["a@x.com"]).await;
    let res = h
        .post("/v1/chat/completions", chat("hi there", false))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-mapped-model"], MODEL);
    assert_eq!(res.headers()["x-account-email"], "a@x.com");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], MODEL);
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    let msg = &body["choices"][0]["message"];
    assert_eq!(msg["role"], "assistant");
    assert_eq!(
        msg["content"],
        format!("Hello from {MODEL}. You said: hi there")
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert!(body["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    assert!(body["usage"]["total_tokens"].as_u64().unwrap() > 0);

    // The upstream saw the Cloud Code envelope with the discovered project, and the
    // system prompt as a systemInstruction.
    let calls = h.fake.generate_calls("a@x.com");
    assert_eq!(calls.len(), 1);
    let sent = calls[0].body.as_ref().unwrap();
    assert_eq!(sent["project"], "proj-0");
    assert_eq!(sent["model"], MODEL);
    assert_eq!(sent["userAgent"], "antigravity");
    assert_eq!(
        sent["request"]["systemInstruction"]["parts"][0]["text"],
        "Be brief."
    );
    assert_eq!(calls[0].query.as_deref(), Some("alt=sse"));
}

#[tokio::test]
async fn a_stream_relays_chunks_then_usage_then_done() {
    let h = Harness::start(&["a@x.com"]).await;
    h.fake.script(
        "a@x.com",
        vec![Behavior::Chunks(vec![
            "Hel".into(),
            "lo ".into(),
            "world".into(),
        ])],
    );
    let res = h
        .post("/v1/chat/completions", chat("hi", true))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let data = sse_data(&res.text().await.unwrap());
    assert_eq!(data.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk" && c["model"] == MODEL)
    );
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello world");
    let finish: Vec<&Value> = chunks
        .iter()
        .map(|c| &c["choices"][0]["finish_reason"])
        .filter(|f| !f.is_null())
        .collect();
    assert_eq!(finish, vec![&json!("stop")]);
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert!(usage["usage"]["completion_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn a_tool_round_trip_is_accepted_by_the_strict_upstream() {
    let h = Harness::start(&["a@x.com"]).await;
    h.fake.script(
        "a@x.com",
        vec![Behavior::function_call(
            "get_weather",
            json!({"city": "Paris"}),
        )],
    );
    let tools = json!([{"type": "function", "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false, "$schema": "http://json-schema.org/draft-07/schema#"}
    }}]);
    let first = json!({"model": MODEL, "messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": tools});
    let body: Value = h
        .post("/v1/chat/completions", first)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls", "{body}");
    let call = &body["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(
        serde_json::from_str::<Value>(call["function"]["arguments"].as_str().unwrap()).unwrap(),
        json!({"city": "Paris"})
    );

    let second = json!({"model": MODEL, "tools": tools, "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": null, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "18 C"},
    ]});
    let res = h.post("/v1/chat/completions", second).send().await.unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .starts_with("Hello from")
    );
    let sent = h.fake.generate_calls("a@x.com")[1].body.clone().unwrap();
    let contents = sent["request"]["contents"].as_array().unwrap();
    assert_eq!(contents[1]["role"], "model");
    assert_eq!(
        contents[2]["parts"][0]["functionResponse"]["name"],
        "get_weather"
    );
}

#[tokio::test]
async fn an_upstream_400_is_returned_as_is_and_not_retried_elsewhere() {
    let h = Harness::start(&["a@x.com", "b@x.com"]).await;
    let bad = json!({"error": {"code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT"}});
    for email in ["a@x.com", "b@x.com"] {
        h.fake.script(
            email,
            vec![Behavior::Error {
                status: 400,
                body: bad.clone(),
            }],
        );
    }
    let res = h
        .post("/v1/chat/completions", chat("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["x-should-retry"], "false");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(
        body["error"]["message"],
        "Request contains an invalid argument."
    );
    assert_eq!(h.generate_calls("a@x.com") + h.generate_calls("b@x.com"), 1);
}

#[tokio::test]
async fn quota_exhaustion_rotates_and_cools_the_account() {
    let h = Harness::start(&["a@x.com", "b@x.com", "c@x.com"]).await;
    for email in ["a@x.com", "b@x.com"] {
        h.fake
            .set_default_behavior(email, Some(Behavior::quota_exhausted("2h1m1.5s")));
    }
    for round in 0..3 {
        let res = h
            .post("/v1/chat/completions", chat("hi", false))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "round {round}");
        assert_eq!(res.headers()["x-account-email"], "c@x.com");
    }
    // Each exhausted account was tried at most once: afterwards it rests.
    assert!(h.generate_calls("a@x.com") <= 1);
    assert!(h.generate_calls("b@x.com") <= 1);
    assert_eq!(h.generate_calls("c@x.com"), 3);
}

#[tokio::test]
async fn all_accounts_exhausted_answers_429_with_the_real_wait() {
    let h = Harness::start(&["a@x.com", "b@x.com"]).await;
    for email in ["a@x.com", "b@x.com"] {
        h.fake
            .set_default_behavior(email, Some(Behavior::quota_exhausted("1h0m30s")));
    }
    let res = h
        .post("/v1/chat/completions", chat("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3590..=3630).contains(&wait), "{wait}");
    let body: Value = res.json().await.unwrap();
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("a@x.com") && msg.contains("b@x.com"), "{msg}");

    // While cooling, the answer is immediate and names the accounts and the wait.
    let res = h
        .post("/v1/chat/completions", chat("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let body: Value = res.json().await.unwrap();
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("All 2 accounts are cooling down") && msg.contains("1h0m"),
        "{msg}"
    );
    assert_eq!(h.generate_calls("a@x.com") + h.generate_calls("b@x.com"), 2);
}

#[tokio::test]
async fn a_401_refreshes_the_token_and_retries_the_same_account() {
    let h = Harness::start(&["a@x.com"]).await;
    h.fake.script("a@x.com", vec![Behavior::Unauthorized]);
    let res = h
        .post("/v1/chat/completions", chat("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(h.generate_calls("a@x.com"), 2);
    assert_eq!(
        h.fake.call_count(Some("a@x.com"), "token"),
        2,
        "refreshed once more"
    );
}

#[tokio::test]
async fn invalid_grant_disables_the_account_and_the_next_one_serves() {
    // a@x.com is preferred, so it is certainly tried (and found revoked).
    let h = Harness::start_with(
        &["a@x.com", "b@x.com"],
        "[scheduling]\nmode = \"fixed\"\npreferred_account = \"a@x.com\"",
    )
    .await;
    h.fake.revoke("a@x.com");
    for _ in 0..2 {
        let res = h
            .post("/v1/chat/completions", chat("hi", false))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["x-account-email"], "b@x.com");
    }
    let storage = uplink_gateway::storage::Storage::open(h.app.dir.path())
        .await
        .unwrap();
    let a = storage
        .accounts()
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.email.as_deref() == Some("a@x.com"))
        .unwrap();
    assert_eq!(a.status, uplink_gateway::storage::AccountStatus::Disabled);
    assert!(a.status_reason.unwrap().contains("invalid_grant"));
}

#[tokio::test]
async fn an_empty_answer_is_retried_on_another_account() {
    let h = Harness::start(&["a@x.com", "b@x.com"]).await;
    for email in ["a@x.com", "b@x.com"] {
        h.fake.script(email, vec![Behavior::Empty]);
    }
    let res = h
        .post("/v1/chat/completions", chat("hi", true))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    // Both attempts came back empty: an error, never a silent empty success.
    assert_eq!(status, 502, "{text}");
    assert_eq!(h.generate_calls("a@x.com") + h.generate_calls("b@x.com"), 2);

    let res = h
        .post("/v1/chat/completions", chat("hi", true))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "the queue is spent; the next request is served"
    );
}

#[tokio::test]
async fn a_stream_cut_mid_way_ends_with_an_error_and_done() {
    let h = Harness::start(&["a@x.com"]).await;
    h.fake.script("a@x.com", vec![Behavior::CutAfter(2)]);
    let res = h
        .post("/v1/chat/completions", chat("one two three four", true))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let data = sse_data(&res.text().await.unwrap());
    assert_eq!(data.last().unwrap(), "[DONE]");
    let error: Value = serde_json::from_str(&data[data.len() - 2]).unwrap();
    assert!(error["error"]["message"].as_str().is_some(), "{error}");
}

#[tokio::test]
async fn endpoints_are_tried_in_order() {
    let fake = uplink_fake_upstream::FakeUpstream::start().await.unwrap();
    fake.set_prefix_default("/down", Some(Behavior::ServerError(503)));
    let endpoints = vec![fake.cloudcode_url_at("/down"), fake.cloudcode_url()];
    let h = Harness::start_on(fake, &["a@x.com"], &endpoints, "").await;
    let res = h
        .post("/v1/chat/completions", chat("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn an_account_without_a_project_is_onboarded() {
    let fake = uplink_fake_upstream::FakeUpstream::start().await.unwrap();
    fake.add_account(uplink_fake_upstream::AccountSpec::without_project(
        "rt-new",
        "new@x.com",
    ));
    let endpoints = vec![fake.cloudcode_url()];
    let account = uplink_gateway::storage::NewAccount {
        email: Some("new@x.com".into()),
        refresh_token: "rt-new".into(),
        project_id: None,
    };
    let h = Harness::start_with_accounts(fake, &[account], &endpoints, "").await;
    let res = h
        .post("/v1/chat/completions", chat("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert!(
        h.fake.call_count(Some("new@x.com"), "onboardUser") >= 2,
        "polled until done"
    );
    let project = h.fake.account_project("new@x.com").unwrap();
    let sent = h.fake.generate_calls("new@x.com")[0].body.clone().unwrap();
    assert_eq!(sent["project"], project.as_str());

    // Discovered once and persisted: later requests do not ask again.
    let res = h
        .post("/v1/chat/completions", chat("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(h.fake.call_count(Some("new@x.com"), "loadCodeAssist"), 1);
    let storage = uplink_gateway::storage::Storage::open(h.app.dir.path())
        .await
        .unwrap();
    assert_eq!(
        storage.accounts().await.unwrap()[0].project_id.as_deref(),
        Some(project.as_str())
    );
}

#[tokio::test]
async fn bad_bodies_get_openai_shaped_400_and_413() {
    let h = Harness::start_with(&["a@x.com"], "max_body_bytes = 2000").await;
    let res = h
        .client
        .post(h.app.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body("{\"model\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("JSON"),
        "{body}"
    );

    let big = chat(&"x".repeat(5000), false);
    let res = h.post("/v1/chat/completions", big).send().await.unwrap();
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2000 bytes"),
        "{body}"
    );

    let res = h
        .post(
            "/v1/chat/completions",
            json!({"model": MODEL, "messages": "nope"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(h.generate_calls("a@x.com"), 0);
}

#[tokio::test]
async fn no_accounts_is_a_503_that_says_how_to_add_one() {
    let h = Harness::start(&[]).await;
    let res = h
        .post("/v1/chat/completions", chat("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("uplink accounts"),
        "{body}"
    );
}

#[tokio::test]
async fn legacy_completions_answer_and_stream() {
    let h = Harness::start(&["a@x.com"]).await;
    let res = h
        .post(
            "/v1/completions",
            json!({"model": MODEL, "prompt": "say hi", "max_tokens": 32}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["object"], "text_completion");
    assert!(body["id"].as_str().unwrap().starts_with("cmpl-"));
    assert_eq!(
        body["choices"][0]["text"],
        format!("Hello from {MODEL}. You said: say hi")
    );

    let res = h
        .post(
            "/v1/completions",
            json!({"model": MODEL, "prompt": "stream it", "stream": true}),
        )
        .send()
        .await
        .unwrap();
    let data = sse_data(&res.text().await.unwrap());
    assert_eq!(data.last().unwrap(), "[DONE]");
    let text: String = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str::<Value>(d).unwrap())
        .filter_map(|c| c["choices"][0]["text"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(text, format!("Hello from {MODEL}. You said: stream it"));
}
