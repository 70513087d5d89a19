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
}
