//! The neutral intermediate representation: one request, response and stream-event
//! model that every client protocol decodes into and every upstream encodes from.
//!
//! Nothing here is shaped after a particular wire protocol. Content is a list of
//! blocks; thinking blocks keep their signature together with the model family that
//! issued it, so a signature is never replayed to a foreign model.

mod content;
mod request;
mod response;
mod stream;
mod usage;

pub use crate::json::RawJson;
pub use content::{
    CacheControl, ContentBlock, MediaSource, Message, Role, Signature, ToolResultContent,
};
pub use request::{
    FunctionTool, GenerationParams, ModelFamily, ReasoningEffort, Request, RequestMeta,
    ResponseFormat, SystemPart, ThinkingConfig, ThinkingMode, Tool, ToolChoice,
};
pub use response::{FinishReason, Response, ResponseBuilder, parse_arguments};
pub use stream::{StreamError, StreamEvent};
pub use usage::Usage;
