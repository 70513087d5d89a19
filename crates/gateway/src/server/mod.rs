//! The HTTP server: the route table, the middleware stack, binding and graceful
//! shutdown.

pub mod busy_poll;
pub mod listener;
pub mod middleware;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::Request;
use axum::response::Response;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::{Router, ServiceExt as _};
use http::{HeaderName, Method};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower::util::BoxCloneSyncService;
use tower_http::cors::{Any, CorsLayer};

use crate::api;
use crate::state::AppState;

/// The gateway as one service: every route, behind the middleware every request
/// passes (request id, CORS, client authentication).
pub type App = BoxCloneSyncService<Request, Response, Infallible>;

/// Every route the gateway serves, behind the ingress middleware.
pub fn router(state: AppState) -> App {
    // The model APIs: every request here is recorded by the monitor.
    let proxied = Router::new()
        // OpenAI
        .route("/v1/chat/completions", post(api::openai::chat_completions))
        .route("/v1/completions", post(api::openai::completions))
        .route("/v1/responses", post(api::responses::create))
        .route("/responses", post(api::responses::create))
        // Anthropic
        .route("/v1/messages", post(api::anthropic::messages))
        .route(
            "/v1/messages/count_tokens",
            post(api::anthropic::count_tokens),
        )
        // Shared by OpenAI, Anthropic and Gemini (v1) clients; told apart by headers.
        .route("/v1/models", get(api::models::list))
        .route(
            "/v1/models/{target}",
            get(api::models::get).post(api::gemini::model_method),
        )
        // Gemini
        .route("/v1beta/models", get(api::models::list))
        .route(
            "/v1beta/models/{target}",
            get(api::models::get).post(api::gemini::model_method),
        )
        // Stopped from the admin API: 503 in the caller's protocol (recorded).
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::stopped::refuse_when_stopped,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::monitor::record_requests,
        ));
    let routes = Router::new()
        .route("/", get(api::health::root))
        .route("/healthz", get(api::health::health))
        .route("/health", get(api::health::health))
        .route("/metrics", get(api::metrics::metrics))
        .route("/v1/api/event_logging", post(api::anthropic::event_logging))
        .route(
            "/v1/api/event_logging/batch",
            post(api::anthropic::event_logging),
        )
        .merge(proxied)
        // The admin API (`/api/…`, its own password) and the web UI (`/ui`).
        .merge(crate::admin::router(state.clone()))
        .fallback(api::not_found::not_found)
        .with_state(state.clone());
    // Around the router as a whole. `Router::layer` would wrap every route on its
    // own, and axum clones a route's whole boxed stack for each request it serves:
    // 32 allocations a request with these three layers.
    let app = ServiceBuilder::new()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::request_id::request_id,
        ))
        .layer(cors())
        .layer(axum::middleware::from_fn_with_state(
            state,
            middleware::auth::require_key,
        ))
        .service(routes);
    App::new(app)
}

/// Browsers (web UIs, IDE webviews) may call the gateway from any origin; the key
/// still guards it. Preflights are answered here, before authentication.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::HEAD,
            Method::OPTIONS,
        ])
        .allow_headers(Any)
        .expose_headers([
            HeaderName::from_static(middleware::request_id::HEADER),
            HeaderName::from_static("x-mapped-model"),
            HeaderName::from_static("x-account-email"),
            http::header::RETRY_AFTER,
        ])
        .max_age(Duration::from_secs(3600))
}

/// Bind the listener, with an error message that names the address.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, BindError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| BindError { addr, source })
}

#[derive(Debug, thiserror::Error)]
#[error("failed to bind {addr}: {}", describe(source))]
pub struct BindError {
    pub addr: SocketAddr,
    pub source: std::io::Error,
}

fn describe(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => "address already in use".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::AddrNotAvailable => "address not available on this machine".to_owned(),
        _ => e.to_string(),
    }
}

/// Serve until `shutdown` is cancelled, then stop accepting and give in-flight
/// requests and streams up to `grace` to finish. Returns whether they all did.
pub async fn serve<L>(
    listener: L,
    app: App,
    shutdown: CancellationToken,
    grace: Duration,
) -> std::io::Result<bool>
where
    L: axum::serve::Listener<Io = TcpStream, Addr = SocketAddr>,
{
    let listener = listener.tap_io(|tcp| {
        // Nagle plus delayed ACK costs ~40 ms per small response.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("set_nodelay failed: {e}");
        }
    });
    let signal = shutdown.clone();
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { signal.cancelled().await });
    let mut task = tokio::spawn(server.into_future());
    tokio::select! {
        joined = &mut task => return joined.map_err(std::io::Error::other)?.map(|()| true),
        () = shutdown.cancelled() => {}
    }
    match tokio::time::timeout(grace, &mut task).await {
        Ok(joined) => joined.map_err(std::io::Error::other)?.map(|()| true),
        Err(_) => {
            task.abort();
            Ok(false)
        }
    }
}
