//! The HTTP control API under `/__fake/...` (JSON), mirroring the in-process scripting API for
//! external harnesses driving the `fake-upstream` binary. Control calls are not recorded.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::config::{AccountSpec, ApiKeySpec, AuthCode, Family, ModelSpec, Provider, QuotaSpec};
use crate::record::RequestFilter;
use crate::script::Behavior;
use crate::state::{Shared, normalize_prefix};

/// Routes, to be nested at `/__fake`.
pub(crate) fn router() -> Router<Shared> {
    Router::new()
        .route("/health", get(|| async { axum::Json(json!({"ok": true})) }))
        .route("/accounts", post(add_account).get(list_accounts))
        .route("/revoke", post(revoke))
        .route("/auth_codes", post(auth_code))
        .route("/quota", post(quota))
        .route("/onboarding", post(onboarding))
        .route("/script", post(script))
        .route("/default_behavior", post(default_behavior))
        .route("/prefix", post(prefix))
        .route("/expire_tokens", post(expire_tokens))
        .route("/token_ttl", post(token_ttl))
        .route("/models", post(set_models).get(get_models))
        .route("/requests", get(requests).delete(clear_requests))
        .route("/signatures", post(signature))
        .route("/api_keys", post(add_api_key).get(list_api_keys))
        .route("/api_keys/revoke", post(revoke_api_key))
        .route("/provider_models", post(provider_models))
        .route("/reset", post(reset))
}

fn ok(v: Value) -> Response {
    axum::Json(v).into_response()
}

fn bad(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": msg.into()}))).into_response()
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| Box::new(bad(StatusCode::BAD_REQUEST, e.to_string())))
}

fn no_account(email: &str) -> Response {
    bad(StatusCode::NOT_FOUND, format!("unknown account {email}"))
}

async fn add_account(State(s): State<Shared>, body: Bytes) -> Response {
    let spec: AccountSpec = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if spec.email.is_empty() || spec.refresh_token.is_empty() {
        return bad(
            StatusCode::BAD_REQUEST,
            "email and refresh_token are required",
        );
    }
    let email = spec.email.clone();
    s.lock().add_account(spec);
    ok(json!({"ok": true, "email": email}))
}

async fn list_accounts(State(s): State<Shared>) -> Response {
    let inner = s.lock();
    let list: Vec<Value> = inner
        .accounts
        .iter()
        .map(|a| {
            json!({
                "email": a.spec.email,
                "refresh_token": a.spec.refresh_token,
                "project": a.project,
                "revoked": a.revoked,
            })
        })
        .collect();
    ok(Value::Array(list))
}

#[derive(Deserialize)]
struct EmailBody {
    email: String,
    #[serde(default = "yes")]
    revoked: bool,
}

fn yes() -> bool {
    true
}

async fn revoke(State(s): State<Shared>, body: Bytes) -> Response {
    let b: EmailBody = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let mut inner = s.lock();
    let Some(a) = inner.account_mut(&b.email) else {
        return no_account(&b.email);
    };
    a.revoked = b.revoked;
    if b.revoked {
        inner.invalidate_tokens_of(&b.email);
    }
    ok(json!({"ok": true}))
}

async fn auth_code(State(s): State<Shared>, body: Bytes) -> Response {
    let code: AuthCode = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if code.code.is_empty() {
        return bad(StatusCode::BAD_REQUEST, "code is required");
    }
    crate::register_code(&mut s.lock(), code);
    ok(json!({"ok": true}))
}

#[derive(Deserialize)]
struct QuotaBody {
    email: String,
    model: String,
    remaining_fraction: f64,
    #[serde(default)]
    reset_time: Option<String>,
}

async fn quota(State(s): State<Shared>, body: Bytes) -> Response {
    let b: QuotaBody = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let mut inner = s.lock();
    let Some(a) = inner.account_mut(&b.email) else {
        return no_account(&b.email);
    };
    a.spec.quotas.insert(
        b.model,
        QuotaSpec {
            remaining_fraction: b.remaining_fraction,
            reset_time: b.reset_time,
        },
    );
    ok(json!({"ok": true}))
}

#[derive(Deserialize)]
struct OnboardingBody {
    email: String,
    #[serde(default)]
    polls: Option<u32>,
    #[serde(default)]
    project: Option<String>,
}

async fn onboarding(State(s): State<Shared>, body: Bytes) -> Response {
    let b: OnboardingBody = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let mut inner = s.lock();
    let Some(a) = inner.account_mut(&b.email) else {
        return no_account(&b.email);
    };
    if b.polls.is_some() {
        a.spec.onboarding_polls = b.polls;
    }
    if b.project.is_some() {
        a.spec.onboard_project = b.project;
    }
    ok(json!({"ok": true}))
}

#[derive(Deserialize)]
struct ScriptBody {
    #[serde(alias = "account", alias = "label", alias = "key")]
    email: String,
    #[serde(default)]
    model: Option<String>,
    behaviors: Vec<Behavior>,
}

async fn script(State(s): State<Shared>, body: Bytes) -> Response {
    let b: ScriptBody = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    s.lock().enqueue(&b.email, b.model.as_deref(), b.behaviors);
    ok(json!({"ok": true}))
}

#[derive(Deserialize)]
struct DefaultBody {
    #[serde(alias = "account", alias = "label", alias = "key")]
    email: String,
    behavior: Option<Behavior>,
}

async fn default_behavior(State(s): State<Shared>, body: Bytes) -> Response {
    let b: DefaultBody = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    s.lock().set_default(&b.email, b.behavior);
    ok(json!({"ok": true}))
}

#[derive(Deserialize)]
struct PrefixBody {
    prefix: String,
    #[serde(default)]
    behaviors: Vec<Behavior>,
    /// `Some(null)` clears the persistent failure; absent leaves it.
    #[serde(default, with = "double_option")]
    default: Option<Option<Behavior>>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

async fn prefix(State(s): State<Shared>, body: Bytes) -> Response {
    let b: PrefixBody = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let p = normalize_prefix(&b.prefix);
    let mut inner = s.lock();
    inner
        .prefix_queues
        .entry(p.clone())
        .or_default()
        .extend(b.behaviors);
    match b.default {
        Some(Some(beh)) => {
            inner.prefix_defaults.insert(p, beh);
        }
        Some(None) => {
            inner.prefix_defaults.remove(&p);
        }
        None => {}
    }
    ok(json!({"ok": true}))
}

#[derive(Deserialize)]
struct ExpireBody {
    email: String,
}

async fn expire_tokens(State(s): State<Shared>, body: Bytes) -> Response {
    let b: ExpireBody = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    s.lock().invalidate_tokens_of(&b.email);
    ok(json!({"ok": true}))
}

#[derive(Deserialize)]
struct TtlBody {
    secs: u64,
}

async fn token_ttl(State(s): State<Shared>, body: Bytes) -> Response {
    let b: TtlBody = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    s.lock().token_ttl = std::time::Duration::from_secs(b.secs);
    ok(json!({"ok": true}))
}

async fn set_models(State(s): State<Shared>, body: Bytes) -> Response {
    let models: Vec<ModelSpec> = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    s.lock().models = models;
    ok(json!({"ok": true}))
}

async fn get_models(State(s): State<Shared>) -> Response {
    ok(serde_json::to_value(&s.lock().models).unwrap_or(Value::Null))
}

async fn requests(State(s): State<Shared>, Query(filter): Query<RequestFilter>) -> Response {
    let inner = s.lock();
    let list: Vec<&crate::RecordedRequest> =
        inner.log.iter().filter(|r| filter.matches(r)).collect();
    ok(serde_json::to_value(list).unwrap_or(Value::Null))
}

async fn clear_requests(State(s): State<Shared>) -> Response {
    s.lock().log.clear();
    ok(json!({"ok": true}))
}

#[derive(Deserialize)]
struct SignatureBody {
    #[serde(default)]
    family: Option<Family>,
    #[serde(default)]
    provider: Option<Provider>,
}

async fn signature(State(s): State<Shared>, body: Bytes) -> Response {
    let b: SignatureBody = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let mut inner = s.lock();
    let sig = match (b.family, b.provider) {
        (Some(f), None) => inner.signatures.issue(f),
        (None, Some(p)) => inner.signatures.issue_for_provider(p),
        _ => {
            return bad(
                StatusCode::BAD_REQUEST,
                "give exactly one of family, provider",
            );
        }
    };
    ok(json!({"signature": sig}))
}

async fn add_api_key(State(s): State<Shared>, body: Bytes) -> Response {
    let spec: ApiKeySpec = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if spec.key.is_empty() {
        return bad(StatusCode::BAD_REQUEST, "key is required");
    }
    let label = spec.name().to_string();
    s.lock().add_api_key(spec);
    ok(json!({"ok": true, "label": label}))
}

async fn list_api_keys(State(s): State<Shared>) -> Response {
    let inner = s.lock();
    let list: Vec<Value> = inner
        .api_keys
        .iter()
        .map(|k| {
            json!({
                "provider": k.spec.provider,
                "key": k.spec.key,
                "label": k.spec.label,
                "revoked": k.revoked,
            })
        })
        .collect();
    ok(Value::Array(list))
}

#[derive(Deserialize)]
struct RevokeKeyBody {
    #[serde(alias = "label")]
    key: String,
    #[serde(default = "yes")]
    revoked: bool,
}

async fn revoke_api_key(State(s): State<Shared>, body: Bytes) -> Response {
    let b: RevokeKeyBody = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if s.lock().set_key_revoked(&b.key, b.revoked) {
        ok(json!({"ok": true}))
    } else {
        bad(StatusCode::NOT_FOUND, format!("unknown api key {}", b.key))
    }
}

#[derive(Deserialize)]
struct ProviderModelsBody {
    provider: Provider,
    #[serde(default)]
    models: Option<Vec<String>>,
}

async fn provider_models(State(s): State<Shared>, body: Bytes) -> Response {
    let b: ProviderModelsBody = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let mut inner = s.lock();
    match b.models {
        Some(m) => inner.provider_models.insert(b.provider, m),
        None => inner.provider_models.remove(&b.provider),
    };
    ok(json!({"ok": true}))
}

async fn reset(State(s): State<Shared>) -> Response {
    s.lock().reset();
    ok(json!({"ok": true}))
}
