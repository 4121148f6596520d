/**
 * Side-by-side rows from `GET /v1/agents/{id}/prompts/diff` → `changes` (runs of whole lines tagged `equal`,
 * `delete` or `insert`, in order; each run's `text` is its lines, newline-terminated except maybe the last).
 * A deletion directly followed by an insertion is shown as changed lines, paired row by row.
 */

export interface DiffChange {
  op: string;
  text: string;
}

export interface DiffLine {
  /** Line number in its version, from 1. */
  number: number;
  text: string;
}

export type DiffRow =
  | { kind: "equal" | "change"; left: DiffLine; right: DiffLine }
  | { kind: "delete"; left: DiffLine; right: null }
  | { kind: "insert"; left: null; right: DiffLine }
  /** `count` unchanged lines folded away. */
  | { kind: "skip"; count: number; fromLeft: number; fromRight: number };

export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (text.endsWith("\n")) lines.pop();
  return lines;
}

export function sideBySide(changes: readonly DiffChange[]): DiffRow[] {
  const rows: DiffRow[] = [];
  let l = 1;
  let r = 1;
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i];
    if (!c) continue;
    const lines = splitLines(c.text);
    if (c.op === "equal") {
      for (const t of lines) rows.push({ kind: "equal", left: { number: l++, text: t }, right: { number: r++, text: t } });
    } else if (c.op === "delete") {
      const next = changes[i + 1];
      const inserted = next?.op === "insert" ? splitLines(next.text) : [];
      if (next?.op === "insert") i++;
      const n = Math.max(lines.length, inserted.length);
      for (let k = 0; k < n; k++) {
        const del = lines[k];
        const ins = inserted[k];
        if (del !== undefined && ins !== undefined) {
          rows.push({ kind: "change", left: { number: l++, text: del }, right: { number: r++, text: ins } });
        } else if (del !== undefined) {
          rows.push({ kind: "delete", left: { number: l++, text: del }, right: null });
        } else if (ins !== undefined) {
          rows.push({ kind: "insert", left: null, right: { number: r++, text: ins } });
        }
      }
    } else if (c.op === "insert") {
      for (const t of lines) rows.push({ kind: "insert", left: null, right: { number: r++, text: t } });
    }
  }
  return rows;
}

/** Folds runs of more than `2 * context` unchanged lines, keeping `context` lines around each change. */
export function foldUnchanged(rows: readonly DiffRow[], context = 3): DiffRow[] {
  const out: DiffRow[] = [];
  let i = 0;
  while (i < rows.length) {
    const row = rows[i];
    if (row?.kind !== "equal") {
      if (row) out.push(row);
      i++;
      continue;
    }
    let j = i;
    while (rows[j]?.kind === "equal") j++;
    const run = rows.slice(i, j);
    const keepHead = i === 0 ? 0 : context;
    const keepTail = j === rows.length ? 0 : context;
    if (run.length > keepHead + keepTail + 1) {
      out.push(...run.slice(0, keepHead));
      const first = run[keepHead];
      if (first?.kind === "equal") {
        out.push({ kind: "skip", count: run.length - keepHead - keepTail, fromLeft: first.left.number, fromRight: first.right.number });
      }
      out.push(...run.slice(run.length - keepTail));
    } else {
      out.push(...run);
    }
    i = j;
  }
  return out;
}
