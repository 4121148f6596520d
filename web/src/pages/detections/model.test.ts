import { describe, expect, it } from "vitest";
import { eventsPayload } from "./events";
import { formatIssue, lineRange, parseLintDetail } from "./lint";
import {
  DETECTION_STATUSES,
  dayEnd,
  dayStart,
  isUuid,
  levelTone,
  nextStatuses,
  statusLabel,
  techniqueOfTag,
  techniquesOfTags,
  techniqueUrl,
  transitionLabel,
} from "./model";
import { filterRules, hasClientFilters, type RuleFilters } from "./rulesFilter";

describe("workflow", () => {
  it("follows DetectionStatus::can_become", () => {
    expect(nextStatuses("new")).toEqual(["triaging", "closed"]);
    expect(nextStatuses("triaging")).toEqual(["true_positive", "false_positive", "new"]);
    expect(nextStatuses("true_positive")).toEqual(["closed", "triaging"]);
    expect(nextStatuses("false_positive")).toEqual(["closed", "triaging"]);
    expect(nextStatuses("closed")).toEqual(["triaging"]);
    expect(nextStatuses("bogus")).toEqual([]);
  });

  it("never offers the current status, and every target is a known status", () => {
    for (const s of DETECTION_STATUSES) {
      expect(nextStatuses(s)).not.toContain(s);
      for (const n of nextStatuses(s)) expect(DETECTION_STATUSES).toContain(n);
    }
  });

  it("labels actions by where they lead", () => {
    expect(transitionLabel("new", "triaging")).toBe("Start triage");
    expect(transitionLabel("closed", "triaging")).toBe("Reopen");
    expect(transitionLabel("triaging", "true_positive")).toBe("Mark true positive");
    expect(transitionLabel("triaging", "new")).toBe("Back to new");
    expect(statusLabel("false_positive")).toBe("False positive");
    expect(statusLabel("odd")).toBe("odd");
  });

  it("colours levels by severity", () => {
    expect(levelTone("critical")).toBe("danger");
    expect(levelTone("medium")).toBe("warning");
    expect(levelTone("informational")).toBe("neutral");
  });
});

describe("ATT&CK tags", () => {
  it("reads technique ids from tags", () => {
    expect(techniqueOfTag("attack.t1059.001")).toBe("T1059.001");
    expect(techniqueOfTag("attack.T1003")).toBe("T1003");
    expect(techniqueOfTag("attack.execution")).toBeNull();
    expect(techniqueOfTag("attack.g0010")).toBeNull();
    expect(techniqueOfTag("cve.2021-44228")).toBeNull();
    expect(techniquesOfTags(["attack.execution", "attack.t1059.001", "attack.T1059.001", "attack.t1059"])).toEqual([
      "T1059.001",
      "T1059",
    ]);
    expect(techniqueUrl("T1059.001")).toBe("https://attack.mitre.org/techniques/T1059/001");
  });

  it("checks uuids", () => {
    expect(isUuid("0190d5c3-8c3c-7b7e-9f00-0123456789ab")).toBe(true);
    expect(isUuid("nope")).toBe(false);
  });
});

describe("parseLintDetail", () => {
  it("reads one finding", () => {
    expect(parseLintDetail("line 3, column 5: missing required field `detection`")).toEqual([
      { line: 3, column: 5, severity: "error", message: "missing required field `detection`" },
    ]);
  });

  it("reads the extra findings", () => {
    const detail =
      "line 2, column 1: unknown key `titel` (and 2 more: 7:3: error[condition]: unknown identifier `nonexistent`; 9:10: error[regex]: bad regex: unclosed group (\\d+)";
    expect(parseLintDetail(`${detail})`)).toEqual([
      { line: 2, column: 1, severity: "error", message: "unknown key `titel`" },
      { line: 7, column: 3, severity: "error", code: "condition", message: "unknown identifier `nonexistent`" },
      { line: 9, column: 10, severity: "error", code: "regex", message: "bad regex: unclosed group (\\d+)" },
    ]);
  });

  it("keeps a semicolon inside a message", () => {
    const issues = parseLintDetail("line 1, column 1: a (and 1 more: 4:2: error[x]: one; two)");
    expect(issues).toHaveLength(2);
    expect(issues[1]).toMatchObject({ line: 4, column: 2, message: "one; two" });
  });

  it("returns nothing for problems without a position", () => {
    expect(parseLintDetail("invalid YAML: did not find expected node content")).toEqual([]);
    expect(parseLintDetail("the rule needs an `id` (a UUID), so detections can name it")).toEqual([]);
  });

  it("formats findings as the UI lists them", () => {
    expect(formatIssue({ line: 4, column: 2, severity: "error", message: "boom" })).toBe("line 4, column 2: boom");
  });

  it("finds a line's range", () => {
    const text = "a: 1\nbb: 2\nccc: 3";
    expect(lineRange(text, 1)).toEqual({ start: 0, end: 4 });
    expect(lineRange(text, 2)).toEqual({ start: 5, end: 10 });
    expect(text.slice(lineRange(text, 3).start, lineRange(text, 3).end)).toBe("ccc: 3");
    expect(lineRange(text, 99)).toEqual({ start: 11, end: 17 });
  });
});

describe("eventsPayload", () => {
  it("sends one JSON document as JSON", () => {
    expect(eventsPayload('{"a":1}')).toEqual({ contentType: "application/json", body: '{"a":1}', count: 1 });
    expect(eventsPayload(' [{"a":1},{"a":2}] ')).toMatchObject({ contentType: "application/json", count: 2 });
  });

  it("sends several lines as NDJSON without blank lines", () => {
    expect(eventsPayload('{"a":1}\n\n{"a":2}\r\n')).toEqual({
      contentType: "application/x-ndjson",
      body: '{"a":1}\n{"a":2}\n',
      count: 2,
    });
  });

  it("refuses nothing and scalars", () => {
    expect(eventsPayload("  ")).toHaveProperty("error");
    expect(eventsPayload("42")).toHaveProperty("error");
  });
});

describe("filterRules", () => {
  const rules = [
    { title: "Whoami", rule_uid: "u1", author: "Ann", level: "high", status: "stable", enabled: true, tags: ["attack.t1033"] },
    { title: "PowerShell", rule_uid: "u2", author: "Bo", level: "medium", status: "test", enabled: false, tags: ["attack.t1059.001"] },
  ];
  const none: RuleFilters = { enabled: "", level: "", status: "", q: "", technique: "" };

  it("filters by each field", () => {
    expect(filterRules(rules, none)).toHaveLength(2);
    expect(filterRules(rules, { ...none, enabled: "disabled" }).map((r) => r.rule_uid)).toEqual(["u2"]);
    expect(filterRules(rules, { ...none, level: "high" }).map((r) => r.rule_uid)).toEqual(["u1"]);
    expect(filterRules(rules, { ...none, status: "test" }).map((r) => r.rule_uid)).toEqual(["u2"]);
    expect(filterRules(rules, { ...none, q: "ann" }).map((r) => r.rule_uid)).toEqual(["u1"]);
    expect(filterRules(rules, { ...none, technique: "t1059.001" }).map((r) => r.rule_uid)).toEqual(["u2"]);
    expect(filterRules(rules, { ...none, technique: "T1059" })).toEqual([]);
  });

  it("knows which filters are client-side", () => {
    expect(hasClientFilters(none)).toBe(false);
    expect(hasClientFilters({ ...none, enabled: "enabled" })).toBe(false);
    expect(hasClientFilters({ ...none, enabled: "disabled" })).toBe(true);
    expect(hasClientFilters({ ...none, q: "x" })).toBe(true);
  });
});

describe("day range", () => {
  it("turns local calendar days into the bounds of the request", () => {
    const start = new Date(dayStart("2026-03-01"));
    expect([start.getFullYear(), start.getMonth(), start.getDate(), start.getHours()]).toEqual([2026, 2, 1, 0]);
    const end = new Date(dayEnd("2026-03-01"));
    expect([end.getFullYear(), end.getMonth(), end.getDate(), end.getHours()]).toEqual([2026, 2, 2, 0]);
    expect(dayStart("")).toBe("");
    expect(dayEnd("not a day")).toBe("");
  });
});
