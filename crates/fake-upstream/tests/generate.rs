//! generateContent / streamGenerateContent happy paths, envelope checks and scripted content.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{Value, json};
use uplink_fake_upstream::{Behavior, ScriptedCall};

#[tokio::test]
async fn generate_content_default_answer_has_the_real_shape() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    let (s, b) = generate(
        &fake,
        &c,
        &t,
        "gemini-2.5-flash",
        json!({"contents": [user("ping")]}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let r = &b["response"];
    assert_eq!(
        r["candidates"],
        json!([{"content": {"role": "model", "parts": [{"text": "Hello from gemini-2.5-flash. You said: ping"}]},
            "finishReason": "STOP", "index": 0}])
    );
    // "ping" is 1 token, the answer 43 chars is 11.
    assert_eq!(
        r["usageMetadata"],
        json!({"promptTokenCount": 1, "candidatesTokenCount": 11, "totalTokenCount": 12})
    );
    assert_eq!(r["modelVersion"], "gemini-2.5-flash");
    assert!(r["responseId"].is_string());
    assert!(b["traceId"].is_string());
}

#[tokio::test]
async fn stream_generate_content_uses_exact_sse_framing() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    let resp = c
        .post(format!(
            "{}:streamGenerateContent?alt=sse",
            fake.cloudcode_url()
        ))
        .bearer_auth(&t)
        .json(&envelope(
            "claude-sonnet-4-5",
            json!({"contents": [user("ping")]}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let text = resp.text().await.unwrap();
    let events = sse_events(&text);
    assert_eq!(events.len(), 2, "{text}");
    let texts: String = events
        .iter()
        .map(|e| {
            e["response"]["candidates"][0]["content"]["parts"][0]["text"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(texts, "Hello from claude-sonnet-4-5. You said: ping");
    assert!(
        events[0]["response"]["candidates"][0]
            .get("finishReason")
            .is_none()
    );
    let last = &events[1]["response"];
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last["usageMetadata"]["candidatesTokenCount"], 11);
    assert_eq!(last["usageMetadata"]["totalTokenCount"], 12);
    assert!(
        events
            .iter()
            .all(|e| e["response"]["modelVersion"] == "claude-sonnet-4-5")
    );
}

#[tokio::test]
async fn stream_without_alt_sse_is_a_json_array() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    let (s, b) = call(
        &fake,
        &c,
        &t,
        "streamGenerateContent",
        &envelope("gemini-2.5-pro", json!({"contents": [user("x")]})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(b.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn envelope_project_model_and_fields_are_checked() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    let req = json!({"contents": [user("x")]});

    let mut wrong = envelope("gemini-2.5-pro", req.clone());
    wrong["project"] = json!("not-mine");
    let (s, b) = call(&fake, &c, &t, "generateContent", &wrong).await;
    assert_eq!(
        (s, b["error"]["status"].as_str().unwrap()),
        (403, "PERMISSION_DENIED"),
        "{b}"
    );

    let (s, b) = generate(&fake, &c, &t, "gemini-1.0-ultra", req.clone()).await;
    assert_eq!(s, 404);
    assert_eq!(b["error"]["status"], "NOT_FOUND");
    assert_eq!(message(&b), "models/gemini-1.0-ultra is not found");

    let mut extra = envelope("gemini-2.5-pro", req.clone());
    extra["stream"] = json!(true);
    let (s, b) = call(&fake, &c, &t, "generateContent", &extra).await;
    assert_eq!(s, 400);
    assert_eq!(
        message(&b),
        "Invalid JSON payload received. Unknown name \"stream\": Cannot find field."
    );
    assert_eq!(b["error"]["status"], "INVALID_ARGUMENT");
    assert_eq!(
        b["error"]["details"][0]["@type"],
        "type.googleapis.com/google.rpc.BadRequest"
    );

    let mut gemini_cli = envelope("gemini-2.5-pro", req);
    gemini_cli["user_prompt_id"] = json!("p-1");
    gemini_cli["request"]["session_id"] = json!("s-1");
    assert_eq!(
        call(&fake, &c, &t, "generateContent", &gemini_cli).await.0,
        200
    );
}

#[tokio::test]
async fn scripted_text_function_call_and_thinking() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    fake.script(
        ALICE,
        vec![
            Behavior::text("exact words"),
            Behavior::function_call("get_weather", json!({"city": "Paris"})),
            Behavior::Thinking {
                thought: "hmm".into(),
                answer: "42".into(),
            },
            Behavior::FunctionCalls(vec![
                ScriptedCall {
                    name: "a".into(),
                    args: json!({}),
                },
                ScriptedCall {
                    name: "b".into(),
                    args: json!({"x": 1}),
                },
            ]),
        ],
    );
    let req = json!({"contents": [user("weather?")]});
    let parts = |b: &Value| b["response"]["candidates"][0]["content"]["parts"].clone();

    let (_, b) = generate(&fake, &c, &t, "gemini-2.5-pro", req.clone()).await;
    assert_eq!(parts(&b), json!([{"text": "exact words"}]));

    let (_, b) = generate(&fake, &c, &t, "gemini-2.5-pro", req.clone()).await;
    let fc = &parts(&b)[0]["functionCall"];
    assert_eq!(
        (fc["name"].as_str(), &fc["args"]),
        (Some("get_weather"), &json!({"city": "Paris"}))
    );
    assert!(fc["id"].is_string());
    assert_eq!(b["response"]["candidates"][0]["finishReason"], "STOP");

    let (_, b) = generate(&fake, &c, &t, "claude-sonnet-4-5-thinking", req.clone()).await;
    let p = parts(&b);
    assert_eq!(
        (p[0]["thought"].as_bool(), p[0]["text"].as_str()),
        (Some(true), Some("hmm"))
    );
    assert!(
        p[0]["thoughtSignature"].is_string(),
        "claude thoughts carry the signature"
    );
    assert_eq!(p[1], json!({"text": "42"}));
    assert!(b["response"]["usageMetadata"]["thoughtsTokenCount"].is_number());

    let (_, b) = generate(&fake, &c, &t, "gemini-3-pro-preview", req).await;
    let p = parts(&b);
    assert_eq!(p.as_array().unwrap().len(), 2);
    assert!(
        p[0]["thoughtSignature"].is_string(),
        "gemini 3 signs the first call"
    );
    assert!(
        p[1].get("thoughtSignature").is_none(),
        "parallel calls after the first are unsigned"
    );
    // The queue is consumed: the next call is the default answer again.
    let (_, b) = generate(
        &fake,
        &c,
        &t,
        "gemini-2.5-pro",
        json!({"contents": [user("again")]}),
    )
    .await;
    assert_eq!(
        parts(&b)[0]["text"],
        "Hello from gemini-2.5-pro. You said: again"
    );
}

#[tokio::test]
async fn thinking_requests_get_a_thought_first() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    let req = json!({"contents": [user("hi")], "generationConfig": {"thinkingConfig": {"includeThoughts": true}}});
    let body = envelope("gemini-3-flash", req);
    let (s, text) = stream_raw(&fake, &c, &t, &body).await;
    assert_eq!(s, 200);
    let events = sse_events(&text.unwrap());
    let first = &events[0]["response"]["candidates"][0]["content"]["parts"][0];
    assert_eq!(first["thought"], true);
    let last = &events.last().unwrap()["response"];
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert!(
        last["usageMetadata"]["thoughtsTokenCount"]
            .as_u64()
            .unwrap()
            > 0
    );
    let signed_text = events
        .iter()
        .flat_map(|e| {
            e["response"]["candidates"][0]["content"]["parts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|p| p.get("thought").is_none())
        .any(|p| p["thoughtSignature"].is_string());
    assert!(signed_text, "gemini 3 signs its answer");
}

#[tokio::test]
async fn scripted_chunks_raw_finish_and_empty() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    fake.script_model(
        ALICE,
        "gemini-2.5-pro",
        vec![
            Behavior::Chunks(vec!["a".into(), "b".into(), "c".into()]),
            Behavior::Raw(vec![json!({"custom": 1}), json!({"custom": 2})]),
            Behavior::Finish {
                text: "cut sh".into(),
                reason: "MAX_TOKENS".into(),
            },
            Behavior::Finish {
                text: String::new(),
                reason: "SAFETY".into(),
            },
            Behavior::Empty,
        ],
    );
    let body = envelope("gemini-2.5-pro", json!({"contents": [user("x")]}));
    let ev = |text: String| sse_events(&text);

    let events = ev(stream_raw(&fake, &c, &t, &body).await.1.unwrap());
    let texts: Vec<&str> = events
        .iter()
        .map(|e| {
            e["response"]["candidates"][0]["content"]["parts"][0]["text"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(texts, ["a", "b", "c"]);
    assert_eq!(
        events[2]["response"]["candidates"][0]["finishReason"],
        "STOP"
    );

    let events = ev(stream_raw(&fake, &c, &t, &body).await.1.unwrap());
    assert_eq!(events, vec![json!({"custom": 1}), json!({"custom": 2})]);

    let events = ev(stream_raw(&fake, &c, &t, &body).await.1.unwrap());
    assert_eq!(
        events.last().unwrap()["response"]["candidates"][0]["finishReason"],
        "MAX_TOKENS"
    );

    let events = ev(stream_raw(&fake, &c, &t, &body).await.1.unwrap());
    let cand = &events[0]["response"]["candidates"][0];
    assert_eq!(cand["finishReason"], "SAFETY");
    assert!(cand.get("content").is_none());

    let events = ev(stream_raw(&fake, &c, &t, &body).await.1.unwrap());
    assert_eq!(events.len(), 1);
    assert!(events[0]["response"].get("candidates").is_none());
    assert!(events[0]["response"]["usageMetadata"].is_object());
}

#[tokio::test]
async fn model_specific_queue_wins_over_account_queue() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    fake.script(ALICE, vec![Behavior::text("account")]);
    fake.script_model(ALICE, "claude-sonnet-4-5", vec![Behavior::text("model")]);
    fake.set_default_behavior(ALICE, Some(Behavior::text("default")));
    let req = json!({"contents": [user("x")]});
    let text = |b: Value| {
        b["response"]["candidates"][0]["content"]["parts"][0]["text"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        text(
            generate(&fake, &c, &t, "claude-sonnet-4-5", req.clone())
                .await
                .1
        ),
        "model"
    );
    assert_eq!(
        text(
            generate(&fake, &c, &t, "claude-sonnet-4-5", req.clone())
                .await
                .1
        ),
        "account"
    );
    assert_eq!(
        text(
            generate(&fake, &c, &t, "claude-sonnet-4-5", req.clone())
                .await
                .1
        ),
        "default"
    );
    fake.set_default_behavior(ALICE, None);
    assert!(
        text(generate(&fake, &c, &t, "claude-sonnet-4-5", req).await.1).starts_with("Hello from")
    );
}
