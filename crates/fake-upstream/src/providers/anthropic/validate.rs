//! Messages API request validation as strict as Anthropic's: required fields, extra fields
//! anywhere (`<path>: Extra inputs are not permitted`), content-block tags and fields, tool
//! schemas, `tool_use` / `tool_result` pairing, thinking configuration and signatures. Every
//! failure is a 400 `invalid_request_error` whose message is returned as `Err`; paths use
//! Anthropic's (pydantic) form `messages.1.content.0.thinking.signature`.

use serde_json::{Map, Value};

use crate::config::Provider;
use crate::signatures::SignatureRegistry;

/// Top-level fields of `POST /v1/messages` (generally available).
const MESSAGE_FIELDS: &[&str] = &[
    "model",
    "messages",
    "max_tokens",
    "metadata",
    "stop_sequences",
    "stream",
    "system",
    "temperature",
    "thinking",
    "tool_choice",
    "tools",
    "top_k",
    "top_p",
    "service_tier",
    "container",
];

/// Top-level fields of `POST /v1/messages/count_tokens`.
const COUNT_FIELDS: &[&str] = &[
    "model",
    "messages",
    "system",
    "thinking",
    "tool_choice",
    "tools",
];

/// Fields only accepted with an `anthropic-beta` header.
const BETA_FIELDS: &[&str] = &[
    "context_management",
    "mcp_servers",
    "output_config",
    "output_format",
];

/// The content-block tags the API knows, with their fields (required ones first, marked by
/// the count).
const BLOCKS: &[(&str, usize, &[&str])] = &[
    ("text", 1, &["text", "cache_control", "citations"]),
    ("image", 1, &["source", "cache_control"]),
    (
        "document",
        1,
        &["source", "cache_control", "citations", "context", "title"],
    ),
    (
        "search_result",
        3,
        &["source", "title", "content", "citations", "cache_control"],
    ),
    ("tool_use", 3, &["id", "name", "input", "cache_control"]),
    (
        "server_tool_use",
        3,
        &["id", "name", "input", "cache_control"],
    ),
    (
        "web_search_tool_result",
        2,
        &["tool_use_id", "content", "cache_control"],
    ),
    (
        "tool_result",
        1,
        &["tool_use_id", "content", "is_error", "cache_control"],
    ),
    ("thinking", 2, &["thinking", "signature"]),
    ("redacted_thinking", 1, &["data"]),
];

/// What the handler needs from a valid request.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    pub model: String,
    pub stream: bool,
    pub thinking: bool,
    pub said: Option<String>,
    pub input_tokens_text: String,
}

type Check = Result<(), String>;

fn extra(path: &str) -> String {
    format!("{path}: Extra inputs are not permitted")
}

fn required(path: &str) -> String {
    format!("{path}: Field required")
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn tag_error(path: &str, tag: &str, expected: &[&str]) -> String {
    let list: Vec<String> = expected.iter().map(|t| format!("'{t}'")).collect();
    format!(
        "{path}: Input tag '{tag}' found using 'type' does not match any of the expected tags: {}",
        list.join(", ")
    )
}

/// Object fields: every key must be in `allowed`, and the first `n_required` of `allowed`
/// must be present (not null).
fn fields(obj: &Map<String, Value>, path: &str, allowed: &[&str], n_required: usize) -> Check {
    for r in allowed.iter().take(n_required) {
        if obj.get(*r).is_none_or(Value::is_null) {
            return Err(required(&join(path, r)));
        }
    }
    for k in obj.keys() {
        if k != "type" && !allowed.contains(&k.as_str()) {
            return Err(extra(&join(path, k)));
        }
    }
    Ok(())
}

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object().ok_or_else(|| {
        format!("{path}: Input should be a valid dictionary or object to extract fields from")
    })
}

/// Validates a messages (or, with `count`, a count_tokens) request.
pub(crate) fn check(
    body: &Value,
    registry: &SignatureRegistry,
    count: bool,
    beta: bool,
) -> Result<Checked, String> {
    let root = body.as_object().ok_or_else(|| {
        "Input should be a valid dictionary or object to extract fields from".to_string()
    })?;
    let mut allowed: Vec<&str> = if count { COUNT_FIELDS } else { MESSAGE_FIELDS }.to_vec();
    if beta {
        allowed.extend_from_slice(BETA_FIELDS);
    }
    let required_fields: &[&str] = if count {
        &["model", "messages"]
    } else {
        &["model", "messages", "max_tokens"]
    };
    for r in required_fields {
        if root.get(*r).is_none_or(Value::is_null) {
            return Err(required(r));
        }
    }
    for k in root.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(extra(k));
        }
    }
    let model = root
        .get("model")
        .and_then(Value::as_str)
        .ok_or("model: Input should be a valid string")?
        .to_string();
    let max_tokens = match root.get("max_tokens") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let n = v
                .as_i64()
                .ok_or("max_tokens: Input should be a valid integer")?;
            if n < 1 {
                return Err("max_tokens: Input should be greater than or equal to 1".into());
            }
            Some(n)
        }
    };
    let stream = match root.get("stream") {
        None | Some(Value::Null) => false,
        Some(v) => v
            .as_bool()
            .ok_or("stream: Input should be a valid boolean")?,
    };
    if let Some(t) = root.get("temperature").filter(|v| !v.is_null()) {
        let t = t
            .as_f64()
            .ok_or("temperature: Input should be a valid number")?;
        if !(0.0..=1.0).contains(&t) {
            return Err("temperature: Input should be less than or equal to 1".into());
        }
    }
    let mut text = String::new();
    if let Some(system) = root.get("system").filter(|v| !v.is_null()) {
        check_system(system, &mut text)?;
    }
    let thinking = check_thinking(root.get("thinking"), max_tokens)?;
    check_tools(root.get("tools"))?;
    check_tool_choice(root.get("tool_choice"))?;
    let messages = root
        .get("messages")
        .and_then(Value::as_array)
        .ok_or("messages: Input should be a valid list")?;
    if messages.is_empty() {
        return Err("messages: at least one message is required".into());
    }
    for (i, m) in messages.iter().enumerate() {
        check_message(m, i, messages.len(), &mut text)?;
    }
    super::pairing::tool_pairing(messages)?;
    super::pairing::signatures(messages, registry, Provider::Anthropic)?;
    if thinking {
        super::pairing::tool_turn_starts_with_thinking(messages)?;
    }
    Ok(Checked {
        model,
        stream,
        thinking,
        said: last_user_text(messages),
        input_tokens_text: text,
    })
}

fn check_system(system: &Value, text: &mut String) -> Check {
    match system {
        Value::String(s) => {
            text.push_str(s);
            Ok(())
        }
        Value::Array(blocks) => {
            for (i, b) in blocks.iter().enumerate() {
                let path = format!("system.{i}");
                let tag = b.get("type").and_then(Value::as_str).unwrap_or("");
                if tag != "text" {
                    return Err(tag_error(&path, tag, &["text"]));
                }
                check_block(b, &path, text)?;
            }
            Ok(())
        }
        _ => Err("system: Input should be a valid string".into()),
    }
}

/// `thinking`: `enabled` (with `budget_tokens` ≥ 1024 and below `max_tokens`), `disabled` or
/// `adaptive`. Returns whether thinking is on.
fn check_thinking(v: Option<&Value>, max_tokens: Option<i64>) -> Result<bool, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(false);
    };
    let obj = object(v, "thinking")?;
    let tag = obj.get("type").and_then(Value::as_str).unwrap_or("");
    match tag {
        "enabled" => {
            fields(obj, "thinking.enabled", &["budget_tokens"], 1)?;
            let budget = obj
                .get("budget_tokens")
                .and_then(Value::as_i64)
                .ok_or("thinking.enabled.budget_tokens: Input should be a valid integer")?;
            if budget < 1024 {
                return Err(
                    "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
                        .into(),
                );
            }
            if max_tokens.is_some_and(|m| budget >= m) {
                return Err("`max_tokens` must be greater than `thinking.budget_tokens`. Please \
                            consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size"
                    .into());
            }
            Ok(true)
        }
        "adaptive" => fields(obj, "thinking.adaptive", &[], 0).map(|()| true),
        "disabled" => fields(obj, "thinking.disabled", &[], 0).map(|()| false),
        other => Err(tag_error(
            "thinking",
            other,
            &["enabled", "disabled", "adaptive"],
        )),
    }
}

/// A versioned server tool type such as `web_search_20250305`.
fn is_server_tool(tag: &str) -> bool {
    let Some((name, date)) = tag.rsplit_once('_') else {
        return false;
    };
    !name.is_empty() && date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit())
}

/// Custom tools (`type` absent or `custom`): `name` and an object `input_schema` required;
/// versioned server tools pass; custom names must be unique.
fn check_tools(v: Option<&Value>) -> Check {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(());
    };
    let tools = v.as_array().ok_or("tools: Input should be a valid list")?;
    let mut names: Vec<String> = Vec::new();
    for (i, t) in tools.iter().enumerate() {
        let obj = object(t, &format!("tools.{i}"))?;
        let tag = obj.get("type").and_then(Value::as_str).unwrap_or("custom");
        if tag != "custom" {
            if is_server_tool(tag) {
                continue;
            }
            return Err(tag_error(
                &format!("tools.{i}"),
                tag,
                &[
                    "custom",
                    "bash_20250124",
                    "code_execution_20250825",
                    "text_editor_20250728",
                    "web_fetch_20250910",
                    "web_search_20250305",
                ],
            ));
        }
        let path = format!("tools.{i}.custom");
        fields(
            obj,
            &path,
            &[
                "name",
                "input_schema",
                "description",
                "cache_control",
                "strict",
            ],
            2,
        )?;
        let name = obj
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{path}.name: Input should be a valid string"))?;
        let schema = obj.get("input_schema").unwrap_or(&Value::Null);
        let schema = schema
            .as_object()
            .ok_or_else(|| format!("{path}.input_schema: Input should be a valid dictionary"))?;
        match schema.get("type") {
            None | Some(Value::Null) => return Err(required(&format!("{path}.input_schema.type"))),
            Some(Value::String(s)) if s == "object" => {}
            Some(_) => {
                return Err(format!(
                    "{path}.input_schema.type: Input should be 'object'"
                ));
            }
        }
        if let Some(cc) = obj.get("cache_control") {
            check_cache_control(cc, &path)?;
        }
        if names.iter().any(|n| n == name) {
            return Err("tools: Tool names must be unique.".into());
        }
        names.push(name.to_string());
    }
    Ok(())
}

fn check_tool_choice(v: Option<&Value>) -> Check {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(());
    };
    let obj = object(v, "tool_choice")?;
    let tag = obj.get("type").and_then(Value::as_str).unwrap_or("");
    match tag {
        "auto" | "any" => fields(
            obj,
            &format!("tool_choice.{tag}"),
            &["disable_parallel_tool_use"],
            0,
        ),
        "none" => fields(obj, "tool_choice.none", &[], 0),
        "tool" => {
            fields(
                obj,
                "tool_choice.tool",
                &["name", "disable_parallel_tool_use"],
                1,
            )?;
            if obj.get("name").is_some_and(Value::is_string) {
                Ok(())
            } else {
                Err("tool_choice.tool.name: Input should be a valid string".into())
            }
        }
        other => Err(tag_error(
            "tool_choice",
            other,
            &["auto", "any", "tool", "none"],
        )),
    }
}

fn check_message(m: &Value, i: usize, count: usize, text: &mut String) -> Check {
    let path = format!("messages.{i}");
    let obj = object(m, &path)?;
    fields(obj, &path, &["role", "content"], 2)?;
    if obj.contains_key("type") {
        return Err(extra(&format!("{path}.type")));
    }
    let role = obj.get("role").and_then(Value::as_str).unwrap_or("");
    if role != "user" && role != "assistant" {
        return Err(format!(
            "{path}.role: Input should be 'user' or 'assistant'"
        ));
    }
    let final_assistant = role == "assistant" && i + 1 == count;
    let empty_error = || {
        format!(
            "{path}: all messages must have non-empty content except for the optional final \
             assistant message"
        )
    };
    match obj.get("content").unwrap_or(&Value::Null) {
        Value::String(s) => {
            if s.is_empty() && !final_assistant {
                return Err(empty_error());
            }
            text.push_str(s);
        }
        Value::Array(blocks) => {
            if blocks.is_empty() && !final_assistant {
                return Err(empty_error());
            }
            for (j, b) in blocks.iter().enumerate() {
                let bpath = format!("{path}.content.{j}");
                let tag = b.get("type").and_then(Value::as_str).unwrap_or("");
                if !BLOCKS.iter().any(|(t, _, _)| *t == tag) {
                    let expected: Vec<&str> = BLOCKS.iter().map(|(t, _, _)| *t).collect();
                    return Err(tag_error(&bpath, tag, &expected));
                }
                check_block(b, &bpath, text)?;
            }
        }
        _ => return Err(format!("{path}.content: Input should be a valid string")),
    }
    Ok(())
}

/// One content block at `path` (its tag already known), adding its text to `text`.
fn check_block(b: &Value, path: &str, text: &mut String) -> Check {
    let obj = object(b, path)?;
    let tag = obj.get("type").and_then(Value::as_str).unwrap_or("");
    let Some((_, n_required, allowed)) = BLOCKS.iter().find(|(t, _, _)| *t == tag) else {
        return Err(tag_error(path, tag, &["text"]));
    };
    let tpath = format!("{path}.{tag}");
    fields(obj, &tpath, allowed, *n_required)?;
    if let Some(cc) = obj.get("cache_control") {
        check_cache_control(cc, &tpath)?;
    }
    match tag {
        "text" => {
            let t = obj
                .get("text")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{tpath}.text: Input should be a valid string"))?;
            if t.is_empty() {
                return Err("messages: text content blocks must be non-empty".into());
            }
            text.push_str(t);
        }
        "image" => check_image_source(obj.get("source").unwrap_or(&Value::Null), &tpath)?,
        "tool_use" | "server_tool_use" => {
            if !obj.get("input").is_some_and(Value::is_object) {
                return Err(format!("{tpath}.input: Input should be a valid dictionary"));
            }
            for k in ["id", "name"] {
                if !obj.get(k).is_some_and(Value::is_string) {
                    return Err(format!("{tpath}.{k}: Input should be a valid string"));
                }
            }
            text.push_str(&obj.get("input").map(Value::to_string).unwrap_or_default());
        }
        "tool_result" => {
            if !obj.get("tool_use_id").is_some_and(Value::is_string) {
                return Err(format!(
                    "{tpath}.tool_use_id: Input should be a valid string"
                ));
            }
            match obj.get("content") {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => text.push_str(s),
                Some(Value::Array(inner)) => {
                    for (k, ib) in inner.iter().enumerate() {
                        let ipath = format!("{tpath}.content.{k}");
                        let itag = ib.get("type").and_then(Value::as_str).unwrap_or("");
                        let ok = ["text", "image", "document", "search_result"];
                        if !ok.contains(&itag) {
                            return Err(tag_error(&ipath, itag, &ok));
                        }
                        check_block(ib, &ipath, text)?;
                    }
                }
                Some(_) => {
                    return Err(format!("{tpath}.content: Input should be a valid string"));
                }
            }
        }
        "thinking" => {
            for k in ["thinking", "signature"] {
                if !obj.get(k).is_some_and(Value::is_string) {
                    return Err(format!("{tpath}.{k}: Input should be a valid string"));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn check_cache_control(cc: &Value, path: &str) -> Check {
    let cpath = format!("{path}.cache_control");
    let obj = object(cc, &cpath)?;
    let tag = obj.get("type").and_then(Value::as_str).unwrap_or("");
    if tag != "ephemeral" {
        return Err(tag_error(&cpath, tag, &["ephemeral"]));
    }
    fields(obj, &format!("{cpath}.ephemeral"), &["ttl"], 0)?;
    match obj.get("ttl").and_then(Value::as_str) {
        None | Some("5m") | Some("1h") => Ok(()),
        Some(_) => Err(format!(
            "{cpath}.ephemeral.ttl: Input should be '5m' or '1h'"
        )),
    }
}

fn check_image_source(source: &Value, path: &str) -> Check {
    let spath = format!("{path}.source");
    let obj = object(source, &spath)?;
    let tag = obj.get("type").and_then(Value::as_str).unwrap_or("");
    match tag {
        "base64" => {
            fields(obj, &format!("{spath}.base64"), &["media_type", "data"], 2)?;
            let mt = obj.get("media_type").and_then(Value::as_str).unwrap_or("");
            if ["image/jpeg", "image/png", "image/gif", "image/webp"].contains(&mt) {
                Ok(())
            } else {
                Err(format!(
                    "{spath}.base64.media_type: Input should be 'image/jpeg', 'image/png', \
                     'image/gif' or 'image/webp'"
                ))
            }
        }
        "url" => fields(obj, &format!("{spath}.url"), &["url"], 1),
        "file" => fields(obj, &format!("{spath}.file"), &["file_id"], 1),
        other => Err(tag_error(&spath, other, &["base64", "url", "file"])),
    }
}

/// Text of the last user message that has text (string content or text blocks).
fn last_user_text(messages: &[Value]) -> Option<String> {
    messages
        .iter()
        .rev()
        .filter(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .find_map(|m| match m.get("content") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Array(blocks)) => {
                let texts: Vec<&str> = blocks
                    .iter()
                    .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                    .filter_map(|b| b.get("text").and_then(Value::as_str))
                    .collect();
                (!texts.is_empty()).then(|| texts.join(""))
            }
            _ => None,
        })
}
