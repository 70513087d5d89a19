//! Gemini response shapes: `GenerateContentResponse` (also each streamed chunk),
//! candidates, usage, prompt feedback, `countTokens` and the error body.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::request::Content;
use crate::wire::string_enum;

/// A whole answer, or one chunk of a streamed one. The feedback and usage,
/// present in one chunk of a stream at most, are boxed: a chunk is parsed and
/// moved by value, and they were two thirds of its size.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Candidate>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "prompt_feedback"
    )]
    pub prompt_feedback: Option<Box<PromptFeedback>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "usage_metadata"
    )]
    pub usage_metadata: Option<Box<UsageMetadata>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "model_version"
    )]
    pub model_version: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "response_id"
    )]
    pub response_id: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "create_time"
    )]
    pub create_time: Option<String>,
}

/// The metadata members are passed through untouched and usually absent:
/// boxed, they keep a candidate small for the moves of a chunk's parse.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Content<'static>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "finish_reason"
    )]
    pub finish_reason: Option<GeminiFinishReason>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "finish_message"
    )]
    pub finish_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "safety_ratings"
    )]
    pub safety_ratings: Option<Box<Value>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "citation_metadata"
    )]
    pub citation_metadata: Option<Box<Value>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "grounding_metadata"
    )]
    pub grounding_metadata: Option<Box<Value>>,
}

string_enum! {
    /// `candidates[].finishReason`.
    pub enum GeminiFinishReason {
        Unspecified = "FINISH_REASON_UNSPECIFIED",
        Stop = "STOP",
        MaxTokens = "MAX_TOKENS",
        Safety = "SAFETY",
        Recitation = "RECITATION",
        Language = "LANGUAGE",
        OtherReason = "OTHER",
        Blocklist = "BLOCKLIST",
        ProhibitedContent = "PROHIBITED_CONTENT",
        Spii = "SPII",
        MalformedFunctionCall = "MALFORMED_FUNCTION_CALL",
        ImageSafety = "IMAGE_SAFETY",
        ImageProhibitedContent = "IMAGE_PROHIBITED_CONTENT",
        ImageRecitation = "IMAGE_RECITATION",
        UnexpectedToolCall = "UNEXPECTED_TOOL_CALL",
        TooManyToolCalls = "TOO_MANY_TOOL_CALLS",
    }
}

string_enum! {
    /// `promptFeedback.blockReason`.
    pub enum BlockReason {
        Unspecified = "BLOCK_REASON_UNSPECIFIED",
        Safety = "SAFETY",
        OtherReason = "OTHER",
        Blocklist = "BLOCKLIST",
        ProhibitedContent = "PROHIBITED_CONTENT",
        ImageSafety = "IMAGE_SAFETY",
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptFeedback {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "block_reason"
    )]
    pub block_reason: Option<BlockReason>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "safety_ratings"
    )]
    pub safety_ratings: Option<Value>,
}

/// Token usage. `promptTokenCount` includes cached tokens; `candidatesTokenCount`
/// excludes thoughts, which `thoughtsTokenCount` counts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageMetadata {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "prompt_token_count"
    )]
    pub prompt_token_count: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "candidates_token_count"
    )]
    pub candidates_token_count: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "total_token_count"
    )]
    pub total_token_count: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "cached_content_token_count"
    )]
    pub cached_content_token_count: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "thoughts_token_count"
    )]
    pub thoughts_token_count: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "tool_use_prompt_token_count"
    )]
    pub tool_use_prompt_token_count: Option<u64>,
    /// Per-modality breakdowns and anything newer, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of a `countTokens` answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountTokensResponse {
    #[serde(default, alias = "total_tokens")]
    pub total_tokens: u64,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "cached_content_token_count"
    )]
    pub cached_content_token_count: Option<u64>,
}

/// Google's error body: `{"error": {"code", "message", "status", "details"}}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GeminiError {
    pub error: GeminiErrorBody,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GeminiErrorBody {
    #[serde(default)]
    pub code: u16,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}
