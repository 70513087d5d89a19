//! The batched writer: drains the monitor's channel into SQLite, a transaction
//! per batch, and enforces retention by age and by count in the background.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::Record;
use crate::storage::Storage;

/// At most this many records per transaction.
const BATCH: usize = 512;
/// After the first record of a batch, wait this long for more: at low load a
/// transaction per request cost more CPU than the requests themselves.
const LINGER: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub max_age: Duration,
    pub max_rows: i64,
    /// How often retention runs.
    pub every: Duration,
}

/// Start the writer and the retention task on `tracker`. Both finish when
/// `shutdown` is cancelled, the writer after draining what is queued.
///
/// The writer runs on a thread of its own (from the runtime's blocking pool),
/// not among the request handlers: turning a batch into statement parameters
/// is a millisecond of CPU, which on the default single request thread stalled
/// whatever requests were in flight.
pub fn spawn_writer(
    tracker: &TaskTracker,
    shutdown: CancellationToken,
    storage: Storage,
    rx: mpsc::Receiver<Record>,
    retention: Retention,
) {
    let db = storage.clone();
    let stop = shutdown.clone();
    let runtime = tokio::runtime::Handle::current();
    tracker.spawn_blocking(move || runtime.block_on(drain_into(db, rx, stop)));
    tracker.spawn(async move {
        let mut tick = tokio::time::interval(retention.every);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = shutdown.cancelled() => break,
            }
            let cutoff = std::time::SystemTime::now()
                .checked_sub(retention.max_age)
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_millis() as i64);
            match storage.prune_requests(cutoff, retention.max_rows).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!("retention removed {n} request records"),
                Err(e) => tracing::warn!("request log retention failed: {e}"),
            }
        }
    });
}

/// Write what arrives in batches until `stop`, then what was queued before it.
///
/// After the first record of a batch it sleeps for [`LINGER`] and then takes
/// whatever queued meanwhile: the channel has no waiting receiver to wake
/// while it fills, so sending a record costs the request thread no wake-up of
/// this thread.
async fn drain_into(db: Storage, mut rx: mpsc::Receiver<Record>, stop: CancellationToken) {
    let mut batch = Vec::new();
    loop {
        tokio::select! {
            received = rx.recv() => match received {
                Some(record) => batch.push(record),
                None => break,
            },
            () = stop.cancelled() => break,
        }
        tokio::select! {
            () = tokio::time::sleep(LINGER) => {}
            () = stop.cancelled() => break,
        }
        while let Ok(record) = rx.try_recv() {
            add(&db, &mut batch, record).await;
        }
        write(&db, &mut batch).await;
    }
    // Drain what was queued before shutdown.
    rx.close();
    while let Some(record) = rx.recv().await {
        add(&db, &mut batch, record).await;
    }
    write(&db, &mut batch).await;
}

/// Add `record` to the batch, writing the batch once it is full.
async fn add(db: &Storage, batch: &mut Vec<Record>, record: Record) {
    batch.push(record);
    if batch.len() >= BATCH {
        write(db, batch).await;
    }
}

async fn write(storage: &Storage, batch: &mut Vec<Record>) {
    if batch.is_empty() {
        return;
    }
    let records = std::mem::take(batch);
    let count = records.len();
    if let Err(e) = storage.insert_requests(records).await {
        tracing::warn!("could not store {count} request records: {e}");
    }
}
