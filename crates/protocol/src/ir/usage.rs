//! Token accounting in one convention for every protocol.

/// Token counts. Convention: `input_tokens` counts the whole prompt *including*
/// cached and cache-creation tokens; `output_tokens` counts everything generated
/// *including* reasoning. The breakdowns are subsets. Encoders convert to each
/// wire's convention (Anthropic's `input_tokens` excludes cache reads, Gemini's
/// `candidatesTokenCount` excludes thoughts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Prompt tokens served from a cache.
    pub cached_input_tokens: u64,
    /// Prompt tokens written to a cache (Anthropic).
    pub cache_creation_input_tokens: u64,
    /// Output tokens spent on reasoning.
    pub reasoning_tokens: u64,
}

impl Usage {
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }

    /// Output tokens that are not reasoning (the visible answer).
    pub fn answer_tokens(&self) -> u64 {
        self.output_tokens.saturating_sub(self.reasoning_tokens)
    }

    /// Prompt tokens neither read from nor written to a cache.
    pub fn uncached_input_tokens(&self) -> u64 {
        self.input_tokens
            .saturating_sub(self.cached_input_tokens)
            .saturating_sub(self.cache_creation_input_tokens)
    }

    /// Merge a later report into this one. Providers report cumulative figures,
    /// so a non-zero later value replaces the earlier one.
    pub fn merge(&mut self, later: &Usage) {
        fn take(a: &mut u64, b: u64) {
            if b != 0 {
                *a = b;
            }
        }
        take(&mut self.input_tokens, later.input_tokens);
        take(&mut self.output_tokens, later.output_tokens);
        take(&mut self.cached_input_tokens, later.cached_input_tokens);
        take(
            &mut self.cache_creation_input_tokens,
            later.cache_creation_input_tokens,
        );
        take(&mut self.reasoning_tokens, later.reasoning_tokens);
    }
}
