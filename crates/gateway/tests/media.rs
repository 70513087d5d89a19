//! Images given by http(s) URL are fetched by the gateway and inlined.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::Router;
use axum::routing::get;
use base64::Engine;
use serde_json::{Value, json};
use support::Harness;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\nnot-really-an-image";

async fn image_server() -> String {
    let app = Router::new()
        .route(
            "/cat.png",
            get(|| async { ([(http::header::CONTENT_TYPE, "image/png")], PNG) }),
        )
        .route("/huge", get(|| async { vec![0u8; 21 * 1024 * 1024] }))
        .route("/moved", get(|| async { redirect("elsewhere/cat") }))
        .route("/elsewhere/cat", get(|| async { redirect("/cat.png") }))
        .route("/loop", get(|| async { redirect("/loop") }))
        .route(
            "/to-ftp",
            get(|| async { redirect("ftp://files.test/cat.png") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn redirect(to: &'static str) -> impl axum::response::IntoResponse {
    (http::StatusCode::FOUND, [(http::header::LOCATION, to)])
}

fn with_image(url: &str) -> Value {
    json!({"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": url}},
    ]}]})
}

/// Ask for a chat about the image at `path` on the image server and check
/// that the upstream got the cat picture inline.
async fn assert_cat_inlined(path: &str) {
    let h = Harness::start(&["a@x.com"]).await;
    let images = image_server().await;
    let res = h
        .post(
            "/v1/chat/completions",
            with_image(&format!("{images}{path}")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let sent = h.fake.generate_calls("a@x.com")[0].body.clone().unwrap();
    let parts = sent["request"]["contents"][0]["parts"].as_array().unwrap();
    let inline = parts.iter().find_map(|p| p.get("inlineData")).unwrap();
    assert_eq!(inline["mimeType"], "image/png");
    assert_eq!(
        inline["data"],
        base64::engine::general_purpose::STANDARD.encode(PNG)
    );
}

#[tokio::test]
async fn http_images_are_fetched_and_inlined() {
    assert_cat_inlined("/cat.png").await;
}

#[tokio::test]
async fn redirects_are_followed_relative_ones_included() {
    // /moved -> elsewhere/cat (relative) -> /cat.png (absolute path)
    assert_cat_inlined("/moved").await;
}

#[tokio::test]
async fn unreachable_missing_or_huge_images_are_a_clear_400() {
    let h = Harness::start(&["a@x.com"]).await;
    let images = image_server().await;
    for (url, needle) in [
        (format!("{images}/missing.png"), "HTTP 404"),
        (format!("{images}/huge"), "larger than"),
        (format!("{images}/loop"), "redirected more than 5 times"),
        (
            format!("{images}/to-ftp"),
            "redirected to ftp://files.test/cat.png, which is not http(s)",
        ),
        (
            "http://127.0.0.1:1/nothing-listens-here.png".to_owned(),
            "Could not fetch",
        ),
    ] {
        let res = h
            .post("/v1/chat/completions", with_image(&url))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{url}");
        let body: Value = res.json().await.unwrap();
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(needle) && msg.contains(&url), "{msg}");
    }
    assert_eq!(h.generate_calls("a@x.com"), 0);
}
