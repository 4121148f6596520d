/**
 * The agent form as pure functions: the form's values from an agent (or the defaults), their validation against
 * the documented limits, the request bodies, and which field a 422 problem is about.
 *
 * Numbers are kept as the text typed; empty means "no limit" for nullable settings. The active time budget is
 * edited in seconds and sent in milliseconds. Every setting is sent explicitly (the server refuses unknown keys
 * and fills absent ones with defaults, which would turn a `null` output limit back into 4,096).
 */
import { ApiProblem } from "../../api/problem";
import type { AgentView, Schemas } from "../../api/types";
import { SETTINGS_DEFAULTS, SETTINGS_LIMITS, TEXT_LIMITS, type NumericField } from "./limits";

export type AgentSettings = Schemas["AgentSettings"];

export type RiskThreshold = "low" | "medium" | "high" | "";

export interface AgentFormValues {
  name: string;
  description: string;
  /** Create only (later versions go through the Prompts tab). */
  systemPrompt: string;
  enabled: boolean;
  mode: string;
  model: string;
  tools: string[];
  /** `""`: risk alone never asks. */
  fromRisk: RiskThreshold;
  always: string[];
  never: string[];
  numbers: Record<NumericField, string>;
  /** Whether prices are set (cost accounting and the cost budget need them). */
  pricing: boolean;
}

export type FieldKey = "name" | "systemPrompt" | "model" | "tools" | "approval" | "mode" | NumericField;
export type FormErrors = Partial<Record<FieldKey, string>>;

/** Settings that must have a value (the others may be left empty). */
const REQUIRED: readonly NumericField[] = ["max_parallel_tool_calls", "max_turns", "max_turns_per_step", "max_replans", "retrieval_top_k"];

/** Fields shown in another unit: the active time is edited in seconds. */
export const SCALE: Partial<Record<NumericField, number>> = { "budget.max_wall_clock_ms": 1000 };

function text(n: number | null | undefined, field?: NumericField): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "";
  const scale = (field && SCALE[field]) ?? 1;
  return String(n / scale);
}

const EMPTY_NUMBERS = Object.fromEntries(Object.keys(SETTINGS_LIMITS).map((k) => [k, ""])) as Record<NumericField, string>;

/** The form for a new agent: the server's defaults. */
export function defaultValues(): AgentFormValues {
  return {
    name: "",
    description: "",
    systemPrompt: "",
    enabled: true,
    mode: SETTINGS_DEFAULTS.mode,
    model: "",
    tools: [],
    fromRisk: SETTINGS_DEFAULTS.from_risk,
    always: [],
    never: [],
    numbers: {
      ...EMPTY_NUMBERS,
      max_parallel_tool_calls: String(SETTINGS_DEFAULTS.max_parallel_tool_calls),
      max_turns: String(SETTINGS_DEFAULTS.max_turns),
      max_turns_per_step: String(SETTINGS_DEFAULTS.max_turns_per_step),
      max_replans: String(SETTINGS_DEFAULTS.max_replans),
      max_output_tokens: String(SETTINGS_DEFAULTS.max_output_tokens),
      retrieval_top_k: String(SETTINGS_DEFAULTS.retrieval_top_k),
    },
    pricing: false,
  };
}

/** Settings as the server sends them: optional values may be absent rather than null. */
type LooseSettings = Partial<Omit<AgentSettings, "budget" | "approval">> & {
  budget?: Partial<AgentSettings["budget"]>;
  approval?: Partial<AgentSettings["approval"]>;
};

function risk(v: string | null | undefined): RiskThreshold {
  return v === "low" || v === "medium" || v === "high" ? v : "";
}

/** The form for an existing agent. */
export function valuesFromAgent(agent: AgentView): AgentFormValues {
  const c = agent.config as LooseSettings;
  const b = c.budget ?? {};
  const p = c.pricing ?? null;
  const d = defaultValues();
  const approval = c.approval ?? {};
  return {
    name: agent.name,
    description: agent.description,
    systemPrompt: "",
    enabled: agent.enabled,
    mode: c.mode ?? d.mode,
    model: c.model ?? agent.model ?? "",
    tools: [...agent.tools],
    // An absent `from_risk` is the default; `null` means "never by risk".
    fromRisk: approval.from_risk === undefined ? d.fromRisk : risk(approval.from_risk),
    always: [...(approval.always ?? [])],
    never: [...(approval.never ?? [])],
    numbers: {
      max_parallel_tool_calls: text(c.max_parallel_tool_calls ?? SETTINGS_DEFAULTS.max_parallel_tool_calls),
      max_turns: text(c.max_turns ?? SETTINGS_DEFAULTS.max_turns),
      max_turns_per_step: text(c.max_turns_per_step ?? SETTINGS_DEFAULTS.max_turns_per_step),
      max_replans: text(c.max_replans ?? SETTINGS_DEFAULTS.max_replans),
      // Absent in a response means `None` (the provider decides).
      max_output_tokens: text(c.max_output_tokens),
      temperature: text(c.temperature),
      retrieval_top_k: text(c.retrieval_top_k ?? SETTINGS_DEFAULTS.retrieval_top_k),
      "budget.max_model_calls": text(b.max_model_calls),
      "budget.max_tool_calls": text(b.max_tool_calls),
      "budget.max_total_tokens": text(b.max_total_tokens),
      "budget.max_cost_usd": text(b.max_cost_usd),
      "budget.max_wall_clock_ms": text(b.max_wall_clock_ms, "budget.max_wall_clock_ms"),
      "pricing.input_per_mtok": text(p?.input_per_mtok),
      "pricing.output_per_mtok": text(p?.output_per_mtok),
      "pricing.cache_read_per_mtok": text(p?.cache_read_per_mtok),
      "pricing.cache_write_per_mtok": text(p?.cache_write_per_mtok),
    },
    pricing: p !== null,
  };
}

/** The value of a numeric field in the API's unit, `null` when empty, `NaN` when not a number. */
export function numberOf(values: AgentFormValues, field: NumericField): number | null {
  const t = values.numbers[field].trim();
  if (t === "") return null;
  // `Number("1e3")` is fine; `Number("1,000")` is NaN, which validation reports.
  const n = Number(t);
  if (!Number.isFinite(n)) return Number.NaN;
  const scale = SCALE[field] ?? 1;
  return scale === 1 ? n : Math.round(n * scale);
}

function isPricing(field: NumericField): boolean {
  return field.startsWith("pricing.");
}

/** Control characters (the spec's `[\u0000-\u001F\u007F-\u009F]`), which names and models must not hold. */
export function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/** Length in Unicode scalar values, as the server counts (`chars().count()`). */
export function charCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is one character.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

export function validate(values: AgentFormValues, opts: { create: boolean }): FormErrors {
  const errors: FormErrors = {};
  const name = values.name.trim();
  if (name.length < TEXT_LIMITS.name.min) errors.name = "Enter a name.";
  else if (charCount(name) > TEXT_LIMITS.name.max) errors.name = `At most ${TEXT_LIMITS.name.max} characters.`;
  else if (hasControl(name)) errors.name = "No control characters.";

  if (opts.create && values.systemPrompt.trim() === "") errors.systemPrompt = "Enter the system prompt.";

  const model = values.model.trim();
  if (model !== "" && charCount(model) > TEXT_LIMITS.model.max) errors.model = `At most ${TEXT_LIMITS.model.max} characters.`;
  else if (hasControl(model)) errors.model = "No control characters.";

  if (values.always.length > TEXT_LIMITS.approvalList.max || values.never.length > TEXT_LIMITS.approvalList.max) {
    errors.approval = `At most ${TEXT_LIMITS.approvalList.max} tools per approval list.`;
  }

  for (const [field, limit] of Object.entries(SETTINGS_LIMITS) as [NumericField, (typeof SETTINGS_LIMITS)[NumericField]][]) {
    if (isPricing(field) && !values.pricing) continue;
    const n = numberOf(values, field);
    const scale = SCALE[field] ?? 1;
    const [min, max] = [limit.min / scale, limit.max / scale];
    const required =
      REQUIRED.includes(field) || (values.pricing && (field === "pricing.input_per_mtok" || field === "pricing.output_per_mtok"));
    if (n === null) {
      if (required) errors[field] = "Required.";
      continue;
    }
    if (Number.isNaN(n)) errors[field] = "Enter a number.";
    else if (limit.integer && scale === 1 && !Number.isInteger(n)) errors[field] = "Enter a whole number.";
    else if (n < limit.min || n > limit.max) errors[field] = `From ${min.toLocaleString()} to ${max.toLocaleString()}.`;
  }
  return errors;
}

function num(values: AgentFormValues, field: NumericField): number | null {
  const n = numberOf(values, field);
  return n === null || Number.isNaN(n) ? null : n;
}

function req(values: AgentFormValues, field: NumericField, fallback: number): number {
  return num(values, field) ?? fallback;
}

/** The settings to send (every key, explicitly). Call after {@link validate} passed. */
export function toSettings(values: AgentFormValues): AgentSettings {
  const selected = new Set(values.tools);
  return {
    mode: values.mode,
    model: values.model.trim() === "" ? null : values.model.trim(),
    approval: {
      from_risk: values.fromRisk === "" ? null : values.fromRisk,
      // Only tools the agent has: an override for a removed tool means nothing.
      always: values.always.filter((t) => selected.has(t)),
      never: values.never.filter((t) => selected.has(t)),
    },
    budget: {
      max_model_calls: num(values, "budget.max_model_calls"),
      max_tool_calls: num(values, "budget.max_tool_calls"),
      max_total_tokens: num(values, "budget.max_total_tokens"),
      max_cost_usd: num(values, "budget.max_cost_usd"),
      max_wall_clock_ms: num(values, "budget.max_wall_clock_ms"),
    },
    max_parallel_tool_calls: req(values, "max_parallel_tool_calls", SETTINGS_DEFAULTS.max_parallel_tool_calls),
    max_turns: req(values, "max_turns", SETTINGS_DEFAULTS.max_turns),
    max_turns_per_step: req(values, "max_turns_per_step", SETTINGS_DEFAULTS.max_turns_per_step),
    max_replans: req(values, "max_replans", SETTINGS_DEFAULTS.max_replans),
    max_output_tokens: num(values, "max_output_tokens"),
    temperature: num(values, "temperature"),
    retrieval_top_k: req(values, "retrieval_top_k", SETTINGS_DEFAULTS.retrieval_top_k),
    pricing: values.pricing
      ? {
          input_per_mtok: req(values, "pricing.input_per_mtok", 0),
          output_per_mtok: req(values, "pricing.output_per_mtok", 0),
          cache_read_per_mtok: req(values, "pricing.cache_read_per_mtok", 0),
          cache_write_per_mtok: req(values, "pricing.cache_write_per_mtok", 0),
        }
      : null,
  };
}

export function toCreateRequest(values: AgentFormValues): Schemas["CreateAgentRequest"] {
  return {
    name: values.name.trim(),
    description: values.description.trim(),
    system_prompt: values.systemPrompt,
    enabled: values.enabled,
    tools: [...values.tools],
    config: toSettings(values),
  };
}

export function toUpdateRequest(values: AgentFormValues, version: number): Schemas["UpdateAgentRequest"] {
  return {
    version,
    name: values.name.trim(),
    description: values.description.trim(),
    enabled: values.enabled,
    tools: [...values.tools],
    config: toSettings(values),
  };
}

const FIELD_KEYS = new Set<string>(["model", "mode", ...Object.keys(SETTINGS_LIMITS)]);

/** The form field a problem is about (to show it there), or null for a form-level problem. */
export function problemField(e: unknown): FieldKey | null {
  if (!(e instanceof ApiProblem)) return null;
  if (e.code === "already_exists") return "name";
  if (e.code === "unknown_tool") return "tools";
  const m = /\bconfig\.([a-z_]+(?:\.[a-z_]+)?)/.exec(e.detail);
  const path = m?.[1];
  if (path !== undefined) {
    if (FIELD_KEYS.has(path)) return path as FieldKey;
    if (path.startsWith("approval")) return "approval";
  }
  if (e.status === 422 && /^name\b|\bname:/.test(e.detail)) return "name";
  return null;
}

/** Sets one tool's approval override: `default` (by risk), `always` or `never`. */
export function setOverride(values: AgentFormValues, tool: string, o: "default" | "always" | "never"): AgentFormValues {
  const always = values.always.filter((t) => t !== tool);
  const never = values.never.filter((t) => t !== tool);
  if (o === "always") always.push(tool);
  if (o === "never") never.push(tool);
  return { ...values, always, never };
}

export function overrideOf(values: AgentFormValues, tool: string): "default" | "always" | "never" {
  if (values.always.includes(tool)) return "always";
  if (values.never.includes(tool)) return "never";
  return "default";
}

/** Adds or removes a tool; removing also drops its approval override. */
export function toggleTool(values: AgentFormValues, tool: string, on: boolean): AgentFormValues {
  if (on) return values.tools.includes(tool) ? values : { ...values, tools: [...values.tools, tool] };
  return setOverride({ ...values, tools: values.tools.filter((t) => t !== tool) }, tool, "default");
}
