//! Stream events: what an upstream decoder emits and a client encoder consumes.

use crate::error::ErrorKind;

use super::content::Signature;
use super::response::FinishReason;
use super::usage::Usage;

/// One event of an answer as it streams.
///
/// Block boundaries are implied: a delta of another kind than the open block's
/// starts a new block; a [`StreamEvent::Signature`] completes the open block; every
/// [`StreamEvent::ToolCallStart`] opens a new tool-call block. Encoders keep the
/// small state machine this needs.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The upstream accepted the request. Always the first event.
    Start {
        /// The upstream's response id, when it gave one.
        id: Option<String>,
        /// The model that answers (upstream name / version).
        model: Option<String>,
    },
    /// A piece of the visible answer.
    TextDelta(String),
    /// A piece of reasoning.
    ThinkingDelta(String),
    /// Encrypted reasoning (Anthropic `redacted_thinking`): a whole block.
    RedactedThinking(String),
    /// The signature of the open block: a thinking block (Claude), or the function
    /// call or text part it arrived on (Gemini 3). It completes that block.
    Signature(Signature),
    /// A tool call begins; its arguments follow as [`StreamEvent::ToolCallDelta`].
    ToolCallStart { id: String, name: String },
    /// A fragment of the open tool call's JSON arguments.
    ToolCallDelta(String),
    /// Token usage so far (cumulative; later reports replace earlier ones).
    Usage(Usage),
    /// The answer is complete.
    Finish(FinishReason),
    /// The upstream failed after the stream started. Nothing follows.
    Error(StreamError),
}

/// An upstream failure reported inside a stream that has already started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
    pub kind: ErrorKind,
    pub message: String,
}

impl StreamError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}
