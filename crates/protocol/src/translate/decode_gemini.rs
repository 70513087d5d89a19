//! Gemini client request (`generateContent` body, `countTokens` body) → IR.
//!
//! Roles `user` (or none) and `model`; legacy `function` turns count as user.
//! Thought parts become thinking blocks whose signature is attributed to the family
//! of the requested model (Gemini unless the name says Claude); a signature on a
//! non-thought part follows that part as an empty signed thinking block (the
//! convention [`crate::ir::ResponseBuilder`] uses). Function calls without an id
//! get `call_<n>` (n counts calls in the request, so the same history always gives
//! the same ids) and a `functionResponse` without an id takes the oldest
//! unanswered call of its name.

use std::borrow::Cow;
use std::collections::VecDeque;

use foldhash::HashMap;
use serde_json::{Map, Value};

use super::TranslateError;
use super::util::{first_bad_field, first_bad_item, locate_error, parse_body, push_blocks};
use crate::gemini::{
    Content, CountTokensRequest, FunctionCallingMode, FunctionResponse, GeminiThinkingConfig,
    GeminiTool, GenerateContentRequest, GenerationConfig, Part, ResponseBody, ToolConfig,
};
use crate::ir::{
    ContentBlock, FunctionTool, MediaSource, Message, ModelFamily, ReasoningEffort, Request,
    ResponseFormat, Role, Signature, SystemPart, ThinkingConfig, ThinkingMode, Tool, ToolChoice,
    ToolResultContent,
};
use crate::json::RawJson;

/// Decode a `generateContent` / `streamGenerateContent` body. `model` comes from
/// the URL (`models/{model}:…`), `stream` from the method.
pub fn decode_gemini(body: &[u8], model: &str, stream: bool) -> Result<Request, TranslateError> {
    let wire: GenerateContentRequest =
        parse_body(body).map_err(|e| locate_error(body, e, locate_gemini))?;
    decode_gemini_request(wire, model, stream)
}

fn locate_gemini(root: &Map<String, Value>) -> Option<TranslateError> {
    if let Some(Value::Array(contents)) = root.get("contents")
        && let Some(i) = first_bad_item::<Content>(contents)
    {
        let path = format!("contents[{i}]");
        let Value::Object(content) = &contents[i] else {
            return Some(TranslateError::new(path, "expected an object"));
        };
        if let Some(Value::Array(parts)) = content.get("parts")
            && let Some(j) = first_bad_item::<Part>(parts)
        {
            let ppath = format!("{path}.parts[{j}]");
            if let Value::Object(part) = &parts[j]
                && let Some((_, e)) = first_bad_field::<Part>(part, &[], &ppath)
            {
                return Some(e);
            }
            return Some(TranslateError::new(ppath, "expected an object"));
        }
        return first_bad_field::<Content>(content, &[], &path).map(|(_, e)| e);
    }
    first_bad_field::<GenerateContentRequest>(root, &[], "").map(|(_, e)| e)
}

/// Decode an already parsed request.
pub fn decode_gemini_request(
    wire: GenerateContentRequest,
    model: &str,
    stream: bool,
) -> Result<Request, TranslateError> {
    let model = model.strip_prefix("models/").unwrap_or(model);
    if model.is_empty() {
        return Err(TranslateError::new("model", "required"));
    }
    let family = match ModelFamily::of(model) {
        ModelFamily::Claude => ModelFamily::Claude,
        _ => ModelFamily::Gemini,
    };
    let mut req = Request {
        model: model.to_owned(),
        stream,
        ..Request::default()
    };
    if let Some(system) = wire.system_instruction {
        for part in system.parts {
            if let Some(text) = part.text.filter(|t| !t.is_empty()) {
                req.system.push(SystemPart::new(text));
            }
        }
    }
    req.messages = decode_contents(wire.contents, family)?;
    for (i, tool) in wire.tools.into_iter().enumerate() {
        decode_tool(tool, i, &mut req.tools)?;
    }
    if let Some(config) = wire.tool_config {
        req.tool_choice = decode_tool_config(config);
    }
    if let Some(g) = wire.generation_config {
        decode_generation(g, &mut req)?;
    }
    Ok(req)
}

/// Decode a `countTokens` body: bare `contents`, or a `generateContentRequest`.
pub fn decode_gemini_count_tokens(body: &[u8], model: &str) -> Result<Request, TranslateError> {
    let wire: CountTokensRequest = parse_body(body).map_err(|e| {
        locate_error(body, e, |root| {
            first_bad_field::<CountTokensRequest>(root, &[], "").map(|(_, e)| e)
        })
    })?;
    match wire.generate_content_request {
        Some(inner) => {
            let model = inner.model.clone().unwrap_or_else(|| model.to_owned());
            decode_gemini_request(inner, &model, false)
        }
        None => decode_gemini_request(
            GenerateContentRequest {
                contents: wire.contents,
                ..GenerateContentRequest::default()
            },
            model,
            false,
        ),
    }
}

struct CallIds {
    next: u32,
    /// Calls not yet answered, by function name, oldest first.
    pending: HashMap<String, VecDeque<String>>,
}

impl CallIds {
    fn call(&mut self, id: Option<&str>, name: &str) -> String {
        let id = match id.filter(|id| !id.is_empty()) {
            Some(id) => id.to_owned(),
            None => format!("call_{}", self.next),
        };
        self.next += 1;
        self.pending
            .entry(name.to_owned())
            .or_default()
            .push_back(id.clone());
        id
    }

    fn response(&mut self, id: Option<&str>, name: &str) -> String {
        let queue = self.pending.entry(name.to_owned()).or_default();
        match id.filter(|id| !id.is_empty()) {
            Some(id) => {
                if let Some(pos) = queue.iter().position(|p| p == id) {
                    queue.remove(pos);
                }
                id.to_owned()
            }
            None => queue.pop_front().unwrap_or_else(|| format!("call_{name}")),
        }
    }
}

fn decode_contents(
    contents: Vec<Content>,
    family: ModelFamily,
) -> Result<Vec<Message>, TranslateError> {
    let mut ids = CallIds {
        next: 0,
        pending: HashMap::default(),
    };
    let mut messages = Vec::with_capacity(contents.len());
    for (i, content) in contents.into_iter().enumerate() {
        let role = match content.role.as_deref() {
            None | Some("") | Some("user") | Some("function") | Some("tool") => Role::User,
            Some("model") | Some("assistant") => Role::Assistant,
            Some(other) => {
                return Err(TranslateError::new(
                    format!("contents[{i}].role"),
                    format!("unsupported role `{other}` (expected `user` or `model`)"),
                ));
            }
        };
        let mut blocks = Vec::with_capacity(content.parts.len());
        for (j, part) in content.parts.into_iter().enumerate() {
            decode_part(
                part,
                family,
                &mut ids,
                &mut blocks,
                &format!("contents[{i}].parts[{j}]"),
            )?;
        }
        push_blocks(&mut messages, role, blocks);
    }
    Ok(messages)
}

fn media(mime_type: Option<String>, source: MediaSource) -> ContentBlock {
    if mime_type
        .as_deref()
        .is_some_and(|m| m.starts_with("image/"))
    {
        ContentBlock::Image { source }
    } else {
        ContentBlock::File { source, name: None }
    }
}

fn decode_part(
    part: Part,
    family: ModelFamily,
    ids: &mut CallIds,
    blocks: &mut Vec<ContentBlock>,
    path: &str,
) -> Result<(), TranslateError> {
    let signature = part
        .thought_signature
        .filter(|s| !s.is_empty())
        .map(|s| Signature::new(s, Some(family)));
    let thought = part.thought == Some(true);
    if let Some(call) = part.function_call {
        if call.name.is_empty() {
            return Err(TranslateError::new(
                format!("{path}.functionCall.name"),
                "required",
            ));
        }
        let id = ids.call(call.id.as_deref(), &call.name);
        blocks.push(ContentBlock::ToolCall {
            id,
            arguments: match call.args.map(Cow::into_owned) {
                Some(v @ Value::Object(_)) => v,
                None | Some(Value::Null) => Value::Object(Map::new()),
                Some(other) => serde_json::json!({ "_raw": other }),
            },
            name: call.name.into_owned(),
            signature,
        });
        return Ok(());
    }
    if let Some(resp) = part.function_response {
        if resp.name.is_empty() {
            return Err(TranslateError::new(
                format!("{path}.functionResponse.name"),
                "required",
            ));
        }
        blocks.push(decode_function_response(*resp, ids));
        return Ok(());
    }
    let mut signature = signature;
    // Thought text continuing an unsigned thinking block (a client replaying
    // streamed thought fragments part by part), or a signature arriving on a part
    // of its own after it, belongs to that block — as when folding a stream.
    if let Some(ContentBlock::Thinking {
        text: open,
        signature: open_sig @ None,
    }) = blocks.last_mut()
    {
        let has_data = part.inline_data.is_some()
            || part.file_data.is_some()
            || part.executable_code.is_some()
            || part.code_execution_result.is_some();
        let text = part.text.as_deref().unwrap_or("");
        if !has_data && (thought || text.is_empty()) {
            open.push_str(text);
            *open_sig = signature;
            return Ok(());
        }
    }
    if let Some(text) = part.text.map(Cow::into_owned) {
        if thought {
            blocks.push(ContentBlock::Thinking {
                text,
                signature: signature.take(),
            });
        } else if !text.is_empty() {
            blocks.push(ContentBlock::Text { text });
        }
    } else if let Some(blob) = part.inline_data {
        let mime = Some(blob.mime_type.to_string());
        blocks.push(media(
            mime,
            MediaSource::Base64 {
                mime_type: blob.mime_type.into_owned(),
                data: blob.data.into_owned(),
            },
        ));
    } else if let Some(file) = part.file_data {
        if file.file_uri.is_empty() {
            return Err(TranslateError::new(
                format!("{path}.fileData.fileUri"),
                "required",
            ));
        }
        let mime_type = file.mime_type.map(Cow::into_owned);
        blocks.push(media(
            mime_type.clone(),
            MediaSource::FileId {
                id: file.file_uri.into_owned(),
                mime_type,
            },
        ));
    } else if let Some(code) = part.executable_code {
        let lang = code.language.unwrap_or_default().to_ascii_lowercase();
        blocks.push(ContentBlock::text(format!("```{lang}\n{}\n```", code.code)));
    } else if let Some(result) = part.code_execution_result {
        blocks.push(ContentBlock::text(format!(
            "```output\n{}\n```",
            result.output.unwrap_or_default()
        )));
    }
    if let Some(signature) = signature {
        // A signature on a non-thought part (or alone): keep it, in place.
        blocks.push(ContentBlock::Thinking {
            text: String::new(),
            signature: Some(signature),
        });
    }
    Ok(())
}

fn decode_function_response(resp: FunctionResponse, ids: &mut CallIds) -> ContentBlock {
    let call_id = ids.response(resp.id.as_deref(), &resp.name);
    let mut content = Vec::new();
    let mut is_error = false;
    match resp.response.map(ResponseBody::into_value) {
        Some(Value::Object(mut obj)) if obj.len() == 1 && obj.contains_key("output") => {
            match obj.remove("output") {
                Some(Value::String(s)) => content.push(ToolResultContent::Text(s)),
                Some(other) => content.push(ToolResultContent::Text(other.to_string())),
                None => {}
            }
        }
        Some(Value::Object(mut obj)) if obj.len() == 1 && obj.contains_key("error") => {
            is_error = true;
            match obj.remove("error") {
                Some(Value::String(s)) => content.push(ToolResultContent::Text(s)),
                Some(other) => content.push(ToolResultContent::Text(other.to_string())),
                None => {}
            }
        }
        Some(Value::Null) | None => {}
        Some(other) => content.push(ToolResultContent::Text(other.to_string())),
    }
    for part in resp.parts {
        if let Some(blob) = part.inline_data {
            content.push(ToolResultContent::Image(MediaSource::Base64 {
                mime_type: blob.mime_type.into_owned(),
                data: blob.data.into_owned(),
            }));
        } else if let Some(file) = part.file_data {
            content.push(ToolResultContent::Image(MediaSource::FileId {
                id: file.file_uri.into_owned(),
                mime_type: file.mime_type.map(Cow::into_owned),
            }));
        }
    }
    ContentBlock::ToolResult {
        call_id,
        name: Some(resp.name.into_owned()),
        content,
        is_error,
    }
}

fn decode_tool(tool: GeminiTool, i: usize, out: &mut Vec<Tool>) -> Result<(), TranslateError> {
    for (j, f) in tool.function_declarations.into_iter().enumerate() {
        let path = format!("tools[{i}].functionDeclarations[{j}]");
        if f.name.is_empty() {
            return Err(TranslateError::new(format!("{path}.name"), "required"));
        }
        let parameters = match f.parameters_json_schema.or(f.parameters) {
            Some(schema) if schema.is_object() => {
                let mut schema = schema.to_value();
                lowercase_types(&mut schema, 0);
                RawJson::from(schema)
            }
            _ => RawJson::empty_object_schema(),
        };
        out.push(Tool::Function(FunctionTool {
            name: f.name.into_owned(),
            description: f.description.filter(|d| !d.is_empty()).map(Cow::into_owned),
            parameters,
            strict: None,
            cache_control: None,
        }));
    }
    if tool.google_search.is_some() || tool.google_search_retrieval.is_some() {
        out.push(Tool::WebSearch);
    }
    if tool.code_execution.is_some() {
        out.push(Tool::CodeExecution);
    }
    Ok(())
}

/// Gemini `Schema` types are upper case (`STRING`); JSON Schema's are lower case.
fn lowercase_types(schema: &mut Value, depth: usize) {
    if depth > 64 {
        return;
    }
    match schema {
        Value::Object(map) => {
            if let Some(Value::String(t)) = map.get_mut("type") {
                *t = t.to_ascii_lowercase();
            }
            for (key, v) in map.iter_mut() {
                if key != "enum" && key != "required" {
                    lowercase_types(v, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                lowercase_types(v, depth + 1);
            }
        }
        _ => {}
    }
}

fn decode_tool_config(config: ToolConfig) -> ToolChoice {
    let Some(fc) = config.function_calling_config else {
        return ToolChoice::Auto;
    };
    match fc.mode {
        Some(FunctionCallingMode::None) => ToolChoice::None,
        Some(FunctionCallingMode::Any) => match fc.allowed_function_names.as_slice() {
            [one] => ToolChoice::Tool(one.clone()),
            _ => ToolChoice::Required,
        },
        _ => ToolChoice::Auto,
    }
}

fn decode_generation(g: GenerationConfig, req: &mut Request) -> Result<(), TranslateError> {
    if g.candidate_count.is_some_and(|n| n > 1) {
        return Err(TranslateError::new(
            "generationConfig.candidateCount",
            "only one candidate is supported",
        ));
    }
    let p = &mut req.generation;
    p.temperature = g.temperature;
    p.top_p = g.top_p;
    p.top_k = g.top_k;
    p.max_output_tokens = g.max_output_tokens;
    p.stop_sequences = g.stop_sequences;
    p.seed = g.seed;
    p.presence_penalty = g.presence_penalty;
    p.frequency_penalty = g.frequency_penalty;
    p.candidate_count = g.candidate_count;
    let is_json = g
        .response_mime_type
        .as_deref()
        .is_some_and(|m| m.eq_ignore_ascii_case("application/json"));
    if is_json {
        req.response_format = match g.response_json_schema.or(g.response_schema) {
            Some(mut schema) if schema.is_object() => {
                lowercase_types(&mut schema, 0);
                ResponseFormat::JsonSchema {
                    name: None,
                    schema,
                    strict: None,
                }
            }
            _ => ResponseFormat::JsonObject,
        };
    }
    if let Some(t) = g.thinking_config {
        req.thinking = Some(decode_thinking(&t, "generationConfig.thinkingConfig")?);
    }
    Ok(())
}

fn decode_thinking(t: &GeminiThinkingConfig, path: &str) -> Result<ThinkingConfig, TranslateError> {
    let effort = match t.thinking_level.as_deref() {
        None => None,
        Some(level) => Some(ReasoningEffort::parse(level).ok_or_else(|| {
            TranslateError::new(
                format!("{path}.thinkingLevel"),
                format!("unsupported value `{level}`"),
            )
        })?),
    };
    let (mode, budget) = match t.thinking_budget {
        Some(0) => (ThinkingMode::Disabled, None),
        Some(b) if b < 0 => (ThinkingMode::Adaptive, None),
        Some(b) => (
            ThinkingMode::Enabled,
            Some(u32::try_from(b).unwrap_or(u32::MAX)),
        ),
        None if effort.is_some() => (ThinkingMode::Enabled, None),
        None => (ThinkingMode::Adaptive, None),
    };
    Ok(ThinkingConfig {
        mode,
        budget_tokens: budget,
        effort,
        include_thoughts: t.include_thoughts.unwrap_or(false),
    })
}

#[cfg(test)]
#[path = "decode_gemini_tests.rs"]
mod tests;
