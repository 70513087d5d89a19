//! The gateway's own `encrypted_content` for Responses reasoning items.
//!
//! Codex sends `store: false` and replays every output item, reasoning items with
//! their `encrypted_content` included, on the next turn. The gateway uses that
//! field to carry what the upstream needs back: a thinking signature with the
//! family that issued it, the signature of a tool call (Gemini 3 signs function
//! calls, which a `function_call` item has no field for), or a redacted thinking
//! block. Encoding: the prefix [`REASONING_STATE_PREFIX`] followed by unpadded
//! URL-safe base64 of a small JSON object:
//!
//! - `{"sig": "<signature>", "family": "gemini"}` — the thinking block's signature;
//! - `{"sig": …, "family": …, "call_id": "call_…"}` — the signature of that call;
//! - `{"redacted": "<data>"}` — an encrypted thinking block.
//!
//! Anything else (OpenAI's own encrypted reasoning, a newer version) decodes to a
//! signature of unknown family, which no encoder replays to any model.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::ir::{ModelFamily, Signature};

/// The first bytes of every `encrypted_content` the gateway writes.
pub const REASONING_STATE_PREFIX: &str = "uplink.v1.";

/// What one reasoning item's `encrypted_content` carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReasoningState {
    /// The signature of the thinking this reasoning item stands for.
    Signature(Signature),
    /// The signature of the tool call with this call id.
    CallSignature {
        call_id: String,
        signature: Signature,
    },
    /// A redacted thinking block (Anthropic `redacted_thinking`).
    Redacted(String),
}

#[derive(Serialize, Deserialize)]
struct Payload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sig: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    call_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    redacted: Option<String>,
}

/// The `encrypted_content` for `state`.
pub fn encode_reasoning_state(state: &ReasoningState) -> String {
    let payload = match state {
        ReasoningState::Signature(sig) => Payload {
            sig: Some(sig.value.clone()),
            family: sig.family.map(|f| f.as_str().to_owned()),
            call_id: None,
            redacted: None,
        },
        ReasoningState::CallSignature { call_id, signature } => Payload {
            sig: Some(signature.value.clone()),
            family: signature.family.map(|f| f.as_str().to_owned()),
            call_id: Some(call_id.clone()),
            redacted: None,
        },
        ReasoningState::Redacted(data) => Payload {
            sig: None,
            family: None,
            call_id: None,
            redacted: Some(data.clone()),
        },
    };
    let json = serde_json::to_vec(&payload).unwrap_or_default();
    let mut out = String::with_capacity(REASONING_STATE_PREFIX.len() + json.len() * 4 / 3 + 4);
    out.push_str(REASONING_STATE_PREFIX);
    URL_SAFE_NO_PAD.encode_string(json, &mut out);
    out
}

/// What an `encrypted_content` carries. Content the gateway did not write becomes a
/// signature of unknown family.
pub fn decode_reasoning_state(encrypted: &str) -> ReasoningState {
    decode_ours(encrypted)
        .unwrap_or_else(|| ReasoningState::Signature(Signature::new(encrypted, None)))
}

fn decode_ours(encrypted: &str) -> Option<ReasoningState> {
    let body = encrypted.strip_prefix(REASONING_STATE_PREFIX)?;
    let json = URL_SAFE_NO_PAD.decode(body.trim()).ok()?;
    let payload: Payload = serde_json::from_slice(&json).ok()?;
    if let Some(data) = payload.redacted {
        return Some(ReasoningState::Redacted(data));
    }
    let signature = Signature::new(
        payload.sig?,
        payload.family.as_deref().and_then(parse_family),
    );
    Some(match payload.call_id {
        Some(call_id) => ReasoningState::CallSignature { call_id, signature },
        None => ReasoningState::Signature(signature),
    })
}

fn parse_family(s: &str) -> Option<ModelFamily> {
    Some(match s {
        "gemini" => ModelFamily::Gemini,
        "claude" => ModelFamily::Claude,
        "gpt" => ModelFamily::Gpt,
        "other" => ModelFamily::Other,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_state_round_trips() {
        for state in [
            ReasoningState::Signature(Signature::new("c2ln", Some(ModelFamily::Gemini))),
            ReasoningState::Signature(Signature::new("x", Some(ModelFamily::Claude))),
            ReasoningState::Signature(Signature::new("y", None)),
            ReasoningState::CallSignature {
                call_id: "call_1".into(),
                signature: Signature::new("z", Some(ModelFamily::Gemini)),
            },
            ReasoningState::Redacted("opaque".into()),
        ] {
            let encoded = encode_reasoning_state(&state);
            assert!(encoded.starts_with(REASONING_STATE_PREFIX));
            assert_eq!(decode_reasoning_state(&encoded), state);
        }
    }

    #[test]
    fn foreign_content_is_a_signature_of_unknown_family() {
        for foreign in [
            "gAAAAABoOpenAIFernetToken==",
            "uplink.v1.!!!",
            "uplink.v1.e30", // {} : neither a signature nor redacted data
            "uplink.v9.eyJ9",
        ] {
            assert_eq!(
                decode_reasoning_state(foreign),
                ReasoningState::Signature(Signature::new(foreign, None))
            );
        }
    }

    proptest! {
        #[test]
        fn decoding_never_panics(s in ".{0,64}") {
            let _ = decode_reasoning_state(&s);
            let _ = decode_reasoning_state(&format!("{REASONING_STATE_PREFIX}{s}"));
        }
    }
}
