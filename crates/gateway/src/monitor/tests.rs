//! The monitor never blocks: a stalled writer makes it drop and count.

use super::*;

fn record(i: usize) -> Record {
    Record {
        request_id: format!("r{i}"),
        protocol: "openai",
        status: 200,
        attempts: 1,
        ..Record::default()
    }
}

#[tokio::test]
async fn a_stalled_writer_makes_submit_drop_and_count_not_block() {
    let (monitor, rx) = Monitor::new(MonitorConfig {
        capture_bodies: None,
        channel_capacity: 8,
    });
    // Nobody drains `rx`: the writer is stalled.
    let submitting = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        for i in 0..1000 {
            monitor.submit(record(i));
        }
    })
    .await;
    assert!(submitting.is_ok(), "submit blocked");
    assert_eq!(monitor.dropped(), 1000 - 8);
    assert_eq!(rx.len(), 8, "the first records are kept");
    // Metrics still saw every request.
    let text = monitor.metrics.render(&metrics::Gauges::default());
    assert!(
        text.contains("uplink_requests_total{protocol=\"openai\",model=\"\",status=\"200\"} 1000"),
        "{text}"
    );
}

#[tokio::test]
async fn live_subscribers_get_each_record() {
    let (monitor, _rx) = Monitor::new(MonitorConfig {
        capture_bodies: None,
        channel_capacity: 8,
    });
    let mut live = monitor.subscribe();
    monitor.submit(record(1));
    assert_eq!(live.recv().await.unwrap().request_id, "r1");
}

#[test]
fn truncation_is_utf8_safe_and_says_what_was_cut() {
    assert_eq!(truncate(b"hello", 10), "hello");
    assert_eq!(truncate(b"hello world", 5), "hello…[6 more bytes]");
    let text = truncate("héllo".as_bytes(), 2);
    assert!(
        text.starts_with('h') && text.contains("more bytes"),
        "{text}"
    );
}

#[test]
fn recorded_headers_hide_credentials() {
    let mut headers = http::HeaderMap::new();
    headers.insert("authorization", "Bearer sk-secret-123456".parse().unwrap());
    headers.insert("x-api-key", "sk-secret-123456".parse().unwrap());
    headers.insert("x-goog-api-key", "sk-secret-123456".parse().unwrap());
    headers.insert("cookie", "uplink_session=abc".parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    let lines = header_lines(&headers);
    assert!(
        !lines.contains("secret") && !lines.contains("abc"),
        "{lines}"
    );
    assert!(
        lines.contains("content-type: application/json\n"),
        "{lines}"
    );
    assert!(lines.contains("authorization: [redacted]\n"), "{lines}");
    assert_eq!(lines.matches("[redacted]").count(), 4, "{lines}");
}

#[test]
fn metric_model_labels_are_capped() {
    let (monitor, _rx) = Monitor::new(MonitorConfig {
        capture_bodies: None,
        channel_capacity: 8,
    });
    for i in 0..500 {
        monitor.submit(Record {
            model: Some(format!("client-made-up-{i}")),
            ..record(i)
        });
    }
    let text = monitor.metrics.render(&metrics::Gauges::default());
    let series = text
        .lines()
        .filter(|l| l.starts_with("uplink_requests_total{"))
        .count();
    assert!(series <= 65, "{series} series");
    assert!(text.contains("model=\"other\""), "{text}");
}

/// A writer running on a fresh database, with `retention`.
struct Writing {
    _dir: tempfile::TempDir,
    storage: crate::storage::Storage,
    monitor: Monitor,
    tracker: tokio_util::task::TaskTracker,
    stop: tokio_util::sync::CancellationToken,
}

impl Writing {
    async fn start(channel_capacity: usize, retention: Retention) -> Writing {
        let dir = tempfile::tempdir().unwrap();
        let storage = crate::storage::Storage::open(dir.path()).await.unwrap();
        let (monitor, rx) = Monitor::new(MonitorConfig {
            capture_bodies: None,
            channel_capacity,
        });
        let tracker = tokio_util::task::TaskTracker::new();
        let stop = tokio_util::sync::CancellationToken::new();
        spawn_writer(&tracker, stop.clone(), storage.clone(), rx, retention);
        Writing {
            _dir: dir,
            storage,
            monitor,
            tracker,
            stop,
        }
    }

    /// The stored records' ids, newest first.
    async fn stored(&self) -> Vec<String> {
        let filter = crate::storage::LogFilter {
            limit: 1_000,
            ..Default::default()
        };
        let page = self.storage.query_requests(&filter).await.unwrap();
        page.into_iter().map(|r| r.request_id).collect()
    }

    /// Wait (up to 10 s) until the stored ids satisfy `done`.
    async fn until(&self, what: &str, done: impl Fn(&[String]) -> bool) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let ids = self.stored().await;
            if done(&ids) {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "{what}: {ids:?}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    async fn shut_down(&self) {
        self.stop.cancel();
        self.tracker.close();
        tokio::time::timeout(std::time::Duration::from_secs(10), self.tracker.wait())
            .await
            .expect("the writer ends on shutdown");
    }
}

const A_DAY: std::time::Duration = std::time::Duration::from_secs(86_400);

/// The writer (on a thread of its own) stores every record it is given, in
/// more than one batch (of at most 512), and on shutdown stores what was
/// still queued.
#[tokio::test]
async fn the_writer_stores_every_record_and_what_is_queued_at_shutdown() {
    let w = Writing::start(
        4096,
        Retention {
            max_age: A_DAY,
            max_rows: 100_000,
            every: A_DAY,
        },
    )
    .await;
    for i in 0..900 {
        w.monitor.submit(record(i));
    }
    w.until("records not stored", |ids| ids.len() >= 900).await;
    for i in 900..1_000 {
        w.monitor.submit(record(i));
    }
    w.shut_down().await;
    assert_eq!(w.stored().await.len(), 1_000);
    assert_eq!(w.monitor.dropped(), 0);
}

/// Retention runs on its tick: past `max_rows`, the oldest records go.
#[tokio::test]
async fn retention_keeps_the_newest_max_rows() {
    let w = Writing::start(
        64,
        Retention {
            max_age: A_DAY,
            max_rows: 5,
            every: std::time::Duration::from_millis(50),
        },
    )
    .await;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for i in 0..20 {
        w.monitor.submit(Record {
            ts_ms: now_ms,
            ..record(i)
        });
    }
    // Stored (after the writer's linger), then pruned on a later tick.
    w.until("not pruned to the newest five", |ids| {
        ids == ["r19", "r18", "r17", "r16", "r15"]
    })
    .await;
    w.shut_down().await;
}
