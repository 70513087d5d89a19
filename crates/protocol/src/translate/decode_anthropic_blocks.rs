//! Anthropic content blocks → IR blocks, for [`super::decode_anthropic`].
//!
//! - `text`, `image` (base64 / URL / file), `tool_use`, `thinking` (signature
//!   without family), `redacted_thinking` map one to one;
//! - `document`: a PDF (base64, URL, file) becomes a file block; plain text and
//!   content sources become text (title and context first);
//! - `tool_result`: text and images stay in the result; documents in it become
//!   file blocks right after it; `is_error` is kept; the function name is resolved
//!   from the call;
//! - blocks an upstream cannot replay become text it can read instead of being
//!   dropped: `server_tool_use`/`mcp_tool_use` (and any `*_tool_use`) →
//!   `[server tool call <name> (<id>)] <input>`; `web_search_tool_result` → the
//!   titles and URLs found (or the error code); any other `*_tool_result` → its
//!   text; `search_result` → title, source and text;
//! - a block of a known type whose fields are malformed is an error naming the
//!   field; a block of an unknown type is dropped and reported.

use foldhash::HashMap;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::TranslateError;
use super::util::{At, first_bad_field, media_from_url};
use crate::anthropic::{
    AnthropicCacheControl, AnthropicContent, AnthropicContentBlock, AnthropicDocumentBlock,
    AnthropicImageBlock, AnthropicRedactedThinkingBlock, AnthropicSearchResultBlock,
    AnthropicServerToolResultBlock, AnthropicSource, AnthropicTextBlock, AnthropicThinkingBlock,
    AnthropicToolResultBlock, AnthropicToolUseBlock, KNOWN_BLOCK_TYPES,
};
use crate::ir::{
    CacheControl, ContentBlock, MediaSource, Signature, SystemPart, ToolResultContent,
    parse_arguments,
};

/// IR form of a `cache_control`.
pub(crate) fn cache_control(c: AnthropicCacheControl) -> CacheControl {
    CacheControl {
        kind: if c.kind.is_empty() {
            "ephemeral".to_owned()
        } else {
            c.kind
        },
        ttl: c.ttl,
    }
}

/// `system` (or a lifted system message): each non-empty text block is a part
/// with its own breakpoint. Other blocks are dropped and reported; a malformed
/// block is an error.
pub(crate) fn system_parts(
    content: AnthropicContent,
    at: &At<'_>,
    dropped: &mut Vec<String>,
) -> Result<Vec<SystemPart>, TranslateError> {
    match content {
        AnthropicContent::Text(text) if text.is_empty() => Ok(Vec::new()),
        AnthropicContent::Text(text) => Ok(vec![SystemPart::new(text)]),
        AnthropicContent::Blocks(blocks) => {
            let mut parts = Vec::with_capacity(blocks.len());
            for (j, block) in blocks.into_iter().enumerate() {
                match block {
                    AnthropicContentBlock::Text(t) => {
                        if !t.text.is_empty() {
                            parts.push(SystemPart {
                                text: t.text,
                                cache_control: t.cache_control.map(cache_control),
                            });
                        }
                    }
                    AnthropicContentBlock::Unknown(u)
                        if KNOWN_BLOCK_TYPES.contains(&u.kind.as_str()) =>
                    {
                        let path = at.index(j).to_string();
                        return Err(known_block_error(&u.kind, &u.fields, &path)
                            .unwrap_or_else(|| TranslateError::new(path, "malformed block")));
                    }
                    other => dropped.push(format!("{}: {}", at.index(j), block_type(&other))),
                }
            }
            Ok(parts)
        }
    }
}

fn block_type(block: &AnthropicContentBlock) -> &str {
    match block {
        AnthropicContentBlock::Text(_) => "text",
        AnthropicContentBlock::Image(_) => "image",
        AnthropicContentBlock::Document(_) => "document",
        AnthropicContentBlock::SearchResult(_) => "search_result",
        AnthropicContentBlock::ToolUse(_) => "tool_use",
        AnthropicContentBlock::ToolResult(_) => "tool_result",
        AnthropicContentBlock::Thinking(_) => "thinking",
        AnthropicContentBlock::RedactedThinking(_) => "redacted_thinking",
        AnthropicContentBlock::ServerToolUse(_) => "server_tool_use",
        AnthropicContentBlock::WebSearchToolResult(_) => "web_search_tool_result",
        AnthropicContentBlock::Unknown(u) => &u.kind,
    }
}

/// Converts the blocks of one conversation, remembering tool-call names so that
/// results can name their function.
pub(crate) struct BlockDecoder<'a> {
    call_names: HashMap<String, String>,
    dropped: &'a mut Vec<String>,
}

impl<'a> BlockDecoder<'a> {
    pub(crate) fn new(dropped: &'a mut Vec<String>) -> Self {
        Self {
            call_names: HashMap::default(),
            dropped,
        }
    }

    pub(crate) fn dropped(&mut self) -> &mut Vec<String> {
        self.dropped
    }

    /// A message's content, and its breakpoint: the last `cache_control` among its
    /// blocks.
    pub(crate) fn content(
        &mut self,
        content: AnthropicContent,
        at: &At<'_>,
    ) -> Result<(Vec<ContentBlock>, Option<CacheControl>), TranslateError> {
        match content {
            AnthropicContent::Text(t) if t.is_empty() => Ok((Vec::new(), None)),
            AnthropicContent::Text(t) => Ok((vec![ContentBlock::text(t)], None)),
            AnthropicContent::Blocks(blocks) => {
                let mut out = Vec::with_capacity(blocks.len());
                let mut cache = None;
                for (j, block) in blocks.into_iter().enumerate() {
                    if let Some(c) = block.cache_control() {
                        cache = Some(cache_control(c.clone()));
                    }
                    self.block(block, &at.index(j), &mut out)?;
                }
                Ok((out, cache))
            }
        }
    }

    fn block(
        &mut self,
        block: AnthropicContentBlock,
        at: &At<'_>,
        out: &mut Vec<ContentBlock>,
    ) -> Result<(), TranslateError> {
        match block {
            AnthropicContentBlock::Text(t) => push_text(out, t.text),
            AnthropicContentBlock::Image(image) => out.push(ContentBlock::Image {
                source: media_source(image.source, &at.field("source"), None)?,
            }),
            AnthropicContentBlock::Document(doc) => self.document(doc, at, out)?,
            AnthropicContentBlock::SearchResult(r) => push_text(out, search_result_text(r)),
            AnthropicContentBlock::ToolUse(call) => {
                if call.name.is_empty() {
                    return Err(at.field("name").err("required"));
                }
                let id = if call.id.is_empty() {
                    format!("toolu_{}", path_suffix(&at.to_string()))
                } else {
                    call.id
                };
                self.call_names.insert(id.clone(), call.name.clone());
                out.push(ContentBlock::ToolCall {
                    id,
                    name: call.name,
                    arguments: arguments_value(call.input),
                    signature: None,
                });
            }
            AnthropicContentBlock::ToolResult(result) => self.tool_result(result, at, out)?,
            AnthropicContentBlock::Thinking(t) => {
                if !t.thinking.is_empty() || !t.signature.is_empty() {
                    out.push(ContentBlock::Thinking {
                        text: t.thinking,
                        signature: (!t.signature.is_empty())
                            .then(|| Signature::new(t.signature, None)),
                    });
                }
            }
            AnthropicContentBlock::RedactedThinking(r) => {
                if !r.data.is_empty() {
                    out.push(ContentBlock::RedactedThinking { data: r.data });
                }
            }
            AnthropicContentBlock::ServerToolUse(call) => {
                push_text(out, server_call_text(&call.name, &call.id, &call.input));
            }
            AnthropicContentBlock::WebSearchToolResult(r) => {
                push_text(out, web_search_text(&r.tool_use_id, &r.content));
            }
            AnthropicContentBlock::Unknown(u) => self.unknown(u.kind, u.fields, at, out)?,
        }
        Ok(())
    }

    fn document(
        &mut self,
        doc: AnthropicDocumentBlock,
        at: &At<'_>,
        out: &mut Vec<ContentBlock>,
    ) -> Result<(), TranslateError> {
        let title = doc.title.filter(|t| !t.is_empty());
        let context = doc.context.filter(|c| !c.is_empty());
        let source = doc.source;
        if !matches!(source.kind.as_str(), "text" | "content") {
            // A PDF (or other file): the title is its name; the context goes first.
            push_text(out, context.unwrap_or_default());
            let source = media_source(source, &at.field("source"), Some("application/pdf"))?;
            out.push(ContentBlock::File {
                source,
                name: title,
            });
            return Ok(());
        }
        let mut heading: Vec<String> = title.into_iter().chain(context).collect();
        match source.kind.as_str() {
            "text" => {
                heading.extend(source.data.filter(|d| !d.is_empty()));
                push_text(out, heading.join("\n\n"));
            }
            _ => {
                push_text(out, heading.join("\n\n"));
                if let Some(content) = source.content {
                    let (blocks, _) =
                        self.content(content, &at.field("source").field("content"))?;
                    out.extend(blocks);
                }
            }
        }
        Ok(())
    }

    fn tool_result(
        &mut self,
        result: AnthropicToolResultBlock,
        at: &At<'_>,
        out: &mut Vec<ContentBlock>,
    ) -> Result<(), TranslateError> {
        if result.tool_use_id.is_empty() {
            return Err(at.field("tool_use_id").err("required"));
        }
        let mut content = Vec::new();
        let mut files = Vec::new();
        if let Some(c) = result.content {
            let (blocks, _) = self.content(c, &at.field("content"))?;
            for block in blocks {
                match block {
                    ContentBlock::Text { text } => content.push(ToolResultContent::Text(text)),
                    ContentBlock::Image { source } => {
                        content.push(ToolResultContent::Image(source))
                    }
                    file @ ContentBlock::File { .. } => files.push(file),
                    _ => self
                        .dropped
                        .push(format!("{}: a non-content block", at.field("content"))),
                }
            }
        }
        out.push(ContentBlock::ToolResult {
            name: self.call_names.get(&result.tool_use_id).cloned(),
            call_id: result.tool_use_id,
            content,
            is_error: result.is_error.unwrap_or(false),
        });
        out.extend(files);
        Ok(())
    }

    fn unknown(
        &mut self,
        kind: String,
        fields: Map<String, Value>,
        at: &At<'_>,
        out: &mut Vec<ContentBlock>,
    ) -> Result<(), TranslateError> {
        if kind.is_empty() {
            return Err(at.field("type").err("required"));
        }
        if KNOWN_BLOCK_TYPES.contains(&kind.as_str()) {
            let path = at.to_string();
            return Err(known_block_error(&kind, &fields, &path)
                .unwrap_or_else(|| TranslateError::new(path, "malformed block")));
        }
        let text = |k: &str| fields.get(k).and_then(Value::as_str).unwrap_or("");
        if kind.ends_with("_tool_use") {
            let input = fields.get("input").cloned().unwrap_or(Value::Null);
            push_text(out, server_call_text(text("name"), text("id"), &input));
        } else if kind.ends_with("_tool_result") {
            let content = fields.get("content").cloned().unwrap_or(Value::Null);
            push_text(
                out,
                format!(
                    "[{kind} for {}]\n{}",
                    text("tool_use_id"),
                    value_text(&content)
                ),
            );
        } else {
            self.dropped.push(format!("{at}: {kind}"));
        }
        Ok(())
    }
}

fn push_text(out: &mut Vec<ContentBlock>, text: String) {
    if !text.is_empty() {
        out.push(ContentBlock::Text { text });
    }
}

/// `messages[3].content[1]` → `3_1`, for ids the client left out.
fn path_suffix(path: &str) -> String {
    path.chars()
        .filter(|c| c.is_ascii_digit() || *c == ']')
        .collect::<String>()
        .trim_end_matches(']')
        .replace(']', "_")
}

/// Why the block at `path` (a JSON value) does not parse, when it does not: the
/// first bad field of a block of a known type, looking into nested blocks first.
/// Blocks of unknown types, or without a `type`, are the decoder's to report.
pub(crate) fn block_error(block: &Value, path: &str) -> Option<TranslateError> {
    let Value::Object(fields) = block else {
        return Some(TranslateError::new(path, "expected an object"));
    };
    match fields.get("type") {
        None => None,
        Some(Value::String(kind)) => known_block_error(kind, fields, path),
        Some(_) => Some(TranslateError::new(
            format!("{path}.type"),
            "expected a string",
        )),
    }
}

fn known_block_error(
    kind: &str,
    fields: &Map<String, Value>,
    path: &str,
) -> Option<TranslateError> {
    fn first<T: DeserializeOwned>(
        fields: &Map<String, Value>,
        path: &str,
    ) -> Option<TranslateError> {
        first_bad_field::<T>(fields, &[], path).map(|(_, e)| e)
    }
    let nested = |items: Option<&Value>, at: &str| -> Option<TranslateError> {
        let Some(Value::Array(items)) = items else {
            return None;
        };
        items
            .iter()
            .enumerate()
            .find_map(|(k, item)| block_error(item, &format!("{path}.{at}[{k}]")))
    };
    match kind {
        "text" => first::<AnthropicTextBlock>(fields, path),
        "image" => first::<AnthropicImageBlock>(fields, path),
        "document" => nested(
            fields.get("source").and_then(|s| s.get("content")),
            "source.content",
        )
        .or_else(|| first::<AnthropicDocumentBlock>(fields, path)),
        "search_result" => nested(fields.get("content"), "content")
            .or_else(|| first::<AnthropicSearchResultBlock>(fields, path)),
        "tool_use" | "server_tool_use" => first::<AnthropicToolUseBlock>(fields, path),
        "tool_result" => nested(fields.get("content"), "content")
            .or_else(|| first::<AnthropicToolResultBlock>(fields, path)),
        "thinking" => first::<AnthropicThinkingBlock>(fields, path),
        "redacted_thinking" => first::<AnthropicRedactedThinkingBlock>(fields, path),
        "web_search_tool_result" => first::<AnthropicServerToolResultBlock>(fields, path),
        _ => None,
    }
}

/// Where an image's or document's bytes come from.
fn media_source(
    source: AnthropicSource,
    at: &At<'_>,
    default_mime: Option<&str>,
) -> Result<MediaSource, TranslateError> {
    let mime = source
        .media_type
        .filter(|m| !m.is_empty())
        .map(|m| m.to_ascii_lowercase());
    match source.kind.as_str() {
        "base64" => {
            let mime_type = mime
                .or(default_mime.map(str::to_owned))
                .ok_or_else(|| at.field("media_type").err("required"))?;
            let data = source
                .data
                .filter(|d| !d.is_empty())
                .ok_or_else(|| at.field("data").err("required"))?;
            Ok(MediaSource::Base64 { mime_type, data })
        }
        "url" => {
            let url = source.url.ok_or_else(|| at.field("url").err("required"))?;
            let mut media = media_from_url(&url, &at.field("url").to_string())?;
            if let MediaSource::Url { mime_type, .. } | MediaSource::FileId { mime_type, .. } =
                &mut media
                && mime_type.is_none()
            {
                *mime_type = mime.or(default_mime.map(str::to_owned));
            }
            Ok(media)
        }
        "file" => {
            let id = source
                .file_id
                .filter(|f| !f.is_empty())
                .ok_or_else(|| at.field("file_id").err("required"))?;
            Ok(MediaSource::FileId {
                id,
                mime_type: mime,
            })
        }
        "" => Err(at.field("type").err("required")),
        other => Err(at
            .field("type")
            .err(format!("unsupported source type `{other}`"))),
    }
}

/// Tool-call input: an object as is; a JSON string parsed; nothing is `{}`.
fn arguments_value(input: Value) -> Value {
    match input {
        obj @ Value::Object(_) => obj,
        Value::Null => Value::Object(Map::new()),
        Value::String(s) => parse_arguments(&s),
        other => serde_json::json!({ "_raw": other }),
    }
}

fn server_call_text(name: &str, id: &str, input: &Value) -> String {
    let input = match input {
        Value::Null => String::new(),
        other => format!(" {other}"),
    };
    format!("[server tool call {name} ({id})]{input}")
}

/// Web search results as a list of titles and URLs (the encrypted page content
/// is useless to any other model), or the error code.
fn web_search_text(tool_use_id: &str, content: &Value) -> String {
    match content {
        Value::Array(results) => {
            let mut out = format!("[web search results for {tool_use_id}]");
            for (n, r) in results.iter().enumerate() {
                let field = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("");
                out.push_str(&format!(
                    "\n{}. {} — {}",
                    n + 1,
                    field("title"),
                    field("url")
                ));
                if !field("page_age").is_empty() {
                    out.push_str(&format!(" ({})", field("page_age")));
                }
            }
            out
        }
        Value::Object(obj) => {
            let code = obj.get("error_code").and_then(Value::as_str).unwrap_or("");
            format!("[web search error for {tool_use_id}: {code}]")
        }
        other => format!(
            "[web search results for {tool_use_id}]\n{}",
            value_text(other)
        ),
    }
}

fn search_result_text(r: AnthropicSearchResultBlock) -> String {
    let mut out = format!("[search result: {} — {}]", r.title, r.source);
    for block in r.content {
        if let AnthropicContentBlock::Text(t) = block {
            out.push('\n');
            out.push_str(&t.text);
        }
    }
    out
}

/// Readable text of a server tool's `content`: a string, the texts of text
/// blocks, else compact JSON.
fn value_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let texts: Vec<&str> = items
                .iter()
                .filter_map(|i| i.get("text").and_then(Value::as_str))
                .collect();
            if texts.len() == items.len() && !texts.is_empty() {
                texts.join("\n")
            } else {
                content.to_string()
            }
        }
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
