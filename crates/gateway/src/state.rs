//! The state every handler shares, built once at start-up.

use std::sync::Arc;

use crate::auth::ClientAuth;
use crate::config::Config;
use crate::pool::Pool;
use crate::signatures::SignatureStore;
use crate::storage::Storage;
use crate::upstream::cloudcode::CloudCode;
use crate::upstream::oauth::OAuth;

/// The upstream clients, sharing one HTTP connection pool.
#[derive(Debug)]
pub struct Upstreams {
    pub http: reqwest::Client,
    pub oauth: OAuth,
    pub cloudcode: CloudCode,
}

impl Upstreams {
    pub fn new(config: &Config) -> Result<Self, reqwest::Error> {
        let http = crate::upstream::http::client_builder().build()?;
        Ok(Self {
            oauth: OAuth::new(http.clone(), config.oauth.clone()),
            cloudcode: CloudCode::new(http.clone(), config.cloudcode.clone()),
            http,
        })
    }
}

/// Cheap to clone: one `Arc`.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    auth: ClientAuth,
    storage: Storage,
    pool: Pool,
    upstreams: Upstreams,
    signatures: Arc<SignatureStore>,
}

impl AppState {
    pub fn new(
        config: Config,
        auth: ClientAuth,
        storage: Storage,
        pool: Pool,
        upstreams: Upstreams,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                auth,
                storage,
                pool,
                upstreams,
                signatures: Arc::new(SignatureStore::default()),
            }),
        }
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn auth(&self) -> &ClientAuth {
        &self.inner.auth
    }

    pub fn storage(&self) -> &Storage {
        &self.inner.storage
    }

    pub fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    pub fn upstreams(&self) -> &Upstreams {
        &self.inner.upstreams
    }

    pub fn signatures(&self) -> &Arc<SignatureStore> {
        &self.inner.signatures
    }
}
