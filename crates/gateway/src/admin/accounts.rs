//! Accounts in the admin API: the list with quota (the pool's `QuotaBook`) and
//! cooldowns, import in the CLI's formats, enable, disable, refresh, remove.
//! Every change is stored, then the running pool reloads.

use std::collections::{BTreeSet, HashSet};
use std::time::SystemTime;

use axum::Json;
use axum::extract::{Path, State};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{AdminError, Body, parse_id};
use crate::auth::login::LoginError;
use crate::cli::accounts::{fill_emails, import};
use crate::pool::quota::{QuotaSnapshot, format_rfc3339, refresh_account};
use crate::state::AppState;
use crate::storage::{AccountRecord, AccountStatus};

/// `GET /api/accounts`.
pub async fn list(State(state): State<AppState>) -> Result<Json<Value>, AdminError> {
    let records = state.storage().accounts().await?;
    let accounts: Vec<Value> = records.iter().map(|r| describe(&state, r)).collect();
    Ok(Json(json!({
        "accounts": accounts,
        "oauth_configured": state.config().oauth.client_id.is_some(),
    })))
}

fn secs(d: std::time::Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// One account as the UI shows it: stored facts, live health, last quota.
fn describe(state: &AppState, record: &AccountRecord) -> Value {
    let live = state
        .pool()
        .all()
        .iter()
        .find(|a| a.id == record.id)
        .cloned();
    let snapshot = state.pool().quota().snapshot(record.id);
    let now = SystemTime::now();
    let (status, reason) = live
        .as_ref()
        .map(|a| a.status())
        .unwrap_or((record.status, record.status_reason.clone()));
    let empty = QuotaSnapshot::new();
    let quota = snapshot.as_deref().unwrap_or(&empty);
    let mut names: BTreeSet<&str> = quota.keys().map(String::as_str).collect();
    if let Some(account) = &live {
        names.extend(
            crate::models::CATALOG
                .iter()
                .map(|m| m.id)
                .filter(|m| account.cooldown_left(m).is_some()),
        );
    }
    let account_cooldown = live.as_ref().and_then(|a| a.cooldown_left("*"));
    let models: Vec<Value> = names
        .into_iter()
        .map(|model| {
            let q = quota.get(model);
            let cooldown = live
                .as_ref()
                .and_then(|a| a.cooldown_left(model))
                .filter(|left| account_cooldown.is_none_or(|all| *left > all));
            json!({
                "model": model,
                "remaining_fraction": q.and_then(|q| q.remaining_fraction),
                "reset_time": q.and_then(|q| q.reset_time.clone()),
                "resets_in_secs": q
                    .and_then(|q| q.reset_at())
                    .and_then(|at| at.duration_since(now).ok())
                    .map(secs),
                "exhausted": q.is_some_and(|q| q.exhausted_for(now).is_some()),
                "cooldown_secs": cooldown.map(secs),
            })
        })
        .collect();
    let fetched = quota
        .values()
        .filter_map(|q| q.fetched_at)
        .max()
        .and_then(|s| u64::try_from(s).ok())
        .map(|s| format_rfc3339(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(s)));
    json!({
        "id": record.id,
        "email": record.email,
        "project_id": record.project_id,
        "status": status.as_str(),
        "status_reason": reason,
        "validation_url": record.validation_url,
        "usable": status == AccountStatus::Active,
        "cooldown_secs": account_cooldown.map(secs),
        "quota_fetched_at": fetched,
        "models": models,
    })
}

async fn reload(state: &AppState) -> Result<(), AdminError> {
    state.pool().reload(state.storage()).await?;
    let live: HashSet<i64> = state.pool().all().iter().map(|a| a.id).collect();
    state.pool().quota().retain(|id| live.contains(&id));
    Ok(())
}

async fn find(state: &AppState, id: &str) -> Result<AccountRecord, AdminError> {
    let id = parse_id(id, "account")?;
    state
        .storage()
        .find_account(&id.to_string())
        .await?
        .ok_or_else(|| AdminError::not_found(format!("No account #{id}.")))
}

async fn one(state: &AppState, id: i64) -> Result<Json<Value>, AdminError> {
    let record = state
        .storage()
        .find_account(&id.to_string())
        .await?
        .ok_or_else(|| AdminError::not_found(format!("No account #{id}.")))?;
    Ok(Json(json!({ "account": describe(state, &record) })))
}

/// `POST /api/accounts/{id}/enable`.
pub async fn enable(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let record = find(&state, &id).await?;
    state
        .storage()
        .set_account_status(record.id, AccountStatus::Active, None, None)
        .await?;
    reload(&state).await?;
    one(&state, record.id).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disable {
    reason: Option<String>,
}

/// `POST /api/accounts/{id}/disable` `{"reason"?}`.
pub async fn disable(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<Disable>,
) -> Result<Json<Value>, AdminError> {
    let record = find(&state, &id).await?;
    let reason = body
        .reason
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| "disabled by the user".to_owned());
    state
        .storage()
        .set_account_status(record.id, AccountStatus::Disabled, Some(&reason), None)
        .await?;
    reload(&state).await?;
    one(&state, record.id).await
}

/// `DELETE /api/accounts/{id}`.
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let record = find(&state, &id).await?;
    state.storage().remove_account(record.id).await?;
    reload(&state).await?;
    Ok(Json(json!({ "removed": record.id })))
}

/// `POST /api/accounts/{id}/refresh`: token, project and quota now.
pub async fn refresh(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    if state.config().oauth.client_id.is_none() {
        return Err(AdminError::bad_request(LoginError::NoClient.to_string()));
    }
    let record = find(&state, &id).await?;
    let account = state
        .pool()
        .all()
        .iter()
        .find(|a| a.id == record.id)
        .cloned()
        .ok_or_else(|| AdminError::not_found(format!("No account #{}.", record.id)))?;
    refresh_account(state.pool(), &account, state.upstreams(), state.storage())
        .await
        .map_err(|e| {
            AdminError::bad_gateway(format!("Refreshing {} failed: {e}", account.label()))
        })?;
    // A refresh may have learnt the email.
    reload(&state).await?;
    one(&state, record.id).await
}

/// One input to import: a file's name and text.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportFile {
    #[serde(default)]
    name: Option<String>,
    text: String,
}

/// `POST /api/accounts/import`: `{"text", "name"?}` or `{"files": [{"name", "text"}]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Import {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    files: Vec<ImportFile>,
}

/// `POST /api/accounts/import`. Every input is read before anything is
/// stored: one bad entry imports nothing.
pub async fn import(
    State(state): State<AppState>,
    Body(body): Body<Import>,
) -> Result<Json<Value>, AdminError> {
    let mut files = body.files;
    if let Some(text) = body.text {
        files.push(ImportFile {
            name: body.name,
            text,
        });
    }
    if files.is_empty() {
        return Err(AdminError::bad_request(
            "Nothing to import: give `text` (and a `name`) or `files`.",
        ));
    }
    let mut entries = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let name = file
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| format!("input {}", i + 1));
        entries.extend(
            import::parse(&name, &file.text).map_err(|e| AdminError::bad_request(e.to_string()))?,
        );
    }
    let storage = state.storage();
    let before = storage.accounts().await?;
    for entry in entries.iter_mut().filter(|e| e.account.email.is_none()) {
        entry.account.email = before
            .iter()
            .find(|a| a.refresh_token.expose_secret() == entry.account.refresh_token.as_str())
            .and_then(|a| a.email.clone());
    }
    let mut warnings = Vec::new();
    if state.config().oauth.client_id.is_some() {
        warnings = fill_emails(state.upstreams(), &mut entries).await;
    } else if entries.iter().any(|e| e.account.email.is_none()) {
        warnings.push("oauth.client_id is not configured, so accounts without an email are imported without one".to_owned());
    }
    let mut added = HashSet::new();
    let mut report = Vec::new();
    for entry in &entries {
        let id = storage.upsert_account(&entry.account).await?;
        let old = before.iter().find(|a| a.id == id);
        let new = old.is_none() && added.insert(id);
        let mut what = if new { "added" } else { "updated" }.to_owned();
        if let Some(reason) = &entry.disabled {
            storage
                .set_account_status(id, AccountStatus::Disabled, Some(reason), None)
                .await?;
            what.push_str(&format!(", disabled ({reason})"));
        } else if old.is_some_and(|o| {
            o.refresh_token.expose_secret() != entry.account.refresh_token.as_str()
        }) && storage.reactivate_if_revoked(id).await?
        {
            what.push_str(", active again with the new token");
        }
        report.push(json!({
            "id": id,
            "origin": entry.origin,
            "email": entry.account.email,
            "result": what,
        }));
    }
    reload(&state).await?;
    tracing::info!("{} account(s) imported from the admin API", entries.len());
    Ok(Json(json!({
        "imported": entries.len(),
        "added": added.len(),
        "updated": entries.len() - added.len(),
        "accounts": report,
        "warnings": warnings,
    })))
}
