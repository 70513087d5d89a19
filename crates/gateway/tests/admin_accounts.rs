//! Accounts through the admin API against the strict fake: the list with quota
//! and cooldowns, enable/disable/refresh/remove applied to the running pool,
//! import in the CLI's formats (all or nothing), and signing in with Google
//! through the gateway's own callback or a pasted redirect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::Harness;
use support::admin::{Admin, PASSWORD, message};
use uplink_fake_upstream::{AccountSpec, AuthCode, Behavior};

const EXTRA: &str = "admin_password = \"admin-pass-0123\"\n[quota]\nrefresh_interval_secs = 0\n";

fn admin(h: &Harness) -> Admin {
    Admin::new(&h.app.url, Some(PASSWORD))
}

async fn accounts(admin: &Admin) -> Vec<Value> {
    let (status, body) = admin.get("/api/accounts").await;
    assert_eq!(status, 200, "{body}");
    body["accounts"].as_array().unwrap().clone()
}

async fn chat(h: &Harness, model: &str) -> u16 {
    h.post(
        "/v1/chat/completions",
        json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .send()
    .await
    .unwrap()
    .status()
    .as_u16()
}

fn model<'a>(account: &'a Value, name: &str) -> &'a Value {
    account["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == name)
        .unwrap_or_else(|| panic!("no {name} in {account}"))
}

#[tokio::test]
async fn the_list_shows_quota_after_a_refresh_and_cooldowns_after_a_failure() {
    let h = Harness::start_with(&["a@x.com"], EXTRA).await;
    let admin = admin(&h);
    let list = accounts(&admin).await;
    assert_eq!(list.len(), 1);
    let a = &list[0];
    assert_eq!(
        (a["email"].as_str(), a["status"].as_str()),
        (Some("a@x.com"), Some("active"))
    );
    assert_eq!(a["models"], json!([]), "no snapshot yet");
    assert_eq!(a["quota_fetched_at"], Value::Null);
    let id = a["id"].as_i64().unwrap();

    let reset = uplink_gateway::pool::quota::format_rfc3339(
        std::time::SystemTime::now() + std::time::Duration::from_secs(7200),
    );
    h.fake
        .set_quota("a@x.com", "gemini-2.5-pro", 0.25, Some(&reset));
    let (status, body) = admin
        .post(&format!("/api/accounts/{id}/refresh"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let a = &body["account"];
    assert_eq!(a["project_id"], "proj-0", "discovered by the refresh");
    assert!(a["quota_fetched_at"].is_string());
    let pro = model(a, "gemini-2.5-pro");
    assert_eq!(pro["remaining_fraction"], 0.25);
    assert_eq!(pro["reset_time"], reset.as_str());
    let left = pro["resets_in_secs"].as_u64().unwrap();
    assert!((7100..=7200).contains(&left), "{left}");
    assert_eq!(pro["exhausted"], false);
    assert_eq!(model(a, "gemini-2.5-flash")["remaining_fraction"], 1.0);

    // A quota failure cools the account for that model only.
    h.fake
        .script("a@x.com", vec![Behavior::quota_exhausted("3600s")]);
    assert_eq!(chat(&h, "gemini-2.5-flash").await, 429);
    let list = accounts(&admin).await;
    let cooling = model(&list[0], "gemini-2.5-flash")["cooldown_secs"].as_u64();
    assert!(cooling.is_some_and(|s| s > 3000), "{}", list[0]);
    assert_eq!(
        model(&list[0], "gemini-2.5-pro")["cooldown_secs"],
        Value::Null
    );
    assert_eq!(
        list[0]["cooldown_secs"],
        Value::Null,
        "not the whole account"
    );
}

#[tokio::test]
async fn disable_enable_and_remove_apply_to_the_running_pool() {
    let h = Harness::start_with(&["a@x.com"], EXTRA).await;
    let admin = admin(&h);
    let id = accounts(&admin).await[0]["id"].as_i64().unwrap();
    assert_eq!(chat(&h, "gemini-2.5-flash").await, 200);

    let (status, body) = admin
        .post(
            &format!("/api/accounts/{id}/disable"),
            json!({"reason": "on holiday"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["account"]["status"], "disabled");
    assert_eq!(body["account"]["status_reason"], "on holiday");
    assert_eq!(chat(&h, "gemini-2.5-flash").await, 503, "no usable account");

    let (status, body) = admin
        .post(&format!("/api/accounts/{id}/enable"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["account"]["status"], "active");
    assert_eq!(chat(&h, "gemini-2.5-flash").await, 200);

    for (path, want) in [
        ("/api/accounts/999/enable", 404),
        ("/api/accounts/abc/enable", 400),
        ("/api/accounts/999/refresh", 404),
    ] {
        let (status, body) = admin.post(path, json!({})).await;
        assert_eq!(status, want, "{path}: {body}");
        message(&body);
    }
    let (status, body) = admin
        .post(&format!("/api/accounts/{id}/disable"), json!({"why": "x"}))
        .await;
    assert_eq!(status, 400, "{body}");

    let (status, body) = admin.delete(&format!("/api/accounts/{id}")).await;
    assert_eq!((status, &body["removed"]), (200, &json!(id)));
    assert!(accounts(&admin).await.is_empty());
    assert_eq!(chat(&h, "gemini-2.5-flash").await, 503);
    assert_eq!(admin.delete(&format!("/api/accounts/{id}")).await.0, 404);
}

#[tokio::test]
async fn import_takes_the_cli_formats_and_bad_input_imports_nothing() {
    let h = Harness::start_with(&[], EXTRA).await;
    h.fake.add_account(AccountSpec::new(
        "rt-b-0123456789abcdef",
        "b@x.com",
        "proj-b",
    ));
    h.fake.add_account(AccountSpec::new(
        "rt-c-0123456789abcdef",
        "c@x.com",
        "proj-c",
    ));
    let admin = admin(&h);
    assert_eq!(chat(&h, "gemini-2.5-flash").await, 503);

    // One good entry and one without a token: nothing is imported.
    let (status, body) = admin
        .post(
            "/api/accounts/import",
            json!({"name": "accounts.json", "text": r#"[{"refresh_token": "rt-b-0123456789abcdef"}, {"email": "x@y"}]"#}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).contains("accounts.json entry 2"), "{body}");
    assert!(accounts(&admin).await.is_empty());
    let (status, body) = admin.post("/api/accounts/import", json!({})).await;
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).contains("Nothing to import"));

    // A JSON array (the email is looked up with Google) and a token-per-line file.
    let (status, body) = admin
        .post(
            "/api/accounts/import",
            json!({"files": [
                {"name": "a.json", "text": r#"[{"refresh_token": "rt-b-0123456789abcdef"}]"#},
                {"name": "tokens.txt", "text": "# mine\nrt-c-0123456789abcdef\n"},
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["imported"].as_u64(), body["added"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(body["warnings"], json!([]));
    let emails: Vec<Value> = accounts(&admin)
        .await
        .iter()
        .map(|a| a["email"].clone())
        .collect();
    assert_eq!(emails, vec![json!("b@x.com"), json!("c@x.com")]);
    assert_eq!(
        chat(&h, "gemini-2.5-flash").await,
        200,
        "the pool serves them at once"
    );

    // Re-importing updates instead of adding.
    let (status, body) = admin
        .post(
            "/api/accounts/import",
            json!({"text": "rt-c-0123456789abcdef"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["added"].as_u64(), body["updated"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(accounts(&admin).await.len(), 2);
}

fn state_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned()
}

#[tokio::test]
async fn signing_in_through_the_gateways_callback_adds_the_account() {
    let h = Harness::start_with(&[], EXTRA).await;
    h.fake
        .add_account(AccountSpec::new("rt-new-0123456789", "new@x.com", "proj-n"));
    let admin = admin(&h);
    let (status, body) = admin.post("/api/accounts/oauth", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let redirect = format!("{}/api/oauth/callback", h.app.url);
    assert_eq!(body["redirect_uri"], redirect.as_str());
    let url = body["url"].as_str().unwrap();
    let state = state_of(url);
    assert_eq!(body["state"], state.as_str());
    let q: std::collections::HashMap<String, String> = reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(q["redirect_uri"], redirect);
    assert_eq!(q["code_challenge_method"], "S256");
    let (_, s) = admin.get(&format!("/api/accounts/oauth/{state}")).await;
    assert_eq!(s["status"], "pending");

    h.fake.register_auth_code(AuthCode {
        code: "code-1".into(),
        email: "new@x.com".into(),
        redirect_uri: Some(redirect.clone()),
        code_verifier: None,
    });
    // Google sends the browser back, without any admin credentials.
    let res = support::client()
        .get(format!("{redirect}?state={state}&code=code-1&scope=email"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("new@x.com was added"), "{page}");
    let (_, s) = admin.get(&format!("/api/accounts/oauth/{state}")).await;
    assert_eq!(
        (
            s["status"].as_str(),
            s["email"].as_str(),
            s["added"].as_bool()
        ),
        (Some("done"), Some("new@x.com"), Some(true))
    );
    let list = accounts(&admin).await;
    assert_eq!(list[0]["email"], "new@x.com");
    assert_eq!(
        chat(&h, "gemini-2.5-flash").await,
        200,
        "the new account serves"
    );

    // The same redirect again does nothing more.
    let again = support::client()
        .get(format!("{redirect}?state={state}&code=code-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
}

#[tokio::test]
async fn a_pasted_redirect_completes_a_sign_in_and_a_bad_paste_can_be_retried() {
    let h = Harness::start_with(&[], EXTRA).await;
    h.fake
        .add_account(AccountSpec::new("rt-p-0123456789", "phone@x.com", "proj-p"));
    let admin = admin(&h);
    let (_, body) = admin.post("/api/accounts/oauth", json!({})).await;
    let state = body["state"].as_str().unwrap().to_owned();
    let redirect = body["redirect_uri"].as_str().unwrap().to_owned();
    h.fake.register_auth_code(AuthCode {
        code: "code-2".into(),
        email: "phone@x.com".into(),
        ..AuthCode::default()
    });
    let path = format!("/api/accounts/oauth/{state}/complete");
    let (status, body) = admin
        .post(
            &path,
            json!({"input": format!("{redirect}?state=forged&code=code-2")}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).contains("state"), "{body}");
    assert!(accounts(&admin).await.is_empty());

    let (status, body) = admin
        .post(
            &path,
            json!({"input": format!("{redirect}?state={state}&code=code-2")}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email"], "phone@x.com");
    assert_eq!(accounts(&admin).await[0]["email"], "phone@x.com");
    let (status, _) = admin.get("/api/accounts/oauth/no-such-state").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn signing_in_needs_the_oauth_client() {
    let app = support::TestApp::start(&format!("admin_password = \"{PASSWORD}\"")).await;
    let admin = Admin::new(&app.url, Some(PASSWORD));
    let (status, body) = admin.post("/api/accounts/oauth", json!({})).await;
    assert_eq!(status, 400);
    assert!(message(&body).contains("oauth.client_id"), "{body}");
    let (_, body) = admin.get("/api/accounts").await;
    assert_eq!(body["oauth_configured"], false);
    app.stop().await;
}
