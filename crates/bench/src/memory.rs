//! The gateway's memory: resident set idle, at peak, and with N streams held
//! open at once (each has had its first chunk; the next is an hour away).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http_body_util::BodyExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::load;
use crate::procfs::memory_mb;
use crate::scenarios::{TOKEN, slow_stream};
use crate::stats::contains;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Memory {
    /// VmRSS after start-up, before any request.
    pub idle_mb: Option<f64>,
    /// VmRSS once the load lanes are over.
    pub after_load_mb: Option<f64>,
    /// VmHWM once the load lanes are over.
    pub peak_mb: Option<f64>,
    /// VmRSS of the fresh gateway that holds the streams, before they open.
    pub streams_baseline_mb: Option<f64>,
    /// Streams asked for, and how many were open at once.
    pub streams: usize,
    pub streams_open: usize,
    /// VmRSS with them open.
    pub streams_mb: Option<f64>,
    /// VmHWM at the end, and VmRSS after the streams closed.
    pub streams_peak_mb: Option<f64>,
    pub after_streams_mb: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streams_error: Option<String>,
}

/// Open `n` streams through the gateway at `base`, wait until each has its first
/// token, then read the gateway's memory and close them all.
pub async fn hold_streams(memory: &mut Memory, base: &str, n: usize, pid: u32) {
    memory.streams = n;
    let scenario = slow_stream();
    let uri = match scenario.uri(base) {
        Ok(u) => u,
        Err(e) => {
            memory.streams_error = Some(e);
            return;
        }
    };
    let client = load::client();
    let (release_tx, release_rx) = watch::channel(false);
    let (opened_tx, mut opened_rx) = mpsc::channel::<Result<(), String>>(n.max(1));
    let ids = Arc::new(AtomicU64::new(1 << 40));
    let mut tasks = JoinSet::new();
    for _ in 0..n {
        let (client, uri, scenario, ids) =
            (client.clone(), uri.clone(), scenario.clone(), ids.clone());
        let (opened, mut release) = (opened_tx.clone(), release_rx.clone());
        tasks.spawn(async move {
            let id = ids.fetch_add(1, Ordering::Relaxed);
            let first = async {
                let request = scenario.request(&uri, 0, id)?;
                let response = client
                    .request(request)
                    .await
                    .map_err(|e| format!("request failed: {e:?}"))?;
                if response.status() != 200 {
                    return Err(format!("status {}", response.status()));
                }
                let mut body = response.into_body();
                loop {
                    match body.frame().await {
                        Some(Ok(frame)) => {
                            if frame.data_ref().is_some_and(|d| contains(d, TOKEN)) {
                                return Ok(body);
                            }
                        }
                        Some(Err(e)) => return Err(format!("body cut: {e}")),
                        None => return Err("the stream ended early".to_owned()),
                    }
                }
            };
            match first.await {
                Ok(body) => {
                    let _ = opened.send(Ok(())).await;
                    let _ = release.wait_for(|go| *go).await;
                    drop(body);
                }
                Err(e) => {
                    let _ = opened.send(Err(e)).await;
                }
            }
        });
    }
    drop(opened_tx);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut errors = Vec::new();
    while memory.streams_open + errors.len() < n {
        match tokio::time::timeout_at(deadline, opened_rx.recv()).await {
            Ok(Some(Ok(()))) => memory.streams_open += 1,
            Ok(Some(Err(e))) => errors.push(e),
            Ok(None) | Err(_) => break,
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    memory.streams_mb = memory_mb(pid, "VmRSS");
    let _ = release_tx.send(true);
    let closing = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(20), closing)
        .await
        .is_err()
    {
        tasks.abort_all();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    memory.streams_peak_mb = memory_mb(pid, "VmHWM");
    memory.after_streams_mb = memory_mb(pid, "VmRSS");
    if memory.streams_open < n {
        memory.streams_error = Some(format!(
            "{} of {n} streams opened; {} failed{}",
            memory.streams_open,
            errors.len(),
            errors
                .first()
                .map_or(String::new(), |e| format!(", e.g. {e}"))
        ));
    }
}
