//! Chat Completions request validation as strict as OpenAI's: unrecognized arguments,
//! `model` and `messages` required, roles, fields per role, content part types, tool
//! definitions and `tool` messages answering the preceding assistant `tool_calls`. Errors
//! carry OpenAI's message, `param` and `code`.

use serde_json::{Map, Value};

/// Every documented top-level argument of `POST /v1/chat/completions`.
const PARAMS: &[&str] = &[
    "model",
    "messages",
    "audio",
    "frequency_penalty",
    "function_call",
    "functions",
    "logit_bias",
    "logprobs",
    "max_completion_tokens",
    "max_tokens",
    "metadata",
    "modalities",
    "n",
    "parallel_tool_calls",
    "prediction",
    "presence_penalty",
    "prompt_cache_key",
    "prompt_cache_retention",
    "reasoning_effort",
    "response_format",
    "safety_identifier",
    "seed",
    "service_tier",
    "stop",
    "store",
    "stream",
    "stream_options",
    "temperature",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "user",
    "verbosity",
    "web_search_options",
];

const ROLES: &str = "'system', 'assistant', 'user', 'function', 'tool', and 'developer'";

const PART_TYPES: &str = "'text', 'image_url', 'input_audio', 'refusal', 'audio', and 'file'";

/// An OpenAI 400: message, `param`, `code`.
#[derive(Debug, PartialEq)]
pub(crate) struct Invalid {
    pub message: String,
    pub param: Option<String>,
    pub code: Option<&'static str>,
}

fn invalid(
    message: impl Into<String>,
    param: Option<String>,
    code: Option<&'static str>,
) -> Invalid {
    Invalid {
        message: message.into(),
        param,
        code,
    }
}

fn missing(param: &str) -> Invalid {
    invalid(
        format!("Missing required parameter: '{param}'."),
        Some(param.to_string()),
        Some("missing_required_parameter"),
    )
}

fn unknown(param: &str) -> Invalid {
    invalid(
        format!("Unknown parameter: '{param}'."),
        Some(param.to_string()),
        Some("unknown_parameter"),
    )
}

fn bad_value(value: &str, supported: &str, param: &str) -> Invalid {
    invalid(
        format!("Invalid value: '{value}'. Supported values are: {supported}."),
        Some(param.to_string()),
        Some("invalid_value"),
    )
}

fn bad_type(param: &str, expected: &str) -> Invalid {
    invalid(
        format!("Invalid type for '{param}': expected {expected}."),
        Some(param.to_string()),
        Some("invalid_type"),
    )
}

type Check = Result<(), Invalid>;

/// Keys of `obj` must be in `allowed`; the first `n_required` must be present.
fn fields(obj: &Map<String, Value>, path: &str, allowed: &[&str], n_required: usize) -> Check {
    for r in allowed.iter().take(n_required) {
        if obj.get(*r).is_none_or(Value::is_null) {
            return Err(missing(&format!("{path}.{r}")));
        }
    }
    for k in obj.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(unknown(&format!("{path}.{k}")));
        }
    }
    Ok(())
}

/// What the handler needs from a valid request.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    pub model: String,
    pub stream: bool,
    pub include_usage: bool,
    pub said: Option<String>,
    pub prompt_text: String,
}

/// Validates a chat completions request.
pub(crate) fn check(body: &Value) -> Result<Checked, Invalid> {
    let root = body
        .as_object()
        .ok_or_else(|| bad_type("body", "an object"))?;
    for k in root.keys() {
        if !PARAMS.contains(&k.as_str()) {
            return Err(invalid(
                format!("Unrecognized request argument supplied: {k}"),
                None,
                None,
            ));
        }
    }
    let model = match root.get("model") {
        None | Some(Value::Null) => {
            return Err(invalid("you must provide a model parameter", None, None));
        }
        Some(v) => v.as_str().ok_or_else(|| bad_type("model", "a string"))?,
    };
    let messages = match root.get("messages") {
        None | Some(Value::Null) => return Err(missing("messages")),
        Some(v) => v
            .as_array()
            .ok_or_else(|| bad_type("messages", "an array"))?,
    };
    if messages.is_empty() {
        return Err(invalid(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got \
             an empty array instead.",
            Some("messages".into()),
            Some("empty_array"),
        ));
    }
    let stream = match root.get("stream") {
        None | Some(Value::Null) => false,
        Some(v) => v.as_bool().ok_or_else(|| bad_type("stream", "a boolean"))?,
    };
    let include_usage = check_stream_options(root.get("stream_options"), stream)?;
    let has_tools = check_tools(root.get("tools"))?;
    check_tool_choice(root.get("tool_choice"), has_tools)?;
    let mut prompt_text = String::new();
    for (i, m) in messages.iter().enumerate() {
        check_message(m, i, &mut prompt_text)?;
    }
    super::pairing::tool_messages(messages)?;
    Ok(Checked {
        model: model.to_string(),
        stream,
        include_usage,
        said: last_user_text(messages),
        prompt_text,
    })
}

fn check_stream_options(v: Option<&Value>, stream: bool) -> Result<bool, Invalid> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(false);
    };
    if !stream {
        return Err(invalid(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            Some("stream_options".into()),
            None,
        ));
    }
    let obj = v
        .as_object()
        .ok_or_else(|| bad_type("stream_options", "an object"))?;
    fields(
        obj,
        "stream_options",
        &["include_usage", "include_obfuscation"],
        0,
    )?;
    Ok(obj.get("include_usage").and_then(Value::as_bool) == Some(true))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `tools[i]`: `type` `function` (with `function.name`, an object `parameters`) or `custom`.
/// Returns whether there are tools.
fn check_tools(v: Option<&Value>) -> Result<bool, Invalid> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(false);
    };
    let tools = v.as_array().ok_or_else(|| bad_type("tools", "an array"))?;
    for (i, t) in tools.iter().enumerate() {
        let path = format!("tools[{i}]");
        let obj = t.as_object().ok_or_else(|| bad_type(&path, "an object"))?;
        let kind = match obj.get("type") {
            None | Some(Value::Null) => return Err(missing(&format!("{path}.type"))),
            Some(k) => k.as_str().unwrap_or(""),
        };
        match kind {
            "function" => {
                fields(obj, &path, &["type", "function"], 2)?;
                let fpath = format!("{path}.function");
                let f = obj
                    .get("function")
                    .and_then(Value::as_object)
                    .ok_or_else(|| bad_type(&fpath, "an object"))?;
                fields(
                    f,
                    &fpath,
                    &["name", "description", "parameters", "strict"],
                    1,
                )?;
                let name = f.get("name").and_then(Value::as_str).unwrap_or("");
                if !valid_name(name) {
                    return Err(invalid(
                        format!(
                            "Invalid '{fpath}.name': string does not match pattern. Expected a \
                             string that matches the pattern '^[a-zA-Z0-9_-]+$'."
                        ),
                        Some(format!("{fpath}.name")),
                        Some("invalid_value"),
                    ));
                }
                if let Some(p) = f.get("parameters").filter(|p| !p.is_null()) {
                    let t = p.get("type").and_then(Value::as_str);
                    if !p.is_object() || t != Some("object") {
                        return Err(invalid(
                            format!(
                                "Invalid schema for function '{name}': schema must be a JSON \
                                 Schema of 'type: \"object\"', got 'type: \"{}\"'.",
                                t.unwrap_or("None")
                            ),
                            Some(format!("{fpath}.parameters")),
                            Some("invalid_function_parameters"),
                        ));
                    }
                }
            }
            "custom" => fields(obj, &path, &["type", "custom"], 2)?,
            other => {
                return Err(bad_value(
                    other,
                    "'function' and 'custom'",
                    &format!("{path}.type"),
                ));
            }
        }
    }
    Ok(!tools.is_empty())
}

fn check_tool_choice(v: Option<&Value>, has_tools: bool) -> Check {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(());
    };
    if !has_tools {
        return Err(invalid(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are \
             specified.",
            Some("tool_choice".into()),
            None,
        ));
    }
    match v {
        Value::String(s) => match s.as_str() {
            "none" | "auto" | "required" => Ok(()),
            other => Err(bad_value(
                other,
                "'none', 'auto', and 'required'",
                "tool_choice",
            )),
        },
        Value::Object(obj) => {
            let kind = obj.get("type").and_then(Value::as_str).unwrap_or("");
            match kind {
                "function" => {
                    fields(obj, "tool_choice", &["type", "function"], 2)?;
                    let f = obj
                        .get("function")
                        .and_then(Value::as_object)
                        .ok_or_else(|| bad_type("tool_choice.function", "an object"))?;
                    fields(f, "tool_choice.function", &["name"], 1)
                }
                "allowed_tools" => fields(obj, "tool_choice", &["type", "allowed_tools"], 2),
                "custom" => fields(obj, "tool_choice", &["type", "custom"], 2),
                other => Err(bad_value(
                    other,
                    "'function', 'allowed_tools', and 'custom'",
                    "tool_choice.type",
                )),
            }
        }
        _ => Err(bad_type("tool_choice", "one of a string or an object")),
    }
}

/// Fields per role (required ones first, with their count).
fn role_fields(role: &str) -> Option<(&'static [&'static str], usize)> {
    Some(match role {
        "system" | "developer" | "user" => (&["role", "content", "name"], 2),
        "assistant" => (
            &[
                "role",
                "content",
                "name",
                "tool_calls",
                "function_call",
                "refusal",
                "audio",
            ],
            1,
        ),
        "tool" => (&["role", "content", "tool_call_id"], 3),
        "function" => (&["role", "content", "name"], 3),
        _ => return None,
    })
}

fn check_message(m: &Value, i: usize, text: &mut String) -> Check {
    let path = format!("messages[{i}]");
    let obj = m.as_object().ok_or_else(|| bad_type(&path, "an object"))?;
    let role = match obj.get("role") {
        None | Some(Value::Null) => return Err(missing(&format!("{path}.role"))),
        Some(r) => r.as_str().unwrap_or(""),
    };
    let Some((allowed, n_required)) = role_fields(role) else {
        return Err(bad_value(role, ROLES, &format!("{path}.role")));
    };
    fields(obj, &path, allowed, n_required)?;
    if role == "assistant" {
        let has_calls = obj
            .get("tool_calls")
            .and_then(Value::as_array)
            .is_some_and(|c| !c.is_empty());
        let has_content = obj.get("content").is_some_and(|c| !c.is_null())
            || obj.get("function_call").is_some_and(|c| !c.is_null());
        if !has_calls && !has_content {
            return Err(missing(&format!("{path}.content")));
        }
        if let Some(calls) = obj.get("tool_calls").filter(|c| !c.is_null()) {
            check_tool_calls(calls, &path, text)?;
        }
    }
    match obj.get("content") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) => {
            text.push_str(s);
            Ok(())
        }
        Some(Value::Array(parts)) => {
            for (j, p) in parts.iter().enumerate() {
                check_part(p, role, &format!("{path}.content[{j}]"), text)?;
            }
            Ok(())
        }
        Some(_) => Err(bad_type(
            &format!("{path}.content"),
            "one of a string or an array of objects",
        )),
    }
}

/// A content part: its type must be known and allowed for the role.
fn check_part(p: &Value, role: &str, path: &str, text: &mut String) -> Check {
    let obj = p.as_object().ok_or_else(|| bad_type(path, "an object"))?;
    let kind = match obj.get("type") {
        None | Some(Value::Null) => return Err(missing(&format!("{path}.type"))),
        Some(k) => k.as_str().unwrap_or(""),
    };
    let allowed_for_role: &[&str] = match role {
        "user" => &["text", "image_url", "input_audio", "file"],
        "assistant" => &["text", "refusal"],
        _ => &["text"],
    };
    let known = [
        "text",
        "image_url",
        "input_audio",
        "refusal",
        "audio",
        "file",
    ];
    if !known.contains(&kind) {
        return Err(bad_value(kind, PART_TYPES, &format!("{path}.type")));
    }
    if !allowed_for_role.contains(&kind) {
        let supported: Vec<String> = allowed_for_role.iter().map(|t| format!("'{t}'")).collect();
        return Err(bad_value(
            kind,
            &supported.join(", "),
            &format!("{path}.type"),
        ));
    }
    match kind {
        "text" => {
            fields(obj, path, &["type", "text"], 2)?;
            text.push_str(obj.get("text").and_then(Value::as_str).unwrap_or(""));
            Ok(())
        }
        "image_url" => {
            fields(obj, path, &["type", "image_url"], 2)?;
            let ipath = format!("{path}.image_url");
            let img = obj
                .get("image_url")
                .and_then(Value::as_object)
                .ok_or_else(|| bad_type(&ipath, "an object"))?;
            fields(img, &ipath, &["url", "detail"], 1)
        }
        "input_audio" => fields(obj, path, &["type", "input_audio"], 2),
        "file" => fields(obj, path, &["type", "file"], 2),
        _ => fields(obj, path, &["type", "refusal"], 2),
    }
}

fn check_tool_calls(calls: &Value, path: &str, text: &mut String) -> Check {
    let calls = calls
        .as_array()
        .ok_or_else(|| bad_type(&format!("{path}.tool_calls"), "an array"))?;
    for (k, c) in calls.iter().enumerate() {
        let cpath = format!("{path}.tool_calls[{k}]");
        let obj = c.as_object().ok_or_else(|| bad_type(&cpath, "an object"))?;
        fields(obj, &cpath, &["id", "type", "function"], 3)?;
        let kind = obj.get("type").and_then(Value::as_str).unwrap_or("");
        if kind != "function" {
            return Err(bad_value(kind, "'function'", &format!("{cpath}.type")));
        }
        let fpath = format!("{cpath}.function");
        let f = obj
            .get("function")
            .and_then(Value::as_object)
            .ok_or_else(|| bad_type(&fpath, "an object"))?;
        fields(f, &fpath, &["name", "arguments"], 2)?;
        let args = f
            .get("arguments")
            .and_then(Value::as_str)
            .ok_or_else(|| bad_type(&format!("{fpath}.arguments"), "a string"))?;
        text.push_str(args);
    }
    Ok(())
}

/// The text of the last user message that has text.
fn last_user_text(messages: &[Value]) -> Option<String> {
    messages
        .iter()
        .rev()
        .filter(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .find_map(|m| match m.get("content") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Array(parts)) => {
                let texts: Vec<&str> = parts
                    .iter()
                    .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect();
                (!texts.is_empty()).then(|| texts.join(""))
            }
            _ => None,
        })
}
