-- One row per proxied request, written in batches off the request path.
CREATE TABLE request_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id      TEXT NOT NULL,
    ts_ms           INTEGER NOT NULL,
    protocol        TEXT NOT NULL,
    method          TEXT NOT NULL,
    path            TEXT NOT NULL,
    model           TEXT,
    mapped_model    TEXT,
    account         TEXT,
    status          INTEGER NOT NULL,
    duration_ms     INTEGER NOT NULL,
    ttfb_ms         INTEGER,
    stream          INTEGER NOT NULL DEFAULT 0,
    input_tokens    INTEGER NOT NULL DEFAULT 0,
    output_tokens   INTEGER NOT NULL DEFAULT 0,
    cached_tokens   INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    client_ip       TEXT,
    error           TEXT,
    request_body    TEXT,
    response_body   TEXT
);
CREATE INDEX request_log_ts ON request_log (ts_ms);
CREATE INDEX request_log_model ON request_log (model, ts_ms);
CREATE INDEX request_log_account ON request_log (account, ts_ms);
CREATE INDEX request_log_status ON request_log (status, ts_ms);
