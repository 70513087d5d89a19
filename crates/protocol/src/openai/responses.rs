//! OpenAI Responses request shapes (`POST /v1/responses`): the body, its input
//! items, content parts and tools.
//!
//! Tolerant like the Chat types: an input item is a struct of options keyed by
//! `type` (absent for the short `{"role","content"}` message form), so that an item
//! of a type this version does not know still parses and is reported rather than
//! failing the request; a tool keeps every field it does not name in `extra`.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::chat::null_as_empty;
use crate::wire::string_enum;

/// `POST /v1/responses` body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResponsesRequest {
    #[serde(default)]
    pub model: String,
    /// A system (developer) message placed before the input. A string; a list of
    /// messages is tolerated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<ResponsesInput>,
    /// A string (one user message) or a list of items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<ResponsesInput>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub tools: Vec<ResponsesTool>,
    /// `"none" | "auto" | "required" | {"type":"function","name"} | {"type":"custom","name"}
    /// | {"type":"allowed_tools",...} | {"type":<hosted tool>}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<ResponsesTextConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ResponsesReasoningConfig>,
    /// Extra output to include, e.g. `reasoning.encrypted_content`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub include: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_response_id: Option<String>,
    /// A stored conversation (`"conv_…"` or `{"id"}`): server-side state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The successor of `user` for abuse monitoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// `auto` or `disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncation: Option<String>,
}

/// `input` (and `instructions`): a string or a list of items.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ResponsesInput {
    Text(String),
    Items(Vec<ResponsesInputItem>),
}

impl<'de> Deserialize<'de> for ResponsesInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string_or_seq(d, "a string or an array of input items").map(|v| match v {
            StringOrSeq::Text(t) => ResponsesInput::Text(t),
            StringOrSeq::Seq(items) => ResponsesInput::Items(items),
        })
    }
}

/// Message content and tool output: a string or a list of parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ResponsesContent {
    Text(String),
    Parts(Vec<ResponsesContentPart>),
}

impl<'de> Deserialize<'de> for ResponsesContent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string_or_seq(d, "a string or an array of content parts").map(|v| match v {
            StringOrSeq::Text(t) => ResponsesContent::Text(t),
            StringOrSeq::Seq(parts) => ResponsesContent::Parts(parts),
        })
    }
}

enum StringOrSeq<T> {
    Text(String),
    Seq(Vec<T>),
}

fn string_or_seq<'de, D, T>(d: D, expecting: &'static str) -> Result<StringOrSeq<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct V<T>(&'static str, std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
        type Value = StringOrSeq<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(StringOrSeq::Text(v.to_owned()))
        }
        fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(StringOrSeq::Text(v))
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            Vec::<T>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                .map(StringOrSeq::Seq)
        }
    }
    d.deserialize_any(V(expecting, std::marker::PhantomData))
}

string_enum! {
    /// The author of an input message.
    pub enum ResponsesRole {
        User = "user",
        Assistant = "assistant",
        System = "system",
        Developer = "developer",
    }
}

/// One input item. `kind` is the item's `type`: `message` (or absent), `function_call`,
/// `function_call_output`, `reasoning`, `custom_tool_call`, `custom_tool_call_output`,
/// `local_shell_call`, `local_shell_call_output`, `item_reference`, or anything else
/// (kept, and reported by the decoder). Which fields are set depends on the type.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResponsesInputItem {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The item id (`msg_…`, `fc_…`, `rs_…`); for `item_reference`, the referenced id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<ResponsesRole>,
    /// Message content, or a reasoning item's `reasoning_text` parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ResponsesContent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `function_call`: the JSON arguments as a string (an object is tolerated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Value>,
    /// Tool outputs: a string or a list of `input_text` / `input_image` / `input_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<ResponsesContent>,
    /// `custom_tool_call`: the free-form input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// `local_shell_call`: `{"type":"exec","command":[…],"timeout_ms","working_directory","env","user"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Value>,
    /// `reasoning`: the summary parts (`{"type":"summary_text","text"}`).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub summary: Vec<ResponsesContentPart>,
    /// `reasoning`: opaque reasoning state to replay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_content: Option<String>,
}

impl ResponsesInputItem {
    /// The item type; a missing `type` means a message.
    pub fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("message")
    }
}

/// One content part: `input_text`, `output_text`, `refusal`, `input_image`,
/// `input_file`, `summary_text`, `reasoning_text`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResponsesContentPart {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// `input_image`: a data URL or an http(s) URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// `input_image` / `input_file`: an uploaded file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// `input_file`: a data URL or bare base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

/// One entry of `tools`: `function`, `custom`, `web_search*`, `local_shell`,
/// `namespace` (a group of tools, as Codex sends MCP servers), or a hosted tool.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResponsesTool {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `function`: the JSON Schema of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// `custom`: `{"type":"text"}` or `{"type":"grammar","syntax","definition"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Value>,
    /// Every other field (a namespace's `tools`, a hosted tool's settings).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `text`: output format and verbosity.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResponsesTextConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<ResponsesTextFormat>,
    /// `low`, `medium` or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<String>,
}

/// `text.format`: `{"type":"text"}`, `{"type":"json_object"}` or
/// `{"type":"json_schema","name","schema","strict","description"}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResponsesTextFormat {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// `reasoning`: `{"effort", "summary"}`; `generate_summary` is the deprecated name
/// of `summary`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResponsesReasoningConfig {
    /// `none`, `minimal`, `low`, `medium`, `high`, `xhigh`.
    #[serde(default)]
    pub effort: Option<String>,
    /// `auto`, `concise`, `detailed` or `none`.
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default, skip_serializing)]
    pub generate_summary: Option<String>,
}
