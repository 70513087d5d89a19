//! The conversation as upstreams with Anthropic- or OpenAI-style tool calling
//! need it: alternating turns, every tool call answered right after its turn.
//!
//! Both Anthropic ("each `tool_use` block must have a corresponding
//! `tool_result` block in the next message", results first in that message) and
//! OpenAI ("an assistant message with `tool_calls` must be followed by tool
//! messages responding to each `tool_call_id`") refuse a conversation that breaks
//! the pairing, and so do most OpenAI-compatible servers. [`turns`] builds the
//! turns by reference, without copying content:
//! - consecutive messages of one role merge; a message's cache breakpoint stays
//!   where it was, as an [`Item::Breakpoint`] after its blocks;
//! - the user turn after an assistant turn with tool calls starts with one result
//!   per call, in call order; a result the client did not send is an
//!   [`Item::MissingResult`] (an error result, as the Gemini encoder does), and a
//!   user turn is inserted when there is none;
//! - a result whose call is not in the assistant turn right before is an
//!   [`Item::OrphanResult`], which encoders send as text ([`orphan_text`]).

use crate::ir::{CacheControl, ContentBlock, Message, Role, ToolResultContent};

/// The text of a result the client did not send.
pub(crate) const MISSING_RESULT: &str = "No result was provided for this tool call.";

/// One element of a turn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Item<'a> {
    Block(&'a ContentBlock),
    /// The result of this call is missing; send an error result.
    MissingResult {
        call_id: &'a str,
    },
    /// A `ToolResult` block whose call is not in the previous assistant turn.
    OrphanResult(&'a ContentBlock),
    /// The client's cache breakpoint: after the item before it.
    Breakpoint(&'a CacheControl),
}

/// Consecutive messages of one role, paired with the tool calls before them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Turn<'a> {
    pub role: Role,
    pub items: Vec<Item<'a>>,
}

/// The ids of the tool calls among `items`.
fn call_ids<'a>(items: &[Item<'a>]) -> Vec<&'a str> {
    items
        .iter()
        .filter_map(|item| match *item {
            Item::Block(ContentBlock::ToolCall { id, .. }) => Some(id.as_str()),
            _ => None,
        })
        .collect()
}

/// The turns of `messages`, paired (see the module documentation).
pub(crate) fn turns(messages: &[Message]) -> Vec<Turn<'_>> {
    let mut out: Vec<Turn<'_>> = Vec::with_capacity(messages.len());
    for m in messages {
        if m.content.is_empty() {
            continue;
        }
        let items = m.content.iter().map(Item::Block);
        let breakpoint = m.cache_control.as_ref().map(Item::Breakpoint);
        match out.last_mut() {
            Some(last) if last.role == m.role => last.items.extend(items.chain(breakpoint)),
            _ => out.push(Turn {
                role: m.role,
                items: items.chain(breakpoint).collect(),
            }),
        }
    }

    let mut i = 0;
    while i < out.len() {
        if out[i].role == Role::User {
            // Not right after an assistant turn with calls (that case is handled
            // below, with its assistant turn): every result here is an orphan.
            orphan_all(&mut out[i].items);
            i += 1;
            continue;
        }
        let calls = call_ids(&out[i].items);
        if calls.is_empty() {
            i += 1;
            continue;
        }
        if out.get(i + 1).is_none_or(|t| t.role != Role::User) {
            out.insert(
                i + 1,
                Turn {
                    role: Role::User,
                    items: Vec::new(),
                },
            );
        }
        let next = &mut out[i + 1];
        let mut results: Vec<Option<Item<'_>>> = vec![None; calls.len()];
        let mut rest: Vec<Item<'_>> = Vec::with_capacity(next.items.len());
        for item in std::mem::take(&mut next.items) {
            let slot = match item {
                Item::Block(ContentBlock::ToolResult { call_id, .. }) => calls
                    .iter()
                    .enumerate()
                    .position(|(k, id)| results[k].is_none() && *id == call_id.as_str()),
                _ => None,
            };
            match slot {
                Some(k) => results[k] = Some(item),
                None => rest.push(item),
            }
        }
        orphan_all(&mut rest);
        let mut items: Vec<Item<'_>> = results
            .into_iter()
            .zip(&calls)
            .map(|(slot, call_id)| slot.unwrap_or(Item::MissingResult { call_id }))
            .collect();
        items.extend(rest);
        next.items = items;
        i += 2;
    }
    out
}

fn orphan_all(items: &mut [Item<'_>]) {
    for item in items.iter_mut() {
        if let Item::Block(block @ ContentBlock::ToolResult { .. }) = *item {
            *item = Item::OrphanResult(block);
        }
    }
}

/// A result without its call, as text every model reads.
pub(crate) fn orphan_text(block: &ContentBlock) -> String {
    let ContentBlock::ToolResult {
        call_id,
        name,
        content,
        is_error,
    } = block
    else {
        return String::new();
    };
    let label = name.as_deref().filter(|n| !n.is_empty()).unwrap_or(call_id);
    let mut text = format!(
        "[{} of tool call {label}]",
        if *is_error { "Error" } else { "Result" }
    );
    for c in content {
        if let ToolResultContent::Text(t) = c {
            text.push('\n');
            text.push_str(t);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn call(id: &str) -> ContentBlock {
        ContentBlock::ToolCall {
            id: id.into(),
            name: "f".into(),
            arguments: json!({}),
            signature: None,
        }
    }

    fn result(id: &str) -> ContentBlock {
        ContentBlock::ToolResult {
            call_id: id.into(),
            name: None,
            content: vec![ToolResultContent::Text(format!("r{id}"))],
            is_error: false,
        }
    }

    #[test]
    fn results_come_first_in_call_order_and_gaps_are_filled() {
        let messages = vec![
            Message::user_text("go"),
            Message::new(Role::Assistant, vec![call("a"), call("b"), call("c")]),
            Message::new(
                Role::User,
                vec![ContentBlock::text("note"), result("c"), result("a")],
            ),
        ];
        let t = turns(&messages);
        assert_eq!(t.len(), 3);
        assert_eq!(
            t[2].items,
            vec![
                Item::Block(&messages[2].content[2]),
                Item::MissingResult { call_id: "b" },
                Item::Block(&messages[2].content[1]),
                Item::Block(&messages[2].content[0]),
            ]
        );
    }

    #[test]
    fn orphans_merging_breakpoints_and_a_missing_user_turn() {
        let mut first = Message::user_text("a");
        first.cache_control = Some(CacheControl {
            kind: "ephemeral".into(),
            ttl: None,
        });
        let messages = vec![
            first,
            Message::new(Role::User, vec![result("x")]),
            Message::new(Role::Assistant, vec![call("k")]),
        ];
        let t = turns(&messages);
        assert_eq!(t.len(), 3, "{t:?}");
        assert!(matches!(t[0].items[1], Item::Breakpoint(_)));
        assert!(matches!(t[0].items[2], Item::OrphanResult(_)));
        assert_eq!(t[2].role, Role::User);
        assert_eq!(t[2].items, vec![Item::MissingResult { call_id: "k" }]);
        assert_eq!(orphan_text(&result("x")), "[Result of tool call x]\nrx");
    }
}
