//! What a content behaviour answers, independent of the wire: an optional thought, text
//! chunks, function calls and a finish reason. The Anthropic and OpenAI renderers turn a
//! [`Plan`] into their own JSON and SSE events.

use serde_json::Value;

use crate::respond::estimate_tokens;
use crate::script::{Behavior, ScriptedCall};

/// Why the answer ended, before mapping to a provider's words.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Finish {
    /// Natural end (`end_turn` / `stop`).
    Stop,
    /// Output limit (`max_tokens` / `length`).
    Length,
    /// Blocked (`refusal` / `content_filter`).
    Safety,
    /// The answer calls tools (`tool_use` / `tool_calls`).
    ToolUse,
    /// Any other reason, passed through lower-cased.
    Other(String),
}

impl Finish {
    /// Maps a scripted reason: Google's `STOP`, `MAX_TOKENS`, `SAFETY`, or a provider's own
    /// word (passed through lower-cased).
    fn from_script(reason: &str) -> Finish {
        match reason {
            "STOP" => Finish::Stop,
            "MAX_TOKENS" => Finish::Length,
            "SAFETY" => Finish::Safety,
            other => Finish::Other(other.to_ascii_lowercase()),
        }
    }
}

/// The content of one answer.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Plan {
    /// Thought text, when the answer thinks.
    pub thought: Option<String>,
    /// Text chunks, one per stream event.
    pub texts: Vec<String>,
    /// Function calls, in order.
    pub calls: Vec<ScriptedCall>,
    /// Why the answer ended.
    pub finish: Finish,
}

/// What the request contributes to the default answer.
pub(crate) struct Ask<'a> {
    /// The model id as requested.
    pub model: &'a str,
    /// The last user text, if any.
    pub said: Option<&'a str>,
    /// Whether the request turned thinking on (the answer then thinks first).
    pub thinking: bool,
    /// Split text one word per chunk (for `CutAfter` / `StreamError`).
    pub words: bool,
}

impl Plan {
    /// The plan of a content behaviour (`Raw` gives an empty plan; callers render it
    /// themselves).
    pub fn build(behavior: &Behavior, ask: &Ask<'_>) -> Plan {
        let mut plan = Plan {
            thought: None,
            texts: Vec::new(),
            calls: Vec::new(),
            finish: Finish::Stop,
        };
        if let Behavior::Thinking { thought, .. } = behavior {
            plan.thought = Some(thought.clone());
        } else if ask.thinking {
            plan.thought = Some(format!(
                "Thinking about: {}",
                ask.said.unwrap_or("the request")
            ));
        }
        match behavior {
            Behavior::Ok => {
                let mut t = format!("Hello from {}.", ask.model);
                if let Some(s) = ask.said {
                    t.push_str(&format!(" You said: {s}"));
                }
                plan.texts = if ask.words { words(&t) } else { halves(&t) };
            }
            Behavior::Text(t) => plan.texts = vec![t.clone()],
            Behavior::Thinking { answer, .. } => plan.texts = vec![answer.clone()],
            Behavior::Chunks(v) => plan.texts.clone_from(v),
            Behavior::Finish { text, reason } => {
                if !text.is_empty() {
                    plan.texts = vec![text.clone()];
                }
                plan.finish = Finish::from_script(reason);
            }
            Behavior::FunctionCall { name, args } => {
                plan.calls = vec![ScriptedCall {
                    name: name.clone(),
                    args: args.clone(),
                }];
            }
            Behavior::FunctionCalls(v) => plan.calls.clone_from(v),
            _ => {}
        }
        if !plan.calls.is_empty() {
            plan.finish = Finish::ToolUse;
        }
        plan
    }

    /// All answer text.
    pub fn text(&self) -> String {
        self.texts.concat()
    }

    /// Estimated output tokens (text and calls; thoughts counted separately).
    pub fn answer_tokens(&self) -> u64 {
        let mut all = self.text();
        for c in &self.calls {
            all.push_str(&c.name);
            all.push_str(&c.args.to_string());
        }
        if all.is_empty() {
            0
        } else {
            estimate_tokens(&all)
        }
    }

    /// Estimated thought tokens.
    pub fn thought_tokens(&self) -> u64 {
        self.thought.as_deref().map_or(0, estimate_tokens)
    }
}

/// `"a b c"` → `["a", " b", " c"]`.
pub(crate) fn words(text: &str) -> Vec<String> {
    text.split(' ')
        .enumerate()
        .map(|(i, w)| {
            if i == 0 {
                w.to_string()
            } else {
                format!(" {w}")
            }
        })
        .collect()
}

/// `"a b c"` → `["a", " b c"]` (one chunk when there is no space).
pub(crate) fn halves(text: &str) -> Vec<String> {
    match text.split_once(' ') {
        Some((a, b)) => vec![a.to_string(), format!(" {b}")],
        None => vec![text.to_string()],
    }
}

/// Splits a JSON text into two pieces at a char boundary (for argument deltas).
pub(crate) fn json_pieces(args: &Value) -> Vec<String> {
    let s = args.to_string();
    let mid = s
        .char_indices()
        .map(|(i, _)| i)
        .find(|&i| i >= s.len() / 2)
        .unwrap_or(s.len());
    let (a, b) = s.split_at(mid);
    [a, b]
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ask<'a>(said: Option<&'a str>, thinking: bool) -> Ask<'a> {
        Ask {
            model: "m",
            said,
            thinking,
            words: false,
        }
    }

    #[test]
    fn ok_echoes_and_thinks_when_asked() {
        let p = Plan::build(&Behavior::Ok, &ask(Some("ping"), true));
        assert_eq!(p.text(), "Hello from m. You said: ping");
        assert_eq!(p.texts.len(), 2);
        assert_eq!(p.thought.as_deref(), Some("Thinking about: ping"));
        assert_eq!(p.finish, Finish::Stop);
    }

    #[test]
    fn calls_finish_with_tool_use_and_reasons_map() {
        let p = Plan::build(
            &Behavior::function_call("f", json!({"a": 1})),
            &ask(None, false),
        );
        assert_eq!(p.finish, Finish::ToolUse);
        let p = Plan::build(
            &Behavior::Finish {
                text: String::new(),
                reason: "MAX_TOKENS".into(),
            },
            &ask(None, false),
        );
        assert_eq!((p.finish, p.texts.len()), (Finish::Length, 0));
    }

    #[test]
    fn json_pieces_rejoin() {
        let v = json!({"city": "Zürich", "n": 1});
        assert_eq!(json_pieces(&v).concat(), v.to_string());
        assert_eq!(json_pieces(&json!({})).concat(), "{}");
    }
}
