//! Request recording, the HTTP control API, and the `fake-upstream` binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;
use serde_json::{Value, json};
use uplink_fake_upstream::{FakeUpstream, RequestFilter};

#[tokio::test]
async fn requests_are_recorded_with_everything_needed_for_assertions() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    let body = envelope("gemini-2.5-pro", json!({"contents": [user("hello")]}));
    let resp = c
        .post(format!(
            "{}:streamGenerateContent?alt=sse",
            fake.cloudcode_url_at("/ep9")
        ))
        .bearer_auth(&t)
        .header("User-Agent", "antigravity/1.11.5 linux/amd64")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let _ = resp.text().await.unwrap();
    let _ = generate(
        &fake,
        &c,
        &t,
        "no-such-model",
        json!({"contents": [user("x")]}),
    )
    .await;

    let all = fake.requests();
    assert_eq!(all.len(), 3, "token + 2 generate calls");
    assert_eq!(all[0].endpoint, "token");
    assert_eq!(all[0].body.as_ref().unwrap()["refresh_token"], ALICE_RT);
    assert_eq!(all[0].account.as_deref(), Some(ALICE));
    let r = &all[1];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/ep9/v1internal:streamGenerateContent")
    );
    assert_eq!(r.query.as_deref(), Some("alt=sse"));
    assert_eq!(r.prefix, "/ep9");
    assert_eq!(r.endpoint, "streamGenerateContent");
    assert_eq!(
        r.header("user-agent"),
        Some("antigravity/1.11.5 linux/amd64")
    );
    assert_eq!(
        r.header("Authorization"),
        Some(format!("Bearer {t}").as_str())
    );
    assert_eq!(r.body.as_ref().unwrap(), &body);
    assert_eq!(r.status, 200);
    assert_eq!(all[2].status, 404);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));

    assert_eq!(fake.generate_calls(ALICE).len(), 2);
    assert_eq!(fake.call_count(Some(ALICE), "streamGenerateContent"), 1);
    assert_eq!(fake.call_count(None, "token"), 1);
    let filtered = fake.requests_matching(&RequestFilter {
        prefix: Some("/ep9".into()),
        ..RequestFilter::default()
    });
    assert_eq!(filtered.len(), 1);
    fake.clear_requests();
    assert!(fake.requests().is_empty());
}

async fn ctl(c: &reqwest::Client, fake: &FakeUpstream, path: &str, body: Value) -> Value {
    let r = c
        .post(format!("{}{path}", fake.control_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

#[tokio::test]
async fn the_http_control_api_scripts_everything() {
    let fake = FakeUpstream::start().await.unwrap();
    let c = client();
    ctl(
        &c,
        &fake,
        "/accounts",
        json!({"refresh_token": "rt-x", "email": "x@example.com", "project": "px"}),
    )
    .await;
    let accounts: Value = c
        .get(format!("{}/accounts", fake.control_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(accounts[0]["email"], "x@example.com");

    let t = token(&fake, &c, "rt-x").await;
    ctl(
        &c,
        &fake,
        "/script",
        json!({"email": "x@example.com", "behaviors": [{"text": "scripted"}, "rate_limited"]}),
    )
    .await;
    ctl(&c, &fake, "/script", json!({"email": "x@example.com", "model": "claude-sonnet-4-5", "behaviors": [{"server_error": 500}]})).await;
    let body = |model: &str| json!({"project": "px", "model": model, "request": {"contents": [user("x")]}});
    let (s, b) = call(&fake, &c, &t, "generateContent", &body("claude-sonnet-4-5")).await;
    assert_eq!(s, 500, "{b}");
    let (s, b) = call(&fake, &c, &t, "generateContent", &body("gemini-2.5-pro")).await;
    assert_eq!(
        (
            s,
            b["response"]["candidates"][0]["content"]["parts"][0]["text"].as_str()
        ),
        (200, Some("scripted"))
    );
    assert_eq!(
        call(&fake, &c, &t, "generateContent", &body("gemini-2.5-pro"))
            .await
            .0,
        429
    );

    ctl(
        &c,
        &fake,
        "/default_behavior",
        json!({"email": "x@example.com", "behavior": "capacity"}),
    )
    .await;
    assert_eq!(
        call(&fake, &c, &t, "generateContent", &body("gemini-2.5-pro"))
            .await
            .0,
        503
    );
    ctl(
        &c,
        &fake,
        "/default_behavior",
        json!({"email": "x@example.com", "behavior": null}),
    )
    .await;

    ctl(
        &c,
        &fake,
        "/quota",
        json!({"email": "x@example.com", "model": "gemini-3-flash", "remaining_fraction": 0.25}),
    )
    .await;
    let (_, b) = call(
        &fake,
        &c,
        &t,
        "fetchAvailableModels",
        &json!({"project": "px"}),
    )
    .await;
    assert_eq!(
        b["models"]["gemini-3-flash"]["quotaInfo"]["remainingFraction"],
        0.25
    );

    ctl(
        &c,
        &fake,
        "/prefix",
        json!({"prefix": "/ep1", "behaviors": [{"server_error": 503}]}),
    )
    .await;
    let r = c
        .post(format!("{}:loadCodeAssist", fake.cloudcode_url_at("/ep1")))
        .bearer_auth(&t)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);

    let sig = ctl(&c, &fake, "/signatures", json!({"family": "claude"})).await;
    assert!(sig["signature"].is_string());

    let reqs: Value = c
        .get(format!(
            "{}/requests?endpoint=generateContent&email=x@example.com",
            fake.control_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reqs.as_array().unwrap().len(), 4);
    assert_eq!(reqs[0]["body"]["model"], "claude-sonnet-4-5");

    ctl(
        &c,
        &fake,
        "/auth_codes",
        json!({"code": "c1", "email": "x@example.com"}),
    )
    .await;
    let r = c
        .post(fake.token_url())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "c1"),
            ("client_id", "a"),
            ("client_secret", "b"),
            ("redirect_uri", "http://l"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    ctl(&c, &fake, "/revoke", json!({"email": "x@example.com"})).await;
    assert_eq!(refresh(&fake, &c, "rt-x").await.0, 400);
    ctl(
        &c,
        &fake,
        "/revoke",
        json!({"email": "x@example.com", "revoked": false}),
    )
    .await;
    assert_eq!(refresh(&fake, &c, "rt-x").await.0, 200);

    let bad = c
        .post(format!("{}/script", fake.control_url()))
        .json(&json!({"email": "x", "behaviors": ["no_such"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    ctl(&c, &fake, "/reset", json!({})).await;
    assert!(fake.requests().is_empty());
    assert_eq!(
        refresh(&fake, &c, "rt-x").await.0,
        400,
        "reset restores the (empty) startup accounts"
    );
}

#[tokio::test]
async fn the_binary_prints_its_url_and_serves_the_default_account() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-upstream"))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let result = async move {
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap()
            .to_string();
        assert!(base.starts_with("http://127.0.0.1:"), "{line}");
        let c = client();
        let r = c
            .post(format!("{base}/token"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "fake-refresh-token-1"),
                ("client_id", "a"),
                ("client_secret", "b"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let tok: Value = r.json().await.unwrap();
        let r = c
            .post(format!("{base}/v1internal:loadCodeAssist"))
            .bearer_auth(tok["access_token"].as_str().unwrap())
            .json(&json!({"metadata": {"ideType": "ANTIGRAVITY"}}))
            .send()
            .await
            .unwrap();
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["cloudaicompanionProject"], "fake-project-1");
        let users: Value = c
            .get(format!("{base}/__fake/accounts"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(users[0]["email"], "alice@example.com");
    };
    let outcome = tokio::spawn(result).await;
    child.kill().unwrap();
    child.wait().unwrap();
    outcome.unwrap();
}
