//! Shared helpers for the fake-upstream integration tests (real sockets, reqwest).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use uplink_fake_upstream::{AccountSpec, FakeUpstream};

pub const ALICE: &str = "alice@example.com";
pub const ALICE_RT: &str = "rt-alice";
pub const ALICE_PROJECT: &str = "proj-alice";

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().unwrap()
}

/// A fake with Alice (onboarded, project `proj-alice`).
pub async fn fake() -> FakeUpstream {
    let fake = FakeUpstream::start().await.unwrap();
    fake.add_account(AccountSpec::new(ALICE_RT, ALICE, ALICE_PROJECT));
    fake
}

pub async fn refresh(
    fake: &FakeUpstream,
    c: &reqwest::Client,
    refresh_token: &str,
) -> (u16, Value) {
    let resp = c
        .post(fake.token_url())
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", "cid"),
            ("client_secret", "csecret"),
        ])
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

pub async fn token(fake: &FakeUpstream, c: &reqwest::Client, refresh_token: &str) -> String {
    let (status, body) = refresh(fake, c, refresh_token).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

/// POST JSON to `<cloudcode>:<method>` with a bearer token; returns status and parsed body.
pub async fn call(
    fake: &FakeUpstream,
    c: &reqwest::Client,
    token: &str,
    method: &str,
    body: &Value,
) -> (u16, Value) {
    let resp = c
        .post(format!("{}:{method}", fake.cloudcode_url()))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, v)
}

/// The Antigravity envelope around an inner request.
pub fn envelope(model: &str, request: Value) -> Value {
    json!({
        "project": ALICE_PROJECT,
        "model": model,
        "request": request,
        "requestId": "agent-test-1",
        "userAgent": "antigravity",
        "requestType": "agent",
    })
}

pub fn user(text: &str) -> Value {
    json!({"role": "user", "parts": [{"text": text}]})
}

/// generateContent for Alice with a simple inner request.
pub async fn generate(
    fake: &FakeUpstream,
    c: &reqwest::Client,
    token: &str,
    model: &str,
    request: Value,
) -> (u16, Value) {
    call(fake, c, token, "generateContent", &envelope(model, request)).await
}

/// streamGenerateContent?alt=sse for Alice; returns status, raw body text.
pub async fn stream_raw(
    fake: &FakeUpstream,
    c: &reqwest::Client,
    token: &str,
    body: &Value,
) -> (u16, Result<String, reqwest::Error>) {
    let resp = c
        .post(format!(
            "{}:streamGenerateContent?alt=sse",
            fake.cloudcode_url()
        ))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await)
}

/// Parses `data: <json>\r\n\r\n` events, asserting the exact framing.
pub fn sse_events(text: &str) -> Vec<Value> {
    assert!(
        text.ends_with("\r\n\r\n"),
        "stream must end with a blank line: {text:?}"
    );
    text.split_terminator("\r\n\r\n")
        .map(|frame| {
            let data = frame
                .strip_prefix("data: ")
                .unwrap_or_else(|| panic!("frame without `data: `: {frame:?}"));
            assert!(!data.contains('\n'), "one line per event: {frame:?}");
            serde_json::from_str(data).unwrap()
        })
        .collect()
}

/// The error message of a Google error body.
pub fn message(body: &Value) -> String {
    body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

pub mod providers;
