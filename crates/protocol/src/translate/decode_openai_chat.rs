//! OpenAI Chat Completions request → IR.
//!
//! `system`/`developer` messages become system parts (wherever they appear);
//! user content parts become text, image and file blocks; assistant `tool_calls`
//! become tool-call blocks; `tool` (and legacy `function`) messages become tool
//! results in a user turn, their function name resolved from the matching call.
//! Consecutive messages of one role merge so that roles alternate.

use foldhash::HashMap;

use serde_json::{Map, Value};

use super::TranslateError;
use super::util::{
    At, first_bad_element, first_bad_field, first_bad_item, locate_error, media_from_url,
    mime_from_extension, parse_body, parse_data_url, push_blocks,
};
use crate::ir::{
    ContentBlock, FunctionTool, MediaSource, Message, ReasoningEffort, Request, ResponseFormat,
    Role, SystemPart, ThinkingConfig, ThinkingMode, Tool, ToolChoice, ToolResultContent,
};
use crate::json::RawJson;
use crate::openai::{
    ChatCompletionRequest, ChatContentPart, ChatMessage, ChatResponseFormat, ChatRole, ChatTool,
    ChatToolCall, FunctionDefinition, MessageContent,
};

/// Decode a Chat Completions request body.
pub fn decode_openai_chat(body: &[u8]) -> Result<Request, TranslateError> {
    let wire: ChatCompletionRequest =
        parse_body(body).map_err(|e| locate_error(body, e, locate_chat))?;
    decode_openai_chat_request(wire)
}

/// Find the field of a body that failed typed deserialization.
fn locate_chat(root: &Map<String, Value>) -> Option<TranslateError> {
    if let Some(Value::Array(messages)) = root.get("messages")
        && let Some(i) = first_bad_item::<ChatMessage>(messages)
    {
        let path = format!("messages[{i}]");
        let Value::Object(msg) = &messages[i] else {
            return Some(TranslateError::new(path, "expected an object"));
        };
        if !msg.contains_key("role") {
            return Some(TranslateError::new(format!("{path}.role"), "required"));
        }
        let base = [("role", Value::String("user".into()))];
        let (key, err) = first_bad_field::<ChatMessage>(msg, &base, &path)?;
        if key == "content"
            && let Some(Value::Array(parts)) = msg.get("content")
            && let Some(j) = first_bad_item::<ChatContentPart>(parts)
        {
            let ppath = format!("{path}.content[{j}]");
            if let Value::Object(part) = &parts[j]
                && let Some((_, e)) = first_bad_field::<ChatContentPart>(part, &[], &ppath)
            {
                return Some(e);
            }
            return Some(TranslateError::new(ppath, "expected an object"));
        }
        if key == "tool_calls"
            && let Some(Value::Array(calls)) = msg.get("tool_calls")
            && let Some(e) = first_bad_element::<ChatToolCall>(calls, &format!("{path}.tool_calls"))
        {
            return Some(e);
        }
        return Some(err);
    }
    if let Some(Value::Array(tools)) = root.get("tools")
        && let Some(e) = first_bad_element::<ChatTool>(tools, "tools")
    {
        return Some(e);
    }
    first_bad_field::<ChatCompletionRequest>(root, &[], "").map(|(_, e)| e)
}

/// Decode an already parsed Chat Completions request.
pub fn decode_openai_chat_request(wire: ChatCompletionRequest) -> Result<Request, TranslateError> {
    if wire.model.trim().is_empty() {
        return Err(TranslateError::new("model", "required"));
    }
    if wire.messages.is_empty() {
        return Err(TranslateError::new(
            "messages",
            "must contain at least one message",
        ));
    }
    if let Some(n) = wire.n
        && n > 1
    {
        return Err(TranslateError::new(
            "n",
            "only one choice (n = 1) is supported",
        ));
    }

    let mut req = Request {
        model: wire.model,
        stream: wire.stream.unwrap_or(false),
        ..Request::default()
    };
    decode_messages(wire.messages, &mut req)?;

    let tools_at = At::Root("tools");
    for (i, tool) in wire.tools.into_iter().enumerate() {
        req.tools.push(decode_tool(tool, &tools_at.index(i))?);
    }
    let functions_at = At::Root("functions");
    for (i, f) in wire.functions.into_iter().enumerate() {
        req.tools
            .push(Tool::Function(decode_function(f, &functions_at.index(i))?));
    }
    if let Some(choice) = &wire.tool_choice {
        req.tool_choice = decode_tool_choice(choice, "tool_choice")?;
    } else if let Some(choice) = &wire.function_call {
        req.tool_choice = decode_tool_choice(choice, "function_call")?;
    }
    req.parallel_tool_calls = wire.parallel_tool_calls;

    let g = &mut req.generation;
    g.max_output_tokens = wire.max_completion_tokens.or(wire.max_tokens);
    g.temperature = wire.temperature;
    g.top_p = wire.top_p;
    g.top_k = wire.top_k;
    g.seed = wire.seed;
    g.presence_penalty = wire.presence_penalty;
    g.frequency_penalty = wire.frequency_penalty;
    g.candidate_count = wire.n;
    if let Some(stop) = wire.stop {
        g.stop_sequences = stop
            .into_vec()
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
    }

    if let Some(format) = wire.response_format {
        req.response_format = decode_response_format(format)?;
    }
    req.thinking = decode_thinking(wire.reasoning_effort.as_deref(), wire.thinking.as_ref())?;

    req.meta.user = wire.user;
    req.meta.include_usage = wire
        .stream_options
        .and_then(|o| o.include_usage)
        .unwrap_or(false);
    Ok(req)
}

fn decode_messages(wire: Vec<ChatMessage>, req: &mut Request) -> Result<(), TranslateError> {
    // Call id → function name, for tool results that name only the id.
    let mut call_names: HashMap<String, String> = HashMap::default();
    // Legacy function calls waiting for their `function` result: (id, name).
    let mut pending_legacy: Vec<(String, String)> = Vec::new();
    let mut messages: Vec<Message> = Vec::new();

    let messages_at = At::Root("messages");
    for (i, m) in wire.into_iter().enumerate() {
        let at = messages_at.index(i);
        match &m.role {
            ChatRole::System | ChatRole::Developer => {
                let text = text_only(m.content, &at.field("content"))?;
                if !text.is_empty() {
                    req.system.push(SystemPart::new(text));
                }
            }
            ChatRole::User => {
                let blocks = user_blocks(m.content, &at)?;
                push_blocks(&mut messages, Role::User, blocks);
            }
            ChatRole::Assistant => {
                let mut blocks = Vec::new();
                if let Some(reasoning) = m.reasoning_content.filter(|r| !r.is_empty()) {
                    blocks.push(ContentBlock::Thinking {
                        text: reasoning,
                        signature: None,
                    });
                }
                match m.content {
                    Some(MessageContent::Text(t)) if !t.is_empty() => {
                        blocks.push(ContentBlock::text(t))
                    }
                    Some(MessageContent::Parts(parts)) => {
                        for (j, part) in parts.into_iter().enumerate() {
                            match part.kind.as_str() {
                                "text" | "output_text" => {
                                    if let Some(t) = part.text.filter(|t| !t.is_empty()) {
                                        blocks.push(ContentBlock::text(t));
                                    }
                                }
                                "refusal" => {
                                    if let Some(t) = part.refusal.filter(|t| !t.is_empty()) {
                                        blocks.push(ContentBlock::text(t));
                                    }
                                }
                                other => {
                                    return Err(at.field("content").index(j).field("type").err(
                                        format!(
                                            "unsupported content part type `{other}` in an assistant message"
                                        ),
                                    ));
                                }
                            }
                        }
                    }
                    _ => {}
                }
                let calls_at = at.field("tool_calls");
                for (k, call) in m.tool_calls.into_iter().enumerate() {
                    let block = decode_tool_call(call, &calls_at.index(k), i, k)?;
                    if let ContentBlock::ToolCall { id, name, .. } = &block {
                        call_names.insert(id.clone(), name.clone());
                    }
                    blocks.push(block);
                }
                if let Some(fc) = m.function_call {
                    if fc.name.is_empty() {
                        return Err(at.field("function_call").field("name").err("required"));
                    }
                    let id = format!("call_legacy_{i}");
                    pending_legacy.push((id.clone(), fc.name.clone()));
                    call_names.insert(id.clone(), fc.name.clone());
                    blocks.push(ContentBlock::ToolCall {
                        id,
                        name: fc.name,
                        arguments: arguments_value(fc.arguments),
                        signature: None,
                    });
                }
                push_blocks(&mut messages, Role::Assistant, blocks);
            }
            ChatRole::Tool => {
                let call_id = m
                    .tool_call_id
                    .filter(|id| !id.is_empty())
                    .ok_or_else(|| at.field("tool_call_id").err("required"))?;
                let name = call_names.get(&call_id).cloned().or(m.name);
                let content = tool_result_content(m.content, &at)?;
                push_blocks(
                    &mut messages,
                    Role::User,
                    vec![ContentBlock::ToolResult {
                        call_id,
                        name,
                        content,
                        is_error: false,
                    }],
                );
            }
            ChatRole::Function => {
                let name = m
                    .name
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| at.field("name").err("required"))?;
                let call_id = match pending_legacy.iter().position(|(_, n)| *n == name) {
                    Some(pos) => pending_legacy.remove(pos).0,
                    None => format!("call_legacy_{name}"),
                };
                let content = tool_result_content(m.content, &at)?;
                push_blocks(
                    &mut messages,
                    Role::User,
                    vec![ContentBlock::ToolResult {
                        call_id,
                        name: Some(name),
                        content,
                        is_error: false,
                    }],
                );
            }
            ChatRole::Other(role) => {
                return Err(at.field("role").err(format!("unsupported role `{role}`")));
            }
        }
    }
    req.messages = messages;
    Ok(())
}

/// The text of a system message: a string or text parts joined by newlines.
fn text_only(content: Option<MessageContent>, at: &At<'_>) -> Result<String, TranslateError> {
    match content {
        None => Ok(String::new()),
        Some(MessageContent::Text(t)) => Ok(t),
        Some(MessageContent::Parts(parts)) => {
            let mut texts = Vec::new();
            for (j, part) in parts.into_iter().enumerate() {
                match (part.kind.as_str(), part.text) {
                    ("text", Some(t)) => texts.push(t),
                    ("text", None) => {}
                    (other, _) => {
                        return Err(at.index(j).field("type").err(format!(
                            "unsupported content part type `{other}` in a system message"
                        )));
                    }
                }
            }
            Ok(texts.join("\n"))
        }
    }
}

fn user_blocks(
    content: Option<MessageContent>,
    at: &At<'_>,
) -> Result<Vec<ContentBlock>, TranslateError> {
    match content {
        None => Ok(Vec::new()),
        Some(MessageContent::Text(t)) if t.is_empty() => Ok(Vec::new()),
        Some(MessageContent::Text(t)) => Ok(vec![ContentBlock::text(t)]),
        Some(MessageContent::Parts(parts)) => {
            let mut blocks = Vec::with_capacity(parts.len());
            let parts_at = at.field("content");
            for (j, part) in parts.into_iter().enumerate() {
                if let Some(block) = user_part(part, &parts_at.index(j))? {
                    blocks.push(block);
                }
            }
            Ok(blocks)
        }
    }
}

fn user_part(part: ChatContentPart, at: &At<'_>) -> Result<Option<ContentBlock>, TranslateError> {
    match part.kind.as_str() {
        "text" | "input_text" => Ok(part.text.filter(|t| !t.is_empty()).map(ContentBlock::text)),
        "image_url" => {
            let image = part
                .image_url
                .ok_or_else(|| at.field("image_url").err("required"))?;
            let source =
                media_from_url(&image.url, &at.field("image_url").field("url").to_string())?;
            Ok(Some(ContentBlock::Image { source }))
        }
        "input_audio" => {
            let audio = part
                .input_audio
                .ok_or_else(|| at.field("input_audio").err("required"))?;
            let mime_type = match audio.format.to_ascii_lowercase().as_str() {
                "mp3" | "mpeg" => "audio/mpeg".to_owned(),
                "" => "audio/wav".to_owned(),
                other => format!("audio/{other}"),
            };
            Ok(Some(ContentBlock::File {
                source: MediaSource::Base64 {
                    mime_type,
                    data: audio.data,
                },
                name: None,
            }))
        }
        "file" => {
            let file = part.file.ok_or_else(|| at.field("file").err("required"))?;
            let guessed = file.filename.as_deref().and_then(mime_from_extension);
            let source = if let Some(data) = file.file_data.filter(|d| !d.is_empty()) {
                if data.len() >= 5 && data[..5].eq_ignore_ascii_case("data:") {
                    parse_data_url(&data).ok_or_else(|| {
                        at.field("file")
                            .field("file_data")
                            .err("malformed data URL")
                    })?
                } else {
                    MediaSource::Base64 {
                        mime_type: guessed.unwrap_or("application/pdf").to_owned(),
                        data,
                    }
                }
            } else if let Some(id) = file.file_id.filter(|d| !d.is_empty()) {
                MediaSource::FileId {
                    id,
                    mime_type: guessed.map(str::to_owned),
                }
            } else {
                return Err(at
                    .field("file")
                    .err("one of file_data or file_id is required"));
            };
            Ok(Some(ContentBlock::File {
                source,
                name: file.filename,
            }))
        }
        other => Err(at
            .field("type")
            .err(format!("unsupported content part type `{other}`"))),
    }
}

fn tool_result_content(
    content: Option<MessageContent>,
    at: &At<'_>,
) -> Result<Vec<ToolResultContent>, TranslateError> {
    match content {
        None => Ok(Vec::new()),
        Some(MessageContent::Text(t)) => Ok(vec![ToolResultContent::Text(t)]),
        Some(MessageContent::Parts(parts)) => {
            let mut out = Vec::new();
            let parts_at = at.field("content");
            for (j, part) in parts.into_iter().enumerate() {
                let part_at = parts_at.index(j);
                match user_part(part, &part_at)? {
                    Some(ContentBlock::Text { text }) => out.push(ToolResultContent::Text(text)),
                    Some(ContentBlock::Image { source }) => {
                        out.push(ToolResultContent::Image(source))
                    }
                    Some(_) => {
                        return Err(part_at
                            .field("type")
                            .err("only text and image parts are supported in a tool message"));
                    }
                    None => {}
                }
            }
            Ok(out)
        }
    }
}

fn decode_tool_call(
    call: ChatToolCall,
    at: &At<'_>,
    message: usize,
    index: usize,
) -> Result<ContentBlock, TranslateError> {
    if let Some(kind) = call.kind.as_deref()
        && kind != "function"
    {
        return Err(at
            .field("type")
            .err(format!("unsupported tool call type `{kind}`")));
    }
    if call.function.name.is_empty() {
        return Err(at.field("function").field("name").err("required"));
    }
    let id = if call.id.is_empty() {
        format!("call_{message}_{index}")
    } else {
        call.id
    };
    Ok(ContentBlock::ToolCall {
        id,
        name: call.function.name,
        arguments: arguments_value(call.function.arguments),
        signature: None,
    })
}

/// Tool-call arguments: a JSON string (parsed, malformed text kept under `_raw`),
/// or an object sent directly.
fn arguments_value(arguments: Value) -> Value {
    match arguments {
        Value::String(s) => crate::ir::parse_arguments(&s),
        Value::Null => Value::Object(Map::new()),
        obj @ Value::Object(_) => obj,
        other => serde_json::json!({ "_raw": other }),
    }
}

fn decode_tool(tool: ChatTool, at: &At<'_>) -> Result<Tool, TranslateError> {
    match tool.kind.as_str() {
        "function" | "" => {
            let f = tool
                .function
                .ok_or_else(|| at.field("function").err("required"))?;
            Ok(Tool::Function(decode_function(f, &at.field("function"))?))
        }
        other => Err(at
            .field("type")
            .err(format!("unsupported tool type `{other}`"))),
    }
}

fn decode_function(f: FunctionDefinition, at: &At<'_>) -> Result<FunctionTool, TranslateError> {
    if f.name.is_empty() {
        return Err(at.field("name").err("required"));
    }
    Ok(FunctionTool {
        name: f.name,
        description: f.description.filter(|d| !d.is_empty()),
        parameters: f
            .parameters
            .filter(|p| !p.is_null())
            .unwrap_or_else(RawJson::empty_object_schema),
        strict: f.strict,
        cache_control: None,
    })
}

fn decode_tool_choice(choice: &Value, path: &str) -> Result<ToolChoice, TranslateError> {
    match choice {
        Value::String(s) => match s.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" | "any" => Ok(ToolChoice::Required),
            other => Err(TranslateError::new(
                path,
                format!("unsupported value `{other}`"),
            )),
        },
        Value::Object(obj) => {
            let kind = obj
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("function");
            match kind {
                "function" => {
                    let name = obj
                        .get("function")
                        .and_then(|f| f.get("name"))
                        .or_else(|| obj.get("name"))
                        .and_then(Value::as_str)
                        .filter(|n| !n.is_empty())
                        .ok_or_else(|| {
                            TranslateError::new(format!("{path}.function.name"), "required")
                        })?;
                    Ok(ToolChoice::Tool(name.to_owned()))
                }
                "allowed_tools" => {
                    let mode = obj
                        .get("allowed_tools")
                        .and_then(|a| a.get("mode"))
                        .and_then(Value::as_str)
                        .unwrap_or("auto");
                    Ok(if mode == "required" {
                        ToolChoice::Required
                    } else {
                        ToolChoice::Auto
                    })
                }
                other => Err(TranslateError::new(
                    format!("{path}.type"),
                    format!("unsupported tool choice type `{other}`"),
                )),
            }
        }
        Value::Null => Ok(ToolChoice::Auto),
        _ => Err(TranslateError::new(path, "expected a string or an object")),
    }
}

fn decode_response_format(format: ChatResponseFormat) -> Result<ResponseFormat, TranslateError> {
    match format.kind.as_str() {
        "text" | "" => Ok(ResponseFormat::Text),
        "json_object" => Ok(ResponseFormat::JsonObject),
        "json_schema" => {
            let spec = format
                .json_schema
                .ok_or_else(|| TranslateError::new("response_format.json_schema", "required"))?;
            let schema = spec.schema.ok_or_else(|| {
                TranslateError::new("response_format.json_schema.schema", "required")
            })?;
            Ok(ResponseFormat::JsonSchema {
                name: Some(spec.name).filter(|n| !n.is_empty()),
                schema,
                strict: spec.strict,
            })
        }
        other => Err(TranslateError::new(
            "response_format.type",
            format!("unsupported value `{other}`"),
        )),
    }
}

/// `reasoning_effort`, plus the Anthropic-style `thinking` object some
/// OpenAI-compatible clients send.
fn decode_thinking(
    effort: Option<&str>,
    thinking: Option<&Value>,
) -> Result<Option<ThinkingConfig>, TranslateError> {
    let effort = match effort {
        None => None,
        Some(s) => Some(ReasoningEffort::parse(s).ok_or_else(|| {
            TranslateError::new("reasoning_effort", format!("unsupported value `{s}`"))
        })?),
    };
    let mut config = effort.map(|e| ThinkingConfig {
        mode: if e == ReasoningEffort::None {
            ThinkingMode::Disabled
        } else {
            ThinkingMode::Enabled
        },
        budget_tokens: None,
        effort: Some(e),
        include_thoughts: true,
    });
    if let Some(Value::Object(t)) = thinking {
        let mode = match t.get("type").and_then(Value::as_str) {
            Some("disabled") => ThinkingMode::Disabled,
            Some("adaptive") | Some("auto") => ThinkingMode::Adaptive,
            _ => ThinkingMode::Enabled,
        };
        let budget = t
            .get("budget_tokens")
            .and_then(Value::as_u64)
            .map(|b| u32::try_from(b).unwrap_or(u32::MAX));
        let c = config.get_or_insert(ThinkingConfig {
            mode,
            budget_tokens: None,
            effort: None,
            include_thoughts: true,
        });
        c.mode = if effort == Some(ReasoningEffort::None) {
            ThinkingMode::Disabled
        } else {
            mode
        };
        c.budget_tokens = budget;
    }
    Ok(config)
}

#[cfg(test)]
#[path = "decode_openai_chat_tests.rs"]
mod tests;
