//! The request a client made, in protocol-neutral form.

use serde_json::Value;

use crate::json::RawJson;

use super::content::{CacheControl, ContentBlock, MediaSource, Message, ToolResultContent};

/// The provider family of a model. Signatures never cross families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelFamily {
    Gemini,
    Claude,
    Gpt,
    Other,
}

impl ModelFamily {
    /// The family of an upstream model name (`gemini-3-pro`, `claude-sonnet-4-5`, …).
    pub fn of(model: &str) -> Self {
        let name = model
            .rsplit('/')
            .next()
            .unwrap_or(model)
            .to_ascii_lowercase();
        if name.starts_with("gemini") {
            ModelFamily::Gemini
        } else if name.starts_with("claude") {
            ModelFamily::Claude
        } else if name.starts_with("gpt")
            || name.starts_with("o1")
            || name.starts_with("o3")
            || name.starts_with("o4")
        {
            ModelFamily::Gpt
        } else {
            ModelFamily::Other
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ModelFamily::Gemini => "gemini",
            ModelFamily::Claude => "claude",
            ModelFamily::Gpt => "gpt",
            ModelFamily::Other => "other",
        }
    }
}

/// A client request in neutral form.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    /// The model name as the client asked for it (before mapping).
    pub model: String,
    /// System instructions, in order. Each part keeps its own cache breakpoint.
    pub system: Vec<SystemPart>,
    pub messages: Vec<Message>,
    pub tools: Vec<Tool>,
    pub tool_choice: ToolChoice,
    /// `None`: the client did not say.
    pub parallel_tool_calls: Option<bool>,
    pub generation: GenerationParams,
    pub response_format: ResponseFormat,
    /// `None`: the client did not ask; the upstream's default applies.
    pub thinking: Option<ThinkingConfig>,
    pub stream: bool,
    pub meta: RequestMeta,
}

/// One piece of the system instruction.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SystemPart {
    pub text: String,
    pub cache_control: Option<CacheControl>,
}

impl SystemPart {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            cache_control: None,
        }
    }
}

impl Request {
    /// Every media source in the conversation (images, files, images inside tool
    /// results), for a caller that resolves `Url` sources into inline bytes before
    /// encoding for an upstream that cannot fetch them.
    pub fn media_sources_mut(&mut self) -> impl Iterator<Item = &mut MediaSource> {
        self.messages
            .iter_mut()
            .flat_map(|m| m.content.iter_mut())
            .flat_map(|block| {
                let sources: Vec<&mut MediaSource> = match block {
                    ContentBlock::Image { source } | ContentBlock::File { source, .. } => {
                        vec![source]
                    }
                    ContentBlock::ToolResult { content, .. } => content
                        .iter_mut()
                        .filter_map(|c| match c {
                            ToolResultContent::Image(source) => Some(source),
                            ToolResultContent::Text(_) => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                sources
            })
    }

    /// All system parts joined by blank lines, or `None` when there are none.
    pub fn system_text(&self) -> Option<String> {
        if self.system.is_empty() {
            return None;
        }
        let parts: Vec<&str> = self.system.iter().map(|p| p.text.as_str()).collect();
        Some(parts.join("\n\n"))
    }
}

/// Sampling and length parameters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GenerationParams {
    pub max_output_tokens: Option<u32>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub top_k: Option<u32>,
    pub stop_sequences: Vec<String>,
    pub seed: Option<i64>,
    pub presence_penalty: Option<f64>,
    pub frequency_penalty: Option<f64>,
    /// Number of candidates (OpenAI `n`, Gemini `candidateCount`).
    pub candidate_count: Option<u32>,
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq)]
pub enum Tool {
    Function(FunctionTool),
    /// A provider-run web search (Anthropic `web_search_*`, OpenAI `web_search`,
    /// Gemini `googleSearch`).
    WebSearch,
    /// Provider-run code execution (Gemini `codeExecution`).
    CodeExecution,
}

/// A client-defined function.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionTool {
    pub name: String,
    pub description: Option<String>,
    /// The JSON Schema of the arguments, exactly as the client sent it (as text:
    /// most encoders pass it on untouched). Encoders clean it for upstreams that
    /// accept only a subset.
    pub parameters: RawJson,
    pub strict: Option<bool>,
    pub cache_control: Option<CacheControl>,
}

/// How the model must use tools.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ToolChoice {
    #[default]
    Auto,
    None,
    /// The model must call some tool (OpenAI `required`, Anthropic `any`).
    Required,
    /// The model must call this tool.
    Tool(String),
}

/// The shape the answer must take.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ResponseFormat {
    #[default]
    Text,
    JsonObject,
    JsonSchema {
        name: Option<String>,
        schema: Value,
        strict: Option<bool>,
    },
}

/// Whether and how much the model should think.
#[derive(Debug, Clone, PartialEq)]
pub struct ThinkingConfig {
    pub mode: ThinkingMode,
    /// Token budget, when the client gave one.
    pub budget_tokens: Option<u32>,
    /// Effort level, when the client gave one instead of (or beside) a budget.
    pub effort: Option<ReasoningEffort>,
    /// Whether the client wants to see the thoughts (summaries) in the answer.
    pub include_thoughts: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThinkingMode {
    Disabled,
    Enabled,
    /// The model decides how much to think (Anthropic `adaptive`, Gemini dynamic budget).
    Adaptive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasoningEffort {
    None,
    Minimal,
    Low,
    Medium,
    High,
    XHigh,
}

impl ReasoningEffort {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "none" => Self::None,
            "minimal" => Self::Minimal,
            "low" => Self::Low,
            "medium" => Self::Medium,
            "high" => Self::High,
            "xhigh" | "max" => Self::XHigh,
            _ => return None,
        })
    }
}

/// Facts about the request that are not content: who asks, which session.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestMeta {
    /// End-user identifier (OpenAI `user`, Anthropic `metadata.user_id`).
    pub user: Option<String>,
    /// A conversation/session identifier for sticky routing and signature recall.
    pub session_id: Option<String>,
    /// OpenAI `stream_options.include_usage`.
    pub include_usage: bool,
    /// The size of the client's body in bytes (0 when unknown): room to
    /// reserve for the upstream's, which is about as large.
    pub body_len: usize,
}
