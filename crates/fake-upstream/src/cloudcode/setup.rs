//! Account setup and metadata methods: `loadCodeAssist`, `onboardUser` (a long-running
//! operation polled by calling it again), `fetchAvailableModels` (per-account quotas) and
//! `countTokens`.

use serde_json::{Value, json};

use crate::config::Family;
use crate::errors::{self, GoogleError};
use crate::respond::{contents_text, estimate_tokens};
use crate::state::Inner;
use crate::validate::descriptors::{COUNT_ENVELOPE, FETCH_MODELS, LOAD_CODE_ASSIST, ONBOARD_USER};
use crate::validate::{field, items, proto, rules};

const KNOWN_TIERS: [&str; 3] = ["free-tier", "standard-tier", "legacy-tier"];

fn tier(id: &str, is_default: bool) -> Value {
    let (name, description) = match id {
        "free-tier" => (
            "Gemini Code Assist for individuals",
            "Gemini Code Assist for individuals, at no cost",
        ),
        "legacy-tier" => ("Gemini Code Assist", "Legacy Gemini Code Assist tier"),
        _ => (
            "Gemini Code Assist",
            "Unlimited coding assistant with the most powerful Gemini models",
        ),
    };
    let mut t = json!({
        "id": id,
        "name": name,
        "description": description,
        "userDefinedCloudaicompanionProject": id == "standard-tier",
        "privacyNotice": {},
    });
    if is_default {
        t["isDefault"] = json!(true);
    }
    t
}

fn unknown_account() -> GoogleError {
    errors::invalid_credentials()
}

/// `POST v1internal:loadCodeAssist`: the current tier and project of an onboarded account;
/// only `allowedTiers` for an account without a project.
pub(crate) fn load_code_assist(
    inner: &mut Inner,
    email: &str,
    body: &Value,
) -> Result<Value, GoogleError> {
    proto::check_root(body, &LOAD_CODE_ASSIST)?;
    let a = inner.account(email).ok_or_else(unknown_account)?;
    let current = a
        .spec
        .tier
        .clone()
        .unwrap_or_else(|| "standard-tier".into());
    let allowed: Vec<Value> = ["free-tier", "standard-tier"]
        .iter()
        .map(|t| tier(t, *t == current))
        .collect();
    let mut out = json!({"allowedTiers": allowed, "gcpManaged": false});
    if let Some(project) = &a.project {
        out["currentTier"] = tier(&current, false);
        out["cloudaicompanionProject"] = Value::String(project.clone());
    }
    Ok(out)
}

/// `POST v1internal:onboardUser`: `{"name","done":false}` for the first N calls (the account's
/// `onboarding_polls`, default 1), then `done:true` with the new project, which from then on
/// is the account's project.
pub(crate) fn onboard_user(
    inner: &mut Inner,
    email: &str,
    body: &Value,
) -> Result<Value, GoogleError> {
    proto::check_root(body, &ONBOARD_USER)?;
    let tier_id = field(body, "tierId").and_then(Value::as_str).unwrap_or("");
    if !KNOWN_TIERS.contains(&tier_id) {
        return Err(GoogleError::invalid_argument(format!(
            "Invalid tier id: \"{tier_id}\"."
        )));
    }
    let a = inner.account_mut(email).ok_or_else(unknown_account)?;
    let local = email.split('@').next().unwrap_or("user").to_string();
    let op_name = format!("operations/fake-onboard-{local}");
    if a.project.is_none() {
        a.onboard_calls += 1;
        if a.onboard_calls <= a.spec.onboarding_polls.unwrap_or(1) {
            return Ok(json!({"name": op_name, "done": false}));
        }
        let project = a
            .spec
            .onboard_project
            .clone()
            .unwrap_or_else(|| format!("onboarded-{local}"));
        a.project = Some(project);
        a.spec.tier = Some(tier_id.to_string());
    }
    let project = a.project.clone().unwrap_or_default();
    Ok(json!({
        "name": op_name,
        "done": true,
        "response": {
            "@type": "type.googleapis.com/google.internal.cloud.code.v1internal.OnboardUserResponse",
            "cloudaicompanionProject": {"id": project, "name": project},
        },
    }))
}

/// `POST v1internal:fetchAvailableModels`: every served model with its quota for this account.
pub(crate) fn fetch_available_models(
    inner: &mut Inner,
    email: &str,
    body: &Value,
) -> Result<Value, GoogleError> {
    proto::check_root(body, &FETCH_MODELS)?;
    let a = inner.account(email).ok_or_else(unknown_account)?;
    if let Some(p) = field(body, "project").and_then(Value::as_str)
        && a.project.as_deref() != Some(p)
    {
        return Err(errors::project_denied(p));
    }
    let default_reset = inner.default_reset_time();
    let mut models = serde_json::Map::new();
    for m in &inner.models {
        let q = inner.quota(email, &m.id);
        let family = m.family();
        let (max_tokens, api_provider, model_provider) = match family {
            Family::Gemini => (
                1_048_576,
                "API_PROVIDER_GOOGLE_GEMINI",
                "MODEL_PROVIDER_GOOGLE",
            ),
            Family::Claude => (
                200_000,
                "API_PROVIDER_ANTHROPIC_VERTEX",
                "MODEL_PROVIDER_ANTHROPIC",
            ),
            Family::Other => (
                131_072,
                "API_PROVIDER_OPENAI_VERTEX",
                "MODEL_PROVIDER_OPENAI",
            ),
        };
        let mut entry = json!({
            "displayName": m.display_name,
            "maxTokens": max_tokens,
            "maxOutputTokens": m.max_output_tokens,
            "supportsImages": family != Family::Other,
            "supportsThinking": m.thinking,
            "recommended": true,
            "model": format!("MODEL_{}", m.id.to_ascii_uppercase().replace(['-', '.'], "_")),
            "apiProvider": api_provider,
            "modelProvider": model_provider,
            "quotaInfo": {
                "remainingFraction": q.remaining_fraction,
                "resetTime": q.reset_time.unwrap_or_else(|| default_reset.clone()),
            },
        });
        if m.thinking {
            entry["thinkingBudget"] = json!(24576);
        }
        models.insert(m.id.clone(), entry);
    }
    Ok(json!({"models": models}))
}

/// `POST v1internal:countTokens`: `{"request":{"model":"models/<m>","contents":[...]}}` (also
/// `{"model","contents"}` at the top level) → `{"totalTokens": N}` with N = ceil(chars/4) of
/// all text, at least 1.
pub(crate) fn count_tokens(
    inner: &mut Inner,
    body: &Value,
    seq: u64,
) -> Result<Value, GoogleError> {
    proto::check_root(body, &COUNT_ENVELOPE)?;
    let req = field(body, "request").unwrap_or(body);
    let model_name = field(req, "model")
        .or_else(|| field(body, "model"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let model_id = model_name.strip_prefix("models/").unwrap_or(model_name);
    let model = inner
        .model(model_id)
        .cloned()
        .ok_or_else(|| errors::model_not_found(model_id))?;
    let mut synthetic = serde_json::Map::new();
    for k in ["contents", "systemInstruction", "tools"] {
        if let Some(v) = field(req, k).or_else(|| field(body, k)) {
            synthetic.insert(k.to_string(), v.clone());
        }
    }
    let synthetic = Value::Object(synthetic);
    rules::check(&synthetic, &model, seq)?;
    let mut contents = items(field(&synthetic, "contents"));
    if let Some(si) = field(&synthetic, "systemInstruction") {
        contents.push(si);
    }
    Ok(json!({"totalTokens": estimate_tokens(&contents_text(&contents))}))
}
