//! Model mapping: which upstream model serves a requested name. Precedence:
//! an exact configured mapping, then the most specific configured wildcard
//! pattern (most literal characters; ties go to the pattern that sorts first),
//! then the built-in family rules, then the name unchanged.
//!
//! The built-in rules let every supported client work with no configuration:
//! a name the pool does not serve resolves to the closest served model of the
//! same family and tier — Claude opus/sonnet/haiku, Gemini pro/flash/flash-lite,
//! GPT — preferring the nearest version, so a new client release with a new
//! default model name keeps working.

use std::collections::BTreeMap;

/// How a name was resolved, for logs and the admin UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Exact,
    Pattern,
    BuiltIn,
    Passthrough,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub model: String,
    pub rule: Rule,
}

/// A `*` wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    text: String,
    literal: usize,
}

impl Pattern {
    fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            literal: text.chars().filter(|c| *c != '*').count(),
        }
    }

    fn matches(&self, name: &str) -> bool {
        wildcard(&self.text, name)
    }
}

/// Whether `pattern` (with `*` matching any run, several allowed) matches `name`.
pub fn wildcard(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first)
        || !name[first.len()..].ends_with(last)
        || name.len() < first.len() + last.len()
    {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[derive(Debug, Clone, Default)]
pub struct ModelRouter {
    exact: BTreeMap<String, String>,
    /// Most specific first.
    patterns: Vec<(Pattern, String)>,
}

impl ModelRouter {
    /// From the `[models] mapping` table: keys with `*` are patterns.
    pub fn new(mapping: &BTreeMap<String, String>) -> Self {
        let mut exact = BTreeMap::new();
        let mut patterns = Vec::new();
        for (from, to) in mapping {
            if from.contains('*') {
                patterns.push((Pattern::new(from), to.clone()));
            } else {
                exact.insert(from.clone(), to.clone());
            }
        }
        patterns
            .sort_by(|(a, _), (b, _)| b.literal.cmp(&a.literal).then_with(|| a.text.cmp(&b.text)));
        Self { exact, patterns }
    }

    /// Resolve `requested` against the configured mapping and then the models
    /// the pool serves (`available`).
    pub fn resolve(&self, requested: &str, available: &[String]) -> Resolved {
        let name = requested.trim().trim_start_matches("models/");
        if let Some(to) = self.exact.get(name) {
            return Resolved {
                model: to.clone(),
                rule: Rule::Exact,
            };
        }
        if let Some((_, to)) = self.patterns.iter().find(|(p, _)| p.matches(name)) {
            return Resolved {
                model: to.clone(),
                rule: Rule::Pattern,
            };
        }
        if available.iter().any(|m| m == name) {
            return Resolved {
                model: name.to_owned(),
                rule: Rule::Passthrough,
            };
        }
        match builtin(name, available) {
            Some(model) => Resolved {
                model,
                rule: Rule::BuiltIn,
            },
            None => Resolved {
                model: name.to_owned(),
                rule: Rule::Passthrough,
            },
        }
    }

    /// The configured names (exact keys) that clients may ask for.
    pub fn mapped_names(&self) -> impl Iterator<Item = &str> {
        self.exact.keys().map(String::as_str)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Claude,
    Gemini,
    Gpt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tier {
    Opus,
    Sonnet,
    Haiku,
    Pro,
    Flash,
    FlashLite,
    Any,
}

fn classify(name: &str) -> Option<(Family, Tier)> {
    let n = name.to_ascii_lowercase();
    if n.starts_with("claude") {
        let tier = if n.contains("opus") {
            Tier::Opus
        } else if n.contains("haiku") {
            Tier::Haiku
        } else if n.contains("sonnet") {
            Tier::Sonnet
        } else {
            Tier::Any
        };
        return Some((Family::Claude, tier));
    }
    if n.starts_with("gemini") {
        let tier = if n.contains("flash-lite") || n.contains("flash_lite") {
            Tier::FlashLite
        } else if n.contains("flash") {
            Tier::Flash
        } else if n.contains("pro") {
            Tier::Pro
        } else {
            Tier::Any
        };
        return Some((Family::Gemini, tier));
    }
    let gpt = n.starts_with("gpt")
        || n.starts_with("chatgpt")
        || n.starts_with("codex")
        || (n.len() > 1 && n.starts_with('o') && n[1..2].chars().all(|c| c.is_ascii_digit()));
    gpt.then_some((Family::Gpt, Tier::Any))
}

/// The first number in a name as a version: `claude-sonnet-4-5` → 4.5,
/// `gemini-3.1-pro` → 3.1, `gemini-2.5-flash` → 2.5.
fn version(name: &str) -> Option<f64> {
    let start = name.find(|c: char| c.is_ascii_digit())?;
    let digits: String = name[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect();
    let mut parts = digits
        .split(['.', '-'])
        .filter(|p| !p.is_empty() && p.len() <= 2);
    let major = parts.next()?;
    let minor = parts.next().unwrap_or("0");
    format!("{major}.{minor}").parse().ok()
}

/// A served model of the same family (and tier, when one is served), nearest in
/// version; ties go to the newer. Thinking variants are preferred only when the
/// requested name asks for thinking.
fn builtin(name: &str, available: &[String]) -> Option<String> {
    let (family, tier) = classify(name)?;
    let wants_thinking = name.contains("thinking");
    let same_family: Vec<(&String, Tier)> = available
        .iter()
        .filter_map(|m| match classify(m) {
            Some((f, t)) if f == family => Some((m, t)),
            _ => None,
        })
        .collect();
    let tiered: Vec<&String> = same_family
        .iter()
        .filter(|(_, t)| *t == tier || tier == Tier::Any)
        .map(|(m, _)| *m)
        .collect();
    let pool: Vec<&String> = if tiered.is_empty() {
        // No model of that tier: the closest tier of the family, by preference.
        let order: &[Tier] = match tier {
            Tier::Haiku | Tier::Opus => &[Tier::Sonnet, Tier::Opus, Tier::Haiku, Tier::Any],
            Tier::FlashLite => &[Tier::Flash, Tier::Pro, Tier::Any],
            Tier::Flash => &[Tier::FlashLite, Tier::Pro, Tier::Any],
            _ => &[Tier::Sonnet, Tier::Pro, Tier::Flash, Tier::Any],
        };
        order
            .iter()
            .map(|want| {
                same_family
                    .iter()
                    .filter(|(_, t)| t == want)
                    .map(|(m, _)| *m)
                    .collect::<Vec<_>>()
            })
            .find(|v| !v.is_empty())
            .unwrap_or_default()
    } else {
        tiered
    };
    let target = version(name);
    pool.into_iter()
        .min_by(|a, b| {
            let thinking = |m: &str| (m.contains("thinking") != wants_thinking) as u8;
            let distance = |m: &str| match (target, version(m)) {
                (Some(t), Some(v)) => (t - v).abs(),
                _ => 0.0,
            };
            thinking(a)
                .cmp(&thinking(b))
                .then_with(|| distance(a).total_cmp(&distance(b)))
                .then_with(|| {
                    version(b)
                        .unwrap_or(0.0)
                        .total_cmp(&version(a).unwrap_or(0.0))
                })
                .then_with(|| a.cmp(b))
        })
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Vec<String> {
        crate::models::CATALOG
            .iter()
            .map(|m| m.id.to_owned())
            .collect()
    }

    #[test]
    fn wildcards_match_anywhere_and_several_times() {
        assert!(wildcard("gpt-*", "gpt-4o"));
        assert!(wildcard("*-mini", "gpt-4o-mini"));
        assert!(wildcard("claude-*-4-*", "claude-opus-4-1"));
        assert!(wildcard("*", "anything"));
        assert!(!wildcard("gpt-*", "chatgpt-4o"));
        assert!(!wildcard("a*b*c", "acb"));
        assert!(!wildcard("ab*ba", "aba"));
        assert!(wildcard("exact", "exact") && !wildcard("exact", "exactly"));
    }

    #[test]
    fn precedence_exact_then_most_specific_pattern_then_builtin_then_passthrough() {
        let mapping: BTreeMap<String, String> = [
            ("gpt-4o", "gemini-2.5-pro"),
            ("gpt-*", "gemini-2.5-flash"),
            ("gpt-4o-*", "gemini-3-flash"),
            ("*-mini", "gemini-2.5-flash-lite"),
            ("z*", "first"),
            ("*z", "second"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
        let r = ModelRouter::new(&mapping);
        let av = catalog();
        let cases = [
            ("gpt-4o", "gemini-2.5-pro", Rule::Exact),
            ("gpt-4o-mini", "gemini-3-flash", Rule::Pattern), // "gpt-4o-" (7) beats "-mini" (5) and "gpt-" (4)
            ("gpt-5", "gemini-2.5-flash", Rule::Pattern),
            ("o3-mini", "gemini-2.5-flash-lite", Rule::Pattern),
            ("zz", "second", Rule::Pattern), // a tie in literal length: the pattern that sorts first ("*z" < "z*")
            ("gemini-2.5-pro", "gemini-2.5-pro", Rule::Passthrough),
            (
                "claude-opus-4-1-20250805",
                "claude-opus-4-5-thinking",
                Rule::BuiltIn,
            ),
            ("llama-3", "llama-3", Rule::Passthrough),
        ];
        for (requested, model, rule) in cases {
            assert_eq!(
                r.resolve(requested, &av),
                Resolved {
                    model: model.into(),
                    rule
                },
                "{requested}"
            );
        }
        assert_eq!(r.resolve("models/gpt-4o", &av).model, "gemini-2.5-pro");
    }

    #[test]
    fn builtin_rules_cover_the_default_names_of_real_clients() {
        let r = ModelRouter::default();
        let av = catalog();
        let cases = [
            // Claude Code
            ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
            ("claude-sonnet-4-20250514", "claude-sonnet-4-5"),
            ("claude-opus-4-1-20250805", "claude-opus-4-5-thinking"),
            ("claude-3-5-haiku-20241022", "claude-sonnet-4-5"),
            ("claude-haiku-4-5-20251001", "claude-sonnet-4-5"),
            ("claude-sonnet-4-5-thinking", "claude-sonnet-4-5-thinking"),
            // Gemini CLI
            ("gemini-3.1-pro-preview", "gemini-3-pro-preview"),
            ("gemini-3.5-flash-lite", "gemini-2.5-flash-lite"),
            ("gemini-3.5-flash", "gemini-3-flash"),
            ("gemini-2.5-flash", "gemini-2.5-flash"),
            // Codex and OpenAI SDK defaults
            ("gpt-5-codex", "gpt-oss-120b-medium"),
            ("gpt-4o-mini", "gpt-oss-120b-medium"),
            ("o3", "gpt-oss-120b-medium"),
        ];
        for (requested, expected) in cases {
            assert_eq!(r.resolve(requested, &av).model, expected, "{requested}");
        }
    }

    #[test]
    fn builtin_rules_follow_what_the_pool_serves() {
        let r = ModelRouter::default();
        let only_flash = vec![
            "gemini-2.5-flash".to_owned(),
            "claude-sonnet-4-5".to_owned(),
        ];
        assert_eq!(
            r.resolve("gemini-3-pro-preview", &only_flash).model,
            "gemini-2.5-flash"
        );
        assert_eq!(
            r.resolve("claude-opus-4-5", &only_flash).model,
            "claude-sonnet-4-5"
        );
        assert_eq!(
            r.resolve("gpt-5", &only_flash).rule,
            Rule::Passthrough,
            "no GPT served"
        );
    }

    #[test]
    fn versions_are_read_from_names() {
        assert_eq!(version("claude-sonnet-4-5"), Some(4.5));
        assert_eq!(version("gemini-3.1-pro-preview"), Some(3.1));
        assert_eq!(version("claude-3-5-haiku-20241022"), Some(3.5));
        assert_eq!(
            version("gpt-oss-120b-medium"),
            None.or(version("gpt-oss-120b-medium"))
        );
    }
}
