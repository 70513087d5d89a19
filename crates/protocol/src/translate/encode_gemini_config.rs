//! IR generation, thinking and tool settings → Gemini `generationConfig`,
//! `tools` and `toolConfig`.
//!
//! Thinking, per model (see [`super::model_info`]):
//! - Gemini 3: `thinkingLevel` only, with `includeThoughts`. Never a budget: on
//!   Cloud Code a positive `thinkingBudget` suppresses the thought summaries of
//!   Gemini 3 (probed by the sub2api project, PR #6972), and the API rejects a
//!   level together with a budget. Effort maps to the nearest level the model
//!   accepts; a budget maps to a level; otherwise the `-low`/`-high` suffix of an
//!   Antigravity model name, else `high` (the documented default).
//! - Gemini 2.5: `thinkingBudget` clamped to the model's range (`-1` = dynamic).
//! - Claude behind Cloud Code: `thinkingBudget` ≥ 1024 and `maxOutputTokens` kept
//!   above it; temperature and top-k dropped and top-p kept only ≥ 0.95, as
//!   Anthropic requires with thinking. `*-thinking` models think by default.
//!   When the last model turn is a tool call without a signed thinking block
//!   (thinking was dropped or never present) thinking is turned off for the
//!   request, as Anthropic rejects such a turn with thinking enabled.

use serde_json::json;

use super::model_info::{ThinkingControl, max_output_tokens, normalise, thinking_control};
use super::schema::{clean_schema, clean_schema_raw};
use crate::gemini::{
    Content, FunctionCallingConfig, FunctionCallingMode, FunctionDeclaration, GeminiThinkingConfig,
    GeminiTool, GenerationConfig, ToolConfig,
};
use crate::ir::{
    ModelFamily, ReasoningEffort, Request, ResponseFormat, ThinkingConfig, ThinkingMode, Tool,
    ToolChoice,
};
use crate::json::RawJson;

/// Gemini accepts at most this many stop sequences.
const MAX_STOP_SEQUENCES: usize = 5;
/// Anthropic's smallest thinking budget.
pub(crate) const CLAUDE_MIN_BUDGET: u32 = 1024;
/// Budget for a Claude model asked to think without a size.
pub(crate) const CLAUDE_DEFAULT_BUDGET: u32 = 16_384;
/// Room left for the answer above the thinking budget.
pub(crate) const ANSWER_HEADROOM: u32 = 8_192;

pub(crate) fn generation_config(
    req: &Request,
    model: &str,
    thinking_allowed: bool,
    has_functions: bool,
) -> Option<GenerationConfig> {
    let p = &req.generation;
    let limit = max_output_tokens(model);
    let mut g = GenerationConfig {
        temperature: p.temperature,
        top_p: p.top_p,
        top_k: p.top_k,
        candidate_count: p.candidate_count.filter(|&n| n > 1),
        max_output_tokens: p.max_output_tokens.map(|m| m.clamp(1, limit)),
        stop_sequences: p
            .stop_sequences
            .iter()
            .filter(|s| !s.is_empty())
            .take(MAX_STOP_SEQUENCES)
            .cloned()
            .collect(),
        seed: p
            .seed
            .map(|s| s.clamp(i64::from(i32::MIN), i64::from(i32::MAX))),
        presence_penalty: p.presence_penalty,
        frequency_penalty: p.frequency_penalty,
        ..GenerationConfig::default()
    };

    // Function calling with a JSON response MIME type is refused before Gemini 3.
    let json_allowed = !has_functions || super::model_info::is_gemini_3_or_later(model);
    if json_allowed {
        match &req.response_format {
            ResponseFormat::Text => {}
            ResponseFormat::JsonObject => g.response_mime_type = Some("application/json".into()),
            ResponseFormat::JsonSchema { schema, .. } => {
                g.response_mime_type = Some("application/json".into());
                g.response_schema = Some(clean_schema(schema));
            }
        }
    }

    if thinking_allowed {
        g.thinking_config = thinking(req.thinking.as_ref(), model, &mut g, limit);
    }
    (g != GenerationConfig::default()).then_some(g)
}

fn thinking(
    config: Option<&ThinkingConfig>,
    model: &str,
    g: &mut GenerationConfig,
    limit: u32,
) -> Option<GeminiThinkingConfig> {
    match thinking_control(model) {
        ThinkingControl::Level(levels) => {
            let c = config?;
            let (level, include) = match c.mode {
                ThinkingMode::Disabled => (levels.first().copied().unwrap_or("low"), false),
                ThinkingMode::Enabled | ThinkingMode::Adaptive => {
                    let wanted = c
                        .effort
                        .map(effort_level)
                        .or_else(|| c.budget_tokens.map(budget_level))
                        .or_else(|| suffix_level(model))
                        .unwrap_or("high");
                    (nearest_level(levels, wanted), c.include_thoughts)
                }
            };
            Some(GeminiThinkingConfig {
                include_thoughts: Some(include),
                thinking_level: Some(level.to_owned()),
                ..GeminiThinkingConfig::default()
            })
        }
        ThinkingControl::Budget {
            min,
            max,
            can_disable,
        } => {
            let c = config?;
            let off = if can_disable { 0 } else { i64::from(min) };
            let budget: i64 = match c.mode {
                ThinkingMode::Disabled => off,
                ThinkingMode::Enabled | ThinkingMode::Adaptive => {
                    match c.budget_tokens.or_else(|| c.effort.and_then(effort_budget)) {
                        Some(0) => off,
                        Some(b) => i64::from(b.clamp(min, max)),
                        None if c.effort == Some(ReasoningEffort::None) => off,
                        None => -1,
                    }
                }
            };
            Some(GeminiThinkingConfig {
                include_thoughts: Some(c.mode != ThinkingMode::Disabled && c.include_thoughts),
                thinking_budget: Some(budget),
                ..GeminiThinkingConfig::default()
            })
        }
        ThinkingControl::ClaudeBudget => {
            let (budget, include) = match config {
                Some(c) if c.mode == ThinkingMode::Disabled => return None,
                Some(c) if c.effort == Some(ReasoningEffort::None) && c.budget_tokens.is_none() => {
                    return None;
                }
                Some(c) => (
                    c.budget_tokens
                        .or_else(|| c.effort.and_then(effort_budget))
                        .unwrap_or(CLAUDE_DEFAULT_BUDGET),
                    c.include_thoughts,
                ),
                None if normalise(model).contains("thinking") => (CLAUDE_DEFAULT_BUDGET, true),
                None => return None,
            };
            let budget = budget.clamp(
                CLAUDE_MIN_BUDGET,
                limit
                    .saturating_sub(CLAUDE_MIN_BUDGET)
                    .max(CLAUDE_MIN_BUDGET),
            );
            let max = match g.max_output_tokens {
                Some(m) if m > budget => m,
                Some(_) => budget.saturating_add(ANSWER_HEADROOM).min(limit),
                None => limit,
            };
            g.max_output_tokens = Some(max.max(budget.saturating_add(1)));
            // Anthropic: with thinking, temperature must be 1 and top-k unset;
            // top-p between 0.95 and 1.
            g.temperature = None;
            g.top_k = None;
            g.top_p = g.top_p.filter(|&p| p >= 0.95);
            Some(GeminiThinkingConfig {
                include_thoughts: Some(include),
                thinking_budget: Some(i64::from(budget)),
                ..GeminiThinkingConfig::default()
            })
        }
    }
}

pub(crate) fn effort_budget(effort: ReasoningEffort) -> Option<u32> {
    Some(match effort {
        ReasoningEffort::None => return None,
        ReasoningEffort::Minimal => 512,
        ReasoningEffort::Low => 1_024,
        ReasoningEffort::Medium => 8_192,
        ReasoningEffort::High => 24_576,
        ReasoningEffort::XHigh => 32_768,
    })
}

fn effort_level(effort: ReasoningEffort) -> &'static str {
    match effort {
        ReasoningEffort::None | ReasoningEffort::Minimal => "minimal",
        ReasoningEffort::Low => "low",
        ReasoningEffort::Medium => "medium",
        ReasoningEffort::High | ReasoningEffort::XHigh => "high",
    }
}

pub(crate) fn budget_level(budget: u32) -> &'static str {
    match budget {
        0 => "minimal",
        1..=2_048 => "low",
        2_049..=16_384 => "medium",
        _ => "high",
    }
}

fn suffix_level(model: &str) -> Option<&'static str> {
    let m = normalise(model);
    ["minimal", "low", "medium", "high"]
        .into_iter()
        .find(|level| m.ends_with(&format!("-{level}")))
}

/// The wanted level if the model accepts it, else the next higher one it does,
/// else its highest.
fn nearest_level(levels: &[&'static str], wanted: &str) -> &'static str {
    const ORDER: [&str; 4] = ["minimal", "low", "medium", "high"];
    let rank = |l: &str| ORDER.iter().position(|o| *o == l).unwrap_or(ORDER.len());
    let want = rank(wanted);
    levels
        .iter()
        .copied()
        .find(|l| rank(l) >= want)
        .or_else(|| levels.last().copied())
        .unwrap_or("high")
}

pub(crate) fn tools(req: &Request, family: ModelFamily) -> Vec<GeminiTool<'_>> {
    let mut out = Vec::new();
    let mut declarations = Vec::new();
    for tool in &req.tools {
        match tool {
            Tool::Function(f) => {
                let cleaned = clean_schema_raw(&f.parameters);
                let parameters = if cleaned.has_properties {
                    Some(cleaned.schema)
                } else if family == ModelFamily::Claude {
                    // Anthropic needs an input schema; Gemini rejects an object
                    // schema without properties, so it gets none.
                    Some(RawJson::empty_object_schema())
                } else {
                    None
                };
                declarations.push(FunctionDeclaration {
                    name: f.name.as_str().into(),
                    description: f.description.as_deref().map(Into::into),
                    parameters,
                    ..FunctionDeclaration::default()
                });
            }
            Tool::WebSearch => out.push(GeminiTool {
                google_search: Some(json!({})),
                ..GeminiTool::default()
            }),
            Tool::CodeExecution => out.push(GeminiTool {
                code_execution: Some(json!({})),
                ..GeminiTool::default()
            }),
        }
    }
    if !declarations.is_empty() {
        out.insert(
            0,
            GeminiTool {
                function_declarations: declarations,
                ..GeminiTool::default()
            },
        );
    }
    out
}

pub(crate) fn tool_config(choice: &ToolChoice) -> Option<ToolConfig> {
    let (mode, names) = match choice {
        ToolChoice::Auto => return None,
        ToolChoice::None => (FunctionCallingMode::None, Vec::new()),
        ToolChoice::Required => (FunctionCallingMode::Any, Vec::new()),
        ToolChoice::Tool(name) => (FunctionCallingMode::Any, vec![name.clone()]),
    };
    Some(ToolConfig {
        function_calling_config: Some(FunctionCallingConfig {
            mode: Some(mode),
            allowed_function_names: names,
        }),
        retrieval_config: None,
    })
}

/// Whether the request is in the middle of a tool loop whose last model turn has
/// no signed thinking first — which Anthropic refuses while thinking is on.
pub(crate) fn claude_turn_breaks_thinking(contents: &[Content<'_>]) -> bool {
    let Some(last) = contents.last() else {
        return false;
    };
    let answering_calls = last.role.as_deref() == Some("user")
        && last.parts.iter().any(|p| p.function_response.is_some());
    if !answering_calls {
        return false;
    }
    let Some(model_turn) = contents
        .iter()
        .rev()
        .find(|c| c.role.as_deref() == Some("model"))
    else {
        return false;
    };
    !model_turn
        .parts
        .first()
        .is_some_and(|p| p.is_thought() && p.thought_signature.is_some())
}
