//! `GET /metrics`: Prometheus text, behind the same auth rules as the API.

use axum::extract::State;
use axum::response::IntoResponse;
use http::header;

use crate::monitor::metrics::Gauges;
use crate::state::AppState;

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut gauges = Gauges {
        dropped_records: state.monitor().dropped(),
        ..Gauges::default()
    };
    for account in state.pool().all().iter() {
        *gauges
            .accounts
            .entry(account.status().0.as_str())
            .or_default() += 1;
        if account.is_cooling() {
            gauges.cooling += 1;
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.monitor().metrics.render(&gauges),
    )
}
