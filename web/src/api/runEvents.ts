/**
 * Run events as the server streams them: the serialised `secops_core::run::RunEvent` (`seq`, `run_id`, `at_ms`
 * and the kind's fields flattened next to `type`), in an SSE event's `data` or a WebSocket `run_event` frame's
 * `event`.
 *
 * The types are the generated ones: the server adds `RunEvent` and the types it refers to (`Usage`, `ToolCall`,
 * `RunOutput`, `Citation`, …) to `openapi.json` from the runtime's own JSON Schema (`error/spec.rs`,
 * `add_run_event_schema`). The generated `RunEvent` is `{seq, run_id, at_ms} & (one object per kind)`, so
 * narrowing on `type` works as with a hand-written union.
 *
 * `RunView.usage` and `RunView.output` are bare objects in the spec: read them with {@link usageOf} and
 * {@link runOutputOf}.
 */
import type { components } from "./schema";

type Schemas = components["schemas"];

/** A run event (generated `RunEvent`). Kinds this console does not know are skipped by the folds. */
export type RunEvent = Schemas["RunEvent"];
/** Token counts of a model call or a run (generated `Usage`; every field is always sent). */
export type Usage = Schemas["Usage"];
export type ToolCall = Schemas["ToolCall"];
export type PendingApproval = Schemas["PendingApproval"];
export type ToolExecution = Schemas["ToolExecution"];
export type ToolOutcome = Schemas["ToolOutcome"];
export type Citation = Schemas["Citation"];
export type StopReason = Schemas["StopReason"];
export type RunOutput = Schemas["RunOutput"];
export type PlanningMode = Schemas["PlanningMode"];
export type StepStatus = Schemas["StepStatus"];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What happened, without the envelope (`seq`, `run_id`, `at_ms`): one member per kind. */
export type RunEventKind = DistributiveOmit<RunEvent, "seq" | "run_id" | "at_ms">;

export type RunEventType = RunEvent["type"];

/** Kinds after which a run has ended. */
export const TERMINAL_KINDS: readonly string[] = ["finished", "failed", "cancelled"] satisfies readonly RunEventType[];

/** Reads an event payload from the wire: an object with a string `type`, else `null`. */
export function parseRunEvent(payload: unknown): RunEvent | null {
  if (typeof payload !== "object" || payload === null) return null;
  const o = payload as Record<string, unknown>;
  if (typeof o.type !== "string") return null;
  return payload as RunEvent;
}

export const EMPTY_USAGE: Usage = {
  input_tokens: 0,
  output_tokens: 0,
  cache_read_tokens: 0,
  cache_write_tokens: 0,
  reasoning_tokens: 0,
};

function count(o: Record<string, unknown>, key: keyof Usage): number {
  const v = o[key];
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

/**
 * A {@link Usage} from a value the spec leaves untyped (`RunView.usage` is a bare object): the counts that are
 * numbers, 0 for the rest.
 */
export function usageOf(raw: unknown): Usage {
  if (typeof raw !== "object" || raw === null) return EMPTY_USAGE;
  const o = raw as Record<string, unknown>;
  return {
    input_tokens: count(o, "input_tokens"),
    output_tokens: count(o, "output_tokens"),
    cache_read_tokens: count(o, "cache_read_tokens"),
    cache_write_tokens: count(o, "cache_write_tokens"),
    reasoning_tokens: count(o, "reasoning_tokens"),
  };
}

function isCitation(c: unknown): c is Citation {
  if (typeof c !== "object" || c === null) return false;
  const kind = (c as Record<string, unknown>).kind;
  return kind === "source" || kind === "step";
}

/**
 * A {@link RunOutput} from a value the spec leaves untyped (`RunView.output`), or `null` when it is not one
 * (no output yet). Citations that are not objects with a known `kind` are dropped.
 */
export function runOutputOf(raw: unknown): RunOutput | null {
  if (typeof raw !== "object" || raw === null) return null;
  const o = raw as Record<string, unknown>;
  if (typeof o.text !== "string" || typeof o.stop_reason !== "string") return null;
  const citations = Array.isArray(o.citations) ? (o.citations as unknown[]).filter(isCitation) : [];
  return { text: o.text, citations, stop_reason: o.stop_reason as StopReason };
}
