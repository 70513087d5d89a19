//! OpenAI wire types: Chat Completions (request, response, stream chunk), legacy
//! Completions, Responses (request, response object, stream events) and the models
//! list. The error shape lives in [`crate::error`].
//!
//! Requests are deserialized tolerantly: unknown fields are ignored, polymorphic
//! fields (`content` as string or parts, `stop` as string or list, `tool_choice` as
//! string or object) accept every form the API documents. Responses serialize the
//! way the API does, including its `null`s (`logprobs`, `finish_reason` in chunks).

mod chat;
mod chat_response;
mod completions;
mod models;
mod responses;
mod responses_output;

pub use chat::{
    ChatCompletionRequest, ChatContentPart, ChatFile, ChatFunctionCall, ChatMessage,
    ChatResponseFormat, ChatRole, ChatTool, ChatToolCall, FunctionDefinition, ImageUrl, InputAudio,
    JsonSchemaFormat, MessageContent, StreamOptions,
};
pub use chat_response::{
    ChatChoice, ChatChunkChoice, ChatChunkDelta, ChatChunkFunction, ChatChunkToolCall,
    ChatCompletion, ChatCompletionChunk, ChatResponseMessage, ChatUsage, CompletionTokensDetails,
    PromptTokensDetails,
};
pub use completions::{CompletionChoice, CompletionRequest, TextCompletion};
pub use models::{OpenAiModel, OpenAiModelList};
pub use responses::{
    ResponsesContent, ResponsesContentPart, ResponsesInput, ResponsesInputItem,
    ResponsesReasoningConfig, ResponsesRequest, ResponsesRole, ResponsesTextConfig,
    ResponsesTextFormat, ResponsesTool,
};
pub use responses_output::{
    ResponsesCustomToolCall, ResponsesError, ResponsesFunctionCall, ResponsesIncompleteDetails,
    ResponsesInputTokensDetails, ResponsesLocalShellAction, ResponsesLocalShellCall,
    ResponsesOutputContent, ResponsesOutputItem, ResponsesOutputMessage,
    ResponsesOutputTokensDetails, ResponsesReasoningItem, ResponsesResponse, ResponsesStreamEvent,
    ResponsesSummaryPart, ResponsesUsage,
};
