//! `GET /v1/models` (shared by OpenAI, Anthropic and Gemini clients, told apart
//! by their headers), `GET /v1beta/models` and the single-model lookups.

use axum::Json;
use axum::extract::{Path, Request};
use serde_json::{Value, json};
use uplink_protocol::error::{Dialect, ErrorKind};
use uplink_protocol::gemini::{GeminiModel, ListModelsResponse};
use uplink_protocol::openai::{OpenAiModel, OpenAiModelList};

use super::{ApiError, dialect};
use crate::models::{CATALOG, ModelInfo, find};

/// A fixed creation time: the catalogue is not dated per model.
const CREATED: u64 = 1_735_689_600; // 2025-01-01
const CREATED_AT: &str = "2025-01-01T00:00:00Z";

/// `GET /v1/models` and `GET /v1beta/models`.
pub async fn list(req: Request) -> Json<Value> {
    let dialect = dialect::detect(req.uri().path(), req.headers(), req.uri().query());
    Json(match dialect {
        Dialect::OpenAi => json!(OpenAiModelList::new(CATALOG.iter().map(openai).collect())),
        Dialect::Anthropic => {
            let data: Vec<Value> = CATALOG.iter().map(anthropic).collect();
            json!({
                "data": data,
                "has_more": false,
                "first_id": CATALOG.first().map(|m| m.id),
                "last_id": CATALOG.last().map(|m| m.id),
            })
        }
        Dialect::Gemini => json!(ListModelsResponse {
            models: CATALOG.iter().map(gemini).collect(),
            next_page_token: None,
        }),
    })
}

/// `GET /v1/models/{id}` and `GET /v1beta/models/{id}`.
pub async fn get(Path(id): Path<String>, req: Request) -> Result<Json<Value>, ApiError> {
    let dialect = dialect::detect(req.uri().path(), req.headers(), req.uri().query());
    let Some(model) = find(&id) else {
        return Err(ApiError::new(
            dialect,
            ErrorKind::NotFound,
            format!("Model {id} is not served by this gateway; GET /v1/models lists the models it serves."),
        )
        .with_code("model_not_found"));
    };
    Ok(Json(match dialect {
        Dialect::OpenAi => json!(openai(model)),
        Dialect::Anthropic => anthropic(model),
        Dialect::Gemini => json!(gemini(model)),
    }))
}

fn openai(m: &ModelInfo) -> OpenAiModel {
    OpenAiModel::new(m.id, CREATED, m.owned_by)
}

fn anthropic(m: &ModelInfo) -> Value {
    json!({ "type": "model", "id": m.id, "display_name": m.display_name, "created_at": CREATED_AT })
}

fn gemini(m: &ModelInfo) -> GeminiModel {
    GeminiModel::new(m.id, m.display_name, m.input_limit, m.output_limit)
}
