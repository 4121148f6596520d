use serde::{Deserialize, Serialize};

use crate::model::ModelPricing;
use crate::tool::ApprovalPolicy;

/// How an agent works towards an answer (the seed's three planning modes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanningMode {
    /// One model call with tools; if it calls tools, one more call (without tools) writes the answer.
    SingleStep,
    /// A first call returns a schema-validated plan; each step runs as its own tool loop; a failed step
    /// triggers a re-plan; a last call writes the answer citing the steps.
    PlanAndExecute,
    /// Model and tools alternate until the model answers or `max_turns` is reached.
    #[default]
    LoopWithLimits,
}

/// Hard limits for one run. `None` means unlimited. When one runs out the run ends with an answer built from
/// what it has and a [`StopReason`](super::StopReason) saying which.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    /// Model calls (including planning and the final answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_model_calls: Option<u32>,
    /// Tool calls actually run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tool_calls: Option<u32>,
    /// Tokens of every kind, see [`Usage::total_tokens`](crate::model::Usage::total_tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_total_tokens: Option<u64>,
    /// US dollars, priced with [`AgentConfig::pricing`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cost_usd: Option<f64>,
    /// Active time in milliseconds (time spent waiting for approval does not count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_wall_clock_ms: Option<u64>,
}

/// Everything that defines how an agent behaves; serialisable so it can be stored and versioned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentConfig {
    /// The system prompt.
    pub system_prompt: String,
    /// Planning mode.
    pub mode: PlanningMode,
    /// Run limits.
    pub budget: Budget,
    /// Which tool calls wait for approval.
    pub approval: ApprovalPolicy,
    /// How many tool calls of one turn run at once.
    pub max_parallel_tool_calls: usize,
    /// Model turns in `loop_with_limits` mode.
    pub max_turns: u32,
    /// Model turns per step in `plan_and_execute` mode.
    pub max_turns_per_step: u32,
    /// Re-plans allowed after failed steps in `plan_and_execute` mode.
    pub max_replans: u32,
    /// Output token limit per model call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Overrides the provider's default model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Prices for cost accounting and cost budgets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pricing: Option<ModelPricing>,
    /// Passages asked of the retriever at the start of a run.
    pub retrieval_top_k: usize,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            system_prompt: String::new(),
            mode: PlanningMode::default(),
            budget: Budget::default(),
            approval: ApprovalPolicy::default(),
            max_parallel_tool_calls: 4,
            max_turns: 12,
            max_turns_per_step: 6,
            max_replans: 1,
            max_output_tokens: Some(4096),
            temperature: None,
            model: None,
            pricing: None,
            retrieval_top_k: 5,
        }
    }
}
