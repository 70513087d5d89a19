//! Graceful shutdown: in-flight requests finish, new connections are refused, and
//! a grace period bounds the wait.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uplink_gateway::server;

fn client() -> reqwest::Client {
    uplink_gateway::upstream::http::install_crypto_provider();
    reqwest::Client::new()
}

/// A router whose one route announces it started and then waits to be released.
fn slow_app(started: Arc<Notify>, release: Arc<Notify>) -> Router {
    Router::new().route(
        "/slow",
        get(move || {
            let (started, release) = (started.clone(), release.clone());
            async move {
                started.notify_one();
                release.notified().await;
                "done"
            }
        }),
    )
}

#[tokio::test]
async fn in_flight_requests_finish_and_new_connections_are_refused() {
    let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let listener = server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let token = CancellationToken::new();
    let serving = tokio::spawn(server::serve(
        listener,
        server::App::new(slow_app(started.clone(), release.clone())),
        token.clone(),
        Duration::from_secs(30),
    ));

    let in_flight = tokio::spawn(client().get(format!("http://{addr}/slow")).send());
    started.notified().await;
    token.cancel();

    // The listener closes: poll (bounded) until a fresh connection is refused.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::net::TcpStream::connect(addr).await {
            Err(_) => break,
            Ok(_) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "still accepting after shutdown"
                );
                tokio::task::yield_now().await;
            }
        }
    }
    assert!(
        !serving.is_finished(),
        "must wait for the in-flight request"
    );

    release.notify_one();
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "done");
    assert!(
        serving.await.unwrap().unwrap(),
        "drained within the grace period"
    );
}

#[test]
fn the_grace_period_bounds_the_wait() {
    // Own runtime: dropping it afterwards cuts the connection that never finished,
    // as process exit does for the real binary.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let drained = runtime.block_on(async {
        let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let listener = server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let token = CancellationToken::new();
        let serving = tokio::spawn(server::serve(
            listener,
            server::App::new(slow_app(started.clone(), release)),
            token.clone(),
            Duration::from_millis(200),
        ));
        let _in_flight = tokio::spawn(client().get(format!("http://{addr}/slow")).send());
        started.notified().await;
        token.cancel();
        serving.await.unwrap().unwrap()
    });
    assert!(!drained, "reports that the stuck request did not drain");
    runtime.shutdown_timeout(Duration::from_secs(5));
}
