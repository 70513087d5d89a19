//! OpenAI Responses request → IR, plus the [`ResponsesContext`] its answer needs.
//!
//! - `instructions` and `system`/`developer` messages (wherever they appear) become
//!   system parts; `input` as a string is one user message.
//! - Messages become text, image and file blocks; `function_call`,
//!   `custom_tool_call` (arguments `{"input": …}`) and `local_shell_call` (its
//!   `exec` action as `{"command", "workdir", "timeout_ms"}`, the tool named
//!   `local_shell`) become tool calls in the assistant turn; their outputs become
//!   tool results in the next user turn, the function name resolved from the call.
//!   Consecutive items of one side merge into one turn.
//! - `reasoning` items become thinking blocks with their summary text (else their
//!   `reasoning_text` content); `encrypted_content` is read with
//!   [`decode_reasoning_state`]: a signature keeps its family, a call signature is
//!   attached to the call with that id, foreign content becomes a signature of
//!   unknown family that is never replayed.
//! - Tools: `function` as given; `custom` → a function with one string parameter
//!   `input` (its grammar, if any, in the description); `local_shell` → a function
//!   `local_shell` taking a `command` array (Codex runs `local_shell_call.action`
//!   as `command` / `working_directory` / `timeout_ms`); `web_search*` → web search;
//!   `code_interpreter` → code execution; `namespace` and other hosted tools are
//!   dropped and named in the context.
//! - `reasoning`: `effort` → thinking effort (`none` disables it). Thoughts are
//!   included unless `summary` is `"none"`: Responses clients handle reasoning
//!   items, and Claude models behind Cloud Code need the thinking text to replay
//!   a signed block in a tool loop (without it thinking is switched off for the
//!   turn). Without `reasoning` the upstream's default applies.
//! - `prompt_cache_key` → session id; `user` (else `safety_identifier`) → user;
//!   `previous_response_id`, `conversation` and `item_reference` are left in the
//!   context for the gateway to refuse. Unknown fields are ignored.

use foldhash::HashMap;

use serde_json::{Map, Value, json};

use super::TranslateError;
use super::decode_openai_responses_config::{
    decode_reasoning, decode_text_format, decode_tool, decode_tool_choice,
};
use super::responses_context::{LOCAL_SHELL_TOOL, ResponsesContext};
use super::responses_reasoning::{ReasoningState, decode_reasoning_state};
use super::util::{
    first_bad_element, first_bad_field, first_bad_item, locate_error, media_from_url,
    mime_from_extension, parse_body, parse_data_url, push_blocks,
};
use crate::ir::{
    ContentBlock, MediaSource, Message, Request, Role, Signature, SystemPart, ToolResultContent,
};
use crate::openai::{
    ResponsesContent, ResponsesContentPart, ResponsesInput, ResponsesInputItem, ResponsesRequest,
    ResponsesResponse, ResponsesRole, ResponsesTextConfig, ResponsesTextFormat, ResponsesTool,
};

/// Decode a Responses request body.
pub fn decode_openai_responses(body: &[u8]) -> Result<(Request, ResponsesContext), TranslateError> {
    let wire: ResponsesRequest =
        parse_body(body).map_err(|e| locate_error(body, e, locate_responses))?;
    decode_openai_responses_request(wire)
}

/// Find the field of a body that failed typed deserialization.
fn locate_responses(root: &Map<String, Value>) -> Option<TranslateError> {
    for key in ["input", "instructions"] {
        if let Some(Value::Array(items)) = root.get(key)
            && let Some(i) = first_bad_item::<ResponsesInputItem>(items)
        {
            let path = format!("{key}[{i}]");
            let Value::Object(item) = &items[i] else {
                return Some(TranslateError::new(path, "expected an object"));
            };
            let (field, err) = first_bad_field::<ResponsesInputItem>(item, &[], &path)?;
            if let Some(Value::Array(parts)) = item.get(&field)
                && let Some(j) = first_bad_item::<ResponsesContentPart>(parts)
            {
                let ppath = format!("{path}.{field}[{j}]");
                if let Value::Object(part) = &parts[j]
                    && let Some((_, e)) = first_bad_field::<ResponsesContentPart>(part, &[], &ppath)
                {
                    return Some(e);
                }
                return Some(TranslateError::new(ppath, "expected an object"));
            }
            return Some(err);
        }
    }
    if let Some(Value::Array(tools)) = root.get("tools")
        && let Some(e) = first_bad_element::<ResponsesTool>(tools, "tools")
    {
        return Some(e);
    }
    first_bad_field::<ResponsesRequest>(root, &[], "").map(|(_, e)| e)
}

/// Decode an already parsed Responses request.
pub fn decode_openai_responses_request(
    wire: ResponsesRequest,
) -> Result<(Request, ResponsesContext), TranslateError> {
    if wire.model.trim().is_empty() {
        return Err(TranslateError::new("model", "required"));
    }
    let mut ctx = ResponsesContext {
        previous_response_id: wire.previous_response_id.clone().filter(|s| !s.is_empty()),
        conversation: wire.conversation.as_ref().and_then(conversation_id),
        template: template(&wire),
        ..ResponsesContext::default()
    };
    let mut req = Request {
        model: wire.model,
        stream: wire.stream.unwrap_or(false),
        ..Request::default()
    };

    match wire.instructions {
        Some(ResponsesInput::Text(t)) if !t.is_empty() => req.system.push(SystemPart::new(t)),
        None | Some(ResponsesInput::Text(_)) => {}
        Some(ResponsesInput::Items(items)) => {
            for (i, item) in items.into_iter().enumerate() {
                let path = format!("instructions[{i}]");
                let text = text_only(item.content, &format!("{path}.content"))?;
                if !text.is_empty() {
                    req.system.push(SystemPart::new(text));
                }
            }
        }
    }
    match wire.input {
        Some(ResponsesInput::Text(t)) if !t.is_empty() => req.messages.push(Message::user_text(t)),
        None | Some(ResponsesInput::Text(_)) => {}
        Some(ResponsesInput::Items(items)) => decode_items(items, &mut req, &mut ctx)?,
    }
    if req.messages.is_empty() && !ctx.needs_stored_state() {
        return Err(TranslateError::new(
            "input",
            "must contain at least one message",
        ));
    }

    for (i, tool) in wire.tools.into_iter().enumerate() {
        decode_tool(tool, i, &mut req.tools, &mut ctx)?;
    }
    if let Some(choice) = &wire.tool_choice {
        req.tool_choice = decode_tool_choice(choice)?;
    }
    req.parallel_tool_calls = wire.parallel_tool_calls;

    let g = &mut req.generation;
    g.max_output_tokens = wire.max_output_tokens;
    g.temperature = wire.temperature;
    g.top_p = wire.top_p;

    if let Some(format) = wire.text.and_then(|t| t.format) {
        req.response_format = decode_text_format(format)?;
    }
    req.thinking = wire.reasoning.as_ref().map(decode_reasoning).transpose()?;

    req.meta.user = wire
        .user
        .filter(|u| !u.is_empty())
        .or(wire.safety_identifier);
    req.meta.session_id = wire.prompt_cache_key.filter(|k| !k.is_empty());
    Ok((req, ctx))
}

fn conversation_id(conversation: &Value) -> Option<String> {
    match conversation {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// The `response` object's echo of the request, with the API's defaults.
fn template(wire: &ResponsesRequest) -> ResponsesResponse {
    let instructions = match &wire.instructions {
        Some(ResponsesInput::Text(t)) => Some(t.clone()),
        _ => None,
    };
    let text = wire.text.clone().unwrap_or_default();
    ResponsesResponse {
        object: "response".to_owned(),
        status: "in_progress".to_owned(),
        instructions,
        max_output_tokens: wire.max_output_tokens,
        model: wire.model.clone(),
        parallel_tool_calls: wire.parallel_tool_calls.unwrap_or(true),
        previous_response_id: wire.previous_response_id.clone(),
        prompt_cache_key: wire.prompt_cache_key.clone(),
        reasoning: Some(wire.reasoning.clone().unwrap_or_default()),
        service_tier: Some(
            wire.service_tier
                .clone()
                .unwrap_or_else(|| "default".to_owned()),
        ),
        store: wire.store.unwrap_or(true),
        temperature: Some(wire.temperature.unwrap_or(1.0)),
        text: ResponsesTextConfig {
            format: Some(text.format.unwrap_or_else(|| ResponsesTextFormat {
                kind: "text".to_owned(),
                ..ResponsesTextFormat::default()
            })),
            verbosity: Some(text.verbosity.unwrap_or_else(|| "medium".to_owned())),
        },
        tool_choice: wire.tool_choice.clone().unwrap_or_else(|| json!("auto")),
        tools: wire
            .tools
            .iter()
            .filter_map(|t| serde_json::to_value(t).ok())
            .collect(),
        top_p: Some(wire.top_p.unwrap_or(1.0)),
        truncation: Some(
            wire.truncation
                .clone()
                .unwrap_or_else(|| "disabled".to_owned()),
        ),
        user: wire.user.clone(),
        metadata: wire.metadata.clone().unwrap_or_default(),
        ..ResponsesResponse::default()
    }
}

fn decode_items(
    items: Vec<ResponsesInputItem>,
    req: &mut Request,
    ctx: &mut ResponsesContext,
) -> Result<(), TranslateError> {
    // Call id → function name, for outputs that name only the id.
    let mut call_names: HashMap<String, String> = HashMap::default();
    // Signatures of tool calls, attached once every call is known.
    let mut call_signatures: Vec<(String, Signature)> = Vec::new();
    let mut messages: Vec<Message> = Vec::new();

    for (i, item) in items.into_iter().enumerate() {
        let path = format!("input[{i}]");
        match item.kind() {
            "message" => decode_message(item, &path, req, &mut messages)?,
            "function_call" | "custom_tool_call" | "local_shell_call" => {
                let block = decode_call(item, &path)?;
                if let ContentBlock::ToolCall { id, name, .. } = &block {
                    call_names.insert(id.clone(), name.clone());
                }
                push_blocks(&mut messages, Role::Assistant, vec![block]);
            }
            kind @ ("function_call_output"
            | "custom_tool_call_output"
            | "local_shell_call_output") => {
                // A local shell output names its call by `id`; other outputs' `id`
                // is their own.
                let by_id = (kind == "local_shell_call_output")
                    .then_some(item.id)
                    .flatten();
                let call_id = item
                    .call_id
                    .filter(|id| !id.is_empty())
                    .or(by_id)
                    .filter(|id| !id.is_empty())
                    .ok_or_else(|| TranslateError::new(format!("{path}.call_id"), "required"))?;
                let content = tool_result_content(item.output, &format!("{path}.output"))?;
                let name = call_names.get(&call_id).cloned();
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
            "reasoning" => {
                let blocks = decode_reasoning_item(item, &mut call_signatures);
                push_blocks(&mut messages, Role::Assistant, blocks);
            }
            "item_reference" => {
                let id = item
                    .id
                    .filter(|id| !id.is_empty())
                    .ok_or_else(|| TranslateError::new(format!("{path}.id"), "required"))?;
                ctx.item_references.push(id);
            }
            other => ctx.skipped_items.push(other.to_owned()),
        }
    }

    for (call_id, sig) in call_signatures {
        let call = messages
            .iter_mut()
            .flat_map(|m| m.content.iter_mut())
            .find_map(|b| match b {
                ContentBlock::ToolCall { id, signature, .. } if *id == call_id => Some(signature),
                _ => None,
            });
        if let Some(slot @ None) = call {
            *slot = Some(sig);
        }
    }
    req.messages = messages;
    Ok(())
}

fn decode_message(
    item: ResponsesInputItem,
    path: &str,
    req: &mut Request,
    messages: &mut Vec<Message>,
) -> Result<(), TranslateError> {
    let role = item
        .role
        .ok_or_else(|| TranslateError::new(format!("{path}.role"), "required"))?;
    match role {
        ResponsesRole::System | ResponsesRole::Developer => {
            let text = text_only(item.content, &format!("{path}.content"))?;
            if !text.is_empty() {
                req.system.push(SystemPart::new(text));
            }
        }
        ResponsesRole::User => {
            let blocks = content_blocks(item.content, path, false)?;
            push_blocks(messages, Role::User, blocks);
        }
        ResponsesRole::Assistant => {
            let blocks = content_blocks(item.content, path, true)?;
            push_blocks(messages, Role::Assistant, blocks);
        }
        ResponsesRole::Other(role) => {
            return Err(TranslateError::new(
                format!("{path}.role"),
                format!("unsupported role `{role}`"),
            ));
        }
    }
    Ok(())
}

/// A `function_call`, `custom_tool_call` or `local_shell_call` as a tool call.
fn decode_call(item: ResponsesInputItem, path: &str) -> Result<ContentBlock, TranslateError> {
    let kind = item.kind().to_owned();
    let call_id = item
        .call_id
        .filter(|id| !id.is_empty())
        .or(item.id)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| TranslateError::new(format!("{path}.call_id"), "required"))?;
    let (name, arguments) = match kind.as_str() {
        "local_shell_call" => {
            let action = item
                .action
                .ok_or_else(|| TranslateError::new(format!("{path}.action"), "required"))?;
            (LOCAL_SHELL_TOOL.to_owned(), shell_arguments(&action))
        }
        _ => {
            let name = item
                .name
                .filter(|n| !n.is_empty())
                .ok_or_else(|| TranslateError::new(format!("{path}.name"), "required"))?;
            let arguments = if kind == "custom_tool_call" {
                json!({ "input": item.input.unwrap_or_default() })
            } else {
                arguments_value(item.arguments.unwrap_or(Value::Null))
            };
            (name, arguments)
        }
    };
    Ok(ContentBlock::ToolCall {
        id: call_id,
        name,
        arguments,
        signature: None,
    })
}

/// A `local_shell_call` action as the arguments of the `local_shell` function.
fn shell_arguments(action: &Value) -> Value {
    let mut args = Map::new();
    args.insert(
        "command".to_owned(),
        action.get("command").cloned().unwrap_or(json!([])),
    );
    if let Some(dir) = action.get("working_directory").filter(|v| !v.is_null()) {
        args.insert("workdir".to_owned(), dir.clone());
    }
    if let Some(timeout) = action.get("timeout_ms").filter(|v| !v.is_null()) {
        args.insert("timeout_ms".to_owned(), timeout.clone());
    }
    Value::Object(args)
}

/// Tool-call arguments: a JSON string (parsed, malformed text kept under `_raw`),
/// or an object sent directly.
fn arguments_value(arguments: Value) -> Value {
    match arguments {
        Value::String(s) => crate::ir::parse_arguments(&s),
        Value::Null => Value::Object(Map::new()),
        obj @ Value::Object(_) => obj,
        other => json!({ "_raw": other }),
    }
}

fn decode_reasoning_item(
    item: ResponsesInputItem,
    call_signatures: &mut Vec<(String, Signature)>,
) -> Vec<ContentBlock> {
    let mut texts: Vec<String> = item
        .summary
        .into_iter()
        .filter_map(|p| p.text)
        .filter(|t| !t.is_empty())
        .collect();
    if texts.is_empty()
        && let Some(ResponsesContent::Parts(parts)) = item.content
    {
        texts = parts
            .into_iter()
            .filter_map(|p| p.text)
            .filter(|t| !t.is_empty())
            .collect();
    }
    let text = texts.join("\n\n");
    let state = item
        .encrypted_content
        .filter(|e| !e.is_empty())
        .map(|e| decode_reasoning_state(&e));
    let mut blocks = Vec::new();
    match state {
        Some(ReasoningState::Signature(signature)) => blocks.push(ContentBlock::Thinking {
            text,
            signature: Some(signature),
        }),
        Some(ReasoningState::CallSignature { call_id, signature }) => {
            call_signatures.push((call_id, signature));
            if !text.is_empty() {
                blocks.push(ContentBlock::Thinking {
                    text,
                    signature: None,
                });
            }
        }
        Some(ReasoningState::Redacted(data)) => {
            if !text.is_empty() {
                blocks.push(ContentBlock::Thinking {
                    text,
                    signature: None,
                });
            }
            blocks.push(ContentBlock::RedactedThinking { data });
        }
        None => {
            if !text.is_empty() {
                blocks.push(ContentBlock::Thinking {
                    text,
                    signature: None,
                });
            }
        }
    }
    blocks
}

/// The text of a system or developer message: a string or text parts joined by
/// newlines.
fn text_only(content: Option<ResponsesContent>, path: &str) -> Result<String, TranslateError> {
    match content {
        None => Ok(String::new()),
        Some(ResponsesContent::Text(t)) => Ok(t),
        Some(ResponsesContent::Parts(parts)) => {
            let mut texts = Vec::new();
            for (j, part) in parts.into_iter().enumerate() {
                match part.kind.as_str() {
                    "input_text" | "output_text" | "text" => texts.extend(part.text),
                    other => {
                        return Err(TranslateError::new(
                            format!("{path}[{j}].type"),
                            format!("unsupported content part type `{other}` in a system message"),
                        ));
                    }
                }
            }
            Ok(texts.join("\n"))
        }
    }
}

fn content_blocks(
    content: Option<ResponsesContent>,
    path: &str,
    assistant: bool,
) -> Result<Vec<ContentBlock>, TranslateError> {
    match content {
        None => Ok(Vec::new()),
        Some(ResponsesContent::Text(t)) if t.is_empty() => Ok(Vec::new()),
        Some(ResponsesContent::Text(t)) => Ok(vec![ContentBlock::text(t)]),
        Some(ResponsesContent::Parts(parts)) => {
            let mut blocks = Vec::with_capacity(parts.len());
            for (j, part) in parts.into_iter().enumerate() {
                let ppath = format!("{path}.content[{j}]");
                if assistant
                    && !matches!(
                        part.kind.as_str(),
                        "output_text" | "input_text" | "text" | "refusal"
                    )
                {
                    return Err(TranslateError::new(
                        format!("{ppath}.type"),
                        format!(
                            "unsupported content part type `{}` in an assistant message",
                            part.kind
                        ),
                    ));
                }
                blocks.extend(content_part(part, &ppath)?);
            }
            Ok(blocks)
        }
    }
}

fn content_part(
    part: ResponsesContentPart,
    path: &str,
) -> Result<Option<ContentBlock>, TranslateError> {
    match part.kind.as_str() {
        "input_text" | "output_text" | "text" => {
            Ok(part.text.filter(|t| !t.is_empty()).map(ContentBlock::text))
        }
        "refusal" => Ok(part
            .refusal
            .or(part.text)
            .filter(|t| !t.is_empty())
            .map(ContentBlock::text)),
        "input_image" => {
            let source = if let Some(url) = part.image_url.filter(|u| !u.is_empty()) {
                media_from_url(&url, &format!("{path}.image_url"))?
            } else if let Some(id) = part.file_id.filter(|id| !id.is_empty()) {
                MediaSource::FileId {
                    id,
                    mime_type: None,
                }
            } else {
                return Err(TranslateError::new(
                    path,
                    "one of image_url or file_id is required",
                ));
            };
            Ok(Some(ContentBlock::Image { source }))
        }
        "input_file" => {
            let guessed = part.filename.as_deref().and_then(mime_from_extension);
            let source = if let Some(data) = part.file_data.filter(|d| !d.is_empty()) {
                if data.len() >= 5 && data[..5].eq_ignore_ascii_case("data:") {
                    parse_data_url(&data).ok_or_else(|| {
                        TranslateError::new(format!("{path}.file_data"), "malformed data URL")
                    })?
                } else {
                    MediaSource::Base64 {
                        mime_type: guessed.unwrap_or("application/pdf").to_owned(),
                        data,
                    }
                }
            } else if let Some(url) = part.file_url.filter(|u| !u.is_empty()) {
                match media_from_url(&url, &format!("{path}.file_url"))? {
                    MediaSource::Url { url, mime_type } => MediaSource::Url {
                        url,
                        mime_type: mime_type.or(guessed.map(str::to_owned)),
                    },
                    other => other,
                }
            } else if let Some(id) = part.file_id.filter(|id| !id.is_empty()) {
                MediaSource::FileId {
                    id,
                    mime_type: guessed.map(str::to_owned),
                }
            } else {
                return Err(TranslateError::new(
                    path,
                    "one of file_data, file_url or file_id is required",
                ));
            };
            Ok(Some(ContentBlock::File {
                source,
                name: part.filename,
            }))
        }
        other => Err(TranslateError::new(
            format!("{path}.type"),
            format!("unsupported content part type `{other}`"),
        )),
    }
}

/// A tool output: a string, or text and image parts. A file part, which no tool
/// result can carry, is named in text.
fn tool_result_content(
    output: Option<ResponsesContent>,
    path: &str,
) -> Result<Vec<ToolResultContent>, TranslateError> {
    match output {
        None => Ok(Vec::new()),
        Some(ResponsesContent::Text(t)) => Ok(vec![ToolResultContent::Text(t)]),
        Some(ResponsesContent::Parts(parts)) => {
            let mut out = Vec::new();
            for (j, part) in parts.into_iter().enumerate() {
                let ppath = format!("{path}[{j}]");
                match content_part(part, &ppath)? {
                    Some(ContentBlock::Text { text }) => out.push(ToolResultContent::Text(text)),
                    Some(ContentBlock::Image { source }) => {
                        out.push(ToolResultContent::Image(source))
                    }
                    Some(ContentBlock::File { name, source }) => {
                        let fallback = match source {
                            MediaSource::FileId { id, .. } => id,
                            MediaSource::Url { url, .. } => url,
                            MediaSource::Base64 { mime_type, .. } => mime_type,
                        };
                        let label = name.unwrap_or(fallback);
                        out.push(ToolResultContent::Text(format!("[file: {label}]")));
                    }
                    Some(_) | None => {}
                }
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
#[path = "decode_openai_responses_tests.rs"]
mod tests;
