//! Conversation content: messages made of typed blocks.

use serde_json::Value;

use super::request::ModelFamily;

/// Who wrote a message. System instructions live apart, in [`super::Request::system`];
/// tool results are blocks inside `User` messages (as in Anthropic's model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

/// A prompt-caching breakpoint a client asked for (Anthropic `cache_control`).
/// Upstreams that cannot use it drop it; it is kept so that one that can, may.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CacheControl {
    /// `ephemeral` today; kept verbatim.
    pub kind: String,
    /// Optional TTL such as `"5m"` or `"1h"`.
    pub ttl: Option<String>,
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    pub content: Vec<ContentBlock>,
    /// A cache breakpoint at the end of this message.
    pub cache_control: Option<CacheControl>,
}

impl Message {
    pub fn new(role: Role, content: Vec<ContentBlock>) -> Self {
        Self {
            role,
            content,
            cache_control: None,
        }
    }

    pub fn user_text(text: impl Into<String>) -> Self {
        Self::new(Role::User, vec![ContentBlock::text(text)])
    }

    pub fn assistant_text(text: impl Into<String>) -> Self {
        Self::new(Role::Assistant, vec![ContentBlock::text(text)])
    }

    /// The concatenated text blocks of this message.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for block in &self.content {
            if let ContentBlock::Text { text } = block {
                out.push_str(text);
            }
        }
        out
    }
}

/// Where the bytes of an image, document or audio clip come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaSource {
    /// Base64-encoded bytes with their MIME type (`data` is the base64 text, unchanged).
    Base64 { mime_type: String, data: String },
    /// A URL the upstream (or the gateway) must fetch. `mime_type` when known.
    Url {
        url: String,
        mime_type: Option<String>,
    },
    /// A file already uploaded to the provider (Gemini `fileData`, OpenAI `file_id`).
    FileId {
        id: String,
        mime_type: Option<String>,
    },
}

impl MediaSource {
    pub fn mime_type(&self) -> Option<&str> {
        match self {
            MediaSource::Base64 { mime_type, .. } => Some(mime_type),
            MediaSource::Url { mime_type, .. } | MediaSource::FileId { mime_type, .. } => {
                mime_type.as_deref()
            }
        }
    }
}

/// An opaque thinking / thought signature together with the model family that
/// issued it. Encoders must only send a signature to a model of the same family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub value: String,
    /// `None` when the client replayed a signature the gateway cannot attribute.
    pub family: Option<ModelFamily>,
}

impl Signature {
    pub fn new(value: impl Into<String>, family: Option<ModelFamily>) -> Self {
        Self {
            value: value.into(),
            family,
        }
    }

    /// Whether this signature may be replayed to a model of `family`.
    pub fn valid_for(&self, family: ModelFamily) -> bool {
        self.family == Some(family)
    }
}

/// What a tool result carries back to the model.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolResultContent {
    Text(String),
    Image(MediaSource),
}

/// One block of message content.
#[derive(Debug, Clone, PartialEq)]
pub enum ContentBlock {
    Text {
        text: String,
    },
    Image {
        source: MediaSource,
    },
    /// A document or other file: PDF, plain text, audio. `name` is a display name.
    File {
        source: MediaSource,
        name: Option<String>,
    },
    /// The model's reasoning. `text` may be empty when only a signature is known.
    Thinking {
        text: String,
        signature: Option<Signature>,
    },
    /// Reasoning the provider returned encrypted (Anthropic `redacted_thinking`).
    RedactedThinking {
        data: String,
    },
    /// A call the model made. `arguments` is a JSON object.
    ToolCall {
        id: String,
        name: String,
        arguments: Value,
        /// Gemini 3 attaches a thought signature to function calls.
        signature: Option<Signature>,
    },
    /// The result of a tool call, sent back by the client.
    ToolResult {
        call_id: String,
        /// The function name, when the client protocol carries it (Gemini does;
        /// Anthropic and OpenAI name only the call id — decoders resolve it).
        name: Option<String>,
        content: Vec<ToolResultContent>,
        is_error: bool,
    },
}

impl ContentBlock {
    pub fn text(text: impl Into<String>) -> Self {
        ContentBlock::Text { text: text.into() }
    }
}
