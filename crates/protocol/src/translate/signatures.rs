//! Signatures a client protocol cannot carry, and how the gateway restores them.
//!
//! A thinking signature comes back from an Anthropic client without saying which
//! model family issued it (`Signature::family == None`), and the Anthropic wire has
//! no field at all for the signatures Gemini 3 puts on function calls and text
//! parts. Encoders never replay an unattributed signature (a foreign one makes the
//! upstream refuse the request), so without help the gateway loses them.
//!
//! The protocol for the gateway:
//! 1. while relaying a stream, record every IR `StreamEvent::Signature` value with
//!    its family (keyed by the signature value, scoped to the session), and every
//!    [`DetachedSignature`] with a [`SignatureAnchor::ToolCall`] anchor that the
//!    client encoder reports (keyed by the tool-call id);
//! 2. after decoding a client request, call [`restore_signatures`] with a
//!    [`SignatureStore`] over that record, then encode for the upstream.
//!
//! A signature the store does not know stays unattributed and is dropped by the
//! encoders — the safe outcome (the Gemini encoder then sends the documented
//! fallback for Gemini 3 calls; a Claude upstream gets thinking turned off for a
//! tool turn that lost its signed thinking).

use crate::ir::{ContentBlock, ModelFamily, Request, Signature};

/// Where a signature that has no field in the client's protocol belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureAnchor {
    /// It came with this tool call (Gemini 3 signs the first call of a turn).
    ToolCall(String),
    /// It came with the text block at this index of the answer's content. Gemini
    /// does not require these back, so storing them is optional.
    Text { index: u32 },
}

/// A signature an encoder did not put on the wire, for the gateway to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetachedSignature {
    pub anchor: SignatureAnchor,
    pub signature: Signature,
}

/// What the gateway remembers of the signatures it relayed.
pub trait SignatureStore {
    /// The family of the model that issued this thinking signature.
    fn family_of(&self, signature: &str) -> Option<ModelFamily>;
    /// The signature that came with this tool call.
    fn tool_call_signature(&self, call_id: &str) -> Option<Signature>;
}

/// Attribute unattributed thinking signatures and put back tool-call signatures,
/// from `store`. Returns how many signatures were restored.
pub fn restore_signatures<S: SignatureStore + ?Sized>(req: &mut Request, store: &S) -> usize {
    let mut restored = 0;
    for block in req.messages.iter_mut().flat_map(|m| m.content.iter_mut()) {
        match block {
            ContentBlock::Thinking {
                signature: Some(sig),
                ..
            } if sig.family.is_none() => {
                if let Some(family) = store.family_of(&sig.value) {
                    sig.family = Some(family);
                    restored += 1;
                }
            }
            ContentBlock::ToolCall { id, signature, .. } if signature.is_none() => {
                if let Some(sig) = store.tool_call_signature(id) {
                    *signature = Some(sig);
                    restored += 1;
                }
            }
            _ => {}
        }
    }
    restored
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::ir::{Message, Role};

    struct Store {
        families: HashMap<&'static str, ModelFamily>,
        calls: HashMap<&'static str, Signature>,
    }

    impl SignatureStore for Store {
        fn family_of(&self, signature: &str) -> Option<ModelFamily> {
            self.families.get(signature).copied()
        }
        fn tool_call_signature(&self, call_id: &str) -> Option<Signature> {
            self.calls.get(call_id).cloned()
        }
    }

    #[test]
    fn known_signatures_are_restored_and_unknown_ones_stay_unattributed() {
        let mut req = Request {
            messages: vec![Message::new(
                Role::Assistant,
                vec![
                    ContentBlock::Thinking {
                        text: "a".into(),
                        signature: Some(Signature::new("known", None)),
                    },
                    ContentBlock::Thinking {
                        text: "b".into(),
                        signature: Some(Signature::new("unknown", None)),
                    },
                    ContentBlock::ToolCall {
                        id: "c1".into(),
                        name: "f".into(),
                        arguments: serde_json::json!({}),
                        signature: None,
                    },
                ],
            )],
            ..Request::default()
        };
        let store = Store {
            families: [("known", ModelFamily::Claude)].into_iter().collect(),
            calls: [("c1", Signature::new("g", Some(ModelFamily::Gemini)))]
                .into_iter()
                .collect(),
        };
        assert_eq!(restore_signatures(&mut req, &store), 2);
        let c = &req.messages[0].content;
        assert!(
            matches!(&c[0], ContentBlock::Thinking { signature: Some(s), .. } if s.family == Some(ModelFamily::Claude))
        );
        assert!(
            matches!(&c[1], ContentBlock::Thinking { signature: Some(s), .. } if s.family.is_none())
        );
        assert!(
            matches!(&c[2], ContentBlock::ToolCall { signature: Some(s), .. } if s.value == "g")
        );
    }
}
