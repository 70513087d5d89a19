//! OpenAI legacy Completions request (`POST /v1/completions`) → IR.
//!
//! The prompt becomes one user message. A single prompt is supported: a string or
//! a one-element array of strings; token arrays cannot be turned back into text
//! without the model's tokenizer and are refused, as are `n`/`best_of` above 1
//! and `echo` (the answer would have to repeat the prompt).

use serde_json::Value;

use super::TranslateError;
use super::util::{first_bad_field, locate_error, parse_body};
use crate::ir::{Message, Request};
use crate::openai::CompletionRequest;

/// Decode a Completions request body.
pub fn decode_openai_completions(body: &[u8]) -> Result<Request, TranslateError> {
    let wire: CompletionRequest = parse_body(body).map_err(|e| {
        locate_error(body, e, |root| {
            first_bad_field::<CompletionRequest>(root, &[], "").map(|(_, e)| e)
        })
    })?;
    decode_openai_completions_request(wire)
}

/// Decode an already parsed Completions request.
pub fn decode_openai_completions_request(
    wire: CompletionRequest,
) -> Result<Request, TranslateError> {
    if wire.model.trim().is_empty() {
        return Err(TranslateError::new("model", "required"));
    }
    let prompt = match wire.prompt {
        None | Some(Value::Null) => return Err(TranslateError::new("prompt", "required")),
        Some(Value::String(s)) => s,
        Some(Value::Array(items)) => match items.as_slice() {
            [] => return Err(TranslateError::new("prompt", "must not be empty")),
            [Value::String(s)] => s.clone(),
            [Value::String(_), ..] => {
                return Err(TranslateError::new(
                    "prompt",
                    "only a single prompt is supported",
                ));
            }
            _ => {
                return Err(TranslateError::new(
                    "prompt",
                    "token arrays are not supported; send the prompt as text",
                ));
            }
        },
        Some(_) => {
            return Err(TranslateError::new(
                "prompt",
                "expected a string or an array of strings",
            ));
        }
    };
    if wire.n.is_some_and(|n| n > 1) {
        return Err(TranslateError::new(
            "n",
            "only one choice (n = 1) is supported",
        ));
    }
    if wire.best_of.is_some_and(|n| n > 1) {
        return Err(TranslateError::new(
            "best_of",
            "only best_of = 1 is supported",
        ));
    }
    if wire.echo == Some(true) {
        return Err(TranslateError::new("echo", "echo is not supported"));
    }
    let mut req = Request {
        model: wire.model,
        stream: wire.stream.unwrap_or(false),
        messages: vec![Message::user_text(prompt)],
        ..Request::default()
    };
    let g = &mut req.generation;
    g.max_output_tokens = wire.max_tokens;
    g.temperature = wire.temperature;
    g.top_p = wire.top_p;
    g.presence_penalty = wire.presence_penalty;
    g.frequency_penalty = wire.frequency_penalty;
    g.seed = wire.seed;
    if let Some(stop) = wire.stop {
        g.stop_sequences = stop
            .into_vec()
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
    }
    req.meta.user = wire.user;
    req.meta.include_usage = wire
        .stream_options
        .and_then(|o| o.include_usage)
        .unwrap_or(false);
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn decode(v: Value) -> Result<Request, TranslateError> {
        decode_openai_completions(v.to_string().as_bytes())
    }

    #[test]
    fn a_string_prompt_becomes_one_user_message() {
        let req = decode(json!({
            "model": "gemini-2.5-flash", "prompt": ["Once upon"], "max_tokens": 20,
            "stop": ["\n"], "stream": true, "stream_options": {"include_usage": true}, "logprobs": 2
        }))
        .unwrap();
        assert_eq!(req.messages, vec![Message::user_text("Once upon")]);
        assert_eq!(req.generation.max_output_tokens, Some(20));
        assert_eq!(req.generation.stop_sequences, vec!["\n".to_owned()]);
        assert!(req.stream && req.meta.include_usage);
    }

    #[test]
    fn unsupported_prompts_name_the_field() {
        for (body, message) in [
            (
                json!({"model": "m", "prompt": [1, 2, 3]}),
                "prompt: token arrays are not supported; send the prompt as text",
            ),
            (
                json!({"model": "m", "prompt": ["a", "b"]}),
                "prompt: only a single prompt is supported",
            ),
            (json!({"model": "m"}), "prompt: required"),
            (
                json!({"model": "m", "prompt": "x", "echo": true}),
                "echo: echo is not supported",
            ),
            (
                json!({"model": "m", "prompt": "x", "max_tokens": "ten"}),
                "max_tokens: invalid type: string \"ten\", expected u32",
            ),
        ] {
            assert_eq!(decode(body).unwrap_err().to_string(), message);
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_json(v in crate::translate::test_support::arb_json()) {
            let _ = decode(v);
        }
    }
}
