//! The Gemini protocol through the gateway against the strict fake upstream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::{Harness, sse_data};
use uplink_fake_upstream::Behavior;

const MODEL: &str = "gemini-2.5-pro";

fn body(text: &str) -> Value {
    json!({
        "contents": [{"role": "user", "parts": [{"text": text}]}],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "generationConfig": {"temperature": 0.2, "maxOutputTokens": 256},
    })
}

#[tokio::test]
async fn generate_content_under_v1beta_and_v1() {
    let h = Harness::start(&["a@x.com"]).await;
    for version in ["v1beta", "v1"] {
        let res = h
            .post(
                &format!("/{version}/models/{MODEL}:generateContent"),
                body("hello"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{version}");
        assert_eq!(res.headers()["x-mapped-model"], MODEL);
        let b: Value = res.json().await.unwrap();
        let cand = &b["candidates"][0];
        assert_eq!(cand["content"]["role"], "model");
        assert_eq!(
            cand["content"]["parts"][0]["text"],
            format!("Hello from {MODEL}. You said: hello")
        );
        assert_eq!(cand["finishReason"], "STOP");
        assert!(b["usageMetadata"]["promptTokenCount"].as_u64().unwrap() > 0);
        assert!(
            b.get("response").is_none(),
            "the Cloud Code envelope is unwrapped"
        );
    }
}

#[tokio::test]
async fn stream_as_sse_ends_with_a_finish_reason() {
    let h = Harness::start(&["a@x.com"]).await;
    h.fake.script(
        "a@x.com",
        vec![Behavior::Chunks(vec!["a".into(), "b".into(), "c".into()])],
    );
    let res = h
        .post(
            &format!("/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"),
            body("hi"),
        )
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
    let chunks: Vec<Value> = sse_data(&res.text().await.unwrap())
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let text: String = chunks
        .iter()
        .flat_map(|c| {
            c["candidates"][0]["content"]["parts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|p| p["text"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(text, "abc");
    assert_eq!(
        chunks.last().unwrap()["candidates"][0]["finishReason"],
        "STOP"
    );
    assert!(
        chunks.last().unwrap()["usageMetadata"]["totalTokenCount"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[tokio::test]
async fn stream_without_alt_sse_is_one_json_array() {
    let h = Harness::start(&["a@x.com"]).await;
    let res = h
        .post(
            &format!(
                "/v1beta/models/{MODEL}:streamGenerateContent?%24alt=json%3Benum-encoding%3Dint"
            ),
            body("hi"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let array: Vec<Value> = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    assert!(!array.is_empty());
    assert_eq!(
        array.last().unwrap()["candidates"][0]["finishReason"],
        "STOP"
    );
}

#[tokio::test]
async fn count_tokens_is_real_in_both_request_forms() {
    let h = Harness::start(&["a@x.com"]).await;
    let plain =
        json!({"contents": [{"role": "user", "parts": [{"text": "count these words please"}]}]});
    let wrapped = json!({"generateContentRequest": {"model": format!("models/{MODEL}"), "contents": plain["contents"]}});
    for b in [plain, wrapped] {
        let res = h
            .post(&format!("/v1beta/models/{MODEL}:countTokens"), b)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let v: Value = res.json().await.unwrap();
        assert!(v["totalTokens"].as_u64().unwrap() > 0, "{v}");
    }
    assert_eq!(
        h.fake.call_count(Some("a@x.com"), "countTokens"),
        2,
        "asked the upstream"
    );
}

#[tokio::test]
async fn errors_come_in_googles_shape() {
    let h = Harness::start_with(&["a@x.com"], "max_body_bytes = 1000").await;
    let res = h
        .client
        .post(
            h.app
                .url(&format!("/v1beta/models/{MODEL}:generateContent")),
        )
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let b: Value = res.json().await.unwrap();
    assert_eq!(
        (b["error"]["code"].as_u64(), b["error"]["status"].as_str()),
        (Some(400), Some("INVALID_ARGUMENT"))
    );

    let res = h
        .post(
            &format!("/v1beta/models/{MODEL}:generateContent"),
            body(&"y".repeat(2000)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let b: Value = res.json().await.unwrap();
    assert_eq!(b["error"]["code"], 413);

    let res = h
        .post(&format!("/v1beta/models/{MODEL}:embedContent"), body("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let b: Value = res.json().await.unwrap();
    assert_eq!(b["error"]["status"], "NOT_FOUND");

    h.fake
        .set_default_behavior("a@x.com", Some(Behavior::quota_exhausted("30s")));
    let res = h
        .post(
            &format!("/v1beta/models/{MODEL}:generateContent"),
            body("x"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    let b: Value = res.json().await.unwrap();
    assert_eq!(b["error"]["status"], "RESOURCE_EXHAUSTED");
}

#[tokio::test]
async fn models_are_listed_in_the_callers_shape() {
    let h = Harness::start(&["a@x.com"]).await;
    let get = |path: &str, header: Option<(&str, &str)>| {
        let mut r = h.client.get(h.app.url(path));
        if let Some((k, v)) = header {
            r = r.header(k, v);
        }
        r.send()
    };
    let openai: Value = get("/v1/models", None).await.unwrap().json().await.unwrap();
    assert_eq!(openai["object"], "list");
    assert!(
        openai["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == MODEL && m["object"] == "model")
    );

    let anthropic: Value = get("/v1/models", Some(("anthropic-version", "2023-06-01")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(anthropic["has_more"], false);
    assert!(
        anthropic["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["type"] == "model" && m["display_name"].is_string())
    );

    let gemini: Value = get("/v1/models", Some(("x-goog-api-key", "k")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        gemini["models"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == format!("models/{MODEL}"))
    );
    let beta: Value = get("/v1beta/models", None)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(beta, gemini);

    let one: Value = get(&format!("/v1beta/models/{MODEL}"), None)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["name"], format!("models/{MODEL}"));
    let missing = get("/v1/models/nope-1", None).await.unwrap();
    assert_eq!(missing.status(), 404);
    let b: Value = missing.json().await.unwrap();
    assert_eq!(b["error"]["code"], "model_not_found");
}
