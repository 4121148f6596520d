import { describe, expect, it } from "vitest";
import {
  BUCKETS,
  ENTERPRISE_TACTICS,
  NO_TACTIC,
  bucketLabel,
  bucketOf,
  buildHeatmap,
  compareTechniqueIds,
  contrast,
  findTechnique,
  parseCoverage,
  tacticName,
} from "./heatmap";

/** Shaped like `serde_json::to_value(&Coverage)` in secops-detect/src/coverage/mod.rs. */
const response = {
  catalogue: "Enterprise ATT&CK (2026-04-14)",
  attack_version: "19",
  domain: "enterprise-attack",
  rules: 4,
  rules_with_techniques: 3,
  techniques: {
    "T1059.001": {
      id: "T1059.001",
      name: "PowerShell",
      tactics: ["execution"],
      rules: [
        { id: "a", title: "Rule a", level: "high", status: "test", logsource: "windows/process_creation/*" },
        { id: "b", title: "Rule b", level: null, status: null, logsource: "windows/process_creation/*" },
      ],
      levels: { high: 1, none: 1 },
      logsources: ["windows/process_creation/*"],
    },
    T1059: {
      id: "T1059",
      name: "Command and Scripting Interpreter",
      tactics: ["execution"],
      rules: [{ id: "c", title: "Rule c", level: "low", status: "stable", logsource: "windows/process_creation/*" }],
      levels: { low: 1 },
      logsources: ["windows/process_creation/*"],
    },
    T1078: {
      id: "T1078",
      name: "Valid Accounts",
      tactics: ["stealth", "persistence", "privilege-escalation", "initial-access"],
      rules: [{ id: null, title: "No id", level: "medium", status: "experimental", logsource: "windows/*/security" }],
      levels: { medium: 1 },
      logsources: ["windows/*/security"],
    },
    T9000: { id: "T9000", name: null, tactics: ["future-tactic"], rules: [], levels: {}, logsources: [] },
    T9001: { id: "T9001", name: "Orphan", tactics: [], rules: [{ title: "x" }], levels: {}, logsources: [] },
  },
  unknown_techniques: { T9999: 2 },
  tactics: { execution: 2, persistence: 1 },
  catalogue_techniques: 697,
};

describe("parseCoverage", () => {
  it("reads the server's shape", () => {
    const c = parseCoverage(response);
    expect(c.rules).toBe(4);
    expect(c.attackVersion).toBe("19");
    expect(c.catalogueTechniques).toBe(697);
    expect(c.techniques).toHaveLength(5);
    expect(findTechnique(c, "t1059.001")?.rules.map((r) => r.id)).toEqual(["a", "b"]);
    expect(findTechnique(c, "T9001")?.rules[0]).toEqual({ id: null, title: "x", level: null, status: null, logsource: "" });
    expect(c.unknownTechniques).toEqual([{ id: "T9999", rules: 2 }]);
  });

  it("survives nonsense", () => {
    expect(parseCoverage(null).techniques).toEqual([]);
    expect(parseCoverage({ techniques: [1, 2], rules: "x" }).rules).toBe(0);
  });
});

describe("buildHeatmap", () => {
  const grid = buildHeatmap(parseCoverage(response));

  it("has every known tactic in matrix order, then other tactics, then techniques without a tactic", () => {
    expect(grid.slice(0, ENTERPRISE_TACTICS.length).map((c) => c.tactic)).toEqual(ENTERPRISE_TACTICS.map((t) => t.shortname));
    expect(grid.slice(ENTERPRISE_TACTICS.length).map((c) => c.tactic)).toEqual(["future-tactic", NO_TACTIC]);
  });

  it("puts techniques under each of their tactics, sorted by id, with their counts", () => {
    const execution = grid.find((c) => c.tactic === "execution");
    expect(execution?.cells.map((c) => [c.id, c.count])).toEqual([
      ["T1059", 1],
      ["T1059.001", 2],
    ]);
    expect(execution?.tacticRules).toBe(2);
    expect(execution?.tacticId).toBe("TA0002");
    for (const t of ["stealth", "persistence", "privilege-escalation", "initial-access"]) {
      expect(grid.find((c) => c.tactic === t)?.cells.map((c) => c.id)).toEqual(["T1078"]);
    }
    expect(grid.find((c) => c.tactic === "impact")?.cells).toEqual([]);
  });

  it("marks techniques without rules as empty", () => {
    const cell = grid.find((c) => c.tactic === "future-tactic")?.cells[0];
    expect(cell).toMatchObject({ id: "T9000", count: 0, bucket: 0 });
  });

  it("names tactics", () => {
    expect(tacticName("command-and-control")).toBe("Command and Control");
    expect(tacticName("future-tactic")).toBe("Future Tactic");
    expect(compareTechniqueIds("T1059.002", "T1059.010")).toBeLessThan(0);
    expect(compareTechniqueIds("T1059", "T1059.001")).toBeLessThan(0);
  });
});

describe("colour scale", () => {
  it("buckets counts", () => {
    expect([0, 1, 2, 3, 4, 5, 9, 10, 250].map(bucketOf)).toEqual([0, 1, 2, 3, 3, 4, 4, 5, 5]);
    expect(bucketOf(-1)).toBe(0);
    expect(BUCKETS.map(bucketLabel)).toEqual(["0", "1", "2", "3–4", "5–9", "10+"]);
  });

  it("covers every count exactly once", () => {
    for (let i = 1; i < BUCKETS.length; i++) {
      expect(BUCKETS[i]?.min).toBe((BUCKETS[i - 1]?.max ?? NaN) + 1);
    }
    expect(BUCKETS.at(-1)?.max).toBeNull();
  });

  it("keeps AA text contrast in both themes", () => {
    for (const b of BUCKETS) {
      expect(contrast(b.light.bg, b.light.fg), `light ${bucketLabel(b)}`).toBeGreaterThanOrEqual(4.5);
      expect(contrast(b.dark.bg, b.dark.fg), `dark ${bucketLabel(b)}`).toBeGreaterThanOrEqual(4.5);
    }
  });

  it("gets deeper with more rules (further from the page background)", () => {
    const fromLight = BUCKETS.map((b) => contrast(b.light.bg, "#ffffff"));
    const fromDark = BUCKETS.map((b) => contrast(b.dark.bg, "#020617"));
    for (let i = 2; i < BUCKETS.length; i++) {
      expect(fromLight[i]).toBeGreaterThan(fromLight[i - 1] ?? Infinity);
      expect(fromDark[i]).toBeGreaterThan(fromDark[i - 1] ?? Infinity);
    }
  });

  it("renders exactly the colours it was checked with", () => {
    for (const b of BUCKETS) {
      expect(b.className).toContain(`bg-[${b.light.bg}]`);
      expect(b.className).toContain(`text-[${b.light.fg}]`);
      expect(b.className).toContain(`dark:bg-[${b.dark.bg}]`);
      expect(b.className).toContain(`dark:text-[${b.dark.fg}]`);
    }
  });

  it("computes WCAG contrast", () => {
    expect(contrast("#000000", "#ffffff")).toBeCloseTo(21, 5);
    expect(contrast("#777777", "#777777")).toBeCloseTo(1, 5);
  });
});
