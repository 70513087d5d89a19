//! The state every handler shares, built once at start-up.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use crate::admin::AdminState;
use crate::auth::ClientAuth;
use crate::config::Config;
use crate::monitor::Monitor;
use crate::pool::{Pool, Providers};
use crate::router::ModelRouter;
use crate::server::busy_poll::BusyPoll;
use crate::signatures::SignatureStore;
use crate::storage::Storage;
use crate::upstream::cloudcode::CloudCode;
use crate::upstream::http::{BuildError, Http};
use crate::upstream::oauth::OAuth;

/// The upstream clients, sharing one HTTP connection pool.
#[derive(Debug)]
pub struct Upstreams {
    pub http: Http,
    pub oauth: OAuth,
    pub cloudcode: CloudCode,
}

impl Upstreams {
    pub fn new(config: &Config) -> Result<Self, BuildError> {
        let http = Http::new()?;
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
    /// `[runtime] busy_poll_us`, when it applies.
    busy_poll: Option<Arc<BusyPoll>>,
    router: RwLock<Arc<ModelRouter>>,
    monitor: Arc<Monitor>,
    providers: Providers,
    /// `available_models`, with the quota version it was derived from.
    models: RwLock<Option<(u64, Arc<[String]>)>>,
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
        let busy_poll = config
            .runtime
            .busy_poll()
            .map(|w| Arc::new(BusyPoll::new(w)));
        Self {
            inner: Arc::new(Inner {
                providers: Providers::new(&config.providers),
                models: RwLock::new(None),
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
                busy_poll,
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

    pub fn busy_poll(&self) -> Option<&Arc<BusyPoll>> {
        self.inner.busy_poll.as_ref()
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
    /// ids), or the built-in catalogue before any quota data arrived. Derived
    /// once per quota change, not per request.
    pub fn available_models(&self) -> Arc<[String]> {
        let quota = self.pool().quota();
        let version = quota.version();
        if let Ok(cache) = self.inner.models.read()
            && let Some((v, models)) = cache.as_ref()
            && *v == version
        {
            return models.clone();
        }
        let models: Arc<[String]> = served_models(quota.all_models()).into();
        if let Ok(mut cache) = self.inner.models.write() {
            *cache = Some((version, models.clone()));
        }
        models
    }

    /// Resolve a requested model name to the upstream model.
    pub fn resolve_model(&self, requested: &str) -> crate::router::Resolved {
        self.router().resolve(requested, &self.available_models())
    }
}

/// The catalogue's models the quota data names (in catalogue order), then other
/// model names it lists, by name; the whole catalogue while there is no data.
fn served_models(from_quota: Vec<String>) -> Vec<String> {
    let served: Vec<String> = from_quota
        .into_iter()
        .filter(|m| ["gemini", "claude", "gpt"].iter().any(|p| m.starts_with(p)))
        .collect();
    if served.is_empty() {
        return crate::models::CATALOG
            .iter()
            .map(|m| m.id.to_owned())
            .collect();
    }
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

#[cfg(test)]
mod tests {
    use super::served_models;

    #[test]
    fn served_models_keep_catalogue_order_then_names_and_skip_internal_ids() {
        let from_quota = vec![
            "zeta-internal".to_owned(),
            "gemini-9-new".to_owned(),
            "gemini-2.5-pro".to_owned(),
            "claude-sonnet-4-5".to_owned(),
            "chat_20706".to_owned(),
        ];
        assert_eq!(
            served_models(from_quota),
            vec!["gemini-2.5-pro", "claude-sonnet-4-5", "gemini-9-new"]
        );
        assert_eq!(
            served_models(Vec::new()).len(),
            crate::models::CATALOG.len()
        );
    }
}
