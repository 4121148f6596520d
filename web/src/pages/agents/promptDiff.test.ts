import { describe, expect, it } from "vitest";
import { foldUnchanged, sideBySide, splitLines } from "./promptDiff";

describe("splitLines", () => {
  it("splits newline-terminated runs", () => {
    expect(splitLines("a\nb\n")).toEqual(["a", "b"]);
    expect(splitLines("a\nb")).toEqual(["a", "b"]);
    expect(splitLines("")).toEqual([]);
    expect(splitLines("\n")).toEqual([""]);
  });
});

describe("sideBySide", () => {
  it("numbers both sides and pairs a deletion with the insertion after it", () => {
    const rows = sideBySide([
      { op: "equal", text: "You are a triage agent.\n" },
      { op: "delete", text: "Be brief.\nCite sources.\n" },
      { op: "insert", text: "Be thorough.\n" },
      { op: "equal", text: "End.\n" },
      { op: "insert", text: "PS\n" },
    ]);
    expect(rows).toEqual([
      { kind: "equal", left: { number: 1, text: "You are a triage agent." }, right: { number: 1, text: "You are a triage agent." } },
      { kind: "change", left: { number: 2, text: "Be brief." }, right: { number: 2, text: "Be thorough." } },
      { kind: "delete", left: { number: 3, text: "Cite sources." }, right: null },
      { kind: "equal", left: { number: 4, text: "End." }, right: { number: 3, text: "End." } },
      { kind: "insert", left: null, right: { number: 4, text: "PS" } },
    ]);
  });

  it("shows more insertions than deletions as inserted lines", () => {
    const rows = sideBySide([
      { op: "delete", text: "a\n" },
      { op: "insert", text: "b\nc\n" },
    ]);
    expect(rows.map((r) => r.kind)).toEqual(["change", "insert"]);
  });
});

describe("foldUnchanged", () => {
  const equal = (n: number) => ({ op: "equal", text: Array.from({ length: n }, (_, i) => `l${i}\n`).join("") });

  it("folds long unchanged runs, keeping context around changes", () => {
    const rows = sideBySide([equal(10), { op: "insert", text: "new\n" }, equal(10)]);
    const folded = foldUnchanged(rows, 2);
    expect(folded.map((r) => r.kind)).toEqual(["skip", "equal", "equal", "insert", "equal", "equal", "skip"]);
    expect(folded[0]).toEqual({ kind: "skip", count: 8, fromLeft: 1, fromRight: 1 });
  });

  it("leaves short runs alone", () => {
    const rows = sideBySide([equal(2), { op: "insert", text: "x\n" }, equal(2)]);
    expect(foldUnchanged(rows, 3)).toEqual(rows);
  });
});
