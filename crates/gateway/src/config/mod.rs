//! Typed configuration: built-in defaults < TOML file < environment < flags,
//! parsed into [`Config`] once, before anything binds or opens.

pub mod providers;
mod raw;

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

pub use raw::{RawCloudCode, RawConfig, RawLog, RawModels, RawOAuth, RawQuota, RawScheduling};

pub const DEFAULT_PORT: u16 = 8045;
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 600;
pub const DEFAULT_MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 30;

/// Cloud Code endpoints, tried in order.
pub const DEFAULT_CLOUDCODE_ENDPOINTS: &[&str] = &[
    "https://daily-cloudcode-pa.sandbox.googleapis.com/v1internal",
    "https://daily-cloudcode-pa.googleapis.com/v1internal",
    "https://cloudcode-pa.googleapis.com/v1internal",
];
pub const DEFAULT_CLOUDCODE_USER_AGENT: &str = "antigravity";
pub const DEFAULT_OAUTH_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
pub const DEFAULT_OAUTH_AUTH_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";
pub const DEFAULT_OAUTH_USERINFO_URL: &str = "https://www.googleapis.com/oauth2/v2/userinfo";

/// A configuration error. Every variant names the setting or file at fault and
/// never contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    File {
        path: PathBuf,
        message: String,
        line: Option<usize>,
    },
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid `{setting}`: {message}")]
    Invalid {
        setting: &'static str,
        message: String,
    },
    #[error(
        "cannot determine a data directory for this platform; pass --data-dir or set UPLINK_DATA_DIR"
    )]
    NoDataDir,
}

/// Who must present the API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Nobody.
    Off,
    /// Every request, health checks included.
    Strict,
    /// Every request except `GET /healthz` and `GET /health`.
    AllExceptHealth,
}

impl AuthMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::Off => "off",
            AuthMode::Strict => "strict",
            AuthMode::AllExceptHealth => "all_except_health",
        }
    }
}

impl fmt::Display for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the client API key comes from.
#[derive(Debug, Clone)]
pub enum ApiKeySetting {
    /// None configured: use the one persisted in the data dir, generating it once.
    Generate,
    /// Explicitly empty: no key (only valid with auth off).
    Disabled,
    /// Configured by the user; already validated.
    Configured(SecretString),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// An `EnvFilter` directive such as `info` or `uplink_gateway=debug,info`.
    pub level: String,
    pub json: bool,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    /// The file that was read, if any.
    pub config_file: Option<PathBuf>,
    pub listen: SocketAddr,
    /// `bind`, when set: it overrides `allow_lan_access`.
    pub explicit_bind: Option<IpAddr>,
    pub allow_lan_access: bool,
    pub auth_mode: AuthMode,
    /// Whether `auth_mode` was resolved from `auto`.
    pub auth_mode_auto: bool,
    pub api_key: ApiKeySetting,
    /// The admin API and web UI password; `None`: the client API key is it.
    pub admin_password: Option<SecretString>,
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    pub shutdown_grace: Duration,
    /// Send `X-Account-Email` with proxied answers (off for privacy).
    pub expose_account_email: bool,
    pub log: LogConfig,
    pub cloudcode: CloudCodeConfig,
    pub oauth: OAuthConfig,
    /// `[models] mapping`: requested name or `*` pattern → upstream model.
    pub model_mapping: std::collections::BTreeMap<String, String>,
    /// `[models] background_model`: where Claude Code's background housekeeping
    /// (titles, summaries, suggestions) goes; `None` leaves it alone.
    pub background_model: Option<String>,
    pub scheduling: SchedulingConfig,
    pub quota: QuotaConfig,
    pub monitor: MonitorSettings,
    pub providers: Vec<providers::ProviderConfig>,
    pub runtime: RuntimeConfig,
}

/// `[runtime]`: how the server uses the machine's cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Threads that serve connections (1 by default: one thread holds the
    /// sockets, so no request is handed between threads).
    pub worker_threads: usize,
    /// After a request starts or ends, keep polling the sockets this long
    /// before sleeping: an answer or the next request that comes within it
    /// is picked up without a wake-up. Only with one worker thread.
    pub busy_poll: Option<Duration>,
}

impl RuntimeConfig {
    /// Busy polling needs the one thread that owns the sockets.
    pub fn busy_poll(&self) -> Option<Duration> {
        self.busy_poll.filter(|_| self.worker_threads == 1)
    }
}

/// `[monitor]`: the request log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorSettings {
    /// Keep request and response bodies (off by default).
    pub capture_bodies: bool,
    /// Bodies are cut at this many bytes.
    pub capture_max_bytes: usize,
    pub retention: Duration,
    pub retention_max_rows: i64,
    /// Records queued for the writer before new ones are dropped.
    pub channel_capacity: usize,
}

/// `[quota]`: keeping each account's per-model quota snapshot fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaConfig {
    /// How often `serve` refreshes every account's quota; `None` (0) disables it.
    pub refresh_interval: Option<Duration>,
}

pub const DEFAULT_QUOTA_REFRESH_INTERVAL_SECS: u64 = 300;
/// Long enough to cover a local upstream's answer and a client's next request
/// on keep-alive (a few tens of µs each); short enough to cost nothing when
/// the upstream is across the internet.
pub const DEFAULT_BUSY_POLL_US: u64 = 100;
const MAX_BUSY_POLL_US: u64 = 10_000;
const MAX_WORKER_THREADS: usize = 1024;

/// How the pool orders accounts for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedulingMode {
    /// Prefer accounts with more remaining quota, spreading load.
    Balance,
    /// Keep a session on one account while it is healthy (upstream prompt caching).
    Sticky,
    /// Each request starts at the next account.
    RoundRobin,
    /// One preferred account; the others only as fallback.
    Fixed,
}

impl SchedulingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SchedulingMode::Balance => "balance",
            SchedulingMode::Sticky => "sticky",
            SchedulingMode::RoundRobin => "round_robin",
            SchedulingMode::Fixed => "fixed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulingConfig {
    pub mode: SchedulingMode,
    /// For `fixed`: the account's email.
    pub preferred_account: Option<String>,
    /// At most this many accounts per request.
    pub max_attempts: usize,
    /// Stop rotating after this long (the last error is returned).
    pub retry_budget: Duration,
    /// When every account is cooling, wait for the first if it is this close.
    pub max_wait: Duration,
}

pub const DEFAULT_MAX_ATTEMPTS: usize = 10;
pub const DEFAULT_RETRY_BUDGET_SECS: u64 = 30;
pub const DEFAULT_MAX_WAIT_SECS: u64 = 5;

/// The Cloud Code upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudCodeConfig {
    /// Base URLs ending in `/v1internal`, tried in order.
    pub endpoints: Vec<String>,
    pub user_agent: String,
}

/// Google OAuth, for refreshing account tokens and adding accounts.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    pub token_url: String,
    pub auth_url: String,
    pub userinfo_url: String,
    /// The OAuth client that issued the accounts' refresh tokens. Refresh tokens
    /// only refresh with the client they were issued to, so there is no default.
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
}

/// Everything configuration is read from. `env` is passed in (not read from the
/// process) so that tests can layer without touching global state.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub data_dir: Option<PathBuf>,
    pub config_file: Option<PathBuf>,
    pub env: HashMap<String, String>,
    pub flags: RawConfig,
}

impl Sources {
    /// The data directory: `--data-dir` > `UPLINK_DATA_DIR` > the platform's.
    pub fn data_dir(&self) -> Result<PathBuf, ConfigError> {
        if let Some(dir) = &self.data_dir {
            return Ok(dir.clone());
        }
        if let Some(dir) = self.env.get("UPLINK_DATA_DIR").filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(dir));
        }
        dirs::data_dir()
            .map(|d| d.join("uplink"))
            .ok_or(ConfigError::NoDataDir)
    }

    /// The config file and whether the user named it explicitly.
    fn config_file(&self, data_dir: &Path) -> (PathBuf, bool) {
        if let Some(file) = &self.config_file {
            return (file.clone(), true);
        }
        if let Some(file) = self.env.get("UPLINK_CONFIG").filter(|f| !f.is_empty()) {
            return (PathBuf::from(file), true);
        }
        (data_dir.join("config.toml"), false)
    }
}

impl Config {
    /// Read every layer and validate the result.
    pub fn load(sources: &Sources) -> Result<Config, ConfigError> {
        let data_dir = sources.data_dir()?;
        let (path, explicit) = sources.config_file(&data_dir);
        let (mut raw, config_file) = match std::fs::read_to_string(&path) {
            Ok(text) => (RawConfig::from_toml(&text, &path)?, Some(path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                (RawConfig::default(), None)
            }
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        raw.merge(&RawConfig::from_env(&sources.env)?);
        raw.merge(&sources.flags);
        Config::from_raw_with_env(raw, data_dir, config_file, &sources.env)
    }

    /// Validate a merged raw configuration.
    pub fn from_raw(
        raw: RawConfig,
        data_dir: PathBuf,
        config_file: Option<PathBuf>,
    ) -> Result<Config, ConfigError> {
        Self::from_raw_with_env(raw, data_dir, config_file, &HashMap::new())
    }

    /// Validate, reading what settings point at in the environment (provider keys).
    pub fn from_raw_with_env(
        mut raw: RawConfig,
        data_dir: PathBuf,
        config_file: Option<PathBuf>,
        env: &HashMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let providers = providers::validate(raw.providers.take().unwrap_or_default(), env)?;
        let allow_lan_access = raw.allow_lan_access.unwrap_or(false);
        let ip = match raw.bind.as_deref().map(str::trim) {
            Some(bind) if !bind.is_empty() => {
                bind.parse::<IpAddr>().map_err(|_| ConfigError::Invalid {
                    setting: "bind",
                    message: format!("`{bind}` is not an IP address (e.g. 127.0.0.1 or 0.0.0.0)"),
                })?
            }
            _ if allow_lan_access => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
        };
        let explicit_bind = raw
            .bind
            .as_deref()
            .is_some_and(|b| !b.trim().is_empty())
            .then_some(ip);
        let listen = SocketAddr::new(ip, raw.port.unwrap_or(DEFAULT_PORT));

        let (auth_mode, auth_mode_auto) = match raw
            .auth_mode
            .as_deref()
            .map(|m| m.trim().to_ascii_lowercase())
        {
            None => (auto_mode(&listen), true),
            Some(m) => match m.as_str() {
                "auto" => (auto_mode(&listen), true),
                "off" => (AuthMode::Off, false),
                "strict" => (AuthMode::Strict, false),
                "all_except_health" => (AuthMode::AllExceptHealth, false),
                _ => {
                    return Err(ConfigError::Invalid {
                        setting: "auth_mode",
                        message: format!(
                            "`{m}` is not one of off, strict, all_except_health, auto"
                        ),
                    });
                }
            },
        };

        let api_key = match raw.api_key {
            None => ApiKeySetting::Generate,
            Some(key) if key.is_empty() => {
                if auth_mode != AuthMode::Off {
                    return Err(ConfigError::Invalid {
                        setting: "api_key",
                        message: format!(
                            "it is empty but auth_mode is {auth_mode}, so every request would be refused; \
                             set an api_key (sk-…), remove it to have one generated, or set auth_mode = \"off\""
                        ),
                    });
                }
                ApiKeySetting::Disabled
            }
            Some(key) => {
                validate_api_key(&key)?;
                ApiKeySetting::Configured(SecretString::from(key))
            }
        };

        let admin_password = match raw.admin_password {
            None => None,
            Some(password) if password.trim().is_empty() => {
                return Err(ConfigError::Invalid {
                    setting: "admin_password",
                    message: "it is empty; set a password, or remove it to use the API key as the admin password".into(),
                });
            }
            Some(password) => Some(SecretString::from(password)),
        };

        let request_timeout_secs = positive(
            "request_timeout_secs",
            raw.request_timeout_secs
                .unwrap_or(DEFAULT_REQUEST_TIMEOUT_SECS),
        )?;
        let max_body_bytes = positive(
            "max_body_bytes",
            raw.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
        )?;
        let max_body_bytes = usize::try_from(max_body_bytes).map_err(|_| ConfigError::Invalid {
            setting: "max_body_bytes",
            message: "too large for this platform".into(),
        })?;

        let runtime = runtime_config(&raw.runtime)?;

        let level = raw.log.level.unwrap_or_else(|| "info".to_owned());
        if tracing_subscriber::EnvFilter::try_new(&level).is_err() {
            return Err(ConfigError::Invalid {
                setting: "log.level",
                message: format!(
                    "`{level}` is not a level (error, warn, info, debug, trace) or filter directive"
                ),
            });
        }

        let endpoints = match raw.cloudcode.endpoints {
            Some(list) if list.is_empty() => {
                return Err(ConfigError::Invalid {
                    setting: "cloudcode.endpoints",
                    message: "the list is empty; give at least one base URL".into(),
                });
            }
            Some(list) => list,
            None => DEFAULT_CLOUDCODE_ENDPOINTS
                .iter()
                .map(|e| (*e).to_owned())
                .collect(),
        };
        for endpoint in &endpoints {
            http_url("cloudcode.endpoints", endpoint)?;
        }
        let cloudcode = CloudCodeConfig {
            endpoints: endpoints
                .into_iter()
                .map(|e| e.trim_end_matches('/').to_owned())
                .collect(),
            user_agent: raw
                .cloudcode
                .user_agent
                .unwrap_or_else(|| DEFAULT_CLOUDCODE_USER_AGENT.to_owned()),
        };
        let url = |setting: &'static str, value: Option<String>, default: &str| {
            let value = value.unwrap_or_else(|| default.to_owned());
            http_url(setting, &value).map(|()| value)
        };
        let oauth = OAuthConfig {
            token_url: url(
                "oauth.token_url",
                raw.oauth.token_url,
                DEFAULT_OAUTH_TOKEN_URL,
            )?,
            auth_url: url("oauth.auth_url", raw.oauth.auth_url, DEFAULT_OAUTH_AUTH_URL)?,
            userinfo_url: url(
                "oauth.userinfo_url",
                raw.oauth.userinfo_url,
                DEFAULT_OAUTH_USERINFO_URL,
            )?,
            client_id: raw.oauth.client_id.filter(|c| !c.is_empty()),
            client_secret: raw
                .oauth
                .client_secret
                .filter(|c| !c.is_empty())
                .map(SecretString::from),
        };

        let mode = match raw
            .scheduling
            .mode
            .as_deref()
            .map(|m| m.trim().to_ascii_lowercase())
        {
            None => SchedulingMode::Balance,
            Some(m) => match m.as_str() {
                "balance" => SchedulingMode::Balance,
                "sticky" => SchedulingMode::Sticky,
                "round_robin" => SchedulingMode::RoundRobin,
                "fixed" => SchedulingMode::Fixed,
                _ => {
                    return Err(ConfigError::Invalid {
                        setting: "scheduling.mode",
                        message: format!("`{m}` is not one of balance, sticky, round_robin, fixed"),
                    });
                }
            },
        };
        let preferred_account = raw
            .scheduling
            .preferred_account
            .filter(|a| !a.trim().is_empty());
        if mode == SchedulingMode::Fixed && preferred_account.is_none() {
            return Err(ConfigError::Invalid {
                setting: "scheduling.preferred_account",
                message: "mode `fixed` needs the email of the preferred account".into(),
            });
        }
        let scheduling = SchedulingConfig {
            mode,
            preferred_account,
            max_attempts: usize::try_from(positive(
                "scheduling.max_attempts",
                raw.scheduling.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS) as u64,
            )?)
            .unwrap_or(DEFAULT_MAX_ATTEMPTS),
            retry_budget: Duration::from_secs(positive(
                "scheduling.retry_budget_secs",
                raw.scheduling
                    .retry_budget_secs
                    .unwrap_or(DEFAULT_RETRY_BUDGET_SECS),
            )?),
            max_wait: Duration::from_secs(
                raw.scheduling
                    .max_wait_secs
                    .unwrap_or(DEFAULT_MAX_WAIT_SECS),
            ),
        };
        let model_mapping = raw.models.mapping.unwrap_or_default();
        if let Some((from, _)) = model_mapping
            .iter()
            .find(|(from, to)| from.trim().is_empty() || to.trim().is_empty())
        {
            return Err(ConfigError::Invalid {
                setting: "models.mapping",
                message: format!("the entry `{from}` maps from or to an empty name"),
            });
        }

        let monitor = MonitorSettings {
            capture_bodies: raw.monitor.capture_bodies.unwrap_or(false),
            capture_max_bytes: raw.monitor.capture_max_bytes.unwrap_or(64 * 1024),
            retention: Duration::from_secs(
                positive(
                    "monitor.retention_days",
                    raw.monitor.retention_days.unwrap_or(7),
                )? * 86_400,
            ),
            retention_max_rows: raw.monitor.retention_max_rows.unwrap_or(100_000).max(1),
            channel_capacity: raw.monitor.channel_capacity.unwrap_or(10_000).max(1),
        };

        Ok(Config {
            data_dir,
            config_file,
            listen,
            explicit_bind,
            allow_lan_access,
            auth_mode,
            auth_mode_auto,
            api_key,
            admin_password,
            request_timeout: Duration::from_secs(request_timeout_secs),
            max_body_bytes,
            shutdown_grace: Duration::from_secs(
                raw.shutdown_grace_secs
                    .unwrap_or(DEFAULT_SHUTDOWN_GRACE_SECS),
            ),
            expose_account_email: raw.expose_account_email.unwrap_or(true),
            log: LogConfig {
                level,
                json: raw.log.json.unwrap_or(false),
            },
            cloudcode,
            oauth,
            model_mapping,
            background_model: raw.models.background_model.filter(|m| !m.trim().is_empty()),
            scheduling,
            quota: QuotaConfig {
                refresh_interval: Some(
                    raw.quota
                        .refresh_interval_secs
                        .unwrap_or(DEFAULT_QUOTA_REFRESH_INTERVAL_SECS),
                )
                .filter(|secs| *secs > 0)
                .map(Duration::from_secs),
            },
            monitor,
            providers,
            runtime,
        })
    }

    /// Whether the listener is reachable from other machines.
    pub fn is_lan_exposed(&self) -> bool {
        !self.listen.ip().is_loopback()
    }
}

fn runtime_config(raw: &raw::RawRuntime) -> Result<RuntimeConfig, ConfigError> {
    let worker_threads = match raw.worker_threads.unwrap_or(1) {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n if n > MAX_WORKER_THREADS => {
            return Err(ConfigError::Invalid {
                setting: "runtime.worker_threads",
                message: format!("{n} is more than {MAX_WORKER_THREADS}"),
            });
        }
        n => n,
    };
    let busy_poll_us = raw.busy_poll_us.unwrap_or(DEFAULT_BUSY_POLL_US);
    if busy_poll_us > MAX_BUSY_POLL_US {
        return Err(ConfigError::Invalid {
            setting: "runtime.busy_poll_us",
            message: format!(
                "{busy_poll_us} µs would spin a core for nothing; give at most {MAX_BUSY_POLL_US} (0 turns it off)"
            ),
        });
    }
    Ok(RuntimeConfig {
        worker_threads,
        busy_poll: Some(Duration::from_micros(busy_poll_us)).filter(|d| !d.is_zero()),
    })
}

/// `auto`: require a key when reachable from the LAN, otherwise not.
fn auto_mode(listen: &SocketAddr) -> AuthMode {
    if listen.ip().is_loopback() {
        AuthMode::Off
    } else {
        AuthMode::AllExceptHealth
    }
}

fn positive(setting: &'static str, value: u64) -> Result<u64, ConfigError> {
    if value == 0 {
        return Err(ConfigError::Invalid {
            setting,
            message: "must be greater than 0".into(),
        });
    }
    Ok(value)
}

fn http_url(setting: &'static str, value: &str) -> Result<(), ConfigError> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(()),
        _ => Err(ConfigError::Invalid {
            setting,
            message: format!("`{value}` is not an http(s) URL"),
        }),
    }
}

/// The rule for client API keys: `sk-` followed by enough characters.
pub fn validate_api_key(key: &str) -> Result<(), ConfigError> {
    if !key.starts_with("sk-") || key.len() < 10 {
        return Err(ConfigError::Invalid {
            setting: "api_key",
            message: format!(
                "it must start with `sk-` and be at least 10 characters long (the configured value has {} characters{})",
                key.chars().count(),
                if key.starts_with("sk-") {
                    ""
                } else {
                    " and does not start with `sk-`"
                }
            ),
        });
    }
    Ok(())
}

/// A secret shown as its first characters only, for logs and listings.
pub fn redact(secret: &SecretString) -> String {
    let s = secret.expose_secret();
    let shown: String = s.chars().take(6).collect();
    format!("{shown}…")
}

#[cfg(test)]
mod tests;
