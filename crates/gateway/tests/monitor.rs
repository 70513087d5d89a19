//! Every proxied request is recorded — answers, streams, errors, abandoned
//! streams — and shows in /metrics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::Harness;
use uplink_fake_upstream::Behavior;
use uplink_gateway::storage::{LogFilter, LogRow, Storage};

async fn rows(h: &Harness, want: usize) -> Vec<LogRow> {
    // Records reach SQLite through a background writer: poll (bounded).
    let storage = Storage::open(h.app.dir.path()).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let rows = storage
            .query_requests(&LogFilter {
                limit: 100,
                ..LogFilter::default()
            })
            .await
            .unwrap();
        if rows.len() >= want || tokio::time::Instant::now() > deadline {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn answers_streams_and_errors_are_recorded_with_tokens() {
    let h = Harness::start(&["a@x.com"]).await;
    let body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(
        h.post("/v1/chat/completions", body.clone())
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    let text = h
        .post("/v1/chat/completions", streamed)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"));
    let bad = h
        .post("/v1/chat/completions", json!({"model": "x", "messages": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    let rows = rows(&h, 3).await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    let (bad, stream, plain) = (&rows[0], &rows[1], &rows[2]);
    assert_eq!((plain.status, plain.stream), (200, false));
    assert_eq!(plain.protocol, "openai");
    assert_eq!(plain.path, "/v1/chat/completions");
    assert_eq!(plain.model.as_deref(), Some("gpt-4o"));
    assert_eq!(plain.mapped_model.as_deref(), Some("gpt-oss-120b-medium"));
    assert_eq!(plain.account.as_deref(), Some("a@x.com"));
    assert_eq!(plain.attempts, 1);
    assert!(
        plain.input_tokens > 0 && plain.output_tokens > 0,
        "{plain:?}"
    );
    assert_eq!(plain.client_ip.as_deref(), Some("127.0.0.1"));
    assert!(plain.ttfb_ms.is_some());
    assert_eq!((stream.status, stream.stream), (200, true));
    assert!(
        stream.output_tokens > 0,
        "usage parsed from the stream: {stream:?}"
    );
    assert_eq!(bad.status, 400);
    assert!(
        bad.error.as_deref().unwrap().contains("messages"),
        "{bad:?}"
    );
    assert_eq!(
        plain.request_body, None,
        "bodies are not captured by default"
    );

    let metrics = h
        .client
        .get(h.app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("uplink_requests_total{protocol=\"openai\",model=\"gpt-oss-120b-medium\",status=\"200\"} 2"), "{metrics}");
    assert!(
        metrics.contains("uplink_request_duration_seconds_count{protocol=\"openai\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("uplink_accounts{state=\"active\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("uplink_monitor_dropped_records_total 0"),
        "{metrics}"
    );
}

#[tokio::test]
async fn an_abandoned_stream_and_a_rotation_are_recorded() {
    let h = Harness::start_with(
        &["a@x.com", "b@x.com"],
        "[scheduling]\nmode = \"fixed\"\npreferred_account = \"a@x.com\"",
    )
    .await;
    h.fake
        .script("a@x.com", vec![Behavior::quota_exhausted("1h")]);
    h.fake.script(
        "b@x.com",
        vec![Behavior::ChunkDelay(Duration::from_millis(500))],
    );
    let body = json!({"model": "gemini-2.5-flash", "stream": true, "messages": [{"role": "user", "content": "one two three"}]});
    let res = h.post("/v1/chat/completions", body).send().await.unwrap();
    assert_eq!(res.status(), 200);
    drop(res); // the client goes away mid-stream

    let rows = rows(&h, 1).await;
    let row = &rows[0];
    assert_eq!(row.account.as_deref(), Some("b@x.com"));
    assert_eq!(row.attempts, 2, "one rotation");
    assert!(
        row.error.as_deref().unwrap_or("").contains("client closed"),
        "{row:?}"
    );
}

#[tokio::test]
async fn bodies_are_captured_truncated_when_enabled() {
    let h = Harness::start_with(
        &["a@x.com"],
        "[monitor]\ncapture_bodies = true\ncapture_max_bytes = 40",
    )
    .await;
    let body = json!({"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "a long prompt that will be cut"}]});
    assert_eq!(
        h.post("/v1/chat/completions", body)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let id = rows(&h, 1).await[0].id;
    let storage = Storage::open(h.app.dir.path()).await.unwrap();
    let row = storage.request(id).await.unwrap().unwrap();
    let req = row.request_body.unwrap();
    assert!(
        req.starts_with("{\"") && req.contains("more bytes]"),
        "{req}"
    );
    let headers = row.request_headers.unwrap();
    assert!(
        headers.contains("content-type: application/json"),
        "{headers}"
    );
    assert!(
        row.response_headers
            .unwrap()
            .contains("x-mapped-model: gemini-2.5-flash"),
        "response headers are kept too"
    );
    let res: String = row.response_body.unwrap();
    assert!(
        res.contains("chat.completion") || res.contains("more bytes"),
        "{res}"
    );
    let _: Option<Value> = None;
}
