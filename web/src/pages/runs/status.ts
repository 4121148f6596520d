/** Run and tool-call statuses: labels and badge tones, shared by the run page and the agent's run history. */

/**
 * A short form of an id for display. Ids are UUIDv7, whose first digits are a timestamp (runs started together
 * share them), so the short form is the random tail.
 */
export function shortId(id: string): string {
  return id.replace(/-/g, "").slice(-8);
}
import type { BadgeTone } from "../../components";
import type { ToolCallStatus } from "./timeline";

export const RUN_STATUSES = ["queued", "running", "awaiting_approval", "finished", "failed", "cancelled"] as const;

const RUN_LABELS: Record<string, string> = {
  queued: "Queued",
  running: "Running",
  awaiting_approval: "Awaiting approval",
  finished: "Finished",
  failed: "Failed",
  cancelled: "Cancelled",
};

const RUN_TONES: Record<string, BadgeTone> = {
  queued: "neutral",
  running: "info",
  awaiting_approval: "warning",
  finished: "success",
  failed: "danger",
  cancelled: "neutral",
};

export function runStatusLabel(status: string): string {
  return RUN_LABELS[status] ?? status.replace(/_/g, " ");
}

export function runStatusTone(status: string): BadgeTone {
  return RUN_TONES[status] ?? "neutral";
}

const TOOL_LABELS: Record<ToolCallStatus, string> = {
  requested: "Requested",
  awaiting_approval: "Awaiting approval",
  running: "Running",
  succeeded: "Succeeded",
  failed: "Failed",
  denied: "Denied",
  cancelled: "Cancelled",
  not_run: "Not run",
};

const TOOL_TONES: Record<ToolCallStatus, BadgeTone> = {
  requested: "neutral",
  awaiting_approval: "warning",
  running: "info",
  succeeded: "success",
  failed: "danger",
  denied: "danger",
  cancelled: "neutral",
  not_run: "neutral",
};

export function toolStatusLabel(s: ToolCallStatus): string {
  return TOOL_LABELS[s];
}

export function toolStatusTone(s: ToolCallStatus): BadgeTone {
  return TOOL_TONES[s];
}

const STOP_REASONS: Record<string, string> = {
  completed: "Completed",
  max_turns: "Turn limit reached",
  model_call_budget: "Model-call budget spent",
  tool_call_budget: "Tool-call budget spent",
  token_budget: "Token budget spent",
  cost_budget: "Cost budget spent",
  wall_clock: "Time budget spent",
  cancelled: "Cancelled",
  step_failed: "A step failed",
  plan_invalid: "The plan was invalid",
  refused: "The model refused",
  output_limit: "Output limit reached",
  context_window_exceeded: "Context window exceeded",
  hook_denied: "Stopped by a policy hook",
  model_error: "Model error",
};

export function stopReasonLabel(reason: string): string {
  return STOP_REASONS[reason] ?? reason.replace(/_/g, " ");
}

const MODES: Record<string, string> = {
  single_step: "Single step",
  plan_and_execute: "Plan and execute",
  loop_with_limits: "Loop with limits",
};

export function modeLabel(mode: string): string {
  return MODES[mode] ?? mode;
}
