//! Golden cases of the Anthropic Messages translators, under
//! `tests/fixtures/anthropic/`, with the shared runner's files and conventions plus:
//!
//! - `<case>.decoded.json` — IR facts the upstream body cannot show: dropped tools
//!   and blocks, user and session, system parts, breakpoints, thinking and tool
//!   settings;
//! - in `<case>.meta.json`, `"signatures": {"<value>": "claude" | "gemini"}` and
//!   `"tool_call_signatures": {"<call id>": ["<value>", "<family>"]}` — the
//!   gateway's record of relayed signatures, applied as the gateway's signature
//!   store would before encoding for the upstream;
//! - `<case>.events.json` — instead of an upstream SSE transcript, the IR events
//!   an upstream decoder would emit, in batches (for what Cloud Code never sends,
//!   such as a matched stop sequence);
//! - `<case>.client.sse` has `event:` lines; `<case>.detached.json` lists the
//!   signatures the stream encoder left off the wire (only when there are some).

use std::collections::HashMap;

use serde_json::{Value, json};
use uplink_protocol::error::ErrorKind;
use uplink_protocol::ir::{
    FinishReason, ModelFamily, Signature, StreamError, StreamEvent, ThinkingMode, Tool, Usage,
};
use uplink_protocol::translate::{
    AnthropicDecoded, AnthropicStreamEncoder, DetachedSignature, SignatureAnchor,
};

use super::*;

pub(super) struct Store {
    families: HashMap<String, ModelFamily>,
    calls: HashMap<String, Signature>,
}

impl Store {
    /// What the gateway's store does with its record: attribute thinking
    /// signatures to their family and put back tool-call signatures.
    pub(super) fn restore(&self, request: &mut uplink_protocol::ir::Request) {
        use uplink_protocol::ir::ContentBlock;
        for block in request
            .messages
            .iter_mut()
            .flat_map(|m| m.content.iter_mut())
        {
            match block {
                ContentBlock::Thinking {
                    signature: Some(sig),
                    ..
                } if sig.family.is_none() => sig.family = self.families.get(&sig.value).copied(),
                ContentBlock::ToolCall { id, signature, .. } if signature.is_none() => {
                    *signature = self.calls.get(id.as_str()).cloned();
                }
                _ => {}
            }
        }
    }
}

fn family(name: &str) -> ModelFamily {
    match name {
        "claude" => ModelFamily::Claude,
        "gemini" => ModelFamily::Gemini,
        "gpt" => ModelFamily::Gpt,
        _ => ModelFamily::Other,
    }
}

pub(super) fn store(meta: &Value) -> Store {
    let mut s = Store {
        families: HashMap::new(),
        calls: HashMap::new(),
    };
    if let Some(map) = meta["signatures"].as_object() {
        for (value, fam) in map {
            s.families
                .insert(value.clone(), family(fam.as_str().unwrap_or("")));
        }
    }
    if let Some(map) = meta["tool_call_signatures"].as_object() {
        for (id, pair) in map {
            let value = pair[0].as_str().unwrap_or("");
            let fam = family(pair[1].as_str().unwrap_or(""));
            s.calls.insert(id.clone(), Signature::new(value, Some(fam)));
        }
    }
    s
}

fn cache_json(c: Option<&uplink_protocol::ir::CacheControl>) -> Value {
    c.map_or(Value::Null, |c| json!({"type": c.kind, "ttl": c.ttl}))
}

/// The IR facts of a decoded request that `upstream.json` does not show.
fn summary(d: &AnthropicDecoded) -> Value {
    let req = &d.request;
    let thinking = req.thinking.as_ref().map_or(Value::Null, |t| {
        json!({
            "mode": match t.mode {
                ThinkingMode::Disabled => "disabled",
                ThinkingMode::Enabled => "enabled",
                ThinkingMode::Adaptive => "adaptive",
            },
            "budget_tokens": t.budget_tokens,
            "effort": t.effort.map(|e| format!("{e:?}")),
            "include_thoughts": t.include_thoughts,
        })
    });
    let breakpoints: Vec<Value> = req
        .messages
        .iter()
        .enumerate()
        .filter(|(_, m)| m.cache_control.is_some())
        .map(|(i, m)| json!({"message": i, "cache_control": cache_json(m.cache_control.as_ref())}))
        .collect();
    let tools: Vec<Value> = req
        .tools
        .iter()
        .map(|t| match t {
            Tool::Function(f) => {
                json!({"function": f.name, "cache_control": cache_json(f.cache_control.as_ref())})
            }
            Tool::WebSearch => json!("web_search"),
            Tool::CodeExecution => json!("code_execution"),
        })
        .collect();
    json!({
        "dropped_tools": d.dropped_tools,
        "dropped_blocks": d.dropped_blocks,
        "user": req.meta.user,
        "session_id": req.meta.session_id,
        "stream": req.stream,
        "system": req.system.iter().map(|p| json!({
            "text": p.text,
            "cache_control": cache_json(p.cache_control.as_ref()),
        })).collect::<Vec<_>>(),
        "message_roles": req.messages.iter().map(|m| format!("{:?}", m.role)).collect::<Vec<_>>(),
        "message_breakpoints": breakpoints,
        "tools": tools,
        "tool_choice": format!("{:?}", req.tool_choice),
        "parallel_tool_calls": req.parallel_tool_calls,
        "thinking": thinking,
    })
}

/// One IR event from its fixture form.
fn event(v: &Value) -> StreamEvent {
    let s = |k: &str| v[k].as_str().unwrap_or("").to_owned();
    let n = |k: &str| v["usage"][k].as_u64().unwrap_or(0);
    if v.get("start").is_some() {
        StreamEvent::Start {
            id: v["start"]["id"].as_str().map(str::to_owned),
            model: v["start"]["model"].as_str().map(str::to_owned),
        }
    } else if v.get("text").is_some() {
        StreamEvent::TextDelta(s("text"))
    } else if v.get("thinking").is_some() {
        StreamEvent::ThinkingDelta(s("thinking"))
    } else if v.get("redacted").is_some() {
        StreamEvent::RedactedThinking(s("redacted"))
    } else if v.get("signature").is_some() {
        StreamEvent::Signature(Signature::new(s("signature"), Some(family(&s("family")))))
    } else if let Some(call) = v.get("tool_call") {
        StreamEvent::ToolCallStart {
            id: call["id"].as_str().unwrap_or("").to_owned(),
            name: call["name"].as_str().unwrap_or("").to_owned(),
        }
    } else if v.get("args").is_some() {
        StreamEvent::ToolCallDelta(s("args"))
    } else if v.get("usage").is_some() {
        StreamEvent::Usage(Usage {
            input_tokens: n("input"),
            output_tokens: n("output"),
            cached_input_tokens: n("cached"),
            cache_creation_input_tokens: n("cache_creation"),
            reasoning_tokens: n("reasoning"),
        })
    } else if v.get("finish").is_some() {
        StreamEvent::Finish(match s("finish").as_str() {
            "stop" => FinishReason::Stop,
            "length" => FinishReason::Length,
            "tool_calls" => FinishReason::ToolCalls,
            "content_filter" => FinishReason::ContentFilter,
            "stop_sequence" => {
                FinishReason::StopSequence(v["sequence"].as_str().map(str::to_owned))
            }
            other => FinishReason::Other(other.to_owned()),
        })
    } else if v.get("error").is_some() {
        let status = v["error"].as_u64().unwrap_or(500);
        StreamEvent::Error(StreamError::new(
            ErrorKind::from_status(u16::try_from(status).unwrap_or(500)),
            s("message"),
        ))
    } else {
        panic!("unknown fixture event {v}")
    }
}

/// The batches of an `events.json`, ended the way the gateway ends a stream.
fn event_batches(path: &Path) -> Option<Vec<Vec<StreamEvent>>> {
    let v = read_json(path)?;
    let mut batches: Vec<Vec<StreamEvent>> = v
        .as_array()
        .map(|b| {
            b.iter()
                .map(|batch| {
                    batch
                        .as_array()
                        .map(|e| e.iter().map(event).collect())
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default();
    let ended = batches
        .iter()
        .flatten()
        .any(|e| matches!(e, StreamEvent::Finish(_) | StreamEvent::Error(_)));
    if !ended {
        batches.push(vec![StreamEvent::Error(StreamError::new(
            ErrorKind::Upstream,
            "upstream stream ended without a finish reason",
        ))]);
    }
    Some(batches)
}

pub(super) fn check_named_sse(
    path: &Path,
    events: &[(&'static str, String)],
    failures: &mut Vec<String>,
) {
    let mut text = String::new();
    for (name, data) in events {
        let _ = write!(text, "event: {name}\ndata: {data}\n\n");
    }
    if updating() {
        fs::write(path, &text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let Ok(expected) = fs::read_to_string(path) else {
        failures.push(format!(
            "{}: missing (run with UPDATE_GOLDEN=1)",
            path.display()
        ));
        return;
    };
    let parse = |t: &str| -> Vec<(Option<String>, Value)> {
        let mut parser = SseParser::new();
        let mut all = parser.feed(t.as_bytes()).unwrap_or_default();
        all.extend(parser.finish());
        all.into_iter()
            .map(|e| {
                let data = serde_json::from_str(&e.data).unwrap_or(Value::String(e.data));
                (e.event, data)
            })
            .collect()
    };
    if parse(&expected) != parse(&text) {
        failures.push(format!(
            "{}: mismatch\n--- expected\n{expected}--- actual\n{text}",
            path.display()
        ));
    }
}

fn detached_json(detached: &[DetachedSignature]) -> Value {
    detached
        .iter()
        .map(|d| {
            let anchor = match &d.anchor {
                SignatureAnchor::ToolCall(id) => json!({"tool_call": id}),
                SignatureAnchor::Text { index } => json!({"text_block": index}),
            };
            json!({
                "anchor": anchor,
                "signature": d.signature.value,
                "family": d.signature.family.map(|f| f.as_str()),
            })
        })
        .collect()
}

#[test]
fn anthropic_cases() {
    let mut failures = Vec::new();
    let all = cases("anthropic");
    assert!(!all.is_empty(), "no anthropic fixtures");
    for (case, dir) in &all {
        let body = fs::read(dir.join(format!("{case}.client.json"))).unwrap_or_default();
        let client: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let raw_meta = read_json(&dir.join(format!("{case}.meta.json"))).unwrap_or(json!({}));
        let mut meta = meta(dir, case, &client);
        let decoded = translate::decode_anthropic(&body);
        let as_request = decoded.clone().map(|d| d.request);
        if check_decode_error(dir, case, &as_request, &mut failures) {
            continue;
        }
        let Ok(mut d) = decoded else { continue };
        store(&raw_meta).restore(&mut d.request);
        check_json(
            &dir.join(format!("{case}.decoded.json")),
            &summary(&d),
            &mut failures,
        );
        if meta.session_id.is_none() {
            meta.session_id = d.request.meta.session_id.clone();
        }
        check_upstream(dir, case, &d.request, &meta, &mut failures);
        if let Ok(up) = translate::encode_gemini_request(&d.request, &meta.upstream_model) {
            let text = serde_json::to_string(&up).unwrap_or_default();
            for field in ["cache_control", "defer_loading", "ttl"] {
                if text.contains(field) {
                    failures.push(format!("{case}: `{field}` reached the upstream"));
                }
            }
        }

        let batches = upstream_batches(
            &dir.join(format!("{case}.upstream.sse")),
            &meta.upstream_model,
        )
        .or_else(|| event_batches(&dir.join(format!("{case}.events.json"))));
        let Some(batches) = batches else { continue };
        if d.request.stream {
            let mut enc = AnthropicStreamEncoder::new("msg_test", &meta.model);
            let mut events = Vec::new();
            for batch in &batches {
                for e in batch {
                    events.extend(enc.event(e));
                }
                events.extend(enc.flush());
            }
            events.extend(enc.finish());
            check_named_sse(
                &dir.join(format!("{case}.client.sse")),
                &events,
                &mut failures,
            );
            let detached = dir.join(format!("{case}.detached.json"));
            if !enc.detached_signatures().is_empty() || detached.exists() {
                check_json(
                    &detached,
                    &detached_json(enc.detached_signatures()),
                    &mut failures,
                );
            }
        } else {
            let body = match fold(batches) {
                Ok(resp) => {
                    let detached = translate::detached_signatures(&resp);
                    let path = dir.join(format!("{case}.detached.json"));
                    if !detached.is_empty() || path.exists() {
                        check_json(&path, &detached_json(&detached), &mut failures);
                    }
                    serde_json::to_value(translate::encode_anthropic_message(
                        &resp,
                        "msg_test",
                        &meta.model,
                    ))
                    .unwrap_or_default()
                }
                Err(e) => ErrorBody::new(Dialect::Anthropic, e.kind, e.message)
                    .to_json(Dialect::Anthropic),
            };
            check_json(
                &dir.join(format!("{case}.client.response.json")),
                &body,
                &mut failures,
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
