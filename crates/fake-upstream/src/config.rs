//! Plain configuration types: accounts, auth codes, models, quotas and the startup config.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The provider family a model (and a thought signature) belongs to.
///
/// Signatures are remembered per family: a signature issued for a Gemini model is
/// foreign to a Claude model and vice versa.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// `gemini-*` models.
    Gemini,
    /// `claude-*` models (Anthropic on Vertex behind Cloud Code).
    Claude,
    /// Anything else (e.g. `gpt-oss-120b-medium`); no signature rules apply.
    Other,
}

impl Family {
    /// The family a model id belongs to, by prefix.
    pub fn of_model(model: &str) -> Family {
        if model.starts_with("claude") {
            Family::Claude
        } else if model.starts_with("gemini") {
            Family::Gemini
        } else {
            Family::Other
        }
    }

    /// Lower-case name used inside issued signatures.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Gemini => "gemini",
            Family::Claude => "claude",
            Family::Other => "other",
        }
    }
}

/// One model the fake serves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// Model id as sent in the envelope's `model` (e.g. `gemini-2.5-pro`).
    pub id: String,
    /// `displayName` in `fetchAvailableModels`.
    #[serde(default)]
    pub display_name: String,
    /// Upper bound for `generationConfig.maxOutputTokens` (inclusive).
    pub max_output_tokens: u32,
    /// Whether the model reports `supportsThinking`.
    #[serde(default)]
    pub thinking: bool,
}

impl ModelSpec {
    /// A model spec with the default limit of its family (65536 for Gemini, 64000 for Claude,
    /// 32768 otherwise).
    pub fn new(id: impl Into<String>) -> ModelSpec {
        let id = id.into();
        let family = Family::of_model(&id);
        let max_output_tokens = match family {
            Family::Gemini => 65536,
            Family::Claude => 64000,
            Family::Other => 32768,
        };
        let thinking = match family {
            Family::Gemini => true,
            Family::Claude => id.ends_with("-thinking"),
            Family::Other => false,
        };
        ModelSpec {
            display_name: display_name(&id),
            id,
            max_output_tokens,
            thinking,
        }
    }

    /// The family of this model.
    pub fn family(&self) -> Family {
        Family::of_model(&self.id)
    }

    /// Gemini 3 models enforce thought signatures on function calls of the current turn.
    pub fn is_gemini3(&self) -> bool {
        self.id.starts_with("gemini-3")
    }
}

fn display_name(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The default model list.
pub fn default_models() -> Vec<ModelSpec> {
    [
        "gemini-2.5-flash",
        "gemini-2.5-flash-lite",
        "gemini-2.5-pro",
        "gemini-3-pro-preview",
        "gemini-3-flash",
        "claude-sonnet-4-5",
        "claude-sonnet-4-5-thinking",
        "claude-opus-4-5-thinking",
        "gpt-oss-120b-medium",
    ]
    .into_iter()
    .map(ModelSpec::new)
    .collect()
}

/// Scripted quota of one model for one account (`fetchAvailableModels` → `quotaInfo`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuotaSpec {
    /// `remainingFraction`, 0.0 ..= 1.0. At 0.0 generate calls answer 429 QUOTA_EXHAUSTED
    /// (unless a script says otherwise).
    pub remaining_fraction: f64,
    /// `resetTime` (RFC 3339). Defaults to five hours after the fake started.
    #[serde(default)]
    pub reset_time: Option<String>,
}

/// An account known to the fake.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountSpec {
    /// The OAuth refresh token that identifies the account at `/token`.
    pub refresh_token: String,
    /// Google account email (the key used by every scripting call).
    pub email: String,
    /// Cloud Code project; `None` means the account still has to be onboarded.
    pub project: Option<String>,
    /// `name` in userinfo (defaults to the email's local part).
    pub name: Option<String>,
    /// Current tier id (default `standard-tier`).
    pub tier: Option<String>,
    /// Project id handed out by `onboardUser` (default `onboarded-<email local part>`).
    pub onboard_project: Option<String>,
    /// How many `onboardUser` calls answer `done:false` before the operation completes
    /// (default 1).
    pub onboarding_polls: Option<u32>,
    /// Per-model quota (`fetchAvailableModels`).
    pub quotas: BTreeMap<String, QuotaSpec>,
}

impl AccountSpec {
    /// An onboarded account with a project.
    pub fn new(
        refresh_token: impl Into<String>,
        email: impl Into<String>,
        project: impl Into<String>,
    ) -> AccountSpec {
        AccountSpec {
            refresh_token: refresh_token.into(),
            email: email.into(),
            project: Some(project.into()),
            ..AccountSpec::default()
        }
    }

    /// An account that has no Cloud Code project yet.
    pub fn without_project(
        refresh_token: impl Into<String>,
        email: impl Into<String>,
    ) -> AccountSpec {
        AccountSpec {
            refresh_token: refresh_token.into(),
            email: email.into(),
            ..AccountSpec::default()
        }
    }

    /// The default account of the binary: `fake-refresh-token-1` / `alice@example.com` /
    /// `fake-project-1`.
    pub fn default_alice() -> AccountSpec {
        AccountSpec::new(
            "fake-refresh-token-1",
            "alice@example.com",
            "fake-project-1",
        )
    }
}

/// An authorization code a test registers for the `authorization_code` grant.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthCode {
    /// The code the client will exchange.
    pub code: String,
    /// The account the code belongs to.
    pub email: String,
    /// If set, the exchange must send exactly this `redirect_uri`.
    pub redirect_uri: Option<String>,
    /// If set, the exchange must send exactly this PKCE `code_verifier`.
    pub code_verifier: Option<String>,
}

/// An OAuth client the token endpoint accepts. With no clients configured any
/// non-empty `client_id` / `client_secret` pair is accepted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OAuthClient {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: String,
}

/// Startup configuration (also the JSON format of `fake-upstream --config`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FakeConfig {
    /// Accounts present at start (and after `reset`).
    pub accounts: Vec<AccountSpec>,
    /// Models served; defaults to [`default_models`].
    pub models: Vec<ModelSpec>,
    /// Access-token lifetime in seconds (default 3600).
    pub token_ttl_secs: u64,
    /// Accepted OAuth clients; empty accepts any.
    pub oauth_clients: Vec<OAuthClient>,
    /// API keys of the API-key providers present at start (and after `reset`).
    pub api_keys: Vec<ApiKeySpec>,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            accounts: Vec::new(),
            models: default_models(),
            token_ttl_secs: 3600,
            oauth_clients: Vec::new(),
            api_keys: Vec::new(),
        }
    }
}

/// An API-key provider the fake serves next to Cloud Code, each under its own path prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Provider {
    /// Anthropic Messages API (and z.ai's compatible API) under `/anthropic`.
    #[serde(rename = "anthropic")]
    Anthropic,
    /// OpenAI Chat Completions under `/openai` (base URL `/openai/v1`).
    #[serde(rename = "openai")]
    OpenAi,
    /// Google's public Gemini API (`generativelanguage`) under `/gemini`.
    #[serde(rename = "gemini")]
    Gemini,
}

impl Provider {
    /// Every provider.
    pub const ALL: [Provider; 3] = [Provider::Anthropic, Provider::OpenAi, Provider::Gemini];

    /// `anthropic`, `openai` or `gemini` (the JSON name and the recorded `provider`).
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Anthropic => "anthropic",
            Provider::OpenAi => "openai",
            Provider::Gemini => "gemini",
        }
    }

    /// The path prefix the provider is served under (`/anthropic`, `/openai`, `/gemini`).
    pub fn prefix(self) -> &'static str {
        match self {
            Provider::Anthropic => "/anthropic",
            Provider::OpenAi => "/openai",
            Provider::Gemini => "/gemini",
        }
    }

    /// The provider whose prefix starts `path`.
    pub fn of_path(path: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| {
            path.strip_prefix(p.prefix())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }
}

/// One API key of an API-key provider: the provider's "account". Scripts and recorded
/// requests name it by `label`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeySpec {
    /// Which provider accepts the key.
    pub provider: Provider,
    /// The secret the client sends.
    pub key: String,
    /// The name scripts and the request log use (defaults to the key itself).
    #[serde(default)]
    pub label: String,
}

impl ApiKeySpec {
    /// A key with a label.
    pub fn new(provider: Provider, key: impl Into<String>, label: impl Into<String>) -> ApiKeySpec {
        ApiKeySpec {
            provider,
            key: key.into(),
            label: label.into(),
        }
    }

    /// The label, or the key when the label is empty.
    pub fn name(&self) -> &str {
        if self.label.is_empty() {
            &self.key
        } else {
            &self.label
        }
    }
}
