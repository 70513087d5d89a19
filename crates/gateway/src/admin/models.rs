//! Model mapping in the admin API: list, replace, add or change one entry,
//! remove one, and preview how a name resolves. A change is checked by the
//! configuration's rule, written to `[models.mapping]` in the config file and
//! applied to the running router at once.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::config_file::Edit;
use super::error::{AdminError, Body, Params};
use crate::config::{Config, RawConfig, RawModels};
use crate::router::{ModelRouter, Rule};
use crate::state::AppState;

fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::Exact => "exact",
        Rule::Pattern => "pattern",
        Rule::BuiltIn => "built_in",
        Rule::Passthrough => "passthrough",
    }
}

/// `GET /api/models`: the mapping and the models the gateway serves.
pub async fn overview(State(state): State<AppState>) -> Json<Value> {
    let settings = state.admin().settings().await;
    Json(json!({
        "mapping": settings.mapping,
        "served": state.available_models().to_vec(),
        "background_model": state.config().background_model,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveQuery {
    model: String,
}

/// `GET /api/models/resolve?model=NAME`: what a request for NAME would use.
pub async fn resolve(
    State(state): State<AppState>,
    Params(q): Params<ResolveQuery>,
) -> Json<Value> {
    let resolved = state.resolve_model(&q.model);
    Json(json!({
        "model": q.model,
        "resolved": resolved.model,
        "rule": rule_name(resolved.rule),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    mapping: BTreeMap<String, String>,
}

/// `PUT /api/models/mapping` `{"mapping": {from: to}}`: replace the whole mapping.
pub async fn replace(
    State(state): State<AppState>,
    Body(body): Body<Mapping>,
) -> Result<Json<Value>, AdminError> {
    change(&state, |_| body.mapping).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    to: String,
}

/// `PUT /api/models/mapping/{from}` `{"to"}`: add or change one entry.
pub async fn put_entry(
    State(state): State<AppState>,
    Path(from): Path<String>,
    Body(body): Body<Target>,
) -> Result<Json<Value>, AdminError> {
    change(&state, |mut mapping| {
        mapping.insert(from.trim().to_owned(), body.to.trim().to_owned());
        mapping
    })
    .await
}

/// `DELETE /api/models/mapping/{from}`.
pub async fn delete_entry(
    State(state): State<AppState>,
    Path(from): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let settings = state.admin().settings().await;
    if !settings.mapping.contains_key(&from) {
        return Err(AdminError::not_found(format!("No mapping for `{from}`.")));
    }
    change(&state, |mut mapping| {
        mapping.remove(&from);
        mapping
    })
    .await
}

async fn change(
    state: &AppState,
    f: impl FnOnce(BTreeMap<String, String>) -> BTreeMap<String, String>,
) -> Result<Json<Value>, AdminError> {
    let admin = state.admin();
    let mut settings = admin.settings.lock().await;
    let mapping = f(settings.mapping.clone());
    let raw = RawConfig {
        models: RawModels {
            mapping: Some(mapping.clone()),
            background_model: None,
        },
        ..RawConfig::default()
    };
    Config::from_raw(raw, admin.data_dir.clone(), None)
        .map_err(|e| AdminError::bad_request(e.to_string()))?;
    admin
        .config_file()
        .apply(&[Edit::Mapping(mapping.clone())])
        .await
        .map_err(|e| AdminError::internal(format!("Nothing was changed: {e}")))?;
    state.set_router(ModelRouter::new(&mapping));
    settings.mapping = mapping;
    Ok(Json(json!({
        "mapping": settings.mapping,
        "served": state.available_models().to_vec(),
    })))
}
