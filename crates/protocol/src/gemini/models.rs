//! Gemini `models.list` / `models.get` shapes.

use serde::{Deserialize, Serialize};

/// One model as `GET /v1beta/models/{name}` describes it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiModel {
    /// `models/{id}`.
    pub name: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "base_model_id"
    )]
    pub base_model_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "display_name"
    )]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "input_token_limit"
    )]
    pub input_token_limit: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "output_token_limit"
    )]
    pub output_token_limit: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        alias = "supported_generation_methods"
    )]
    pub supported_generation_methods: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "max_temperature"
    )]
    pub max_temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "top_p")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "top_k")]
    pub top_k: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<bool>,
}

impl GeminiModel {
    /// A model entry with the usual generation methods.
    pub fn new(id: &str, display_name: &str, input_limit: u64, output_limit: u64) -> Self {
        Self {
            name: format!("models/{id}"),
            base_model_id: Some(id.to_owned()),
            version: Some("001".to_owned()),
            display_name: Some(display_name.to_owned()),
            input_token_limit: Some(input_limit),
            output_token_limit: Some(output_limit),
            supported_generation_methods: vec![
                "generateContent".to_owned(),
                "streamGenerateContent".to_owned(),
                "countTokens".to_owned(),
            ],
            ..Self::default()
        }
    }
}

/// `GET /v1beta/models`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListModelsResponse {
    pub models: Vec<GeminiModel>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "next_page_token"
    )]
    pub next_page_token: Option<String>,
}
