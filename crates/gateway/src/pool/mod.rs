//! The account pool: accounts with their credentials and health, and the ordered
//! candidates for one request. Health (cooldowns, disabled state) is kept apart
//! from selection so that scheduling policies can change without touching it.

mod account;
pub mod quota;
pub mod scheduler;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub use account::{Account, ProviderKey};
pub use quota::QuotaBook;
pub use scheduler::Sessions;

use crate::config::SchedulingConfig;
use crate::storage::{AccountStatus, Storage, StorageError};
use crate::upstream::{AccountChange, UpstreamError};

/// All upstream accounts. Cheap to share behind an `Arc`.
#[derive(Debug, Default)]
pub struct Pool {
    accounts: RwLock<Arc<[Arc<Account>]>>,
    cursor: AtomicUsize,
    sessions: Sessions,
    quota: QuotaBook,
}

/// Why a request found no candidate.
#[derive(Debug, Clone, PartialEq)]
pub enum NoCandidate {
    /// The pool has no usable account at all.
    Empty { disabled: usize },
    /// Every usable account is cooling down for this model.
    AllCooling { accounts: usize, shortest: Duration },
}

impl Pool {
    /// Load every stored account.
    pub async fn load(storage: &Storage) -> Result<Pool, StorageError> {
        let pool = Pool::default();
        pool.reload(storage).await?;
        pool.quota.restore(storage, &pool.all()).await?;
        Ok(pool)
    }

    /// Each account's quota per model, from the last snapshot.
    pub fn quota(&self) -> &QuotaBook {
        &self.quota
    }

    /// Re-read accounts from storage, keeping the live state (tokens, cooldowns)
    /// of accounts that still exist.
    pub async fn reload(&self, storage: &Storage) -> Result<(), StorageError> {
        let records = storage.accounts().await?;
        let current = self.all();
        let next: Vec<Arc<Account>> = records
            .into_iter()
            .map(|record| match current.iter().find(|a| a.id == record.id) {
                Some(live) => {
                    live.update_from(&record);
                    live.clone()
                }
                None => Arc::new(Account::from_record(record)),
            })
            .collect();
        if let Ok(mut guard) = self.accounts.write() {
            *guard = next.into();
        }
        Ok(())
    }

    pub fn all(&self) -> Arc<[Arc<Account>]> {
        self.accounts
            .read()
            .map(|guard| guard.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// The accounts that may serve `model` now, in the order to try them: each
    /// usable account at most once, none cooling down for the model, ordered by
    /// the scheduling mode.
    pub fn candidates(
        &self,
        model: &str,
        session: Option<&str>,
        scheduling: &SchedulingConfig,
    ) -> Result<Vec<Arc<Account>>, NoCandidate> {
        let ready = self.ready(model)?;
        Ok(self.order(ready, session, scheduling, |account| {
            account.remaining(model).unwrap_or(1.0)
        }))
    }

    /// Order any set of ready accounts (Cloud Code and provider keys together)
    /// by the scheduling mode; `remaining` weighs `balance`.
    pub fn order(
        &self,
        accounts: Vec<Arc<Account>>,
        session: Option<&str>,
        scheduling: &SchedulingConfig,
        remaining: impl Fn(&Account) -> f64,
    ) -> Vec<Arc<Account>> {
        if accounts.is_empty() {
            return accounts;
        }
        let turn = self.cursor.fetch_add(1, Ordering::Relaxed);
        scheduler::order(
            accounts,
            scheduling,
            session,
            &self.sessions,
            turn,
            remaining,
        )
    }

    /// Remember which account served a session (for `sticky`).
    pub fn bind_session(&self, session: &str, account: &Account) {
        self.sessions.bind(session, account.id);
    }

    /// The usable accounts not cooling down for `model`, in stored order.
    pub fn ready(&self, model: &str) -> Result<Vec<Arc<Account>>, NoCandidate> {
        let all = self.all();
        let usable: Vec<&Arc<Account>> = all.iter().filter(|a| a.is_usable()).collect();
        if usable.is_empty() {
            return Err(NoCandidate::Empty {
                disabled: all.len(),
            });
        }
        let ready: Vec<Arc<Account>> = usable
            .iter()
            .filter(|a| a.cooldown_left(model).is_none())
            .map(|a| (*a).clone())
            .collect();
        if ready.is_empty() {
            let shortest = usable
                .iter()
                .filter_map(|a| a.cooldown_left(model))
                .min()
                .unwrap_or_default();
            return Err(NoCandidate::AllCooling {
                accounts: usable.len(),
                shortest,
            });
        }
        Ok(ready)
    }

    /// Record a failed attempt: cool the account down and apply (and persist, for
    /// stored accounts) any change of state it calls for.
    pub async fn report_failure(
        &self,
        storage: &Storage,
        account: &Account,
        model: &str,
        error: &UpstreamError,
    ) {
        if let Some((duration, scope)) = error.cooldown {
            account.cool_down(model, scope, duration);
        }
        let Some(change) = &error.change else {
            return;
        };
        let (status, reason, url) = match change {
            AccountChange::Disable { reason } => (AccountStatus::Disabled, reason.as_str(), None),
            AccountChange::Block {
                reason,
                validation_url,
            } => (
                AccountStatus::Blocked,
                reason.as_str(),
                validation_url.as_deref(),
            ),
        };
        tracing::warn!(account = %account.label(), status = status.as_str(), "{reason}");
        account.set_status(status, Some(reason.to_owned()));
        if account.key.is_some() {
            return; // provider keys live in the config, not the database
        }
        if let Err(e) = storage
            .set_account_status(account.id, status, Some(reason), url)
            .await
        {
            tracing::error!(account = %account.label(), "could not persist account status: {e}");
        }
    }
}

#[cfg(test)]
mod tests;

/// The API-key providers and their keys as pool members.
#[derive(Debug, Default)]
pub struct Providers {
    pub list: Vec<(
        Arc<crate::config::providers::ProviderConfig>,
        Vec<Arc<Account>>,
    )>,
}

impl Providers {
    pub fn new(configs: &[crate::config::providers::ProviderConfig]) -> Self {
        let mut next_id = -1;
        let list = configs
            .iter()
            .map(|config| {
                let config = Arc::new(config.clone());
                let keys = config
                    .keys
                    .iter()
                    .enumerate()
                    .map(|(index, key)| {
                        let id = next_id;
                        next_id -= 1;
                        Arc::new(Account::for_key(
                            id,
                            ProviderKey {
                                provider: config.clone(),
                                key: key.clone(),
                                index,
                            },
                        ))
                    })
                    .collect();
                (config, keys)
            })
            .collect();
        Self { list }
    }

    /// Every key of every provider.
    pub fn accounts(&self) -> impl Iterator<Item = &Arc<Account>> {
        self.list.iter().flat_map(|(_, keys)| keys.iter())
    }
}
