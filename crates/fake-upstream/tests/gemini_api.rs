//! The public Gemini API through real sockets: unwrapped answers (JSON, SSE, JSON-array
//! streams), countTokens, keys from the header or `?key=`, the shared strict validation,
//! scripted failures in the Gemini API's shapes and recording per key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::providers::*;
use common::{client, sse_events, user};
use serde_json::{Value, json};
use uplink_fake_upstream::{Behavior, Family, Provider};

const MODEL: &str = "gemini-2.5-flash";

#[tokio::test]
async fn generate_content_is_unwrapped() {
    let fake = fake_with_keys().await;
    let body = json!({"contents": [user("ping")]});
    let r = gemini(&fake, &client(), GEM_KEY, MODEL, "generateContent", &body).await;
    assert_eq!(r.status, 200, "{}", r.body());
    let b = r.json();
    assert!(b.get("response").is_none() && b.get("traceId").is_none());
    assert_eq!(
        b["candidates"],
        json!([{"content": {"role": "model", "parts": [
            {"text": "Hello from gemini-2.5-flash. You said: ping"}]},
            "finishReason": "STOP", "index": 0}])
    );
    assert_eq!(
        b["usageMetadata"],
        json!({"promptTokenCount": 1, "candidatesTokenCount": 11, "totalTokenCount": 12})
    );
    assert_eq!(b["modelVersion"], MODEL);
}

#[tokio::test]
async fn streams_as_sse_or_a_json_array() {
    let fake = fake_with_keys().await;
    let c = client();
    let body = json!({"contents": [user("ping")]});
    let r = gemini(
        &fake,
        &c,
        GEM_KEY,
        MODEL,
        "streamGenerateContent?alt=sse",
        &body,
    )
    .await;
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    let events = sse_events(r.body());
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.get("response").is_none()));
    assert_eq!(events[1]["candidates"][0]["finishReason"], "STOP");
    let r = gemini(&fake, &c, GEM_KEY, MODEL, "streamGenerateContent", &body).await;
    let array = r.json();
    assert_eq!(array.as_array().unwrap().len(), 2);
    assert_eq!(
        array[0]["candidates"][0]["content"]["parts"][0]["text"],
        "Hello"
    );
}

#[tokio::test]
async fn thoughts_and_gemini3_signatures_follow_the_shared_rules() {
    let fake = fake_with_keys().await;
    let c = client();
    fake.script(GEM, vec![Behavior::function_call("f", json!({}))]);
    let tools = json!([{"functionDeclarations": [{"name": "f"}]}]);
    let body = json!({"contents": [user("x")], "tools": tools});
    let r = gemini(
        &fake,
        &c,
        GEM_KEY,
        "gemini-3-pro-preview",
        "generateContent",
        &body,
    )
    .await;
    let part = r.json()["candidates"][0]["content"]["parts"][0].clone();
    assert!(part["thoughtSignature"].is_string());
    let unsigned = json!({"functionCall": {"name": "f", "args": {}}});
    let history = |call: Value| {
        json!({"tools": tools, "contents": [user("x"), {"role": "model", "parts": [call]},
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]}]})
    };
    let r = gemini(
        &fake,
        &c,
        GEM_KEY,
        "gemini-3-pro-preview",
        "generateContent",
        &history(unsigned),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Function call is missing a thought_signature")
    );
    let r = gemini(
        &fake,
        &c,
        GEM_KEY,
        "gemini-3-pro-preview",
        "generateContent",
        &history(part),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body());
    // Signatures of the Gemini family are shared with Cloud Code's Gemini models.
    let sig = fake.issue_signature(Family::Gemini);
    let signed = json!({"functionCall": {"name": "f", "args": {}}, "thoughtSignature": sig});
    let r = gemini(
        &fake,
        &c,
        GEM_KEY,
        "gemini-3-pro-preview",
        "generateContent",
        &history(signed),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body());
}

#[tokio::test]
async fn validation_is_the_strict_gemini_one() {
    let fake = fake_with_keys().await;
    let c = client();
    let bad = json!({"contents": [user("x")], "generationConfig": {"maxTokens": 5}});
    let r = gemini(&fake, &c, GEM_KEY, MODEL, "generateContent", &bad).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["status"], "INVALID_ARGUMENT");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Unknown name \"maxTokens\""),
        "{}",
        r.body()
    );
    let good = json!({"contents": [user("x")], "generationConfig": {"maxOutputTokens": 5}});
    assert_eq!(
        gemini(&fake, &c, GEM_KEY, MODEL, "generateContent", &good)
            .await
            .status,
        200
    );
    // The envelope's fields are not the public API's.
    let bad = json!({"contents": [user("x")], "project": "p"});
    assert_eq!(
        gemini(&fake, &c, GEM_KEY, MODEL, "generateContent", &bad)
            .await
            .status,
        400
    );
    let bad = json!({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]});
    let r = gemini(&fake, &c, GEM_KEY, MODEL, "generateContent", &bad).await;
    assert_eq!(
        r.json()["error"]["message"],
        "Please use a valid role: user, model."
    );
}

#[tokio::test]
async fn count_tokens() {
    let fake = fake_with_keys().await;
    let c = client();
    let body = json!({"contents": [user("hello there")]});
    let r = gemini(&fake, &c, GEM_KEY, MODEL, "countTokens", &body).await;
    assert_eq!((r.status, r.json()), (200, json!({"totalTokens": 3})));
    let wrapped = json!({"generateContentRequest": {"model": format!("models/{MODEL}"),
        "contents": [user("hello there")], "systemInstruction": {"parts": [{"text": "brief"}]}}});
    let r = gemini(&fake, &c, GEM_KEY, MODEL, "countTokens", &wrapped).await;
    assert_eq!((r.status, r.json()), (200, json!({"totalTokens": 4})));
    assert_eq!(fake.call_count(Some(GEM), "countTokens"), 2);
}

#[tokio::test]
async fn keys_from_header_or_query_and_their_errors() {
    let fake = fake_with_keys().await;
    let c = client();
    let body = json!({"contents": [user("x")]});
    let url = format!(
        "{}/v1beta/models/{MODEL}:generateContent",
        fake.gemini_url()
    );
    let r = post(&c, &format!("{url}?key={GEM_KEY}"), &[], &body).await;
    assert_eq!(r.status, 200, "{}", r.body());

    let r = post(&c, &url, &[], &body).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"]["status"], "PERMISSION_DENIED");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Method doesn't allow unregistered callers")
    );

    let r = post(&c, &url, &[("x-goog-api-key", "AIza-wrong")], &body).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT", "details": [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"}},
                {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
                    "message": "API key not valid. Please pass a valid API key."}]}})
    );
    fake.revoke_api_key(GEM_KEY);
    let r = gemini(&fake, &c, GEM_KEY, MODEL, "generateContent", &body).await;
    assert_eq!(r.json()["error"]["details"][0]["reason"], "API_KEY_INVALID");
}

async fn scripted(behavior: Behavior, method: &str) -> Reply {
    let fake = fake_with_keys().await;
    fake.script(GEM, vec![behavior]);
    let body = json!({"contents": [user("one two three")]});
    gemini(&fake, &client(), GEM_KEY, MODEL, method, &body).await
}

#[tokio::test]
async fn scripted_failures_have_gemini_api_shapes() {
    let r = scripted(Behavior::quota_exhausted("2h"), "generateContent").await;
    assert_eq!(r.status, 429);
    let e = r.json()["error"].clone();
    assert_eq!(e["status"], "RESOURCE_EXHAUSTED");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("You exceeded your current quota")
    );
    assert_eq!(
        e["details"][0]["@type"],
        "type.googleapis.com/google.rpc.QuotaFailure"
    );
    assert_eq!(
        e["details"][0]["violations"][0]["quotaId"],
        "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
    );
    assert_eq!(
        e["details"][0]["violations"][0]["quotaDimensions"]["model"],
        MODEL
    );
    assert_eq!(e["details"][2]["retryDelay"], "7200s");

    let r = scripted(Behavior::RateLimited, "generateContent").await;
    assert_eq!(r.json()["error"]["details"][2]["retryDelay"], "1s");

    let r = scripted(Behavior::Capacity, "generateContent").await;
    assert_eq!(
        (r.status, r.json()["error"]["status"].clone()),
        (503, json!("UNAVAILABLE"))
    );
    let r = scripted(Behavior::ServerError(500), "generateContent").await;
    assert_eq!(
        (r.status, r.json()["error"]["status"].clone()),
        (500, json!("INTERNAL"))
    );
    let r = scripted(Behavior::Unauthorized, "generateContent").await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn stream_cut_and_error_mid_stream() {
    let r = scripted(Behavior::CutAfter(2), "streamGenerateContent?alt=sse").await;
    assert_eq!(r.status, 200);
    assert!(r.text.is_err(), "the connection is cut");
    let r = scripted(
        Behavior::stream_error(2, 503),
        "streamGenerateContent?alt=sse",
    )
    .await;
    let events = sse_events(r.body());
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[2],
        json!({"error": {"code": 503, "message": "The service is currently unavailable.",
            "status": "UNAVAILABLE"}})
    );
}

#[tokio::test]
async fn models_and_recording() {
    let fake = fake_with_keys().await;
    let c = client();
    let body = json!({"contents": [user("x")]});
    fake.set_provider_models(Provider::Gemini, Some(vec!["gemini-2.5-pro".into()]));
    let r = gemini(&fake, &c, GEM_KEY, MODEL, "generateContent", &body).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json()["error"]["message"],
        "models/gemini-2.5-flash is not found for API version v1beta, or is not supported for \
         generateContent. Call ListModels to see the list of available models and their \
         supported methods."
    );
    let r = gemini(
        &fake,
        &c,
        GEM_KEY,
        "gemini-2.5-pro",
        "streamGenerateContent?alt=sse",
        &body,
    )
    .await;
    assert_eq!(r.status, 200);
    let calls = fake.provider_calls(Provider::Gemini, GEM);
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].endpoint, "streamGenerateContent");
    assert_eq!(calls[1].query.as_deref(), Some("alt=sse"));
    assert_eq!(calls[1].prefix, "/gemini");
    // Cloud Code's generate calls are not the Gemini provider's.
    assert!(
        fake.generate_calls(GEM)
            .iter()
            .all(|r| r.provider.as_deref() == Some("gemini"))
    );
}
