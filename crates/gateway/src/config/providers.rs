//! `[[providers]]`: API-key upstreams (Anthropic-compatible such as z.ai, the
//! public Gemini API, any OpenAI-compatible server) that join the pool. Each key
//! is an account with its own health and cooldowns.

use std::collections::{BTreeMap, HashMap};

use secrecy::SecretString;
use serde::Deserialize;
use uplink_protocol::error::Dialect;

use super::ConfigError;
use crate::router::ModelRouter;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawProvider {
    pub id: String,
    pub kind: String,
    pub base_url: String,
    #[serde(default)]
    pub api_keys: Vec<String>,
    /// The name of an environment variable holding comma-separated keys, so
    /// keys need not sit in the file.
    pub api_keys_env: Option<String>,
    /// Model names (with `*` wildcards) the provider serves.
    #[serde(default)]
    pub models: Vec<String>,
    /// Requested name (or pattern) → this provider's model name.
    #[serde(default)]
    pub mapping: BTreeMap<String, String>,
    /// off | exclusive | pooled | fallback (default pooled).
    pub dispatch: Option<String>,
    /// Client protocols it serves (openai, anthropic, gemini); all when unset.
    pub protocols: Option<Vec<String>>,
}

/// The wire protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    Anthropic,
    Gemini,
    OpenAi,
}

/// How a provider joins the Cloud Code pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dispatch {
    Off,
    /// Only this provider serves the models it lists.
    Exclusive,
    /// One more candidate in rotation, scheduled with the Cloud Code accounts.
    Pooled,
    /// Tried only after every Cloud Code account failed or is unavailable.
    Fallback,
}

#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub id: String,
    pub kind: ProviderKind,
    /// Without a trailing slash.
    pub base_url: String,
    /// The generation URL, parsed once: OpenAI's chat completions or
    /// Anthropic's messages. Gemini's names the model, so it is built per
    /// request.
    pub endpoint: Option<http::Uri>,
    pub keys: Vec<SecretString>,
    pub models: Vec<String>,
    pub mapping: ModelRouter,
    pub dispatch: Dispatch,
    pub protocols: Option<Vec<Dialect>>,
}

impl ProviderConfig {
    /// Whether the provider takes requests from `dialect` for `model`.
    pub fn serves(&self, dialect: Dialect, model: &str) -> bool {
        self.dispatch != Dispatch::Off
            && self.protocols.as_ref().is_none_or(|p| p.contains(&dialect))
            && self
                .models
                .iter()
                .any(|m| crate::router::wildcard(m, model))
    }

    /// This provider's name for `requested`.
    pub fn model_for(&self, requested: &str) -> String {
        self.mapping.resolve(requested, &[]).model
    }
}

pub fn validate(
    raw: Vec<RawProvider>,
    env: &HashMap<String, String>,
) -> Result<Vec<ProviderConfig>, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        setting: "providers",
        message,
    };
    let mut out: Vec<ProviderConfig> = Vec::new();
    for p in raw {
        let id = p.id.trim().to_owned();
        if id.is_empty() || out.iter().any(|o| o.id == id) {
            return Err(invalid(format!(
                "provider id `{id}` is empty or used twice"
            )));
        }
        let kind = match p.kind.as_str() {
            "anthropic" => ProviderKind::Anthropic,
            "gemini" => ProviderKind::Gemini,
            "openai" => ProviderKind::OpenAi,
            other => {
                return Err(invalid(format!(
                    "provider `{id}`: kind `{other}` is not one of anthropic, gemini, openai"
                )));
            }
        };
        let base = p.base_url.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(invalid(format!(
                "provider `{id}`: base_url `{base}` is not an http(s) URL"
            )));
        }
        if let Err(e) = http::Uri::try_from(base.as_str()) {
            return Err(invalid(format!(
                "provider `{id}`: base_url `{base}` is not a valid URL ({e})"
            )));
        }
        let path = match kind {
            ProviderKind::OpenAi => Some("/chat/completions"),
            ProviderKind::Anthropic => Some("/v1/messages"),
            ProviderKind::Gemini => None,
        };
        let endpoint = path.and_then(|path| http::Uri::try_from(format!("{base}{path}")).ok());
        let mut keys: Vec<String> = p
            .api_keys
            .into_iter()
            .filter(|k| !k.trim().is_empty())
            .collect();
        if let Some(var) = &p.api_keys_env {
            match env.get(var) {
                Some(v) => keys.extend(
                    v.split(',')
                        .map(str::trim)
                        .filter(|k| !k.is_empty())
                        .map(str::to_owned),
                ),
                None => {
                    return Err(invalid(format!(
                        "provider `{id}`: api_keys_env names `{var}`, which is not set"
                    )));
                }
            }
        }
        if keys.is_empty() {
            return Err(invalid(format!(
                "provider `{id}` has no API key (api_keys or api_keys_env)"
            )));
        }
        if p.models.is_empty() {
            return Err(invalid(format!(
                "provider `{id}` lists no models (models = [\"name\", \"prefix-*\"])"
            )));
        }
        let dispatch = match p.dispatch.as_deref().unwrap_or("pooled") {
            "off" => Dispatch::Off,
            "exclusive" => Dispatch::Exclusive,
            "pooled" => Dispatch::Pooled,
            "fallback" => Dispatch::Fallback,
            other => {
                return Err(invalid(format!(
                    "provider `{id}`: dispatch `{other}` is not one of off, exclusive, pooled, fallback"
                )));
            }
        };
        let protocols = match p.protocols {
            None => None,
            Some(list) => Some(
                list.iter()
                    .map(|name| match name.as_str() {
                        "openai" => Ok(Dialect::OpenAi),
                        "anthropic" => Ok(Dialect::Anthropic),
                        "gemini" => Ok(Dialect::Gemini),
                        other => Err(invalid(format!("provider `{id}`: protocol `{other}` is not one of openai, anthropic, gemini"))),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        out.push(ProviderConfig {
            id,
            kind,
            base_url: base,
            endpoint,
            keys: keys.into_iter().map(SecretString::from).collect(),
            models: p.models,
            mapping: ModelRouter::new(&p.mapping),
            dispatch,
            protocols,
        });
    }
    Ok(out)
}
