//! IR request → Anthropic Messages request, for the Anthropic API and
//! Anthropic-compatible upstreams (z.ai's `https://api.z.ai/api/anthropic`).
//!
//! Content:
//! - system parts become text blocks, each with its `cache_control`; a message's
//!   cache breakpoint goes on its last block that may carry one (not thinking); at
//!   most 4 breakpoints are sent (the API's limit), the earliest message
//!   breakpoints giving way first;
//! - turns alternate and every `tool_use` is answered first thing in the next
//!   user turn ([`super::tool_pairing`]); ids keep only `[A-Za-z0-9_-]`, which the
//!   API requires of `tool_use` ids (the same mapping on call and result);
//! - images: base64, URL, or an Anthropic file id (`file_…`); documents: PDF
//!   (base64, URL, file id) and plain text (sent as a `text` source); other media
//!   and foreign file references are refused with a [`TranslateError`]. Media in
//!   assistant turns is dropped (the API takes none there);
//! - a tool result keeps its text and images and `is_error`;
//! - thinking is replayed only with a signature issued by the upstream model's
//!   family ([`Signature::valid_for`]: Claude for Claude models, so a Gemini or
//!   GLM signature never reaches Anthropic); unsigned or foreign thinking is
//!   dropped; `redacted_thinking` goes to Claude models only.
//!
//! Tools: function tools with `input_schema` = the client's JSON Schema as is
//! (`"type": "object"` is added when missing, which the API requires); `strict`
//! is not sent; web search becomes `web_search_20250305` for Claude models;
//! code execution is dropped (it needs a beta). `tool_choice` is sent only with
//! tools; `parallel_tool_calls: false` becomes `disable_parallel_tool_use`.
//!
//! Thinking and limits (Claude rules from the extended/adaptive thinking docs):
//! - `enabled` with `budget_tokens` (the client's, else from the effort, else
//!   16384), at least 1024 and below `max_tokens`; `adaptive` with
//!   `output_config.effort` on Claude ≥ 4.6; an `enabled` request becomes
//!   adaptive on Claude ≥ 4.7 (manual thinking is refused there) and an
//!   adaptive one becomes a budget on older or non-Claude models; `disabled` is
//!   sent as is; no IR thinking config sends none;
//! - thinking is turned off when `tool_choice` forces a tool ("Thinking may not be
//!   enabled when tool_choice forces tool use") and, for Claude, when the request
//!   answers tool calls whose assistant turn does not start with a thinking block
//!   ("a final assistant message must start with a thinking block");
//! - with thinking on, Claude gets no `temperature`/`top_k` and `top_p` only
//!   within 0.95–1; Claude never gets both `temperature` and `top_p` (refused since
//!   Opus 4.1), `top_p` gives way;
//! - without thinking, a final (prefill) assistant turn loses its thinking blocks
//!   and, always, its trailing whitespace — both refused by the API;
//! - `max_tokens` is required: the client's value, else 8192 (16384 with adaptive
//!   thinking); with a budget it is raised to budget + 8192 (within the model's
//!   output limit) when not above the budget.
//!
//! `metadata.user_id` carries the IR user (up to 256 characters).

use std::borrow::Cow;

use serde_json::{Value, json};

use super::TranslateError;
use super::encode_gemini_config::{
    ANSWER_HEADROOM, CLAUDE_DEFAULT_BUDGET, CLAUDE_MIN_BUDGET, budget_level, effort_budget,
};
use super::model_info::{claude_version, max_output_tokens};
use super::tool_pairing::{Item, MISSING_RESULT, orphan_text, turns};
use crate::anthropic::{
    AnthropicCacheControl, AnthropicContent, AnthropicContentBlock, AnthropicDocumentBlock,
    AnthropicImageBlock, AnthropicMessageParam, AnthropicMetadata, AnthropicOutputConfig,
    AnthropicOutputFormat, AnthropicRedactedThinkingBlock, AnthropicRole, AnthropicSource,
    AnthropicTextBlock, AnthropicThinkingBlock, AnthropicThinkingConfig, AnthropicTool,
    AnthropicToolChoice, AnthropicToolResultBlock, AnthropicToolUseBlock, MessagesRequest,
};
use crate::ir::{
    CacheControl, ContentBlock, MediaSource, ModelFamily, ReasoningEffort, Request, ResponseFormat,
    Role, ThinkingConfig, ThinkingMode, Tool, ToolChoice, ToolResultContent,
};
use crate::json::RawJson;

/// `max_tokens` when the client gave none.
pub const DEFAULT_MAX_TOKENS: u32 = 8_192;
/// `max_tokens` when the client gave none and thinking is adaptive.
const ADAPTIVE_MAX_TOKENS: u32 = 16_384;
/// The API accepts at most this many `cache_control` breakpoints.
const MAX_BREAKPOINTS: usize = 4;
const MAX_USER_ID_LEN: usize = 256;

/// Encode `req` for `upstream_model` (the name the upstream knows).
pub fn encode_anthropic_request(
    req: &Request,
    upstream_model: &str,
) -> Result<MessagesRequest, TranslateError> {
    let family = ModelFamily::of(upstream_model);
    let claude = family == ModelFamily::Claude;
    let mut messages = encode_messages(req, family)?;
    let system = system_blocks(req);
    let tools = encode_tools(&req.tools, claude);

    let mut plan = Plan::of(req.thinking.as_ref(), upstream_model, claude);
    if plan.is_on() && claude {
        let forced = matches!(req.tool_choice, ToolChoice::Required | ToolChoice::Tool(_));
        if (forced && !tools.is_empty()) || tool_turn_without_thinking(&messages) {
            plan = Plan::Unset;
        }
    }
    if !plan.is_on() {
        strip_final_thinking(&mut messages);
    }
    trim_final_assistant(&mut messages);

    let g = &req.generation;
    let (mut temperature, mut top_p, mut top_k) = (g.temperature, g.top_p, g.top_k);
    if claude && plan.is_on() {
        temperature = None;
        top_k = None;
        top_p = top_p.filter(|p| (0.95..=1.0).contains(p));
    }
    if claude && temperature.is_some() {
        top_p = None;
    }
    let limit = if claude {
        max_output_tokens(upstream_model)
    } else {
        u32::MAX
    };
    let (thinking, effort, max_tokens) = plan.wire(g.max_output_tokens, limit, upstream_model);

    let mut wire = MessagesRequest {
        model: upstream_model.to_owned(),
        messages,
        system,
        max_tokens: Some(max_tokens),
        metadata: req
            .meta
            .user
            .as_deref()
            .filter(|u| !u.is_empty() && u.len() <= MAX_USER_ID_LEN)
            .map(|u| AnthropicMetadata {
                user_id: Some(u.to_owned()),
            }),
        stop_sequences: g
            .stop_sequences
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect(),
        stream: req.stream.then_some(true),
        temperature,
        top_p,
        top_k,
        tool_choice: if tools.is_empty() {
            None
        } else {
            tool_choice(&req.tool_choice, req.parallel_tool_calls)
        },
        tools,
        thinking,
        ..MessagesRequest::default()
    };
    let format = match &req.response_format {
        ResponseFormat::JsonSchema { schema, .. } if claude => Some(AnthropicOutputFormat {
            kind: "json_schema".to_owned(),
            schema: Some(schema.clone()),
        }),
        _ => None,
    };
    if effort.is_some() || format.is_some() {
        wire.output_config = Some(AnthropicOutputConfig {
            effort: effort.map(str::to_owned),
            format,
        });
    }
    limit_breakpoints(&mut wire);
    Ok(wire)
}

/// What to send as `thinking`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Plan {
    /// No `thinking` field.
    Unset,
    Disabled,
    Budget(u32),
    Adaptive(Option<ReasoningEffort>, Option<u32>),
}

impl Plan {
    fn of(config: Option<&ThinkingConfig>, model: &str, claude: bool) -> Self {
        let Some(c) = config else {
            return Plan::Unset;
        };
        let none_effort = c.effort == Some(ReasoningEffort::None) && c.budget_tokens.is_none();
        if c.mode == ThinkingMode::Disabled || none_effort || c.budget_tokens == Some(0) {
            return Plan::Disabled;
        }
        let version = if claude { claude_version(model) } else { None };
        let adaptive_ok = version.is_some_and(|v| v >= (4, 6));
        let manual_ok = version.is_none_or(|v| v < (4, 7));
        let adaptive = c.mode == ThinkingMode::Adaptive || !manual_ok;
        if adaptive && adaptive_ok {
            return Plan::Adaptive(c.effort, c.budget_tokens);
        }
        Plan::Budget(
            c.budget_tokens
                .or_else(|| c.effort.and_then(effort_budget))
                .unwrap_or(CLAUDE_DEFAULT_BUDGET),
        )
    }

    fn is_on(self) -> bool {
        matches!(self, Plan::Budget(_) | Plan::Adaptive(..))
    }

    /// `thinking`, `output_config.effort` and `max_tokens`.
    fn wire(
        self,
        max: Option<u32>,
        limit: u32,
        model: &str,
    ) -> (Option<AnthropicThinkingConfig>, Option<&'static str>, u32) {
        let config = |kind: &str, budget: Option<u32>| AnthropicThinkingConfig {
            kind: kind.to_owned(),
            budget_tokens: budget.map(u64::from),
            display: None,
        };
        match self {
            Plan::Unset => (None, None, max.unwrap_or(DEFAULT_MAX_TOKENS)),
            Plan::Disabled => (
                Some(config("disabled", None)),
                None,
                max.unwrap_or(DEFAULT_MAX_TOKENS),
            ),
            Plan::Budget(budget) => {
                let ceiling = limit
                    .saturating_sub(CLAUDE_MIN_BUDGET)
                    .max(CLAUDE_MIN_BUDGET);
                let budget = budget.clamp(CLAUDE_MIN_BUDGET, ceiling);
                let max = match max {
                    Some(m) if m > budget => m,
                    _ => budget.saturating_add(ANSWER_HEADROOM).min(limit),
                };
                let max = max.max(budget.saturating_add(1));
                (Some(config("enabled", Some(budget))), None, max)
            }
            Plan::Adaptive(effort, budget) => {
                let level = match (effort, budget) {
                    (Some(e), _) => effort_name(e, model),
                    (None, Some(b)) => match budget_level(b) {
                        "minimal" | "low" => Some("low"),
                        "medium" => Some("medium"),
                        _ => Some("high"),
                    },
                    (None, None) => None,
                };
                (
                    Some(config("adaptive", None)),
                    level,
                    max.unwrap_or(ADAPTIVE_MAX_TOKENS),
                )
            }
        }
    }
}

/// `output_config.effort`: `low`, `medium`, `high`, and `max` (Opus models only).
fn effort_name(effort: ReasoningEffort, model: &str) -> Option<&'static str> {
    Some(match effort {
        ReasoningEffort::None => return None,
        ReasoningEffort::Minimal | ReasoningEffort::Low => "low",
        ReasoningEffort::Medium => "medium",
        ReasoningEffort::High => "high",
        ReasoningEffort::XHigh if model.to_ascii_lowercase().contains("opus") => "max",
        ReasoningEffort::XHigh => "high",
    })
}

fn cache(c: &CacheControl) -> AnthropicCacheControl {
    AnthropicCacheControl {
        kind: c.kind.clone(),
        ttl: c.ttl.clone(),
    }
}

fn system_blocks(req: &Request) -> Option<AnthropicContent> {
    let blocks: Vec<AnthropicContentBlock> = req
        .system
        .iter()
        .filter(|p| !p.text.is_empty())
        .map(|p| {
            AnthropicContentBlock::Text(AnthropicTextBlock {
                text: p.text.clone(),
                cache_control: p.cache_control.as_ref().map(cache),
                ..AnthropicTextBlock::default()
            })
        })
        .collect();
    (!blocks.is_empty()).then_some(AnthropicContent::Blocks(blocks))
}

/// A `tool_use` id the API accepts (`^[a-zA-Z0-9_-]+$`).
fn tool_id(id: &str) -> Cow<'_, str> {
    if id.is_empty() {
        return Cow::Borrowed("toolu_unnamed");
    }
    if id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Cow::Borrowed(id);
    }
    Cow::Owned(
        id.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect(),
    )
}

fn encode_messages(
    req: &Request,
    family: ModelFamily,
) -> Result<Vec<AnthropicMessageParam>, TranslateError> {
    let mut out = Vec::with_capacity(req.messages.len());
    for (i, turn) in turns(&req.messages).iter().enumerate() {
        let mut blocks: Vec<AnthropicContentBlock> = Vec::with_capacity(turn.items.len());
        for item in &turn.items {
            match item {
                Item::Breakpoint(c) => set_breakpoint(&mut blocks, c),
                Item::MissingResult { call_id } => {
                    blocks.push(AnthropicContentBlock::ToolResult(
                        AnthropicToolResultBlock {
                            tool_use_id: tool_id(call_id).into_owned(),
                            content: Some(AnthropicContent::Text(MISSING_RESULT.to_owned())),
                            is_error: Some(true),
                            ..AnthropicToolResultBlock::default()
                        },
                    ));
                }
                Item::OrphanResult(block) => {
                    blocks.push(AnthropicContentBlock::text(orphan_text(block)));
                }
                Item::Block(block) => match turn.role {
                    Role::Assistant => assistant_block(block, family, &mut blocks),
                    Role::User => user_block(block, i, &mut blocks)?,
                },
            }
        }
        if blocks.is_empty() {
            continue;
        }
        let role = match turn.role {
            Role::User => AnthropicRole::User,
            Role::Assistant => AnthropicRole::Assistant,
        };
        out.push(AnthropicMessageParam {
            role,
            content: AnthropicContent::Blocks(blocks),
        });
    }
    Ok(out)
}

/// Put a breakpoint on the last block that may carry one.
fn set_breakpoint(blocks: &mut [AnthropicContentBlock], c: &CacheControl) {
    for block in blocks.iter_mut().rev() {
        let slot = match block {
            AnthropicContentBlock::Text(b) => &mut b.cache_control,
            AnthropicContentBlock::Image(b) => &mut b.cache_control,
            AnthropicContentBlock::Document(b) => &mut b.cache_control,
            AnthropicContentBlock::ToolUse(b) => &mut b.cache_control,
            AnthropicContentBlock::ToolResult(b) => &mut b.cache_control,
            _ => continue,
        };
        *slot = Some(cache(c));
        return;
    }
}

fn assistant_block(
    block: &ContentBlock,
    family: ModelFamily,
    out: &mut Vec<AnthropicContentBlock>,
) {
    match block {
        ContentBlock::Text { text } if !text.is_empty() => {
            out.push(AnthropicContentBlock::text(text.clone()));
        }
        ContentBlock::Thinking {
            text,
            signature: Some(sig),
        } if sig.valid_for(family) && !sig.value.is_empty() => {
            out.push(AnthropicContentBlock::Thinking(AnthropicThinkingBlock {
                thinking: text.clone(),
                signature: sig.value.clone(),
                ..AnthropicThinkingBlock::default()
            }));
        }
        ContentBlock::RedactedThinking { data } if family == ModelFamily::Claude => {
            out.push(AnthropicContentBlock::RedactedThinking(
                AnthropicRedactedThinkingBlock { data: data.clone() },
            ));
        }
        ContentBlock::ToolCall {
            id,
            name,
            arguments,
            ..
        } => out.push(AnthropicContentBlock::ToolUse(AnthropicToolUseBlock {
            id: tool_id(id).into_owned(),
            name: name.clone(),
            input: match arguments {
                Value::Object(_) => arguments.clone(),
                other => json!({ "_raw": other }),
            },
            ..AnthropicToolUseBlock::default()
        })),
        _ => {}
    }
}

fn user_block(
    block: &ContentBlock,
    turn: usize,
    out: &mut Vec<AnthropicContentBlock>,
) -> Result<(), TranslateError> {
    let path = || format!("messages[{turn}].content");
    match block {
        ContentBlock::Text { text } if !text.is_empty() => {
            out.push(AnthropicContentBlock::text(text.clone()));
        }
        ContentBlock::Image { source } => out.push(image(source, &path)?),
        ContentBlock::File { source, name } => out.push(document(source, name.as_deref(), &path)?),
        ContentBlock::ToolResult {
            call_id,
            content,
            is_error,
            ..
        } => {
            let mut parts: Vec<AnthropicContentBlock> = Vec::with_capacity(content.len());
            for c in content {
                match c {
                    ToolResultContent::Text(t) if !t.is_empty() => {
                        parts.push(AnthropicContentBlock::text(t.clone()));
                    }
                    ToolResultContent::Text(_) => {}
                    ToolResultContent::Image(source) => parts.push(image(source, &path)?),
                }
            }
            let content = match parts.as_slice() {
                [] => None,
                [AnthropicContentBlock::Text(t)] => Some(AnthropicContent::Text(t.text.clone())),
                _ => Some(AnthropicContent::Blocks(parts)),
            };
            out.push(AnthropicContentBlock::ToolResult(
                AnthropicToolResultBlock {
                    tool_use_id: tool_id(call_id).into_owned(),
                    content,
                    is_error: is_error.then_some(true),
                    ..AnthropicToolResultBlock::default()
                },
            ));
        }
        _ => {}
    }
    Ok(())
}

fn source(
    media: &MediaSource,
    path: &impl Fn() -> String,
) -> Result<AnthropicSource, TranslateError> {
    Ok(match media {
        MediaSource::Base64 { mime_type, data } => AnthropicSource {
            kind: "base64".to_owned(),
            media_type: Some(mime_type.clone()),
            data: Some(data.clone()),
            ..AnthropicSource::default()
        },
        MediaSource::Url { url, .. } => AnthropicSource {
            kind: "url".to_owned(),
            url: Some(url.clone()),
            ..AnthropicSource::default()
        },
        MediaSource::FileId { id, .. } if id.starts_with("file_") => AnthropicSource {
            kind: "file".to_owned(),
            file_id: Some(id.clone()),
            ..AnthropicSource::default()
        },
        MediaSource::FileId { id, .. } => {
            return Err(TranslateError::new(
                path(),
                format!("the file reference `{id}` cannot be sent to this upstream"),
            ));
        }
    })
}

fn image(
    media: &MediaSource,
    path: &impl Fn() -> String,
) -> Result<AnthropicContentBlock, TranslateError> {
    Ok(AnthropicContentBlock::Image(AnthropicImageBlock {
        source: source(media, path)?,
        cache_control: None,
    }))
}

fn document(
    media: &MediaSource,
    name: Option<&str>,
    path: &impl Fn() -> String,
) -> Result<AnthropicContentBlock, TranslateError> {
    let mime = media.mime_type().unwrap_or("application/pdf");
    if mime.starts_with("image/") {
        return image(media, path);
    }
    let source = match media {
        MediaSource::Base64 { data, .. } if mime.starts_with("text/") => {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|_| TranslateError::new(path(), "malformed base64 text document"))?;
            AnthropicSource {
                kind: "text".to_owned(),
                media_type: Some("text/plain".to_owned()),
                data: Some(String::from_utf8_lossy(&bytes).into_owned()),
                ..AnthropicSource::default()
            }
        }
        _ if mime == "application/pdf" => source(media, path)?,
        _ => {
            return Err(TranslateError::new(
                path(),
                format!("`{mime}` documents cannot be sent to this upstream"),
            ));
        }
    };
    Ok(AnthropicContentBlock::Document(AnthropicDocumentBlock {
        source,
        title: name.filter(|n| !n.is_empty()).map(str::to_owned),
        ..AnthropicDocumentBlock::default()
    }))
}

fn encode_tools(tools: &[Tool], claude: bool) -> Vec<AnthropicTool> {
    let mut out = Vec::with_capacity(tools.len());
    for tool in tools {
        match tool {
            Tool::Function(f) => out.push(AnthropicTool {
                name: f.name.clone(),
                description: f.description.clone(),
                input_schema: Some(input_schema(&f.parameters)),
                cache_control: f.cache_control.as_ref().map(cache),
                ..AnthropicTool::default()
            }),
            Tool::WebSearch if claude => out.push(AnthropicTool {
                kind: Some("web_search_20250305".to_owned()),
                name: "web_search".to_owned(),
                ..AnthropicTool::default()
            }),
            Tool::WebSearch | Tool::CodeExecution => {}
        }
    }
    out
}

/// The schema as given, with the `"type": "object"` the API requires.
fn input_schema(parameters: &RawJson) -> RawJson {
    if !parameters.is_object() {
        return RawJson::empty_object_schema();
    }
    match parameters.to_value() {
        Value::Object(map) if map.contains_key("type") => parameters.clone(),
        Value::Object(mut map) => {
            map.insert("type".to_owned(), Value::from("object"));
            if !map.contains_key("properties") {
                map.insert("properties".to_owned(), json!({}));
            }
            RawJson::from(Value::Object(map))
        }
        _ => RawJson::empty_object_schema(),
    }
}

fn tool_choice(choice: &ToolChoice, parallel: Option<bool>) -> Option<AnthropicToolChoice> {
    let disable = (parallel == Some(false)).then_some(true);
    let (kind, name) = match choice {
        ToolChoice::Auto if disable.is_none() => return None,
        ToolChoice::Auto => ("auto", None),
        ToolChoice::None => {
            return Some(AnthropicToolChoice {
                kind: "none".to_owned(),
                ..AnthropicToolChoice::default()
            });
        }
        ToolChoice::Required => ("any", None),
        ToolChoice::Tool(name) => ("tool", Some(name.clone())),
    };
    Some(AnthropicToolChoice {
        kind: kind.to_owned(),
        name,
        disable_parallel_tool_use: disable,
    })
}

fn blocks_of(m: &AnthropicMessageParam) -> &[AnthropicContentBlock] {
    match &m.content {
        AnthropicContent::Blocks(b) => b,
        AnthropicContent::Text(_) => &[],
    }
}

/// The request answers tool calls whose assistant turn does not start with a
/// thinking block.
fn tool_turn_without_thinking(messages: &[AnthropicMessageParam]) -> bool {
    let [.., assistant, last] = messages else {
        return false;
    };
    let answers_calls = last.role == AnthropicRole::User
        && blocks_of(last)
            .iter()
            .any(|b| matches!(b, AnthropicContentBlock::ToolResult(_)));
    answers_calls
        && !matches!(
            blocks_of(assistant).first(),
            Some(AnthropicContentBlock::Thinking(_) | AnthropicContentBlock::RedactedThinking(_))
        )
}

fn final_assistant(
    messages: &mut [AnthropicMessageParam],
) -> Option<&mut Vec<AnthropicContentBlock>> {
    match messages.last_mut() {
        Some(AnthropicMessageParam {
            role: AnthropicRole::Assistant,
            content: AnthropicContent::Blocks(blocks),
            ..
        }) => Some(blocks),
        _ => None,
    }
}

fn strip_final_thinking(messages: &mut Vec<AnthropicMessageParam>) {
    if let Some(blocks) = final_assistant(messages) {
        blocks.retain(|b| {
            !matches!(
                b,
                AnthropicContentBlock::Thinking(_) | AnthropicContentBlock::RedactedThinking(_)
            )
        });
        if blocks.is_empty() {
            messages.pop();
        }
    }
}

/// "Final assistant content cannot end with trailing whitespace."
fn trim_final_assistant(messages: &mut Vec<AnthropicMessageParam>) {
    let Some(blocks) = final_assistant(messages) else {
        return;
    };
    if let Some(AnthropicContentBlock::Text(t)) = blocks.last_mut() {
        let len = t.text.trim_end().len();
        t.text.truncate(len);
        if t.text.is_empty() {
            blocks.pop();
        }
    }
    if blocks.is_empty() {
        messages.pop();
    }
}

/// Keep at most [`MAX_BREAKPOINTS`]: message breakpoints go first, earliest first.
fn limit_breakpoints(wire: &mut MessagesRequest) {
    fn slot(block: &mut AnthropicContentBlock) -> Option<&mut Option<AnthropicCacheControl>> {
        match block {
            AnthropicContentBlock::Text(b) => Some(&mut b.cache_control),
            AnthropicContentBlock::Image(b) => Some(&mut b.cache_control),
            AnthropicContentBlock::Document(b) => Some(&mut b.cache_control),
            AnthropicContentBlock::ToolUse(b) => Some(&mut b.cache_control),
            AnthropicContentBlock::ToolResult(b) => Some(&mut b.cache_control),
            _ => None,
        }
    }
    let mut count = wire
        .tools
        .iter()
        .filter(|t| t.cache_control.is_some())
        .count();
    if let Some(AnthropicContent::Blocks(system)) = &mut wire.system {
        count += system
            .iter_mut()
            .filter_map(slot)
            .filter(|s| s.is_some())
            .count();
    }
    let in_messages = wire
        .messages
        .iter_mut()
        .filter_map(|m| match &mut m.content {
            AnthropicContent::Blocks(b) => Some(b),
            AnthropicContent::Text(_) => None,
        })
        .flat_map(|b| b.iter_mut())
        .filter_map(slot)
        .filter(|s| s.is_some())
        .count();
    let mut excess = (count + in_messages).saturating_sub(MAX_BREAKPOINTS);
    if excess == 0 {
        return;
    }
    let message_slots = wire
        .messages
        .iter_mut()
        .filter_map(|m| match &mut m.content {
            AnthropicContent::Blocks(b) => Some(b),
            AnthropicContent::Text(_) => None,
        })
        .flat_map(|b| b.iter_mut())
        .filter_map(slot);
    let system_slots = wire
        .system
        .iter_mut()
        .filter_map(|s| match s {
            AnthropicContent::Blocks(b) => Some(b),
            AnthropicContent::Text(_) => None,
        })
        .flat_map(|b| b.iter_mut())
        .filter_map(slot);
    for s in message_slots.chain(system_slots) {
        if excess == 0 {
            break;
        }
        if s.take().is_some() {
            excess -= 1;
        }
    }
}

#[cfg(test)]
#[path = "encode_anthropic_request_tests.rs"]
mod tests;
