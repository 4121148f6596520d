//! An agent's settings as the API takes and shows them: the runtime's [`AgentConfig`] without its prompt (prompts
//! are versioned on their own), with a documented range for every number and unknown keys refused at every level.
//!
//! The ranges are written once, in the schema attributes; [`AgentSettings::into_config`] checks the same numbers,
//! and a test walks the schema to prove that each bound is accepted and each value past it refused.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use secops_core::model::ModelPricing;
use secops_core::run::{AgentConfig, Budget, PlanningMode};
use secops_core::tool::{ApprovalPolicy, RiskLevel};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;

/// Planning mode, budgets, approval policy and the other settings of an agent. Absent fields take their
/// defaults; unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AgentSettings {
    /// `single_step`, `plan_and_execute` or `loop_with_limits` (default).
    #[schema(value_type = String, pattern = "^(single_step|plan_and_execute|loop_with_limits)$")]
    pub mode: PlanningMode,
    /// Hard limits for one run.
    pub budget: BudgetSettings,
    /// Which tool calls wait for a person.
    pub approval: ApprovalSettings,
    /// Tool calls of one turn run at once (1 to 32, default 4).
    #[schema(minimum = 1, maximum = 32)]
    pub max_parallel_tool_calls: u32,
    /// Model turns in `loop_with_limits` mode (1 to 100, default 12).
    #[schema(minimum = 1, maximum = 100)]
    pub max_turns: u32,
    /// Model turns per step in `plan_and_execute` mode (1 to 50, default 6).
    #[schema(minimum = 1, maximum = 50)]
    pub max_turns_per_step: u32,
    /// Re-plans allowed after failed steps in `plan_and_execute` mode (0 to 10, default 1).
    #[schema(minimum = 0, maximum = 10)]
    pub max_replans: u32,
    /// Output token limit per model call (1 to 1,000,000; default 4,096; `null` leaves it to the provider).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub max_output_tokens: Option<u32>,
    /// Sampling temperature (0 to 2; the provider's default when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 2)]
    pub temperature: Option<f64>,
    /// Overrides the provider's default model (at most 200 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub model: Option<String>,
    /// Prices for cost accounting and cost budgets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pricing: Option<PricingSettings>,
    /// Passages asked of the retriever at the start of a run (0 to 50, default 5).
    #[schema(minimum = 0, maximum = 50)]
    pub retrieval_top_k: u32,
}

/// Hard limits for one run; an absent limit is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetSettings {
    /// Model calls, planning and the final answer included (1 to 10,000).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 10_000)]
    pub max_model_calls: Option<u32>,
    /// Tool calls actually run (0 to 100,000).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 100_000)]
    pub max_tool_calls: Option<u32>,
    /// Tokens of every kind (1 to 1,000,000,000).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub max_total_tokens: Option<u64>,
    /// US dollars, priced with `pricing` (0 to 100,000).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 100_000)]
    pub max_cost_usd: Option<f64>,
    /// Active time in milliseconds, waiting for approval excluded (1,000 to 604,800,000: one second to a week).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1_000, maximum = 604_800_000)]
    pub max_wall_clock_ms: Option<u64>,
}

/// Which tool calls wait for approval: a tool in `never` runs without, one in `always` waits, any other waits
/// when its risk is at least `from_risk`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApprovalSettings {
    /// `low`, `medium` or `high` (default); `null`: risk alone never asks.
    #[schema(value_type = Option<String>, pattern = "^(low|medium|high)$")]
    pub from_risk: Option<RiskLevel>,
    /// Tools that always wait (at most 256 names of 1 to 128 characters).
    #[schema(max_items = 256, value_type = Vec<String>)]
    pub always: BTreeSet<String>,
    /// Tools that never wait (at most 256 names of 1 to 128 characters).
    #[schema(max_items = 256, value_type = Vec<String>)]
    pub never: BTreeSet<String>,
}

impl Default for ApprovalSettings {
    fn default() -> Self {
        ApprovalPolicy::default().into()
    }
}

/// Prices of one model in US dollars per million tokens (each 0 to 10,000).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PricingSettings {
    /// Uncached input tokens.
    #[schema(minimum = 0, maximum = 10_000)]
    pub input_per_mtok: f64,
    /// Output tokens.
    #[schema(minimum = 0, maximum = 10_000)]
    pub output_per_mtok: f64,
    /// Cache-read tokens.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10_000)]
    pub cache_read_per_mtok: f64,
    /// Cache-write tokens.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10_000)]
    pub cache_write_per_mtok: f64,
}

impl Default for AgentSettings {
    fn default() -> Self {
        AgentConfig::default().into()
    }
}

impl From<AgentConfig> for AgentSettings {
    fn from(c: AgentConfig) -> Self {
        // Destructured in full so a field added to the runtime's configuration fails to compile here until the
        // API decides what to do with it.
        let AgentConfig {
            system_prompt: _,
            mode,
            budget,
            approval,
            max_parallel_tool_calls,
            max_turns,
            max_turns_per_step,
            max_replans,
            max_output_tokens,
            temperature,
            model,
            pricing,
            retrieval_top_k,
        } = c;
        Self {
            mode,
            budget: budget.into(),
            approval: approval.into(),
            max_parallel_tool_calls: u32::try_from(max_parallel_tool_calls).unwrap_or(u32::MAX),
            max_turns,
            max_turns_per_step,
            max_replans,
            max_output_tokens,
            temperature: temperature.map(f64::from),
            model,
            pricing: pricing.map(Into::into),
            retrieval_top_k: u32::try_from(retrieval_top_k).unwrap_or(u32::MAX),
        }
    }
}

impl From<Budget> for BudgetSettings {
    fn from(b: Budget) -> Self {
        let Budget {
            max_model_calls,
            max_tool_calls,
            max_total_tokens,
            max_cost_usd,
            max_wall_clock_ms,
        } = b;
        Self {
            max_model_calls,
            max_tool_calls,
            max_total_tokens,
            max_cost_usd,
            max_wall_clock_ms,
        }
    }
}

impl From<ApprovalPolicy> for ApprovalSettings {
    fn from(a: ApprovalPolicy) -> Self {
        let ApprovalPolicy {
            from_risk,
            always,
            never,
        } = a;
        Self {
            from_risk,
            always,
            never,
        }
    }
}

impl From<ModelPricing> for PricingSettings {
    fn from(p: ModelPricing) -> Self {
        let ModelPricing {
            input_per_mtok,
            output_per_mtok,
            cache_read_per_mtok,
            cache_write_per_mtok,
        } = p;
        Self {
            input_per_mtok,
            output_per_mtok,
            cache_read_per_mtok,
            cache_write_per_mtok,
        }
    }
}

fn out_of_range(field: &str, rule: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
        format!("config.{field} must be {rule}"),
    )
}

fn int<T: Into<u64> + Copy>(field: &str, v: T, min: u64, max: u64) -> Result<(), ApiError> {
    let v: u64 = v.into();
    if (min..=max).contains(&v) {
        Ok(())
    } else {
        Err(out_of_range(field, &format!("{min} to {max} (got {v})")))
    }
}

fn real(field: &str, v: f64, min: f64, max: f64) -> Result<(), ApiError> {
    if v.is_finite() && (min..=max).contains(&v) {
        Ok(())
    } else {
        Err(out_of_range(field, &format!("{min} to {max}")))
    }
}

fn tool_names(field: &str, names: &BTreeSet<String>) -> Result<(), ApiError> {
    if names.len() > 256 {
        return Err(out_of_range(field, "at most 256 tool names"));
    }
    if names
        .iter()
        .any(|n| n.is_empty() || n.chars().count() > 128 || n.chars().any(char::is_control))
    {
        return Err(out_of_range(
            field,
            "tool names of 1 to 128 characters without control characters",
        ));
    }
    Ok(())
}

impl AgentSettings {
    /// The runtime configuration, once every value is within its documented range.
    ///
    /// # Errors
    /// 422 `out_of_range`, naming the first field that is not.
    pub fn into_config(self) -> Result<AgentConfig, ApiError> {
        int("max_parallel_tool_calls", self.max_parallel_tool_calls, 1, 32)?;
        int("max_turns", self.max_turns, 1, 100)?;
        int("max_turns_per_step", self.max_turns_per_step, 1, 50)?;
        int("max_replans", self.max_replans, 0, 10)?;
        if let Some(v) = self.max_output_tokens {
            int("max_output_tokens", v, 1, 1_000_000)?;
        }
        if let Some(v) = self.temperature {
            real("temperature", v, 0.0, 2.0)?;
        }
        if let Some(m) = &self.model
            && (m.is_empty() || m.chars().count() > 200 || m.chars().any(char::is_control))
        {
            return Err(out_of_range(
                "model",
                "1 to 200 characters without control characters",
            ));
        }
        int("retrieval_top_k", self.retrieval_top_k, 0, 50)?;
        let b = self.budget;
        if let Some(v) = b.max_model_calls {
            int("budget.max_model_calls", v, 1, 10_000)?;
        }
        if let Some(v) = b.max_tool_calls {
            int("budget.max_tool_calls", v, 0, 100_000)?;
        }
        if let Some(v) = b.max_total_tokens {
            int("budget.max_total_tokens", v, 1, 1_000_000_000)?;
        }
        if let Some(v) = b.max_cost_usd {
            real("budget.max_cost_usd", v, 0.0, 100_000.0)?;
        }
        if let Some(v) = b.max_wall_clock_ms {
            int("budget.max_wall_clock_ms", v, 1_000, 604_800_000)?;
        }
        if let Some(p) = &self.pricing {
            for (field, v) in [
                ("pricing.input_per_mtok", p.input_per_mtok),
                ("pricing.output_per_mtok", p.output_per_mtok),
                ("pricing.cache_read_per_mtok", p.cache_read_per_mtok),
                ("pricing.cache_write_per_mtok", p.cache_write_per_mtok),
            ] {
                real(field, v, 0.0, 10_000.0)?;
            }
        }
        tool_names("approval.always", &self.approval.always)?;
        tool_names("approval.never", &self.approval.never)?;
        // The float conversions are exact for every value in range (temperature is at most 2).
        #[allow(clippy::cast_possible_truncation)]
        let temperature = self.temperature.map(|t| t as f32);
        Ok(AgentConfig {
            system_prompt: String::new(),
            mode: self.mode,
            budget: Budget {
                max_model_calls: b.max_model_calls,
                max_tool_calls: b.max_tool_calls,
                max_total_tokens: b.max_total_tokens,
                max_cost_usd: b.max_cost_usd,
                max_wall_clock_ms: b.max_wall_clock_ms,
            },
            approval: ApprovalPolicy {
                from_risk: self.approval.from_risk,
                always: self.approval.always,
                never: self.approval.never,
            },
            max_parallel_tool_calls: self.max_parallel_tool_calls as usize,
            max_turns: self.max_turns,
            max_turns_per_step: self.max_turns_per_step,
            max_replans: self.max_replans,
            max_output_tokens: self.max_output_tokens,
            temperature,
            model: self.model,
            pricing: self.pricing.map(|p| ModelPricing {
                input_per_mtok: p.input_per_mtok,
                output_per_mtok: p.output_per_mtok,
                cache_read_per_mtok: p.cache_read_per_mtok,
                cache_write_per_mtok: p.cache_write_per_mtok,
            }),
            retrieval_top_k: self.retrieval_top_k as usize,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use utoipa::PartialSchema;

    use super::*;

    /// Every numeric property of `schema` (following `$ref`s into `components`) with its JSON path and bounds.
    fn numeric_bounds(schema: &Value, components: &Value, path: &str, out: &mut Vec<(String, f64, f64)>) {
        let schema = match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => &components[r.trim_start_matches("#/components/schemas/")],
            None => schema,
        };
        if let (Some(min), Some(max)) = (schema.get("minimum"), schema.get("maximum")) {
            out.push((
                path.to_owned(),
                min.as_f64().unwrap_or(f64::NAN),
                max.as_f64().unwrap_or(f64::NAN),
            ));
        }
        for variant in schema
            .get("oneOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            numeric_bounds(variant, components, path, out);
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                numeric_bounds(v, components, &p, out);
            }
        }
    }

    /// A number as JSON: integral values as integers, which the integer fields require.
    fn number(v: f64) -> Value {
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            #[allow(clippy::cast_possible_truncation)]
            let i = v as i64;
            json!(i)
        } else {
            json!(v)
        }
    }

    fn with(path: &str, value: Value) -> Value {
        let mut body = json!({});
        if path.starts_with("pricing.") {
            body["pricing"] = json!({"input_per_mtok": 1, "output_per_mtok": 1});
        }
        let mut at = &mut body;
        let parts: Vec<&str> = path.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            if i + 1 == parts.len() {
                at[*part] = value.clone();
            } else {
                if at.get(*part).is_none() {
                    at[*part] = json!({});
                }
                at = &mut at[*part];
            }
        }
        body
    }

    fn accepted(body: &Value) -> bool {
        serde_json::from_value::<AgentSettings>(body.clone())
            .map_err(|e| e.to_string())
            .and_then(|s| s.into_config().map_err(|e| e.detail))
            .is_ok()
    }

    #[test]
    fn every_bound_in_the_schema_is_the_one_enforced() {
        let components = json!({
            "BudgetSettings": serde_json::to_value(BudgetSettings::schema()).unwrap_or_default(),
            "ApprovalSettings": serde_json::to_value(ApprovalSettings::schema()).unwrap_or_default(),
            "PricingSettings": serde_json::to_value(PricingSettings::schema()).unwrap_or_default(),
        });
        let schema = serde_json::to_value(AgentSettings::schema()).unwrap_or_default();
        let mut bounds = Vec::new();
        numeric_bounds(&schema, &components, "", &mut bounds);
        assert!(bounds.len() >= 16, "every number has a range: {bounds:?}");
        for (path, min, max) in bounds {
            assert!(accepted(&with(&path, number(min))), "{path} = {min} is in range");
            assert!(accepted(&with(&path, number(max))), "{path} = {max} is in range");
            assert!(
                !accepted(&with(&path, number(max + 1.0))),
                "{path} = {max} + 1 is refused"
            );
            assert!(
                !accepted(&with(&path, number(min - 1.0))),
                "{path} = {min} - 1 is refused"
            );
        }
    }

    #[test]
    fn unknown_keys_are_refused_at_every_level() {
        for body in [
            json!({"max_paralel_tool_calls": 2}),
            json!({"budget": {"max_turns": 2}}),
            json!({"approval": {"alwys": ["x"]}}),
            json!({"pricing": {"input_per_mtok": 1, "output_per_mtok": 1, "per_call": 1}}),
        ] {
            assert!(
                serde_json::from_value::<AgentSettings>(body.clone()).is_err(),
                "{body}"
            );
        }
    }

    #[test]
    fn settings_round_trip_the_runtime_configuration() {
        let config = AgentConfig::default();
        let settings = AgentSettings::from(config.clone());
        assert_eq!(settings.clone().into_config().ok(), Some(config));
        assert_eq!(AgentSettings::default(), settings);
    }
}
