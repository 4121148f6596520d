import { describe, expect, it } from "vitest";
import { EMPTY_USAGE, type RunEvent, type RunEventKind } from "../../api/runEvents";
import { EMPTY_LOG, appendEvents } from "./eventLog";
import { buildTimeline, totalTokens, type TimelineItem } from "./timeline";

const RUN = "00000000-0000-0000-0000-000000000001";
const output = (text: string, stop_reason: "completed" | "cancelled" | "model_error" = "completed") => ({
  text,
  citations: [],
  stop_reason,
});

/** Events numbered from 1, `at` in ms from a fixed start. */
function run(...kinds: [number, RunEventKind][]): RunEvent[] {
  return kinds.map(([at, k], i) => ({ ...k, seq: i + 1, run_id: RUN, at_ms: 1_000_000 + at }));
}

const usage = (input: number, output: number) => ({ ...EMPTY_USAGE, input_tokens: input, output_tokens: output });

function byKind<K extends TimelineItem["kind"]>(items: TimelineItem[], kind: K): Extract<TimelineItem, { kind: K }>[] {
  return items.filter((i): i is Extract<TimelineItem, { kind: K }> => i.kind === kind);
}

describe("appendEvents", () => {
  const ev = (seq: number): RunEvent => ({ type: "text_delta", text: String(seq), seq, run_id: RUN, at_ms: seq });

  it("keeps events in seq order and drops duplicates from a resume", () => {
    let log = appendEvents(EMPTY_LOG, [ev(1), ev(2), ev(3)]);
    log = appendEvents(log, [ev(2), ev(3), ev(4)]);
    expect(log.events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(log.lastSeq).toBe(4);
    expect(log.ended).toBe(false);
  });

  it("sorts a batch and ignores repeats within it", () => {
    const log = appendEvents(EMPTY_LOG, [ev(3), ev(1), ev(3), ev(2)]);
    expect(log.events.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it("returns the same log when nothing is new, and skips malformed payloads", () => {
    const log = appendEvents(EMPTY_LOG, [ev(1)]);
    expect(appendEvents(log, [ev(1), null, "x", { seq: 9 }])).toBe(log);
  });

  it("notes a terminal event", () => {
    const end: RunEvent = { type: "finished", output: output("done"), seq: 2, run_id: RUN, at_ms: 2 };
    expect(appendEvents(appendEvents(EMPTY_LOG, [ev(1)]), [end]).ended).toBe(true);
  });
});

describe("buildTimeline", () => {
  it("is empty without events", () => {
    const t = buildTimeline([]);
    expect(t.items).toEqual([]);
    expect(t.summary.phase).toBeNull();
  });

  it("times model calls from start to usage and prices each call from the cumulative cost", () => {
    const { items, summary } = buildTimeline(
      run(
        [0, { type: "run_started", mode: "loop_with_limits" }],
        [10, { type: "model_call_started", call: 1 }],
        [20, { type: "text_delta", text: "Hel" }],
        [30, { type: "text_delta", text: "lo" }],
        [25, { type: "reasoning_delta", text: "thinking" }],
        [1510, { type: "usage", call: usage(100, 20), total: usage(100, 20), cost_usd: 0.01 }],
        [1600, { type: "model_call_started", call: 2 }],
        [2600, { type: "usage", call: usage(50, 5), total: usage(150, 25), cost_usd: 0.015 }],
        [2700, { type: "finished", output: output("Hello") }],
      ),
    );
    const calls = byKind(items, "model_call");
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ call: 1, status: "done", durationMs: 1500, text: "Hello", reasoning: "thinking" });
    expect(calls[0]?.usage).toEqual(usage(100, 20));
    expect(calls[0]?.costUsd).toBeCloseTo(0.01);
    expect(calls[1]).toMatchObject({ call: 2, durationMs: 1000 });
    expect(calls[1]?.costUsd).toBeCloseTo(0.005);
    expect(summary).toMatchObject({ phase: "finished", startedAt: 1_000_000, endedAt: 1_002_700, modelCalls: 2 });
    expect(summary.usage).toEqual(usage(150, 25));
    expect(summary.costUsd).toBeCloseTo(0.015);
    expect(summary.output?.text).toBe("Hello");
    expect(items.at(-1)?.kind).toBe("end");
  });

  it("ends a model call that never reported usage at the failure", () => {
    const { items, summary } = buildTimeline(
      run(
        [0, { type: "run_started", mode: "single_step" }],
        [100, { type: "model_call_started", call: 1 }],
        [400, { type: "text_delta", text: "par" }],
        [900, { type: "failed", error: "provider down", output: output("par", "model_error") }],
      ),
    );
    const call = byKind(items, "model_call")[0];
    expect(call).toMatchObject({ status: "failed", durationMs: 800, usage: null, costUsd: null });
    expect(summary).toMatchObject({ phase: "failed", error: "provider down" });
  });

  it("pairs tool requests with approvals and results by call id", () => {
    const events = run(
      [0, { type: "run_started", mode: "loop_with_limits" }],
      [10, { type: "model_call_started", call: 1 }],
      [200, { type: "usage", call: usage(10, 10), total: usage(10, 10), cost_usd: 0 }],
      [210, { type: "tool_call_requested", call: { id: "a", name: "search", input: { q: "x" } } }],
      [211, { type: "tool_call_requested", call: { id: "b", name: "isolate_host", input: { host: "h1" } } }],
      [215, { type: "awaiting_approval", calls: [{ call_id: "b", tool: "isolate_host", input: { host: "h1" } }] }],
    );
    const waiting = buildTimeline(events);
    expect(waiting.summary.phase).toBe("awaiting_approval");
    expect(waiting.summary.awaiting.map((t) => t.id)).toEqual(["b"]);
    const [a, b] = byKind(waiting.items, "tool_call");
    expect(a).toMatchObject({ id: "a", status: "requested", modelCall: 1, input: { q: "x" } });
    expect(b).toMatchObject({ id: "b", status: "awaiting_approval", approval: { requestedAt: 1_000_215, decision: null } });

    const more: RunEvent[] = [
      { type: "approval_resolved", call_id: "b", decision: "deny", seq: 7, run_id: RUN, at_ms: 1_060_215 },
      {
        type: "tool_result",
        execution: { call_id: "a", tool: "search", content: '{"hits":1}', is_error: false, outcome: "success", duration_ms: 42 },
        seq: 8,
        run_id: RUN,
        at_ms: 1_060_300,
      },
      {
        type: "tool_result",
        execution: { call_id: "b", tool: "isolate_host", content: "A person denied this call: no", is_error: true, outcome: "denied", duration_ms: 0 },
        seq: 9,
        run_id: RUN,
        at_ms: 1_060_301,
      },
    ];
    const done = buildTimeline([...events, ...more]);
    const [a2, b2] = byKind(done.items, "tool_call");
    expect(a2).toMatchObject({ status: "succeeded", elapsedMs: 60_090, result: { durationMs: 42, content: '{"hits":1}' } });
    expect(b2).toMatchObject({ status: "denied", approval: { decision: "deny", waitMs: 60_000 } });
    expect(b2?.rev).toBe(9);
    expect(done.summary.phase).toBe("running");
    expect(done.summary.awaiting).toEqual([]);
    expect(done.summary.toolCalls).toBe(2);
  });

  it("marks an approved call as running until its result, and errors by outcome", () => {
    const { items } = buildTimeline(
      run(
        [0, { type: "tool_call_requested", call: { id: "c", name: "block_ip", input: {} } }],
        [1, { type: "awaiting_approval", calls: [{ call_id: "c", tool: "block_ip", input: { ip: "1.2.3.4" } }] }],
        [2, { type: "approval_resolved", call_id: "c", decision: "edit" }],
      ),
    );
    const c = byKind(items, "tool_call")[0];
    expect(c).toMatchObject({ status: "running", input: { ip: "1.2.3.4" }, approval: { decision: "edit" } });

    const failed = buildTimeline(
      run(
        [0, { type: "tool_call_requested", call: { id: "d", name: "x", input: {} } }],
        [5, { type: "tool_result", execution: { call_id: "d", tool: "x", content: "boom", is_error: true, outcome: "timed_out", duration_ms: 5 } }],
      ),
    );
    expect(byKind(failed.items, "tool_call")[0]).toMatchObject({ status: "failed", result: { outcome: "timed_out" } });
  });

  it("settles calls left open when the run ends", () => {
    const { items } = buildTimeline(
      run(
        [0, { type: "tool_call_requested", call: { id: "e", name: "x", input: {} } }],
        [1, { type: "awaiting_approval", calls: [{ call_id: "e", tool: "x", input: {} }] }],
        [2, { type: "cancelled", output: output("", "cancelled") }],
      ),
    );
    expect(byKind(items, "tool_call")[0]).toMatchObject({ status: "cancelled" });
  });

  it("tracks the plan's steps and nests items under the running step", () => {
    const { items } = buildTimeline(
      run(
        [0, { type: "run_started", mode: "plan_and_execute" }],
        [5, { type: "plan_created", steps: ["Look", "Decide"], first_number: 1, replanned: false }],
        [10, { type: "step_started", number: 1, title: "Look" }],
        [20, { type: "model_call_started", call: 2 }],
        [30, { type: "usage", call: usage(1, 1), total: usage(1, 1), cost_usd: 0 }],
        [40, { type: "tool_call_requested", call: { id: "t", name: "search", input: {} } }],
        [110, { type: "step_finished", number: 1, status: "failed", result: "nothing found" }],
        [120, { type: "plan_created", steps: ["Ask again"], first_number: 3, replanned: true }],
        [130, { type: "step_started", number: 3, title: "Ask again" }],
      ),
    );
    const plans = byKind(items, "plan");
    expect(plans[0]?.steps).toEqual([
      { number: 1, title: "Look", status: "failed" },
      { number: 2, title: "Decide", status: "replaced" },
    ]);
    expect(plans[1]?.steps).toEqual([{ number: 3, title: "Ask again", status: "running" }]);
    const steps = byKind(items, "step");
    expect(steps[0]).toMatchObject({ number: 1, status: "failed", durationMs: 100, result: "nothing found", step: null });
    const tool = byKind(items, "tool_call")[0];
    expect(tool?.step).toBe(1);
    expect(byKind(items, "model_call")[0]?.step).toBe(1);
  });

  it("skips kinds it does not know", () => {
    const events = [{ type: "something_new", seq: 1, run_id: RUN, at_ms: 0 }] as unknown as RunEvent[];
    const t = buildTimeline(events);
    expect(t.items).toEqual([]);
    expect(t.summary.lastSeq).toBe(1);
    expect(t.summary.phase).toBe("running");
  });

  it("stays fast for a long run", () => {
    const kinds: [number, RunEventKind][] = [[0, { type: "run_started", mode: "loop_with_limits" }]];
    for (let i = 0; i < 250; i++) {
      kinds.push([i * 10, { type: "model_call_started", call: i + 1 }]);
      for (let d = 0; d < 4; d++) kinds.push([i * 10 + 1, { type: "text_delta", text: "x" }]);
      kinds.push([i * 10 + 2, { type: "usage", call: usage(1, 1), total: usage(i + 1, i + 1), cost_usd: 0 }]);
      kinds.push([i * 10 + 3, { type: "tool_call_requested", call: { id: `c${i}`, name: "t", input: {} } }]);
      kinds.push([i * 10 + 4, { type: "tool_result", execution: { call_id: `c${i}`, tool: "t", content: "", is_error: false, outcome: "success", duration_ms: 1 } }]);
    }
    const events = run(...kinds);
    expect(events.length).toBeGreaterThan(2000);
    const t0 = performance.now();
    const t = buildTimeline(events);
    expect(performance.now() - t0).toBeLessThan(200);
    expect(t.summary.modelCalls).toBe(250);
    expect(t.summary.toolCalls).toBe(250);
  });
});

describe("totalTokens", () => {
  it("adds input of every kind and output", () => {
    expect(totalTokens({ input_tokens: 1, output_tokens: 2, cache_read_tokens: 3, cache_write_tokens: 4, reasoning_tokens: 1 })).toBe(10);
    expect(totalTokens(null)).toBe(0);
  });
});
