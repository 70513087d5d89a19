//! Translators between client/upstream wire protocols and the neutral IR.
//!
//! Every function here is pure and synchronous. Decoders turn a client's body into
//! an IR [`crate::ir::Request`], or an upstream's answer into IR stream events
//! (Gemini / Cloud Code, Anthropic, OpenAI-compatible); encoders turn IR into an
//! upstream's body or a client's answer. Failures are [`TranslateError`]s that name the offending field
//! and map to a 400 in the caller's protocol.

use crate::error::{Dialect, ErrorBody, ErrorKind};

/// A request the translator cannot express: malformed, or asking for something the
/// target cannot do. `path` names the field (`messages[2].content[0].image_url.url`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct TranslateError {
    pub path: String,
    pub message: String,
}

impl TranslateError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }

    fn render(&self) -> String {
        if self.path.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.path, self.message)
        }
    }

    /// The 400 a client of `dialect` receives for this error.
    pub fn to_error_body(&self, dialect: Dialect) -> ErrorBody {
        ErrorBody::new(dialect, ErrorKind::InvalidRequest, self.to_string())
    }
}

mod count_tokens;
mod decode_anthropic;
mod decode_anthropic_blocks;
mod decode_anthropic_stream;
mod decode_gemini;
mod decode_gemini_response;
mod decode_openai_chat;
mod decode_openai_chat_stream;
mod decode_openai_completions;
mod decode_openai_responses;
mod decode_openai_responses_config;
mod encode_anthropic;
mod encode_anthropic_request;
mod encode_gemini;
mod encode_gemini_config;
mod encode_gemini_response;
mod encode_openai_chat;
mod encode_openai_chat_request;
mod encode_openai_completions;
mod encode_openai_responses;
mod encode_openai_responses_stream;
pub mod model_info;
mod responses_context;
mod responses_reasoning;
pub mod schema;
mod signatures;
#[cfg(test)]
pub(crate) mod test_support;
mod tool_pairing;
pub(crate) mod util;

pub use count_tokens::{
    MEDIA_TOKENS, encode_cloudcode_count_tokens, estimate_text_tokens, estimate_tokens,
};
pub use decode_anthropic::{
    AnthropicDecoded, decode_anthropic, decode_anthropic_count_tokens, decode_anthropic_request,
    is_billing_header, parse_user_id,
};
pub use decode_anthropic_stream::{
    AnthropicStreamDecoder, anthropic_error_kind, decode_anthropic_message,
};
pub use decode_gemini::{decode_gemini, decode_gemini_count_tokens, decode_gemini_request};
pub use decode_gemini_response::{
    GeminiStreamDecoder, decode_gemini_response, error_kind as gemini_error_kind,
    usage_from as usage_from_gemini,
};
pub use decode_openai_chat::{decode_openai_chat, decode_openai_chat_request};
pub use decode_openai_chat_stream::{
    OpenAiChunkDecoder, decode_openai_chat_completion, openai_error_kind,
};
pub use decode_openai_completions::{decode_openai_completions, decode_openai_completions_request};
pub use decode_openai_responses::{decode_openai_responses, decode_openai_responses_request};
pub use encode_anthropic::{
    AnthropicSse, AnthropicStreamEncoder, anthropic_error_event, anthropic_ping,
    anthropic_stop_reason, anthropic_usage, detached_signatures, encode_anthropic_count_tokens,
    encode_anthropic_message,
};
pub use encode_anthropic_request::{DEFAULT_MAX_TOKENS, encode_anthropic_request};
pub use encode_gemini::{SKIP_SIGNATURE, encode_gemini_request};
pub use encode_gemini_response::{
    GeminiChunkEncoder, encode_gemini_response, gemini_finish_reason, gemini_usage,
};
pub use encode_openai_chat::{ChatChunkEncoder, encode_chat_completion, openai_finish_reason};
pub use encode_openai_chat_request::{
    OpenAiChatOptions, ReasoningReplay, encode_openai_chat_request, encode_openai_chat_request_with,
};
pub use encode_openai_completions::{CompletionChunkEncoder, encode_text_completion};
pub use encode_openai_responses::encode_responses_response;
pub use encode_openai_responses_stream::{ResponsesSse, ResponsesStreamEncoder};
pub use responses_context::{LOCAL_SHELL_TOOL, ResponsesContext, ResponsesToolKind};
pub use responses_reasoning::{
    REASONING_STATE_PREFIX, ReasoningState, decode_reasoning_state, encode_reasoning_state,
};
pub use signatures::{DetachedSignature, SignatureAnchor};
