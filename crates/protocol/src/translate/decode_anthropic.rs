//! Anthropic Messages request → IR.
//!
//! - `system` (a string or text blocks) becomes system parts, each keeping its
//!   `cache_control`; `role: "system"` entries inside `messages` (Claude Code sends
//!   them) are lifted into the system instruction after it, in order. Text is
//!   passed through untouched — including Claude Code's
//!   `x-anthropic-billing-header: …` block ([`is_billing_header`] lets the gateway
//!   recognise it).
//! - Content blocks become IR blocks (see [`super::decode_anthropic_blocks`]);
//!   `cache_control` never reaches an upstream but is recorded in the IR: on the
//!   system part, on the tool, or as the message's breakpoint (the last one of its
//!   blocks). Consecutive messages of one role merge; a later breakpoint wins.
//! - Thinking: `enabled` (+ `budget_tokens`), `adaptive`, `disabled`, with
//!   `output_config.effort`; `display: "omitted"` turns `include_thoughts` off. An
//!   effort without `thinking` is adaptive thinking at that effort (what effort
//!   means on the models that think by default).
//! - Tools: custom tools (with `input_schema`; `defer_loading`, `strict` and
//!   unknown fields tolerated) become functions; `web_search_*` becomes
//!   [`Tool::WebSearch`]; other server tools (bash, text editor, computer, code
//!   execution, web fetch, tool search, memory …) and `mcp_servers` are dropped and
//!   named in [`AnthropicDecoded::dropped_tools`].
//! - `metadata.user_id` → user and session ([`parse_user_id`]).
//!
//! Thinking signatures arrive without a family (`Signature::family == None`): the
//! Anthropic wire does not say who issued them. The gateway attributes them with
//! the signatures it relayed (its `signatures` module), before encoding.

use serde_json::{Map, Value};

use super::TranslateError;
use super::decode_anthropic_blocks::{BlockDecoder, block_error, cache_control, system_parts};
use super::util::{
    At, first_bad_element, first_bad_field, first_bad_item, locate_error, parse_body,
};
use crate::anthropic::{
    AnthropicMessageParam, AnthropicOutputFormat, AnthropicRole, AnthropicThinkingConfig,
    AnthropicTool, AnthropicToolChoice, MessagesRequest,
};
use crate::ir::{
    FunctionTool, Message, ReasoningEffort, Request, ResponseFormat, Role, ThinkingConfig,
    ThinkingMode, Tool, ToolChoice,
};
use crate::json::RawJson;

/// A decoded Anthropic request and what could not be carried over.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AnthropicDecoded {
    pub request: Request,
    /// Server tools the upstream cannot run (by name, else type), and MCP servers
    /// (`mcp:<name>`), for a debug log.
    pub dropped_tools: Vec<String>,
    /// Content blocks that were dropped — unknown types, non-text blocks in
    /// `system`, non-content blocks inside a tool result: `<path>: <type>`.
    pub dropped_blocks: Vec<String>,
}

/// Decode a `POST /v1/messages` body.
pub fn decode_anthropic(body: &[u8]) -> Result<AnthropicDecoded, TranslateError> {
    let wire: MessagesRequest =
        parse_body(body).map_err(|e| locate_error(body, e, locate_anthropic))?;
    decode_anthropic_request(wire)
}

/// Decode a `POST /v1/messages/count_tokens` body (never a stream).
pub fn decode_anthropic_count_tokens(body: &[u8]) -> Result<AnthropicDecoded, TranslateError> {
    let mut decoded = decode_anthropic(body)?;
    decoded.request.stream = false;
    Ok(decoded)
}

/// Whether a system text is Claude Code's billing attribution line
/// (`x-anthropic-billing-header: cc_version=…; cc_entrypoint=…; cch=…;`), which
/// only Anthropic's own API reads and which changes between requests.
pub fn is_billing_header(text: &str) -> bool {
    text.trim_start().starts_with("x-anthropic-billing-header:")
}

/// Find the field of a body that failed typed deserialization.
fn locate_anthropic(root: &Map<String, Value>) -> Option<TranslateError> {
    // Content blocks first: a malformed block of a known type fails the typed
    // parse, and a generic value finds it by that type (nested blocks first).
    let blocks_error = |content: Option<&Value>, path: &str| {
        let Some(Value::Array(blocks)) = content else {
            return None;
        };
        blocks
            .iter()
            .enumerate()
            .find_map(|(j, b)| block_error(b, &format!("{path}[{j}]")))
    };
    if let Some(e) = blocks_error(root.get("system"), "system") {
        return Some(e);
    }
    if let Some(Value::Array(messages)) = root.get("messages") {
        let found = messages
            .iter()
            .enumerate()
            .find_map(|(i, m)| blocks_error(m.get("content"), &format!("messages[{i}].content")));
        if found.is_some() {
            return found;
        }
    }
    if let Some(Value::Array(messages)) = root.get("messages")
        && let Some(i) = first_bad_item::<AnthropicMessageParam>(messages)
    {
        let path = format!("messages[{i}]");
        let Value::Object(msg) = &messages[i] else {
            return Some(TranslateError::new(path, "expected an object"));
        };
        if !msg.contains_key("role") {
            return Some(TranslateError::new(format!("{path}.role"), "required"));
        }
        let base = [("role", Value::String("user".into()))];
        return first_bad_field::<AnthropicMessageParam>(msg, &base, &path).map(|(_, e)| e);
    }
    if let Some(Value::Array(tools)) = root.get("tools")
        && let Some(e) = first_bad_element::<AnthropicTool>(tools, "tools")
    {
        return Some(e);
    }
    first_bad_field::<MessagesRequest>(root, &[], "").map(|(_, e)| e)
}

/// Decode an already parsed Messages request.
pub fn decode_anthropic_request(wire: MessagesRequest) -> Result<AnthropicDecoded, TranslateError> {
    if wire.model.trim().is_empty() {
        return Err(TranslateError::new("model", "required"));
    }
    if wire.messages.is_empty() {
        return Err(TranslateError::new(
            "messages",
            "must contain at least one message",
        ));
    }
    let mut out = AnthropicDecoded {
        request: Request {
            model: wire.model,
            stream: wire.stream.unwrap_or(false),
            ..Request::default()
        },
        ..AnthropicDecoded::default()
    };
    let req = &mut out.request;

    if let Some(system) = wire.system {
        req.system = system_parts(system, &At::Root("system"), &mut out.dropped_blocks)?;
    }
    let mut blocks = BlockDecoder::new(&mut out.dropped_blocks);
    let messages = At::Root("messages");
    for (i, m) in wire.messages.into_iter().enumerate() {
        let at = messages.index(i);
        let role = match m.role {
            AnthropicRole::User => Role::User,
            AnthropicRole::Assistant => Role::Assistant,
            AnthropicRole::System => {
                let parts = system_parts(m.content, &at.field("content"), blocks.dropped())?;
                req.system.extend(parts);
                continue;
            }
            AnthropicRole::Other(role) => {
                return Err(at.field("role").err(format!("unsupported role `{role}`")));
            }
        };
        let (content, cache) = blocks.content(m.content, &at.field("content"))?;
        push_message(&mut req.messages, role, content, cache);
    }

    for (i, tool) in wire.tools.into_iter().enumerate() {
        match decode_tool(tool, i)? {
            Decoded::Keep(tool) => {
                if tool != Tool::WebSearch || !req.tools.contains(&Tool::WebSearch) {
                    req.tools.push(tool);
                }
            }
            Decoded::Drop(name) => out.dropped_tools.push(name),
        }
    }
    for server in &wire.mcp_servers {
        let name = server.get("name").and_then(Value::as_str).unwrap_or("");
        out.dropped_tools.push(format!("mcp:{name}"));
    }
    if let Some(choice) = &wire.tool_choice {
        let (choice, parallel) = decode_tool_choice(choice)?;
        req.tool_choice = choice;
        req.parallel_tool_calls = parallel;
    }

    let g = &mut req.generation;
    g.max_output_tokens = wire.max_tokens;
    g.temperature = wire.temperature;
    g.top_p = wire.top_p;
    g.top_k = wire.top_k;
    g.stop_sequences = wire
        .stop_sequences
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();

    let (effort, format) = match wire.output_config {
        Some(c) => (c.effort, c.format),
        None => (None, None),
    };
    let effort = match effort.as_deref() {
        None => None,
        Some(s) => Some(ReasoningEffort::parse(s).ok_or_else(|| {
            TranslateError::new("output_config.effort", format!("unsupported value `{s}`"))
        })?),
    };
    req.thinking = decode_thinking(wire.thinking.as_ref(), effort)?;
    if let Some((format, path)) = format
        .map(|f| (f, "output_config.format"))
        .or(wire.output_format.map(|f| (f, "output_format")))
    {
        req.response_format = decode_output_format(format, path)?;
    }

    if let Some(user_id) = wire.metadata.and_then(|m| m.user_id) {
        let (user, session) = parse_user_id(&user_id);
        req.meta.user = user;
        req.meta.session_id = session;
    }
    Ok(out)
}

/// Append a message, merging it into the previous one of the same role. A merged
/// message keeps the later breakpoint, else the earlier one.
fn push_message(
    messages: &mut Vec<Message>,
    role: Role,
    content: Vec<crate::ir::ContentBlock>,
    cache: Option<crate::ir::CacheControl>,
) {
    if content.is_empty() {
        return;
    }
    match messages.last_mut() {
        Some(last) if last.role == role => {
            last.content.extend(content);
            if cache.is_some() {
                last.cache_control = cache;
            }
        }
        _ => messages.push(Message {
            role,
            content,
            cache_control: cache,
        }),
    }
}

enum Decoded {
    Keep(Tool),
    Drop(String),
}

fn decode_tool(tool: AnthropicTool, i: usize) -> Result<Decoded, TranslateError> {
    let path = format!("tools[{i}]");
    let kind = tool.kind.as_deref().unwrap_or("custom");
    let custom = kind == "custom" || (tool.input_schema.is_some() && !kind.contains('_'));
    if !custom {
        if kind.starts_with("web_search") {
            return Ok(Decoded::Keep(Tool::WebSearch));
        }
        let name = if tool.name.is_empty() {
            kind.to_owned()
        } else {
            tool.name
        };
        return Ok(Decoded::Drop(name));
    }
    if tool.name.is_empty() {
        return Err(TranslateError::new(format!("{path}.name"), "required"));
    }
    Ok(Decoded::Keep(Tool::Function(FunctionTool {
        name: tool.name,
        description: tool.description.filter(|d| !d.is_empty()),
        parameters: tool
            .input_schema
            .filter(|p| !p.is_null())
            .unwrap_or_else(RawJson::empty_object_schema),
        strict: tool.strict,
        cache_control: tool.cache_control.map(cache_control),
    })))
}

fn decode_tool_choice(
    choice: &AnthropicToolChoice,
) -> Result<(ToolChoice, Option<bool>), TranslateError> {
    let parallel = choice.disable_parallel_tool_use.map(|d| !d);
    let kind = match choice.kind.as_str() {
        "auto" | "" => ToolChoice::Auto,
        "any" => ToolChoice::Required,
        "none" => ToolChoice::None,
        "tool" => {
            let name = choice
                .name
                .as_deref()
                .filter(|n| !n.is_empty())
                .ok_or_else(|| TranslateError::new("tool_choice.name", "required"))?;
            ToolChoice::Tool(name.to_owned())
        }
        other => {
            return Err(TranslateError::new(
                "tool_choice.type",
                format!("unsupported value `{other}`"),
            ));
        }
    };
    Ok((kind, parallel))
}

fn decode_thinking(
    thinking: Option<&AnthropicThinkingConfig>,
    effort: Option<ReasoningEffort>,
) -> Result<Option<ThinkingConfig>, TranslateError> {
    let Some(t) = thinking else {
        return Ok(effort.map(|e| ThinkingConfig {
            mode: if e == ReasoningEffort::None {
                ThinkingMode::Disabled
            } else {
                ThinkingMode::Adaptive
            },
            budget_tokens: None,
            effort: Some(e),
            include_thoughts: true,
        }));
    };
    let mode = match t.kind.as_str() {
        "enabled" => ThinkingMode::Enabled,
        "adaptive" => ThinkingMode::Adaptive,
        "disabled" => ThinkingMode::Disabled,
        other => {
            return Err(TranslateError::new(
                "thinking.type",
                format!("unsupported value `{other}`"),
            ));
        }
    };
    Ok(Some(ThinkingConfig {
        mode,
        budget_tokens: t
            .budget_tokens
            .filter(|_| mode == ThinkingMode::Enabled)
            .map(|b| u32::try_from(b).unwrap_or(u32::MAX)),
        effort,
        include_thoughts: t.display.as_deref() != Some("omitted"),
    }))
}

fn decode_output_format(
    format: AnthropicOutputFormat,
    path: &str,
) -> Result<ResponseFormat, TranslateError> {
    match format.kind.as_str() {
        "json_schema" => {
            let schema = format
                .schema
                .ok_or_else(|| TranslateError::new(format!("{path}.schema"), "required"))?;
            Ok(ResponseFormat::JsonSchema {
                name: None,
                schema,
                strict: Some(true),
            })
        }
        other => Err(TranslateError::new(
            format!("{path}.type"),
            format!("unsupported value `{other}`"),
        )),
    }
}

/// `metadata.user_id` → (user, session id). Three shapes are read:
/// - Claude Code ≥ 2.1.78: a JSON string `{"device_id", "account_uuid",
///   "session_id"}` → user = the account UUID, else the device id;
/// - older Claude Code: `user_<hash>_account_<uuid?>_session_<uuid>` → user = the
///   account UUID when present, else `user_<hash>`;
/// - anything else: the whole string is the user, no session.
pub fn parse_user_id(user_id: &str) -> (Option<String>, Option<String>) {
    fn non_empty(s: &str) -> Option<String> {
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_owned())
    }
    let trimmed = user_id.trim();
    if trimmed.starts_with('{')
        && let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(trimmed)
    {
        let field = |k: &str| obj.get(k).and_then(Value::as_str).and_then(non_empty);
        let user = field("account_uuid").or_else(|| field("device_id"));
        return (user, field("session_id"));
    }
    if let Some(pos) = trimmed.rfind("_session_") {
        let head = &trimmed[..pos];
        let session = non_empty(&trimmed[pos + "_session_".len()..]);
        let user = match head.find("_account_") {
            Some(a) => non_empty(&head[a + "_account_".len()..]).or_else(|| non_empty(&head[..a])),
            None => non_empty(head),
        };
        return (user, session);
    }
    (non_empty(trimmed), None)
}

#[cfg(test)]
#[path = "decode_anthropic_tests.rs"]
mod tests;
