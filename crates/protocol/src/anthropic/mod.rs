//! Anthropic Messages wire types: the request (`/v1/messages`, `/count_tokens`),
//! content blocks, the `Message` answer, stream events, the models list and the
//! error body.
//!
//! Deserialization is tolerant: unknown fields are ignored (request types keep
//! no `#[serde(flatten)]` catch-all, which would make serde buffer a whole
//! conversation before reading it), blocks of unknown types are captured as
//! [`AnthropicContentBlock::Unknown`], `content`/`system` accept a string or blocks.
//! Answers serialize the way the API sends them, including its `null`s
//! (`stop_reason`, `stop_sequence`).

mod content;
mod request;
mod response;

pub use content::{
    AnthropicCacheControl, AnthropicContent, AnthropicContentBlock, AnthropicDocumentBlock,
    AnthropicImageBlock, AnthropicRedactedThinkingBlock, AnthropicSearchResultBlock,
    AnthropicServerToolResultBlock, AnthropicSource, AnthropicTextBlock, AnthropicThinkingBlock,
    AnthropicToolResultBlock, AnthropicToolUseBlock, AnthropicUnknownBlock, KNOWN_BLOCK_TYPES,
};
pub use request::{
    AnthropicCountTokensRequest, AnthropicMessageParam, AnthropicMetadata, AnthropicOutputConfig,
    AnthropicOutputFormat, AnthropicRole, AnthropicThinkingConfig, AnthropicTool,
    AnthropicToolChoice, MessagesRequest,
};
pub use response::{
    AnthropicCountTokensResponse, AnthropicDelta, AnthropicErrorDetail, AnthropicErrorResponse,
    AnthropicMessage, AnthropicMessageDeltaBody, AnthropicModel, AnthropicModelList,
    AnthropicStreamEvent, AnthropicUsage, rfc3339_from_unix,
};
