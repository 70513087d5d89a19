//! Liveness endpoints and the root (clients and IDE plug-ins probe the base URL).

use axum::Json;
use serde_json::{Value, json};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `GET /healthz`, `GET /health`.
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok", "version": VERSION }))
}

/// `GET /` and `HEAD /`.
pub async fn root() -> Json<Value> {
    Json(json!({ "name": "uplink", "version": VERSION }))
}
