//! The shared upstream HTTP client: one connection pool for the whole process,
//! `TCP_NODELAY`, rustls with the ring provider, no per-request construction.

use std::sync::Once;
use std::time::Duration;

static PROVIDER: Once = Once::new();

/// Install rustls' ring crypto provider for the process (idempotent). reqwest is
/// built without a default provider so that the build stays lean.
pub fn install_crypto_provider() {
    PROVIDER.call_once(|| {
        // Err means another provider is already installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client builder with the gateway's defaults. Build once and share it.
pub fn client_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(64)
        .connect_timeout(Duration::from_secs(10))
        // Upstream APIs do not redirect; the policy's per-request URL work is waste.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("uplink/", env!("CARGO_PKG_VERSION")))
}
