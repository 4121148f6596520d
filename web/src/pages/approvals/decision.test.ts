import { describe, expect, it } from "vitest";
import { decisionBody, inputText, parseEditedInput, riskTone } from "./decision";

describe("parseEditedInput", () => {
  it("accepts a JSON object", () => {
    expect(parseEditedInput(' { "host": "h1", "n": 2 } ')).toEqual({ ok: true, value: { host: "h1", n: 2 } });
  });

  it("refuses empty text, invalid JSON, arrays and scalars", () => {
    for (const t of ["", "  ", "{host: 1}", "[1]", "3", "null", '"x"']) {
      expect(parseEditedInput(t).ok, t).toBe(false);
    }
  });
});

describe("decisionBody", () => {
  it("builds each decision as the API wants it", () => {
    expect(decisionBody({ decision: "approve" })).toEqual({ decision: "approve" });
    expect(decisionBody({ decision: "deny", reason: "  too risky " })).toEqual({ decision: "deny", reason: "too risky" });
    expect(decisionBody({ decision: "edit", input: { a: 1 } })).toEqual({ decision: "edit", input: { a: 1 } });
  });
});

describe("inputText", () => {
  it("pretty-prints the arguments", () => {
    expect(inputText({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(inputText(undefined)).toBe("{}");
  });
});

describe("riskTone", () => {
  it("makes high red", () => {
    expect(riskTone("high")).toBe("danger");
    expect(riskTone("medium")).toBe("warning");
    expect(riskTone(null)).toBe("neutral");
  });
});
