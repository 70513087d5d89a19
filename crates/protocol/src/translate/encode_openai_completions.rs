//! IR → OpenAI legacy `text_completion` answers, whole or streamed.
//!
//! Only visible text is carried: legacy Completions has no place for reasoning or
//! tool calls. Streams end with a chunk carrying `finish_reason`, then (with
//! `stream_options.include_usage`) a usage chunk with empty `choices`; a
//! mid-stream error is an `{"error": {...}}` data line. The caller writes
//! `data: [DONE]`.

use serde::Serialize;
use serde_json::Value;

use super::encode_openai_chat::openai_finish_reason;
use crate::error::{Dialect, ErrorBody};
use crate::ir::{Response, StreamEvent, Usage};
use crate::openai::{ChatUsage, CompletionChoice, TextCompletion};

/// A whole answer as `text_completion`.
pub fn encode_text_completion(
    resp: &Response,
    id: &str,
    model: &str,
    created: u64,
) -> TextCompletion {
    TextCompletion {
        id: id.to_owned(),
        object: "text_completion".to_owned(),
        created,
        model: model.to_owned(),
        system_fingerprint: None,
        choices: vec![CompletionChoice {
            text: resp.text(),
            index: 0,
            logprobs: None,
            finish_reason: Some(
                resp.finish_reason
                    .as_ref()
                    .map(openai_finish_reason)
                    .unwrap_or("stop")
                    .to_owned(),
            ),
        }],
        usage: Some(ChatUsage::from(&resp.usage)),
    }
}

#[derive(Serialize)]
struct Choice<'a> {
    text: &'a str,
    index: u32,
    logprobs: Option<()>,
    finish_reason: Option<&'a str>,
}

/// Stateful encoder of a streamed answer into `text_completion` chunk texts.
#[derive(Debug)]
pub struct CompletionChunkEncoder {
    head: String,
    include_usage: bool,
    usage: Option<Usage>,
    finished: bool,
    errored: bool,
}

impl CompletionChunkEncoder {
    pub fn new(id: &str, model: &str, created: u64, include_usage: bool) -> Self {
        Self {
            head: format!(
                "{{\"id\":{},\"object\":\"text_completion\",\"created\":{created},\"model\":{},\"system_fingerprint\":null,\"choices\":",
                Value::from(id),
                Value::from(model)
            ),
            include_usage,
            usage: None,
            finished: false,
            errored: false,
        }
    }

    pub fn event(&mut self, event: &StreamEvent) -> Vec<String> {
        let mut out = Vec::new();
        if self.errored {
            return out;
        }
        match event {
            StreamEvent::TextDelta(text) if !text.is_empty() => self.push(&mut out, text, None),
            StreamEvent::Usage(u) => self.usage.get_or_insert_with(Usage::default).merge(u),
            StreamEvent::Finish(reason) if !self.finished => {
                self.finished = true;
                self.push(&mut out, "", Some(openai_finish_reason(reason)));
            }
            StreamEvent::Error(error) => {
                self.errored = true;
                let body = ErrorBody::new(Dialect::OpenAi, error.kind, error.message.clone());
                out.push(body.to_json(Dialect::OpenAi).to_string());
            }
            _ => {}
        }
        out
    }

    /// Nothing is held back by this encoder; present so that every client
    /// encoder has the same `event` / `flush` / `finish` shape.
    pub fn flush(&mut self) -> Vec<String> {
        Vec::new()
    }

    pub fn finish(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        if self.errored {
            return out;
        }
        if !self.finished {
            self.finished = true;
            self.push(&mut out, "", Some("stop"));
        }
        if self.include_usage {
            let usage = ChatUsage::from(&self.usage.unwrap_or_default());
            if let Ok(usage) = serde_json::to_string(&usage) {
                out.push(format!("{}[],\"usage\":{usage}}}", self.head));
            }
        }
        out
    }

    fn push(&self, out: &mut Vec<String>, text: &str, finish: Option<&str>) {
        let choice = [Choice {
            text,
            index: 0,
            logprobs: None,
            finish_reason: finish,
        }];
        if let Ok(choices) = serde_json::to_string(&choice) {
            out.push(format!("{}{choices}}}", self.head));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::ir::{FinishReason, StreamError};
    use serde_json::json;

    #[test]
    fn streams_text_finish_and_usage() {
        let mut enc = CompletionChunkEncoder::new("cmpl-1", "m", 5, true);
        let mut out = Vec::new();
        for e in [
            StreamEvent::Start {
                id: None,
                model: None,
            },
            StreamEvent::ThinkingDelta("hidden".into()),
            StreamEvent::TextDelta("Hi".into()),
            StreamEvent::Usage(Usage {
                input_tokens: 3,
                output_tokens: 1,
                ..Usage::default()
            }),
            StreamEvent::Finish(FinishReason::Length),
        ] {
            out.extend(enc.event(&e));
        }
        out.extend(enc.finish());
        let values: Vec<Value> = out
            .iter()
            .map(|s| serde_json::from_str(s).unwrap())
            .collect();
        assert_eq!(values.len(), 3);
        assert_eq!(
            values[0],
            json!({"id": "cmpl-1", "object": "text_completion", "created": 5, "model": "m", "system_fingerprint": null,
                   "choices": [{"text": "Hi", "index": 0, "logprobs": null, "finish_reason": null}]})
        );
        assert_eq!(values[1]["choices"][0]["finish_reason"], "length");
        assert_eq!(values[2]["choices"], json!([]));
        assert_eq!(values[2]["usage"]["total_tokens"], 4);
    }

    #[test]
    fn an_error_ends_the_stream() {
        let mut enc = CompletionChunkEncoder::new("c", "m", 0, true);
        let out = enc.event(&StreamEvent::Error(StreamError::new(
            ErrorKind::RateLimited,
            "slow down",
        )));
        assert_eq!(
            serde_json::from_str::<Value>(&out[0]).unwrap()["error"]["type"],
            "rate_limit_error"
        );
        assert!(enc.finish().is_empty());
    }

    #[test]
    fn a_whole_answer() {
        let resp = Response {
            content: vec![crate::ir::ContentBlock::text("done")],
            finish_reason: Some(FinishReason::Stop),
            ..Response::default()
        };
        let v = serde_json::to_value(encode_text_completion(&resp, "c", "m", 1)).unwrap();
        assert_eq!(v["choices"][0]["text"], "done");
        assert_eq!(v["object"], "text_completion");
    }
}
