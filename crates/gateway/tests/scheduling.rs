//! Scheduling and rotation against the strict fake: rotation that does not give
//! up early, sticky sessions, fixed preference, waiting for a short cooldown,
//! and model mapping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::Harness;
use uplink_fake_upstream::Behavior;

fn chat(model: &str, user: Option<&str>) -> Value {
    let mut body = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
    if let Some(u) = user {
        body["user"] = json!(u);
    }
    body
}

async fn served_by(h: &Harness, body: Value) -> (u16, String) {
    let res = h.post("/v1/chat/completions", body).send().await.unwrap();
    let status = res.status().as_u16();
    let account = res
        .headers()
        .get("x-account-email")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let _ = res.bytes().await;
    (status, account)
}

#[tokio::test]
async fn rotation_reaches_a_healthy_account_past_1_2_and_5_exhausted_ones() {
    for exhausted in [1usize, 2, 5] {
        let emails: Vec<String> = (0..=exhausted).map(|i| format!("u{i}@x.com")).collect();
        let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
        let h = Harness::start_with(&refs, "[scheduling]\nmode = \"round_robin\"").await;
        for email in &emails[..exhausted] {
            h.fake
                .set_default_behavior(email, Some(Behavior::quota_exhausted("1h")));
        }
        let healthy = emails[exhausted].clone();
        for round in 0..3 {
            let (status, account) = served_by(&h, chat("gemini-2.5-flash", None)).await;
            assert_eq!(
                (status, account.as_str()),
                (200, healthy.as_str()),
                "{exhausted} exhausted, round {round}"
            );
        }
        for email in &emails[..exhausted] {
            assert_eq!(h.generate_calls(email), 1, "{email} tried once, then rests");
        }
    }
}

#[tokio::test]
async fn sticky_sessions_keep_their_account_then_rebind_when_it_cools() {
    let h = Harness::start_with(
        &["a@x.com", "b@x.com", "c@x.com"],
        "[scheduling]\nmode = \"sticky\"",
    )
    .await;
    let (_, first) = served_by(&h, chat("gemini-2.5-flash", Some("session-1"))).await;
    for _ in 0..5 {
        let (status, account) = served_by(&h, chat("gemini-2.5-flash", Some("session-1"))).await;
        assert_eq!((status, account.as_str()), (200, first.as_str()));
    }
    h.fake
        .set_default_behavior(&first, Some(Behavior::quota_exhausted("1h")));
    let (status, second) = served_by(&h, chat("gemini-2.5-flash", Some("session-1"))).await;
    assert_eq!(status, 200);
    assert_ne!(second, first, "rebound at once");
    for _ in 0..3 {
        assert_eq!(
            served_by(&h, chat("gemini-2.5-flash", Some("session-1")))
                .await
                .1,
            second,
            "stays on the new account"
        );
    }
}

#[tokio::test]
async fn fixed_prefers_one_account_and_falls_back() {
    let h = Harness::start_with(
        &["a@x.com", "b@x.com", "c@x.com"],
        "[scheduling]\nmode = \"fixed\"\npreferred_account = \"b@x.com\"",
    )
    .await;
    for _ in 0..4 {
        assert_eq!(
            served_by(&h, chat("gemini-2.5-flash", None)).await.1,
            "b@x.com"
        );
    }
    h.fake
        .set_default_behavior("b@x.com", Some(Behavior::quota_exhausted("1h")));
    let (status, account) = served_by(&h, chat("gemini-2.5-flash", None)).await;
    assert_eq!(status, 200);
    assert_ne!(account, "b@x.com");
}

#[tokio::test]
async fn balance_spreads_load_over_all_accounts() {
    let h = Harness::start(&["a@x.com", "b@x.com", "c@x.com"]).await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..30 {
        seen.insert(served_by(&h, chat("gemini-2.5-flash", None)).await.1);
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
}

#[tokio::test]
async fn a_short_cooldown_is_waited_out_instead_of_answering_429() {
    let h = Harness::start_with(&["a@x.com"], "[scheduling]\nmax_wait_secs = 5").await;
    h.fake
        .script("a@x.com", vec![Behavior::quota_exhausted("1s")]);
    let (status, _) = served_by(&h, chat("gemini-2.5-flash", None)).await;
    assert_eq!(status, 429, "the only account failed during the request");
    let started = std::time::Instant::now();
    let (status, account) = served_by(&h, chat("gemini-2.5-flash", None)).await;
    assert_eq!(
        (status, account.as_str()),
        (200, "a@x.com"),
        "waited for the cooldown to end"
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(500));
}

#[tokio::test]
async fn model_names_map_to_what_the_pool_serves() {
    let h = Harness::start_with(
        &["a@x.com"],
        "[models.mapping]\n\"gpt-4o\" = \"gemini-2.5-pro\"\n\"my-*\" = \"gemini-2.5-flash\"",
    )
    .await;
    for (requested, upstream) in [
        ("gpt-4o", "gemini-2.5-pro"),
        ("my-fast-model", "gemini-2.5-flash"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("gemini-3.1-pro-preview", "gemini-3-pro-preview"),
    ] {
        let res = h
            .post("/v1/chat/completions", chat(requested, None))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{requested}");
        assert_eq!(res.headers()["x-mapped-model"], upstream, "{requested}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            body["model"], requested,
            "the client sees the name it asked for"
        );
    }
    let res = h
        .post("/v1/chat/completions", chat("no-such-model", None))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no-such-model"),
        "{body}"
    );
}

#[tokio::test]
async fn models_list_served_and_mapped_names_and_the_account_header_can_be_hidden() {
    let h = Harness::start_with(
        &["a@x.com"],
        "expose_account_email = false\n[models.mapping]\n\"my-team-model\" = \"gemini-2.5-pro\"",
    )
    .await;
    let res = h
        .post("/v1/chat/completions", chat("my-team-model", None))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers().get("x-account-email").is_none(),
        "hidden for privacy"
    );
    assert_eq!(res.headers()["x-mapped-model"], "gemini-2.5-pro");

    let list: Value = h
        .client
        .get(h.app.url("/v1/models"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"my-team-model") && ids.contains(&"gemini-2.5-pro"),
        "{ids:?}"
    );

    // A name that resolves to a served model can be looked up (Anthropic shape here).
    let one = h
        .client
        .get(h.app.url("/v1/models/claude-sonnet-4-5-20250929"))
        .header("anthropic-version", "2023-06-01")
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), 200);
    let one: Value = one.json().await.unwrap();
    assert_eq!(
        (one["type"].as_str(), one["id"].as_str()),
        (Some("model"), Some("claude-sonnet-4-5-20250929"))
    );
}
