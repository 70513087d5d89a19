//! Google Gemini `generateContent` wire types (the public v1beta REST shapes).
//!
//! Serialized in camelCase, as the API sends them; deserialized from camelCase or
//! snake_case, because Gemini clients (the Python SDK, hand-written scripts) send
//! either. Optional fields are skipped when absent so that no `null` reaches the
//! real API, which rejects many of them.

mod models;
mod request;
mod response;

pub use models::{GeminiModel, ListModelsResponse};
pub use request::{
    Blob, CodeExecutionResult, Content, CountTokensRequest, ExecutableCode, FileData, FunctionCall,
    FunctionCallingConfig, FunctionCallingMode, FunctionDeclaration, FunctionResponse,
    GeminiThinkingConfig, GeminiTool, GenerateContentRequest, GenerationConfig, Part, ResponseBody,
    SafetySetting, ToolConfig,
};
pub use response::{
    BlockReason, Candidate, CountTokensResponse, GeminiError, GeminiErrorBody, GeminiFinishReason,
    GenerateContentResponse, PromptFeedback, UsageMetadata,
};
