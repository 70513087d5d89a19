//! The proxy's status and settings: stop and start, the port and LAN access
//! (the listener moves without a restart), the auth mode and the API key.
//! A change is validated by the same rules as the configuration at start-up,
//! written to the config file, then applied; if applying fails the file is
//! put back. The port can only change while the proxy is stopped (clients
//! would lose it mid-work); LAN access moves the listener on the same port.

use axum::Json;
use axum::extract::State;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};

use super::config_file::Edit;
use super::error::{AdminError, Body};
use super::session::password;
use super::{AdminState, Settings};
use crate::auth::{ClientAuth, generate_api_key};
use crate::config::{ApiKeySetting, Config, RawConfig, redact};
use crate::state::AppState;

/// `GET /api/status`, `GET /api/proxy`.
pub async fn status(State(state): State<AppState>) -> Json<Value> {
    Json(describe(&state, &state.admin().settings().await))
}

fn describe(state: &AppState, settings: &Settings) -> Value {
    let auth = state.auth();
    let listen = state.admin().listener().addr();
    let accounts = state.pool().all();
    let usable = accounts.iter().filter(|a| a.is_usable()).count();
    let config = state.config();
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "running": state.proxy_running(),
        "listen": listen.to_string(),
        "port": listen.port(),
        "allow_lan_access": settings.allow_lan_access,
        "bind": settings.bind.map(|ip| ip.to_string()),
        "lan_exposed": !listen.ip().is_loopback(),
        "auth_mode": auth.mode.as_str(),
        "auth_mode_setting": settings.auth_mode,
        "api_key_set": auth.key().is_some(),
        "api_key_hint": auth.key().map(redact),
        "admin_password": password(state).1.as_str(),
        "config_file": state.admin().config_file().path().display().to_string(),
        "data_dir": state.admin().data_dir.display().to_string(),
        "capture_bodies": config.monitor.capture_bodies,
        "oauth_configured": config.oauth.client_id.is_some(),
        "accounts": { "total": accounts.len(), "usable": usable },
    })
}

/// `POST /api/proxy/stop`: model requests get 503 until started again.
pub async fn stop(State(state): State<AppState>) -> Json<Value> {
    if state.proxy_running() {
        tracing::info!("proxy stopped from the admin API: model requests get 503");
    }
    state.set_proxy_running(false);
    status(State(state)).await
}

/// `POST /api/proxy/start`.
pub async fn start(State(state): State<AppState>) -> Json<Value> {
    if !state.proxy_running() {
        tracing::info!("proxy started from the admin API");
    }
    state.set_proxy_running(true);
    status(State(state)).await
}

/// `GET /api/proxy/api-key`: the whole key, for the UI's show and copy.
pub async fn api_key(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "api_key": state.auth().key().map(|k| k.expose_secret().to_owned()) }))
}

/// `PATCH /api/proxy`: any of these; what is left out stays.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Update {
    port: Option<u16>,
    allow_lan_access: Option<bool>,
    auth_mode: Option<String>,
    /// `""`: no key (only with auth mode `off`).
    api_key: Option<String>,
}

/// `PATCH /api/proxy`.
pub async fn update(
    State(state): State<AppState>,
    Body(update): Body<Update>,
) -> Result<Json<Value>, AdminError> {
    let settings = apply(&state, update).await?;
    Ok(Json(describe(&state, &settings)))
}

/// `POST /api/proxy/api-key`: a fresh key, in force at once (the old one stops
/// working) and saved to the config file.
pub async fn regenerate_key(State(state): State<AppState>) -> Result<Json<Value>, AdminError> {
    let key = generate_api_key();
    apply(
        &state,
        Update {
            api_key: Some(key.clone()),
            ..Update::default()
        },
    )
    .await?;
    tracing::info!("API key regenerated from the admin API");
    Ok(Json(json!({ "api_key": key })))
}

/// Validate, persist, then apply `update`; on failure nothing has changed.
async fn apply(state: &AppState, update: Update) -> Result<Settings, AdminError> {
    let admin: &AdminState = state.admin();
    let mut settings = admin.settings.lock().await;
    let current = admin.listener().addr();
    let port_changes = update.port.is_some_and(|p| p != current.port());
    if port_changes && state.proxy_running() {
        return Err(AdminError::conflict(
            "Stop the proxy before changing the port: clients are using this one.",
        ));
    }
    if update
        .allow_lan_access
        .is_some_and(|on| on != settings.allow_lan_access)
        && let Some(bind) = settings.bind
    {
        return Err(AdminError::conflict(format!(
            "`bind = \"{bind}\"` is configured and overrides LAN access; remove it from the configuration (or UPLINK_BIND / --bind) to switch LAN access here."
        )));
    }

    // The same rules as at start-up: build the settings as a configuration
    // layer and let the configuration validate it.
    let auth = state.auth();
    let key = match &update.api_key {
        Some(key) => key.clone(),
        None => auth
            .key()
            .map(|k| k.expose_secret().to_owned())
            .unwrap_or_default(),
    };
    let next = Settings {
        allow_lan_access: update.allow_lan_access.unwrap_or(settings.allow_lan_access),
        auth_mode: update
            .auth_mode
            .as_deref()
            .map(|m| m.trim().to_ascii_lowercase())
            .unwrap_or_else(|| settings.auth_mode.clone()),
        ..settings.clone()
    };
    let raw = RawConfig {
        port: Some(update.port.unwrap_or(current.port())),
        bind: settings.bind.map(|ip| ip.to_string()),
        allow_lan_access: Some(next.allow_lan_access),
        auth_mode: Some(next.auth_mode.clone()),
        api_key: Some(key),
        ..RawConfig::default()
    };
    let checked = Config::from_raw(raw, admin.data_dir.clone(), None)
        .map_err(|e| AdminError::bad_request(e.to_string()))?;
    let new_key = match checked.api_key {
        ApiKeySetting::Configured(key) => Some(key),
        ApiKeySetting::Disabled | ApiKeySetting::Generate => None,
    };

    let mut edits = Vec::new();
    if let Some(port) = update.port {
        edits.push(Edit::Port(port));
    }
    if let Some(on) = update.allow_lan_access {
        edits.push(Edit::AllowLanAccess(on));
    }
    if update.auth_mode.is_some() {
        edits.push(Edit::AuthMode(next.auth_mode.clone()));
    }
    if let Some(key) = &update.api_key {
        edits.push(Edit::ApiKey(key.clone()));
    }
    let old_file = if edits.is_empty() {
        None
    } else {
        Some(
            admin
                .config_file()
                .apply(&edits)
                .await
                .map_err(|e| AdminError::internal(format!("Nothing was changed: {e}")))?,
        )
    };

    let target = checked.listen;
    if target != current
        && let Err(e) = admin.listener().rebind(target).await
    {
        if let Some(old) = old_file
            && let Err(undo) = admin.config_file().restore(old).await
        {
            tracing::error!("could not put the config file back: {undo}");
        }
        return Err(AdminError::conflict(format!(
            "Nothing was changed: cannot listen on {target}: {e}"
        )));
    }
    state.set_auth(ClientAuth::new(checked.auth_mode, new_key));
    *settings = next;
    if checked.auth_mode == crate::config::AuthMode::Off
        && !admin.listener().addr().ip().is_loopback()
    {
        tracing::warn!(
            "reachable from the network with auth_mode = off: anyone there can use your upstream accounts"
        );
    }
    Ok(settings.clone())
}
