/**
 * Lint findings of a refused rule upload, read back from the problem the server answers.
 *
 * `POST /v1/detection-rules` refuses a rule whose lint has errors with a 422 `invalid_rule` problem whose detail
 * is (secops-server/src/detections/rules.rs, `upload_rule`):
 *
 * ```text
 * line 3, column 5: first message
 * line 3, column 5: first message (and 2 more: 7:1: error[code]: second message; 9:3: error[other]: third)
 * ```
 *
 * The extra findings use `LintIssue`'s `Display` (`{line}:{column}: {severity}[{code}]: {message}`,
 * secops-detect/src/rules/lint.rs). Other 422s (`invalid YAML: ...`, a missing `id`) carry no position and
 * parse to an empty list.
 */

export interface LintIssue {
  line: number;
  column: number;
  message: string;
  severity: string;
  /** The check's stable name, when the server gave it. */
  code?: string;
}

const FIRST = /^line (\d+), column (\d+): ([\s\S]*)$/;
const MORE = / \(and (\d+) more: ([\s\S]*)\)$/;
const ITEM = /^(\d+):(\d+): (\w+)\[([^\]]*)\]: ([\s\S]*)$/;

/** The findings in a lint problem's detail, in the server's order; empty when it names no position. */
export function parseLintDetail(detail: string): LintIssue[] {
  const first = FIRST.exec(detail.trim());
  if (!first) return [];
  const [, line = "1", column = "1", rest = ""] = first;
  let message = rest;
  const more: LintIssue[] = [];
  const tail = MORE.exec(rest);
  if (tail) {
    message = rest.slice(0, tail.index);
    // Items are joined with "; ", and each starts with "L:C: severity[code]: ".
    for (const part of (tail[2] ?? "").split(/; (?=\d+:\d+: \w+\[)/)) {
      const m = ITEM.exec(part);
      if (m) {
        more.push({
          line: Number(m[1]),
          column: Number(m[2]),
          severity: m[3] ?? "error",
          code: m[4] ?? "",
          message: m[5] ?? "",
        });
      } else if (part.trim()) {
        more.push({ line: Number(line), column: Number(column), severity: "error", message: part.trim() });
      }
    }
  }
  return [{ line: Number(line), column: Number(column), severity: "error", message }, ...more];
}

/** "line L, column C: message", how the UI lists a finding. */
export function formatIssue(i: LintIssue): string {
  return `line ${i.line}, column ${i.column}: ${i.message}`;
}

/** The character range of 1-based `line` in `text` (clamped to the text), to select it in a textarea. */
export function lineRange(text: string, line: number): { start: number; end: number } {
  let start = 0;
  for (let n = 1; n < line; n++) {
    const nl = text.indexOf("\n", start);
    if (nl < 0) break;
    start = nl + 1;
  }
  const nl = text.indexOf("\n", start);
  return { start, end: nl < 0 ? text.length : nl };
}
