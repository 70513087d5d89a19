//! Helpers for the API-key provider tests: keys, raw requests and exact SSE parsing.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use reqwest::header::HeaderMap;
use serde_json::Value;
use uplink_fake_upstream::{FakeUpstream, Provider};

pub const ANT_KEY: &str = "sk-ant-test-0001";
pub const ANT: &str = "ant-1";
pub const ANT_KEY2: &str = "sk-ant-test-0002";
pub const ANT2: &str = "ant-2";
pub const OAI_KEY: &str = "sk-oai-test-0001";
pub const OAI: &str = "oai-1";
pub const GEM_KEY: &str = "AIza-test-0001";
pub const GEM: &str = "gem-1";

/// A fake with two Anthropic keys, one OpenAI key and one Gemini key.
pub async fn fake_with_keys() -> FakeUpstream {
    let fake = FakeUpstream::start().await.unwrap();
    fake.add_api_key(Provider::Anthropic, ANT_KEY, ANT);
    fake.add_api_key(Provider::Anthropic, ANT_KEY2, ANT2);
    fake.add_api_key(Provider::OpenAi, OAI_KEY, OAI);
    fake.add_api_key(Provider::Gemini, GEM_KEY, GEM);
    fake
}

/// A response: status, headers and body text (`Err` when the connection broke).
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: Result<String, reqwest::Error>,
}

impl Reply {
    pub fn json(&self) -> Value {
        let text = self.text.as_ref().expect("body");
        serde_json::from_str(text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn body(&self) -> &str {
        self.text.as_ref().expect("body")
    }
}

/// POST `body` to `url` with `headers`.
pub async fn post(c: &reqwest::Client, url: &str, headers: &[(&str, &str)], body: &Value) -> Reply {
    let mut req = c.post(url).json(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    Reply {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        text: resp.text().await,
    }
}

/// POST to `/anthropic/v1/messages` with `x-api-key` and `anthropic-version`.
pub async fn messages(fake: &FakeUpstream, c: &reqwest::Client, key: &str, body: &Value) -> Reply {
    let url = format!("{}/v1/messages", fake.anthropic_url());
    post(
        c,
        &url,
        &[("x-api-key", key), ("anthropic-version", "2023-06-01")],
        body,
    )
    .await
}

/// POST to `/openai/v1/chat/completions` with a bearer key.
pub async fn chat(fake: &FakeUpstream, c: &reqwest::Client, key: &str, body: &Value) -> Reply {
    let url = format!("{}/chat/completions", fake.openai_url());
    let auth = format!("Bearer {key}");
    post(c, &url, &[("authorization", auth.as_str())], body).await
}

/// POST to `/gemini/v1beta/models/{model}:{method}` with `x-goog-api-key`.
pub async fn gemini(
    fake: &FakeUpstream,
    c: &reqwest::Client,
    key: &str,
    model: &str,
    method: &str,
    body: &Value,
) -> Reply {
    let url = format!("{}/v1beta/models/{model}:{method}", fake.gemini_url());
    post(c, &url, &[("x-goog-api-key", key)], body).await
}

/// Parses Anthropic SSE (`event: <name>\ndata: <json>\n\n` per event), asserting the exact
/// framing and that each event's name equals its data's `type`.
pub fn anthropic_events(text: &str) -> Vec<(String, Value)> {
    assert!(
        text.ends_with("\n\n"),
        "stream must end with a blank line: {text:?}"
    );
    text.split_terminator("\n\n")
        .map(|frame| {
            let (event, data) = frame
                .split_once('\n')
                .unwrap_or_else(|| panic!("frame without data: {frame:?}"));
            let name = event
                .strip_prefix("event: ")
                .unwrap_or_else(|| panic!("frame without `event: `: {frame:?}"));
            let data = data
                .strip_prefix("data: ")
                .unwrap_or_else(|| panic!("frame without `data: `: {frame:?}"));
            assert!(!data.contains('\n'), "one data line per event: {frame:?}");
            let v: Value = serde_json::from_str(data).unwrap();
            assert_eq!(v["type"], name, "event name matches type: {frame:?}");
            (name.to_string(), v)
        })
        .collect()
}

/// Parses OpenAI SSE (`data: <json>\n\n` per event); returns the JSON events and whether
/// the stream ended with `data: [DONE]`.
pub fn openai_events(text: &str) -> (Vec<Value>, bool) {
    assert!(
        text.ends_with("\n\n"),
        "stream must end with a blank line: {text:?}"
    );
    let mut done = false;
    let mut out = Vec::new();
    for frame in text.split_terminator("\n\n") {
        assert!(!done, "nothing after [DONE]: {text:?}");
        let data = frame
            .strip_prefix("data: ")
            .unwrap_or_else(|| panic!("frame without `data: `: {frame:?}"));
        assert!(!data.contains('\n'), "one line per event: {frame:?}");
        if data == "[DONE]" {
            done = true;
        } else {
            out.push(serde_json::from_str(data).unwrap());
        }
    }
    (out, done)
}

/// The `error.message` of an Anthropic error body.
pub fn ant_message(v: &Value) -> String {
    assert_eq!(v["type"], "error", "{v}");
    v["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}
