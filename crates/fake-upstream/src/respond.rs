//! Turns a content behaviour into response chunks (`{"response":{...},"traceId":...}`),
//! issuing thought signatures per family, and renders them as one JSON body or as an SSE
//! stream (`data: <json>\r\n\r\n`) with optional delays and a mid-stream connection cut.

use std::collections::VecDeque;
use std::time::Duration;

use axum::body::{Body, Bytes};
use futures_util::stream;
use serde_json::{Value, json};

use crate::config::{Family, ModelSpec};
use crate::script::{Behavior, ScriptedCall};
use crate::signatures::{SignatureRegistry, claude_thinking_enabled};
use crate::timefmt;
use crate::validate::{field, items};

/// What a content behaviour needs to know about its request.
pub(crate) struct Ctx<'a> {
    pub model: &'a ModelSpec,
    pub request: &'a Value,
    pub registry: &'a mut SignatureRegistry,
    /// Unique number of this response (ids are derived from it).
    pub n: u64,
}

/// Response chunks; `raw` ones are sent verbatim.
pub(crate) struct Reply {
    pub payloads: Vec<Value>,
    pub raw: bool,
}

/// Token estimate used everywhere: one token per four characters, at least one.
pub fn estimate_tokens(text: &str) -> u64 {
    let chars = u64::try_from(text.chars().count()).unwrap_or(u64::MAX);
    chars.div_ceil(4).max(1)
}

/// All text of a list of contents (for prompt-size estimates).
pub(crate) fn contents_text(contents: &[&Value]) -> String {
    let mut out = String::new();
    for c in contents {
        for p in items(field(c, "parts")) {
            if let Some(t) = field(p, "text").and_then(Value::as_str) {
                out.push_str(t);
            }
            for k in ["functionCall", "functionResponse"] {
                if let Some(v) = field(p, k) {
                    out.push_str(&v.to_string());
                }
            }
        }
    }
    out
}

fn prompt_tokens(request: &Value) -> u64 {
    let mut contents = items(field(request, "contents"));
    if let Some(si) = field(request, "systemInstruction") {
        contents.push(si);
    }
    estimate_tokens(&contents_text(&contents))
}

/// The last user text of the request (non-thought text of the last user content with text).
pub(crate) fn last_user_text(request: &Value) -> Option<String> {
    items(field(request, "contents"))
        .into_iter()
        .rev()
        .filter(|c| field(c, "role").and_then(Value::as_str).unwrap_or("user") == "user")
        .find_map(|c| {
            let texts: Vec<&str> = items(field(c, "parts"))
                .into_iter()
                .filter(|p| field(p, "thought").and_then(Value::as_bool) != Some(true))
                .filter_map(|p| field(p, "text").and_then(Value::as_str))
                .collect();
            (!texts.is_empty()).then(|| texts.join(""))
        })
}

fn thinking_on(ctx: &Ctx<'_>) -> bool {
    let gc = field(ctx.request, "generationConfig");
    match ctx.model.family() {
        Family::Claude => claude_thinking_enabled(gc),
        _ => {
            gc.and_then(|g| field(g, "thinkingConfig"))
                .and_then(|tc| field(tc, "includeThoughts"))
                .and_then(Value::as_bool)
                == Some(true)
        }
    }
}

fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, w) in text.split(' ').enumerate() {
        out.push(if i == 0 {
            w.to_string()
        } else {
            format!(" {w}")
        });
    }
    out
}

/// Whether the request asks for a JSON answer (`responseMimeType: application/json`).
fn json_mode(request: &Value) -> bool {
    crate::validate::field(request, "generationConfig")
        .and_then(|g| crate::validate::field(g, "responseMimeType"))
        .and_then(Value::as_str)
        == Some("application/json")
}

/// A JSON value that conforms to the request's response schema (Gemini's
/// `responseSchema` or JSON Schema `responseJsonSchema`), or `{}` without one.
fn json_answer(request: &Value) -> Value {
    let config = crate::validate::field(request, "generationConfig");
    let schema = config.and_then(|g| {
        crate::validate::field(g, "responseJsonSchema")
            .or_else(|| crate::validate::field(g, "responseSchema"))
    });
    schema.map_or_else(|| json!({}), |s| sample(s, 0))
}

/// The simplest value of a schema: first enum value, 1, true, "text", one item,
/// every property.
fn sample(schema: &Value, depth: usize) -> Value {
    if depth > 8 {
        return Value::Null;
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    if let Some(first) = schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))
        .and_then(Value::as_array)
        .and_then(|v| v.first())
    {
        return sample(first, depth + 1);
    }
    let kind = match schema.get("type") {
        Some(Value::String(t)) => t.to_ascii_lowercase(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("string")
            .to_ascii_lowercase(),
        _ if schema.get("properties").is_some() => "object".into(),
        _ => "string".into(),
    };
    match kind.as_str() {
        "object" => {
            let mut out = serde_json::Map::new();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (name, prop) in props {
                    out.insert(name.clone(), sample(prop, depth + 1));
                }
            }
            Value::Object(out)
        }
        "array" => json!([sample(schema.get("items").unwrap_or(&json!({})), depth + 1)]),
        "integer" => json!(schema.get("minimum").and_then(Value::as_i64).unwrap_or(1)),
        "number" => json!(schema.get("minimum").and_then(Value::as_f64).unwrap_or(1.0)),
        "boolean" => json!(true),
        "null" => Value::Null,
        _ => json!("text"),
    }
}

/// Builds the chunks of a content behaviour. `one_word_chunks` splits text per word (for
/// `CutAfter`).
pub(crate) fn content_reply(
    behavior: &Behavior,
    one_word_chunks: bool,
    ctx: &mut Ctx<'_>,
) -> Reply {
    if let Behavior::Raw(values) = behavior {
        return Reply {
            payloads: values.clone(),
            raw: true,
        };
    }
    let family = ctx.model.family();
    let gemini3 = ctx.model.is_gemini3();
    let said = last_user_text(ctx.request);
    let mut chunks: Vec<Vec<Value>> = Vec::new();
    let mut thought_text = String::new();
    let mut answer_text = String::new();
    let mut finish = "STOP".to_string();

    let forced_thought = match behavior {
        Behavior::Thinking { thought, .. } => Some(thought.clone()),
        _ => None,
    };
    if forced_thought.is_some() || thinking_on(ctx) {
        let thought = forced_thought.unwrap_or_else(|| {
            format!(
                "Thinking about: {}",
                said.clone().unwrap_or_else(|| "the request".into())
            )
        });
        thought_text.clone_from(&thought);
        let pieces = split_two(&thought);
        let last = pieces.len().saturating_sub(1);
        for (i, piece) in pieces.into_iter().enumerate() {
            let mut part = json!({"text": piece, "thought": true});
            if i == last && family == Family::Claude {
                part["thoughtSignature"] = Value::String(ctx.registry.issue(Family::Claude));
            }
            chunks.push(vec![part]);
        }
    }

    let text_chunks: Vec<String> = match behavior {
        // JSON mode: a real model answers with JSON matching the schema (Gemini
        // CLI's router, for one, retries anything else).
        Behavior::Ok if json_mode(ctx.request) => vec![json_answer(ctx.request).to_string()],
        Behavior::Ok => {
            let mut t = format!("Hello from {}.", ctx.model.id);
            if let Some(s) = &said {
                t.push_str(&format!(" You said: {s}"));
            }
            if one_word_chunks {
                words(&t)
            } else {
                let (a, b) = t
                    .split_once(' ')
                    .map_or((t.clone(), String::new()), |(a, b)| {
                        (a.to_string(), format!(" {b}"))
                    });
                [a, b].into_iter().filter(|s| !s.is_empty()).collect()
            }
        }
        Behavior::Text(t) => vec![t.clone()],
        Behavior::Thinking { answer, .. } => vec![answer.clone()],
        Behavior::Chunks(v) => v.clone(),
        Behavior::Finish { text, reason } => {
            finish.clone_from(reason);
            if text.is_empty() {
                Vec::new()
            } else {
                vec![text.clone()]
            }
        }
        _ => Vec::new(),
    };
    let text_start = chunks.len();
    for t in &text_chunks {
        answer_text.push_str(t);
        chunks.push(vec![json!({"text": t})]);
    }
    if gemini3 && chunks.len() > text_start {
        let sig = ctx.registry.issue(Family::Gemini);
        if let Some(part) = chunks.last_mut().and_then(|c| c.last_mut()) {
            part["thoughtSignature"] = Value::String(sig);
        }
    }

    let calls: Vec<ScriptedCall> = match behavior {
        Behavior::FunctionCall { name, args } => vec![ScriptedCall {
            name: name.clone(),
            args: args.clone(),
        }],
        Behavior::FunctionCalls(v) => v.clone(),
        _ => Vec::new(),
    };
    if !calls.is_empty() {
        let sign_first = family == Family::Gemini && (gemini3 || thinking_on(ctx));
        let mut parts = Vec::new();
        for (i, c) in calls.iter().enumerate() {
            let id = match family {
                Family::Claude => format!("toolu_vrtx_fake{:06}{i:02}", ctx.n),
                _ => format!("call_fake_{}_{i}", ctx.n),
            };
            answer_text.push_str(&c.name);
            answer_text.push_str(&c.args.to_string());
            let mut part = json!({"functionCall": {"id": id, "name": c.name, "args": c.args}});
            if i == 0 && sign_first {
                part["thoughtSignature"] = Value::String(ctx.registry.issue(Family::Gemini));
            }
            parts.push(part);
        }
        chunks.push(parts);
    }

    let prompt = prompt_tokens(ctx.request);
    let empty = matches!(behavior, Behavior::Empty);
    let response_id = format!("fake-response-{:06}", ctx.n);
    let create_time = timefmt::rfc3339(timefmt::unix_now());
    let envelope =
        |response: Value| json!({"response": response, "traceId": format!("{:016x}", ctx.n)});
    let meta = |usage: Value| {
        json!({
            "usageMetadata": usage,
            "modelVersion": ctx.model.id,
            "createTime": create_time,
            "responseId": response_id,
        })
    };
    if empty {
        return Reply {
            payloads: vec![envelope(meta(
                json!({"promptTokenCount": prompt, "totalTokenCount": prompt}),
            ))],
            raw: false,
        };
    }
    let candidates_tokens = if answer_text.is_empty() {
        0
    } else {
        estimate_tokens(&answer_text)
    };
    let mut final_usage = json!({
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates_tokens,
        "totalTokenCount": prompt + candidates_tokens,
    });
    if !thought_text.is_empty() {
        let thoughts = estimate_tokens(&thought_text);
        final_usage["thoughtsTokenCount"] = json!(thoughts);
        final_usage["totalTokenCount"] = json!(prompt + candidates_tokens + thoughts);
    }
    if chunks.is_empty() {
        chunks.push(Vec::new());
    }
    let last = chunks.len() - 1;
    let payloads = chunks
        .into_iter()
        .enumerate()
        .map(|(i, parts)| {
            let mut cand = json!({"index": 0});
            if !parts.is_empty() {
                cand["content"] = json!({"role": "model", "parts": parts});
            }
            let usage = if i == last {
                cand["finishReason"] = Value::String(finish.clone());
                if finish == "SAFETY" {
                    cand["safetyRatings"] = json!([{"category": "HARM_CATEGORY_DANGEROUS_CONTENT",
                        "probability": "HIGH", "blocked": true}]);
                }
                final_usage.clone()
            } else {
                json!({"promptTokenCount": prompt, "totalTokenCount": prompt})
            };
            let mut response = meta(usage);
            response["candidates"] = json!([cand]);
            envelope(response)
        })
        .collect();
    Reply {
        payloads,
        raw: false,
    }
}

fn split_two(text: &str) -> Vec<String> {
    match text.rsplit_once(' ') {
        Some((a, b)) if !a.is_empty() => vec![a.to_string(), format!(" {b}")],
        _ => vec![text.to_string()],
    }
}

/// The non-stream body: all chunks merged into one response (adjacent text parts with the
/// same `thought` flag concatenated, the last signature kept).
pub(crate) fn non_stream_body(reply: &Reply) -> Value {
    if reply.raw {
        return match reply.payloads.as_slice() {
            [one] => one.clone(),
            many => Value::Array(many.to_vec()),
        };
    }
    let Some(mut base) = reply.payloads.last().cloned() else {
        return json!({});
    };
    let mut merged: Vec<Value> = Vec::new();
    for p in &reply.payloads {
        let parts = p
            .pointer("/response/candidates/0/content/parts")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for part in parts {
            let mergeable = |a: &Value, b: &Value| {
                a.get("text").is_some()
                    && b.get("text").is_some()
                    && a.get("thought") == b.get("thought")
                    && a.get("thoughtSignature").is_none()
            };
            match merged.last_mut() {
                Some(prev) if mergeable(prev, &part) => {
                    let joined = format!(
                        "{}{}",
                        prev["text"].as_str().unwrap_or(""),
                        part["text"].as_str().unwrap_or("")
                    );
                    prev["text"] = Value::String(joined);
                    if let Some(sig) = part.get("thoughtSignature") {
                        prev["thoughtSignature"] = sig.clone();
                    }
                }
                _ => merged.push(part),
            }
        }
    }
    if let Some(cand) = base.pointer_mut("/response/candidates/0") {
        if merged.is_empty() {
            if let Some(obj) = cand.as_object_mut() {
                obj.remove("content");
            }
        } else {
            cand["content"] = json!({"role": "model", "parts": merged});
        }
    }
    base
}

/// One SSE event.
pub(crate) fn sse_frame(payload: &Value) -> Bytes {
    Bytes::from(format!("data: {payload}\r\n\r\n"))
}

enum Step {
    Sleep(Duration),
    Data(Bytes),
    Cut,
}

/// A body that sends `frames`, sleeping `between` before each, and — when `cut` — fails
/// after the last frame so the server drops the connection without a proper end.
pub(crate) fn timed_body(frames: Vec<Bytes>, between: Duration, cut: bool) -> Body {
    let mut steps: VecDeque<Step> = VecDeque::new();
    for f in frames {
        if !between.is_zero() {
            steps.push_back(Step::Sleep(between));
        }
        steps.push_back(Step::Data(f));
    }
    if cut {
        // Let hyper flush what was sent before the body fails and the connection drops.
        steps.push_back(Step::Sleep(Duration::from_millis(20)));
        steps.push_back(Step::Cut);
    }
    let s = stream::unfold(steps, |mut steps| async move {
        loop {
            match steps.pop_front()? {
                Step::Sleep(d) => tokio::time::sleep(d).await,
                Step::Data(b) => return Some((Ok::<Bytes, std::io::Error>(b), steps)),
                Step::Cut => {
                    return Some((
                        Err(std::io::Error::other("connection cut by script")),
                        VecDeque::new(),
                    ));
                }
            }
        }
    });
    Body::from_stream(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelSpec;

    fn reply(model: &str, behavior: &Behavior, request: Value) -> (Reply, SignatureRegistry) {
        let spec = ModelSpec::new(model);
        let mut reg = SignatureRegistry::default();
        let r = content_reply(
            behavior,
            false,
            &mut Ctx {
                model: &spec,
                request: &request,
                registry: &mut reg,
                n: 1,
            },
        );
        (r, reg)
    }

    #[test]
    fn ok_echoes_last_user_text_in_two_chunks() {
        let req = json!({"contents": [{"role": "user", "parts": [{"text": "ping"}]}]});
        let (r, _) = reply("gemini-2.5-flash", &Behavior::Ok, req);
        assert_eq!(r.payloads.len(), 2);
        let body = non_stream_body(&r);
        assert_eq!(
            body.pointer("/response/candidates/0/content/parts/0/text")
                .unwrap(),
            "Hello from gemini-2.5-flash. You said: ping"
        );
        assert_eq!(
            body.pointer("/response/candidates/0/finishReason").unwrap(),
            "STOP"
        );
    }

    #[test]
    fn claude_thinking_signs_the_thought_and_merges() {
        let req = json!({"contents": [{"role": "user", "parts": [{"text": "hi there"}]}],
            "generationConfig": {"thinkingConfig": {"includeThoughts": true, "thinkingBudget": 2048}}});
        let (r, reg) = reply("claude-sonnet-4-5-thinking", &Behavior::Ok, req);
        let body = non_stream_body(&r);
        let thought = body
            .pointer("/response/candidates/0/content/parts/0")
            .unwrap();
        assert_eq!(thought["thought"], true);
        assert_eq!(thought["text"], "Thinking about: hi there");
        let sig = thought["thoughtSignature"].as_str().unwrap();
        assert_eq!(reg.family_of(sig), Some(Family::Claude));
    }

    #[test]
    fn json_mode_answers_with_a_value_of_the_schema() {
        let request = json!({
            "contents": [{"role": "user", "parts": [{"text": "route"}]}],
            "generationConfig": {
                "responseMimeType": "application/json",
                "responseJsonSchema": {"type": "object", "properties": {
                    "reasoning": {"type": "string"},
                    "complexity_score": {"type": "integer", "minimum": 1, "maximum": 100},
                    "choice": {"type": "string", "enum": ["flash", "pro"]},
                    "tags": {"type": "array", "items": {"type": "string"}}
                }}
            }
        });
        assert_eq!(
            json_answer(&request),
            json!({"reasoning": "text", "complexity_score": 1, "choice": "flash", "tags": ["text"]})
        );
        let (r, _) = reply("gemini-2.5-flash", &Behavior::Ok, request);
        let body = non_stream_body(&r);
        let text = body
            .pointer("/response/candidates/0/content/parts/0/text")
            .and_then(Value::as_str)
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(text).unwrap()["choice"],
            "flash"
        );
    }

    #[test]
    fn words_keep_spaces() {
        assert_eq!(words("a b c").concat(), "a b c");
    }
}
