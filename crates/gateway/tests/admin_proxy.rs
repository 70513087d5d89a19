//! The proxy through the admin API: stop and start (503 in each caller's
//! protocol while stopped), auth mode and API key applied live and saved to the
//! config file, bad input refused with nothing changed, the port and LAN access
//! moving the listener without a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;

use serde_json::{Value, json};
use support::admin::{Admin, PASSWORD, message};
use support::{Harness, KEY};

fn admin(h: &Harness) -> Admin {
    Admin::new(&h.app.url, Some(PASSWORD))
}

fn config_text(h: &Harness) -> String {
    std::fs::read_to_string(h.app.dir.path().join("config.toml")).unwrap()
}

async fn chat(h: &Harness, base: &str, key: Option<&str>) -> (u16, Value) {
    let mut b = h.client.post(format!("{base}/v1/chat/completions")).json(
        &json!({"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}),
    );
    if let Some(key) = key {
        b = b.bearer_auth(key);
    }
    let res = b.send().await.unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_stopped_proxy_answers_503_in_each_protocol_and_serves_again_after_start() {
    let h = Harness::start_with(&["a@x.com"], &format!("admin_password = \"{PASSWORD}\"")).await;
    let admin = admin(&h);
    assert_eq!(chat(&h, &h.app.url, None).await.0, 200);

    let (status, body) = admin.post("/api/proxy/stop", json!({})).await;
    assert_eq!((status, &body["running"]), (200, &json!(false)));
    let (status, body) = chat(&h, &h.app.url, None).await;
    assert_eq!(status, 503);
    assert_eq!(body["error"]["code"], "proxy_stopped", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("stopped")
    );

    let res = h
        .post(
            "/v1/messages",
            json!({"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .header("anthropic-version", "2023-06-01")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], "overloaded_error");

    let res = h
        .post(
            "/v1beta/models/gemini-2.5-flash:generateContent",
            json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["status"], "UNAVAILABLE", "{body}");
    assert_eq!(
        h.generate_calls("a@x.com"),
        1,
        "nothing reached the upstream"
    );

    // The admin API and health stay up.
    assert_eq!(admin.get("/api/status").await.0, 200);
    let health = h.client.get(h.app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    let (status, body) = admin.post("/api/proxy/start", json!({})).await;
    assert_eq!((status, &body["running"]), (200, &json!(true)));
    assert_eq!(chat(&h, &h.app.url, None).await.0, 200);
    assert_eq!(h.generate_calls("a@x.com"), 2);
}

#[tokio::test]
async fn auth_mode_and_key_apply_live_and_are_saved_keeping_other_keys() {
    let h = Harness::start_with(
        &["a@x.com"],
        &format!("# my settings\nadmin_password = \"{PASSWORD}\"\napi_key = \"{KEY}\"\nauth_mode = \"off\""),
    )
    .await;
    let admin = admin(&h);
    assert_eq!(chat(&h, &h.app.url, None).await.0, 200);

    let (status, body) = admin
        .patch("/api/proxy", json!({"auth_mode": "strict"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["auth_mode"], "strict");
    assert_eq!(chat(&h, &h.app.url, None).await.0, 401);
    assert_eq!(chat(&h, &h.app.url, Some(KEY)).await.0, 200);
    let text = config_text(&h);
    assert!(text.contains("auth_mode = \"strict\""), "{text}");
    assert!(
        text.contains("# my settings\n"),
        "comments are kept: {text}"
    );
    assert!(
        text.contains("[cloudcode]") && text.contains("client_id = \"test-client\""),
        "{text}"
    );

    let new_key = "sk-brand-new-key-42";
    let (status, body) = admin.patch("/api/proxy", json!({"api_key": new_key})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["api_key_hint"], "sk-bra…");
    assert_eq!(
        chat(&h, &h.app.url, Some(KEY)).await.0,
        401,
        "the old key stops working"
    );
    assert_eq!(chat(&h, &h.app.url, Some(new_key)).await.0, 200);
    assert!(config_text(&h).contains(&format!("api_key = \"{new_key}\"")));
    let (_, body) = admin.get("/api/proxy/api-key").await;
    assert_eq!(body["api_key"], new_key);
}

#[tokio::test]
async fn bad_settings_are_refused_and_change_nothing() {
    let h = Harness::start_with(
        &["a@x.com"],
        &format!("admin_password = \"{PASSWORD}\"\napi_key = \"{KEY}\"\nauth_mode = \"strict\""),
    )
    .await;
    let admin = admin(&h);
    let before = config_text(&h);
    let cases = [
        (json!({"api_key": "nosk-0123456789"}), "sk-"),
        (json!({"api_key": "sk-short"}), "at least 10"),
        (json!({"api_key": ""}), "empty"),
        (json!({"auth_mode": "sometimes"}), "not one of"),
        (json!({"auth_mode": "strict", "api_key": 7}), "not valid"),
        (json!({"colour": "blue"}), "unknown field"),
        (json!({"port": 70000}), "not valid"),
    ];
    for (body, expected) in cases {
        let (status, answer) = admin.patch("/api/proxy", body.clone()).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert!(message(&answer).contains(expected), "{body} → {answer}");
    }
    assert_eq!(config_text(&h), before, "the file is untouched");
    assert_eq!(
        chat(&h, &h.app.url, Some(KEY)).await.0,
        200,
        "the old key still works"
    );
    let (_, status) = admin.get("/api/status").await;
    assert_eq!(status["auth_mode"], "strict");
}

#[tokio::test]
async fn regenerating_the_key_retires_the_old_one_and_moves_the_admin_password_with_it() {
    // No admin_password: the key is the admin password.
    let h = Harness::start_with(
        &["a@x.com"],
        &format!("api_key = \"{KEY}\"\nauth_mode = \"strict\""),
    )
    .await;
    let old = Admin::new(&h.app.url, Some(KEY));
    let (status, body) = old.post("/api/proxy/api-key", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let fresh = body["api_key"].as_str().unwrap().to_owned();
    assert!(
        fresh.starts_with("sk-") && fresh.len() == 35 && fresh != KEY,
        "{fresh}"
    );
    assert_eq!(chat(&h, &h.app.url, Some(KEY)).await.0, 401);
    assert_eq!(chat(&h, &h.app.url, Some(&fresh)).await.0, 200);
    assert_eq!(old.get("/api/status").await.0, 401);
    assert_eq!(
        Admin::new(&h.app.url, Some(&fresh))
            .get("/api/status")
            .await
            .0,
        200
    );
    assert!(config_text(&h).contains(&fresh));
}

#[tokio::test]
async fn the_port_changes_only_while_stopped_and_the_listener_moves() {
    let h = Harness::start_with(&["a@x.com"], &format!("admin_password = \"{PASSWORD}\"")).await;
    let admin = admin(&h);
    let (_, status) = admin.get("/api/status").await;
    let old: SocketAddr = status["listen"].as_str().unwrap().parse().unwrap();

    let (code, body) = admin.patch("/api/proxy", json!({"port": 0})).await;
    assert_eq!(code, 409, "{body}");
    assert!(message(&body).contains("Stop the proxy"), "{body}");

    // A port someone else holds: refused, the gateway stays where it is.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_port = taken.local_addr().unwrap().port();
    admin.post("/api/proxy/stop", json!({})).await;
    let before = config_text(&h);
    let (code, body) = admin.patch("/api/proxy", json!({"port": taken_port})).await;
    assert_eq!(code, 409, "{body}");
    assert!(message(&body).contains("address already in use"), "{body}");
    assert_eq!(config_text(&h), before, "the file was put back");
    assert_eq!(admin.get("/api/status").await.1["port"], old.port());

    let (code, body) = admin.patch("/api/proxy", json!({"port": 0})).await;
    assert_eq!(code, 200, "{body}");
    let new: SocketAddr = body["listen"].as_str().unwrap().parse().unwrap();
    assert_ne!(new.port(), old.port());
    assert!(config_text(&h).contains("port = 0"));
    // The old port is closed (a new connection is refused), the new one serves.
    assert!(tokio::net::TcpStream::connect(old).await.is_err());
    let moved = Admin::new(&format!("http://{new}"), Some(PASSWORD));
    assert_eq!(moved.post("/api/proxy/start", json!({})).await.0, 200);
    assert_eq!(chat(&h, &format!("http://{new}"), None).await.0, 200);
    h.app.stop().await;
}

#[tokio::test]
async fn lan_access_moves_the_listener_on_the_same_port_and_auto_mode_follows() {
    let h = Harness::start_with(
        &["a@x.com"],
        &format!("admin_password = \"{PASSWORD}\"\napi_key = \"{KEY}\""),
    )
    .await;
    let admin = admin(&h);
    let (_, status) = admin.get("/api/status").await;
    assert_eq!(
        (
            status["auth_mode"].as_str(),
            status["auth_mode_setting"].as_str()
        ),
        (Some("off"), Some("auto"))
    );
    let port = status["port"].as_u64().unwrap();

    // Allowed while running: the port stays, only the address changes.
    let (code, body) = admin
        .patch("/api/proxy", json!({"allow_lan_access": true}))
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["listen"], format!("0.0.0.0:{port}"));
    assert_eq!(body["lan_exposed"], true);
    assert_eq!(
        body["auth_mode"], "all_except_health",
        "auto asks for a key on the LAN"
    );
    assert_eq!(chat(&h, &h.app.url, None).await.0, 401);
    assert_eq!(chat(&h, &h.app.url, Some(KEY)).await.0, 200);
    assert!(config_text(&h).contains("allow_lan_access = true"));

    let (code, body) = admin
        .patch("/api/proxy", json!({"allow_lan_access": false}))
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["listen"], format!("127.0.0.1:{port}"));
    assert_eq!(chat(&h, &h.app.url, None).await.0, 200);
    h.app.stop().await;
}

#[tokio::test]
async fn an_explicit_bind_keeps_lan_access_from_changing() {
    let h = Harness::start_with(
        &["a@x.com"],
        &format!("admin_password = \"{PASSWORD}\"\nbind = \"127.0.0.1\""),
    )
    .await;
    let admin = admin(&h);
    let before = config_text(&h);
    let (code, body) = admin
        .patch("/api/proxy", json!({"allow_lan_access": true}))
        .await;
    assert_eq!(code, 409, "{body}");
    assert!(message(&body).contains("bind = \"127.0.0.1\""), "{body}");
    assert_eq!(config_text(&h), before);
    let (_, status) = admin.get("/api/status").await;
    assert_eq!(status["bind"], "127.0.0.1");
    assert_eq!(status["lan_exposed"], false);
}

#[tokio::test]
async fn without_a_listener_a_port_change_is_refused_not_hung() {
    use tower::ServiceExt;
    let (app, dir) = support::router(&format!("admin_password = \"{PASSWORD}\"")).await;
    let send = |method: &str, path: &str, body: &str| {
        http::Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {PASSWORD}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.to_owned()))
            .unwrap()
    };
    let res = app
        .clone()
        .oneshot(send("POST", "/api/proxy/stop", ""))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let before = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    let res = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        app.oneshot(send("PATCH", "/api/proxy", r#"{"port": 0}"#)),
    )
    .await
    .expect("answered")
    .unwrap();
    assert_eq!(res.status(), 409);
    let body = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert!(message(&body).contains("not accepting"), "{body}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("config.toml")).unwrap(),
        before
    );
}
