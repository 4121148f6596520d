import { describe, expect, it } from "vitest";
import { EMPTY_USAGE, parseRunEvent, runOutputOf, usageOf } from "./runEvents";

describe("run events", () => {
  it("reads a payload with a string type, nothing else", () => {
    expect(parseRunEvent({ type: "text_delta", text: "x", seq: 1, run_id: "r", at_ms: 0 })?.type).toBe("text_delta");
    expect(parseRunEvent({ seq: 1 })).toBeNull();
    expect(parseRunEvent("text_delta")).toBeNull();
    expect(parseRunEvent(null)).toBeNull();
  });

  it("reads RunView.usage, a bare object, as a Usage", () => {
    expect(usageOf({ input_tokens: 10, output_tokens: 2 })).toEqual({ ...EMPTY_USAGE, input_tokens: 10, output_tokens: 2 });
    expect(usageOf({ input_tokens: "10", cache_read_tokens: Number.NaN })).toEqual(EMPTY_USAGE);
    expect(usageOf(null)).toEqual(EMPTY_USAGE);
  });

  it("reads RunView.output, a bare object or null, as a RunOutput", () => {
    const citations = [
      { kind: "source", marker: 1, id: "p1", source: "https://example.com", referenced: true },
      { kind: "step", number: 1, title: "Look up", referenced: false },
      { kind: "unknown" },
      "junk",
    ];
    expect(runOutputOf({ text: "done", citations, stop_reason: "completed" })).toEqual({
      text: "done",
      citations: citations.slice(0, 2),
      stop_reason: "completed",
    });
    expect(runOutputOf({ text: "partial", stop_reason: "cancelled" })?.citations).toEqual([]);
    expect(runOutputOf({ stop_reason: "completed" })).toBeNull();
    expect(runOutputOf(null)).toBeNull();
  });
});
