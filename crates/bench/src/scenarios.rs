//! The scenarios: what each request looks like (path, headers, body), what a
//! correct answer must contain, and the large conversations with tools that
//! measure translation cost.

use bytes::Bytes;
use http::{Request, Uri};
use http_body_util::Full;
use serde_json::{Value, json};

use crate::stats::contains;

/// Tokens in a non-streamed answer, chunks in a streamed one, and their pace.
pub const UNARY_MODEL: &str = "bench-n3-p0";
/// The same answer from the provider the gateway's config names (`oai-*`).
pub const PROVIDER_MODEL: &str = "oai-bench-n3-p0";
pub const STREAM_CHUNKS: usize = 20;
pub const STREAM_PACE_US: u64 = 1_000;
/// A stream whose second chunk comes after an hour: held open for the memory lane.
pub const SLOW_MODEL: &str = "bench-n2-p3600000000";
/// Distinct model names in the failover lane: cooldowns are per model.
const FAILOVER_MODELS: usize = 4_096;

/// What a correct answer contains.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// A JSON body with this text.
    Json(&'static str),
    /// A stream of `"tok "` chunks ending with this terminator.
    Stream(&'static str),
}

/// The marker each streamed token carries in every protocol's JSON.
pub const TOKEN: &[u8] = b"\"tok \"";

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: &'static str,
    pub title: String,
    pub path: String,
    pub headers: Vec<(&'static str, &'static str)>,
    /// Request `i` sends `bodies[i % len]`.
    pub bodies: Vec<Bytes>,
    pub check: Check,
    /// A route others are still adding: a 404 means "not available", not a failure.
    pub optional: bool,
    /// Open-loop rates (req/s) in a full run and in a quick one.
    pub rates: Vec<f64>,
    pub quick_rates: Vec<f64>,
    pub saturation: bool,
    /// Whether the gateway's answer involves the failover script.
    pub failover: bool,
    /// Whether LiteLLM can serve it as an OpenAI passthrough.
    pub peer: bool,
}

impl Scenario {
    pub fn is_stream(&self) -> bool {
        matches!(self.check, Check::Stream(_))
    }

    /// A stream's terminator.
    pub fn terminator(&self) -> Option<&'static str> {
        match self.check {
            Check::Stream(end) => Some(end),
            Check::Json(_) => None,
        }
    }

    pub fn body_len(&self) -> usize {
        self.bodies.first().map_or(0, Bytes::len)
    }

    /// Request `i` to `base` (`http://127.0.0.1:PORT`), tagged `bench-<id>`.
    pub fn request(&self, uri: &Uri, i: u64, id: u64) -> Result<Request<Full<Bytes>>, String> {
        let body = self
            .bodies
            .get((i % self.bodies.len().max(1) as u64) as usize)
            .cloned()
            .unwrap_or_default();
        let mut builder = Request::post(uri.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header("x-request-id", format!("bench-{id}"));
        for (name, value) in &self.headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Full::new(body)).map_err(|e| e.to_string())
    }

    pub fn uri(&self, base: &str) -> Result<Uri, String> {
        format!("{base}{}", self.path)
            .parse()
            .map_err(|e| format!("bad URI {base}{}: {e}", self.path))
    }

    /// Whether an answer is right: status 200 and the expected text or terminator.
    /// `body` is the whole answer, or a stream's last bytes; `terminated` says
    /// whether a stream's terminator went by.
    pub fn verify(
        &self,
        status: u16,
        body: &[u8],
        tokens: usize,
        terminated: bool,
    ) -> Result<(), String> {
        if status != 200 {
            return Err(format!("status {status}: {}", snippet(body)));
        }
        match self.check {
            Check::Json(text) if !contains(body, text.as_bytes()) => {
                Err(format!("answer lacks {text:?}: {}", snippet(body)))
            }
            Check::Stream(_) if tokens == 0 => {
                Err(format!("stream carried no token: {}", snippet(body)))
            }
            Check::Stream(end) if !terminated => {
                let tail = body.get(body.len().saturating_sub(300)..).unwrap_or(body);
                Err(format!("stream ended without {end:?}: …{}", snippet(tail)))
            }
            _ => Ok(()),
        }
    }
}

/// At most 300 characters of a body, for error messages.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut s: String = text.chars().take(300).collect();
    if text.chars().count() > 300 {
        s.push('…');
    }
    s.replace(['\r', '\n'], " ")
}

fn bytes(v: &Value) -> Bytes {
    Bytes::from(v.to_string())
}

fn stream_model() -> String {
    format!("bench-n{STREAM_CHUNKS}-p{STREAM_PACE_US}")
}

const ANTHROPIC: [(&str, &str); 1] = [("anthropic-version", "2023-06-01")];
const HELLO: &str = "Say hello in one word.";

/// Every scenario, in report order.
pub fn all() -> Vec<Scenario> {
    let stream = stream_model();
    let base = Scenario {
        name: "",
        title: String::new(),
        path: "/v1/chat/completions".into(),
        headers: Vec::new(),
        bodies: Vec::new(),
        check: Check::Json("tok tok tok "),
        optional: false,
        rates: vec![500.0],
        quick_rates: Vec::new(),
        saturation: true,
        failover: false,
        peer: false,
    };
    let openai_small = json!({"model": UNARY_MODEL, "messages": [{"role": "user", "content": HELLO}], "max_tokens": 16});
    let openai_provider = json!({"model": PROVIDER_MODEL, "messages": [{"role": "user", "content": HELLO}], "max_tokens": 16});
    let openai_big = openai_conversation(UNARY_MODEL, 100_000);
    let anthropic_big = anthropic_conversation(UNARY_MODEL, 100_000);
    vec![
        Scenario {
            name: "openai-to-openai",
            title: "OpenAI chat to an OpenAI-compatible provider, non-stream, small body (same protocol in and out)".into(),
            bodies: vec![bytes(&openai_provider)],
            rates: vec![100.0, 500.0, 1_000.0, 2_000.0],
            quick_rates: vec![1_000.0],
            peer: true,
            ..base.clone()
        },
        Scenario {
            name: "openai-chat",
            title: "OpenAI chat to Cloud Code, non-stream, small body (3 tokens)".into(),
            bodies: vec![bytes(&openai_small)],
            // The rate sweep is the same-protocol lane's; one rate here keeps
            // the full run under ten minutes.
            rates: vec![1_000.0],
            quick_rates: vec![200.0],
            peer: true,
            ..base.clone()
        },
        Scenario {
            name: "openai-chat-stream",
            title: format!("OpenAI chat, stream ({STREAM_CHUNKS} chunks, {STREAM_PACE_US} µs apart)"),
            bodies: vec![bytes(
                &json!({"model": stream, "messages": [{"role": "user", "content": HELLO}], "stream": true}),
            )],
            check: Check::Stream("data: [DONE]"),
            rates: vec![100.0, 1_000.0],
            peer: true,
            ..base.clone()
        },
        Scenario {
            name: "gemini-stream",
            title: format!("Gemini streamGenerateContent?alt=sse ({STREAM_CHUNKS} chunks)"),
            path: format!("/v1beta/models/{stream}:streamGenerateContent?alt=sse"),
            bodies: vec![bytes(
                &json!({"contents": [{"role": "user", "parts": [{"text": HELLO}]}]}),
            )],
            check: Check::Stream("\"finishReason\":\"STOP\""),
            ..base.clone()
        },
        Scenario {
            name: "openai-100k-tools",
            title: format!(
                "OpenAI chat, non-stream, {} KB conversation with tools (translation)",
                openai_big.len() / 1_000
            ),
            bodies: vec![openai_big],
            rates: vec![100.0],
            peer: true,
            ..base.clone()
        },
        Scenario {
            name: "anthropic-stream",
            title: format!("Anthropic Messages, stream ({STREAM_CHUNKS} chunks)"),
            path: "/v1/messages".into(),
            headers: ANTHROPIC.to_vec(),
            bodies: vec![bytes(
                &json!({"model": stream, "max_tokens": 64, "messages": [{"role": "user", "content": HELLO}], "stream": true}),
            )],
            check: Check::Stream("message_stop"),
            optional: true,
            ..base.clone()
        },
        Scenario {
            name: "anthropic-100k-tools",
            title: format!(
                "Anthropic Messages, non-stream, {} KB conversation with tools (translation)",
                anthropic_big.len() / 1_000
            ),
            path: "/v1/messages".into(),
            headers: ANTHROPIC.to_vec(),
            bodies: vec![anthropic_big],
            optional: true,
            rates: vec![100.0],
            ..base.clone()
        },
        Scenario {
            name: "responses-stream",
            title: format!("OpenAI Responses, stream ({STREAM_CHUNKS} chunks)"),
            path: "/v1/responses".into(),
            bodies: vec![bytes(
                &json!({"model": stream, "input": HELLO, "stream": true}),
            )],
            check: Check::Stream("response.completed"),
            optional: true,
            ..base.clone()
        },
        Scenario {
            name: "failover",
            title: "OpenAI chat, non-stream; 2 of 4 accounts answer 429 (all / half their requests)"
                .into(),
            bodies: (0..FAILOVER_MODELS)
                .map(|k| {
                    bytes(&json!({"model": format!("{UNARY_MODEL}-x{k}"), "messages": [{"role": "user", "content": HELLO}], "max_tokens": 16}))
                })
                .collect(),
            saturation: false,
            failover: true,
            ..base
        },
    ]
}

/// The held-open stream of the memory lane.
pub fn slow_stream() -> Scenario {
    Scenario {
        name: "held-stream",
        title: "OpenAI chat stream held open".into(),
        path: "/v1/chat/completions".into(),
        headers: Vec::new(),
        bodies: vec![bytes(
            &json!({"model": SLOW_MODEL, "messages": [{"role": "user", "content": HELLO}], "stream": true}),
        )],
        check: Check::Stream("data: [DONE]"),
        optional: false,
        rates: Vec::new(),
        quick_rates: Vec::new(),
        saturation: false,
        failover: false,
        peer: false,
    }
}

/// Deterministic prose of about `len` bytes (no `tok` in it).
fn prose(seed: u64, len: usize) -> String {
    const WORDS: [&str; 24] = [
        "the", "gateway", "reads", "each", "request", "and", "writes", "a", "small", "answer",
        "while", "accounts", "rotate", "under", "load", "with", "care", "for", "latency", "budget",
        "stream", "chunk", "model", "cache",
    ];
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut out = String::with_capacity(len + 16);
    while out.len() < len {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let word = WORDS
            .get((x >> 33) as usize % WORDS.len())
            .copied()
            .unwrap_or("a");
        out.push_str(word);
        out.push(if (x >> 20).is_multiple_of(13) {
            '.'
        } else {
            ' '
        });
    }
    out
}

const TOOLS: [(&str, &str); 6] = [
    ("read_file", "Read a file from the workspace."),
    ("write_file", "Write a file in the workspace."),
    ("run_command", "Run a shell command and return its output."),
    ("search", "Search the workspace for a pattern."),
    ("list_dir", "List a directory."),
    ("fetch_url", "Fetch a URL and return its text."),
];

fn tool_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "A path relative to the workspace root."},
            "content": {"type": "string", "description": "Text to write or search for."},
            "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
            "options": {"type": "object", "properties": {"recursive": {"type": "boolean"}, "encoding": {"type": "string", "enum": ["utf-8", "latin-1"]}}}
        },
        "required": ["path"]
    })
}

/// An OpenAI chat conversation with tools, at least `size` bytes serialised.
pub fn openai_conversation(model: &str, size: usize) -> Bytes {
    let tools: Vec<Value> = TOOLS
        .iter()
        .map(|(name, desc)| json!({"type": "function", "function": {"name": name, "description": desc, "parameters": tool_schema()}}))
        .collect();
    let mut messages = vec![json!({"role": "system", "content": prose(1, 2_000)})];
    let mut turn = 0u64;
    loop {
        let (name, _) = TOOLS
            .get(turn as usize % TOOLS.len())
            .copied()
            .unwrap_or(TOOLS[0]);
        let id = format!("call_{turn}");
        messages.push(json!({"role": "user", "content": prose(turn * 3 + 2, 1_200)}));
        messages.push(json!({"role": "assistant", "content": null, "tool_calls": [{"id": id, "type": "function", "function": {"name": name, "arguments": json!({"path": format!("src/file_{turn}.rs"), "limit": 200}).to_string()}}]}));
        messages.push(
            json!({"role": "tool", "tool_call_id": id, "content": prose(turn * 3 + 3, 2_400)}),
        );
        messages.push(json!({"role": "assistant", "content": prose(turn * 3 + 4, 600)}));
        turn += 1;
        let body = json!({"model": model, "messages": messages, "tools": tools, "max_tokens": 256});
        if body.to_string().len() >= size {
            if let Some(last) = messages.last_mut() {
                *last = json!({"role": "user", "content": "Summarise what you found."});
            }
            return bytes(
                &json!({"model": model, "messages": messages, "tools": tools, "max_tokens": 256}),
            );
        }
    }
}

/// The same conversation in Anthropic Messages form.
pub fn anthropic_conversation(model: &str, size: usize) -> Bytes {
    let tools: Vec<Value> = TOOLS
        .iter()
        .map(|(name, desc)| json!({"name": name, "description": desc, "input_schema": tool_schema()}))
        .collect();
    let system = prose(1, 2_000);
    let mut messages = Vec::new();
    let mut turn = 0u64;
    loop {
        let (name, _) = TOOLS
            .get(turn as usize % TOOLS.len())
            .copied()
            .unwrap_or(TOOLS[0]);
        let id = format!("toolu_{turn}");
        messages.push(json!({"role": "user", "content": prose(turn * 3 + 2, 1_200)}));
        messages.push(json!({"role": "assistant", "content": [
            {"type": "text", "text": "Let me look."},
            {"type": "tool_use", "id": id, "name": name, "input": {"path": format!("src/file_{turn}.rs"), "limit": 200}}
        ]}));
        messages.push(json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": id, "content": prose(turn * 3 + 3, 2_400)}
        ]}));
        messages.push(json!({"role": "assistant", "content": [{"type": "text", "text": prose(turn * 3 + 4, 600)}]}));
        turn += 1;
        let body = json!({"model": model, "system": system, "messages": messages, "tools": tools, "max_tokens": 256});
        if body.to_string().len() >= size {
            messages.push(json!({"role": "user", "content": "Summarise what you found."}));
            return bytes(
                &json!({"model": model, "system": system, "messages": messages, "tools": tools, "max_tokens": 256}),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversations_are_about_100_kb_and_well_formed() {
        for body in [
            openai_conversation("m", 100_000),
            anthropic_conversation("m", 100_000),
        ] {
            assert!((100_000..115_000).contains(&body.len()), "{}", body.len());
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert!(v["tools"].as_array().unwrap().len() == TOOLS.len());
            assert!(!String::from_utf8_lossy(&body).contains("tok "));
        }
    }

    #[test]
    fn the_same_protocol_lane_asks_the_provider_and_the_others_cloud_code() {
        let s = all();
        let lane = s.iter().find(|s| s.name == "openai-to-openai").unwrap();
        let model = crate::standin::str_field(&lane.bodies[0], "model").unwrap();
        let prefix = crate::gateway::PROVIDER_MODELS.strip_suffix('*').unwrap();
        assert!(model.starts_with(prefix));
        for other in s.iter().filter(|s| s.name != "openai-to-openai") {
            let model = crate::standin::str_field(&other.bodies[0], "model").unwrap_or_default();
            assert!(
                !model.starts_with(prefix),
                "{} would go to the provider",
                other.name
            );
        }
        let config = crate::gateway::config_toml(1);
        assert!(config.contains(&format!(
            "models = [\"{}\"]",
            crate::gateway::PROVIDER_MODELS
        )));
    }

    #[test]
    fn verification_needs_status_text_and_terminator() {
        let s = all();
        let chat = s.iter().find(|s| s.name == "openai-chat").unwrap();
        assert!(
            chat.verify(200, b"{\"content\":\"tok tok tok \"}", 0, false)
                .is_ok()
        );
        assert!(chat.verify(503, b"{}", 0, false).is_err());
        assert!(chat.verify(200, b"{\"content\":\"\"}", 0, false).is_err());
        let stream = s.iter().find(|s| s.name == "openai-chat-stream").unwrap();
        assert!(stream.verify(200, b"data: [DONE]\n\n", 3, true).is_ok());
        assert!(stream.verify(200, b"data: {}\n\n", 3, false).is_err());
        assert!(stream.verify(200, b"data: [DONE]\n\n", 0, true).is_err());
    }
}
