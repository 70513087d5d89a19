//! Renders a [`Plan`] as an Anthropic `Message` or as the full SSE event sequence
//! (`message_start`, `ping`, `content_block_start` / `_delta` / `_stop`, `message_delta`,
//! `message_stop`), each frame `event: <type>\ndata: <json>\n\n`.

use axum::body::Bytes;
use serde_json::{Value, json};

use crate::providers::plan::{Finish, Plan, halves, json_pieces};

/// One answer: the plan plus the ids and signature issued for it.
pub(crate) struct Answer<'a> {
    pub id: String,
    pub model: &'a str,
    pub plan: &'a Plan,
    /// Signature of the thinking block (issued when the plan thinks).
    pub signature: Option<String>,
    /// One id per call of the plan.
    pub tool_ids: Vec<String>,
    pub input_tokens: u64,
}

fn stop_reason(f: &Finish) -> String {
    match f {
        Finish::Stop => "end_turn".into(),
        Finish::Length => "max_tokens".into(),
        Finish::Safety => "refusal".into(),
        Finish::ToolUse => "tool_use".into(),
        Finish::Other(s) => s.clone(),
    }
}

impl Answer<'_> {
    fn usage(&self, output_tokens: u64) -> Value {
        json!({
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": output_tokens,
        })
    }

    fn output_tokens(&self) -> u64 {
        self.plan.answer_tokens() + self.plan.thought_tokens()
    }

    /// The content blocks of the whole message.
    fn blocks(&self) -> Vec<Value> {
        let mut out = Vec::new();
        if let Some(t) = &self.plan.thought {
            out.push(json!({"type": "thinking", "thinking": t,
                "signature": self.signature.clone().unwrap_or_default()}));
        }
        let text = self.plan.text();
        if !text.is_empty() {
            out.push(json!({"type": "text", "text": text}));
        }
        for (c, id) in self.plan.calls.iter().zip(&self.tool_ids) {
            out.push(json!({"type": "tool_use", "id": id, "name": c.name, "input": c.args}));
        }
        out
    }

    /// The non-stream `Message`.
    pub fn message(&self) -> Value {
        json!({
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": self.blocks(),
            "stop_reason": stop_reason(&self.plan.finish),
            "stop_sequence": null,
            "usage": self.usage(self.output_tokens()),
        })
    }

    /// Every stream event in order, as (event name, data).
    pub fn events(&self) -> Vec<(&'static str, Value)> {
        let mut ev: Vec<(&'static str, Value)> = vec![(
            "message_start",
            json!({"type": "message_start", "message": {
                "id": self.id, "type": "message", "role": "assistant", "model": self.model,
                "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": self.usage(1)}}),
        )];
        let mut index = 0usize;
        let mut pinged = false;
        let mut block = |ev: &mut Vec<(&'static str, Value)>, start: Value, deltas: Vec<Value>| {
            ev.push((
                "content_block_start",
                json!({"type": "content_block_start", "index": index, "content_block": start}),
            ));
            if !pinged {
                ev.push(("ping", json!({"type": "ping"})));
                pinged = true;
            }
            for d in deltas {
                ev.push((
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": index, "delta": d}),
                ));
            }
            ev.push((
                "content_block_stop",
                json!({"type": "content_block_stop", "index": index}),
            ));
            index += 1;
        };
        if let Some(t) = &self.plan.thought {
            let mut deltas: Vec<Value> = halves(t)
                .into_iter()
                .map(|p| json!({"type": "thinking_delta", "thinking": p}))
                .collect();
            deltas.push(json!({"type": "signature_delta",
                "signature": self.signature.clone().unwrap_or_default()}));
            block(
                &mut ev,
                json!({"type": "thinking", "thinking": "", "signature": ""}),
                deltas,
            );
        }
        if !self.plan.texts.is_empty() {
            let deltas = self
                .plan
                .texts
                .iter()
                .map(|t| json!({"type": "text_delta", "text": t}))
                .collect();
            block(&mut ev, json!({"type": "text", "text": ""}), deltas);
        }
        for (c, id) in self.plan.calls.iter().zip(&self.tool_ids) {
            let mut deltas = vec![json!({"type": "input_json_delta", "partial_json": ""})];
            deltas.extend(
                json_pieces(&c.args)
                    .into_iter()
                    .map(|p| json!({"type": "input_json_delta", "partial_json": p})),
            );
            block(
                &mut ev,
                json!({"type": "tool_use", "id": id, "name": c.name, "input": {}}),
                deltas,
            );
        }
        if !pinged {
            ev.push(("ping", json!({"type": "ping"})));
        }
        ev.push((
            "message_delta",
            json!({"type": "message_delta",
                "delta": {"stop_reason": stop_reason(&self.plan.finish), "stop_sequence": null},
                "usage": {"output_tokens": self.output_tokens()}}),
        ));
        ev.push(("message_stop", json!({"type": "message_stop"})));
        ev
    }
}

/// One SSE frame: `event: <name>\ndata: <json>\n\n`.
pub(crate) fn frame(name: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::plan::Ask;
    use crate::script::Behavior;

    #[test]
    fn events_bracket_every_block_and_end_with_stop() {
        let plan = Plan::build(
            &Behavior::function_call("f", json!({"a": 1})),
            &Ask {
                model: "m",
                said: Some("x"),
                thinking: true,
                words: false,
            },
        );
        let a = Answer {
            id: "msg_1".into(),
            model: "m",
            plan: &plan,
            signature: Some("sig".into()),
            tool_ids: vec!["toolu_1".into()],
            input_tokens: 3,
        };
        let names: Vec<&str> = a.events().iter().map(|(n, _)| *n).collect();
        assert_eq!(names.first(), Some(&"message_start"));
        assert_eq!(names.last(), Some(&"message_stop"));
        assert_eq!(
            names
                .iter()
                .filter(|n| **n == "content_block_start")
                .count(),
            2
        );
        assert_eq!(a.message()["stop_reason"], "tool_use");
        assert_eq!(a.message()["content"][0]["signature"], "sig");
    }
}
