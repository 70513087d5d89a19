//! The raw, layered configuration: what a TOML file, the environment or flags say,
//! before validation. Every field is optional so that layers can be merged.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::ConfigError;

/// One configuration layer. Unknown keys in a file are an error.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub port: Option<u16>,
    pub bind: Option<String>,
    pub allow_lan_access: Option<bool>,
    pub auth_mode: Option<String>,
    pub api_key: Option<String>,
    /// The admin API and web UI password (the client key when unset).
    pub admin_password: Option<String>,
    pub request_timeout_secs: Option<u64>,
    pub max_body_bytes: Option<u64>,
    pub shutdown_grace_secs: Option<u64>,
    pub expose_account_email: Option<bool>,
    #[serde(default)]
    pub log: RawLog,
    #[serde(default)]
    pub cloudcode: RawCloudCode,
    #[serde(default)]
    pub oauth: RawOAuth,
    #[serde(default)]
    pub models: RawModels,
    #[serde(default)]
    pub scheduling: RawScheduling,
    #[serde(default)]
    pub monitor: RawMonitor,
    /// `[[providers]]`; later layers replace the whole list.
    pub providers: Option<Vec<super::providers::RawProvider>>,
    #[serde(default)]
    pub quota: RawQuota,
    #[serde(default)]
    pub runtime: RawRuntime,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawRuntime {
    /// Threads that serve connections; 0 means one per CPU core.
    pub worker_threads: Option<usize>,
    /// Microseconds to keep polling for the next event after a request starts
    /// or ends, instead of sleeping; 0 disables it.
    pub busy_poll_us: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawQuota {
    /// Seconds between quota refreshes while serving; 0 disables them.
    pub refresh_interval_secs: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawModels {
    /// Requested name (or `*` pattern) → upstream model.
    pub mapping: Option<std::collections::BTreeMap<String, String>>,
    /// Where Claude Code's background housekeeping requests go (off when unset).
    pub background_model: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawMonitor {
    pub capture_bodies: Option<bool>,
    pub capture_max_bytes: Option<usize>,
    pub retention_days: Option<u64>,
    pub retention_max_rows: Option<i64>,
    pub channel_capacity: Option<usize>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawScheduling {
    pub mode: Option<String>,
    pub preferred_account: Option<String>,
    pub max_attempts: Option<usize>,
    pub retry_budget_secs: Option<u64>,
    pub max_wait_secs: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawCloudCode {
    pub endpoints: Option<Vec<String>>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawOAuth {
    pub token_url: Option<String>,
    pub auth_url: Option<String>,
    pub userinfo_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub level: Option<String>,
    pub json: Option<bool>,
}

/// Later layers win, field by field.
fn overlay<T: Clone>(base: &mut Option<T>, later: &Option<T>) {
    if later.is_some() {
        base.clone_from(later);
    }
}

impl RawConfig {
    /// Apply `later` on top of `self`.
    pub fn merge(&mut self, later: &RawConfig) {
        overlay(&mut self.port, &later.port);
        overlay(&mut self.bind, &later.bind);
        overlay(&mut self.allow_lan_access, &later.allow_lan_access);
        overlay(&mut self.auth_mode, &later.auth_mode);
        overlay(&mut self.api_key, &later.api_key);
        overlay(&mut self.admin_password, &later.admin_password);
        overlay(&mut self.request_timeout_secs, &later.request_timeout_secs);
        overlay(&mut self.max_body_bytes, &later.max_body_bytes);
        overlay(&mut self.shutdown_grace_secs, &later.shutdown_grace_secs);
        overlay(&mut self.expose_account_email, &later.expose_account_email);
        overlay(&mut self.log.level, &later.log.level);
        overlay(&mut self.log.json, &later.log.json);
        overlay(&mut self.cloudcode.endpoints, &later.cloudcode.endpoints);
        overlay(&mut self.cloudcode.user_agent, &later.cloudcode.user_agent);
        overlay(&mut self.oauth.token_url, &later.oauth.token_url);
        overlay(&mut self.oauth.auth_url, &later.oauth.auth_url);
        overlay(&mut self.oauth.userinfo_url, &later.oauth.userinfo_url);
        overlay(&mut self.oauth.client_id, &later.oauth.client_id);
        overlay(&mut self.oauth.client_secret, &later.oauth.client_secret);
        overlay(&mut self.models.mapping, &later.models.mapping);
        overlay(&mut self.providers, &later.providers);
        overlay(
            &mut self.models.background_model,
            &later.models.background_model,
        );
        overlay(
            &mut self.monitor.capture_bodies,
            &later.monitor.capture_bodies,
        );
        overlay(
            &mut self.monitor.capture_max_bytes,
            &later.monitor.capture_max_bytes,
        );
        overlay(
            &mut self.monitor.retention_days,
            &later.monitor.retention_days,
        );
        overlay(
            &mut self.monitor.retention_max_rows,
            &later.monitor.retention_max_rows,
        );
        overlay(
            &mut self.monitor.channel_capacity,
            &later.monitor.channel_capacity,
        );
        overlay(&mut self.scheduling.mode, &later.scheduling.mode);
        overlay(
            &mut self.scheduling.preferred_account,
            &later.scheduling.preferred_account,
        );
        overlay(
            &mut self.scheduling.max_attempts,
            &later.scheduling.max_attempts,
        );
        overlay(
            &mut self.scheduling.retry_budget_secs,
            &later.scheduling.retry_budget_secs,
        );
        overlay(
            &mut self.scheduling.max_wait_secs,
            &later.scheduling.max_wait_secs,
        );
        overlay(
            &mut self.quota.refresh_interval_secs,
            &later.quota.refresh_interval_secs,
        );
        overlay(
            &mut self.runtime.worker_threads,
            &later.runtime.worker_threads,
        );
        overlay(&mut self.runtime.busy_poll_us, &later.runtime.busy_poll_us);
    }

    /// Parse a TOML file's text. Errors name the file and the offending key.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::File {
            path: path.to_path_buf(),
            message: e.message().to_string(),
            line: e.span().map(|span| line_of(text, span.start)),
        })
    }

    /// The `UPLINK_*` environment layer. Values that do not parse are errors that
    /// name the variable.
    pub fn from_env(env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &str| env.get(name).map(String::as_str);
        Ok(RawConfig {
            port: parse_env(env, "UPLINK_PORT")?,
            bind: get("UPLINK_BIND").map(str::to_owned),
            allow_lan_access: parse_env_bool(env, "UPLINK_ALLOW_LAN_ACCESS")?,
            auth_mode: get("UPLINK_AUTH_MODE").map(str::to_owned),
            api_key: get("UPLINK_API_KEY").map(str::to_owned),
            admin_password: get("UPLINK_ADMIN_PASSWORD").map(str::to_owned),
            request_timeout_secs: parse_env(env, "UPLINK_REQUEST_TIMEOUT_SECS")?,
            max_body_bytes: parse_env(env, "UPLINK_MAX_BODY_BYTES")?,
            shutdown_grace_secs: parse_env(env, "UPLINK_SHUTDOWN_GRACE_SECS")?,
            expose_account_email: parse_env_bool(env, "UPLINK_EXPOSE_ACCOUNT_EMAIL")?,
            log: RawLog {
                level: get("UPLINK_LOG_LEVEL").map(str::to_owned),
                json: parse_env_bool(env, "UPLINK_LOG_JSON")?,
            },
            cloudcode: RawCloudCode {
                endpoints: get("UPLINK_CLOUDCODE_ENDPOINTS").map(|list| {
                    list.split(',')
                        .map(str::trim)
                        .filter(|e| !e.is_empty())
                        .map(str::to_owned)
                        .collect()
                }),
                user_agent: get("UPLINK_CLOUDCODE_USER_AGENT").map(str::to_owned),
            },
            oauth: RawOAuth {
                token_url: get("UPLINK_OAUTH_TOKEN_URL").map(str::to_owned),
                auth_url: get("UPLINK_OAUTH_AUTH_URL").map(str::to_owned),
                userinfo_url: get("UPLINK_OAUTH_USERINFO_URL").map(str::to_owned),
                client_id: get("UPLINK_OAUTH_CLIENT_ID").map(str::to_owned),
                client_secret: get("UPLINK_OAUTH_CLIENT_SECRET").map(str::to_owned),
            },
            providers: None,
            models: RawModels {
                mapping: None,
                background_model: get("UPLINK_BACKGROUND_MODEL").map(str::to_owned),
            },
            monitor: RawMonitor {
                capture_bodies: parse_env_bool(env, "UPLINK_MONITOR_CAPTURE_BODIES")?,
                capture_max_bytes: parse_env(env, "UPLINK_MONITOR_CAPTURE_MAX_BYTES")?,
                retention_days: parse_env(env, "UPLINK_MONITOR_RETENTION_DAYS")?,
                retention_max_rows: parse_env(env, "UPLINK_MONITOR_RETENTION_MAX_ROWS")?,
                channel_capacity: None,
            },
            scheduling: RawScheduling {
                mode: get("UPLINK_SCHEDULING_MODE").map(str::to_owned),
                preferred_account: get("UPLINK_SCHEDULING_PREFERRED_ACCOUNT").map(str::to_owned),
                max_attempts: parse_env(env, "UPLINK_MAX_ATTEMPTS")?,
                retry_budget_secs: parse_env(env, "UPLINK_RETRY_BUDGET_SECS")?,
                max_wait_secs: parse_env(env, "UPLINK_MAX_WAIT_SECS")?,
            },
            quota: RawQuota {
                refresh_interval_secs: parse_env(env, "UPLINK_QUOTA_REFRESH_INTERVAL_SECS")?,
            },
            runtime: RawRuntime {
                worker_threads: parse_env(env, "UPLINK_WORKER_THREADS")?,
                busy_poll_us: parse_env(env, "UPLINK_BUSY_POLL_US")?,
            },
        })
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |prefix| prefix.matches('\n').count())
        + 1
}

fn parse_env<T: std::str::FromStr>(
    env: &HashMap<String, String>,
    name: &'static str,
) -> Result<Option<T>, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match env.get(name) {
        None => Ok(None),
        Some(value) => value
            .trim()
            .parse()
            .map(Some)
            .map_err(|e: T::Err| ConfigError::Invalid {
                setting: name,
                message: format!("`{value}` is not valid: {e}"),
            }),
    }
}

fn parse_env_bool(
    env: &HashMap<String, String>,
    name: &'static str,
) -> Result<Option<bool>, ConfigError> {
    match env.get(name).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(None),
        Some(v) => match v.as_str() {
            "1" | "true" | "yes" | "on" => Ok(Some(true)),
            "0" | "false" | "no" | "off" | "" => Ok(Some(false)),
            _ => Err(ConfigError::Invalid {
                setting: name,
                message: format!("`{v}` is not a boolean (use true or false)"),
            }),
        },
    }
}
