//! IR request → OpenAI Chat Completions request, for OpenAI and any
//! OpenAI-compatible server (vLLM, Ollama, llama.cpp, DeepSeek, OpenRouter, z.ai's
//! `paas/v4`, …).
//!
//! Messages:
//! - all system parts become one `system` message (OpenAI maps it to `developer`
//!   for its reasoning models itself; compatible servers know only `system`);
//! - user content: text (several text blocks are joined by a blank line and sent
//!   as a string, which every server reads), images as `image_url` (a data URL
//!   for inline bytes), PDFs as `file` parts (`file_data` data URL, or an OpenAI
//!   `file-…` id), WAV/MP3 as `input_audio`, plain-text documents as text; other
//!   media and foreign file references are refused with a [`TranslateError`];
//! - assistant turns: their text, and `tool_calls` with `arguments` as a JSON
//!   string; media in assistant turns is dropped;
//! - tool results become `role: "tool"` messages with `tool_call_id`, one per
//!   call, right after the assistant turn and in call order
//!   ([`super::tool_pairing`]); a result's images follow in a user message (tool
//!   messages carry text only); `is_error` prefixes the text with `[tool error]`;
//! - call ids longer than 40 characters (OpenAI's limit) are replaced by a stable
//!   hash (`call_<16 hex>`), the same for the call and its result;
//! - thinking: signatures never leave (no OpenAI-compatible server takes them).
//!   The text is replayed as `reasoning_content` on assistant turns according to
//!   [`ReasoningReplay`]: by default not at all (OpenAI rejects the field; the
//!   original `deepseek-reasoner` rejected it in input), and for `deepseek*`
//!   models on the turns with tool calls, which DeepSeek's thinking mode
//!   requires ("the `reasoning_content` must be passed back … for turns that
//!   perform tool calls", api-docs.deepseek.com thinking mode guide).
//!
//! Parameters: tools (`type: function`, `parameters` as given, `strict`; web
//! search and code execution are dropped), `tool_choice` and
//! `parallel_tool_calls` only with tools; `max_tokens`, or `max_completion_tokens`
//! for OpenAI reasoning models (o1/o3/o4/GPT-5), which refuse `max_tokens` and
//! any non-default `temperature`/`top_p`/penalties — those are not sent to them;
//! `top_k` and more than 4 stop sequences are not sent to OpenAI's own models;
//! `n`, `seed`, `response_format` (`json_object` / `json_schema`);
//! `reasoning_effort` from the IR effort (or a budget's level) — `none`,
//! `minimal` and `xhigh` only to GPT-5 models, else clamped to `low`–`high` —
//! not sent to OpenAI's non-reasoning models; `thinking: {"type": "enabled"|"disabled"}` for
//! DeepSeek and GLM models, whose thinking toggle it is; `stream: true` with
//! `stream_options.include_usage`; `user`.
//!
//! [`OpenAiChatOptions::for_model`] derives these choices from the model name; a
//! caller that knows the server better passes its own options.

use serde_json::{Value, json};

use super::TranslateError;
use super::encode_gemini_config::budget_level;
use super::encode_openai_chat::arguments_string;
use super::model_info::{is_openai_reasoning_model, normalise};
use super::tool_pairing::{Item, MISSING_RESULT, orphan_text, turns};
use crate::OneOrMany;
use crate::ir::{
    ContentBlock, MediaSource, ModelFamily, ReasoningEffort, Request, ResponseFormat, Role,
    ThinkingMode, Tool, ToolChoice, ToolResultContent,
};
use crate::json::RawJson;
use crate::openai::{
    ChatCompletionRequest, ChatContentPart, ChatFile, ChatFunctionCall, ChatMessage,
    ChatResponseFormat, ChatRole, ChatTool, ChatToolCall, FunctionDefinition, ImageUrl, InputAudio,
    JsonSchemaFormat, MessageContent, StreamOptions,
};

/// OpenAI accepts tool-call ids up to this length.
const MAX_CALL_ID_LEN: usize = 40;
/// OpenAI accepts at most this many stop sequences.
const MAX_OPENAI_STOPS: usize = 4;

/// Which assistant turns send their thinking text back as `reasoning_content`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasoningReplay {
    /// Never (the safe default: OpenAI refuses the field).
    Drop,
    /// Assistant turns with tool calls (DeepSeek thinking mode requires it;
    /// `""` when the turn has no thinking).
    ToolCallTurns,
    /// Every assistant turn that has thinking text.
    All,
}

/// Server-specific choices of the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenAiChatOptions {
    pub reasoning_replay: ReasoningReplay,
    /// Send `thinking: {"type": "enabled"|"disabled"}` (DeepSeek, z.ai GLM).
    pub thinking_toggle: bool,
    /// An OpenAI reasoning model: `max_completion_tokens`, default sampling.
    pub reasoning_model: bool,
    /// OpenAI's own API: no `top_k`, at most 4 stop sequences, and no
    /// `reasoning_effort` unless it is a reasoning model.
    pub openai_api: bool,
    /// `reasoning_effort` may be `none`, `minimal` or `xhigh` (GPT-5 models);
    /// otherwise only `low`, `medium` and `high` are sent (the o-series and
    /// servers such as vLLM refuse other values), `none` is not sent at all.
    pub extended_efforts: bool,
}

impl OpenAiChatOptions {
    /// The options for `model`, from its name.
    pub fn for_model(model: &str) -> Self {
        let m = normalise(model);
        let deepseek = m.starts_with("deepseek");
        Self {
            reasoning_replay: if deepseek {
                ReasoningReplay::ToolCallTurns
            } else {
                ReasoningReplay::Drop
            },
            thinking_toggle: deepseek || m.starts_with("glm"),
            reasoning_model: is_openai_reasoning_model(&m),
            openai_api: ModelFamily::of(&m) == ModelFamily::Gpt && !m.starts_with("gpt-oss"),
            extended_efforts: m.starts_with("gpt-5"),
        }
    }
}

/// Encode `req` for `upstream_model`, with [`OpenAiChatOptions::for_model`].
pub fn encode_openai_chat_request(
    req: &Request,
    upstream_model: &str,
) -> Result<ChatCompletionRequest, TranslateError> {
    encode_openai_chat_request_with(
        req,
        upstream_model,
        &OpenAiChatOptions::for_model(upstream_model),
    )
}

/// Encode `req` for `upstream_model` with explicit options.
pub fn encode_openai_chat_request_with(
    req: &Request,
    upstream_model: &str,
    opts: &OpenAiChatOptions,
) -> Result<ChatCompletionRequest, TranslateError> {
    let g = &req.generation;
    let sampling = !opts.reasoning_model;
    let tools: Vec<ChatTool> = req.tools.iter().filter_map(tool).collect();
    let has_tools = !tools.is_empty();
    let mut stops: Vec<String> = g
        .stop_sequences
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect();
    if opts.openai_api {
        stops.truncate(MAX_OPENAI_STOPS);
    }
    Ok(ChatCompletionRequest {
        model: upstream_model.to_owned(),
        messages: messages(req, opts)?,
        tool_choice: if has_tools {
            tool_choice(&req.tool_choice)
        } else {
            None
        },
        parallel_tool_calls: req.parallel_tool_calls.filter(|_| has_tools),
        tools,
        max_tokens: g.max_output_tokens.filter(|_| !opts.reasoning_model),
        max_completion_tokens: g.max_output_tokens.filter(|_| opts.reasoning_model),
        temperature: g.temperature.filter(|_| sampling),
        top_p: g.top_p.filter(|_| sampling),
        top_k: g.top_k.filter(|_| !opts.openai_api),
        n: g.candidate_count.filter(|&n| n > 1),
        stop: match stops.len() {
            0 => None,
            _ => Some(OneOrMany::Many(stops)),
        },
        presence_penalty: g.presence_penalty.filter(|_| sampling),
        frequency_penalty: g.frequency_penalty.filter(|_| sampling),
        seed: g.seed,
        response_format: response_format(&req.response_format),
        reasoning_effort: reasoning_effort(req, opts.extended_efforts)
            .filter(|_| !opts.openai_api || opts.reasoning_model)
            .map(str::to_owned),
        thinking: thinking_toggle(req).filter(|_| opts.thinking_toggle),
        stream: req.stream.then_some(true),
        stream_options: req.stream.then_some(StreamOptions {
            include_usage: Some(true),
        }),
        user: req.meta.user.clone().filter(|u| !u.is_empty()),
        ..ChatCompletionRequest::default()
    })
}

fn message(role: ChatRole) -> ChatMessage {
    ChatMessage {
        role,
        content: None,
        name: None,
        tool_calls: Vec::new(),
        tool_call_id: None,
        function_call: None,
        reasoning_content: None,
        refusal: None,
    }
}

/// A call id OpenAI accepts: the id, or a stable hash of it when too long.
fn call_id(id: &str) -> String {
    if !id.is_empty() && id.len() <= MAX_CALL_ID_LEN {
        return id.to_owned();
    }
    // FNV-1a: stable across runs and versions, unlike the std hasher.
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("call_{hash:016x}")
}

fn messages(req: &Request, opts: &OpenAiChatOptions) -> Result<Vec<ChatMessage>, TranslateError> {
    let mut out = Vec::with_capacity(req.messages.len() + 1);
    if let Some(system) = req.system_text().filter(|s| !s.is_empty()) {
        let mut m = message(ChatRole::System);
        m.content = Some(MessageContent::Text(system));
        out.push(m);
    }
    for (i, turn) in turns(&req.messages).iter().enumerate() {
        match turn.role {
            Role::Assistant => {
                if let Some(m) = assistant(&turn.items, opts.reasoning_replay) {
                    out.push(m);
                }
            }
            Role::User => user(&turn.items, i, &mut out)?,
        }
    }
    Ok(out)
}

fn assistant(items: &[Item<'_>], replay: ReasoningReplay) -> Option<ChatMessage> {
    let mut texts: Vec<&str> = Vec::new();
    let mut thinking: Vec<&str> = Vec::new();
    let mut calls: Vec<ChatToolCall> = Vec::new();
    for item in items {
        match item {
            Item::Block(ContentBlock::Text { text }) if !text.is_empty() => texts.push(text),
            Item::Block(ContentBlock::Thinking { text, .. }) if !text.is_empty() => {
                thinking.push(text);
            }
            Item::Block(ContentBlock::ToolCall {
                id,
                name,
                arguments,
                ..
            }) => calls.push(ChatToolCall {
                id: call_id(id),
                kind: Some("function".to_owned()),
                function: ChatFunctionCall {
                    name: name.clone(),
                    arguments: Value::String(arguments_string(arguments)),
                },
            }),
            _ => {}
        }
    }
    let reasoning = match replay {
        ReasoningReplay::Drop => None,
        ReasoningReplay::ToolCallTurns if calls.is_empty() => None,
        ReasoningReplay::ToolCallTurns => Some(thinking.join("\n\n")),
        ReasoningReplay::All => Some(thinking.join("\n\n")).filter(|t| !t.is_empty()),
    };
    if texts.is_empty() && calls.is_empty() && reasoning.is_none() {
        return None;
    }
    let mut m = message(ChatRole::Assistant);
    m.content = (!texts.is_empty()).then(|| MessageContent::Text(texts.join("\n\n")));
    m.tool_calls = calls;
    m.reasoning_content = reasoning;
    Some(m)
}

fn text_part(text: String) -> ChatContentPart {
    ChatContentPart {
        kind: "text".to_owned(),
        text: Some(text),
        ..ChatContentPart::default()
    }
}

fn user(items: &[Item<'_>], turn: usize, out: &mut Vec<ChatMessage>) -> Result<(), TranslateError> {
    let path = || format!("messages[{turn}].content");
    let mut result_parts: Vec<ChatContentPart> = Vec::new();
    let mut parts: Vec<ChatContentPart> = Vec::new();
    for item in items {
        match item {
            Item::MissingResult { call_id: id } => {
                out.push(tool_message(id, format!("[tool error] {MISSING_RESULT}")));
            }
            Item::Block(ContentBlock::ToolResult {
                call_id: id,
                content,
                is_error,
                ..
            }) => {
                let mut text: Vec<&str> = Vec::new();
                let mut images: Vec<ChatContentPart> = Vec::new();
                for c in content {
                    match c {
                        ToolResultContent::Text(t) => text.push(t),
                        ToolResultContent::Image(source) => images.push(image_part(source, &path)?),
                    }
                }
                let text = text.join("\n");
                let text = if *is_error {
                    format!("[tool error] {text}")
                } else {
                    text
                };
                out.push(tool_message(id, text));
                if !images.is_empty() {
                    result_parts.push(text_part(format!(
                        "[Images returned by tool call {}]",
                        call_id(id)
                    )));
                    result_parts.extend(images);
                }
            }
            Item::OrphanResult(block) => parts.push(text_part(orphan_text(block))),
            Item::Block(ContentBlock::Text { text }) if !text.is_empty() => {
                parts.push(text_part(text.clone()));
            }
            Item::Block(ContentBlock::Image { source }) => parts.push(image_part(source, &path)?),
            Item::Block(ContentBlock::File { source, name }) => {
                parts.push(file_part(source, name.as_deref(), &path)?);
            }
            _ => {}
        }
    }
    result_parts.extend(parts);
    if result_parts.is_empty() {
        return Ok(());
    }
    let mut m = message(ChatRole::User);
    m.content = Some(if result_parts.iter().all(|p| p.kind == "text") {
        let texts: Vec<&str> = result_parts
            .iter()
            .filter_map(|p| p.text.as_deref())
            .collect();
        MessageContent::Text(texts.join("\n\n"))
    } else {
        MessageContent::Parts(result_parts)
    });
    out.push(m);
    Ok(())
}

fn tool_message(id: &str, text: String) -> ChatMessage {
    let mut m = message(ChatRole::Tool);
    m.tool_call_id = Some(call_id(id));
    m.content = Some(MessageContent::Text(text));
    m
}

fn data_url(mime_type: &str, data: &str) -> String {
    format!("data:{mime_type};base64,{data}")
}

fn refuse(path: &impl Fn() -> String, what: &str) -> TranslateError {
    TranslateError::new(path(), format!("{what} cannot be sent to this upstream"))
}

fn image_part(
    source: &MediaSource,
    path: &impl Fn() -> String,
) -> Result<ChatContentPart, TranslateError> {
    let url = match source {
        MediaSource::Base64 { mime_type, data } => data_url(mime_type, data),
        MediaSource::Url { url, .. } => url.clone(),
        MediaSource::FileId { id, .. } => {
            return Err(refuse(path, &format!("the image file reference `{id}`")));
        }
    };
    Ok(ChatContentPart {
        kind: "image_url".to_owned(),
        image_url: Some(ImageUrl { url, detail: None }),
        ..ChatContentPart::default()
    })
}

fn file_part(
    source: &MediaSource,
    name: Option<&str>,
    path: &impl Fn() -> String,
) -> Result<ChatContentPart, TranslateError> {
    let mime = source.mime_type().unwrap_or("application/octet-stream");
    if mime.starts_with("image/") {
        return image_part(source, path);
    }
    match source {
        MediaSource::Base64 { data, .. } if mime.starts_with("text/") => {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|_| TranslateError::new(path(), "malformed base64 text document"))?;
            Ok(text_part(String::from_utf8_lossy(&bytes).into_owned()))
        }
        MediaSource::Base64 { data, .. } if mime == "application/pdf" => Ok(ChatContentPart {
            kind: "file".to_owned(),
            file: Some(ChatFile {
                file_data: Some(data_url(mime, data)),
                file_id: None,
                filename: Some(
                    name.filter(|n| !n.is_empty())
                        .unwrap_or("document.pdf")
                        .to_owned(),
                ),
            }),
            ..ChatContentPart::default()
        }),
        MediaSource::Base64 { data, .. }
            if matches!(
                mime,
                "audio/wav" | "audio/x-wav" | "audio/mpeg" | "audio/mp3"
            ) =>
        {
            Ok(ChatContentPart {
                kind: "input_audio".to_owned(),
                input_audio: Some(InputAudio {
                    data: data.clone(),
                    format: if mime.ends_with("wav") { "wav" } else { "mp3" }.to_owned(),
                }),
                ..ChatContentPart::default()
            })
        }
        MediaSource::FileId { id, .. } if id.starts_with("file-") => Ok(ChatContentPart {
            kind: "file".to_owned(),
            file: Some(ChatFile {
                file_data: None,
                file_id: Some(id.clone()),
                filename: None,
            }),
            ..ChatContentPart::default()
        }),
        MediaSource::FileId { id, .. } => Err(refuse(path, &format!("the file reference `{id}`"))),
        MediaSource::Url { .. } => Err(refuse(path, &format!("a `{mime}` document by URL"))),
        MediaSource::Base64 { .. } => Err(refuse(path, &format!("a `{mime}` document"))),
    }
}

fn tool(tool: &Tool) -> Option<ChatTool> {
    let Tool::Function(f) = tool else {
        return None;
    };
    Some(ChatTool {
        kind: "function".to_owned(),
        function: Some(FunctionDefinition {
            name: f.name.clone(),
            description: f.description.clone(),
            parameters: Some(if f.parameters.is_object() {
                f.parameters.clone()
            } else {
                RawJson::empty_object_schema()
            }),
            strict: f.strict,
        }),
    })
}

fn tool_choice(choice: &ToolChoice) -> Option<Value> {
    match choice {
        ToolChoice::Auto => None,
        ToolChoice::None => Some(json!("none")),
        ToolChoice::Required => Some(json!("required")),
        ToolChoice::Tool(name) => Some(json!({"type": "function", "function": {"name": name}})),
    }
}

fn response_format(format: &ResponseFormat) -> Option<ChatResponseFormat> {
    match format {
        ResponseFormat::Text => None,
        ResponseFormat::JsonObject => Some(ChatResponseFormat {
            kind: "json_object".to_owned(),
            json_schema: None,
        }),
        ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
        } => Some(ChatResponseFormat {
            kind: "json_schema".to_owned(),
            json_schema: Some(JsonSchemaFormat {
                name: name
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "response".to_owned()),
                description: None,
                schema: Some(schema.clone()),
                strict: *strict,
            }),
        }),
    }
}

/// `reasoning_effort` from the IR effort, else from a budget's level.
fn reasoning_effort(req: &Request, extended: bool) -> Option<&'static str> {
    let c = req.thinking.as_ref()?;
    if let Some(effort) = c.effort {
        return match effort {
            ReasoningEffort::None if extended => Some("none"),
            ReasoningEffort::None => None,
            ReasoningEffort::Minimal if extended => Some("minimal"),
            ReasoningEffort::Minimal | ReasoningEffort::Low => Some("low"),
            ReasoningEffort::Medium => Some("medium"),
            ReasoningEffort::XHigh if extended => Some("xhigh"),
            ReasoningEffort::High | ReasoningEffort::XHigh => Some("high"),
        };
    }
    match (c.mode, c.budget_tokens) {
        (ThinkingMode::Disabled, _) | (_, None) | (_, Some(0)) => None,
        (_, Some(budget)) => Some(match budget_level(budget) {
            "minimal" | "low" => "low",
            "medium" => "medium",
            _ => "high",
        }),
    }
}

/// DeepSeek's and GLM's `thinking` toggle.
fn thinking_toggle(req: &Request) -> Option<Value> {
    let c = req.thinking.as_ref()?;
    let off = c.mode == ThinkingMode::Disabled
        || (c.effort == Some(ReasoningEffort::None) && c.budget_tokens.is_none())
        || c.budget_tokens == Some(0);
    Some(json!({"type": if off { "disabled" } else { "enabled" }}))
}

#[cfg(test)]
#[path = "encode_openai_chat_request_tests.rs"]
mod tests;
