//! Account health through the real stack: one token refresh however many
//! requests ask at once, and accounts blocked for verification.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use support::Harness;
use uplink_fake_upstream::{Behavior, VALIDATION_URL};

#[tokio::test]
async fn fifty_concurrent_requests_refresh_the_token_once() {
    let h = Harness::start_with(&["a@x.com"], "[quota]\nrefresh_interval_secs = 0").await;
    let body =
        json!({"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]});
    let requests = (0..50).map(|_| {
        let req = h.post("/v1/chat/completions", body.clone());
        async move { req.send().await.unwrap().status().as_u16() }
    });
    let statuses = futures_util::future::join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(
        h.fake.call_count(Some("a@x.com"), "token"),
        1,
        "single flight"
    );
    assert_eq!(
        h.fake.call_count(Some("a@x.com"), "loadCodeAssist"),
        1,
        "project discovered once"
    );
    assert_eq!(h.generate_calls("a@x.com"), 50);
}

#[tokio::test]
async fn validation_required_blocks_the_account_with_its_url() {
    // a@x.com is preferred, so the first request certainly tries it.
    let h = Harness::start_with(
        &["a@x.com", "b@x.com"],
        "[scheduling]\nmode = \"fixed\"\npreferred_account = \"a@x.com\"",
    )
    .await;
    h.fake
        .set_default_behavior("a@x.com", Some(Behavior::ValidationRequired));
    let body =
        json!({"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]});
    for _ in 0..3 {
        let res = h
            .post("/v1/chat/completions", body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["x-account-email"], "b@x.com");
    }
    assert!(
        h.generate_calls("a@x.com") == 1,
        "tried once, then blocked and never tried again"
    );
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
    assert_eq!(a.status, uplink_gateway::storage::AccountStatus::Blocked);
    assert_eq!(a.validation_url.as_deref(), Some(VALIDATION_URL));
}
