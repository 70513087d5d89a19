//! The `request_log` table: batched inserts, filtered queries with paging,
//! retention, and token usage statistics.

use std::sync::OnceLock;

use serde::Serialize;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::{Storage, StorageError};
use crate::monitor::Record;

/// A stored request, as the admin API shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LogRow {
    pub id: i64,
    pub request_id: String,
    pub ts_ms: i64,
    pub protocol: String,
    pub method: String,
    pub path: String,
    pub model: Option<String>,
    pub mapped_model: Option<String>,
    pub account: Option<String>,
    pub status: i64,
    pub duration_ms: i64,
    pub ttfb_ms: Option<i64>,
    pub stream: bool,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cached_tokens: i64,
    pub reasoning_tokens: i64,
    pub attempts: i64,
    pub client_ip: Option<String>,
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    /// `Name: value` lines, credentials redacted (captured with the bodies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_headers: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_headers: Option<String>,
}

/// Filters for a log query. `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// Exact status, or a class: 2 → 2xx, 4 → 4xx, 5 → 5xx.
    pub status: Option<i64>,
    pub model: Option<String>,
    pub account: Option<String>,
    /// The `x-request-id` the gateway answered with.
    pub request_id: Option<String>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Rows with an id below this (paging backwards from the newest).
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// Token usage in one time bucket for one model and account.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UsageRow {
    pub bucket_ms: i64,
    pub model: Option<String>,
    pub account: Option<String>,
    pub requests: i64,
    pub errors: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cached_tokens: i64,
    pub reasoning_tokens: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageBucket {
    Hour,
    Day,
}

impl UsageBucket {
    fn millis(self) -> i64 {
        match self {
            UsageBucket::Hour => 3_600_000,
            UsageBucket::Day => 86_400_000,
        }
    }
}

const COLUMNS: &str = "id, request_id, ts_ms, protocol, method, path, model, mapped_model, account, status, \
    duration_ms, ttfb_ms, stream, input_tokens, output_tokens, cached_tokens, reasoning_tokens, attempts, \
    client_ip, error";

/// The columns an insert fills, in the order [`bind_row`] binds them.
const INSERT_COLUMNS: &str = "request_id, ts_ms, protocol, method, path, model, mapped_model, account, \
    status, duration_ms, ttfb_ms, stream, input_tokens, output_tokens, cached_tokens, reasoning_tokens, \
    attempts, client_ip, error, request_body, response_body, request_headers, response_headers";

/// Rows per INSERT statement. A batch is split greedily into these sizes, so
/// every statement is one of three texts that each connection prepares once.
/// Statements sized to the batch were prepared anew for nearly every batch at
/// moderate load, when batch sizes vary: parsing a multi-row INSERT costs
/// SQLite more than running it.
///
/// At most 16 rows, so that SQLite's work comes in bursts of ~0.1 ms: between
/// two statements its thread waits for the next, and a thread of the load it
/// shares the CPUs with gets one. A 256-row statement ran ~1.5 ms without a
/// break, and a request whose thread woke behind it waited for it.
const INSERT_SHAPES: [usize; 3] = [16, 4, 1];

/// Rows deleted per statement by [`Storage::prune_requests`]: a few
/// milliseconds of SQLite's time each.
const PRUNE_CHUNK: u64 = 500;

/// The INSERT text for each of [`INSERT_SHAPES`], built once.
fn insert_statements() -> &'static [String; INSERT_SHAPES.len()] {
    static STATEMENTS: OnceLock<[String; INSERT_SHAPES.len()]> = OnceLock::new();
    STATEMENTS.get_or_init(|| {
        INSERT_SHAPES.map(|rows| {
            let arity = INSERT_COLUMNS.split(',').count();
            let row = format!("({})", vec!["?"; arity].join(", "));
            let values = vec![row; rows].join(", ");
            format!("INSERT INTO request_log ({INSERT_COLUMNS}) VALUES {values}")
        })
    })
}

type Insert = sqlx::query::Query<'static, Sqlite, sqlx::sqlite::SqliteArguments>;

/// Bind one record's values, moving its strings into the arguments.
fn bind_row(q: Insert, r: Record) -> Insert {
    q.bind(r.request_id)
        .bind(r.ts_ms)
        .bind(r.protocol)
        .bind(r.method)
        .bind(r.path)
        .bind(r.model)
        .bind(r.mapped_model)
        .bind(r.account)
        .bind(i64::from(r.status))
        .bind(r.duration_ms)
        .bind(r.ttfb_ms)
        .bind(r.stream)
        .bind(r.usage.input_tokens as i64)
        .bind(r.usage.output_tokens as i64)
        .bind(r.usage.cached_input_tokens as i64)
        .bind(r.usage.reasoning_tokens as i64)
        .bind(i64::from(r.attempts))
        .bind(r.client_ip)
        .bind(r.error)
        .bind(r.request_body)
        .bind(r.response_body)
        .bind(r.request_headers)
        .bind(r.response_headers)
}

impl Storage {
    /// Insert records in one transaction. They are taken by value so that their
    /// strings (bodies among them) move into the statement's arguments instead
    /// of being copied.
    pub async fn insert_requests(&self, records: Vec<Record>) -> Result<(), StorageError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut rows = records.into_iter();
        let mut tx = self.log.begin().await?;
        for (&shape, sql) in INSERT_SHAPES.iter().zip(insert_statements()) {
            while rows.len() >= shape {
                let mut q = sqlx::query(sql.as_str());
                for r in rows.by_ref().take(shape) {
                    q = bind_row(q, r);
                }
                q.execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The newest matching rows first, without bodies.
    pub async fn query_requests(&self, f: &LogFilter) -> Result<Vec<LogRow>, StorageError> {
        let rows = select_requests(f).build().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| row(r, false))
            .collect::<Result<_, _>>()
            .map_err(Into::into)
    }

    /// One row with its captured bodies.
    pub async fn request(&self, id: i64) -> Result<Option<LogRow>, StorageError> {
        // COLUMNS is a constant: nothing user-supplied is spliced in.
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, request_body, response_body, request_headers, response_headers FROM request_log WHERE id = ?"
        ));
        let r = sqlx::query(sql).bind(id).fetch_optional(&self.pool).await?;
        r.map(|r| row(&r, true)).transpose().map_err(Into::into)
    }

    /// Delete rows older than `older_than_ms` and all but the newest `keep`.
    ///
    /// On the batch writer's connection, [`PRUNE_CHUNK`] rows a statement: each
    /// statement holds SQLite's write lock for a few milliseconds, and the
    /// writer's next batch waits its turn for the connection behind at most one
    /// of them. One DELETE of a whole backlog held the lock for as long as it
    /// took (~9 µs a row with small bodies, so seconds for the rows of ten busy
    /// minutes), and a batch waiting longer than the busy timeout was lost.
    pub async fn prune_requests(&self, older_than_ms: i64, keep: i64) -> Result<u64, StorageError> {
        let mut removed = self
            .delete_in_chunks(
                "DELETE FROM request_log WHERE id IN \
                 (SELECT id FROM request_log WHERE ts_ms < ? LIMIT ?)",
                older_than_ms,
            )
            .await?;
        // The newest row past the `keep` newest, found once: rows written while
        // the chunks go are newer still, and wait for the next pass.
        let last = sqlx::query_scalar::<_, i64>(
            "SELECT id FROM request_log ORDER BY id DESC LIMIT 1 OFFSET ?",
        )
        .bind(keep)
        .fetch_optional(&self.log)
        .await?;
        if let Some(last) = last {
            removed += self
                .delete_in_chunks(
                    "DELETE FROM request_log WHERE id IN \
                     (SELECT id FROM request_log WHERE id <= ? ORDER BY id LIMIT ?)",
                    last,
                )
                .await?;
        }
        Ok(removed)
    }

    /// Run `sql` (a DELETE of at most `?2` rows matching `?1`) until it deletes
    /// fewer than a chunk. Each statement is a transaction of its own.
    async fn delete_in_chunks(&self, sql: &'static str, bound: i64) -> Result<u64, StorageError> {
        let mut removed = 0;
        loop {
            let n = sqlx::query(sql)
                .bind(bound)
                .bind(PRUNE_CHUNK as i64)
                .execute(&self.log)
                .await?
                .rows_affected();
            removed += n;
            if n < PRUNE_CHUNK {
                return Ok(removed);
            }
        }
    }

    /// Requests and tokens per bucket, model and account since `since_ms`.
    pub async fn usage(
        &self,
        bucket: UsageBucket,
        since_ms: i64,
    ) -> Result<Vec<UsageRow>, StorageError> {
        let size = bucket.millis();
        let rows = sqlx::query(
            "SELECT (ts_ms / ?) * ? AS bucket, COALESCE(mapped_model, model) AS m, account, COUNT(*) AS n, \
             SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors, SUM(input_tokens) AS i, \
             SUM(output_tokens) AS o, SUM(cached_tokens) AS c, SUM(reasoning_tokens) AS r \
             FROM request_log WHERE ts_ms >= ? GROUP BY bucket, m, account ORDER BY bucket, m, account",
        )
        .bind(size)
        .bind(size)
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(UsageRow {
                    bucket_ms: r.try_get("bucket")?,
                    model: r.try_get("m")?,
                    account: r.try_get("account")?,
                    requests: r.try_get("n")?,
                    errors: r.try_get("errors")?,
                    input_tokens: r.try_get("i")?,
                    output_tokens: r.try_get("o")?,
                    cached_tokens: r.try_get("c")?,
                    reasoning_tokens: r.try_get("r")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }
}

/// The query behind [`Storage::query_requests`]: the newest matching rows first.
/// The paging order is the rowid's, so SQLite walks it backwards and stops after
/// `limit` matches; an index on a filtered column would make it collect and sort
/// every match instead.
fn select_requests(f: &LogFilter) -> QueryBuilder<Sqlite> {
    let mut q: QueryBuilder<Sqlite> =
        QueryBuilder::new(format!("SELECT {COLUMNS} FROM request_log WHERE 1=1"));
    match f.status {
        Some(class @ 1..=5) => {
            q.push(" AND status >= ").push_bind(class * 100);
            q.push(" AND status < ").push_bind(class * 100 + 100);
        }
        Some(exact) => {
            q.push(" AND status = ").push_bind(exact);
        }
        None => {}
    }
    if let Some(m) = &f.model {
        q.push(" AND (model = ")
            .push_bind(m.clone())
            .push(" OR mapped_model = ")
            .push_bind(m.clone())
            .push(")");
    }
    if let Some(a) = &f.account {
        q.push(" AND account = ").push_bind(a.clone());
    }
    if let Some(id) = &f.request_id {
        q.push(" AND request_id = ").push_bind(id.clone());
    }
    if let Some(t) = f.since_ms {
        q.push(" AND ts_ms >= ").push_bind(t);
    }
    if let Some(t) = f.until_ms {
        q.push(" AND ts_ms < ").push_bind(t);
    }
    if let Some(id) = f.before_id {
        q.push(" AND id < ").push_bind(id);
    }
    q.push(" ORDER BY id DESC LIMIT ")
        .push_bind(f.limit.clamp(1, 1000));
    q
}

fn row(r: &sqlx::sqlite::SqliteRow, bodies: bool) -> Result<LogRow, sqlx::Error> {
    Ok(LogRow {
        id: r.try_get("id")?,
        request_id: r.try_get("request_id")?,
        ts_ms: r.try_get("ts_ms")?,
        protocol: r.try_get("protocol")?,
        method: r.try_get("method")?,
        path: r.try_get("path")?,
        model: r.try_get("model")?,
        mapped_model: r.try_get("mapped_model")?,
        account: r.try_get("account")?,
        status: r.try_get("status")?,
        duration_ms: r.try_get("duration_ms")?,
        ttfb_ms: r.try_get("ttfb_ms")?,
        stream: r.try_get("stream")?,
        input_tokens: r.try_get("input_tokens")?,
        output_tokens: r.try_get("output_tokens")?,
        cached_tokens: r.try_get("cached_tokens")?,
        reasoning_tokens: r.try_get("reasoning_tokens")?,
        attempts: r.try_get("attempts")?,
        client_ip: r.try_get("client_ip")?,
        error: r.try_get("error")?,
        request_body: if bodies {
            r.try_get("request_body")?
        } else {
            None
        },
        response_body: if bodies {
            r.try_get("response_body")?
        } else {
            None
        },
        request_headers: if bodies {
            r.try_get("request_headers")?
        } else {
            None
        },
        response_headers: if bodies {
            r.try_get("response_headers")?
        } else {
            None
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: i64) -> Record {
        Record {
            request_id: format!("req-{i}"),
            ts_ms: 1_700_000_000_000 + i,
            protocol: "openai",
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            model: Some("gemini-3-flash".into()),
            status: 200,
            request_body: Some(format!("{i}:{}", "b".repeat(2_000))),
            ..Record::default()
        }
    }

    #[tokio::test]
    async fn batches_of_any_size_are_stored_whole_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).await.unwrap();
        // 601 = 37 × 16 + 2 × 4 + 1: every statement shape.
        let batches = [1, 7, 601, 0, 3];
        let mut next = 0;
        for size in batches {
            let records = (next..next + size).map(record).collect();
            storage.insert_requests(records).await.unwrap();
            next += size;
        }

        let mut ids = Vec::new();
        let mut seen = Vec::new();
        let mut before_id = None;
        loop {
            let filter = LogFilter {
                before_id,
                limit: 1000,
                ..LogFilter::default()
            };
            let page = storage.query_requests(&filter).await.unwrap();
            let Some(last) = page.last() else { break };
            before_id = Some(last.id);
            ids.extend(page.iter().map(|r| r.id));
            seen.extend(page.into_iter().map(|r| r.request_id));
        }
        let expected: Vec<String> = (0..next).rev().map(|i| format!("req-{i}")).collect();
        assert_eq!(seen, expected, "every record, newest first");

        for (id, i) in [
            (ids[0], next - 1),
            (ids[ids.len() - 1], 0),
            (ids[300], next - 301),
        ] {
            let stored = storage.request(id).await.unwrap().unwrap();
            assert_eq!(stored.request_body, record(i).request_body, "record {i}");
            assert_eq!(stored.ts_ms, record(i).ts_ms);
        }
        storage.close().await;
    }

    /// `n` rows with `ts_ms` 0, 1, … and a 2 KB body each, written by SQLite
    /// itself (the insert path is tested above).
    async fn fill(storage: &Storage, n: i64) {
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) \
             INSERT INTO request_log (request_id, ts_ms, protocol, method, path, status, duration_ms, request_body) \
             SELECT 'req-' || i, i, 'openai', 'POST', '/v1/chat/completions', 200, 1, hex(zeroblob(1000)) FROM n",
        )
        .bind(n)
        .execute(&storage.pool)
        .await
        .unwrap();
    }

    async fn ts_range(storage: &Storage) -> (i64, i64, i64) {
        let r = sqlx::query("SELECT COUNT(*), MIN(ts_ms), MAX(ts_ms) FROM request_log")
            .fetch_one(&storage.pool)
            .await
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    }

    #[tokio::test]
    async fn retention_removes_old_rows_then_all_but_the_newest_over_several_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).await.unwrap();
        fill(&storage, 3_000).await;
        // By age: ts 0..1200 (three statements); by count: 800 of the 1,800
        // left (two statements).
        assert_eq!(storage.prune_requests(1_200, 1_000).await.unwrap(), 2_000);
        assert_eq!(ts_range(&storage).await, (1_000, 2_000, 2_999));
        assert_eq!(storage.prune_requests(1_200, 1_000).await.unwrap(), 0);
        // Fewer rows than `keep`, none old enough: nothing to do.
        assert_eq!(storage.prune_requests(0, 5_000).await.unwrap(), 0);
        assert_eq!(ts_range(&storage).await, (1_000, 2_000, 2_999));
        storage.close().await;
    }

    /// A long prune gives the log writer's batches their turn between its
    /// statements. (One DELETE of every row held SQLite's write lock until it
    /// was done, and a batch waiting past the busy timeout was lost.)
    #[tokio::test]
    async fn a_batch_is_stored_while_a_long_prune_is_still_going() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).await.unwrap();
        let rows = 40_000;
        fill(&storage, rows).await;
        let pruning = tokio::spawn({
            let storage = storage.clone();
            async move { storage.prune_requests(0, 0).await.unwrap() }
        });
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        while ts_range(&storage).await.0 == rows {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the prune never started"
            );
            tokio::task::yield_now().await;
        }
        storage.insert_requests(vec![record(rows)]).await.unwrap();
        assert!(
            !pruning.is_finished(),
            "the batch waited for the whole prune"
        );
        // Rows written during the prune are newer than what it set out to
        // remove: the batch's row stays.
        assert_eq!(pruning.await.unwrap(), rows as u64);
        let all = LogFilter {
            limit: 1_000,
            ..LogFilter::default()
        };
        let left = storage.query_requests(&all).await.unwrap();
        let ids: Vec<_> = left.iter().map(|r| r.request_id.as_str()).collect();
        assert_eq!(ids, [format!("req-{rows}")]);
        storage.close().await;
    }

    #[tokio::test]
    async fn filtered_pages_walk_the_rowid_instead_of_sorting_every_match() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).await.unwrap();
        let filters = [
            LogFilter {
                status: Some(5),
                ..LogFilter::default()
            },
            LogFilter {
                status: Some(429),
                ..LogFilter::default()
            },
            LogFilter {
                model: Some("gemini-3-flash".into()),
                ..LogFilter::default()
            },
            LogFilter {
                account: Some("a@example.com".into()),
                before_id: Some(100),
                ..LogFilter::default()
            },
        ];
        for filter in filters {
            let q = select_requests(&filter);
            let explain = sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {}", q.sql().as_str()));
            let plan: Vec<String> = sqlx::query(explain)
                .fetch_all(&storage.pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>("detail"))
                .collect();
            assert!(
                !plan.iter().any(|step| step.contains("TEMP B-TREE")),
                "{filter:?} sorts its matches: {plan:?}"
            );
        }
        storage.close().await;
    }
}
