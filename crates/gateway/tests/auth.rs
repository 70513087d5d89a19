//! Client authentication: every auth mode × every accepted way of sending the key
//! × health and other paths, through the real router.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use support::KEY;
use tower::ServiceExt;

/// How a request carries (or does not carry) a key.
#[derive(Debug, Clone, Copy)]
enum Send {
    Nothing,
    Bearer,
    RawAuthorization,
    XApiKey,
    XGoogApiKey,
    Query,
}

const SENDS: [Send; 6] = [
    Send::Nothing,
    Send::Bearer,
    Send::RawAuthorization,
    Send::XApiKey,
    Send::XGoogApiKey,
    Send::Query,
];

fn request(method: &str, path: &str, send: Send, key: &str) -> Request<Body> {
    let uri = match send {
        Send::Query => format!("{path}?key={key}"),
        _ => path.to_owned(),
    };
    let b = Request::builder().method(method).uri(uri);
    let b = match send {
        Send::Nothing | Send::Query => b,
        Send::Bearer => b.header("authorization", format!("Bearer {key}")),
        Send::RawAuthorization => b.header("authorization", key),
        Send::XApiKey => b.header("x-api-key", key),
        Send::XGoogApiKey => b.header("x-goog-api-key", key),
    };
    b.body(Body::empty()).unwrap()
}

async fn status(app: &uplink_gateway::server::App, req: Request<Body>) -> (StatusCode, Value) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn every_mode_every_header_health_and_other_paths() {
    let paths = [
        ("GET", "/healthz", true),
        ("GET", "/health", true),
        ("GET", "/", false),
        ("POST", "/v1/unknown", false),
    ];
    for mode in ["off", "strict", "all_except_health"] {
        let (app, _dir) =
            support::router(&format!("auth_mode = \"{mode}\"\napi_key = \"{KEY}\"")).await;
        for (method, path, is_health) in paths {
            for send in SENDS {
                for (key, right) in [(KEY, true), ("sk-wrong-key-000", false)] {
                    let (status, body) = status(&app, request(method, path, send, key)).await;
                    let needs_key = match mode {
                        "off" => false,
                        "strict" => true,
                        _ => !is_health,
                    };
                    let presented = !matches!(send, Send::Nothing);
                    let expect_401 = needs_key && !(presented && right);
                    assert_eq!(
                        status == StatusCode::UNAUTHORIZED,
                        expect_401,
                        "mode={mode} {method} {path} send={send:?} right_key={right}: got {status} {body}"
                    );
                    if expect_401 {
                        let msg = body["error"]["message"].as_str().unwrap();
                        assert!(msg.contains("x-api-key") && msg.contains("Bearer"), "{msg}");
                        assert!(!msg.contains(key), "never echo the key: {msg}");
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn a_401_comes_in_the_callers_protocol() {
    let (app, _dir) =
        support::router(&format!("auth_mode = \"strict\"\napi_key = \"{KEY}\"")).await;

    let (s, body) = status(
        &app,
        request("POST", "/v1/chat/completions", Send::Bearer, "sk-nope-nope"),
    )
    .await;
    assert_eq!(s, 401);
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["code"], "invalid_api_key");
    let res = app
        .clone()
        .oneshot(request(
            "POST",
            "/v1/messages",
            Send::XApiKey,
            "sk-nope-nope",
        ))
        .await
        .unwrap();
    assert_eq!(
        res.headers()["x-should-retry"],
        "false",
        "Claude Code retries 401s for minutes otherwise"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid API key")
    );

    let (s, body) = status(
        &app,
        request("POST", "/v1/messages", Send::XApiKey, "sk-nope-nope"),
    )
    .await;
    assert_eq!(s, 401);
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "authentication_error");

    let (s, body) = status(
        &app,
        request(
            "POST",
            "/v1beta/models/gemini-2.5-pro:generateContent",
            Send::Nothing,
            "",
        ),
    )
    .await;
    assert_eq!(s, 401);
    assert_eq!(body["error"]["code"], 401);
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Missing API key")
    );
}

#[tokio::test]
async fn cors_preflight_passes_even_in_strict_mode() {
    let (app, _dir) =
        support::router(&format!("auth_mode = \"strict\"\napi_key = \"{KEY}\"")).await;
    let req = Request::builder()
        .method("OPTIONS")
        .uri("/v1/chat/completions")
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .body(Body::empty())
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn the_generated_key_is_stable_across_restarts() {
    let (config, dir) = support::config("auth_mode = \"strict\"");
    let first = uplink_gateway::run::Gateway::bind(config.clone())
        .await
        .unwrap();
    let key1 = secrecy::ExposeSecret::expose_secret(first.state.auth().key().unwrap()).to_owned();
    assert!(key1.starts_with("sk-") && key1.len() == 35);
    first.state.storage().close().await;
    drop(first);
    let second = uplink_gateway::run::Gateway::bind(config).await.unwrap();
    let key2 = secrecy::ExposeSecret::expose_secret(second.state.auth().key().unwrap()).to_owned();
    assert_eq!(key1, key2);
    let app = uplink_gateway::server::router(second.state);
    let (s, _) = status(&app, request("GET", "/healthz", Send::Bearer, &key1)).await;
    assert_eq!(s, 200);
    drop(dir);
}
