//! Renders a [`Plan`] as a `chat.completion` or as `chat.completion.chunk` SSE events
//! (`data: <json>\n\n`, ending with `data: [DONE]`): the role first, `reasoning_content`
//! deltas (DeepSeek-style) for thoughts, content deltas, tool calls by index (id and name
//! first, then argument pieces), the finish chunk and, with `include_usage`, a usage chunk.

use axum::body::Bytes;
use serde_json::{Value, json};

use crate::providers::plan::{Finish, Plan, halves, json_pieces};

/// One answer: the plan plus the ids issued for it.
pub(crate) struct Answer<'a> {
    pub id: String,
    pub created: u64,
    pub model: &'a str,
    pub plan: &'a Plan,
    pub tool_ids: Vec<String>,
    pub prompt_tokens: u64,
}

fn finish_reason(f: &Finish) -> String {
    match f {
        Finish::Stop => "stop".into(),
        Finish::Length => "length".into(),
        Finish::Safety => "content_filter".into(),
        Finish::ToolUse => "tool_calls".into(),
        Finish::Other(s) => s.clone(),
    }
}

impl Answer<'_> {
    fn usage(&self) -> Value {
        let reasoning = self.plan.thought_tokens();
        let completion = self.plan.answer_tokens() + reasoning;
        json!({
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        })
    }

    fn tool_calls(&self) -> Vec<Value> {
        self.plan
            .calls
            .iter()
            .zip(&self.tool_ids)
            .map(|(c, id)| {
                json!({"id": id, "type": "function",
                    "function": {"name": c.name, "arguments": c.args.to_string()}})
            })
            .collect()
    }

    /// The non-stream `chat.completion`.
    pub fn completion(&self) -> Value {
        let text = self.plan.text();
        let mut message = json!({
            "role": "assistant",
            "content": if text.is_empty() && !self.plan.calls.is_empty() {
                Value::Null
            } else {
                Value::String(text)
            },
            "refusal": null,
            "annotations": [],
        });
        if let Some(t) = &self.plan.thought {
            message["reasoning_content"] = Value::String(t.clone());
        }
        if !self.plan.calls.is_empty() {
            message["tool_calls"] = Value::Array(self.tool_calls());
        }
        json!({
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "logprobs": null,
                "finish_reason": finish_reason(&self.plan.finish)}],
            "usage": self.usage(),
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        })
    }

    fn chunk(&self, delta: Value, finish: Option<String>, include_usage: bool) -> Value {
        let mut c = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        });
        if include_usage {
            c["usage"] = Value::Null;
        }
        c
    }

    /// Every chunk in order (without the final `[DONE]`).
    pub fn chunks(&self, include_usage: bool) -> Vec<Value> {
        let u = include_usage;
        let mut out = vec![self.chunk(
            json!({"role": "assistant", "content": "", "refusal": null}),
            None,
            u,
        )];
        if let Some(t) = &self.plan.thought {
            for piece in halves(t) {
                out.push(self.chunk(json!({"reasoning_content": piece}), None, u));
            }
        }
        for t in &self.plan.texts {
            out.push(self.chunk(json!({"content": t}), None, u));
        }
        for (i, (c, id)) in self.plan.calls.iter().zip(&self.tool_ids).enumerate() {
            out.push(self.chunk(
                json!({"tool_calls": [{"index": i, "id": id, "type": "function",
                    "function": {"name": c.name, "arguments": ""}}]}),
                None,
                u,
            ));
            for piece in json_pieces(&c.args) {
                out.push(self.chunk(
                    json!({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}),
                    None,
                    u,
                ));
            }
        }
        out.push(self.chunk(json!({}), Some(finish_reason(&self.plan.finish)), u));
        if include_usage {
            let mut last = self.chunk(json!({}), None, false);
            last["choices"] = json!([]);
            last["usage"] = self.usage();
            out.push(last);
        }
        out
    }
}

/// One SSE frame: `data: <json>\n\n`.
pub(crate) fn frame(data: &Value) -> Bytes {
    Bytes::from(format!("data: {data}\n\n"))
}

/// The stream terminator.
pub(crate) fn done() -> Bytes {
    Bytes::from_static(b"data: [DONE]\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::plan::Ask;
    use crate::script::{Behavior, ScriptedCall};

    #[test]
    fn chunks_stream_tool_calls_by_index_and_end_with_usage() {
        let plan = Plan::build(
            &Behavior::FunctionCalls(vec![
                ScriptedCall {
                    name: "a".into(),
                    args: json!({"x": 1}),
                },
                ScriptedCall {
                    name: "b".into(),
                    args: json!({}),
                },
            ]),
            &Ask {
                model: "m",
                said: None,
                thinking: false,
                words: false,
            },
        );
        let a = Answer {
            id: "chatcmpl-1".into(),
            created: 1,
            model: "m",
            plan: &plan,
            tool_ids: vec!["call_a".into(), "call_b".into()],
            prompt_tokens: 2,
        };
        let chunks = a.chunks(true);
        let last = chunks.last().unwrap();
        assert_eq!(last["choices"], json!([]));
        assert_eq!(last["usage"]["prompt_tokens"], 2);
        let finish = &chunks[chunks.len() - 2];
        assert_eq!(finish["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(
            a.completion()["choices"][0]["message"]["content"],
            Value::Null
        );
    }
}
