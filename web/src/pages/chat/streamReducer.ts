/**
 * The chat's stream reducer: a pure `(state, action) → state` over the run events of the chat's turns.
 *
 * ## Ordering: strict `seq` order with a reorder buffer
 *
 * A run's events carry `seq`, starting at 1 and increasing by exactly one per event across pauses and
 * resumes (secops-core `RunEvent`). Each turn records `lastSeq`, the highest sequence number applied with no
 * gap before it. An incoming event with
 *
 * - `seq <= lastSeq` (or already buffered) is a duplicate — typically a replay after a resume — and is
 *   ignored, so text is never doubled;
 * - `seq === lastSeq + 1` is applied, then any buffered successors are applied in order;
 * - `seq > lastSeq + 1` arrived ahead of a gap and is buffered (keyed by `seq`) until the gap fills.
 *
 * We buffer rather than apply out of order because text deltas are not idempotent or commutative: applying
 * them in any other order would scramble the answer. After a reconnect the transport asks the server to
 * `follow` from `lastSeq`, which fills any gap. The buffer is bounded ({@link MAX_BUFFERED}); past that the
 * newest early events are dropped, and the resume re-delivers them.
 *
 * Kinds this console does not know advance `lastSeq` and change nothing else, so a newer server never stalls
 * the stream.
 */
import {
  TERMINAL_KINDS,
  parseRunEvent,
  type Citation,
  type RunEvent,
  type RunOutput,
  type StopReason,
  type ToolExecution,
  type ToolOutcome,
  type Usage,
} from "../../api/runEvents";

/** Upper bound of events held ahead of a gap, per turn. */
export const MAX_BUFFERED = 5_000;

export type ToolCallStatus = "requested" | "awaiting_approval" | "running" | "done" | "error" | "denied" | "cancelled";

export interface ToolCallCard {
  id: string;
  tool: string;
  /** The arguments the model asked for. */
  input: unknown;
  status: ToolCallStatus;
  /** `approve`, `deny` or `edit`, once a person decided. */
  decision: string | null;
  /** The result text, once the call ended. */
  result: string | null;
  outcome: ToolOutcome | null;
  durationMs: number | null;
  /** Epoch ms of the request event. */
  requestedAt: number | null;
}

export type TurnStatus = "queued" | "running" | "awaiting_approval" | "finished" | "failed" | "cancelled";

export interface PlanStep {
  number: number;
  title: string;
  status: "pending" | "running" | "completed" | "failed";
  result: string | null;
}

export interface TurnUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
}

/** One turn: the run that answers one user message. */
export interface TurnState {
  runId: string;
  /** Highest `seq` applied with no gap before it (0: none yet). */
  lastSeq: number;
  /** Events that arrived ahead of a gap, by `seq`. */
  buffer: Readonly<Record<number, RunEvent>>;
  status: TurnStatus;
  /** Streamed answer text. */
  text: string;
  /** Streamed reasoning text. */
  reasoning: string;
  /** The final answer from the run's output, once it ended (authoritative over `text`). */
  answer: string | null;
  toolCalls: readonly ToolCallCard[];
  plan: readonly PlanStep[];
  /** Tokens of the run so far (the server's running total). */
  usage: TurnUsage;
  costUsd: number;
  modelCalls: number;
  stopReason: StopReason | null;
  error: string | null;
  citations: readonly Citation[];
  startedAt: number | null;
  endedAt: number | null;
  /** The user's text, when this client sent it (shown until the stored message arrives). */
  userText: string | null;
  /** The transport delivered every event of the run (`run_ended`). */
  streamEnded: boolean;
}

export interface ChatStreamState {
  turns: Readonly<Record<string, TurnState>>;
  /** Run ids in the order their turns began. */
  order: readonly string[];
}

export type StreamAction =
  | { type: "run_started"; runId: string; userText?: string }
  | { type: "event"; runId: string; seq: number; event: unknown }
  | { type: "run_ended"; runId: string }
  | { type: "reset" };

export const emptyUsage: TurnUsage = {
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
};

export const initialChatStream: ChatStreamState = { turns: {}, order: [] };

export function newTurn(runId: string, userText: string | null = null): TurnState {
  return {
    runId,
    lastSeq: 0,
    buffer: {},
    status: "queued",
    text: "",
    reasoning: "",
    answer: null,
    toolCalls: [],
    plan: [],
    usage: emptyUsage,
    costUsd: 0,
    modelCalls: 0,
    stopReason: null,
    error: null,
    citations: [],
    startedAt: null,
    endedAt: null,
    userText,
    streamEnded: false,
  };
}

export function isLive(turn: TurnState): boolean {
  return turn.status === "queued" || turn.status === "running" || turn.status === "awaiting_approval";
}

/** Whether events are waiting for a gap to fill. */
export function hasGap(turn: TurnState): boolean {
  return Object.keys(turn.buffer).length > 0;
}

/** The text to show for the turn: the final answer once there is one, else what has streamed. */
export function displayText(turn: TurnState): string {
  return turn.answer !== null && turn.answer !== "" ? turn.answer : turn.text;
}

function toUsage(u: Usage): TurnUsage {
  return {
    inputTokens: u.input_tokens,
    outputTokens: u.output_tokens,
    cacheReadTokens: u.cache_read_tokens,
    cacheWriteTokens: u.cache_write_tokens,
    reasoningTokens: u.reasoning_tokens,
  };
}

function updateCall(turn: TurnState, id: string, f: (c: ToolCallCard) => ToolCallCard, create: () => ToolCallCard): TurnState {
  const existing = turn.toolCalls.find((c) => c.id === id);
  const toolCalls = existing
    ? turn.toolCalls.map((c) => (c === existing ? f(c) : c))
    : [...turn.toolCalls, f(create())];
  return { ...turn, toolCalls };
}

function blankCall(id: string, tool: string, input: unknown): ToolCallCard {
  return { id, tool, input, status: "requested", decision: null, result: null, outcome: null, durationMs: null, requestedAt: null };
}

function statusOfResult(e: ToolExecution): ToolCallStatus {
  switch (e.outcome) {
    case "success":
      return e.is_error ? "error" : "done";
    case "denied":
      return "denied";
    case "cancelled":
      return "cancelled";
    default:
      return "error";
  }
}

function ended(turn: TurnState, status: TurnStatus, output: RunOutput, at: number, error: string | null): TurnState {
  return {
    ...turn,
    status,
    answer: output.text,
    citations: output.citations,
    stopReason: output.stop_reason,
    error,
    endedAt: at,
    // Calls that never got a result are over too.
    toolCalls: turn.toolCalls.map((c) =>
      c.status === "requested" || c.status === "running" || c.status === "awaiting_approval" ? { ...c, status: "cancelled" } : c,
    ),
  };
}

/** Applies one event to a turn, ignoring ordering (the caller guarantees `seq === lastSeq + 1`). */
export function applyEvent(turn: TurnState, e: RunEvent): TurnState {
  const at = typeof e.at_ms === "number" ? e.at_ms : null;
  switch (e.type) {
    case "run_started":
      return { ...turn, status: "running", startedAt: turn.startedAt ?? at };
    case "model_call_started":
      return turn.status === "queued" ? { ...turn, status: "running" } : turn;
    case "text_delta":
      return { ...turn, text: turn.text + e.text };
    case "reasoning_delta":
      return { ...turn, reasoning: turn.reasoning + e.text };
    case "plan_created": {
      const kept = turn.plan.filter((s) => s.number < e.first_number);
      const added = e.steps.map((title, i): PlanStep => ({ number: e.first_number + i, title, status: "pending", result: null }));
      return { ...turn, plan: [...kept, ...added] };
    }
    case "step_started":
      return {
        ...turn,
        plan: turn.plan.some((s) => s.number === e.number)
          ? turn.plan.map((s) => (s.number === e.number ? { ...s, status: "running" } : s))
          : [...turn.plan, { number: e.number, title: e.title, status: "running", result: null }],
      };
    case "step_finished":
      return {
        ...turn,
        plan: turn.plan.map((s) => (s.number === e.number ? { ...s, status: e.status, result: e.result } : s)),
      };
    case "tool_call_requested":
      return updateCall(
        turn,
        e.call.id,
        (c) => ({ ...c, tool: e.call.name, input: e.call.input, requestedAt: c.requestedAt ?? at }),
        () => blankCall(e.call.id, e.call.name, e.call.input),
      );
    case "awaiting_approval": {
      let next: TurnState = { ...turn, status: "awaiting_approval" };
      for (const p of e.calls) {
        next = updateCall(
          next,
          p.call_id,
          (c) => ({ ...c, status: "awaiting_approval", input: p.input, requestedAt: c.requestedAt ?? at }),
          () => blankCall(p.call_id, p.tool, p.input),
        );
      }
      return next;
    }
    case "approval_resolved": {
      const next = updateCall(
        turn,
        e.call_id,
        (c) => ({ ...c, decision: e.decision, status: e.decision === "deny" ? "denied" : "running" }),
        () => blankCall(e.call_id, "", null),
      );
      const stillWaiting = next.toolCalls.some((c) => c.status === "awaiting_approval");
      return { ...next, status: stillWaiting ? "awaiting_approval" : "running" };
    }
    case "tool_result": {
      const x = e.execution;
      return updateCall(
        turn,
        x.call_id,
        (c) => ({
          ...c,
          tool: c.tool || x.tool,
          status: statusOfResult(x),
          result: x.content,
          outcome: x.outcome,
          durationMs: x.duration_ms,
        }),
        () => blankCall(x.call_id, x.tool, null),
      );
    }
    case "usage":
      return { ...turn, usage: toUsage(e.total), costUsd: e.cost_usd, modelCalls: turn.modelCalls + 1 };
    case "finished":
      return ended(turn, "finished", e.output, at ?? Date.now(), null);
    case "failed":
      return ended(turn, "failed", e.output, at ?? Date.now(), e.error);
    case "cancelled":
      return ended(turn, "cancelled", e.output, at ?? Date.now(), null);
    case "retrieval_failed":
    case "context_retrieved":
    case "memory_compacted":
      return turn;
    default:
      // A kind this console does not know yet.
      return turn;
  }
}

/**
 * Receives one event of a turn: ignores duplicates, buffers events ahead of a gap, applies the rest in order
 * (see the module comment).
 */
export function receiveEvent(turn: TurnState, seq: number, payload: unknown): TurnState {
  const event = parseRunEvent(payload);
  if (event === null || !Number.isSafeInteger(seq) || seq < 1) return turn;
  if (seq <= turn.lastSeq || seq in turn.buffer) return turn;
  if (seq > turn.lastSeq + 1) {
    if (Object.keys(turn.buffer).length >= MAX_BUFFERED) return turn;
    return { ...turn, buffer: { ...turn.buffer, [seq]: event } };
  }
  let next = { ...applyEvent(turn, event), lastSeq: seq };
  let following = next.buffer[next.lastSeq + 1];
  if (following === undefined) return next;
  const buffer = new Map<number, RunEvent>(Object.entries(next.buffer).map(([k, v]) => [Number(k), v]));
  while (following !== undefined) {
    const s = next.lastSeq + 1;
    buffer.delete(s);
    next = { ...applyEvent(next, following), lastSeq: s };
    following = buffer.get(s + 1);
  }
  return { ...next, buffer: Object.fromEntries(buffer) };
}

function withTurn(state: ChatStreamState, runId: string, f: (t: TurnState) => TurnState): ChatStreamState {
  const existing = state.turns[runId];
  const turn = f(existing ?? newTurn(runId));
  if (turn === existing) return state;
  return {
    turns: { ...state.turns, [runId]: turn },
    order: existing ? state.order : [...state.order, runId],
  };
}

export function chatStreamReducer(state: ChatStreamState, action: StreamAction): ChatStreamState {
  switch (action.type) {
    case "run_started":
      return withTurn(state, action.runId, (t) =>
        action.userText !== undefined && t.userText === null ? { ...t, userText: action.userText } : t,
      );
    case "event":
      return withTurn(state, action.runId, (t) => receiveEvent(t, action.seq, action.event));
    case "run_ended":
      return withTurn(state, action.runId, (t) => (t.streamEnded ? t : { ...t, streamEnded: true }));
    case "reset":
      return initialChatStream;
  }
}

/** Whether a payload's kind ends its run (for transports deciding whether a closed stream must resume). */
export function isTerminalPayload(payload: unknown): boolean {
  const e = parseRunEvent(payload);
  return e !== null && TERMINAL_KINDS.includes(e.type);
}
