//! The admin API's model mapping (applied live, saved), request log (filters,
//! paging, one record with bodies and headers), live feed and usage.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use support::Harness;
use support::admin::{Admin, PASSWORD, message};

const EXTRA: &str = "admin_password = \"admin-pass-0123\"\n[quota]\nrefresh_interval_secs = 0\n[monitor]\ncapture_bodies = true\n";

fn admin(h: &Harness) -> Admin {
    Admin::new(&h.app.url, Some(PASSWORD))
}

async fn chat(h: &Harness, model: &str) -> reqwest::Response {
    h.post(
        "/v1/chat/completions",
        json!({"model": model, "messages": [{"role": "user", "content": "hello there"}]}),
    )
    .send()
    .await
    .unwrap()
}

/// Records reach SQLite through the background writer: poll (bounded).
async fn logged(admin: &Admin, query: &str, want: usize) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = admin.get(&format!("/api/requests?{query}")).await;
        assert_eq!(status, 200, "{body}");
        if body["requests"].as_array().unwrap().len() >= want
            || tokio::time::Instant::now() > deadline
        {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_model_mapping_changes_live_and_is_saved() {
    let h = Harness::start_with(&["a@x.com"], EXTRA).await;
    let admin = admin(&h);
    let (status, body) = admin.get("/api/models").await;
    assert_eq!(status, 200);
    assert_eq!(body["mapping"], json!({}));
    assert!(
        body["served"]
            .as_array()
            .unwrap()
            .contains(&json!("gemini-2.5-pro"))
    );

    let (status, body) = admin
        .put(
            "/api/models/mapping/my-model",
            json!({"to": "gemini-2.5-pro"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["mapping"], json!({"my-model": "gemini-2.5-pro"}));
    let res = chat(&h, "my-model").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-mapped-model"], "gemini-2.5-pro");
    let (_, r) = admin.get("/api/models/resolve?model=my-model").await;
    assert_eq!(
        (r["resolved"].as_str(), r["rule"].as_str()),
        (Some("gemini-2.5-pro"), Some("exact"))
    );
    let file = std::fs::read_to_string(h.app.dir.path().join("config.toml")).unwrap();
    assert!(
        file.contains("[models.mapping]") && file.contains("my-model = \"gemini-2.5-pro\""),
        "{file}"
    );
    assert!(file.contains("[monitor]"), "other tables are kept");

    let (status, body) = admin
        .put(
            "/api/models/mapping",
            json!({"mapping": {"gpt-*": "gemini-2.5-flash", "x": " "}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).contains("empty"), "{body}");
    assert_eq!(
        admin.get("/api/models").await.1["mapping"],
        json!({"my-model": "gemini-2.5-pro"})
    );

    let (status, _) = admin
        .put(
            "/api/models/mapping",
            json!({"mapping": {"gpt-*": "gemini-2.5-flash"}}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, r) = admin.get("/api/models/resolve?model=gpt-anything").await;
    assert_eq!(
        (r["resolved"].as_str(), r["rule"].as_str()),
        (Some("gemini-2.5-flash"), Some("pattern"))
    );
    let (_, r) = admin.get("/api/models/resolve?model=my-model").await;
    assert_ne!(r["rule"], "exact", "replaced, not merged");

    let (status, body) = admin.delete("/api/models/mapping/gpt-*").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["mapping"], json!({}));
    assert_eq!(admin.delete("/api/models/mapping/gpt-*").await.0, 404);
    let file = std::fs::read_to_string(h.app.dir.path().join("config.toml")).unwrap();
    assert!(!file.contains("mapping"), "{file}");
}

#[tokio::test]
async fn the_log_filters_pages_and_shows_one_record_with_bodies_and_headers() {
    let h = Harness::start_with(&["a@x.com"], EXTRA).await;
    let admin = admin(&h);
    for _ in 0..3 {
        assert_eq!(chat(&h, "gemini-2.5-flash").await.status(), 200);
    }
    let res = h
        .post(
            "/v1/chat/completions",
            json!({"model": "gemini-2.5-pro", "messages": 7}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let bad_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();

    let all = logged(&admin, "limit=10", 4).await;
    let rows = all["requests"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "{all}");
    assert_eq!(all["next_before_id"], Value::Null);
    assert_eq!(rows[0]["status"], 400, "newest first");
    assert!(
        rows[0].get("request_body").is_none(),
        "lists carry no bodies"
    );

    let errors = logged(&admin, "status=4", 1).await;
    assert_eq!(errors["requests"].as_array().unwrap().len(), 1);
    let by_model = logged(&admin, "model=gemini-2.5-flash", 3).await;
    assert_eq!(by_model["requests"].as_array().unwrap().len(), 3);
    let by_account = logged(&admin, "account=a@x.com", 3).await;
    assert_eq!(by_account["requests"].as_array().unwrap().len(), 3);
    let by_id = logged(&admin, &format!("request_id={bad_id}"), 1).await;
    assert_eq!(by_id["requests"][0]["status"], 400);

    // Paging backwards two at a time.
    let page1 = logged(&admin, "limit=2", 2).await;
    let before = page1["next_before_id"].as_i64().unwrap();
    let page2 = logged(&admin, &format!("limit=2&before_id={before}"), 2).await;
    let ids: Vec<i64> = page1["requests"]
        .as_array()
        .unwrap()
        .iter()
        .chain(page2["requests"].as_array().unwrap())
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(ids, sorted, "four distinct records, newest first");

    let ok_id = rows[1]["id"].as_i64().unwrap();
    let (status, body) = admin.get(&format!("/api/requests/{ok_id}")).await;
    assert_eq!(status, 200, "{body}");
    let record = &body["request"];
    assert!(
        record["request_body"]
            .as_str()
            .unwrap()
            .contains("hello there")
    );
    assert!(
        record["response_body"]
            .as_str()
            .unwrap()
            .contains("chat.completion")
    );
    let headers = record["request_headers"].as_str().unwrap();
    assert!(
        headers.contains("content-type: application/json"),
        "{headers}"
    );
    assert_eq!(body["capture_bodies"], true);

    for (path, want) in [
        ("/api/requests/999999", 404),
        ("/api/requests/x", 400),
        ("/api/requests?limit=0", 400),
        ("/api/requests?limit=many", 400),
        ("/api/requests?status=42", 400),
        ("/api/requests?colour=red", 400),
    ] {
        let (status, body) = admin.get(path).await;
        assert_eq!(status, want, "{path}: {body}");
        message(&body);
    }
}

#[tokio::test]
async fn usage_counts_requests_and_tokens_per_bucket_model_and_account() {
    let h = Harness::start_with(&["a@x.com"], EXTRA).await;
    let admin = admin(&h);
    assert_eq!(chat(&h, "gemini-2.5-flash").await.status(), 200);
    assert_eq!(chat(&h, "gemini-2.5-flash").await.status(), 200);
    logged(&admin, "", 2).await;
    for bucket in ["hour", "day"] {
        let (status, body) = admin.get(&format!("/api/usage?bucket={bucket}")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["bucket"], bucket);
        let rows = body["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{body}");
        assert_eq!(rows[0]["model"], "gemini-2.5-flash");
        assert_eq!(rows[0]["account"], "a@x.com");
        assert_eq!(rows[0]["requests"], 2);
        assert!(rows[0]["output_tokens"].as_i64().unwrap() > 0);
    }
    let (_, body) = admin.get("/api/usage?since_ms=99999999999999").await;
    assert_eq!(body["rows"], json!([]));
    let (status, body) = admin.get("/api/usage?bucket=week").await;
    assert_eq!(status, 400);
    assert!(message(&body).contains("week"));
}

#[tokio::test]
async fn the_live_feed_sends_each_finished_request() {
    let h = Harness::start_with(&["a@x.com"], EXTRA).await;
    let admin = admin(&h);
    let res = admin
        .request(reqwest::Method::GET, "/api/requests/live")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut stream = res.bytes_stream();
    let mut text = String::new();
    // The greeting arrives first: the subscription is in place.
    while !text.contains(": connected") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let answer = chat(&h, "gemini-2.5-flash").await;
    let id = answer.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let _ = answer.text().await.unwrap();
    let event = loop {
        if let Some(event) = support::sse_data(&text)
            .into_iter()
            .filter_map(|d| serde_json::from_str::<Value>(&d).ok())
            .find(|v| v["request_id"] == id.as_str())
        {
            break event;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("the record arrives")
            .unwrap()
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    };
    assert!(text.contains("event: request\n"), "{text}");
    assert_eq!(event["status"], 200);
    assert_eq!(event["model"], "gemini-2.5-flash");
    assert_eq!(event["account"], "a@x.com");
    assert!(event["output_tokens"].as_u64().unwrap() > 0);
    assert!(
        event.get("request_body").is_none(),
        "bodies stay out of the feed"
    );

    // Without credentials there is no feed.
    let (status, _) = Admin::new(&h.app.url, None).get("/api/requests/live").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn an_open_live_feed_does_not_hold_up_shutdown() {
    // Grace is 30 s: a feed that stayed open would keep the server that long.
    let h = Harness::start_with(&["a@x.com"], EXTRA).await;
    let res = admin(&h)
        .request(reqwest::Method::GET, "/api/requests/live")
        .send()
        .await
        .unwrap();
    let mut stream = res.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap();
    assert!(first.is_some());
    let started = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(10), h.app.stop())
        .await
        .expect("the gateway stopped without waiting out the grace period");
    assert!(started.elapsed() < Duration::from_secs(10));
    // The feed ended rather than being cut.
    let rest = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(chunk) = stream.next().await {
            chunk.unwrap();
        }
    })
    .await;
    assert!(rest.is_ok(), "the feed ended");
}
