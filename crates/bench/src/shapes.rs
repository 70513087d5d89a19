//! What the stand-in answers, byte for byte: the Cloud Code SSE stream the
//! gateway reads, and the same answer in each client protocol's own shape for the
//! direct (zero-overhead) reference. Every streamed token is the text `tok `.

use std::time::Duration;

/// How a stream is shaped, read from the model name: `…-n20-p1000[-x7]` means 20
/// chunks, 1,000 µs apart, and (with `-x`) the failover script applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    pub chunks: usize,
    pub pace: Duration,
    pub failover: bool,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            chunks: 3,
            pace: Duration::ZERO,
            failover: false,
        }
    }
}

impl Params {
    pub fn from_model(model: &str) -> Params {
        let mut p = Params::default();
        for part in model.split('-') {
            let (tag, digits) = part.split_at(part.len().min(1));
            let value = digits.parse::<u64>().ok();
            match (tag, value) {
                ("n", Some(n)) if (1..=100_000).contains(&n) => p.chunks = n as usize,
                ("p", Some(us)) => p.pace = Duration::from_micros(us),
                ("x", Some(_)) => p.failover = true,
                _ => {}
            }
        }
        p
    }
}

/// A client protocol's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Cloud Code `v1internal:streamGenerateContent?alt=sse` (what the gateway reads).
    CloudCode,
    OpenAiChat,
    Anthropic,
    Responses,
    Gemini,
}

const CREATED: u64 = 1_700_000_000;
const PROMPT_TOKENS: usize = 10;

fn text(n: usize) -> String {
    "tok ".repeat(n)
}

fn event(name: &str, data: &str) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

fn gemini_candidate(last: bool, n: usize) -> String {
    let finish = if last {
        ",\"finishReason\":\"STOP\""
    } else {
        ""
    };
    let usage = if last {
        format!(
            ",\"usageMetadata\":{{\"promptTokenCount\":{PROMPT_TOKENS},\"candidatesTokenCount\":{n},\"totalTokenCount\":{}}}",
            PROMPT_TOKENS + n
        )
    } else {
        String::new()
    };
    format!(
        "{{\"candidates\":[{{\"content\":{{\"role\":\"model\",\"parts\":[{{\"text\":\"tok \"}}]}}{finish},\"index\":0}}]{usage}}}"
    )
}

/// The frames of a streamed answer with `n` tokens: frame `i` carries token `i`
/// (the first also opens the stream, the last also closes it).
pub fn stream_frames(shape: Shape, model: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let (first, last) = (i == 0, i + 1 == n);
            match shape {
                Shape::CloudCode => format!(
                    "data: {{\"response\":{}}}\r\n\r\n",
                    gemini_candidate(last, n)
                ),
                Shape::Gemini => format!("data: {}\r\n\r\n", gemini_candidate(last, n)),
                Shape::OpenAiChat => openai_frame(model, first, last, n),
                Shape::Anthropic => anthropic_frame(model, first, last, n),
                Shape::Responses => responses_frame(model, first, last, n),
            }
        })
        .collect()
}

fn openai_frame(model: &str, first: bool, last: bool, n: usize) -> String {
    let chunk = |delta: &str, finish: &str| {
        format!(
            "data: {{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":{CREATED},\"model\":\"{model}\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{finish}}}]}}\n\n"
        )
    };
    let delta = if first {
        "{\"role\":\"assistant\",\"content\":\"tok \"}"
    } else {
        "{\"content\":\"tok \"}"
    };
    let mut out = chunk(delta, "null");
    if last {
        out.push_str(&chunk("{}", "\"stop\""));
        out.push_str(&format!(
            "data: {{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":{CREATED},\"model\":\"{model}\",\"choices\":[],\"usage\":{{\"prompt_tokens\":{PROMPT_TOKENS},\"completion_tokens\":{n},\"total_tokens\":{}}}}}\n\n",
            PROMPT_TOKENS + n
        ));
        out.push_str("data: [DONE]\n\n");
    }
    out
}

fn anthropic_frame(model: &str, first: bool, last: bool, n: usize) -> String {
    let mut out = String::new();
    if first {
        out.push_str(&event(
            "message_start",
            &format!(
                "{{\"type\":\"message_start\",\"message\":{{\"id\":\"msg_bench\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"{model}\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{{\"input_tokens\":{PROMPT_TOKENS},\"output_tokens\":1}}}}}}"
            ),
        ));
        out.push_str(&event(
            "content_block_start",
            "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}",
        ));
    }
    out.push_str(&event(
        "content_block_delta",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"tok \"}}",
    ));
    if last {
        out.push_str(&event(
            "content_block_stop",
            "{\"type\":\"content_block_stop\",\"index\":0}",
        ));
        out.push_str(&event(
            "message_delta",
            &format!(
                "{{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"end_turn\",\"stop_sequence\":null}},\"usage\":{{\"output_tokens\":{n}}}}}"
            ),
        ));
        out.push_str(&event("message_stop", "{\"type\":\"message_stop\"}"));
    }
    out
}

fn responses_object(model: &str, status: &str, n: usize) -> String {
    let output = if status == "completed" {
        format!(
            "[{{\"id\":\"msg_bench\",\"type\":\"message\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{{\"type\":\"output_text\",\"text\":\"{}\",\"annotations\":[]}}]}}]",
            text(n)
        )
    } else {
        "[]".to_owned()
    };
    let usage = if status == "completed" {
        format!(
            "{{\"input_tokens\":{PROMPT_TOKENS},\"output_tokens\":{n},\"total_tokens\":{}}}",
            PROMPT_TOKENS + n
        )
    } else {
        "null".to_owned()
    };
    format!(
        "{{\"id\":\"resp_bench\",\"object\":\"response\",\"created_at\":{CREATED},\"status\":\"{status}\",\"model\":\"{model}\",\"output\":{output},\"usage\":{usage}}}"
    )
}

fn responses_frame(model: &str, first: bool, last: bool, n: usize) -> String {
    let mut out = String::new();
    if first {
        let created = responses_object(model, "in_progress", n);
        out.push_str(&event(
            "response.created",
            &format!(
                "{{\"type\":\"response.created\",\"sequence_number\":0,\"response\":{created}}}"
            ),
        ));
        out.push_str(&event(
            "response.output_item.added",
            "{\"type\":\"response.output_item.added\",\"sequence_number\":1,\"output_index\":0,\"item\":{\"id\":\"msg_bench\",\"type\":\"message\",\"status\":\"in_progress\",\"role\":\"assistant\",\"content\":[]}}",
        ));
        out.push_str(&event(
            "response.content_part.added",
            "{\"type\":\"response.content_part.added\",\"sequence_number\":2,\"item_id\":\"msg_bench\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":\"\",\"annotations\":[]}}",
        ));
    }
    out.push_str(&event(
        "response.output_text.delta",
        "{\"type\":\"response.output_text.delta\",\"item_id\":\"msg_bench\",\"output_index\":0,\"content_index\":0,\"delta\":\"tok \"}",
    ));
    if last {
        let all = text(n);
        out.push_str(&event(
            "response.output_text.done",
            &format!("{{\"type\":\"response.output_text.done\",\"item_id\":\"msg_bench\",\"output_index\":0,\"content_index\":0,\"text\":\"{all}\"}}"),
        ));
        out.push_str(&event(
            "response.output_item.done",
            &format!("{{\"type\":\"response.output_item.done\",\"output_index\":0,\"item\":{{\"id\":\"msg_bench\",\"type\":\"message\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{{\"type\":\"output_text\",\"text\":\"{all}\",\"annotations\":[]}}]}}}}"),
        ));
        let done = responses_object(model, "completed", n);
        out.push_str(&event(
            "response.completed",
            &format!("{{\"type\":\"response.completed\",\"response\":{done}}}"),
        ));
    }
    out
}

/// The whole (non-streamed) answer with `n` tokens in `shape`.
pub fn unary_body(shape: Shape, model: &str, n: usize) -> String {
    let all = text(n);
    let total = PROMPT_TOKENS + n;
    match shape {
        Shape::CloudCode => stream_frames(shape, model, n).concat(),
        Shape::OpenAiChat => format!(
            "{{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":{CREATED},\"model\":\"{model}\",\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":\"{all}\"}},\"logprobs\":null,\"finish_reason\":\"stop\"}}],\"usage\":{{\"prompt_tokens\":{PROMPT_TOKENS},\"completion_tokens\":{n},\"total_tokens\":{total}}}}}"
        ),
        Shape::Anthropic => format!(
            "{{\"id\":\"msg_bench\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"{model}\",\"content\":[{{\"type\":\"text\",\"text\":\"{all}\"}}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":{{\"input_tokens\":{PROMPT_TOKENS},\"output_tokens\":{n}}}}}"
        ),
        Shape::Responses => responses_object(model, "completed", n),
        Shape::Gemini => format!(
            "{{\"candidates\":[{{\"content\":{{\"role\":\"model\",\"parts\":[{{\"text\":\"{all}\"}}]}},\"finishReason\":\"STOP\",\"index\":0}}],\"usageMetadata\":{{\"promptTokenCount\":{PROMPT_TOKENS},\"candidatesTokenCount\":{n},\"totalTokenCount\":{total}}},\"modelVersion\":\"{model}\"}}"
        ),
    }
}

/// The Cloud Code answer to an exhausted account (the failover lane).
pub const QUOTA_EXHAUSTED: &str = r#"{"error":{"code":429,"message":"You have exhausted your capacity on this model.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"QUOTA_EXHAUSTED","metadata":{"quotaResetDelay":"1s"}}]}}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_read_from_the_model_name() {
        let p = Params::from_model("gemini-bench-n20-p1000");
        assert_eq!(
            (p.chunks, p.pace, p.failover),
            (20, Duration::from_millis(1), false)
        );
        assert!(Params::from_model("gemini-bench-n3-p0-x12").failover);
        assert_eq!(Params::from_model("gemini-2.5-pro"), Params::default());
    }

    #[test]
    fn every_shape_is_valid_json_with_one_token_per_frame() {
        for shape in [
            Shape::CloudCode,
            Shape::OpenAiChat,
            Shape::Anthropic,
            Shape::Responses,
            Shape::Gemini,
        ] {
            let frames = stream_frames(shape, "m", 3);
            for frame in &frames {
                assert_eq!(frame.matches("\"tok \"").count(), 1, "{shape:?}: {frame}");
                for line in frame.lines().filter_map(|l| l.strip_prefix("data: ")) {
                    if line != "[DONE]" {
                        serde_json::from_str::<serde_json::Value>(line).unwrap();
                    }
                }
            }
            let body = unary_body(shape, "m", 3);
            if shape == Shape::CloudCode {
                assert_eq!(body, frames.concat());
            } else {
                assert!(body.contains("tok tok tok "), "{shape:?}");
                serde_json::from_str::<serde_json::Value>(&body).unwrap();
            }
        }
        serde_json::from_str::<serde_json::Value>(QUOTA_EXHAUSTED).unwrap();
    }
}
