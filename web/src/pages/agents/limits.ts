/**
 * The documented ranges of an agent's settings (`AgentSettings` in secops-server/openapi.json, enforced by
 * secops-server/src/input/agent.rs). `limits.test.ts` checks every entry against the spec, so they cannot drift.
 */

export interface NumberLimit {
  min: number;
  max: number;
  /** Whole numbers only. */
  integer: boolean;
}

export const SETTINGS_LIMITS = {
  max_parallel_tool_calls: { min: 1, max: 32, integer: true },
  max_turns: { min: 1, max: 100, integer: true },
  max_turns_per_step: { min: 1, max: 50, integer: true },
  max_replans: { min: 0, max: 10, integer: true },
  max_output_tokens: { min: 1, max: 1_000_000, integer: true },
  temperature: { min: 0, max: 2, integer: false },
  retrieval_top_k: { min: 0, max: 50, integer: true },
  "budget.max_model_calls": { min: 1, max: 10_000, integer: true },
  "budget.max_tool_calls": { min: 0, max: 100_000, integer: true },
  "budget.max_total_tokens": { min: 1, max: 1_000_000_000, integer: true },
  "budget.max_cost_usd": { min: 0, max: 100_000, integer: false },
  "budget.max_wall_clock_ms": { min: 1_000, max: 604_800_000, integer: true },
  "pricing.input_per_mtok": { min: 0, max: 10_000, integer: false },
  "pricing.output_per_mtok": { min: 0, max: 10_000, integer: false },
  "pricing.cache_read_per_mtok": { min: 0, max: 10_000, integer: false },
  "pricing.cache_write_per_mtok": { min: 0, max: 10_000, integer: false },
} as const satisfies Record<string, NumberLimit>;

export type NumericField = keyof typeof SETTINGS_LIMITS;

/** String limits. */
export const TEXT_LIMITS = {
  /** `Name`: trimmed, no control characters. */
  name: { min: 1, max: 120 },
  /** `AgentSettings.model`. */
  model: { min: 1, max: 200 },
  /** A tool name in `approval.always` / `approval.never`. */
  toolName: { min: 1, max: 128 },
  /** `approval.always` / `approval.never` entries. */
  approvalList: { max: 256 },
  /** `StartRunRequest.input`, in UTF-8 bytes (secops-server/src/runs/mod.rs). */
  runInput: { min: 1, max: 100_000 },
  /** Rules of one detection trigger (secops-server/src/detections/mod.rs). */
  triggerRules: { max: 500 },
} as const;

export const PLANNING_MODES = ["loop_with_limits", "plan_and_execute", "single_step"] as const;
export const RISK_LEVELS = ["low", "medium", "high"] as const;
export const DETECTION_LEVELS = ["informational", "low", "medium", "high", "critical"] as const;

/** The server's defaults (`AgentSettings::default()`, as the spec documents them). */
export const SETTINGS_DEFAULTS = {
  mode: "loop_with_limits",
  from_risk: "high",
  max_parallel_tool_calls: 4,
  max_turns: 12,
  max_turns_per_step: 6,
  max_replans: 1,
  max_output_tokens: 4096,
  retrieval_top_k: 5,
} as const;
