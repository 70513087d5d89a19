//! Client authentication, deny by default: every route needs the key unless the
//! auth mode exempts it (see [`crate::auth::ClientAuth::required`]). The admin
//! API and the web UI are not the client's business: they check the admin
//! password themselves ([`crate::admin::is_admin_path`]), whatever the mode.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use uplink_protocol::error::ErrorKind;

use crate::api::{ApiError, dialect};
use crate::auth::PresentedKey;
use crate::state::AppState;

const ACCEPTED: &str = "Send the gateway's API key as `Authorization: Bearer <key>`, `x-api-key: <key>`, `x-goog-api-key: <key>` or the `key` query parameter (`uplink config show-key` prints it).";

pub async fn require_key(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if crate::admin::is_admin_path(req.uri().path())
        || crate::admin::is_browser_visit(req.method(), req.uri().path(), req.headers())
    {
        return next.run(req).await;
    }
    let auth = state.auth();
    if !auth.required(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let presented = PresentedKey::find(req.headers(), req.uri().query());
    if presented.is_some_and(|p| auth.accepts(p.key)) {
        return next.run(req).await;
    }
    let message = match presented {
        None => format!("Missing API key. {ACCEPTED}"),
        Some(p) => format!("Invalid API key (from {}). {ACCEPTED}", p.source),
    };
    let dialect = dialect::detect(req.uri().path(), req.headers(), req.uri().query());
    ApiError::new(dialect, ErrorKind::Authentication, message).into_response()
}
