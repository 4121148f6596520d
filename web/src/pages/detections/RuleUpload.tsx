/**
 * Uploading a Sigma rule: a YAML editor (textarea with line numbers) and a file picker, `POST
 * /v1/detection-rules`. A refused rule's lint errors (422 `invalid_rule`, "line L, column C: message ...") are
 * listed next to the editor; choosing one selects its line in the editor and marks it in the gutter. Warnings
 * of an accepted rule are listed the same way.
 */
import { useId, useRef, useState, type ChangeEvent } from "react";
import { Button, Field, ProblemMessage, Select } from "../../components";
import { ApiProblem } from "../../api/problem";
import { cn } from "../../lib/cn";
import { formatIssue, lineRange, parseLintDetail, type LintIssue } from "./lint";
import { useUploadRule } from "./queries";

/** The server's limit (`upload_rule`). */
const MAX_BYTES = 256 * 1024;
const LINE_PX = 20;

export function RuleUpload({ onClose }: { onClose?: () => void }) {
  const [yaml, setYaml] = useState("");
  const [enabled, setEnabled] = useState<"" | "true" | "false">("");
  const [fileError, setFileError] = useState<string | null>(null);
  const [current, setCurrent] = useState<number | null>(null);
  const upload = useUploadRule();
  const editor = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const issuesId = useId();

  const problem = upload.error;
  const lintErrors: LintIssue[] =
    problem instanceof ApiProblem && problem.status === 422 ? parseLintDetail(problem.detail) : [];
  const warnings: LintIssue[] = (upload.data?.warnings ?? []).map((w) => ({
    line: w.line,
    column: w.column,
    severity: w.severity,
    code: w.code,
    message: w.message,
  }));
  const marked = new Map<number, string>();
  for (const w of warnings) marked.set(w.line, "warning");
  for (const e of lintErrors) marked.set(e.line, "error");
  const lineCount = yaml.split("\n").length;

  const jumpTo = (issue: LintIssue) => {
    const el = editor.current;
    if (!el) return;
    const { start, end } = lineRange(yaml, issue.line);
    el.focus();
    el.setSelectionRange(start + Math.max(0, Math.min(issue.column - 1, end - start)), end);
    el.scrollTop = Math.max(0, (issue.line - 3) * LINE_PX);
    setCurrent(issue.line);
  };

  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = "";
    if (!file) return;
    if (file.size > MAX_BYTES) {
      setFileError(`${file.name} is larger than 256 KiB, the most a rule may be.`);
      return;
    }
    setFileError(null);
    setYaml(await file.text());
    upload.reset();
    setCurrent(null);
  };

  const submit = () => {
    if (!yaml.trim()) {
      setFileError("Paste a rule or choose a file first.");
      return;
    }
    setFileError(null);
    setCurrent(null);
    upload.mutate({ yaml, ...(enabled ? { enabled: enabled === "true" } : {}) });
  };

  return (
    <section aria-labelledby="upload-h" className="rounded-lg border border-slate-200 p-4 dark:border-slate-800">
      <div className="mb-3 flex items-center justify-between gap-2">
        <h2 id="upload-h" className="text-base font-semibold">
          Upload a rule
        </h2>
        {onClose && (
          <Button size="sm" variant="ghost" onClick={onClose}>
            Close upload
          </Button>
        )}
      </div>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
        className="grid gap-4 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]"
      >
        <div className="min-w-0 space-y-3">
          <Field
            label="Rule YAML"
            hint="One Sigma rule, correlation or filter, with an id. Lint errors refuse it; warnings are listed."
            error={fileError}
          >
            {({ invalid, ...p }) => (
              <div
                className={cn(
                  "flex overflow-hidden rounded-md border bg-white focus-within:outline-2 focus-within:outline-offset-1 focus-within:outline-indigo-500 dark:bg-slate-900",
                  lintErrors.length > 0 || invalid ? "border-red-500" : "border-slate-300 dark:border-slate-700",
                )}
              >
                <div
                  ref={gutter}
                  aria-hidden
                  className="h-80 shrink-0 overflow-hidden border-r border-slate-200 bg-slate-50 py-2 text-right font-mono text-xs text-slate-500 select-none dark:border-slate-800 dark:bg-slate-950 dark:text-slate-400"
                >
                  {Array.from({ length: lineCount }, (_, i) => {
                    const kind = marked.get(i + 1);
                    return (
                      <div
                        key={i}
                        style={{ height: LINE_PX, lineHeight: `${LINE_PX}px` }}
                        className={cn(
                          "min-w-10 px-2",
                          kind === "error" && "bg-red-100 font-bold text-red-800 dark:bg-red-950 dark:text-red-200",
                          kind === "warning" && "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-200",
                          current === i + 1 && "outline-2 -outline-offset-2 outline-indigo-500",
                        )}
                      >
                        {kind === "error" ? "✕ " : kind === "warning" ? "! " : ""}
                        {i + 1}
                      </div>
                    );
                  })}
                  {/* Room for the editor's horizontal scrollbar, so both scroll to the same last line. */}
                  <div style={{ height: 24 }} />
                </div>
                <textarea
                  {...p}
                  ref={editor}
                  aria-describedby={[p["aria-describedby"], lintErrors.length || warnings.length ? issuesId : null].filter(Boolean).join(" ") || undefined}
                  aria-invalid={lintErrors.length > 0 || invalid ? true : undefined}
                  value={yaml}
                  onChange={(e) => {
                    setYaml(e.target.value);
                    setCurrent(null);
                  }}
                  onScroll={(e) => {
                    if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
                  }}
                  wrap="off"
                  spellCheck={false}
                  autoCapitalize="off"
                  autoCorrect="off"
                  style={{ lineHeight: `${LINE_PX}px` }}
                  className="h-80 min-w-0 flex-1 resize-none overflow-auto bg-transparent px-3 py-2 font-mono text-xs whitespace-pre text-slate-900 outline-none dark:text-slate-100"
                  placeholder={"title: Whoami execution\nid: 00000000-0000-0000-0000-000000000000\nstatus: test\n..."}
                />
              </div>
            )}
          </Field>
          <div className="grid gap-3 sm:grid-cols-2">
            <Field label="Rule file" hint=".yml or .yaml, up to 256 KiB">
              {(p) => (
                <input
                  {...p}
                  type="file"
                  accept=".yml,.yaml,application/yaml,text/yaml,text/x-yaml"
                  onChange={(e) => void onFile(e)}
                  className="block w-full text-sm text-slate-700 file:mr-3 file:rounded-md file:border file:border-slate-300 file:bg-white file:px-3 file:py-1.5 file:text-sm file:font-medium focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-slate-200 dark:file:border-slate-700 dark:file:bg-slate-900 dark:file:text-slate-100"
                />
              )}
            </Field>
            <Field label="Run it" hint="By default only stable and test rules run.">
              {(p) => (
                <Select {...p} value={enabled} onChange={(e) => setEnabled(e.target.value as "" | "true" | "false")}>
                  <option value="">Default for its status</option>
                  <option value="true">Enabled</option>
                  <option value="false">Disabled</option>
                </Select>
              )}
            </Field>
          </div>
          <div className="flex flex-wrap justify-end gap-2">
            <Button
              onClick={() => {
                setYaml("");
                upload.reset();
                setCurrent(null);
                setFileError(null);
              }}
              disabled={!yaml && !upload.data && !upload.error}
            >
              Clear
            </Button>
            <Button type="submit" variant="primary" loading={upload.isPending}>
              Upload rule
            </Button>
          </div>
        </div>

        <div id={issuesId} className="min-w-0 space-y-3" aria-live="polite">
          {lintErrors.length > 0 ? (
            <div role="alert" className="rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-900 dark:border-red-900 dark:bg-red-950/50 dark:text-red-100">
              <p className="font-semibold">
                The rule was refused: {lintErrors.length} lint {lintErrors.length === 1 ? "error" : "errors"}
              </p>
              <IssueList issues={lintErrors} label="Lint errors" onPick={jumpTo} />
              <p className="mt-2 font-mono text-xs opacity-80">code: {problem instanceof ApiProblem ? problem.code : ""}</p>
            </div>
          ) : (
            problem && <ProblemMessage error={problem} />
          )}
          {upload.data && (
            <div className="rounded-md border border-emerald-200 bg-emerald-50 p-3 text-sm text-emerald-900 dark:border-emerald-900 dark:bg-emerald-950/50 dark:text-emerald-100">
              <p className="font-semibold">
                Uploaded “{upload.data.rule.title}” ({upload.data.rule.enabled ? "enabled" : "disabled"}).
              </p>
              {warnings.length > 0 ? (
                <>
                  <p className="mt-1">
                    {warnings.length} lint {warnings.length === 1 ? "finding" : "findings"}:
                  </p>
                  <IssueList issues={warnings} label="Lint warnings" onPick={jumpTo} />
                </>
              ) : (
                <p className="mt-1">No lint findings.</p>
              )}
            </div>
          )}
          {!problem && !upload.data && (
            <p className="text-sm text-slate-500 dark:text-slate-400">Lint errors and warnings appear here, by line and column.</p>
          )}
        </div>
      </form>
    </section>
  );
}

function IssueList({ issues, label, onPick }: { issues: LintIssue[]; label: string; onPick: (i: LintIssue) => void }) {
  return (
    <ol aria-label={label} className="mt-2 space-y-1">
      {issues.map((i, n) => (
        <li key={`${i.line}:${i.column}:${n}`}>
          <button
            type="button"
            onClick={() => onPick(i)}
            className="w-full rounded px-1 py-0.5 text-left hover:bg-black/5 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:hover:bg-white/10"
          >
            <span className="font-mono text-xs">{formatIssue(i)}</span>
            {(i.severity !== "error" || i.code) && (
              <span className="ml-1 text-xs opacity-75">
                {" "}
                ({i.severity}
                {i.code ? `, ${i.code}` : ""})
              </span>
            )}
          </button>
        </li>
      ))}
    </ol>
  );
}
