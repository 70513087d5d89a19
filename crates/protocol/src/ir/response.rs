//! A complete (non-streamed) answer, and the builder that folds a stream into one.

use serde_json::Value;

use super::content::{ContentBlock, Signature};
use super::stream::{StreamError, StreamEvent};
use super::usage::Usage;

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishReason {
    /// A natural end of turn.
    Stop,
    /// The output token limit was reached.
    Length,
    /// The model called tools and waits for their results.
    ToolCalls,
    /// A client stop sequence matched (the sequence, when known).
    StopSequence(Option<String>),
    /// Safety, recitation, blocklist or similar filtering.
    ContentFilter,
    /// The model produced a malformed tool call or another upstream-specific end.
    Other(String),
}

/// A complete answer from the model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Response {
    pub id: Option<String>,
    pub model: Option<String>,
    /// The assistant's content blocks, in order.
    pub content: Vec<ContentBlock>,
    pub finish_reason: Option<FinishReason>,
    pub usage: Usage,
}

impl Response {
    /// The concatenated visible text.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for block in &self.content {
            if let ContentBlock::Text { text } = block {
                out.push_str(text);
            }
        }
        out
    }

    /// Whether the answer has anything a client can show or act on: text or a tool
    /// call. A response of only thinking, or nothing, is empty.
    pub fn has_answer(&self) -> bool {
        self.content.iter().any(|b| match b {
            ContentBlock::Text { text } => !text.is_empty(),
            ContentBlock::ToolCall { .. } => true,
            _ => false,
        })
    }
}

/// Folds [`StreamEvent`]s into a [`Response`], the way a non-streaming client sees
/// the same answer. Mirrors the block-boundary rules documented on `StreamEvent`.
#[derive(Debug, Default)]
pub struct ResponseBuilder {
    response: Response,
    /// Raw JSON text of the open tool call's arguments.
    open_args: Option<String>,
    /// The last block was completed by a signature; the next delta opens a new one.
    sealed: bool,
    error: Option<StreamError>,
}

impl ResponseBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, event: StreamEvent) {
        match event {
            StreamEvent::Start { id, model } => {
                self.response.id = self.response.id.take().or(id);
                self.response.model = self.response.model.take().or(model);
            }
            StreamEvent::TextDelta(text) => {
                self.close_tool_call();
                match self.response.content.last_mut() {
                    Some(ContentBlock::Text { text: open }) if !self.sealed => open.push_str(&text),
                    _ => self.response.content.push(ContentBlock::Text { text }),
                }
                self.sealed = false;
            }
            StreamEvent::ThinkingDelta(text) => {
                self.close_tool_call();
                match self.response.content.last_mut() {
                    Some(ContentBlock::Thinking {
                        text: open,
                        signature: None,
                    }) if !self.sealed => open.push_str(&text),
                    _ => self.response.content.push(ContentBlock::Thinking {
                        text,
                        signature: None,
                    }),
                }
                self.sealed = false;
            }
            StreamEvent::RedactedThinking(data) => {
                self.close_tool_call();
                self.response
                    .content
                    .push(ContentBlock::RedactedThinking { data });
                self.sealed = true;
            }
            StreamEvent::Signature(signature) => {
                self.close_tool_call();
                self.attach_signature(signature);
                self.sealed = true;
            }
            StreamEvent::ToolCallStart { id, name } => {
                self.close_tool_call();
                self.response.content.push(ContentBlock::ToolCall {
                    id,
                    name,
                    arguments: Value::Object(Default::default()),
                    signature: None,
                });
                self.open_args = Some(String::new());
                self.sealed = false;
            }
            StreamEvent::ToolCallDelta(fragment) => {
                if let Some(args) = self.open_args.as_mut() {
                    args.push_str(&fragment);
                }
            }
            StreamEvent::Usage(usage) => self.response.usage.merge(&usage),
            StreamEvent::Finish(reason) => {
                self.close_tool_call();
                self.response.finish_reason = Some(reason);
            }
            StreamEvent::Error(error) => {
                self.close_tool_call();
                self.error = Some(error);
            }
        }
    }

    /// The response so far, or the error the stream ended with.
    pub fn finish(mut self) -> Result<Response, StreamError> {
        self.close_tool_call();
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.response),
        }
    }

    fn attach_signature(&mut self, new: Signature) {
        match self.response.content.last_mut() {
            Some(ContentBlock::Thinking { signature, .. })
            | Some(ContentBlock::ToolCall { signature, .. })
                if signature.is_none() =>
            {
                *signature = Some(new);
            }
            // A signature on a text part (Gemini 3) or on its own: keep it as an
            // empty thinking block so that it can be replayed in place.
            _ => self.response.content.push(ContentBlock::Thinking {
                text: String::new(),
                signature: Some(new),
            }),
        }
    }

    fn close_tool_call(&mut self) {
        let Some(raw) = self.open_args.take() else {
            return;
        };
        if let Some(ContentBlock::ToolCall { arguments, .. }) = self.response.content.last_mut() {
            *arguments = parse_arguments(&raw);
        }
    }
}

/// Parse streamed tool-call arguments. Empty means `{}`; text that is not a JSON
/// object is kept as a string under `"_raw"` rather than lost.
pub fn parse_arguments(raw: &str) -> Value {
    if raw.trim().is_empty() {
        return Value::Object(Default::default());
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(value @ Value::Object(_)) => value,
        Ok(other) => serde_json::json!({ "_raw": other }),
        Err(_) => serde_json::json!({ "_raw": raw }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::ir::ModelFamily;

    #[test]
    fn folds_text_thinking_and_tool_calls_into_blocks() {
        let mut b = ResponseBuilder::new();
        for e in [
            StreamEvent::Start {
                id: Some("r1".into()),
                model: Some("m".into()),
            },
            StreamEvent::ThinkingDelta("let me ".into()),
            StreamEvent::ThinkingDelta("think".into()),
            StreamEvent::Signature(Signature::new("sig", Some(ModelFamily::Claude))),
            StreamEvent::TextDelta("Hel".into()),
            StreamEvent::TextDelta("lo".into()),
            StreamEvent::ToolCallStart {
                id: "c1".into(),
                name: "f".into(),
            },
            StreamEvent::ToolCallDelta("{\"a\":".into()),
            StreamEvent::ToolCallDelta("1}".into()),
            StreamEvent::Finish(FinishReason::ToolCalls),
        ] {
            b.push(e);
        }
        let r = b.finish().unwrap();
        assert_eq!(r.id.as_deref(), Some("r1"));
        assert_eq!(
            r.content,
            vec![
                ContentBlock::Thinking {
                    text: "let me think".into(),
                    signature: Some(Signature::new("sig", Some(ModelFamily::Claude))),
                },
                ContentBlock::text("Hello"),
                ContentBlock::ToolCall {
                    id: "c1".into(),
                    name: "f".into(),
                    arguments: serde_json::json!({"a": 1}),
                    signature: None,
                },
            ]
        );
        assert_eq!(r.finish_reason, Some(FinishReason::ToolCalls));
        assert!(r.has_answer());
    }

    #[test]
    fn a_signature_after_text_becomes_an_empty_signed_thinking_block() {
        let mut b = ResponseBuilder::new();
        b.push(StreamEvent::TextDelta("hi".into()));
        b.push(StreamEvent::Signature(Signature::new(
            "s",
            Some(ModelFamily::Gemini),
        )));
        let r = b.finish().unwrap();
        assert_eq!(r.content.len(), 2);
        assert!(
            matches!(&r.content[1], ContentBlock::Thinking { text, signature: Some(_) } if text.is_empty())
        );
    }

    #[test]
    fn a_stream_error_wins_and_thinking_alone_is_not_an_answer() {
        let mut b = ResponseBuilder::new();
        b.push(StreamEvent::ThinkingDelta("hmm".into()));
        let partial = {
            let mut c = ResponseBuilder::new();
            c.push(StreamEvent::ThinkingDelta("hmm".into()));
            c.finish().unwrap()
        };
        assert!(!partial.has_answer());
        b.push(StreamEvent::Error(StreamError::new(
            ErrorKind::Upstream,
            "cut",
        )));
        assert_eq!(b.finish().unwrap_err().message, "cut");
    }

    #[test]
    fn malformed_arguments_are_kept_not_lost() {
        assert_eq!(parse_arguments(""), serde_json::json!({}));
        assert_eq!(
            parse_arguments("{\"x\":"),
            serde_json::json!({"_raw": "{\"x\":"})
        );
        assert_eq!(parse_arguments("[1]"), serde_json::json!({"_raw": [1]}));
    }
}
