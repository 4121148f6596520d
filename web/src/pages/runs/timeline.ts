/**
 * The run timeline: a pure fold of a run's events (ascending `seq`, see `eventLog.ts`) into display items.
 *
 * The executor (secops-core `run/executor`) emits, per model turn:
 * `model_call_started` → `text_delta`/`reasoning_delta`… → `usage` → `tool_call_requested`… →
 * (`awaiting_approval` → pause → `approval_resolved`…) → `tool_result`…, wrapped in `step_started` /
 * `step_finished` in `plan_and_execute` mode, and ends with one of `finished`, `failed` or `cancelled`.
 *
 * - A model call lasts from its `model_call_started` to its `usage` (or, when the call failed, to the next
 *   event that is not a delta). Its tokens are the `usage` event's `call`; its cost is the difference between
 *   that event's cumulative `cost_usd` and the previous one's.
 * - Tool calls are paired by id: `tool_call_requested` (the arguments), `awaiting_approval` (the exact
 *   arguments shown to the approver), `approval_resolved` (the decision) and `tool_result` (the result, its
 *   outcome and the tool's own `duration_ms`).
 *
 * Every item carries `rev`, the `seq` of the last event that changed it, so rows can skip re-rendering.
 * Kinds this console does not know are skipped.
 */
import type { RunEvent, RunOutput, ToolOutcome, Usage } from "../../api/runEvents";

export type ToolCallStatus =
  /** The model asked; not run yet. */
  | "requested"
  | "awaiting_approval"
  /** Approved (or edited); the result is not in yet. */
  | "running"
  | "succeeded"
  | "failed"
  | "denied"
  | "cancelled"
  /** Never ran (answered synthetically, or the run ended first). */
  | "not_run";

export type RunPhase = "running" | "awaiting_approval" | "finished" | "failed" | "cancelled";

interface ItemBase {
  /** Stable React key. */
  key: string;
  /** `seq` of the event that created the item. */
  seq: number;
  /** `seq` of the last event that changed it. */
  rev: number;
  /** Epoch ms of the creating event. */
  at: number;
  /** The plan step the item happened in (`plan_and_execute`), else null. */
  step: number | null;
}

export interface PlanStepView {
  number: number;
  title: string;
  status: "pending" | "running" | "completed" | "failed" | "replaced";
}

export interface StartItem extends ItemBase {
  kind: "start";
  mode: string;
}

export interface ContextItem extends ItemBase {
  kind: "context";
  passages: number | null;
  error: string | null;
}

export interface PlanItem extends ItemBase {
  kind: "plan";
  steps: PlanStepView[];
  replanned: boolean;
}

export interface StepItem extends ItemBase {
  kind: "step";
  number: number;
  title: string;
  status: "running" | "completed" | "failed" | "interrupted";
  result: string | null;
  endedAt: number | null;
  durationMs: number | null;
}

export interface ModelCallItem extends ItemBase {
  kind: "model_call";
  /** The run's model-call count, from 1. */
  call: number;
  status: "running" | "done" | "failed";
  endedAt: number | null;
  durationMs: number | null;
  text: string;
  reasoning: string;
  /** Tokens of this call. */
  usage: Usage | null;
  /** Cost of this call in US dollars (null until its `usage` arrives). */
  costUsd: number | null;
}

export interface ApprovalInfo {
  /** When the run began to wait. */
  requestedAt: number;
  /** `approve`, `deny` or `edit`, once decided (as the run records it on resuming). */
  decision: string | null;
  decidedAt: number | null;
  /** How long the call waited for the decision. */
  waitMs: number | null;
}

export interface ToolResultInfo {
  content: string;
  isError: boolean;
  outcome: ToolOutcome;
  /** How long the tool itself ran (the server's measure). */
  durationMs: number;
  at: number;
}

export interface ToolCallItem extends ItemBase {
  kind: "tool_call";
  id: string;
  tool: string;
  input: unknown;
  status: ToolCallStatus;
  approval: ApprovalInfo | null;
  result: ToolResultInfo | null;
  /** Request to result, waiting for approval included. */
  elapsedMs: number | null;
  /** The model call that asked for it. */
  modelCall: number | null;
}

export interface MemoryItem extends ItemBase {
  kind: "memory";
  windowStart: number;
  summarised: boolean;
}

export interface EndItem extends ItemBase {
  kind: "end";
  status: "finished" | "failed" | "cancelled";
  output: RunOutput;
  error: string | null;
}

export type TimelineItem =
  | StartItem
  | ContextItem
  | PlanItem
  | StepItem
  | ModelCallItem
  | ToolCallItem
  | MemoryItem
  | EndItem;

export interface TimelineSummary {
  /** What the events say about the run (null: no events yet). */
  phase: RunPhase | null;
  startedAt: number | null;
  endedAt: number | null;
  modelCalls: number;
  toolCalls: number;
  /** The run's tokens so far (the last `usage` event's `total`). */
  usage: Usage | null;
  /** The run's cost so far (the last `usage` event's `cost_usd`). */
  costUsd: number | null;
  /** Calls that wait for a decision. */
  awaiting: ToolCallItem[];
  output: RunOutput | null;
  error: string | null;
  lastSeq: number;
}

export interface Timeline {
  items: TimelineItem[];
  summary: TimelineSummary;
}

function span(from: number, to: number): number {
  return Math.max(0, to - from);
}

function outcomeStatus(outcome: ToolOutcome, isError: boolean): ToolCallStatus {
  switch (outcome) {
    case "success":
      return isError ? "failed" : "succeeded";
    case "denied":
      return "denied";
    case "cancelled":
      return "cancelled";
    case "not_run":
      return "not_run";
    default:
      return "failed";
  }
}

/** Tool statuses after which nothing more is expected. */
const SETTLED: readonly ToolCallStatus[] = ["succeeded", "failed", "denied", "cancelled", "not_run"];

export function isSettled(status: ToolCallStatus): boolean {
  return SETTLED.includes(status);
}

export function buildTimeline(events: readonly RunEvent[]): Timeline {
  const items: TimelineItem[] = [];
  const tools = new Map<string, ToolCallItem>();
  const steps = new Map<number, StepItem>();
  const planSteps = new Map<number, { view: PlanStepView; plan: PlanItem }>();
  const plans: PlanItem[] = [];
  let model: ModelCallItem | null = null;
  let step: number | null = null;
  let lastCost = 0;
  let started = false;
  const summary: TimelineSummary = {
    phase: null,
    startedAt: null,
    endedAt: null,
    modelCalls: 0,
    toolCalls: 0,
    usage: null,
    costUsd: null,
    awaiting: [],
    output: null,
    error: null,
    lastSeq: 0,
  };

  const base = (e: RunEvent, key: string): ItemBase => ({ key, seq: e.seq, rev: e.seq, at: e.at_ms, step });

  /** A model call still open when something else happens ended without usage: it failed. */
  const closeModel = (e: RunEvent, status: "failed" | "done") => {
    if (model?.status !== "running") return;
    model.status = status;
    model.endedAt = e.at_ms;
    model.durationMs = span(model.at, e.at_ms);
    model.rev = e.seq;
  };

  const toolFor = (e: RunEvent, id: string, tool: string, input: unknown): ToolCallItem => {
    let t = tools.get(id);
    if (!t) {
      t = {
        ...base(e, `tool:${id}`),
        kind: "tool_call",
        id,
        tool,
        input,
        status: "requested",
        approval: null,
        result: null,
        elapsedMs: null,
        modelCall: model?.call ?? null,
      };
      tools.set(id, t);
      items.push(t);
      summary.toolCalls++;
    }
    return t;
  };

  const setPlanStep = (number: number, status: PlanStepView["status"], seq: number) => {
    const p = planSteps.get(number);
    if (!p) return;
    p.view.status = status;
    p.plan.rev = seq;
  };

  for (const e of events) {
    summary.lastSeq = Math.max(summary.lastSeq, e.seq);
    switch (e.type) {
      case "run_started":
        if (started) break;
        started = true;
        summary.startedAt = e.at_ms;
        items.push({ ...base(e, `start:${e.seq}`), kind: "start", mode: e.mode });
        break;
      case "context_retrieved":
        items.push({ ...base(e, `context:${e.seq}`), kind: "context", passages: e.passages, error: null });
        break;
      case "retrieval_failed":
        items.push({ ...base(e, `context:${e.seq}`), kind: "context", passages: null, error: e.error });
        break;
      case "plan_created": {
        closeModel(e, "done");
        if (e.replanned) {
          for (const old of plans) {
            for (const s of old.steps) {
              if (s.status === "pending") {
                s.status = "replaced";
                old.rev = e.seq;
              }
            }
          }
        }
        const plan: PlanItem = {
          ...base(e, `plan:${e.seq}`),
          kind: "plan",
          replanned: e.replanned,
          steps: e.steps.map((title, i) => ({ number: e.first_number + i, title, status: "pending" })),
        };
        for (const s of plan.steps) planSteps.set(s.number, { view: s, plan });
        plans.push(plan);
        items.push(plan);
        break;
      }
      case "step_started": {
        closeModel(e, "done");
        step = null;
        const s: StepItem = {
          ...base(e, `step:${e.number}:${e.seq}`),
          kind: "step",
          number: e.number,
          title: e.title,
          status: "running",
          result: null,
          endedAt: null,
          durationMs: null,
        };
        steps.set(e.number, s);
        items.push(s);
        setPlanStep(e.number, "running", e.seq);
        step = e.number;
        break;
      }
      case "step_finished": {
        closeModel(e, "done");
        const s = steps.get(e.number);
        if (s) {
          s.status = e.status;
          s.result = e.result;
          s.endedAt = e.at_ms;
          s.durationMs = span(s.at, e.at_ms);
          s.rev = e.seq;
        }
        setPlanStep(e.number, e.status, e.seq);
        step = null;
        break;
      }
      case "model_call_started": {
        closeModel(e, "failed");
        summary.modelCalls++;
        model = {
          ...base(e, `model:${e.call}:${e.seq}`),
          kind: "model_call",
          call: e.call,
          status: "running",
          endedAt: null,
          durationMs: null,
          text: "",
          reasoning: "",
          usage: null,
          costUsd: null,
        };
        items.push(model);
        break;
      }
      case "text_delta":
      case "reasoning_delta":
        if (model) {
          if (e.type === "text_delta") model.text += e.text;
          else model.reasoning += e.text;
          model.rev = e.seq;
        }
        break;
      case "usage": {
        summary.usage = e.total;
        summary.costUsd = e.cost_usd;
        if (model?.usage === null) {
          model.usage = e.call;
          model.costUsd = Math.max(0, e.cost_usd - lastCost);
          if (model.status === "running") {
            model.status = "done";
            model.endedAt = e.at_ms;
            model.durationMs = span(model.at, e.at_ms);
          }
          model.rev = e.seq;
        }
        lastCost = e.cost_usd;
        break;
      }
      case "tool_call_requested": {
        closeModel(e, "done");
        const t = toolFor(e, e.call.id, e.call.name, e.call.input);
        t.rev = e.seq;
        break;
      }
      case "awaiting_approval":
        closeModel(e, "done");
        for (const c of e.calls) {
          const t = toolFor(e, c.call_id, c.tool, c.input);
          t.input = c.input;
          t.status = "awaiting_approval";
          t.approval = { requestedAt: e.at_ms, decision: null, decidedAt: null, waitMs: null };
          t.rev = e.seq;
        }
        break;
      case "approval_resolved": {
        const t = tools.get(e.call_id);
        if (!t) break;
        const requestedAt = t.approval?.requestedAt ?? t.at;
        t.approval = { requestedAt, decision: e.decision, decidedAt: e.at_ms, waitMs: span(requestedAt, e.at_ms) };
        if (!isSettled(t.status)) t.status = e.decision === "deny" ? "denied" : "running";
        t.rev = e.seq;
        break;
      }
      case "tool_result": {
        const x = e.execution;
        const t = toolFor(e, x.call_id, x.tool, null);
        t.result = {
          content: x.content,
          isError: x.is_error,
          outcome: x.outcome,
          durationMs: x.duration_ms,
          at: e.at_ms,
        };
        t.status = outcomeStatus(x.outcome, x.is_error);
        t.elapsedMs = span(t.at, e.at_ms);
        t.rev = e.seq;
        break;
      }
      case "memory_compacted":
        items.push({
          ...base(e, `memory:${e.seq}`),
          kind: "memory",
          windowStart: e.window_start,
          summarised: e.summarised,
        });
        break;
      case "finished":
      case "failed":
      case "cancelled": {
        closeModel(e, e.type === "finished" ? "done" : "failed");
        for (const t of tools.values()) {
          if (!isSettled(t.status)) {
            t.status = e.type === "cancelled" ? "cancelled" : "not_run";
            t.rev = e.seq;
          }
        }
        for (const s of steps.values()) {
          if (s.status === "running") {
            s.status = "interrupted";
            s.endedAt = e.at_ms;
            s.durationMs = span(s.at, e.at_ms);
            s.rev = e.seq;
          }
        }
        step = null;
        const error = e.type === "failed" ? e.error : null;
        items.push({ ...base(e, `end:${e.seq}`), kind: "end", status: e.type, output: e.output, error });
        summary.phase = e.type;
        summary.endedAt = e.at_ms;
        summary.output = e.output;
        summary.error = error;
        break;
      }
      default:
        // A kind this console does not know yet.
        break;
    }
  }

  summary.awaiting = [...tools.values()].filter((t) => t.status === "awaiting_approval");
  if (summary.phase === null && events.length > 0) {
    summary.phase = summary.awaiting.length > 0 ? "awaiting_approval" : "running";
  }
  return { items, summary };
}

/** All tokens of a usage record (input of every kind plus output), as token budgets count them. */
export function totalTokens(u: Usage | null | undefined): number {
  if (!u) return 0;
  return u.input_tokens + u.cache_read_tokens + u.cache_write_tokens + u.output_tokens;
}
