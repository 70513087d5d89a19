//! Gemini request shapes: `GenerateContentRequest`, contents and parts, tools,
//! generation and thinking configuration, and `countTokens`.
//!
//! Contents, parts and function declarations hold their text as `Cow<'a, str>`:
//! the encoder borrows a conversation's text, images and tool output from the
//! IR instead of copying them (a long conversation is mostly such text, and it
//! is then written out once). Deserialised values own their text (`'static`).

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::json::RawJson;
use crate::wire::string_enum;

/// The body of `models/{model}:generateContent` and `:streamGenerateContent`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentRequest<'a> {
    /// Present only in the `countTokens` `generateContentRequest` form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default)]
    pub contents: Vec<Content<'a>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "system_instruction",
        deserialize_with = "content_or_string"
    )]
    pub system_instruction: Option<Content<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<GeminiTool<'a>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "tool_config"
    )]
    pub tool_config: Option<ToolConfig>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        alias = "safety_settings"
    )]
    pub safety_settings: Vec<SafetySetting>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "generation_config"
    )]
    pub generation_config: Option<GenerationConfig>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "cached_content"
    )]
    pub cached_content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Map<String, Value>>,
}

/// A `systemInstruction` may arrive as a plain string from lenient clients.
fn content_or_string<'de, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<Content<'a>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either<'a> {
        Text(String),
        Content(Content<'a>),
    }
    Ok(match Option::<Either>::deserialize(d)? {
        None => None,
        Some(Either::Text(text)) => Some(Content {
            role: None,
            parts: vec![Part::text(text)],
        }),
        Some(Either::Content(c)) => Some(c),
    })
}

/// One turn: a role (`user` or `model`) and its parts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Content<'a> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Cow<'a, str>>,
    #[serde(default)]
    pub parts: Vec<Part<'a>>,
}

impl<'a> Content<'a> {
    pub fn new(role: impl Into<Cow<'a, str>>, parts: Vec<Part<'a>>) -> Self {
        Self {
            role: Some(role.into()),
            parts,
        }
    }
}

/// One part of a turn. Gemini's `Part` is a oneof of data plus metadata; a struct
/// of options tolerates any combination a client or the service sends. The
/// rarer, larger members are boxed: a `Part` is 136 bytes instead of 480, and
/// serde's derived code moves it by value several times per part parsed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Part<'a> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Cow<'a, str>>,
    /// The part is a thought (summary), not answer text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thought: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "thought_signature"
    )]
    pub thought_signature: Option<Cow<'a, str>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "inline_data"
    )]
    pub inline_data: Option<Box<Blob<'a>>>,
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "file_data")]
    pub file_data: Option<Box<FileData<'a>>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "function_call"
    )]
    pub function_call: Option<Box<FunctionCall<'a>>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "function_response"
    )]
    pub function_response: Option<Box<FunctionResponse<'a>>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "executable_code"
    )]
    pub executable_code: Option<Box<ExecutableCode>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "code_execution_result"
    )]
    pub code_execution_result: Option<Box<CodeExecutionResult>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "video_metadata"
    )]
    pub video_metadata: Option<Value>,
}

impl<'a> Part<'a> {
    pub fn text(text: impl Into<Cow<'a, str>>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }

    pub fn is_thought(&self) -> bool {
        self.thought == Some(true)
    }
}

/// Inline bytes (`inlineData`): base64 text and its MIME type.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Blob<'a> {
    #[serde(default, alias = "mime_type")]
    pub mime_type: Cow<'a, str>,
    #[serde(default)]
    pub data: Cow<'a, str>,
}

/// A reference to an uploaded file (`fileData`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileData<'a> {
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "mime_type")]
    pub mime_type: Option<Cow<'a, str>>,
    #[serde(default, alias = "file_uri")]
    pub file_uri: Cow<'a, str>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FunctionCall<'a> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Cow<'a, str>>,
    #[serde(default)]
    pub name: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Cow<'a, Value>>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionResponse<'a> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Cow<'a, str>>,
    #[serde(default)]
    pub name: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseBody<'a>>,
    /// Multimodal function responses (Gemini 3): media parts of the result.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Part<'a>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "will_continue"
    )]
    pub will_continue: Option<bool>,
}

/// `functionResponse.response`, a JSON object (a protobuf `Struct`). What an
/// encoder usually sends, a tool's text output under one key (`{"output": …}`,
/// `{"error": …}`), borrows that text. Equality is equality of the JSON.
#[derive(Debug, Clone)]
pub enum ResponseBody<'a> {
    Object(Value),
    /// `{key: text}`.
    Text {
        key: &'static str,
        text: Cow<'a, str>,
    },
}

impl ResponseBody<'_> {
    /// The body as a JSON value.
    pub fn into_value(self) -> Value {
        match self {
            ResponseBody::Object(v) => v,
            ResponseBody::Text { key, text } => {
                let mut map = Map::with_capacity(1);
                map.insert(key.to_owned(), Value::String(text.into_owned()));
                Value::Object(map)
            }
        }
    }
}

impl PartialEq for ResponseBody<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ResponseBody::Text { key, text }, ResponseBody::Text { key: k2, text: t2 }) => {
                key == k2 && text == t2
            }
            _ => self.clone().into_value() == other.clone().into_value(),
        }
    }
}

impl Serialize for ResponseBody<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ResponseBody::Object(v) => v.serialize(s),
            ResponseBody::Text { key, text } => {
                use serde::ser::SerializeMap;
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry(key, text)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for ResponseBody<'_> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Value::deserialize(d).map(ResponseBody::Object)
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ExecutableCode {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default)]
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CodeExecutionResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

/// One entry of `tools`. Built-in tools are empty objects whose inner settings are
/// kept verbatim.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiTool<'a> {
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        alias = "function_declarations"
    )]
    pub function_declarations: Vec<FunctionDeclaration<'a>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "google_search"
    )]
    pub google_search: Option<Value>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "google_search_retrieval"
    )]
    pub google_search_retrieval: Option<Value>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "code_execution"
    )]
    pub code_execution: Option<Value>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "url_context"
    )]
    pub url_context: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionDeclaration<'a> {
    #[serde(default)]
    pub name: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Cow<'a, str>>,
    /// The OpenAPI-subset schema (`Schema`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<RawJson>,
    /// A full JSON Schema, the alternative to `parameters` (gemini-cli sends this).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "parameters_json_schema"
    )]
    pub parameters_json_schema: Option<RawJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolConfig {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "function_calling_config"
    )]
    pub function_calling_config: Option<FunctionCallingConfig>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "retrieval_config"
    )]
    pub retrieval_config: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionCallingConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<FunctionCallingMode>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        alias = "allowed_function_names"
    )]
    pub allowed_function_names: Vec<String>,
}

string_enum! {
    /// `functionCallingConfig.mode`.
    pub enum FunctionCallingMode {
        Auto = "AUTO",
        Any = "ANY",
        None = "NONE",
        Validated = "VALIDATED",
        Unspecified = "MODE_UNSPECIFIED",
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SafetySetting {
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub threshold: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `generationConfig`. Fields this code does not model survive in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerationConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "top_p")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "top_k")]
    pub top_k: Option<u32>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "candidate_count"
    )]
    pub candidate_count: Option<u32>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "max_output_tokens"
    )]
    pub max_output_tokens: Option<u32>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        alias = "stop_sequences"
    )]
    pub stop_sequences: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "presence_penalty"
    )]
    pub presence_penalty: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "frequency_penalty"
    )]
    pub frequency_penalty: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "response_mime_type"
    )]
    pub response_mime_type: Option<String>,
    /// The OpenAPI-subset schema of the answer.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "response_schema"
    )]
    pub response_schema: Option<Value>,
    /// A full JSON Schema of the answer, the alternative to `responseSchema`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "response_json_schema",
        alias = "_responseJsonSchema"
    )]
    pub response_json_schema: Option<Value>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        alias = "response_modalities"
    )]
    pub response_modalities: Vec<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "thinking_config"
    )]
    pub thinking_config: Option<GeminiThinkingConfig>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `generationConfig.thinkingConfig`. A budget (Gemini 2.5) or a level (Gemini 3),
/// never both: the API rejects a request with both.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiThinkingConfig {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "include_thoughts"
    )]
    pub include_thoughts: Option<bool>,
    /// Tokens; `0` disables thinking, `-1` lets the model decide.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "thinking_budget"
    )]
    pub thinking_budget: Option<i64>,
    /// `minimal`, `low`, `medium` or `high` (Gemini 3).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "thinking_level"
    )]
    pub thinking_level: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of `models/{model}:countTokens`: either bare `contents` or a whole
/// `generateContentRequest` (which then carries `model`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountTokensRequest<'a> {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<Content<'a>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "generate_content_request"
    )]
    pub generate_content_request: Option<GenerateContentRequest<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_snake_case_and_serializes_camel_case() {
        let req: GenerateContentRequest = serde_json::from_value(json!({
            "contents": [{"role": "user", "parts": [{"text": "hi"}, {"inline_data": {"mime_type": "image/png", "data": "AA=="}}]}],
            "system_instruction": "be brief",
            "generation_config": {"max_output_tokens": 10, "thinking_config": {"thinking_budget": 0}, "mediaResolution": "LOW"},
            "tool_config": {"function_calling_config": {"mode": "ANY", "allowed_function_names": ["f"]}},
        }))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            json!({
                "contents": [{"role": "user", "parts": [{"text": "hi"}, {"inlineData": {"mimeType": "image/png", "data": "AA=="}}]}],
                "systemInstruction": {"parts": [{"text": "be brief"}]},
                "generationConfig": {"maxOutputTokens": 10, "thinkingConfig": {"thinkingBudget": 0}, "mediaResolution": "LOW"},
                "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}},
            })
        );
    }

    #[test]
    fn a_text_response_body_is_the_object_it_stands_for() {
        let text = ResponseBody::Text {
            key: "output",
            text: Cow::Borrowed("done \"ok\""),
        };
        assert_eq!(
            serde_json::to_value(&text).unwrap(),
            json!({"output": "done \"ok\""})
        );
        assert_eq!(text, ResponseBody::Object(json!({"output": "done \"ok\""})));
        assert_ne!(text, ResponseBody::Object(json!({"error": "done \"ok\""})));
        // Read back, a body is always the object itself.
        let read: ResponseBody<'static> =
            serde_json::from_value(json!({"output": "x", "n": 1})).unwrap();
        assert!(matches!(&read, ResponseBody::Object(v) if v == &json!({"output": "x", "n": 1})));
    }

    #[test]
    fn unknown_modes_are_kept() {
        let c: FunctionCallingConfig = serde_json::from_value(json!({"mode": "FUTURE"})).unwrap();
        assert_eq!(c.mode, Some(FunctionCallingMode::Other("FUTURE".into())));
        assert_eq!(serde_json::to_value(&c).unwrap(), json!({"mode": "FUTURE"}));
    }
}
