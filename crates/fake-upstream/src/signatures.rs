//! Thought signatures: the registry of signatures the fake issued (per model family) and the
//! rules real Gemini 3 and Claude-on-Cloud-Code apply to signatures in a request.
//!
//! The *current turn* (the active tool loop) is every content after the last `user` content
//! that has a (non-thought) text part; earlier turns are history.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::config::{Family, ModelSpec, Provider};
use crate::errors::{self, GoogleError};
use crate::validate::{field, items};

/// The documented dummy values that switch Gemini's signature validator off.
pub const DUMMY_SIGNATURES: [&str; 2] = [
    "skip_thought_signature_validator",
    "context_engineering_is_the_way_to_go",
];

/// Signatures the fake issued, by family.
#[derive(Debug, Default)]
pub struct SignatureRegistry {
    issued: HashMap<String, Family>,
    by_provider: HashMap<String, Provider>,
    next: u64,
}

impl SignatureRegistry {
    /// Issues a fresh signature for `family` (standard base64 of an opaque marker).
    pub fn issue(&mut self, family: Family) -> String {
        self.next += 1;
        let raw = format!(
            "uplink-fake-thought-signature:{}:{:08}",
            family.as_str(),
            self.next
        );
        let sig = STANDARD.encode(raw.as_bytes());
        self.issued.insert(sig.clone(), family);
        sig
    }

    /// Issues a thinking signature of an API-key provider (only that provider accepts it).
    pub fn issue_for_provider(&mut self, provider: Provider) -> String {
        self.next += 1;
        let raw = format!(
            "uplink-fake-thinking-signature:{}:{:08}",
            provider.as_str(),
            self.next
        );
        let sig = STANDARD.encode(raw.as_bytes());
        self.by_provider.insert(sig.clone(), provider);
        sig
    }

    /// The API-key provider a signature was issued by, if the fake issued it.
    pub fn provider_of(&self, sig: &str) -> Option<Provider> {
        self.by_provider.get(sig).copied()
    }

    /// The family a signature was issued for, if the fake issued it.
    pub fn family_of(&self, sig: &str) -> Option<Family> {
        self.issued.get(sig).copied()
    }
}

/// Whether Claude thinking is on for this request: `thinkingConfig.includeThoughts` or a
/// positive `thinkingBudget`.
pub fn claude_thinking_enabled(generation_config: Option<&Value>) -> bool {
    let Some(tc) = generation_config.and_then(|g| field(g, "thinkingConfig")) else {
        return false;
    };
    let include = field(tc, "includeThoughts").and_then(Value::as_bool) == Some(true);
    let budget = field(tc, "thinkingBudget").and_then(as_i64).unwrap_or(0);
    include || budget > 0
}

pub(crate) fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_f64().map(|f| f as i64))
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

fn role(content: &Value) -> &str {
    field(content, "role")
        .and_then(Value::as_str)
        .unwrap_or("user")
}

fn is_thought(part: &Value) -> bool {
    field(part, "thought").and_then(Value::as_bool) == Some(true)
}

fn signature(part: &Value) -> Option<&str> {
    field(part, "thoughtSignature")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Index of the first content of the current turn.
pub fn current_turn_start(contents: &[&Value]) -> usize {
    contents
        .iter()
        .rposition(|c| {
            role(c) == "user"
                && items(field(c, "parts"))
                    .iter()
                    .any(|p| field(p, "text").is_some() && !is_thought(p))
        })
        .map_or(0, |i| i + 1)
}

/// Runs every signature rule for `model`.
pub fn check(
    contents: &[&Value],
    generation_config: Option<&Value>,
    model: &ModelSpec,
    registry: &SignatureRegistry,
    seq: u64,
) -> Result<(), GoogleError> {
    match model.family() {
        Family::Gemini => {
            gemini_signature_origin(contents, registry)?;
            if model.is_gemini3() {
                gemini3_function_calls_signed(contents)?;
            }
            Ok(())
        }
        Family::Claude => {
            claude_thoughts_carry_signature(contents, seq)?;
            claude_signature_origin(contents, registry, seq)?;
            if claude_thinking_enabled(generation_config) {
                claude_tool_turns_start_with_thinking(contents, seq)?;
            }
            Ok(())
        }
        Family::Other => Ok(()),
    }
}

/// Imitates Gemini's `400 Corrupted thought signature.`: every `thoughtSignature` sent to a
/// Gemini model must be one Gemini issued (here: the fake, for the Gemini family) or a
/// documented dummy value. A Claude-issued or unknown signature is corrupted.
fn gemini_signature_origin(
    contents: &[&Value],
    registry: &SignatureRegistry,
) -> Result<(), GoogleError> {
    for c in contents {
        for p in items(field(c, "parts")) {
            if let Some(sig) = signature(p) {
                let ok = DUMMY_SIGNATURES.contains(&sig)
                    || registry.family_of(sig) == Some(Family::Gemini);
                if !ok {
                    return Err(GoogleError::invalid_argument(
                        "Corrupted thought signature.",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Imitates Gemini 3's `400 Function call is missing a thought_signature in functionCall
/// parts. ...`: in the current turn, the first `functionCall` part of every model content
/// must carry a `thoughtSignature` (parallel calls after the first need none).
fn gemini3_function_calls_signed(contents: &[&Value]) -> Result<(), GoogleError> {
    let start = current_turn_start(contents);
    for (i, c) in contents.iter().enumerate().skip(start) {
        if role(c) != "model" {
            continue;
        }
        let parts = items(field(c, "parts"));
        let Some(first_call) = parts.iter().find(|p| field(p, "functionCall").is_some()) else {
            continue;
        };
        if signature(first_call).is_none() {
            let name = field(first_call, "functionCall")
                .and_then(|fc| field(fc, "name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            return Err(GoogleError::invalid_argument(format!(
                "Function call is missing a thought_signature in functionCall parts. This is \
                 required for tools to work correctly, and missing thought_signature may lead to \
                 degraded model performance. Additional data, function call `default_api:{name}` \
                 , position {}. Please refer to \
                 https://ai.google.dev/gemini-api/docs/thought-signatures for more details.",
                i + 1
            )));
        }
    }
    Ok(())
}

/// Imitates Anthropic's `messages.N.content.M.thinking.signature: Field required`: a thought
/// part sent to a Claude model becomes a `thinking` block, which needs its signature.
fn claude_thoughts_carry_signature(contents: &[&Value], seq: u64) -> Result<(), GoogleError> {
    for (i, c) in contents.iter().enumerate() {
        for (j, p) in items(field(c, "parts")).iter().enumerate() {
            if is_thought(p) && signature(p).is_none() {
                return Err(errors::anthropic_invalid_request(
                    &format!("messages.{i}.content.{j}.thinking.signature: Field required"),
                    seq,
                ));
            }
        }
    }
    Ok(())
}

/// Imitates Anthropic's ``400 messages.N.content.M: Invalid `signature` in `thinking` block``
/// for a signature Claude never issued (including Gemini's dummy values), and Cloud Code's
/// `Corrupted thought signature.` for a signature issued by Gemini.
fn claude_signature_origin(
    contents: &[&Value],
    registry: &SignatureRegistry,
    seq: u64,
) -> Result<(), GoogleError> {
    for (i, c) in contents.iter().enumerate() {
        for (j, p) in items(field(c, "parts")).iter().enumerate() {
            if !is_thought(p) {
                continue;
            }
            let Some(sig) = signature(p) else { continue };
            match registry.family_of(sig) {
                Some(Family::Claude) => {}
                Some(Family::Gemini) => {
                    return Err(GoogleError::invalid_argument(
                        "Corrupted thought signature.",
                    ));
                }
                _ => {
                    return Err(errors::anthropic_invalid_request(
                        &format!(
                            "messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
                        ),
                        seq,
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Imitates Anthropic's ``Expected `thinking` or `redacted_thinking`, but found `tool_use`.
/// When `thinking` is enabled, a final `assistant` message must start with a thinking
/// block``: with thinking on, every model content of the current turn that calls a function
/// must start with a signed thought part.
fn claude_tool_turns_start_with_thinking(contents: &[&Value], seq: u64) -> Result<(), GoogleError> {
    let start = current_turn_start(contents);
    for (i, c) in contents.iter().enumerate().skip(start) {
        if role(c) != "model" {
            continue;
        }
        let parts = items(field(c, "parts"));
        if !parts.iter().any(|p| field(p, "functionCall").is_some()) {
            continue;
        }
        let first = parts.first();
        let starts_signed = first.is_some_and(|p| is_thought(p) && signature(p).is_some());
        if !starts_signed {
            let found = match first {
                Some(p) if field(p, "functionCall").is_some() => "tool_use",
                Some(p) if is_thought(p) => "thinking",
                _ => "text",
            };
            return Err(errors::anthropic_invalid_request(
                &format!(
                    "messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but \
                     found `{found}`. When `thinking` is enabled, a final `assistant` message must \
                     start with a thinking block (preceeding the lastmost set of `tool_use` and \
                     `tool_result` blocks). We recommend you include thinking blocks from previous \
                     turns. To avoid this requirement, disable `thinking`. Please consult our \
                     documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
                ),
                seq,
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn current_turn_starts_after_last_user_text() {
        let c = [
            json!({"role":"user","parts":[{"text":"hi"}]}),
            json!({"role":"model","parts":[{"functionCall":{"name":"f"}}]}),
            json!({"role":"user","parts":[{"functionResponse":{"name":"f","response":{}}}]}),
        ];
        let refs: Vec<&Value> = c.iter().collect();
        assert_eq!(current_turn_start(&refs), 1);
        assert_eq!(current_turn_start(&refs[..1]), 1);
        assert_eq!(current_turn_start(&[]), 0);
    }

    #[test]
    fn registry_remembers_family() {
        let mut r = SignatureRegistry::default();
        let g = r.issue(Family::Gemini);
        let c = r.issue(Family::Claude);
        assert_ne!(g, c);
        assert_eq!(r.family_of(&g), Some(Family::Gemini));
        assert_eq!(r.family_of(&c), Some(Family::Claude));
        assert_eq!(r.family_of("nope"), None);
        assert!(STANDARD.decode(&g).is_ok());
    }
}
