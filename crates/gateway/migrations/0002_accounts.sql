-- Upstream accounts (Google OAuth refresh tokens for Cloud Code).
CREATE TABLE accounts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    email          TEXT UNIQUE,
    refresh_token  TEXT NOT NULL UNIQUE,
    project_id     TEXT,
    -- active | disabled | blocked
    status         TEXT NOT NULL DEFAULT 'active',
    status_reason  TEXT,
    validation_url TEXT,
    -- JSON: {"<model>": {"remaining_fraction": f, "reset_time": "…"}}
    quota_json     TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
