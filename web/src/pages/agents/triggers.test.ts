import { describe, expect, it } from "vitest";
import type { Schemas } from "../../api/types";
import { parseRules, readSpec } from "./triggers";

const trigger = (spec: Record<string, unknown>): Schemas["TriggerView"] => ({
  id: "t",
  agent_id: "a",
  spec,
  enabled: true,
  created_at: "",
  version: 1,
});

describe("triggers", () => {
  it("reads a detection spec", () => {
    expect(readSpec(trigger({ kind: "detection", rules: ["r1", 3], min_level: "high" }))).toEqual({
      kind: "detection",
      rules: ["r1"],
      minLevel: "high",
    });
    expect(readSpec(trigger({ kind: "detection" }))).toEqual({ kind: "detection", rules: [], minLevel: null });
  });

  it("parses rule ids by line or comma", () => {
    expect(parseRules(" a \n\nb, c ,a\n")).toEqual(["a", "b", "c"]);
    expect(parseRules("  ")).toEqual([]);
  });
});
