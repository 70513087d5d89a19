//! The admin API (`/api/…`, JSON, behind the admin password) and the web UI
//! served from the binary (`/ui`): proxy status, stop/start, port, LAN access,
//! auth mode and key; accounts; model mapping; the request log, its live feed
//! and usage statistics. Changes apply to the running gateway and are written
//! back to the config file.

mod accounts;
pub mod config_file;
pub mod error;
mod models;
mod oauth;
mod proxy;
mod requests;
pub mod session;
mod ui;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use axum::Router;
use axum::routing::{get, post, put};
use http::{HeaderMap, Method};
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

pub use error::AdminError;

use crate::config::Config;
use crate::server::listener::ListenerControl;
use crate::state::AppState;
use config_file::ConfigFile;

/// Where the web UI lives.
pub const UI_PATH: &str = "/ui";

/// Paths the client API key does not guard: the admin API and the UI check
/// the admin password themselves.
pub fn is_admin_path(path: &str) -> bool {
    ["/api", UI_PATH].iter().any(|p| {
        path == *p
            || path
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// A browser opening the gateway's address (`GET /` asking for HTML): sent to
/// the UI. `HEAD /` and API clients probing `/` still get JSON.
pub fn is_browser_visit(method: &Method, path: &str, headers: &HeaderMap) -> bool {
    method == Method::GET
        && path == "/"
        && headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

/// The settings the admin API changes, as the user set them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub allow_lan_access: bool,
    /// An explicit `bind` address, which overrides `allow_lan_access`.
    pub bind: Option<IpAddr>,
    /// `auto`, `off`, `strict` or `all_except_health`.
    pub auth_mode: String,
    pub mapping: BTreeMap<String, String>,
}

impl Settings {
    fn from_config(config: &Config) -> Self {
        Self {
            allow_lan_access: config.allow_lan_access,
            bind: config.explicit_bind,
            auth_mode: if config.auth_mode_auto {
                "auto".to_owned()
            } else {
                config.auth_mode.as_str().to_owned()
            },
            mapping: config.model_mapping.clone(),
        }
    }
}

/// The admin API's share of the gateway state.
#[derive(Debug)]
pub struct AdminState {
    listener: ListenerControl,
    sessions: session::Sessions,
    logins: oauth::Logins,
    /// Held while a change is validated, written and applied, so changes never
    /// interleave.
    settings: tokio::sync::Mutex<Settings>,
    file: ConfigFile,
    password: Option<SecretString>,
    feeds_stop: CancellationToken,
    data_dir: PathBuf,
}

impl AdminState {
    pub fn new(config: &Config) -> Self {
        let file = config
            .config_file
            .clone()
            .unwrap_or_else(|| config.data_dir.join("config.toml"));
        Self {
            listener: ListenerControl::new(config.listen),
            sessions: session::Sessions::default(),
            logins: oauth::Logins::default(),
            settings: tokio::sync::Mutex::new(Settings::from_config(config)),
            file: ConfigFile::new(file),
            password: config.admin_password.clone(),
            feeds_stop: CancellationToken::new(),
            data_dir: config.data_dir.clone(),
        }
    }

    /// The listener the server accepts on, and how to move it.
    pub fn listener(&self) -> &ListenerControl {
        &self.listener
    }

    /// Cancelled when shutdown starts: live feeds end then.
    pub fn feeds_stop(&self) -> &CancellationToken {
        &self.feeds_stop
    }

    /// The configured admin password (`None`: the API key is it).
    pub fn password(&self) -> Option<&SecretString> {
        self.password.as_ref()
    }

    pub fn sessions(&self) -> &session::Sessions {
        &self.sessions
    }

    /// The config file changes are written to.
    pub fn config_file(&self) -> &ConfigFile {
        &self.file
    }

    /// The settings as changed so far.
    pub async fn settings(&self) -> Settings {
        self.settings.lock().await.clone()
    }
}

/// The admin API and the UI. Log-in and the OAuth callback are open; the rest
/// needs the admin password.
pub fn router(state: AppState) -> Router<AppState> {
    let guarded = Router::new()
        .route("/api/logout", post(session::logout))
        .route("/api/status", get(proxy::status))
        .route("/api/proxy", get(proxy::status).patch(proxy::update))
        .route("/api/proxy/start", post(proxy::start))
        .route("/api/proxy/stop", post(proxy::stop))
        .route(
            "/api/proxy/api-key",
            get(proxy::api_key).post(proxy::regenerate_key),
        )
        .route("/api/accounts", get(accounts::list))
        .route("/api/accounts/import", post(accounts::import))
        .route("/api/accounts/oauth", post(oauth::start))
        .route("/api/accounts/oauth/{state}", get(oauth::status))
        .route(
            "/api/accounts/oauth/{state}/complete",
            post(oauth::complete_pasted),
        )
        .route(
            "/api/accounts/{id}",
            axum::routing::delete(accounts::remove),
        )
        .route("/api/accounts/{id}/enable", post(accounts::enable))
        .route("/api/accounts/{id}/disable", post(accounts::disable))
        .route("/api/accounts/{id}/refresh", post(accounts::refresh))
        .route("/api/models", get(models::overview))
        .route("/api/models/resolve", get(models::resolve))
        .route("/api/models/mapping", put(models::replace))
        .route(
            "/api/models/mapping/{from}",
            put(models::put_entry).delete(models::delete_entry),
        )
        .route("/api/requests", get(requests::list))
        .route("/api/requests/live", get(requests::live))
        .route("/api/requests/{id}", get(requests::one))
        .route("/api/usage", get(requests::usage))
        .route("/api", get(api_index))
        .route("/api/{*rest}", axum::routing::any(unknown))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            session::require_admin,
        ));
    Router::new()
        .route("/api/login", post(session::login))
        .route("/api/oauth/callback", get(oauth::callback))
        .merge(guarded)
        .merge(ui::router())
}

async fn api_index() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({
        "name": "uplink admin API",
        "version": env!("CARGO_PKG_VERSION"),
        "ui": UI_PATH,
    }))
}

async fn unknown(method: Method, uri: http::Uri) -> AdminError {
    AdminError::not_found(format!("No admin endpoint {method} {}", uri.path()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_paths_are_the_api_and_the_ui_only() {
        for path in [
            "/api",
            "/api/status",
            "/api/oauth/callback",
            "/ui",
            "/ui/app.js",
        ] {
            assert!(is_admin_path(path), "{path}");
        }
        for path in [
            "/",
            "/apix",
            "/v1/api/event_logging",
            "/uix",
            "/v1/models",
            "/healthz",
        ] {
            assert!(!is_admin_path(path), "{path}");
        }
    }

    #[test]
    fn only_a_browser_page_load_of_the_root_is_a_visit() {
        let mut html = HeaderMap::new();
        html.insert(
            http::header::ACCEPT,
            "text/html,application/xhtml+xml,*/*;q=0.8".parse().unwrap(),
        );
        let mut any = HeaderMap::new();
        any.insert(http::header::ACCEPT, "*/*".parse().unwrap());
        assert!(is_browser_visit(&Method::GET, "/", &html));
        assert!(!is_browser_visit(&Method::HEAD, "/", &html));
        assert!(!is_browser_visit(&Method::GET, "/", &any));
        assert!(!is_browser_visit(&Method::GET, "/", &HeaderMap::new()));
        assert!(!is_browser_visit(&Method::GET, "/v1/models", &html));
    }
}
