//! Cross-message rules of the Messages API: every `tool_use` answered by a `tool_result` in
//! the next message and every `tool_result` naming a `tool_use` of the previous one;
//! thinking signatures issued by this provider; with thinking on, assistant messages of the
//! current tool loop start with a thinking block. Wording as the real API's.

use serde_json::Value;

use crate::config::Provider;
use crate::signatures::SignatureRegistry;

fn role(m: &Value) -> &str {
    m.get("role").and_then(Value::as_str).unwrap_or("")
}

fn blocks(m: &Value) -> &[Value] {
    m.get("content")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn tag(b: &Value) -> &str {
    b.get("type").and_then(Value::as_str).unwrap_or("")
}

fn tool_use_ids(m: &Value) -> Vec<&str> {
    if role(m) != "assistant" {
        return Vec::new();
    }
    blocks(m)
        .iter()
        .filter(|b| tag(b) == "tool_use")
        .filter_map(|b| b.get("id").and_then(Value::as_str))
        .collect()
}

fn result_id(b: &Value) -> Option<&str> {
    (tag(b) == "tool_result")
        .then(|| b.get("tool_use_id").and_then(Value::as_str))
        .flatten()
}

/// ``messages.N: `tool_use` ids were found without `tool_result` blocks immediately after``
/// and ``messages.N.content.M: unexpected `tool_use_id` found in `tool_result` blocks``.
pub(crate) fn tool_pairing(messages: &[Value]) -> Result<(), String> {
    for (i, m) in messages.iter().enumerate() {
        let ids = tool_use_ids(m);
        if !ids.is_empty()
            && let Some(next) = messages.get(i + 1)
        {
            let answered: Vec<&str> = if role(next) == "user" {
                blocks(next).iter().filter_map(result_id).collect()
            } else {
                Vec::new()
            };
            let missing: Vec<&str> = ids
                .iter()
                .copied()
                .filter(|id| !answered.contains(id))
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "messages.{i}: `tool_use` ids were found without `tool_result` blocks \
                     immediately after: {}. Each `tool_use` block must have a corresponding \
                     `tool_result` block in the next message.",
                    missing.join(", ")
                ));
            }
        }
        if role(m) != "user" {
            continue;
        }
        let prev = i
            .checked_sub(1)
            .and_then(|p| messages.get(p))
            .map(tool_use_ids)
            .unwrap_or_default();
        for (j, b) in blocks(m).iter().enumerate() {
            if let Some(id) = result_id(b)
                && !prev.contains(&id)
            {
                return Err(format!(
                    "messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` \
                     blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` \
                     block in the previous message."
                ));
            }
        }
    }
    Ok(())
}

/// ``messages.N.content.M: Invalid `signature` in `thinking` block`` for a signature this
/// provider did not issue (including other providers' and Cloud Code's).
pub(crate) fn signatures(
    messages: &[Value],
    registry: &SignatureRegistry,
    provider: Provider,
) -> Result<(), String> {
    for (i, m) in messages.iter().enumerate() {
        for (j, b) in blocks(m).iter().enumerate() {
            if tag(b) != "thinking" {
                continue;
            }
            let sig = b.get("signature").and_then(Value::as_str).unwrap_or("");
            if registry.provider_of(sig) != Some(provider) {
                return Err(format!(
                    "messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
                ));
            }
        }
    }
    Ok(())
}

/// Index of the first message of the current turn: after the last user message with
/// content other than tool results.
fn current_turn_start(messages: &[Value]) -> usize {
    messages
        .iter()
        .rposition(|m| {
            role(m) == "user"
                && match m.get("content") {
                    Some(Value::String(_)) => true,
                    _ => blocks(m).iter().any(|b| tag(b) != "tool_result"),
                }
        })
        .map_or(0, |i| i + 1)
}

/// With thinking on, every assistant message of the current tool loop that calls a tool
/// must start with `thinking` or `redacted_thinking`.
pub(crate) fn tool_turn_starts_with_thinking(messages: &[Value]) -> Result<(), String> {
    let start = current_turn_start(messages);
    for (i, m) in messages.iter().enumerate().skip(start) {
        if tool_use_ids(m).is_empty() {
            continue;
        }
        let found = blocks(m).first().map_or("text", tag);
        if found != "thinking" && found != "redacted_thinking" {
            return Err(format!(
                "messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but \
                 found `{found}`. When `thinking` is enabled, a final `assistant` message must \
                 start with a thinking block (preceeding the lastmost set of `tool_use` and \
                 `tool_result` blocks). We recommend you include thinking blocks from previous \
                 turns. To avoid this requirement, disable `thinking`. Please consult our \
                 documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn pairing_reports_missing_and_unexpected_ids() {
        let call = json!({"role": "assistant", "content": [
            {"type": "tool_use", "id": "t1", "name": "f", "input": {}}]});
        let ok = [
            json!({"role": "user", "content": "hi"}),
            call.clone(),
            json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1"}]}),
        ];
        assert!(tool_pairing(&ok).is_ok());
        let missing = [
            ok[0].clone(),
            call,
            json!({"role": "user", "content": "no"}),
        ];
        assert!(
            tool_pairing(&missing)
                .unwrap_err()
                .starts_with("messages.1: `tool_use`")
        );
        let stray = [json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "x"}]})];
        assert!(
            tool_pairing(&stray)
                .unwrap_err()
                .starts_with("messages.0.content.0: unexpected")
        );
    }

    #[test]
    fn current_turn_skips_tool_results() {
        let m = [
            json!({"role": "user", "content": "hi"}),
            json!({"role": "assistant", "content": []}),
            json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t"}]}),
        ];
        assert_eq!(current_turn_start(&m), 1);
    }
}
