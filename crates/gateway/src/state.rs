//! The state every handler shares, built once at start-up.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use crate::admin::AdminState;
use crate::auth::ClientAuth;
use crate::config::Config;
use crate::monitor::Monitor;
use crate::pool::{Pool, Providers};
use crate::router::ModelRouter;
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
    /// Replaced as a whole when the admin API changes the auth mode or key.
    auth: RwLock<Arc<ClientAuth>>,
    /// Whether model requests are served (the admin API stops and starts it).
    proxy_running: AtomicBool,
    admin: AdminState,
    storage: Storage,
    pool: Pool,
    upstreams: Upstreams,
    signatures: Arc<SignatureStore>,
    router: RwLock<Arc<ModelRouter>>,
    monitor: Arc<Monitor>,
    providers: Providers,
}

impl AppState {
    pub fn new(
        config: Config,
        auth: ClientAuth,
        storage: Storage,
        pool: Pool,
        upstreams: Upstreams,
        monitor: Monitor,
    ) -> Self {
        let router = RwLock::new(Arc::new(ModelRouter::new(&config.model_mapping)));
        Self {
            inner: Arc::new(Inner {
                providers: Providers::new(&config.providers),
                router,
                monitor: Arc::new(monitor),
                admin: AdminState::new(&config),
                config,
                auth: RwLock::new(Arc::new(auth)),
                proxy_running: AtomicBool::new(true),
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

    /// The client key policy in force now.
    pub fn auth(&self) -> Arc<ClientAuth> {
        self.inner
            .auth
            .read()
            .map(|a| a.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    pub fn set_auth(&self, auth: ClientAuth) {
        match self.inner.auth.write() {
            Ok(mut slot) => *slot = Arc::new(auth),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(auth),
        }
    }

    /// Whether model requests are served now (stopped: they get 503).
    pub fn proxy_running(&self) -> bool {
        self.inner.proxy_running.load(Ordering::Relaxed)
    }

    pub fn set_proxy_running(&self, running: bool) {
        self.inner.proxy_running.store(running, Ordering::Relaxed);
    }

    /// The admin API's own state: sessions, sign-ins, the listener, settings.
    pub fn admin(&self) -> &AdminState {
        &self.inner.admin
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

    /// The API-key providers and their keys.
    pub fn providers(&self) -> &Providers {
        &self.inner.providers
    }

    pub fn monitor(&self) -> &Arc<Monitor> {
        &self.inner.monitor
    }

    pub fn signatures(&self) -> &Arc<SignatureStore> {
        &self.inner.signatures
    }

    /// The current model mapping (replaceable at run time).
    pub fn router(&self) -> Arc<ModelRouter> {
        self.inner
            .router
            .read()
            .map(|r| r.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    pub fn set_router(&self, router: ModelRouter) {
        if let Ok(mut slot) = self.inner.router.write() {
            *slot = Arc::new(router);
        }
    }

    /// The upstream models the gateway can serve: what the pool's quota data
    /// says its accounts serve (model names only, not the service's internal
    /// ids), or the built-in catalogue before any quota data arrived.
    pub fn available_models(&self) -> Vec<String> {
        let served: Vec<String> = self
            .pool()
            .quota()
            .all_models()
            .into_iter()
            .filter(|m| ["gemini", "claude", "gpt"].iter().any(|p| m.starts_with(p)))
            .collect();
        if served.is_empty() {
            return crate::models::CATALOG
                .iter()
                .map(|m| m.id.to_owned())
                .collect();
        }
        // A stable order whatever the source: the catalogue's, then the rest by name.
        let mut ordered: Vec<String> = crate::models::CATALOG
            .iter()
            .filter(|m| served.iter().any(|s| s == m.id))
            .map(|m| m.id.to_owned())
            .collect();
        let mut others: Vec<String> = served
            .into_iter()
            .filter(|s| crate::models::find(s).is_none())
            .collect();
        others.sort();
        ordered.extend(others);
        ordered
    }

    /// Resolve a requested model name to the upstream model.
    pub fn resolve_model(&self, requested: &str) -> crate::router::Resolved {
        self.router().resolve(requested, &self.available_models())
    }
}
