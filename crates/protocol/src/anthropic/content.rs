//! Anthropic content blocks: what a message's `content` (and `system`) holds, in
//! requests and in answers.
//!
//! Blocks are internally tagged by `type`. A block of a type this version does not
//! know is kept as [`AnthropicUnknownBlock`] rather than failing the whole body;
//! the decoder decides what to do with it. Fields a block type does not model
//! are ignored (no catch-all map: `#[serde(flatten)]` would buffer every block
//! before reading it, which costs a copy of every string of a conversation).

use serde::de::value::{MapAccessDeserializer, MapDeserializer};
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// `cache_control`: `{"type": "ephemeral", "ttl"?: "5m" | "1h"}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnthropicCacheControl {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

/// `content` (and `system`): a string or a list of blocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AnthropicContent {
    Text(String),
    Blocks(Vec<AnthropicContentBlock>),
}

impl Default for AnthropicContent {
    fn default() -> Self {
        AnthropicContent::Text(String::new())
    }
}

impl<'de> Deserialize<'de> for AnthropicContent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = AnthropicContent;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or an array of content blocks")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(AnthropicContent::Text(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(AnthropicContent::Text(v))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(AnthropicContent::default())
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<Self::Value, A::Error> {
                Vec::<AnthropicContentBlock>::deserialize(
                    serde::de::value::SeqAccessDeserializer::new(seq),
                )
                .map(AnthropicContent::Blocks)
            }
        }
        d.deserialize_any(V)
    }
}

/// One content block.
///
/// Deserialization reads a block whose `type` comes first (as every SDK and
/// Claude Code write it) in one pass, straight into its variant; a malformed
/// block of that kind is an error. A block with `type` elsewhere (the Python
/// SDK's models put it last) is buffered and dispatched, and one of a known
/// kind that does not parse is kept as [`AnthropicContentBlock::Unknown`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnthropicContentBlock {
    Text(AnthropicTextBlock),
    Image(AnthropicImageBlock),
    /// A PDF (base64 or URL), plain text, or a list of content blocks.
    Document(AnthropicDocumentBlock),
    SearchResult(AnthropicSearchResultBlock),
    ToolUse(AnthropicToolUseBlock),
    ToolResult(AnthropicToolResultBlock),
    Thinking(AnthropicThinkingBlock),
    RedactedThinking(AnthropicRedactedThinkingBlock),
    /// A call of a server tool (web search, web fetch, code execution …).
    ServerToolUse(AnthropicToolUseBlock),
    WebSearchToolResult(AnthropicServerToolResultBlock),
    /// A block of another type, or a known type whose fields did not parse.
    #[serde(untagged)]
    Unknown(AnthropicUnknownBlock),
}

impl AnthropicContentBlock {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        AnthropicContentBlock::Text(AnthropicTextBlock {
            text: text.into(),
            ..AnthropicTextBlock::default()
        })
    }

    /// The block's `cache_control`, when it has one.
    pub fn cache_control(&self) -> Option<&AnthropicCacheControl> {
        match self {
            AnthropicContentBlock::Text(b) => b.cache_control.as_ref(),
            AnthropicContentBlock::Image(b) => b.cache_control.as_ref(),
            AnthropicContentBlock::Document(b) => b.cache_control.as_ref(),
            AnthropicContentBlock::SearchResult(b) => b.cache_control.as_ref(),
            AnthropicContentBlock::ToolUse(b) | AnthropicContentBlock::ServerToolUse(b) => {
                b.cache_control.as_ref()
            }
            AnthropicContentBlock::ToolResult(b) => b.cache_control.as_ref(),
            AnthropicContentBlock::Thinking(b) => b.cache_control.as_ref(),
            AnthropicContentBlock::WebSearchToolResult(b) => b.cache_control.as_ref(),
            AnthropicContentBlock::RedactedThinking(_) | AnthropicContentBlock::Unknown(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnthropicTextBlock {
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<AnthropicCacheControl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citations: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnthropicImageBlock {
    #[serde(default)]
    pub source: AnthropicSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<AnthropicCacheControl>,
}

/// The `source` of an image or document. `type` says which fields apply:
/// `base64` (`media_type`, `data`), `url` (`url`), `file` (`file_id`), `text`
/// (`media_type`, `data` as plain text) or `content` (`content`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnthropicSource {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<AnthropicContent>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnthropicDocumentBlock {
    #[serde(default)]
    pub source: AnthropicSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citations: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<AnthropicCacheControl>,
}

/// A search result supplied by the client (`source` is its URL or identifier).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnthropicSearchResultBlock {
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub content: Vec<AnthropicContentBlock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citations: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<AnthropicCacheControl>,
}

/// `tool_use` and `server_tool_use`: `{"id", "name", "input"}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnthropicToolUseBlock {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub input: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<AnthropicCacheControl>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnthropicToolResultBlock {
    #[serde(default)]
    pub tool_use_id: String,
    /// A string, or blocks (text, image, document, search result …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<AnthropicContent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<AnthropicCacheControl>,
}

/// `thinking`: the reasoning text and its signature (always present in answers).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnthropicThinkingBlock {
    #[serde(default)]
    pub thinking: String,
    #[serde(default)]
    pub signature: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<AnthropicCacheControl>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnthropicRedactedThinkingBlock {
    #[serde(default)]
    pub data: String,
}

/// The result of a server tool (`web_search_tool_result` …): `content` is a list
/// of results or an error object, kept as JSON.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnthropicServerToolResultBlock {
    #[serde(default)]
    pub tool_use_id: String,
    #[serde(default)]
    pub content: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<AnthropicCacheControl>,
}

/// A block kept verbatim: its `type` and every other field.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnthropicUnknownBlock {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

impl<'de> Deserialize<'de> for AnthropicContentBlock {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(BlockVisitor)
    }
}

struct BlockVisitor;

impl<'de> Visitor<'de> for BlockVisitor {
    type Value = AnthropicContentBlock;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a content block object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some(first) = map.next_key::<Key>()? else {
            return Ok(AnthropicContentBlock::Unknown(
                AnthropicUnknownBlock::default(),
            ));
        };
        let key = match first {
            Key::Type => {
                let kind = map.next_value::<Key>()?.into_string();
                return typed(&kind, MapAccessDeserializer::new(map));
            }
            Key::Other(key) => key,
        };
        // `type` comes later (the Python SDK's models put it last): hold the
        // fields in order, then read the block of that kind from them.
        let mut kind = Value::Null;
        let mut fields: Vec<(String, Value)> = Vec::new();
        let mut key = Key::Other(key);
        loop {
            match key {
                Key::Type => kind = map.next_value()?,
                Key::Other(name) => {
                    let value = map.next_value()?;
                    match fields.iter_mut().find(|(k, _)| *k == name) {
                        Some(field) => field.1 = value, // the last one wins, as in a map
                        None => fields.push((name, value)),
                    }
                }
            }
            match map.next_key::<Key>()? {
                Some(next) => key = next,
                None => break,
            }
        }
        let kind = match kind {
            Value::String(kind) => kind,
            _ => String::new(),
        };
        // The fields are moved into the block, not copied out of the buffer.
        typed(
            &kind,
            MapDeserializer::<_, serde_json::Error>::new(fields.into_iter()),
        )
        .map_err(serde::de::Error::custom)
    }
}

/// Deserialize the rest of a block of `kind` into its variant.
fn typed<'de, D: Deserializer<'de>>(
    kind: &str,
    rest: D,
) -> Result<AnthropicContentBlock, D::Error> {
    use AnthropicContentBlock as B;
    Ok(match kind {
        "text" => B::Text(Deserialize::deserialize(rest)?),
        "image" => B::Image(Deserialize::deserialize(rest)?),
        "document" => B::Document(Deserialize::deserialize(rest)?),
        "search_result" => B::SearchResult(Deserialize::deserialize(rest)?),
        "tool_use" => B::ToolUse(Deserialize::deserialize(rest)?),
        "tool_result" => B::ToolResult(Deserialize::deserialize(rest)?),
        "thinking" => B::Thinking(Deserialize::deserialize(rest)?),
        "redacted_thinking" => B::RedactedThinking(Deserialize::deserialize(rest)?),
        "server_tool_use" => B::ServerToolUse(Deserialize::deserialize(rest)?),
        "web_search_tool_result" => B::WebSearchToolResult(Deserialize::deserialize(rest)?),
        other => B::Unknown(AnthropicUnknownBlock {
            kind: other.to_owned(),
            fields: Deserialize::deserialize(rest)?,
        }),
    })
}

/// A map key or a `type` value, read without allocating for `type` itself.
enum Key {
    Type,
    Other(String),
}

impl Key {
    fn into_string(self) -> String {
        match self {
            Key::Type => "type".to_owned(),
            Key::Other(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(if v == "type" {
                    Key::Type
                } else {
                    Key::Other(v.to_owned())
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// The `type` names of [`AnthropicContentBlock`]'s typed variants.
pub const KNOWN_BLOCK_TYPES: &[&str] = &[
    "text",
    "image",
    "document",
    "search_result",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
    "server_tool_use",
    "web_search_tool_result",
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn block(v: Value) -> AnthropicContentBlock {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn known_blocks_parse_and_ignore_unknown_fields() {
        let b = block(
            json!({"type": "text", "text": "hi", "cache_control": {"type": "ephemeral", "ttl": "1h"}, "x": 1}),
        );
        let AnthropicContentBlock::Text(t) = &b else {
            panic!("{b:?}")
        };
        assert_eq!(t.text, "hi");
        assert_eq!(t.cache_control.as_ref().unwrap().ttl.as_deref(), Some("1h"));
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            json!({"type": "text", "text": "hi", "cache_control": {"type": "ephemeral", "ttl": "1h"}})
        );
    }

    #[test]
    fn unknown_and_malformed_blocks_are_captured() {
        let b = block(json!({"type": "container_upload", "file_id": "f"}));
        assert_eq!(
            b,
            AnthropicContentBlock::Unknown(AnthropicUnknownBlock {
                kind: "container_upload".into(),
                fields: [("file_id".to_owned(), json!("f"))].into_iter().collect(),
            })
        );
        // A malformed block of a known kind is an error wherever `type` is.
        for bad in [r#"{"type":"text","text":5}"#, r#"{"text":5,"type":"text"}"#] {
            let e = serde_json::from_str::<AnthropicContentBlock>(bad).unwrap_err();
            assert!(e.to_string().contains("expected a string"), "{bad}: {e}");
        }
        let late: AnthropicContentBlock =
            serde_json::from_str(r#"{"text":"hi","type":"text","x":1}"#).unwrap();
        assert!(matches!(late, AnthropicContentBlock::Text(t) if t.text == "hi"));
        let fast: AnthropicContentBlock = serde_json::from_str(
            r#"{"type":"tool_use","id":"t","name":"f","input":{"a":[1]},"x":2}"#,
        )
        .unwrap();
        assert!(
            matches!(fast, AnthropicContentBlock::ToolUse(u) if u.input == json!({"a": [1]}) && u.id == "t")
        );
        assert_eq!(
            serde_json::to_value(block(json!({"type": "mcp_tool_use", "id": "m"}))).unwrap(),
            json!({"type": "mcp_tool_use", "id": "m"})
        );
    }

    #[test]
    fn blocks_with_type_last_read_the_same_from_every_source() {
        // As the Python SDK's models write them: `type` last, blocks nested.
        let text = r#"{"id":"t","input":{"path":"a \"b\".rs","n":[1,2.5,null,true]},"name":"read","type":"tool_use"}"#;
        let result = r#"{"content":[{"text":"line\n","type":"text"},{"source":{"data":"AA==","media_type":"image/png","type":"base64"},"type":"image"}],"is_error":false,"tool_use_id":"t","type":"tool_result"}"#;
        let expected_call = json!({"type": "tool_use", "id": "t", "name": "read", "input": {"path": "a \"b\".rs", "n": [1, 2.5, null, true]}});
        for (raw, expected) in [
            (text, expected_call),
            (result, serde_json::from_str(result).unwrap()),
        ] {
            let from_text: AnthropicContentBlock = serde_json::from_str(raw).unwrap();
            let value: Value = serde_json::from_str(raw).unwrap();
            let from_value = block(value.clone());
            let from_ref = AnthropicContentBlock::deserialize(&value).unwrap();
            assert!(
                !matches!(from_text, AnthropicContentBlock::Unknown(_)),
                "{from_text:?}"
            );
            assert_eq!(from_text, from_value);
            assert_eq!(from_text, from_ref);
            assert_eq!(serde_json::to_value(&from_text).unwrap(), expected);
        }
        // Through serde's buffer for an internally tagged enum (as in stream events).
        #[derive(Deserialize)]
        #[serde(tag = "type")]
        enum Event {
            #[serde(rename = "start")]
            Start { block: AnthropicContentBlock },
        }
        let Event::Start { block } =
            serde_json::from_str::<Event>(&format!(r#"{{"type":"start","block":{text}}}"#))
                .unwrap();
        assert!(
            matches!(&block, AnthropicContentBlock::ToolUse(u) if u.input["n"][1] == json!(2.5))
        );
        // A repeated field: the last one wins, as in a map.
        let twice: AnthropicContentBlock =
            serde_json::from_str(r#"{"text":"a","text":"b","type":"text"}"#).unwrap();
        assert!(matches!(twice, AnthropicContentBlock::Text(t) if t.text == "b"));
        // No `type`, or not a string: unknown, its fields kept.
        let untyped: AnthropicContentBlock =
            serde_json::from_str(r#"{"text":"a","type":7}"#).unwrap();
        assert_eq!(
            untyped,
            AnthropicContentBlock::Unknown(AnthropicUnknownBlock {
                kind: String::new(),
                fields: [("text".to_owned(), json!("a"))].into_iter().collect(),
            })
        );
    }

    #[test]
    fn content_is_a_string_or_blocks() {
        let c: AnthropicContent = serde_json::from_value(json!("hello")).unwrap();
        assert_eq!(c, AnthropicContent::Text("hello".into()));
        let c: AnthropicContent =
            serde_json::from_value(json!([{"type": "text", "text": "a"}])).unwrap();
        assert_eq!(
            c,
            AnthropicContent::Blocks(vec![AnthropicContentBlock::text("a")])
        );
        assert!(serde_json::from_value::<AnthropicContent>(json!(5)).is_err());
    }
}
