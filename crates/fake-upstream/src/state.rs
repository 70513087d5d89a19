//! The fake's mutable state behind one mutex (never held across an await): accounts, access
//! tokens, auth codes, behaviour queues, models, issued signatures and the request log.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use crate::config::{
    AccountSpec, ApiKeySpec, AuthCode, FakeConfig, ModelSpec, Provider, QuotaSpec,
};
use crate::record::RecordedRequest;
use crate::script::Behavior;
use crate::signatures::SignatureRegistry;
use crate::timefmt;

/// Cheap, clonable handle on the state.
#[derive(Clone)]
pub(crate) struct Shared {
    inner: Arc<Mutex<Inner>>,
}

impl Shared {
    pub(crate) fn new(config: FakeConfig) -> Shared {
        Shared {
            inner: Arc::new(Mutex::new(Inner::new(config))),
        }
    }

    /// Locks the state; a poisoned lock is recovered (the fake has no invariants a panic
    /// could break halfway that matter more than continuing).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) struct Account {
    pub spec: AccountSpec,
    pub project: Option<String>,
    pub revoked: bool,
    pub onboard_calls: u32,
}

pub(crate) struct Token {
    pub email: String,
    pub expires_at: Instant,
}

pub(crate) struct CodeState {
    pub code: AuthCode,
    pub used: bool,
}

/// Why an access token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    Unknown,
    Expired,
}

type QueueKey = (String, Option<String>);

/// An API key with its revocation flag.
pub(crate) struct ApiKey {
    pub spec: ApiKeySpec,
    pub revoked: bool,
}

/// Why an API key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyProblem {
    /// No key in the request.
    Missing,
    /// A key the provider does not know (or one of another provider).
    Unknown,
    /// A registered key that was revoked.
    Revoked,
}

pub(crate) struct Inner {
    pub initial: FakeConfig,
    pub accounts: Vec<Account>,
    pub api_keys: Vec<ApiKey>,
    /// Models an API-key provider serves; absent means any model id is served.
    pub provider_models: HashMap<Provider, Vec<String>>,
    pub tokens: HashMap<String, Token>,
    pub codes: HashMap<String, CodeState>,
    pub queues: HashMap<QueueKey, VecDeque<Behavior>>,
    pub defaults: HashMap<String, Behavior>,
    pub prefix_queues: HashMap<String, VecDeque<Behavior>>,
    pub prefix_defaults: HashMap<String, Behavior>,
    pub models: Vec<ModelSpec>,
    pub token_ttl: Duration,
    pub signatures: SignatureRegistry,
    pub log: Vec<RecordedRequest>,
    pub seq: u64,
    pub counter: u64,
    pub started_unix: u64,
}

impl Inner {
    fn new(config: FakeConfig) -> Inner {
        let mut inner = Inner {
            initial: config.clone(),
            accounts: Vec::new(),
            api_keys: Vec::new(),
            provider_models: HashMap::new(),
            tokens: HashMap::new(),
            codes: HashMap::new(),
            queues: HashMap::new(),
            defaults: HashMap::new(),
            prefix_queues: HashMap::new(),
            prefix_defaults: HashMap::new(),
            models: Vec::new(),
            token_ttl: Duration::from_secs(3600),
            signatures: SignatureRegistry::default(),
            log: Vec::new(),
            seq: 0,
            counter: 0,
            started_unix: timefmt::unix_now(),
        };
        inner.reset();
        inner
    }

    /// Back to the startup configuration: initial accounts and models, nothing scripted,
    /// no tokens, codes, signatures or recorded requests.
    pub fn reset(&mut self) {
        let config = self.initial.clone();
        self.accounts.clear();
        self.api_keys.clear();
        self.provider_models.clear();
        self.tokens.clear();
        self.codes.clear();
        self.queues.clear();
        self.defaults.clear();
        self.prefix_queues.clear();
        self.prefix_defaults.clear();
        self.log.clear();
        self.signatures = SignatureRegistry::default();
        self.models = config.models.clone();
        self.token_ttl = Duration::from_secs(config.token_ttl_secs);
        for a in config.accounts {
            self.add_account(a);
        }
        for k in config.api_keys {
            self.add_api_key(k);
        }
    }

    /// Adds an API key, replacing one with the same key string.
    pub fn add_api_key(&mut self, mut spec: ApiKeySpec) {
        if spec.label.is_empty() {
            spec.label.clone_from(&spec.key);
        }
        self.api_keys.retain(|k| k.spec.key != spec.key);
        self.api_keys.push(ApiKey {
            spec,
            revoked: false,
        });
    }

    /// Revokes (or restores) the keys whose key string or label is `name`; returns whether
    /// any matched.
    pub fn set_key_revoked(&mut self, name: &str, revoked: bool) -> bool {
        let mut found = false;
        for k in &mut self.api_keys {
            if k.spec.key == name || k.spec.label == name {
                k.revoked = revoked;
                found = true;
            }
        }
        found
    }

    /// The label of the key `key` of `provider`, if it is registered and not revoked.
    pub fn key_owner(&self, provider: Provider, key: Option<&str>) -> Result<String, KeyProblem> {
        let key = key.filter(|k| !k.is_empty()).ok_or(KeyProblem::Missing)?;
        let k = self
            .api_keys
            .iter()
            .find(|k| k.spec.provider == provider && k.spec.key == key)
            .ok_or(KeyProblem::Unknown)?;
        if k.revoked {
            return Err(KeyProblem::Revoked);
        }
        Ok(k.spec.label.clone())
    }

    /// The name scripts are queued under: a registered API key's label for its key string,
    /// anything else unchanged (emails, labels).
    pub fn script_name(&self, name: &str) -> String {
        self.api_keys
            .iter()
            .find(|k| k.spec.key == name)
            .map_or_else(|| name.to_string(), |k| k.spec.label.clone())
    }

    /// Whether `provider` serves `model` (any model unless a list was set).
    pub fn provider_serves(&self, provider: Provider, model: &str) -> bool {
        self.provider_models
            .get(&provider)
            .is_none_or(|list| list.iter().any(|m| m == model))
    }

    /// Adds an account, replacing one with the same email.
    pub fn add_account(&mut self, spec: AccountSpec) {
        self.accounts.retain(|a| a.spec.email != spec.email);
        self.accounts.push(Account {
            project: spec.project.clone(),
            spec,
            revoked: false,
            onboard_calls: 0,
        });
    }

    pub fn account(&self, email: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.spec.email == email)
    }

    pub fn account_mut(&mut self, email: &str) -> Option<&mut Account> {
        self.accounts.iter_mut().find(|a| a.spec.email == email)
    }

    pub fn account_by_refresh(&self, refresh_token: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| a.spec.refresh_token == refresh_token)
    }

    pub fn next_counter(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Issues an access token for `email`; returns it with its lifetime.
    pub fn issue_token(&mut self, email: &str) -> (String, Duration) {
        let n = self.next_counter();
        let token = format!("ya29.fake-{n:06}-{}", email.replace('@', ".at."));
        self.tokens.insert(
            token.clone(),
            Token {
                email: email.to_string(),
                expires_at: Instant::now() + self.token_ttl,
            },
        );
        (token, self.token_ttl)
    }

    /// The account an access token belongs to.
    pub fn token_owner(&self, token: &str) -> Result<String, TokenProblem> {
        let t = self.tokens.get(token).ok_or(TokenProblem::Unknown)?;
        if Instant::now() >= t.expires_at {
            return Err(TokenProblem::Expired);
        }
        match self.account(&t.email) {
            Some(a) if !a.revoked => Ok(t.email.clone()),
            _ => Err(TokenProblem::Unknown),
        }
    }

    pub fn invalidate_token(&mut self, token: &str) {
        self.tokens.remove(token);
    }

    pub fn invalidate_tokens_of(&mut self, email: &str) {
        self.tokens.retain(|_, t| t.email != email);
    }

    pub fn model(&self, id: &str) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.id == id)
    }

    /// Appends behaviours to the queue of (email, model).
    pub fn enqueue(&mut self, email: &str, model: Option<&str>, behaviors: Vec<Behavior>) {
        let name = self.script_name(email);
        self.queues
            .entry((name, model.map(str::to_string)))
            .or_default()
            .extend(behaviors);
    }

    /// Sets (or with `None` clears) the default behaviour of an account or API key.
    pub fn set_default(&mut self, name: &str, behavior: Option<Behavior>) {
        let name = self.script_name(name);
        match behavior {
            Some(b) => self.defaults.insert(name, b),
            None => self.defaults.remove(&name),
        };
    }

    /// The next scripted behaviour for a generate call: the (email, model) queue first,
    /// then the (email, any model) queue, then the account's default.
    pub fn next_behavior(&mut self, email: &str, model: &str) -> Option<Behavior> {
        for key in [
            (email.to_string(), Some(model.to_string())),
            (email.to_string(), None),
        ] {
            if let Some(b) = self.queues.get_mut(&key).and_then(VecDeque::pop_front) {
                return Some(b);
            }
        }
        self.defaults.get(email).cloned()
    }

    /// The next scripted failure for an endpoint prefix, if any.
    pub fn next_prefix_behavior(&mut self, prefix: &str) -> Option<Behavior> {
        if let Some(b) = self
            .prefix_queues
            .get_mut(prefix)
            .and_then(VecDeque::pop_front)
        {
            return Some(b);
        }
        self.prefix_defaults.get(prefix).cloned()
    }

    /// Quota of (email, model), defaulting to full with a reset five hours after start.
    pub fn quota(&self, email: &str, model: &str) -> QuotaSpec {
        self.account(email)
            .and_then(|a| a.spec.quotas.get(model).cloned())
            .unwrap_or(QuotaSpec {
                remaining_fraction: 1.0,
                reset_time: None,
            })
    }

    pub fn default_reset_time(&self) -> String {
        timefmt::rfc3339(self.started_unix + 5 * 3600)
    }
}

/// `/ep1/`, `ep1`, `/ep1/v1internal` → `/ep1`; the default base is the empty prefix.
pub(crate) fn normalize_prefix(prefix: &str) -> String {
    let p = prefix.trim().trim_end_matches('/');
    let p = p.strip_suffix("/v1internal").unwrap_or(p);
    let p = p.trim_matches('/');
    if p.is_empty() || p == "v1internal" {
        String::new()
    } else {
        format!("/{p}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_normalise() {
        assert_eq!(normalize_prefix("/ep1"), "/ep1");
        assert_eq!(normalize_prefix("ep1/"), "/ep1");
        assert_eq!(normalize_prefix("/ep1/v1internal"), "/ep1");
        assert_eq!(normalize_prefix(""), "");
        assert_eq!(normalize_prefix("/v1internal"), "");
    }

    #[test]
    fn queues_prefer_model_specific_then_account_then_default() {
        let mut s = Inner::new(FakeConfig::default());
        s.enqueue("a", None, vec![Behavior::RateLimited]);
        s.enqueue("a", Some("m"), vec![Behavior::Capacity]);
        s.defaults.insert("a".into(), Behavior::Forbidden);
        assert_eq!(s.next_behavior("a", "m"), Some(Behavior::Capacity));
        assert_eq!(s.next_behavior("a", "m"), Some(Behavior::RateLimited));
        assert_eq!(s.next_behavior("a", "m"), Some(Behavior::Forbidden));
        assert_eq!(s.next_behavior("b", "m"), None);
    }
}
