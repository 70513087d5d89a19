//! A stopped proxy (admin API `POST /api/proxy/stop`) answers every model
//! request with 503 in the caller's protocol; the admin API and the UI stay up.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use uplink_protocol::error::ErrorKind;

use crate::api::{ApiError, dialect};
use crate::state::AppState;

pub const MESSAGE: &str = "The Uplink proxy is stopped. Start it again on the Proxy page of the web UI (/ui) or with POST /api/proxy/start.";

pub async fn refuse_when_stopped(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if state.proxy_running() {
        return next.run(req).await;
    }
    let dialect = dialect::detect(req.uri().path(), req.headers(), req.uri().query());
    ApiError::new(dialect, ErrorKind::Unavailable, MESSAGE)
        .with_code("proxy_stopped")
        .into_response()
}
