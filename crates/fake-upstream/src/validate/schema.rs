//! Semantic rules for tools: the `tool_type` oneof, function names, `parametersJsonSchema`,
//! and the checks Gemini runs on its OpenAPI-subset `Schema` after parsing (enum only on
//! STRING, ARRAY needs items, nested OBJECT needs properties, `required` names defined
//! properties, every node names its type).

use serde_json::Value;

use super::{field, items};
use crate::errors::GoogleError;

/// Tool members that make a Tool non-empty.
const TOOL_KINDS: [&str; 9] = [
    "functionDeclarations",
    "googleSearchRetrieval",
    "codeExecution",
    "googleSearch",
    "urlContext",
    "computerUse",
    "retrieval",
    "enterpriseWebSearch",
    "googleMaps",
];

/// Field errors for `tools[*]` (appended to `errs` as `<path>: <problem>`).
pub(crate) fn tools(req: &Value, errs: &mut Vec<String>) {
    for (ti, tool) in items(field(req, "tools")).iter().enumerate() {
        tool_type_set(tool, ti, errs);
        for (di, decl) in items(field(tool, "functionDeclarations"))
            .iter()
            .enumerate()
        {
            let path = format!("tools[{ti}].function_declarations[{di}]");
            function_name_valid(decl, &path, errs);
            json_schema_is_object(decl, &path, errs);
            if let Some(p) = field(decl, "parameters") {
                schema_rules(p, &format!("{path}.parameters"), true, errs);
            }
            if let Some(r) = field(decl, "response") {
                schema_rules(r, &format!("{path}.response"), true, errs);
            }
        }
    }
    if let Some(rs) = field(req, "generationConfig").and_then(|g| field(g, "responseSchema")) {
        schema_rules(rs, "generation_config.response_schema", true, errs);
    }
}

/// Imitates `tools[i].tool_type: required one_of 'tool_type' must have one initialized field`
/// (an empty tool, including `{"functionDeclarations": []}`).
fn tool_type_set(tool: &Value, ti: usize, errs: &mut Vec<String>) {
    let set = TOOL_KINDS.iter().any(|k| match field(tool, k) {
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
        None => false,
    });
    if !set {
        errs.push(format!(
            "tools[{ti}].tool_type: required one_of 'tool_type' must have one initialized field"
        ));
    }
}

/// Imitates `function_declarations[i].name: Invalid function name. Must start with a letter or
/// an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:),
/// or dashes (-), with a maximum length of 64.`
fn function_name_valid(decl: &Value, path: &str, errs: &mut Vec<String>) {
    let name = field(decl, "name").and_then(Value::as_str).unwrap_or("");
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'));
    if !(first_ok && rest_ok && name.len() <= 64) {
        errs.push(format!(
            "{path}.name: Invalid function name. Must start with a letter or an underscore. Must \
             be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), \
             with a maximum length of 64."
        ));
    }
}

/// `parametersJsonSchema` is free JSON Schema, but it must be a schema object.
fn json_schema_is_object(decl: &Value, path: &str, errs: &mut Vec<String>) {
    if let Some(js) = field(decl, "parametersJsonSchema")
        && !js.is_object()
    {
        errs.push(format!(
            "{path}.parameters_json_schema: parameters_json_schema must be a JSON object."
        ));
    }
}

fn type_of(node: &Value) -> Option<String> {
    match field(node, "type")? {
        Value::String(s) => Some(s.to_ascii_uppercase()),
        Value::Number(n) => {
            let i = usize::try_from(n.as_u64()?).ok()?;
            super::descriptors::TYPE
                .values
                .get(i)
                .map(|s| s.to_string())
        }
        _ => None,
    }
}

/// Gemini's post-parse Schema checks:
/// `<path>.enum: only allowed for STRING type`, `<path>.items: missing field.`,
/// `<path>.properties: should be non-empty for OBJECT type` (nested objects only; a root
/// `parameters` object may be empty) and `<path>.required[i]: property is not defined`.
fn schema_rules(node: &Value, path: &str, root: bool, errs: &mut Vec<String>) {
    let ty = type_of(node);
    if field(node, "enum").is_some() && ty.as_deref().is_some_and(|t| t != "STRING") {
        errs.push(format!("{path}.enum: only allowed for STRING type"));
    }
    if ty.as_deref() == Some("ARRAY") && field(node, "items").is_none() {
        errs.push(format!("{path}.items: missing field."));
    }
    let props = field(node, "properties").and_then(Value::as_object);
    if ty.as_deref() == Some("OBJECT") && !root && props.is_none_or(|p| p.is_empty()) {
        errs.push(format!(
            "{path}.properties: should be non-empty for OBJECT type"
        ));
    }
    for (k, r) in items(field(node, "required")).iter().enumerate() {
        let name = r.as_str().unwrap_or("");
        if !props.is_some_and(|p| p.contains_key(name)) {
            errs.push(format!("{path}.required[{k}]: property is not defined"));
        }
    }
    if let Some(props) = props {
        for (name, sub) in props {
            if sub.is_object() {
                schema_rules(sub, &format!("{path}.properties[{name}]"), false, errs);
            }
        }
    }
    if let Some(it) = field(node, "items") {
        schema_rules(it, &format!("{path}.items"), false, errs);
    }
    for (k, alt) in items(field(node, "anyOf")).iter().enumerate() {
        schema_rules(alt, &format!("{path}.any_of[{k}]"), false, errs);
    }
}

/// Imitates Vertex's ``Unable to submit request because `<fn>` functionDeclaration `<path>`
/// schema didn't specify the schema type field.``: every schema node needs a `type` unless it
/// is an `anyOf` node (whose alternatives then need one).
pub(crate) fn types_specified(req: &Value) -> Result<(), GoogleError> {
    for tool in items(field(req, "tools")) {
        for decl in items(field(tool, "functionDeclarations")) {
            let fname = field(decl, "name").and_then(Value::as_str).unwrap_or("");
            for key in ["parameters", "response"] {
                if let Some(p) = field(decl, key)
                    && let Some(path) = untyped_node(p, key)
                {
                    return Err(GoogleError::invalid_argument(format!(
                        "Unable to submit request because `{fname}` functionDeclaration \
                             `{path}` schema didn't specify the schema type field. Learn more: \
                             https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/control-generated-output"
                    )));
                }
            }
        }
    }
    let response_schema = field(req, "generationConfig").and_then(|g| field(g, "responseSchema"));
    if let Some(rs) = response_schema
        && untyped_node(rs, "response_schema").is_some()
    {
        return Err(GoogleError::invalid_argument(
            "Unable to submit request because one or more response schemas didn't specify \
                 the schema type field. Learn more: \
                 https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/control-generated-output",
        ));
    }
    Ok(())
}

fn untyped_node(node: &Value, path: &str) -> Option<String> {
    let alts = items(field(node, "anyOf"));
    if field(node, "type").is_none() && alts.is_empty() {
        return Some(path.to_string());
    }
    for (k, alt) in alts.iter().enumerate() {
        if let Some(p) = untyped_node(alt, &format!("{path}.anyOf[{k}]")) {
            return Some(p);
        }
    }
    if let Some(props) = field(node, "properties").and_then(Value::as_object) {
        for (name, sub) in props {
            if let Some(p) = untyped_node(sub, &format!("{path}.{name}")) {
                return Some(p);
            }
        }
    }
    field(node, "items").and_then(|it| untyped_node(it, &format!("{path}.items")))
}
