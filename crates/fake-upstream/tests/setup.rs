//! loadCodeAssist, onboarding, fetchAvailableModels and countTokens.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::json;
use uplink_fake_upstream::AccountSpec;

fn metadata() -> serde_json::Value {
    json!({"metadata": {"ideType": "ANTIGRAVITY", "platform": "LINUX_AMD64", "pluginType": "GEMINI"}})
}

#[tokio::test]
async fn load_code_assist_with_project() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    let mut body = metadata();
    body["cloudaicompanionProject"] = json!(ALICE_PROJECT);
    let (s, b) = call(&fake, &c, &t, "loadCodeAssist", &body).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["cloudaicompanionProject"], ALICE_PROJECT);
    assert_eq!(b["currentTier"]["id"], "standard-tier");
    assert!(
        b["allowedTiers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == "standard-tier")
    );
}

#[tokio::test]
async fn load_code_assist_is_strict_about_metadata() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    let (s, b) = call(
        &fake,
        &c,
        &t,
        "loadCodeAssist",
        &json!({"metadata": {"ideType": "ANTIGRAVITY", "os": "linux"}}),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        message(&b),
        "Invalid JSON payload received. Unknown name \"os\" at 'metadata': Cannot find field."
    );
    let (s, b) = call(
        &fake,
        &c,
        &t,
        "loadCodeAssist",
        &json!({"metadata": {"ideType": "EMACS"}}),
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        message(&b).starts_with("Invalid value at 'metadata.ide_type'"),
        "{b}"
    );
}

#[tokio::test]
async fn onboarding_is_polled_until_done_then_project_is_loaded() {
    let fake = fake().await;
    let c = client();
    fake.add_account(AccountSpec::without_project("rt-bob", "bob@example.com"));
    fake.set_onboarding("bob@example.com", 2, Some("bob-proj"));
    let t = token(&fake, &c, "rt-bob").await;

    let (s, b) = call(&fake, &c, &t, "loadCodeAssist", &metadata()).await;
    assert_eq!(s, 200);
    assert!(b.get("cloudaicompanionProject").is_none(), "{b}");
    assert!(b.get("currentTier").is_none(), "{b}");
    let default_tier = b["allowedTiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["isDefault"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let onboard = json!({"tierId": default_tier, "metadata": metadata()["metadata"]});
    for _ in 0..2 {
        let (s, b) = call(&fake, &c, &t, "onboardUser", &onboard).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["done"], false);
        assert!(b["name"].as_str().unwrap().starts_with("operations/"));
    }
    let (s, b) = call(&fake, &c, &t, "onboardUser", &onboard).await;
    assert_eq!(s, 200);
    assert_eq!(b["done"], true);
    assert_eq!(b["response"]["cloudaicompanionProject"]["id"], "bob-proj");

    let (_, b) = call(&fake, &c, &t, "loadCodeAssist", &metadata()).await;
    assert_eq!(b["cloudaicompanionProject"], "bob-proj");
    assert_eq!(
        fake.account_project("bob@example.com").as_deref(),
        Some("bob-proj")
    );

    let (s, b) = call(
        &fake,
        &c,
        &t,
        "onboardUser",
        &json!({"tierId": "gold-tier"}),
    )
    .await;
    assert_eq!(s, 400, "{b}");
}

#[tokio::test]
async fn fetch_available_models_reports_scripted_quotas() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    fake.set_quota(
        ALICE,
        "claude-sonnet-4-5",
        0.75,
        Some("2026-11-21T15:00:00Z"),
    );
    let (s, b) = call(
        &fake,
        &c,
        &t,
        "fetchAvailableModels",
        &json!({"project": ALICE_PROJECT}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let models = b["models"].as_object().unwrap();
    for m in [
        "gemini-2.5-flash",
        "gemini-2.5-flash-lite",
        "gemini-2.5-pro",
        "gemini-3-pro-preview",
        "gemini-3-flash",
        "claude-sonnet-4-5",
        "claude-sonnet-4-5-thinking",
        "claude-opus-4-5-thinking",
        "gpt-oss-120b-medium",
    ] {
        assert!(models.contains_key(m), "missing {m}");
    }
    let q = &models["claude-sonnet-4-5"]["quotaInfo"];
    assert_eq!(q["remainingFraction"], 0.75);
    assert_eq!(q["resetTime"], "2026-11-21T15:00:00Z");
    assert_eq!(
        models["gemini-2.5-pro"]["quotaInfo"]["remainingFraction"],
        1.0
    );
    assert!(models["gemini-2.5-pro"]["displayName"].is_string());

    let (s, b) = call(
        &fake,
        &c,
        &t,
        "fetchAvailableModels",
        &json!({"project": "someone-else"}),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    assert_eq!(b["error"]["status"], "PERMISSION_DENIED");

    fake.set_models(vec![uplink_fake_upstream::ModelSpec::new("gemini-9-ultra")]);
    let (_, b) = call(
        &fake,
        &c,
        &t,
        "fetchAvailableModels",
        &json!({"project": ALICE_PROJECT}),
    )
    .await;
    assert_eq!(
        b["models"].as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["gemini-9-ultra"]
    );
}

#[tokio::test]
async fn count_tokens_accepts_both_shapes() {
    let fake = fake().await;
    let c = client();
    let t = token(&fake, &c, ALICE_RT).await;
    // 12 characters -> 3 tokens.
    let wrapped =
        json!({"request": {"model": "models/gemini-2.5-pro", "contents": [user("hello world!")]}});
    let (s, b) = call(&fake, &c, &t, "countTokens", &wrapped).await;
    assert_eq!((s, b.clone()), (200, json!({"totalTokens": 3})), "{b}");
    let flat = json!({"model": "gemini-2.5-pro", "contents": [user("hello world!")]});
    assert_eq!(
        call(&fake, &c, &t, "countTokens", &flat).await,
        (200, json!({"totalTokens": 3}))
    );

    let unknown = json!({"request": {"model": "models/gemini-0", "contents": [user("x")]}});
    let (s, b) = call(&fake, &c, &t, "countTokens", &unknown).await;
    assert_eq!(s, 404);
    assert_eq!(message(&b), "models/gemini-0 is not found");
    let bad = json!({"request": {"model": "models/gemini-2.5-pro", "contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}});
    assert_eq!(call(&fake, &c, &t, "countTokens", &bad).await.0, 400);
}
