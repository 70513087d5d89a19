//! The HTTP control API for API keys (keys, revocation, model lists, scripts by label or
//! key, request filters, provider signatures, reset), the StreamError behaviour on Cloud
//! Code, and routing between providers and Cloud Code prefixes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::providers::*;
use common::*;
use serde_json::{Value, json};
use uplink_fake_upstream::{ApiKeySpec, Behavior, FakeConfig, FakeUpstream, Provider};

async fn control(
    fake: &FakeUpstream,
    c: &reqwest::Client,
    route: &str,
    body: Value,
) -> (u16, Value) {
    let resp = c
        .post(format!("{}/{route}", fake.control_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn get(c: &reqwest::Client, url: &str) -> Value {
    c.get(url).send().await.unwrap().json().await.unwrap()
}

fn ant_body() -> Value {
    json!({"model": "glm-4.6", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test]
async fn keys_are_managed_over_http() {
    let fake = FakeUpstream::start().await.unwrap();
    let c = client();
    let (s, b) = control(
        &fake,
        &c,
        "api_keys",
        json!({"provider": "anthropic", "key": "zai-key-1", "label": "zai-1"}),
    )
    .await;
    assert_eq!((s, b), (200, json!({"ok": true, "label": "zai-1"})));
    let (s, b) = control(
        &fake,
        &c,
        "api_keys",
        json!({"provider": "openai", "key": "k2"}),
    )
    .await;
    assert_eq!((s, b["label"].clone()), (200, json!("k2")));
    let (s, _) = control(
        &fake,
        &c,
        "api_keys",
        json!({"provider": "mistral", "key": "k"}),
    )
    .await;
    assert_eq!(s, 400);
    let list = get(&c, &format!("{}/api_keys", fake.control_url())).await;
    assert_eq!(
        list,
        json!([{"provider": "anthropic", "key": "zai-key-1", "label": "zai-1", "revoked": false},
            {"provider": "openai", "key": "k2", "label": "k2", "revoked": false}])
    );
    assert_eq!(
        messages(&fake, &c, "zai-key-1", &ant_body()).await.status,
        200
    );

    let (s, _) = control(&fake, &c, "api_keys/revoke", json!({"key": "zai-1"})).await;
    assert_eq!(s, 200);
    assert_eq!(
        messages(&fake, &c, "zai-key-1", &ant_body()).await.status,
        401
    );
    let (s, _) = control(
        &fake,
        &c,
        "api_keys/revoke",
        json!({"label": "zai-1", "revoked": false}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        messages(&fake, &c, "zai-key-1", &ant_body()).await.status,
        200
    );
    let (s, _) = control(&fake, &c, "api_keys/revoke", json!({"key": "nope"})).await;
    assert_eq!(s, 404);

    let (s, _) = control(
        &fake,
        &c,
        "provider_models",
        json!({"provider": "anthropic", "models": ["glm-4.5"]}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        messages(&fake, &c, "zai-key-1", &ant_body()).await.status,
        404
    );
    control(
        &fake,
        &c,
        "provider_models",
        json!({"provider": "anthropic", "models": null}),
    )
    .await;
    assert_eq!(
        messages(&fake, &c, "zai-key-1", &ant_body()).await.status,
        200
    );
}

#[tokio::test]
async fn scripts_by_label_or_key_and_request_filters() {
    let fake = fake_with_keys().await;
    let c = client();
    let (s, _) = control(
        &fake,
        &c,
        "script",
        json!({"label": ANT, "behaviors": [{"stream_error": {"after": 1, "status": 529}}]}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = control(
        &fake,
        &c,
        "default_behavior",
        json!({"key": OAI_KEY, "behavior": "rate_limited"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(messages(&fake, &c, ANT_KEY, &ant_body()).await.status, 529);
    assert_eq!(messages(&fake, &c, ANT_KEY, &ant_body()).await.status, 200);
    let oai = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]});
    assert_eq!(chat(&fake, &c, OAI_KEY, &oai).await.status, 429);
    assert_eq!(chat(&fake, &c, OAI_KEY, &oai).await.status, 429);
    control(
        &fake,
        &c,
        "default_behavior",
        json!({"account": OAI, "behavior": null}),
    )
    .await;
    assert_eq!(chat(&fake, &c, OAI_KEY, &oai).await.status, 200);

    let url = format!(
        "{}/requests?provider=openai&label={OAI}",
        fake.control_url()
    );
    let list = get(&c, &url).await;
    let statuses: Vec<Value> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].clone())
        .collect();
    assert_eq!(statuses, [json!(429), json!(429), json!(200)]);
    assert_eq!(list[0]["provider"], "openai");
    assert_eq!(list[0]["account"], OAI);
    let url = format!(
        "{}/requests?provider=anthropic&endpoint=messages",
        fake.control_url()
    );
    assert_eq!(get(&c, &url).await.as_array().unwrap().len(), 2);
    let url = format!("{}/requests?prefix=/openai", fake.control_url());
    assert_eq!(get(&c, &url).await.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn provider_signatures_and_prefix_failures_over_http() {
    let fake = fake_with_keys().await;
    let c = client();
    let (s, b) = control(&fake, &c, "signatures", json!({"provider": "anthropic"})).await;
    assert_eq!(s, 200);
    let sig = b["signature"].as_str().unwrap().to_string();
    let body = json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": sig}]},
        {"role": "user", "content": "y"}]});
    assert_eq!(messages(&fake, &c, ANT_KEY, &body).await.status, 200);
    let (s, _) = control(
        &fake,
        &c,
        "signatures",
        json!({"provider": "anthropic", "family": "claude"}),
    )
    .await;
    assert_eq!(s, 400);

    let (s, _) = control(
        &fake,
        &c,
        "prefix",
        json!({"prefix": "/openai", "behaviors": ["capacity"]}),
    )
    .await;
    assert_eq!(s, 200);
    let oai = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]});
    let r = chat(&fake, &c, OAI_KEY, &oai).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["error"]["type"], "server_error");
    assert_eq!(chat(&fake, &c, OAI_KEY, &oai).await.status, 200);
}

#[tokio::test]
async fn reset_restores_configured_keys() {
    let fake = FakeUpstream::start_with(FakeConfig {
        api_keys: vec![ApiKeySpec::new(Provider::Gemini, GEM_KEY, "")],
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let c = client();
    assert_eq!(fake.api_keys()[0].label, GEM_KEY);
    fake.add_api_key(Provider::OpenAi, OAI_KEY, OAI);
    fake.revoke_api_key(GEM_KEY);
    fake.reset();
    assert_eq!(fake.api_keys().len(), 1);
    let body = json!({"contents": [user("x")]});
    let r = gemini(
        &fake,
        &c,
        GEM_KEY,
        "gemini-2.5-flash",
        "generateContent",
        &body,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(fake.provider_calls(Provider::Gemini, GEM_KEY).len(), 1);
}

#[tokio::test]
async fn cloud_code_streams_can_fail_in_band() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    fake.script(
        ALICE,
        vec![
            Behavior::stream_error(2, 503),
            Behavior::stream_error(2, 500),
        ],
    );
    let body = envelope("gemini-2.5-flash", json!({"contents": [user("a b c")]}));
    let (s, text) = stream_raw(&fake, &c, &t, &body).await;
    assert_eq!(s, 200);
    let events = sse_events(&text.unwrap());
    assert_eq!(events.len(), 3);
    assert_eq!(events[2]["error"]["status"], "UNAVAILABLE");
    let (s, b) = generate(
        &fake,
        &c,
        &t,
        "gemini-2.5-flash",
        json!({"contents": [user("x")]}),
    )
    .await;
    assert_eq!((s, b["error"]["status"].clone()), (500, json!("INTERNAL")));
}

#[tokio::test]
async fn provider_prefixes_do_not_capture_cloud_code_calls() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    let body = envelope("gemini-2.5-flash", json!({"contents": [user("x")]}));
    let resp = c
        .post(format!(
            "{}:generateContent",
            fake.cloudcode_url_at("/anthropic")
        ))
        .bearer_auth(&t)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let r = &fake.requests()[1];
    assert_eq!(
        (r.prefix.as_str(), r.provider.as_deref()),
        ("/anthropic", None)
    );
    assert_eq!(r.account.as_deref(), Some(ALICE));
}
