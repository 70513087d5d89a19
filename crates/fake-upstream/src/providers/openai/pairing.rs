//! OpenAI's tool-message rules: a `tool` message must follow (through other `tool`
//! messages) an assistant message with `tool_calls` and name one of its ids, and every
//! `tool_call_id` of such an assistant message must be answered right after it.

use serde_json::Value;

use super::validate::Invalid;

fn role(m: &Value) -> &str {
    m.get("role").and_then(Value::as_str).unwrap_or("")
}

fn call_ids(m: &Value) -> Vec<&str> {
    m.get("tool_calls")
        .and_then(Value::as_array)
        .map(|calls| {
            calls
                .iter()
                .filter_map(|c| c.get("id").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

fn answered_id(m: &Value) -> &str {
    m.get("tool_call_id").and_then(Value::as_str).unwrap_or("")
}

/// Checks every tool message and every assistant message with `tool_calls`.
pub(crate) fn tool_messages(messages: &[Value]) -> Result<(), Invalid> {
    let mut open: Option<Vec<&str>> = None;
    for (i, m) in messages.iter().enumerate() {
        if role(m) == "tool" {
            let Some(ids) = &open else {
                return Err(Invalid {
                    message: "Invalid parameter: messages with role 'tool' must be a response to \
                              a preceeding message with 'tool_calls'."
                        .into(),
                    param: Some(format!("messages.[{i}].role")),
                    code: None,
                });
            };
            let id = answered_id(m);
            if !ids.contains(&id) {
                return Err(Invalid {
                    message: format!(
                        "Invalid parameter: 'tool_call_id' of '{id}' not found in 'tool_calls' \
                         of previous message."
                    ),
                    param: Some(format!("messages.[{i}].tool_call_id")),
                    code: None,
                });
            }
            continue;
        }
        open = None;
        let ids = call_ids(m);
        if role(m) != "assistant" || ids.is_empty() {
            continue;
        }
        let answered: Vec<&str> = messages[i + 1..]
            .iter()
            .take_while(|n| role(n) == "tool")
            .map(answered_id)
            .collect();
        let missing: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| !answered.contains(id))
            .collect();
        if !missing.is_empty() {
            return Err(Invalid {
                message: format!(
                    "An assistant message with 'tool_calls' must be followed by tool messages \
                     responding to each 'tool_call_id'. The following tool_call_ids did not have \
                     response messages: {}",
                    missing.join(", ")
                ),
                param: Some(format!("messages.[{i}].role")),
                code: None,
            });
        }
        open = Some(ids);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn call(id: &str) -> Value {
        json!({"role": "assistant", "tool_calls": [{"id": id, "type": "function",
            "function": {"name": "f", "arguments": "{}"}}]})
    }

    #[test]
    fn tool_messages_must_answer_the_previous_calls() {
        let user = json!({"role": "user", "content": "hi"});
        let ok = [
            user.clone(),
            call("a"),
            json!({"role": "tool", "tool_call_id": "a", "content": "r"}),
        ];
        assert!(tool_messages(&ok).is_ok());
        let orphan = [
            user.clone(),
            json!({"role": "tool", "tool_call_id": "a", "content": "r"}),
        ];
        assert_eq!(
            tool_messages(&orphan).unwrap_err().param.as_deref(),
            Some("messages.[1].role")
        );
        let unanswered = [user, call("a")];
        assert!(
            tool_messages(&unanswered)
                .unwrap_err()
                .message
                .ends_with("response messages: a")
        );
    }
}
