//! Signatures a client protocol cannot carry, and how the gateway restores them.
//!
//! A thinking signature comes back from an Anthropic client without saying which
//! model family issued it (`Signature::family == None`), and the Anthropic wire has
//! no field at all for the signatures Gemini 3 puts on function calls and text
//! parts. Encoders never replay an unattributed signature (a foreign one makes the
//! upstream refuse the request), so without help the gateway loses them.
//!
//! Remembering and restoring them is the gateway's job (its `signatures`
//! module watches the IR stream and fills the request in before encoding); the
//! encoders here only report what they could not put on the wire.
//!
//! A signature nobody can attribute stays unattributed and is dropped by the
//! encoders — the safe outcome (the Gemini encoder then sends the documented
//! fallback for Gemini 3 calls; a Claude upstream gets thinking turned off for a
//! tool turn that lost its signed thinking).

use crate::ir::Signature;

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
