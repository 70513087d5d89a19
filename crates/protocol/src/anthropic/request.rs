//! Anthropic Messages request shapes: `POST /v1/messages` and
//! `POST /v1/messages/count_tokens` (the same body without `max_tokens`/`stream`).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::content::{AnthropicCacheControl, AnthropicContent};
use crate::json::RawJson;
use crate::wire::string_enum;

/// The body of `POST /v1/messages`. Fields this version does not model are kept in
/// `extra`; fields it models but does not translate (`context_management`,
/// `service_tier`, `container` …) are kept typed as JSON.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MessagesRequest {
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub messages: Vec<AnthropicMessageParam>,
    /// A string or a list of text blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<AnthropicContent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<AnthropicMetadata>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub stop_sequences: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub tools: Vec<AnthropicTool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<AnthropicToolChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<AnthropicThinkingConfig>,
    /// `{"effort"?, "format"?}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_config: Option<AnthropicOutputConfig>,
    /// The beta form of `output_config.format`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_format: Option<AnthropicOutputFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_management: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Value>,
    /// MCP connector servers (`{"type": "url", "url", "name", …}`).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub mcp_servers: Vec<Value>,
}

/// `POST /v1/messages/count_tokens` takes the Messages body without the sampling
/// fields; the same type reads it.
pub type AnthropicCountTokensRequest = MessagesRequest;

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

string_enum! {
    /// `role` of an input message. `system` is not in the API but Claude Code and
    /// other clients send it inside `messages`.
    pub enum AnthropicRole {
        User = "user",
        Assistant = "assistant",
        System = "system",
    }
}

/// One input message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnthropicMessageParam {
    pub role: AnthropicRole,
    #[serde(default)]
    pub content: AnthropicContent,
}

/// `metadata`: only `user_id` is defined.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnthropicMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// One entry of `tools`: a custom tool (`type` absent or `custom`, with
/// `input_schema`) or a server / Anthropic-defined tool (`web_search_20250305`,
/// `bash_20250124`, `text_editor_20250728`, `computer_20250124` …) whose
/// type-specific fields land in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnthropicTool {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<RawJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<AnthropicCacheControl>,
    /// Tool search: the tool is loaded only when a search finds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defer_loading: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// `tool_choice`: `{"type": "auto" | "any" | "tool" | "none", "name"?,
/// "disable_parallel_tool_use"?}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnthropicToolChoice {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_parallel_tool_use: Option<bool>,
}

/// `thinking`: `{"type": "enabled", "budget_tokens"}`, `{"type": "adaptive"}` or
/// `{"type": "disabled"}`; `display` is `summarized` (default) or `omitted`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnthropicThinkingConfig {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// `output_config`: `effort` (`low`, `medium`, `high`, `max`) and `format`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnthropicOutputConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<AnthropicOutputFormat>,
}

/// `{"type": "json_schema", "schema"}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnthropicOutputFormat {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_claude_code_shaped_body_parses_and_keeps_unknown_fields() {
        let req: MessagesRequest = serde_json::from_value(json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 32000,
            "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [
                {"name": "Bash", "description": "run", "input_schema": {"type": "object"}, "defer_loading": true, "eager_input_streaming": true},
                {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}
            ],
            "metadata": {"user_id": "{\"session_id\":\"s\"}"},
            "context_management": {"edits": []},
            "output_config": {"effort": "high"},
            "stream": true,
            "brand_new_field": 1
        }))
        .unwrap();
        assert_eq!(req.max_tokens, Some(32000));
        assert_eq!(req.tools[0].defer_loading, Some(true));
        assert_eq!(req.tools[1].kind.as_deref(), Some("web_search_20250305"));
        assert_eq!(
            req.output_config.and_then(|o| o.effort).as_deref(),
            Some("high")
        );
    }

    #[test]
    fn null_lists_are_empty() {
        let req: MessagesRequest = serde_json::from_value(
            json!({"model": "m", "messages": [], "tools": null, "stop_sequences": null}),
        )
        .unwrap();
        assert!(req.tools.is_empty() && req.stop_sequences.is_empty());
    }
}
