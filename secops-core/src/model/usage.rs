use std::ops::{Add, AddAssign};

use serde::{Deserialize, Serialize};

/// Token counts of one call or a whole run. Addable.
///
/// `input_tokens` counts input that was neither read from nor written to a prompt cache; providers whose APIs
/// include cached tokens in their input count subtract them, so totals are comparable across providers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Usage {
    /// Uncached input tokens.
    #[serde(default)]
    pub input_tokens: u64,
    /// Output tokens, including reasoning.
    #[serde(default)]
    pub output_tokens: u64,
    /// Input tokens served from the prompt cache.
    #[serde(default)]
    pub cache_read_tokens: u64,
    /// Input tokens written to the prompt cache.
    #[serde(default)]
    pub cache_write_tokens: u64,
    /// Output tokens spent on reasoning (a subset of `output_tokens`).
    #[serde(default)]
    pub reasoning_tokens: u64,
}

impl Usage {
    /// All tokens processed: input of every kind plus output. This is what token budgets count.
    #[must_use]
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens + self.cache_read_tokens + self.cache_write_tokens + self.output_tokens
    }

    /// Field-wise maximum, for merging cumulative counts reported at several points of a stream.
    #[must_use]
    pub fn max(self, other: Usage) -> Usage {
        Usage {
            input_tokens: self.input_tokens.max(other.input_tokens),
            output_tokens: self.output_tokens.max(other.output_tokens),
            cache_read_tokens: self.cache_read_tokens.max(other.cache_read_tokens),
            cache_write_tokens: self.cache_write_tokens.max(other.cache_write_tokens),
            reasoning_tokens: self.reasoning_tokens.max(other.reasoning_tokens),
        }
    }
}

impl Add for Usage {
    type Output = Usage;
    fn add(self, rhs: Usage) -> Usage {
        Usage {
            input_tokens: self.input_tokens + rhs.input_tokens,
            output_tokens: self.output_tokens + rhs.output_tokens,
            cache_read_tokens: self.cache_read_tokens + rhs.cache_read_tokens,
            cache_write_tokens: self.cache_write_tokens + rhs.cache_write_tokens,
            reasoning_tokens: self.reasoning_tokens + rhs.reasoning_tokens,
        }
    }
}

impl AddAssign for Usage {
    fn add_assign(&mut self, rhs: Usage) {
        *self = *self + rhs;
    }
}

/// Prices of one model in US dollars per million tokens, for cost budgets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelPricing {
    /// Per million uncached input tokens.
    pub input_per_mtok: f64,
    /// Per million output tokens.
    pub output_per_mtok: f64,
    /// Per million cache-read tokens.
    #[serde(default)]
    pub cache_read_per_mtok: f64,
    /// Per million cache-write tokens.
    #[serde(default)]
    pub cache_write_per_mtok: f64,
}

impl ModelPricing {
    /// The cost of `usage` in US dollars.
    #[must_use]
    pub fn cost_usd(&self, usage: &Usage) -> f64 {
        // u64 -> f64 is exact below 2^53 tokens, far beyond any real bill.
        #[allow(clippy::cast_precision_loss)]
        let part = |tokens: u64, price: f64| tokens as f64 * price / 1_000_000.0;
        part(usage.input_tokens, self.input_per_mtok)
            + part(usage.output_tokens, self.output_per_mtok)
            + part(usage.cache_read_tokens, self.cache_read_per_mtok)
            + part(usage.cache_write_tokens, self.cache_write_per_mtok)
    }
}

/// Why a model stopped, normalised across providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishKind {
    /// A natural end of the turn (`end_turn`, `stop`).
    Stop,
    /// The model wants tool results (`tool_use`, `tool_calls`, `function_call`).
    ToolUse,
    /// The output token limit was reached (`max_tokens`, `length`).
    Length,
    /// A configured stop sequence matched.
    StopSequence,
    /// Output was withheld by a content filter.
    ContentFilter,
    /// The model declined to answer.
    Refusal,
    /// A long-running turn was paused by the server and may be continued (`pause_turn`).
    PauseTurn,
    /// The input no longer fits the model's context window.
    ContextWindowExceeded,
    /// Something else; see the raw string.
    Other,
}

/// A normalised finish reason that keeps the provider's own string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishReason {
    /// The normalised kind.
    pub kind: FinishKind,
    /// The provider's value, e.g. `end_turn` or `tool_calls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

impl FinishReason {
    /// A reason with no raw string.
    #[must_use]
    pub const fn new(kind: FinishKind) -> Self {
        Self { kind, raw: None }
    }

    /// Maps a provider's raw reason (Anthropic and OpenAI vocabularies) to a kind, keeping the string.
    #[must_use]
    pub fn from_raw(raw: &str) -> Self {
        let kind = match raw {
            "end_turn" | "stop" | "eos" | "" => FinishKind::Stop,
            "tool_use" | "tool_calls" | "function_call" => FinishKind::ToolUse,
            "max_tokens" | "length" | "max_output_tokens" => FinishKind::Length,
            "stop_sequence" => FinishKind::StopSequence,
            "content_filter" | "safety" => FinishKind::ContentFilter,
            "refusal" => FinishKind::Refusal,
            "pause_turn" => FinishKind::PauseTurn,
            "model_context_window_exceeded" | "context_length_exceeded" => FinishKind::ContextWindowExceeded,
            _ => FinishKind::Other,
        };
        Self {
            kind,
            raw: Some(raw.to_owned()),
        }
    }

    /// Reconciles the reason with what the response actually holds: servers that say "stop" while sending tool
    /// calls get `ToolUse` (or the run would end with unanswered calls), and "tool use" with no calls becomes
    /// `Stop` (or the run would loop waiting for calls that never come).
    #[must_use]
    pub fn reconciled(mut self, has_tool_calls: bool) -> Self {
        match (self.kind, has_tool_calls) {
            (FinishKind::Stop | FinishKind::Other, true) => self.kind = FinishKind::ToolUse,
            (FinishKind::ToolUse, false) => self.kind = FinishKind::Stop,
            _ => {}
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_adds_and_totals() {
        let a = Usage {
            input_tokens: 10,
            output_tokens: 5,
            cache_read_tokens: 100,
            ..Usage::default()
        };
        let b = Usage {
            input_tokens: 1,
            output_tokens: 2,
            reasoning_tokens: 1,
            ..Usage::default()
        };
        let mut c = a;
        c += b;
        assert_eq!(c.input_tokens, 11);
        assert_eq!(c.total_tokens(), 11 + 7 + 100);
        assert_eq!(a.max(b).output_tokens, 5);
    }

    #[test]
    fn finish_reasons_normalise_and_reconcile() {
        assert_eq!(FinishReason::from_raw("end_turn").kind, FinishKind::Stop);
        assert_eq!(FinishReason::from_raw("tool_calls").kind, FinishKind::ToolUse);
        assert_eq!(
            FinishReason::from_raw("model_context_window_exceeded").kind,
            FinishKind::ContextWindowExceeded
        );
        let stop_with_calls = FinishReason::from_raw("stop").reconciled(true);
        assert_eq!(stop_with_calls.kind, FinishKind::ToolUse);
        assert_eq!(stop_with_calls.raw.as_deref(), Some("stop"));
        assert_eq!(
            FinishReason::from_raw("tool_use").reconciled(false).kind,
            FinishKind::Stop
        );
        assert_eq!(
            FinishReason::from_raw("max_tokens").reconciled(true).kind,
            FinishKind::Length
        );
    }

    #[test]
    fn pricing_costs_usage() {
        let p = ModelPricing {
            input_per_mtok: 3.0,
            output_per_mtok: 15.0,
            ..ModelPricing::default()
        };
        let u = Usage {
            input_tokens: 1_000_000,
            output_tokens: 100_000,
            ..Usage::default()
        };
        assert!((p.cost_usd(&u) - 4.5).abs() < 1e-9);
    }
}
