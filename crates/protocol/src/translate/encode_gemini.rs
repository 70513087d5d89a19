//! IR request → Gemini `GenerateContentRequest` that the real service accepts
//! (Cloud Code `v1internal` for Gemini and Claude models, and the public API).
//!
//! Rules, and why:
//! - roles are `user` and `model` only; system parts go to `systemInstruction`;
//!   consecutive turns of one role merge; empty turns disappear;
//! - every `functionCall` is answered by a `functionResponse` in the next user turn,
//!   in call order, before any other part ("the number of function response parts
//!   must equal the number of function call parts"; Anthropic models behind
//!   Cloud Code also need tool results first). A missing result is synthesised as
//!   an error; a result whose call is not in the previous turn becomes text;
//! - `functionResponse.response` must be an object: a JSON-object result is sent
//!   as is, other text as `{"output": …}` (`{"error": …}` for errors); images of a
//!   result follow the responses as `inlineData` parts;
//! - a signature is replayed only to a model of the family that issued it
//!   ([`Signature::valid_for`]); unsigned or foreign thinking is dropped (a Claude
//!   model rejects a made-up signature). For Gemini 3, the first `functionCall`
//!   of each model turn must carry a signature; when none is known the documented
//!   `skip_thought_signature_validator` value is sent (ai.google.dev
//!   thought-signatures guide, "FAQ");
//! - tool schemas are cleaned by [`super::schema::clean_schema`];
//! - no `cache_control` or other foreign field is ever emitted.
//!
//! Thinking and generation settings live in [`super::encode_gemini_config`].
//!
//! The request borrows the IR's text (messages, tool output, images,
//! signatures): nothing of the conversation is copied before it is written.

use foldhash::HashMap;
use std::borrow::Cow;

use serde_json::{Value, json};

use super::TranslateError;
use super::encode_gemini_config::{
    claude_turn_breaks_thinking, generation_config, tool_config, tools,
};
use super::model_info::is_gemini_3_or_later;
use crate::gemini::{
    Blob, Content, FileData, FunctionCall, FunctionResponse, GenerateContentRequest, Part,
    ResponseBody,
};
use crate::ir::{
    ContentBlock, MediaSource, ModelFamily, Request, Role, Signature, ToolResultContent,
};

/// The value Google documents for a function call whose signature is unknown.
pub const SKIP_SIGNATURE: &str = "skip_thought_signature_validator";

/// Encode `req` for `upstream_model` (the name the upstream knows).
pub fn encode_gemini_request<'a>(
    req: &'a Request,
    upstream_model: &str,
) -> Result<GenerateContentRequest<'a>, TranslateError> {
    let family = ModelFamily::of(upstream_model);
    let mut contents = encode_contents(req, family);
    pair_calls_and_responses(&mut contents);
    if is_gemini_3_or_later(upstream_model) {
        sign_first_calls(&mut contents);
    }
    let thinking_allowed =
        !(family == ModelFamily::Claude && claude_turn_breaks_thinking(&contents));

    let system_instruction = if req.system.is_empty() {
        None
    } else {
        Some(Content {
            role: Some(Cow::Borrowed("user")),
            parts: req
                .system
                .iter()
                .filter(|p| !p.text.is_empty())
                .map(|p| Part::text(p.text.as_str()))
                .collect(),
        })
        .filter(|c| !c.parts.is_empty())
    };

    let tools = tools(req, family);
    let has_functions = tools.iter().any(|t| !t.function_declarations.is_empty());
    Ok(GenerateContentRequest {
        model: None,
        contents,
        system_instruction,
        tool_config: if has_functions {
            tool_config(&req.tool_choice)
        } else {
            None
        },
        tools,
        safety_settings: Vec::new(),
        generation_config: generation_config(req, upstream_model, thinking_allowed, has_functions),
        cached_content: None,
        labels: None,
    })
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::User => "user",
        Role::Assistant => "model",
    }
}

fn encode_contents(req: &Request, family: ModelFamily) -> Vec<Content<'_>> {
    // Call id → function name, for results that do not name their function.
    let mut names: HashMap<&str, &str> = HashMap::default();
    for m in &req.messages {
        for b in &m.content {
            if let ContentBlock::ToolCall { id, name, .. } = b {
                names.insert(id, name);
            }
        }
    }

    let mut contents: Vec<Content<'_>> = Vec::with_capacity(req.messages.len());
    for message in &req.messages {
        let parts = match message.role {
            Role::Assistant => model_parts(&message.content, family),
            Role::User => user_parts(&message.content, &names),
        };
        if parts.is_empty() {
            continue;
        }
        let role = role_name(message.role);
        match contents.last_mut() {
            Some(last) if last.role.as_deref() == Some(role) => last.parts.extend(parts),
            _ => contents.push(Content::new(role, parts)),
        }
    }
    contents
}

fn media_part(source: &MediaSource) -> Part<'_> {
    match source {
        MediaSource::Base64 { mime_type, data } => Part {
            inline_data: Some(Box::new(Blob {
                mime_type: mime_type.as_str().into(),
                data: data.as_str().into(),
            })),
            ..Part::default()
        },
        MediaSource::Url {
            url: uri,
            mime_type,
        }
        | MediaSource::FileId { id: uri, mime_type } => Part {
            file_data: Some(Box::new(FileData {
                mime_type: mime_type.as_deref().map(Cow::Borrowed),
                file_uri: uri.as_str().into(),
            })),
            ..Part::default()
        },
    }
}

fn valid_signature(signature: Option<&Signature>, family: ModelFamily) -> Option<Cow<'_, str>> {
    signature
        .filter(|s| s.valid_for(family) && !s.value.is_empty())
        .map(|s| Cow::Borrowed(s.value.as_str()))
}

fn model_parts(blocks: &[ContentBlock], family: ModelFamily) -> Vec<Part<'_>> {
    let mut parts: Vec<Part<'_>> = Vec::with_capacity(blocks.len());
    for block in blocks {
        match block {
            ContentBlock::Text { text } => {
                if !text.is_empty() {
                    parts.push(Part::text(text.as_str()));
                }
            }
            ContentBlock::Thinking { text, signature } => {
                let Some(sig) = valid_signature(signature.as_ref(), family) else {
                    continue; // unsigned or foreign thinking cannot be replayed
                };
                if text.is_empty() && family != ModelFamily::Claude {
                    // A signature that arrived on the part before it (Gemini 3 puts
                    // signatures on text parts): put it back there.
                    if let Some(prev) = parts.last_mut()
                        && prev.thought_signature.is_none()
                        && !prev.is_thought()
                    {
                        prev.thought_signature = Some(sig);
                        continue;
                    }
                    parts.push(Part {
                        text: Some(Cow::Borrowed("")),
                        thought_signature: Some(sig),
                        ..Part::default()
                    });
                    continue;
                }
                parts.push(Part {
                    text: Some(text.as_str().into()),
                    thought: Some(true),
                    thought_signature: Some(sig),
                    ..Part::default()
                });
            }
            ContentBlock::RedactedThinking { .. } | ContentBlock::ToolResult { .. } => {}
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
                signature,
            } => parts.push(Part {
                function_call: Some(Box::new(FunctionCall {
                    id: Some(id.as_str().into()),
                    name: name.as_str().into(),
                    args: Some(if arguments.is_object() {
                        Cow::Borrowed(arguments)
                    } else {
                        Cow::Owned(json!({ "_raw": arguments }))
                    }),
                })),
                thought_signature: valid_signature(signature.as_ref(), family),
                ..Part::default()
            }),
            ContentBlock::Image { source } | ContentBlock::File { source, .. } => {
                parts.push(media_part(source));
            }
        }
    }
    parts
}

/// The parts of a user turn: function responses first, then their images, then
/// everything else in order.
fn user_parts<'a>(blocks: &'a [ContentBlock], names: &HashMap<&'a str, &'a str>) -> Vec<Part<'a>> {
    let mut responses: Vec<Part<'a>> = Vec::new();
    let mut result_media: Vec<Part<'a>> = Vec::new();
    let mut rest: Vec<Part<'a>> = Vec::new();
    for block in blocks {
        match block {
            ContentBlock::Text { text } => {
                if !text.is_empty() {
                    rest.push(Part::text(text.as_str()));
                }
            }
            ContentBlock::Image { source } | ContentBlock::File { source, .. } => {
                rest.push(media_part(source));
            }
            ContentBlock::ToolResult {
                call_id,
                name,
                content,
                is_error,
            } => {
                let name = name
                    .as_deref()
                    .or_else(|| names.get(call_id.as_str()).copied())
                    .unwrap_or_default();
                let mut text: Option<Cow<'a, str>> = None;
                for c in content {
                    match c {
                        ToolResultContent::Text(t) => match &mut text {
                            None => text = Some(Cow::Borrowed(t)),
                            Some(joined) => {
                                let joined = joined.to_mut();
                                joined.push('\n');
                                joined.push_str(t);
                            }
                        },
                        ToolResultContent::Image(source) => result_media.push(media_part(source)),
                    }
                }
                responses.push(Part {
                    function_response: Some(Box::new(FunctionResponse {
                        id: Some(call_id.as_str().into()),
                        name: name.into(),
                        response: Some(response_object(text.unwrap_or_default(), *is_error)),
                        ..FunctionResponse::default()
                    })),
                    ..Part::default()
                });
            }
            ContentBlock::Thinking { .. }
            | ContentBlock::RedactedThinking { .. }
            | ContentBlock::ToolCall { .. } => {}
        }
    }
    responses.extend(result_media);
    responses.extend(rest);
    responses
}

/// `functionResponse.response` is a protobuf `Struct`: an object.
fn response_object(text: Cow<'_, str>, is_error: bool) -> ResponseBody<'_> {
    if is_error {
        return ResponseBody::Text { key: "error", text };
    }
    if text.trim_start().starts_with('{')
        && let Ok(obj @ Value::Object(_)) = serde_json::from_str::<Value>(&text)
    {
        return ResponseBody::Object(obj);
    }
    ResponseBody::Text {
        key: "output",
        text,
    }
}

/// Make every model turn's calls answered by the next user turn, in call order.
fn pair_calls_and_responses(contents: &mut Vec<Content<'_>>) {
    let mut i = 0;
    while i < contents.len() {
        let is_model = contents[i].role.as_deref() == Some("model");
        if !is_model {
            // A user turn not right after calls (those are handled below, with
            // their model turn): any responses in it are orphans.
            orphans_to_text(&mut contents[i].parts);
            i += 1;
            continue;
        }
        let calls: Vec<(Option<Cow<'_, str>>, Cow<'_, str>)> = contents[i]
            .parts
            .iter()
            .filter_map(|p| p.function_call.as_ref())
            .map(|c| (c.id.clone(), c.name.clone()))
            .collect();
        if calls.is_empty() {
            i += 1;
            continue;
        }
        if contents
            .get(i + 1)
            .is_none_or(|c| c.role.as_deref() != Some("user"))
        {
            contents.insert(i + 1, Content::new("user", Vec::new()));
        }
        let next = &mut contents[i + 1];
        let parts = std::mem::take(&mut next.parts);
        let mut responses: Vec<Option<Part<'_>>> = vec![None; calls.len()];
        let mut others: Vec<Part<'_>> = Vec::new();
        for part in parts {
            let Some(resp) = &part.function_response else {
                others.push(part);
                continue;
            };
            let slot = calls.iter().enumerate().position(|(k, (id, name))| {
                responses[k].is_none()
                    && match (&resp.id, id) {
                        (Some(a), Some(b)) => a == b,
                        _ => *name == resp.name,
                    }
            });
            match slot {
                Some(k) => responses[k] = Some(part),
                None => others.push(part),
            }
        }
        let mut ordered: Vec<Part<'_>> = Vec::with_capacity(calls.len() + others.len());
        for (slot, (id, name)) in responses.into_iter().zip(calls) {
            ordered.push(slot.unwrap_or_else(|| Part {
                function_response: Some(Box::new(FunctionResponse {
                    id,
                    name,
                    response: Some(ResponseBody::Text {
                        key: "error",
                        text: Cow::Borrowed("No result was provided for this tool call."),
                    }),
                    ..FunctionResponse::default()
                })),
                ..Part::default()
            }));
        }
        orphans_to_text(&mut others);
        ordered.extend(others);
        next.parts = ordered;
        i += 2;
    }
}

/// Function responses with no matching call become text, which every model reads.
fn orphans_to_text(parts: &mut [Part<'_>]) {
    for part in parts.iter_mut() {
        if let Some(resp) = part.function_response.take() {
            let body = resp
                .response
                .map(|r| match r {
                    ResponseBody::Text {
                        key: "output",
                        text,
                    } => text.into_owned(),
                    ResponseBody::Object(Value::Object(mut o))
                        if o.len() == 1 && o.contains_key("output") =>
                    {
                        match o.remove("output") {
                            Some(Value::String(s)) => s,
                            Some(other) => other.to_string(),
                            None => String::new(),
                        }
                    }
                    other => other.into_value().to_string(),
                })
                .unwrap_or_default();
            let label = if resp.name.is_empty() {
                resp.id.unwrap_or_default()
            } else {
                resp.name
            };
            *part = Part::text(format!("[Result of tool call {label}]\n{body}"));
        }
    }
}

/// Gemini 3: the first function call of each model turn carries a signature.
fn sign_first_calls(contents: &mut [Content<'_>]) {
    for content in contents
        .iter_mut()
        .filter(|c| c.role.as_deref() == Some("model"))
    {
        if let Some(first) = content.parts.iter_mut().find(|p| p.function_call.is_some())
            && first.thought_signature.is_none()
        {
            first.thought_signature = Some(Cow::Borrowed(SKIP_SIGNATURE));
        }
    }
}

#[cfg(test)]
#[path = "encode_gemini_tests.rs"]
mod tests;
