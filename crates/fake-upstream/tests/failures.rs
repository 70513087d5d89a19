//! Every scripted failure: status and body; timing; connection cuts; prefix failures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use uplink_fake_upstream::{Behavior, VALIDATION_URL};

async fn scripted(behavior: Behavior) -> (u16, Value) {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    fake.script(ALICE, vec![behavior]);
    generate(
        &fake,
        &c,
        &t,
        "gemini-2.5-pro",
        json!({"contents": [user("x")]}),
    )
    .await
}

#[tokio::test]
async fn quota_exhausted_has_the_real_body() {
    let (s, mut b) = scripted(Behavior::quota_exhausted("2h1m1.5s")).await;
    assert_eq!(s, 429);
    let stamp = b["error"]["details"][0]["metadata"]["quotaResetTimeStamp"].take();
    let stamp = stamp.as_str().unwrap();
    assert!(stamp.len() == 20 && stamp.ends_with('Z'), "{stamp}");
    assert_eq!(
        b,
        json!({"error": {
            "code": 429,
            "message": "You have exhausted your capacity on this model. Your quota will reset after 2h1m1.5s.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "QUOTA_EXHAUSTED",
                 "domain": "cloudcode-pa.googleapis.com",
                 "metadata": {"uiMessage": "true", "model": "gemini-2.5-pro",
                              "quotaResetDelay": "2h1m1.5s", "quotaResetTimeStamp": null}},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7261.5s"}
            ]
        }})
    );
}

#[tokio::test]
async fn rate_limited_capacity_and_server_errors() {
    let (s, b) = scripted(Behavior::RateLimited).await;
    assert_eq!(
        (s, b["error"]["status"].as_str().unwrap()),
        (429, "RESOURCE_EXHAUSTED")
    );
    assert_eq!(b["error"]["details"][0]["reason"], "RATE_LIMIT_EXCEEDED");
    assert_eq!(b["error"]["details"][1]["retryDelay"], "0.976066617s");

    let (s, b) = scripted(Behavior::Capacity).await;
    assert_eq!(
        (s, b["error"]["status"].as_str().unwrap()),
        (503, "UNAVAILABLE")
    );
    assert_eq!(
        b["error"]["details"][0]["reason"],
        "MODEL_CAPACITY_EXHAUSTED"
    );
    assert_eq!(
        message(&b),
        "No capacity available for model gemini-2.5-pro on the server"
    );

    for (code, status) in [
        (500, "INTERNAL"),
        (503, "UNAVAILABLE"),
        (404, "NOT_FOUND"),
        (502, "INTERNAL"),
    ] {
        let (s, b) = scripted(Behavior::ServerError(code)).await;
        assert_eq!(s, code);
        assert_eq!(b["error"]["code"], code);
        assert_eq!(b["error"]["status"], status);
    }
}

#[tokio::test]
async fn validation_required_and_forbidden() {
    let (s, b) = scripted(Behavior::ValidationRequired).await;
    assert_eq!(
        (s, b["error"]["status"].as_str().unwrap()),
        (403, "PERMISSION_DENIED")
    );
    let d = &b["error"]["details"][0];
    assert_eq!(d["reason"], "VALIDATION_REQUIRED");
    assert_eq!(d["metadata"]["validation_url"], VALIDATION_URL);
    assert_eq!(message(&b), "Verify your account to continue.");

    let (s, b) = scripted(Behavior::Forbidden).await;
    assert_eq!(
        (s, b["error"]["status"].as_str().unwrap()),
        (403, "PERMISSION_DENIED")
    );
    assert!(b["error"].get("details").is_none());
}

#[tokio::test]
async fn unauthorized_once_then_refresh_and_retry_works() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    fake.script(ALICE, vec![Behavior::Unauthorized]);
    let req = json!({"contents": [user("x")]});
    let (s, b) = generate(&fake, &c, &t, "gemini-2.5-pro", req.clone()).await;
    assert_eq!(
        (s, b["error"]["status"].as_str().unwrap()),
        (401, "UNAUTHENTICATED")
    );
    assert_eq!(
        generate(&fake, &c, &t, "gemini-2.5-pro", req.clone())
            .await
            .0,
        401,
        "the old token is dead"
    );
    let t2 = token(&fake, &c, ALICE_RT).await;
    assert_eq!(generate(&fake, &c, &t2, "gemini-2.5-pro", req).await.0, 200);
}

#[tokio::test]
async fn error_behaviour_verbatim() {
    let (s, b) = scripted(Behavior::Error {
        status: 418,
        body: json!({"teapot": true}),
    })
    .await;
    assert_eq!((s, b), (418, json!({"teapot": true})));
}

#[tokio::test]
async fn slow_first_byte_delays_the_response_head() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    fake.script(
        ALICE,
        vec![Behavior::SlowFirstByte(Duration::from_millis(300))],
    );
    let started = Instant::now();
    let resp = c
        .post(format!(
            "{}:streamGenerateContent?alt=sse",
            fake.cloudcode_url()
        ))
        .bearer_auth(&t)
        .json(&envelope(
            "gemini-2.5-pro",
            json!({"contents": [user("x")]}),
        ))
        .send()
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(resp.status(), 200);
    assert_eq!(sse_events(&resp.text().await.unwrap()).len(), 2);
}

#[tokio::test]
async fn chunk_delay_sends_head_first_then_slow_chunks() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    fake.script(
        ALICE,
        vec![Behavior::ChunkDelay(Duration::from_millis(200))],
    );
    let started = Instant::now();
    let resp = c
        .post(format!(
            "{}:streamGenerateContent?alt=sse",
            fake.cloudcode_url()
        ))
        .bearer_auth(&t)
        .json(&envelope(
            "gemini-2.5-pro",
            json!({"contents": [user("x")]}),
        ))
        .send()
        .await
        .unwrap();
    let head = started.elapsed();
    let text = resp.text().await.unwrap();
    assert!(
        head < Duration::from_millis(200),
        "head came after {head:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "two delayed chunks"
    );
    assert_eq!(sse_events(&text).len(), 2);
}

#[tokio::test]
async fn cut_after_drops_the_connection_mid_stream() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    fake.script(ALICE, vec![Behavior::CutAfter(2)]);
    let resp = c
        .post(format!(
            "{}:streamGenerateContent?alt=sse",
            fake.cloudcode_url()
        ))
        .bearer_auth(&t)
        .json(&envelope(
            "gemini-2.5-pro",
            json!({"contents": [user("x")]}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut resp = resp;
    let mut got = Vec::new();
    let err = loop {
        match resp.chunk().await {
            Ok(Some(b)) => got.extend_from_slice(&b),
            Ok(None) => panic!("stream ended cleanly: {}", String::from_utf8_lossy(&got)),
            Err(e) => break e,
        }
    };
    let text = String::from_utf8(got).unwrap();
    let events = sse_events(&text);
    assert_eq!(events.len(), 2, "{text}");
    assert!(
        events
            .iter()
            .all(|e| e["response"]["candidates"][0].get("finishReason").is_none())
    );
    assert!(
        err.is_body() || err.is_decode() || err.is_request(),
        "{err:?}"
    );
}

#[tokio::test]
async fn prefix_failures_only_hit_their_endpoint() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    fake.script_prefix(
        "/ep1",
        vec![Behavior::ServerError(503), Behavior::ServerError(404)],
    );
    let body = envelope("gemini-2.5-pro", json!({"contents": [user("x")]}));
    let post = |base: String| {
        let c = c.clone();
        let t = t.clone();
        let body = body.clone();
        async move {
            let r = c
                .post(format!("{base}:generateContent"))
                .bearer_auth(&t)
                .json(&body)
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        }
    };
    assert_eq!(post(fake.cloudcode_url_at("/ep1")).await, 503);
    assert_eq!(
        post(fake.cloudcode_url()).await,
        200,
        "the default base is unaffected"
    );
    assert_eq!(post(fake.cloudcode_url_at("/ep1")).await, 404);
    assert_eq!(
        post(fake.cloudcode_url_at("/ep1")).await,
        200,
        "queue consumed"
    );

    fake.set_prefix_default("/ep2", Some(Behavior::ServerError(503)));
    for _ in 0..2 {
        assert_eq!(post(fake.cloudcode_url_at("/ep2")).await, 503);
    }
    fake.set_prefix_default("/ep2", None);
    assert_eq!(post(fake.cloudcode_url_at("/ep2")).await, 200);
    assert_eq!(fake.call_count(Some(ALICE), "generateContent"), 7);
}

#[tokio::test]
async fn zero_quota_answers_429_without_a_script() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    fake.set_quota(ALICE, "claude-opus-4-5-thinking", 0.0, None);
    let req = json!({"contents": [user("x")]});
    let (s, b) = generate(&fake, &c, &t, "claude-opus-4-5-thinking", req.clone()).await;
    assert_eq!(s, 429, "{b}");
    assert_eq!(b["error"]["details"][0]["reason"], "QUOTA_EXHAUSTED");
    assert_eq!(
        generate(&fake, &c, &t, "gemini-2.5-pro", req).await.0,
        200,
        "other models are fine"
    );
}

#[tokio::test]
async fn cut_after_on_a_non_stream_call_fails_the_body() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    fake.script(ALICE, vec![Behavior::CutAfter(1)]);
    let resp = c
        .post(format!("{}:generateContent", fake.cloudcode_url()))
        .bearer_auth(&t)
        .json(&envelope(
            "gemini-2.5-pro",
            json!({"contents": [user("x")]}),
        ))
        .send()
        .await;
    let failed = match resp {
        Err(_) => true,
        Ok(r) => r.text().await.is_err(),
    };
    assert!(failed, "the connection must drop before a complete body");
    let (s, _) = generate(
        &fake,
        &c,
        &t,
        "gemini-2.5-pro",
        json!({"contents": [user("x")]}),
    )
    .await;
    assert_eq!(s, 200, "one cut only");
}

#[tokio::test]
async fn unknown_methods_and_paths_are_404() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    let (s, b) = call(&fake, &c, &t, "doMagic", &json!({})).await;
    assert_eq!((s, message(&b).as_str()), (404, "Method not found."));
    let r = c
        .post(format!("{}/v1beta/models", fake.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let (s, b) = call(&fake, &c, &t, "generateContent", &json!("not an object")).await;
    assert_eq!(s, 400);
    assert!(
        message(&b).contains("Root element must be a message"),
        "{b}"
    );
}
