/** Two prompt versions side by side (`GET /v1/agents/{id}/prompts/diff` → `changes`), unchanged runs folded. */
import { useState } from "react";
import { Button, ErrorState, SkeletonList } from "../../components";
import { cn } from "../../lib/cn";
import { foldUnchanged, sideBySide, type DiffLine, type DiffRow } from "./promptDiff";
import { usePromptDiff } from "./queries";

function Cell({ line, tone }: { line: DiffLine | null; tone: "equal" | "delete" | "insert" | "empty" }) {
  return (
    <div
      className={cn(
        "flex min-w-0 gap-2 px-2 py-0.5",
        tone === "delete" && "bg-red-50 text-red-900 dark:bg-red-950/50 dark:text-red-200",
        tone === "insert" && "bg-emerald-50 text-emerald-900 dark:bg-emerald-950/50 dark:text-emerald-200",
        tone === "empty" && "bg-slate-50 dark:bg-slate-900/60",
      )}
    >
      <span className="w-8 shrink-0 text-right text-slate-400 select-none" aria-hidden>
        {line?.number ?? ""}
      </span>
      {line && (
        <span className="min-w-0 break-words whitespace-pre-wrap">
          {tone === "delete" && <span className="sr-only">Removed: </span>}
          {tone === "insert" && <span className="sr-only">Added: </span>}
          {line.text === "" ? " " : line.text}
        </span>
      )}
    </div>
  );
}

function Row({ row }: { row: DiffRow }) {
  switch (row.kind) {
    case "skip":
      return (
        <div className="col-span-2 bg-slate-100 px-2 py-1 text-center text-slate-500 dark:bg-slate-800">
          {row.count} unchanged {row.count === 1 ? "line" : "lines"}
        </div>
      );
    case "equal":
      return (
        <>
          <Cell line={row.left} tone="equal" />
          <Cell line={row.right} tone="equal" />
        </>
      );
    case "change":
      return (
        <>
          <Cell line={row.left} tone="delete" />
          <Cell line={row.right} tone="insert" />
        </>
      );
    case "delete":
      return (
        <>
          <Cell line={row.left} tone="delete" />
          <Cell line={null} tone="empty" />
        </>
      );
    case "insert":
      return (
        <>
          <Cell line={null} tone="empty" />
          <Cell line={row.right} tone="insert" />
        </>
      );
  }
}

export function PromptDiffView({ agentId, from, to }: { agentId: string; from: number; to: number }) {
  const q = usePromptDiff(agentId, from, to);
  const [all, setAll] = useState(false);
  if (q.isPending) return <SkeletonList lines={3} />;
  if (q.isError) return <ErrorState compact error={q.error} onRetry={() => void q.refetch()} />;
  const rows = sideBySide(q.data.changes);
  const changed = rows.some((r) => r.kind !== "equal");
  const shown = all ? rows : foldUnchanged(rows);
  return (
    <figure className="space-y-2">
      <figcaption className="flex flex-wrap items-center gap-2 text-sm">
        <span>
          Version {q.data.from} → version {q.data.to}
        </span>
        {!changed && <span className="text-slate-500">(identical)</span>}
        {shown.length !== rows.length || all ? (
          <Button size="sm" variant="ghost" className="ml-auto" onClick={() => setAll((a) => !a)}>
            {all ? "Fold unchanged lines" : "Show all lines"}
          </Button>
        ) : null}
      </figcaption>
      <div className="overflow-x-auto rounded-md border border-slate-200 dark:border-slate-800">
        <div className="grid min-w-[28rem] grid-cols-2 font-mono text-xs" role="group" aria-label={`Differences between version ${q.data.from} and version ${q.data.to}`}>
          <div className="contents">
            <div className="border-b border-slate-200 bg-slate-50 px-2 py-1 font-sans font-semibold dark:border-slate-800 dark:bg-slate-900">
              Version {q.data.from}
            </div>
            <div className="border-b border-slate-200 bg-slate-50 px-2 py-1 font-sans font-semibold dark:border-slate-800 dark:bg-slate-900">
              Version {q.data.to}
            </div>
          </div>
          {shown.map((r, i) => (
            <Row key={i} row={r} />
          ))}
        </div>
      </div>
    </figure>
  );
}
