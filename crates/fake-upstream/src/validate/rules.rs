//! Semantic rules of a `GenerateContentRequest` that pass proto parsing but that the
//! backend rejects: empty contents/parts, a part without data, bad roles, unpaired function
//! calls and responses, generation limits per model. Each rule names the error it imitates.

use serde_json::Value;

use super::{field, items, schema};
use crate::config::{Family, ModelSpec};
use crate::errors::{self, GoogleError};
use crate::signatures::{as_i64, claude_thinking_enabled};

/// The oneof `data` members of a Part.
const DATA_FIELDS: [&str; 7] = [
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
];

/// Runs every semantic rule, in the order the backend reports them: field errors (all at
/// once, `* GenerateContentRequest.<path>: <problem>` lines), then roles, function-call
/// pairing and generation limits.
pub(crate) fn check(req: &Value, model: &ModelSpec, seq: u64) -> Result<(), GoogleError> {
    let contents = items(field(req, "contents"));
    let mut errs = Vec::new();
    contents_specified(&contents, &mut errs);
    parts_present_with_data(&contents, &mut errs);
    schema::tools(req, &mut errs);
    if !errs.is_empty() {
        let message: String = errs
            .iter()
            .map(|e| format!("* GenerateContentRequest.{e}\n"))
            .collect();
        return Err(GoogleError::invalid_argument(message));
    }
    schema::types_specified(req)?;
    valid_roles(&contents)?;
    system_instruction_role(req)?;
    match model.family() {
        Family::Claude => claude_tool_pairing(&contents, seq)?,
        _ => gemini_function_pairing(&contents)?,
    }
    generation_limits(req, model, seq)
}

/// Imitates `* GenerateContentRequest.contents: contents is not specified`.
fn contents_specified(contents: &[&Value], errs: &mut Vec<String>) {
    if contents.is_empty() {
        errs.push("contents: contents is not specified".into());
    }
}

/// Imitates `contents[i].parts: contents.parts must not be empty.`, `contents[i].parts[j].data:
/// required oneof field 'data' must have one initialized field` and a missing
/// `inline_data.mime_type`.
fn parts_present_with_data(contents: &[&Value], errs: &mut Vec<String>) {
    for (i, c) in contents.iter().enumerate() {
        let parts = items(field(c, "parts"));
        if parts.is_empty() {
            errs.push(format!(
                "contents[{i}].parts: contents.parts must not be empty."
            ));
            continue;
        }
        for (j, p) in parts.iter().enumerate() {
            if !DATA_FIELDS.iter().any(|d| field(p, d).is_some()) {
                errs.push(format!(
                    "contents[{i}].parts[{j}].data: required oneof field 'data' must have one \
                     initialized field"
                ));
            }
            if let Some(blob) = field(p, "inlineData") {
                let mime = field(blob, "mimeType")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if mime.is_empty() {
                    errs.push(format!(
                        "contents[{i}].parts[{j}].inline_data.mime_type: Mime type is required."
                    ));
                }
            }
        }
    }
}

fn role(c: &Value) -> Option<&str> {
    field(c, "role").and_then(Value::as_str)
}

/// Imitates `Please use a valid role: user, model.` for any other content role
/// (`assistant`, `system`, `tool`, `function`, ...). A missing role counts as `user`.
fn valid_roles(contents: &[&Value]) -> Result<(), GoogleError> {
    for c in contents {
        match role(c) {
            None | Some("user") | Some("model") => {}
            Some(_) => {
                return Err(GoogleError::invalid_argument(
                    "Please use a valid role: user, model.",
                ));
            }
        }
    }
    Ok(())
}

/// `systemInstruction` may only carry role `user` (or none); anything else gets the same
/// `Please use a valid role: user, model.`.
fn system_instruction_role(req: &Value) -> Result<(), GoogleError> {
    let Some(si) = field(req, "systemInstruction") else {
        return Ok(());
    };
    match role(si) {
        None | Some("user") => Ok(()),
        Some(_) => Err(GoogleError::invalid_argument(
            "Please use a valid role: user, model.",
        )),
    }
}

fn calls(c: &Value) -> Vec<&Value> {
    items(field(c, "parts"))
        .into_iter()
        .filter_map(|p| field(p, "functionCall"))
        .collect()
}

fn responses(c: &Value) -> Vec<&Value> {
    items(field(c, "parts"))
        .into_iter()
        .filter_map(|p| field(p, "functionResponse"))
        .collect()
}

fn name_of(v: &Value) -> &str {
    field(v, "name").and_then(Value::as_str).unwrap_or("")
}

fn id_of(v: &Value) -> Option<&str> {
    field(v, "id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Imitates Gemini's pairing errors:
/// `Please ensure that function response turn comes immediately after a function call turn.`
/// (a functionResponse whose previous content is not a model turn with function calls),
/// `Please ensure that the number of function response parts is equal to the number of
/// function call parts of the function call turn.` (a function-call turn followed by a turn
/// with a different number of responses), and a response whose name matches no call of the
/// previous turn.
fn gemini_function_pairing(contents: &[&Value]) -> Result<(), GoogleError> {
    for (i, c) in contents.iter().enumerate() {
        let here_calls = calls(c);
        if role(c) == Some("model")
            && !here_calls.is_empty()
            && let Some(next) = contents.get(i + 1)
            && responses(next).len() != here_calls.len()
        {
            return Err(GoogleError::invalid_argument(
                "Please ensure that the number of function response parts is equal to \
                         the number of function call parts of the function call turn.",
            ));
        }
        let here_responses = responses(c);
        if here_responses.is_empty() {
            continue;
        }
        let prev_calls = match i.checked_sub(1).and_then(|p| contents.get(p)) {
            Some(prev) if role(prev) == Some("model") => calls(prev),
            _ => Vec::new(),
        };
        if prev_calls.is_empty() {
            return Err(GoogleError::invalid_argument(
                "Please ensure that function response turn comes immediately after a function \
                 call turn.",
            ));
        }
        for r in &here_responses {
            if !prev_calls.iter().any(|fc| name_of(fc) == name_of(r)) {
                return Err(GoogleError::invalid_argument(format!(
                    "Please ensure that the function response name `{}` matches the name of a \
                     function call in the preceding function call turn.",
                    name_of(r)
                )));
            }
        }
    }
    Ok(())
}

/// Imitates Anthropic's pairing errors as Cloud Code relays them for Claude models:
/// ``messages.N: `tool_use` ids were found without `tool_result` blocks immediately after``
/// and ``messages.N.content.M: unexpected `tool_use_id` found in `tool_result` blocks``.
/// Calls and responses match by `id` when both have one, else by name.
fn claude_tool_pairing(contents: &[&Value], seq: u64) -> Result<(), GoogleError> {
    let matches = |fc: &Value, fr: &Value| match (id_of(fc), id_of(fr)) {
        (Some(a), Some(b)) => a == b,
        _ => name_of(fc) == name_of(fr),
    };
    for (i, c) in contents.iter().enumerate() {
        let here_calls = calls(c);
        if role(c) == Some("model")
            && !here_calls.is_empty()
            && let Some(next) = contents.get(i + 1)
        {
            let next_responses = responses(next);
            let missing: Vec<&str> = here_calls
                .iter()
                .filter(|fc| !next_responses.iter().any(|fr| matches(fc, fr)))
                .map(|fc| id_of(fc).unwrap_or_else(|| name_of(fc)))
                .collect();
            if !missing.is_empty() {
                return Err(errors::anthropic_invalid_request(
                    &format!(
                        "messages.{i}: `tool_use` ids were found without `tool_result` blocks \
                             immediately after: {}. Each `tool_use` block must have a \
                             corresponding `tool_result` block in the next message.",
                        missing.join(", ")
                    ),
                    seq,
                ));
            }
        }
        let prev_calls = match i.checked_sub(1).and_then(|p| contents.get(p)) {
            Some(prev) if role(prev) == Some("model") => calls(prev),
            _ => Vec::new(),
        };
        for (j, p) in items(field(c, "parts")).iter().enumerate() {
            let Some(fr) = field(p, "functionResponse") else {
                continue;
            };
            if !prev_calls.iter().any(|fc| matches(fc, fr)) {
                return Err(errors::anthropic_invalid_request(
                    &format!(
                        "messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` \
                         blocks: {}. Each `tool_result` block must have a corresponding \
                         `tool_use` block in the previous message.",
                        id_of(fr).unwrap_or_else(|| name_of(fr))
                    ),
                    seq,
                ));
            }
        }
    }
    Ok(())
}

/// Limits from `generationConfig`:
/// - `maxOutputTokens` outside 1..=model limit: Vertex's `Unable to submit request because it
///   has a maxOutputTokens value of N but the supported range is from 1 (inclusive) to M
///   (exclusive)...` (Claude: Anthropic's `max_tokens: N > M, which is the maximum allowed
///   number of output tokens for <model>`);
/// - `temperature` outside [0, 2]: the same Vertex range message;
/// - Claude only: `candidateCount` > 1, a thinking budget below 1024
///   (`thinking.enabled.budget_tokens: Input should be greater than or equal to 1024`) or not
///   below `maxOutputTokens` (`` `max_tokens` must be greater than `thinking.budget_tokens` ``).
fn generation_limits(req: &Value, model: &ModelSpec, seq: u64) -> Result<(), GoogleError> {
    let Some(gc) = field(req, "generationConfig") else {
        return Ok(());
    };
    let claude = model.family() == Family::Claude;
    let max_out = field(gc, "maxOutputTokens").and_then(as_i64);
    if let Some(n) = max_out {
        let limit = i64::from(model.max_output_tokens);
        if claude && n > limit {
            return Err(errors::anthropic_invalid_request(
                &format!(
                    "max_tokens: {n} > {limit}, which is the maximum allowed number of output \
                     tokens for {}",
                    model.id
                ),
                seq,
            ));
        }
        if n < 1 || n > limit {
            return Err(GoogleError::invalid_argument(format!(
                "Unable to submit request because it has a maxOutputTokens value of {n} but the \
                 supported range is from 1 (inclusive) to {} (exclusive). Update the value and try \
                 again.",
                limit + 1
            )));
        }
    }
    if let Some(t) = field(gc, "temperature").and_then(number)
        && !(0.0..=2.0).contains(&t)
    {
        return Err(GoogleError::invalid_argument(format!(
            "Unable to submit request because it has a temperature value of {t} but the \
                 supported range is from 0 (inclusive) to 2.0001 (exclusive). Update the value \
                 and try again."
        )));
    }
    if !claude {
        return Ok(());
    }
    if field(gc, "candidateCount").and_then(as_i64).unwrap_or(1) > 1 {
        return Err(GoogleError::invalid_argument(format!(
            "Multiple candidates are not supported for model {}.",
            model.id
        )));
    }
    if claude_thinking_enabled(Some(gc)) {
        let budget = field(gc, "thinkingConfig")
            .and_then(|tc| field(tc, "thinkingBudget"))
            .and_then(as_i64);
        if let Some(b) = budget.filter(|b| (1..1024).contains(b)) {
            return Err(errors::anthropic_invalid_request(
                &format!(
                    "thinking.enabled.budget_tokens: Input should be greater than or equal to \
                     1024 (got {b})"
                ),
                seq,
            ));
        }
        if let (Some(b), Some(m)) = (budget, max_out)
            && b >= m
        {
            return Err(errors::anthropic_invalid_request(
                "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult \
                     our documentation at \
                     https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size",
                seq,
            ));
        }
    }
    Ok(())
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}
