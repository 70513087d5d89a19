//! The models the gateway offers to clients. Until quota data from the pool
//! says what each account serves, this is the Cloud Code catalogue.

/// A model a client may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelInfo {
    pub id: &'static str,
    pub display_name: &'static str,
    pub owned_by: &'static str,
    pub input_limit: u64,
    pub output_limit: u64,
}

const fn m(
    id: &'static str,
    display_name: &'static str,
    owned_by: &'static str,
    output_limit: u64,
) -> ModelInfo {
    ModelInfo {
        id,
        display_name,
        owned_by,
        input_limit: 1_048_576,
        output_limit,
    }
}

/// The Cloud Code catalogue.
pub const CATALOG: &[ModelInfo] = &[
    m(
        "gemini-3-pro-preview",
        "Gemini 3 Pro (preview)",
        "google",
        65_535,
    ),
    m("gemini-3-flash", "Gemini 3 Flash", "google", 65_536),
    m("gemini-2.5-pro", "Gemini 2.5 Pro", "google", 65_535),
    m("gemini-2.5-flash", "Gemini 2.5 Flash", "google", 65_535),
    m(
        "gemini-2.5-flash-lite",
        "Gemini 2.5 Flash Lite",
        "google",
        65_535,
    ),
    m(
        "claude-sonnet-4-5",
        "Claude Sonnet 4.5",
        "anthropic",
        64_000,
    ),
    m(
        "claude-sonnet-4-5-thinking",
        "Claude Sonnet 4.5 (thinking)",
        "anthropic",
        64_000,
    ),
    m(
        "claude-opus-4-5-thinking",
        "Claude Opus 4.5 (thinking)",
        "anthropic",
        64_000,
    ),
    m("gpt-oss-120b-medium", "GPT-OSS 120B", "openai", 32_768),
];

pub fn find(id: &str) -> Option<&'static ModelInfo> {
    let id = id.trim_start_matches("models/");
    CATALOG.iter().find(|m| m.id == id)
}
