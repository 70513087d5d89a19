//! One upstream account: its credentials (access token refreshed once under
//! concurrency), its project, and its health.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use secrecy::SecretString;
use tokio::time::Instant;

use crate::storage::{AccountRecord, AccountStatus, Storage};
use crate::upstream::cloudcode::CloudCode;
use crate::upstream::oauth::{AccessToken, OAuth};
use crate::upstream::{Scope, UpstreamError};

/// Key for a cooldown that covers every model.
const ALL_MODELS: &str = "*";

/// The API key of a provider account (`[[providers]]`).
#[derive(Debug)]
pub struct ProviderKey {
    pub provider: std::sync::Arc<crate::config::providers::ProviderConfig>,
    pub key: SecretString,
    /// Position in the provider's key list, from 0.
    pub index: usize,
}

#[derive(Debug)]
pub struct Account {
    /// Stored accounts have the database id; provider keys negative ids.
    pub id: i64,
    /// Set for a provider's API key; `None` for a Cloud Code OAuth account.
    pub key: Option<ProviderKey>,
    refresh_token: Mutex<SecretString>,
    email: Mutex<Option<String>>,
    /// Held across the refresh so that concurrent requests refresh once.
    token: tokio::sync::Mutex<Option<AccessToken>>,
    /// Held across discovery for the same reason.
    project: tokio::sync::Mutex<Option<String>>,
    health: Mutex<Health>,
}

#[derive(Debug)]
struct Health {
    status: AccountStatus,
    reason: Option<String>,
    /// Model (or `*`) → end of cooldown.
    cooldowns: HashMap<String, Instant>,
    /// Model → remaining quota fraction, from the last quota snapshot.
    remaining: HashMap<String, f64>,
}

impl Account {
    pub fn from_record(record: AccountRecord) -> Self {
        Self {
            id: record.id,
            key: None,
            refresh_token: Mutex::new(record.refresh_token),
            email: Mutex::new(record.email),
            token: tokio::sync::Mutex::new(None),
            project: tokio::sync::Mutex::new(record.project_id),
            health: Mutex::new(Health {
                status: record.status,
                reason: record.status_reason,
                cooldowns: HashMap::new(),
                remaining: HashMap::new(),
            }),
        }
    }

    pub(super) fn update_from(&self, record: &AccountRecord) {
        if let Ok(mut email) = self.email.lock() {
            email.clone_from(&record.email);
        }
        if let Ok(mut rt) = self.refresh_token.lock() {
            *rt = record.refresh_token.clone();
        }
        if let Ok(mut health) = self.health.lock() {
            health.status = record.status;
            health.reason.clone_from(&record.status_reason);
        }
    }

    /// An account for one API key of a provider.
    pub fn for_key(id: i64, key: ProviderKey) -> Self {
        Self {
            id,
            key: Some(key),
            refresh_token: Mutex::new(SecretString::from(String::new())),
            email: Mutex::new(None),
            token: tokio::sync::Mutex::new(None),
            project: tokio::sync::Mutex::new(None),
            health: Mutex::new(Health {
                status: AccountStatus::Active,
                reason: None,
                cooldowns: HashMap::new(),
                remaining: HashMap::new(),
            }),
        }
    }

    /// The email, `<provider>#<n>` for an API key, or `account #id`.
    pub fn label(&self) -> String {
        if let Some(k) = &self.key {
            return format!("{}#{}", k.provider.id, k.index + 1);
        }
        self.email()
            .unwrap_or_else(|| format!("account #{}", self.id))
    }

    pub fn email(&self) -> Option<String> {
        self.email.lock().ok().and_then(|e| e.clone())
    }

    pub fn status(&self) -> (AccountStatus, Option<String>) {
        self.health
            .lock()
            .map(|h| (h.status, h.reason.clone()))
            .unwrap_or((AccountStatus::Disabled, Some("state poisoned".into())))
    }

    pub fn is_usable(&self) -> bool {
        // Asked for every account on every pick: read the status, copy no reason.
        self.health
            .lock()
            .is_ok_and(|h| h.status == AccountStatus::Active)
    }

    pub(super) fn set_status(&self, status: AccountStatus, reason: Option<String>) {
        if let Ok(mut h) = self.health.lock() {
            h.status = status;
            h.reason = reason;
        }
    }

    /// The remaining quota fraction for `model`, when a snapshot said.
    pub fn remaining(&self, model: &str) -> Option<f64> {
        self.health.lock().ok()?.remaining.get(model).copied()
    }

    /// Record a quota snapshot: model → remaining fraction.
    pub fn set_remaining(&self, snapshot: impl IntoIterator<Item = (String, f64)>) {
        if let Ok(mut h) = self.health.lock() {
            h.remaining = snapshot.into_iter().collect();
        }
    }

    /// How long the account still rests for `model`, if it does.
    pub fn cooldown_left(&self, model: &str) -> Option<Duration> {
        let now = Instant::now();
        let health = self.health.lock().ok()?;
        [model, ALL_MODELS]
            .iter()
            .filter_map(|m| health.cooldowns.get(*m))
            .filter(|until| **until > now)
            .max()
            .map(|until| *until - now)
    }

    /// Whether the account rests for any model now.
    pub fn is_cooling(&self) -> bool {
        let now = Instant::now();
        self.health
            .lock()
            .map(|h| h.cooldowns.values().any(|until| *until > now))
            .unwrap_or(false)
    }

    /// Rest for `duration` (extending, never shortening, a running cooldown).
    pub fn cool_down(&self, model: &str, scope: Scope, duration: Duration) {
        let key = match scope {
            Scope::Model => model,
            Scope::Account => ALL_MODELS,
        };
        let until = Instant::now() + duration;
        if let Ok(mut h) = self.health.lock() {
            let entry = h.cooldowns.entry(key.to_owned()).or_insert(until);
            if *entry < until {
                *entry = until;
            }
        }
    }

    /// A fresh access token: cached, or refreshed once however many requests ask
    /// at the same time.
    pub async fn access_token(&self, oauth: &OAuth) -> Result<SecretString, UpstreamError> {
        let mut slot = self.token.lock().await;
        if let Some(token) = slot.as_ref().filter(|t| t.is_fresh()) {
            return Ok(token.token.clone());
        }
        let refresh_token = self
            .refresh_token
            .lock()
            .map(|rt| rt.clone())
            .map_err(|_| UpstreamError::network("account state poisoned"))?;
        let fresh = oauth.refresh(&refresh_token).await?;
        let token = fresh.token.clone();
        *slot = Some(fresh);
        Ok(token)
    }

    /// Forget the access token (the upstream said 401), unless another request
    /// already replaced the one that failed.
    pub async fn invalidate_token(&self, failed: &SecretString) {
        use secrecy::ExposeSecret;
        let mut slot = self.token.lock().await;
        if slot
            .as_ref()
            .is_some_and(|t| t.token.expose_secret() == failed.expose_secret())
        {
            *slot = None;
        }
    }

    /// The account's Cloud Code project, discovered once and persisted.
    pub async fn project(
        &self,
        cloudcode: &CloudCode,
        token: &SecretString,
        storage: &Storage,
    ) -> Result<String, UpstreamError> {
        let mut slot = self.project.lock().await;
        if let Some(project) = slot.as_ref() {
            return Ok(project.clone());
        }
        let project = cloudcode.discover_project(token).await?;
        tracing::info!(account = %self.label(), project = %project, "discovered Cloud Code project");
        if let Err(e) = storage.set_account_project(self.id, &project).await {
            tracing::error!(account = %self.label(), "could not persist project: {e}");
        }
        *slot = Some(project.clone());
        Ok(project)
    }
}
