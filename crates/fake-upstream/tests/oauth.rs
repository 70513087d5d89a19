//! OAuth grants, invalid_grant, userinfo and access-token expiry, through a real socket.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use uplink_fake_upstream::{AuthCode, FakeConfig, FakeUpstream, OAuthClient};

#[tokio::test]
async fn refresh_grant_issues_a_bearer_token() {
    let fake = fake().await;
    let c = client();
    let (status, body) = refresh(&fake, &c, ALICE_RT).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["access_token"].as_str().unwrap().starts_with("ya29."));
    assert!(body["scope"].as_str().unwrap().contains("cloud-platform"));
    assert!(
        body.get("refresh_token").is_none(),
        "refresh grant returns no refresh_token"
    );
}

#[tokio::test]
async fn unknown_refresh_token_is_invalid_grant() {
    let fake = fake().await;
    let (status, body) = refresh(&fake, &client(), "nope").await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    );
}

#[tokio::test]
async fn revoked_account_gets_invalid_grant_and_its_tokens_stop_working() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    fake.revoke(ALICE);
    let (status, body) = refresh(&fake, &c, ALICE_RT).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (400, "invalid_grant")
    );
    let (status, body) = call(&fake, &c, &t, "loadCodeAssist", &json!({})).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
    fake.restore(ALICE);
    assert_eq!(refresh(&fake, &c, ALICE_RT).await.0, 200);
}

async fn exchange(fake: &FakeUpstream, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = client()
        .post(fake.token_url())
        .form(form)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn authorization_code_grant_checks_redirect_and_verifier_and_is_single_use() {
    let fake = fake().await;
    fake.register_auth_code(AuthCode {
        code: "4/code-1".into(),
        email: ALICE.into(),
        redirect_uri: Some("http://localhost:51121/oauth-callback".into()),
        code_verifier: Some("verifier-123".into()),
    });
    let base = [
        ("grant_type", "authorization_code"),
        ("code", "4/code-1"),
        ("client_id", "cid"),
        ("client_secret", "cs"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        v
    };
    let (s, b) = exchange(
        &fake,
        &with(&[
            ("redirect_uri", "http://evil"),
            ("code_verifier", "verifier-123"),
        ]),
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str().unwrap()),
        (400, "redirect_uri_mismatch")
    );
    let (s, b) = exchange(
        &fake,
        &with(&[
            ("redirect_uri", "http://localhost:51121/oauth-callback"),
            ("code_verifier", "wrong"),
        ]),
    )
    .await;
    assert_eq!((s, b["error"].as_str().unwrap()), (400, "invalid_grant"));
    let good = with(&[
        ("redirect_uri", "http://localhost:51121/oauth-callback"),
        ("code_verifier", "verifier-123"),
    ]);
    let (s, b) = exchange(&fake, &good).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["refresh_token"], ALICE_RT);
    assert_eq!(b["token_type"], "Bearer");
    let (s, b) = exchange(&fake, &good).await;
    assert_eq!(
        (s, b["error"].as_str().unwrap()),
        (400, "invalid_grant"),
        "codes are single-use"
    );
    let (s, b) = exchange(
        &fake,
        &[
            ("grant_type", "authorization_code"),
            ("code", "4/unknown"),
            ("client_id", "cid"),
            ("client_secret", "cs"),
        ],
    )
    .await;
    assert_eq!(
        (s, b["error_description"].as_str().unwrap()),
        (400, "Malformed auth code.")
    );
}

#[tokio::test]
async fn grant_type_and_client_are_required() {
    let fake = fake().await;
    let (s, b) = exchange(
        &fake,
        &[
            ("grant_type", "password"),
            ("client_id", "c"),
            ("client_secret", "s"),
        ],
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str().unwrap()),
        (400, "unsupported_grant_type")
    );
    let (s, b) = exchange(
        &fake,
        &[("grant_type", "refresh_token"), ("refresh_token", ALICE_RT)],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        b["error_description"],
        "Could not determine client ID from request."
    );
}

#[tokio::test]
async fn configured_clients_are_enforced() {
    let fake = FakeUpstream::start_with(FakeConfig {
        accounts: vec![uplink_fake_upstream::AccountSpec::new(
            ALICE_RT,
            ALICE,
            ALICE_PROJECT,
        )],
        oauth_clients: vec![OAuthClient {
            client_id: "good".into(),
            client_secret: "sec".into(),
        }],
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let form = |id: &'static str, secret: &'static str| {
        vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", ALICE_RT),
            ("client_id", id),
            ("client_secret", secret),
        ]
    };
    assert_eq!(exchange(&fake, &form("good", "sec")).await.0, 200);
    let (s, b) = exchange(&fake, &form("good", "bad")).await;
    assert_eq!((s, b["error"].as_str().unwrap()), (401, "invalid_client"));
    let (s, b) = exchange(&fake, &form("other", "sec")).await;
    assert_eq!((s, b["error"].as_str().unwrap()), (401, "invalid_client"));
}

#[tokio::test]
async fn userinfo_with_good_and_bad_tokens() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    let resp = c
        .get(fake.userinfo_url())
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let b: Value = resp.json().await.unwrap();
    assert_eq!(b["email"], ALICE);
    assert_eq!(b["verified_email"], true);
    assert_eq!(b["name"], "alice");
    assert!(b["id"].is_string() && b["picture"].is_string());

    let resp = c
        .get(fake.userinfo_url())
        .bearer_auth("ya29.bogus")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let b: Value = resp.json().await.unwrap();
    assert_eq!(b["error"]["code"], 401);
    assert_eq!(b["error"]["status"], "UNAUTHENTICATED");
    let resp = c.get(fake.userinfo_url()).send().await.unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn expired_access_token_gets_401_on_api_calls() {
    let fake = fake().await;
    let c = client();
    fake.set_token_ttl(Duration::from_secs(120));
    let (_, b) = refresh(&fake, &c, ALICE_RT).await;
    assert_eq!(
        b["expires_in"], 120,
        "expires_in reports the configured lifetime"
    );
    let live = b["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        call(&fake, &c, &live, "loadCodeAssist", &json!({})).await.0,
        200
    );

    fake.set_token_ttl(Duration::ZERO);
    let dead = token(&fake, &c, ALICE_RT).await;
    let (status, body) = call(&fake, &c, &dead, "loadCodeAssist", &json!({})).await;
    assert_eq!(status, 401);
    assert!(
        message(&body).starts_with("Request had invalid authentication credentials."),
        "{body}"
    );
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");

    fake.expire_tokens(ALICE);
    assert_eq!(
        call(&fake, &c, &live, "loadCodeAssist", &json!({})).await.0,
        401
    );
    let (status, body) = call(&fake, &c, "", "loadCodeAssist", &json!({})).await;
    assert_eq!(status, 401);
    assert!(message(&body).starts_with("Request is missing required authentication credential"));
}
