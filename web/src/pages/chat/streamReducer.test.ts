import { describe, expect, it } from "vitest";
import { EMPTY_USAGE, type RunEventKind, type Usage } from "../../api/runEvents";
import {
  MAX_BUFFERED,
  chatStreamReducer,
  displayText,
  hasGap,
  initialChatStream,
  isLive,
  newTurn,
  receiveEvent,
  type ChatStreamState,
  type StreamAction,
  type TurnState,
} from "./streamReducer";

const RUN = "0190c1d2-0000-7000-8000-000000000001";

/** A run's events, numbered from 1 like the server does. */
function stream(kinds: RunEventKind[], runId = RUN) {
  return kinds.map((k, i) => ({ seq: i + 1, event: { ...k, seq: i + 1, run_id: runId, at_ms: 1_000 + i * 10 } }));
}

function feed(turn: TurnState, events: { seq: number; event: unknown }[]): TurnState {
  return events.reduce((t, e) => receiveEvent(t, e.seq, e.event), turn);
}

function dispatchAll(state: ChatStreamState, actions: StreamAction[]): ChatStreamState {
  return actions.reduce(chatStreamReducer, state);
}

/** A usage record; counts not given are 0 (the server always sends all of them). */
const u = (counts: Partial<Usage>): Usage => ({ ...EMPTY_USAGE, ...counts });

const output = (text: string) => ({ text, citations: [], stop_reason: "completed" as const });

const simpleAnswer = stream([
  { type: "run_started", mode: "loop_with_limits" },
  { type: "model_call_started", call: 1 },
  { type: "text_delta", text: "The mail " },
  { type: "text_delta", text: "is " },
  { type: "text_delta", text: "phishing." },
  { type: "usage", call: u({ input_tokens: 100, output_tokens: 20 }), total: u({ input_tokens: 100, output_tokens: 20 }), cost_usd: 0.001 },
  { type: "finished", output: output("The mail is phishing.") },
]);

describe("in-order stream", () => {
  it("builds the text, usage and stop reason", () => {
    const t = feed(newTurn(RUN), simpleAnswer);
    expect(t.text).toBe("The mail is phishing.");
    expect(t.answer).toBe("The mail is phishing.");
    expect(t.status).toBe("finished");
    expect(t.stopReason).toBe("completed");
    expect(t.lastSeq).toBe(7);
    expect(t.usage.inputTokens).toBe(100);
    expect(t.usage.outputTokens).toBe(20);
    expect(t.costUsd).toBeCloseTo(0.001);
    expect(t.startedAt).toBe(1_000);
    expect(t.endedAt).toBe(1_060);
    expect(isLive(t)).toBe(false);
    expect(hasGap(t)).toBe(false);
  });

  it("shows streamed text while running and the final answer afterwards", () => {
    const partial = feed(newTurn(RUN), simpleAnswer.slice(0, 4));
    expect(partial.status).toBe("running");
    expect(isLive(partial)).toBe(true);
    expect(displayText(partial)).toBe("The mail is ");
    const done = feed(partial, simpleAnswer.slice(4));
    expect(displayText(done)).toBe("The mail is phishing.");
  });

  it("starts turns through the chat reducer in order and keeps the user's text", () => {
    const other = "0190c1d2-0000-7000-8000-000000000002";
    const s = dispatchAll(initialChatStream, [
      { type: "run_started", runId: RUN, userText: "Is it phishing?" },
      ...simpleAnswer.map((e): StreamAction => ({ type: "event", runId: RUN, ...e })),
      { type: "run_ended", runId: RUN },
      { type: "run_started", runId: other, userText: "And the sender?" },
    ]);
    expect(s.order).toEqual([RUN, other]);
    expect(s.turns[RUN]?.userText).toBe("Is it phishing?");
    expect(s.turns[RUN]?.streamEnded).toBe(true);
    expect(s.turns[RUN]?.text).toBe("The mail is phishing.");
    expect(s.turns[other]?.status).toBe("queued");
  });
});

describe("duplicated events after a resume", () => {
  it("ignores every event already applied", () => {
    // Connection dropped after seq 4; the resume replays from 3 (an overlap) to the end.
    const first = feed(newTurn(RUN), simpleAnswer.slice(0, 4));
    const resumed = feed(first, simpleAnswer.slice(2));
    expect(resumed.text).toBe("The mail is phishing.");
    expect(resumed.lastSeq).toBe(7);
    expect(resumed.usage.inputTokens).toBe(100);
    expect(resumed.modelCalls).toBe(1);
  });

  it("returns the same object for a duplicate (no re-render)", () => {
    const t = feed(newTurn(RUN), simpleAnswer.slice(0, 3));
    const again = simpleAnswer[2];
    if (!again) throw new Error("fixture");
    expect(receiveEvent(t, again.seq, again.event)).toBe(t);
  });

  it("replaying the whole stream twice through the chat reducer changes nothing", () => {
    const actions = simpleAnswer.map((e): StreamAction => ({ type: "event", runId: RUN, ...e }));
    const once = dispatchAll(initialChatStream, actions);
    const twice = dispatchAll(once, actions);
    expect(twice).toBe(once);
  });
});

describe("out-of-order events", () => {
  it("buffers events ahead of a gap and applies them when it fills", () => {
    const [e1, e2, e3, e4, e5, e6, e7] = simpleAnswer;
    if (!e1 || !e2 || !e3 || !e4 || !e5 || !e6 || !e7) throw new Error("fixture");
    let t = feed(newTurn(RUN), [e1, e2, e3]);
    t = feed(t, [e5, e6]); // 5 and 6 arrive before 4
    expect(t.lastSeq).toBe(3);
    expect(t.text).toBe("The mail ");
    expect(hasGap(t)).toBe(true);
    t = receiveEvent(t, e4.seq, e4.event);
    expect(t.lastSeq).toBe(6);
    expect(t.text).toBe("The mail is phishing.");
    expect(hasGap(t)).toBe(false);
    t = receiveEvent(t, e7.seq, e7.event);
    expect(t.status).toBe("finished");
  });

  it("reassembles a fully reversed stream", () => {
    const t = feed(newTurn(RUN), [...simpleAnswer].reverse());
    expect(t.text).toBe("The mail is phishing.");
    expect(t.status).toBe("finished");
    expect(t.lastSeq).toBe(7);
    expect(hasGap(t)).toBe(false);
  });

  it("ignores a duplicate of a buffered event", () => {
    const e5 = simpleAnswer[4];
    if (!e5) throw new Error("fixture");
    const t = feed(newTurn(RUN), [e5, e5]);
    expect(Object.keys(t.buffer)).toEqual(["5"]);
  });

  it("bounds the buffer", () => {
    let t = newTurn(RUN);
    for (let seq = 2; seq < MAX_BUFFERED + 10; seq++) {
      t = receiveEvent(t, seq, { type: "text_delta", text: "x", seq, run_id: RUN, at_ms: 0 });
    }
    expect(Object.keys(t.buffer)).toHaveLength(MAX_BUFFERED);
  });

  it("ignores payloads that are not events", () => {
    const t = newTurn(RUN);
    expect(receiveEvent(t, 1, "not json")).toBe(t);
    expect(receiveEvent(t, 1, { no: "type" })).toBe(t);
    expect(receiveEvent(t, 0, { type: "text_delta", text: "x" })).toBe(t);
    expect(receiveEvent(t, Number.NaN, { type: "text_delta", text: "x" })).toBe(t);
  });

  it("advances over kinds it does not know", () => {
    const t = feed(newTurn(RUN), [
      { seq: 1, event: { type: "run_started", mode: "single_step", seq: 1, run_id: RUN, at_ms: 0 } },
      { seq: 2, event: { type: "something_new", seq: 2, run_id: RUN, at_ms: 0 } },
      { seq: 3, event: { type: "text_delta", text: "ok", seq: 3, run_id: RUN, at_ms: 0 } },
    ]);
    expect(t.lastSeq).toBe(3);
    expect(t.text).toBe("ok");
  });
});

const call = { id: "call_1", name: "edr_contain_host", input: { host: "ws-17" } };

describe("tool calls", () => {
  it("goes through awaiting approval → running → done", () => {
    const events = stream([
      { type: "run_started", mode: "loop_with_limits" },
      { type: "tool_call_requested", call },
      { type: "awaiting_approval", calls: [{ call_id: "call_1", tool: "edr_contain_host", input: { host: "ws-17" } }] },
      { type: "approval_resolved", call_id: "call_1", decision: "approve" },
      {
        type: "tool_result",
        execution: { call_id: "call_1", tool: "edr_contain_host", content: '{"contained":true}', is_error: false, outcome: "success", duration_ms: 840 },
      },
      { type: "text_delta", text: "Contained ws-17." },
      { type: "finished", output: output("Contained ws-17.") },
    ]);
    let t = feed(newTurn(RUN), events.slice(0, 2));
    expect(t.toolCalls).toHaveLength(1);
    expect(t.toolCalls[0]?.status).toBe("requested");
    expect(t.toolCalls[0]?.input).toEqual({ host: "ws-17" });

    t = feed(t, events.slice(2, 3));
    expect(t.toolCalls[0]?.status).toBe("awaiting_approval");
    expect(t.status).toBe("awaiting_approval");

    t = feed(t, events.slice(3, 4));
    expect(t.toolCalls[0]?.status).toBe("running");
    expect(t.toolCalls[0]?.decision).toBe("approve");
    expect(t.status).toBe("running");

    t = feed(t, events.slice(4));
    const card = t.toolCalls[0];
    expect(card?.status).toBe("done");
    expect(card?.result).toBe('{"contained":true}');
    expect(card?.durationMs).toBe(840);
    expect(card?.outcome).toBe("success");
    expect(t.status).toBe("finished");
    expect(displayText(t)).toBe("Contained ws-17.");
  });

  it("stays awaiting approval while another call still waits", () => {
    const t = feed(
      newTurn(RUN),
      stream([
        { type: "tool_call_requested", call },
        { type: "tool_call_requested", call: { id: "call_2", name: "slack_post", input: {} } },
        {
          type: "awaiting_approval",
          calls: [
            { call_id: "call_1", tool: "edr_contain_host", input: {} },
            { call_id: "call_2", tool: "slack_post", input: {} },
          ],
        },
        { type: "approval_resolved", call_id: "call_1", decision: "edit" },
      ]),
    );
    expect(t.status).toBe("awaiting_approval");
    expect(t.toolCalls.map((c) => c.status)).toEqual(["running", "awaiting_approval"]);
  });

  it("marks a failed call as an error with its message", () => {
    const t = feed(
      newTurn(RUN),
      stream([
        { type: "run_started", mode: "loop_with_limits" },
        { type: "tool_call_requested", call: { id: "c9", name: "vt_lookup", input: { hash: "abc" } } },
        {
          type: "tool_result",
          execution: { call_id: "c9", tool: "vt_lookup", content: "upstream returned 502", is_error: true, outcome: "failed", duration_ms: 1200 },
        },
      ]),
    );
    expect(t.toolCalls[0]?.status).toBe("error");
    expect(t.toolCalls[0]?.result).toBe("upstream returned 502");
    expect(t.toolCalls[0]?.outcome).toBe("failed");
    expect(t.status).toBe("running");
  });

  it("marks a denied call as denied", () => {
    const t = feed(
      newTurn(RUN),
      stream([
        { type: "tool_call_requested", call },
        { type: "awaiting_approval", calls: [{ call_id: "call_1", tool: "edr_contain_host", input: {} }] },
        { type: "approval_resolved", call_id: "call_1", decision: "deny" },
        {
          type: "tool_result",
          execution: { call_id: "call_1", tool: "edr_contain_host", content: "A person denied this call: no", is_error: true, outcome: "denied", duration_ms: 0 },
        },
      ]),
    );
    expect(t.toolCalls[0]?.status).toBe("denied");
    expect(t.toolCalls[0]?.decision).toBe("deny");
  });

  it("a failed run keeps its error and ends calls that never finished", () => {
    const t = feed(
      newTurn(RUN),
      stream([
        { type: "run_started", mode: "loop_with_limits" },
        { type: "tool_call_requested", call },
        { type: "failed", error: "model provider unavailable", output: { text: "", citations: [], stop_reason: "model_error" } },
      ]),
    );
    expect(t.status).toBe("failed");
    expect(t.error).toBe("model provider unavailable");
    expect(t.stopReason).toBe("model_error");
    expect(t.toolCalls[0]?.status).toBe("cancelled");
  });
});

describe("usage", () => {
  it("takes the server's running total and counts model calls", () => {
    const t = feed(
      newTurn(RUN),
      stream([
        { type: "model_call_started", call: 1 },
        { type: "usage", call: u({ input_tokens: 500, output_tokens: 40 }), total: u({ input_tokens: 500, output_tokens: 40 }), cost_usd: 0.002 },
        { type: "model_call_started", call: 2 },
        {
          type: "usage",
          call: u({ input_tokens: 700, output_tokens: 60, cache_read_tokens: 400 }),
          total: u({ input_tokens: 1200, output_tokens: 100, cache_read_tokens: 400 }),
          cost_usd: 0.0051,
        },
      ]),
    );
    expect(t.modelCalls).toBe(2);
    expect(t.usage).toEqual({ inputTokens: 1200, outputTokens: 100, cacheReadTokens: 400, cacheWriteTokens: 0, reasoningTokens: 0 });
    expect(t.costUsd).toBeCloseTo(0.0051);
  });

  it("does not double-count a replayed usage event", () => {
    const events = stream([
      { type: "usage", call: u({ input_tokens: 10 }), total: u({ input_tokens: 10 }), cost_usd: 0.1 },
      { type: "usage", call: u({ input_tokens: 5 }), total: u({ input_tokens: 15 }), cost_usd: 0.15 },
    ]);
    const t = feed(feed(newTurn(RUN), events), events);
    expect(t.modelCalls).toBe(2);
    expect(t.usage.inputTokens).toBe(15);
    expect(t.costUsd).toBeCloseTo(0.15);
  });
});

describe("plans", () => {
  it("tracks steps and re-plans", () => {
    const t = feed(
      newTurn(RUN),
      stream([
        { type: "plan_created", steps: ["Parse headers", "Check sender", "Answer"], first_number: 1, replanned: false },
        { type: "step_started", number: 1, title: "Parse headers" },
        { type: "step_finished", number: 1, status: "completed", result: "ok" },
        { type: "step_started", number: 2, title: "Check sender" },
        { type: "step_finished", number: 2, status: "failed", result: "lookup failed" },
        { type: "plan_created", steps: ["Check sender via whois", "Answer"], first_number: 3, replanned: true },
      ]),
    );
    expect(t.plan.map((s) => [s.number, s.status])).toEqual([
      [1, "completed"],
      [2, "failed"],
      [3, "pending"],
      [4, "pending"],
    ]);
  });
});
