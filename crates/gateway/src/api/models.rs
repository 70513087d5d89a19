//! `GET /v1/models` (shared by OpenAI, Anthropic and Gemini clients, told apart
//! by their headers), `GET /v1beta/models` and the single-model lookups.

use axum::Json;
use axum::extract::{Path, Request, State};
use serde_json::{Value, json};
use uplink_protocol::error::{Dialect, ErrorKind};
use uplink_protocol::gemini::{GeminiModel, ListModelsResponse};
use uplink_protocol::openai::{OpenAiModel, OpenAiModelList};

use super::{ApiError, dialect};
use crate::models::find;
use crate::state::AppState;

/// A fixed creation time: the catalogue is not dated per model.
const CREATED: u64 = 1_735_689_600; // 2025-01-01
const CREATED_AT: &str = "2025-01-01T00:00:00Z";

/// A model as listed: its id and what the catalogue knows about it.
struct Listed {
    id: String,
    display_name: String,
    owned_by: &'static str,
    input_limit: u64,
    output_limit: u64,
}

impl Listed {
    fn new(id: &str) -> Self {
        match find(id) {
            Some(m) => Listed {
                id: id.to_owned(),
                display_name: m.display_name.to_owned(),
                owned_by: m.owned_by,
                input_limit: m.input_limit,
                output_limit: m.output_limit,
            },
            None => Listed {
                id: id.to_owned(),
                display_name: id.to_owned(),
                owned_by: "uplink",
                input_limit: 1_048_576,
                output_limit: 65_536,
            },
        }
    }
}

/// What the pool serves, then the configured mapped names.
fn listed(state: &AppState) -> Vec<Listed> {
    let mut ids = state.available_models().to_vec();
    for name in state.router().mapped_names() {
        if !ids.iter().any(|i| i == name) {
            ids.push(name.to_owned());
        }
    }
    ids.iter().map(|id| Listed::new(id)).collect()
}

/// `GET /v1/models` and `GET /v1beta/models`.
pub async fn list(State(state): State<AppState>, req: Request) -> Json<Value> {
    let dialect = dialect::detect(req.uri().path(), req.headers(), req.uri().query());
    let models = listed(&state);
    Json(match dialect {
        Dialect::OpenAi => json!(OpenAiModelList::new(models.iter().map(openai).collect())),
        Dialect::Anthropic => {
            let data: Vec<Value> = models.iter().map(anthropic).collect();
            json!({
                "data": data,
                "has_more": false,
                "first_id": models.first().map(|m| m.id.as_str()),
                "last_id": models.last().map(|m| m.id.as_str()),
            })
        }
        Dialect::Gemini => json!(ListModelsResponse {
            models: models.iter().map(gemini).collect(),
            next_page_token: None,
        }),
    })
}

/// `GET /v1/models/{id}` and `GET /v1beta/models/{id}`: a listed model, or any
/// name the mapping resolves to a served model.
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let dialect = dialect::detect(req.uri().path(), req.headers(), req.uri().query());
    let id = id.trim_start_matches("models/").to_owned();
    let served = state.available_models();
    let resolved = state.resolve_model(&id).model;
    if !served.iter().any(|m| *m == id || *m == resolved) {
        return Err(ApiError::new(
            dialect,
            ErrorKind::NotFound,
            format!("Model {id} is not served by this gateway; GET /v1/models lists the models it serves."),
        )
        .with_code("model_not_found"));
    }
    let model = Listed::new(&id);
    Ok(Json(match dialect {
        Dialect::OpenAi => json!(openai(&model)),
        Dialect::Anthropic => anthropic(&model),
        Dialect::Gemini => json!(gemini(&model)),
    }))
}

fn openai(m: &Listed) -> OpenAiModel {
    OpenAiModel::new(m.id.clone(), CREATED, m.owned_by)
}

fn anthropic(m: &Listed) -> Value {
    json!({ "type": "model", "id": m.id, "display_name": m.display_name, "created_at": CREATED_AT })
}

fn gemini(m: &Listed) -> GeminiModel {
    GeminiModel::new(&m.id, &m.display_name, m.input_limit, m.output_limit)
}
