//! Liveness endpoints and the root (clients and IDE plug-ins probe the base URL;
//! a browser visiting it is sent on to the web UI).

use axum::Json;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, Method};
use serde_json::{Value, json};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `GET /healthz`, `GET /health`.
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok", "version": VERSION }))
}

/// `GET /` and `HEAD /`: JSON for API clients, a redirect to `/ui` for a
/// browser's page load.
pub async fn root(method: Method, headers: HeaderMap) -> Response {
    if crate::admin::is_browser_visit(&method, "/", &headers) {
        return Redirect::to(crate::admin::UI_PATH).into_response();
    }
    Json(json!({ "name": "uplink", "version": VERSION, "ui": crate::admin::UI_PATH }))
        .into_response()
}
