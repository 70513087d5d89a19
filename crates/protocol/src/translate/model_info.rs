//! Per-model facts the encoders need: output token limits and thinking controls.
//!
//! Sources: the Gemini API thinking guide (ai.google.dev/gemini-api/docs/thinking:
//! Gemini 3 takes `thinkingLevel`, Pro `low|high`, Flash `minimal|low|medium|high`;
//! Gemini 2.5 takes `thinkingBudget`, Pro 128–32768 and cannot turn thinking off,
//! Flash 0–24576, Flash-Lite 512–24576); output limits as Antigravity reports them
//! per model (`lbjlaq/Antigravity-Manager` `mappers/model_limits.rs`: Gemini 3 and
//! 2.5 65535, Claude 64000, GPT-OSS 32768); Anthropic's rule that a thinking budget
//! is at least 1024 and below `max_tokens`.

use crate::ir::ModelFamily;

/// Output limit used for a model that is not in the table.
pub const DEFAULT_MAX_OUTPUT_TOKENS: u32 = 65_535;

/// The most output tokens `model` accepts.
pub fn max_output_tokens(model: &str) -> u32 {
    let m = normalise(model);
    if m.starts_with("gemini-1.") || m.starts_with("gemini-2.0") {
        8_192
    } else if m.starts_with("gemini-3") && m.contains("flash") {
        65_536
    } else if m.starts_with("gemini") {
        65_535
    } else if m.starts_with("claude") {
        64_000
    } else if m.starts_with("gpt-oss") {
        32_768
    } else {
        DEFAULT_MAX_OUTPUT_TOKENS
    }
}

/// The lower-cased model id without a `models/` or provider prefix.
pub fn normalise(model: &str) -> String {
    model
        .rsplit('/')
        .next()
        .unwrap_or(model)
        .to_ascii_lowercase()
}

/// Gemini 3 and later control thinking with `thinkingLevel`.
pub fn is_gemini_3_or_later(model: &str) -> bool {
    let m = normalise(model);
    let Some(version) = m.strip_prefix("gemini-") else {
        return false;
    };
    let major: String = version.chars().take_while(char::is_ascii_digit).collect();
    major.parse::<u32>().is_ok_and(|v| v >= 3)
}

/// How thinking is controlled on a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThinkingControl {
    /// `thinkingLevel`; the levels the model accepts, lowest first.
    Level(&'static [&'static str]),
    /// `thinkingBudget` within `min..=max`; `can_disable`: whether 0 is allowed.
    Budget {
        min: u32,
        max: u32,
        can_disable: bool,
    },
    /// Anthropic-style budget behind the Gemini wire: at least 1024, below the
    /// output limit.
    ClaudeBudget,
}

pub fn thinking_control(model: &str) -> ThinkingControl {
    let m = normalise(model);
    if ModelFamily::of(&m) == ModelFamily::Claude {
        return ThinkingControl::ClaudeBudget;
    }
    if is_gemini_3_or_later(&m) {
        return if m.contains("flash") {
            ThinkingControl::Level(&["minimal", "low", "medium", "high"])
        } else if m.starts_with("gemini-3-pro") {
            ThinkingControl::Level(&["low", "high"])
        } else {
            ThinkingControl::Level(&["low", "medium", "high"])
        };
    }
    if m.contains("flash-lite") {
        ThinkingControl::Budget {
            min: 512,
            max: 24_576,
            can_disable: true,
        }
    } else if m.contains("flash") {
        ThinkingControl::Budget {
            min: 1,
            max: 24_576,
            can_disable: true,
        }
    } else if m.contains("pro") {
        ThinkingControl::Budget {
            min: 128,
            max: 32_768,
            can_disable: false,
        }
    } else {
        ThinkingControl::Budget {
            min: 1,
            max: 24_576,
            can_disable: true,
        }
    }
}

/// The `(major, minor)` version of a Claude model name: `claude-opus-4-6` and
/// `claude-3-7-sonnet-20250219` both name it after `claude-`; a date suffix is not
/// a minor version. `None` for other models or a name without a version.
pub fn claude_version(model: &str) -> Option<(u32, u32)> {
    let m = normalise(model);
    let rest = m.strip_prefix("claude-")?;
    let mut parts = rest.split(['-', '.', '@']);
    let major = parts.find_map(|p| p.parse::<u32>().ok())?;
    let minor = parts
        .next()
        .filter(|p| (1..=2).contains(&p.len()))
        .and_then(|p| p.parse::<u32>().ok())
        .unwrap_or(0);
    Some((major, minor))
}

/// OpenAI's reasoning models (o1, o3, o4, GPT-5 except the `-chat` variants):
/// they take `max_completion_tokens` (a `max_tokens` is refused) and only the
/// default sampling parameters ("Unsupported value: 'temperature' … Only the
/// default (1) value is supported").
pub fn is_openai_reasoning_model(model: &str) -> bool {
    let m = normalise(model);
    let o_series = ["o1", "o3", "o4"]
        .iter()
        .any(|p| m == *p || m.starts_with(&format!("{p}-")));
    o_series || (m.starts_with("gpt-5") && !m.contains("-chat"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_controls_follow_the_model_name() {
        assert_eq!(max_output_tokens("gemini-3-pro-high"), 65_535);
        assert_eq!(max_output_tokens("models/gemini-3-flash"), 65_536);
        assert_eq!(max_output_tokens("claude-sonnet-4-5-thinking"), 64_000);
        assert_eq!(max_output_tokens("gemini-2.0-flash"), 8_192);
        assert_eq!(
            max_output_tokens("something-new"),
            DEFAULT_MAX_OUTPUT_TOKENS
        );
        assert!(is_gemini_3_or_later("gemini-3.1-pro-high"));
        assert!(is_gemini_3_or_later("gemini-10-ultra"));
        assert!(!is_gemini_3_or_later("gemini-2.5-pro"));
        assert_eq!(
            thinking_control("gemini-3-pro-low"),
            ThinkingControl::Level(&["low", "high"])
        );
        assert_eq!(
            thinking_control("gemini-2.5-pro"),
            ThinkingControl::Budget {
                min: 128,
                max: 32_768,
                can_disable: false
            }
        );
        assert_eq!(
            thinking_control("claude-opus-4-5-thinking"),
            ThinkingControl::ClaudeBudget
        );
    }

    #[test]
    fn claude_versions_and_openai_reasoning_models() {
        assert_eq!(claude_version("claude-opus-4-6"), Some((4, 6)));
        assert_eq!(claude_version("claude-sonnet-4-5-20250929"), Some((4, 5)));
        assert_eq!(claude_version("claude-3-7-sonnet-20250219"), Some((3, 7)));
        assert_eq!(claude_version("claude-sonnet-5"), Some((5, 0)));
        assert_eq!(claude_version("anthropic/claude-opus-4.7"), Some((4, 7)));
        assert_eq!(claude_version("claude-opus-4-20250514"), Some((4, 0)));
        assert_eq!(claude_version("glm-4.6"), None);
        assert!(is_openai_reasoning_model("o3-mini"));
        assert!(is_openai_reasoning_model("openai/gpt-5.1"));
        assert!(is_openai_reasoning_model("o1"));
        assert!(!is_openai_reasoning_model("gpt-5-chat-latest"));
        assert!(!is_openai_reasoning_model("gpt-4o"));
        assert!(!is_openai_reasoning_model("o1x"));
    }
}
