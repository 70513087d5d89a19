//! Every request gets an id: the client's `x-request-id` when it is sane, else a
//! fresh one. It is returned as `x-request-id` and available to handlers.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;

use crate::state::AppState;

pub const HEADER: &str = "x-request-id";

/// The request's id, in the request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub HeaderValue);

impl RequestId {
    pub fn as_str(&self) -> &str {
        self.0.to_str().unwrap_or("")
    }
}

fn fresh() -> HeaderValue {
    // 128 random bits as hex: visible ASCII, so always a valid header value.
    HeaderValue::from_str(&format!("req_{:032x}", rand::random::<u128>()))
        .unwrap_or_else(|_| HeaderValue::from_static("req_unknown"))
}

fn acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty() && bytes.len() <= 128 && bytes.iter().all(|b| b.is_ascii_graphic())
}

/// Also where a request starts and ends for the busy poller.
pub async fn request_id(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let warm = state.busy_poll().is_some_and(|poll| poll.start());
    let id = match req.headers().get(HEADER) {
        Some(v) if acceptable(v) => v.clone(),
        _ => fresh(),
    };
    req.extensions_mut().insert(RequestId(id.clone()));
    // Only the debug line below reads these: nothing is copied when it is off.
    let logged = tracing::enabled!(tracing::Level::DEBUG).then(|| {
        (
            Instant::now(),
            req.method().clone(),
            req.uri().path().to_owned(),
        )
    });
    let mut response = next.run(req).await;
    if let Some((started, method, path)) = logged {
        tracing::debug!(
            request_id = %id.to_str().unwrap_or(""),
            %method,
            path,
            status = response.status().as_u16(),
            elapsed_us = started.elapsed().as_micros() as u64,
            "request"
        );
    }
    response.headers_mut().insert(HEADER, id);
    if let Some(poll) = state.busy_poll() {
        poll.end(warm);
    }
    response
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::HEADER;
    use crate::config::{Config, Sources};
    use crate::run::Gateway;

    /// The busy poller learns of a request's start and of its end from this
    /// middleware: a request whose body comes late moves the poller's clock
    /// when it arrives and again when it is answered.
    #[tokio::test]
    async fn a_request_tells_the_busy_poller_when_it_starts_and_ends() {
        let dir = tempfile::tempdir().unwrap();
        let env: HashMap<String, String> = [("UPLINK_PORT", "0"), ("UPLINK_AUTH_MODE", "off")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let config = Config::load(&Sources {
            data_dir: Some(dir.path().to_path_buf()),
            env,
            ..Sources::default()
        })
        .unwrap();
        let gateway = Gateway::bind(config).await.unwrap();
        let poll = gateway.state.busy_poll().cloned().expect("on by default");
        let app = crate::server::router(gateway.state.clone());

        let (send, body) = tokio::sync::oneshot::channel::<&'static str>();
        let body = futures_util::stream::once(async move {
            let text = body.await.unwrap_or("{}");
            Ok::<_, std::io::Error>(bytes::Bytes::from_static(text.as_bytes()))
        });
        let request = http::Request::post("/v1/chat/completions")
            .header("content-type", "application/json")
            .body(Body::from_stream(body))
            .unwrap();
        let before = poll.last_activity();
        let answer = tokio::spawn(app.oneshot(request));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let started = poll.last_activity();
        assert!(started > before, "the start was not marked");
        // The end comes at least this long after the start was read.
        tokio::time::sleep(Duration::from_millis(20)).await;
        send.send(r#"{"model":"m"}"#).unwrap();
        let answer = answer.await.unwrap().unwrap();
        assert!(answer.headers().contains_key(HEADER));
        let _ = answer.into_body().collect().await;
        let ended = poll.last_activity();
        assert!(
            ended >= started + Duration::from_millis(20),
            "the end was not marked: {started:?} then {ended:?}"
        );
    }
}
