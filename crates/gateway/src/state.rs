//! The state every handler shares, built once at start-up.

use std::sync::Arc;

use crate::auth::ClientAuth;
use crate::config::Config;
use crate::storage::Storage;

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
}

impl AppState {
    pub fn new(config: Config, auth: ClientAuth, storage: Storage) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                auth,
                storage,
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
}
