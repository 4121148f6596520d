/** One row of the run timeline. Rows re-render only when their item changed (`rev`). */
import { memo, type ReactNode } from "react";
import type { Citation } from "../../api/runEvents";
import { Badge, Icon, JsonView, parseMaybeJson, type IconName } from "../../components";
import { cn } from "../../lib/cn";
import { formatCost, formatDuration, formatNumber } from "../../lib/format";
import { modeLabel, stopReasonLabel, toolStatusLabel, toolStatusTone } from "./status";
import type { ModelCallItem, PlanItem, StepItem, TimelineItem, ToolCallItem } from "./timeline";

const exact = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

function offset(at: number, startedAt: number | null): string {
  if (startedAt === null) return "";
  const ms = at - startedAt;
  return ms < 0 ? "" : `+${formatDuration(ms)}`;
}

function Row({
  icon,
  title,
  meta,
  at,
  startedAt,
  nested,
  children,
  tone = "default",
}: {
  icon: IconName;
  title: ReactNode;
  meta?: ReactNode;
  at: number;
  startedAt: number | null;
  nested: boolean;
  children?: ReactNode;
  tone?: "default" | "warning" | "danger" | "success";
}) {
  return (
    <article
      className={cn(
        "border-l-2 py-2 pr-1 pl-3",
        nested && "ml-4 sm:ml-8",
        tone === "default" && "border-slate-200 dark:border-slate-800",
        tone === "warning" && "border-amber-400 bg-amber-50/60 dark:border-amber-600 dark:bg-amber-950/30",
        tone === "danger" && "border-red-400 dark:border-red-700",
        tone === "success" && "border-emerald-400 dark:border-emerald-700",
      )}
    >
      <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
        <Icon name={icon} className="size-4 shrink-0 text-slate-500" />
        <h3 className="min-w-0 text-sm font-medium break-words">{title}</h3>
        {meta}
        <time
          className="ml-auto font-mono text-xs text-slate-500 tabular-nums dark:text-slate-400"
          dateTime={new Date(at).toISOString()}
          title={exact.format(at)}
        >
          {offset(at, startedAt)}
        </time>
      </div>
      {children && <div className="mt-2 space-y-2 text-sm">{children}</div>}
    </article>
  );
}

function Caption({ children }: { children: ReactNode }) {
  return <p className="-mb-1 text-xs font-medium text-slate-500 dark:text-slate-400">{children}</p>;
}

function Meta({ children }: { children: ReactNode }) {
  return <span className="text-xs text-slate-500 dark:text-slate-400">{children}</span>;
}

function ModelCall({ item, startedAt }: { item: ModelCallItem; startedAt: number | null }) {
  const u = item.usage;
  const meta = [
    item.durationMs !== null ? formatDuration(item.durationMs) : item.status === "running" ? "running…" : null,
    u ? `${formatNumber(u.input_tokens)} in / ${formatNumber(u.output_tokens)} out tokens` : null,
    u && u.cache_read_tokens > 0 ? `${formatNumber(u.cache_read_tokens)} cached` : null,
    item.costUsd !== null && item.costUsd > 0 ? formatCost(item.costUsd) : null,
  ].filter(Boolean);
  return (
    <Row
      icon="bot"
      title={`Model call ${item.call}`}
      meta={
        <>
          {item.status === "failed" && <Badge tone="danger">Failed</Badge>}
          {meta.length > 0 && <Meta>{meta.join(" · ")}</Meta>}
        </>
      }
      at={item.at}
      startedAt={startedAt}
      nested={item.step !== null}
    >
      {item.reasoning && (
        <details className="rounded-md border border-slate-200 px-2 py-1 dark:border-slate-800">
          <summary className="cursor-pointer text-xs text-slate-600 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-slate-400">
            Reasoning ({formatNumber(item.reasoning.length)} characters)
          </summary>
          <p className="mt-1 max-h-64 overflow-auto text-xs whitespace-pre-wrap text-slate-600 dark:text-slate-400">
            {item.reasoning}
          </p>
        </details>
      )}
      {item.text && <p className="max-h-80 overflow-auto break-words whitespace-pre-wrap">{item.text}</p>}
    </Row>
  );
}

function ToolCall({
  item,
  startedAt,
  decisionSent,
}: {
  item: ToolCallItem;
  startedAt: number | null;
  decisionSent: string | null;
}) {
  const r = item.result;
  const tone = item.status === "awaiting_approval" ? "warning" : item.status === "failed" || item.status === "denied" ? "danger" : "default";
  const meta = [
    r && !NOT_RUN.includes(r.outcome) ? `ran ${formatDuration(r.durationMs)}` : null,
    item.approval?.waitMs != null ? `waited ${formatDuration(item.approval.waitMs)} for approval` : null,
  ].filter(Boolean);
  return (
    <Row
      icon="tool"
      title={
        <>
          Tool call <span className="font-mono">{item.tool}</span>
        </>
      }
      meta={
        <>
          <Badge tone={toolStatusTone(item.status)}>{toolStatusLabel(item.status)}</Badge>
          {meta.length > 0 && <Meta>{meta.join(" · ")}</Meta>}
        </>
      }
      at={item.at}
      startedAt={startedAt}
      nested={item.step !== null}
      tone={tone}
    >
      <Caption>Arguments</Caption>
      <JsonView value={item.input} label={`Arguments of ${item.tool}`} defaultExpandDepth={1} />
      {item.status === "awaiting_approval" && (
        <p className="text-xs text-amber-800 dark:text-amber-300">
          {decisionSent
            ? `Decision sent (${decisionSent}); the run resumes once every waiting call is decided.`
            : "Waits for a decision (see “Waiting for a decision” above)."}
        </p>
      )}
      {item.approval?.decision && (
        <p className="text-xs text-slate-600 dark:text-slate-400">
          Decision: <strong>{decisionLabel(item.approval.decision)}</strong>
        </p>
      )}
      {r &&
        (r.isError ? (
          <div role="note" aria-label={`Error of ${item.tool}`} className="rounded-md border border-red-200 bg-red-50 p-2 text-xs text-red-800 dark:border-red-900 dark:bg-red-950/40 dark:text-red-200">
            <p className="font-medium">{outcomeLabel(r.outcome)}</p>
            <p className="mt-1 break-words whitespace-pre-wrap">{r.content}</p>
          </div>
        ) : (
          <>
            <Caption>Result</Caption>
            <JsonView value={parseMaybeJson(r.content)} label={`Result of ${item.tool}`} defaultExpandDepth={1} />
          </>
        ))}
    </Row>
  );
}

/** Outcomes of calls that never ran (their duration means nothing). */
const NOT_RUN: readonly string[] = ["denied", "cancelled", "not_run"];

function decisionLabel(d: string): string {
  return d === "approve" ? "approved" : d === "deny" ? "denied" : d === "edit" ? "approved with edited arguments" : d;
}

function outcomeLabel(o: string): string {
  switch (o) {
    case "unknown_tool":
      return "Unknown tool";
    case "invalid_input":
      return "Invalid arguments";
    case "timed_out":
      return "Timed out";
    case "denied":
      return "Denied";
    case "cancelled":
      return "Cancelled";
    case "not_run":
      return "Not run";
    default:
      return "Failed";
  }
}

function Plan({ item, startedAt }: { item: PlanItem; startedAt: number | null }) {
  return (
    <Row icon="list" title={item.replanned ? "New plan" : "Plan"} at={item.at} startedAt={startedAt} nested={false}>
      <ol className="space-y-1">
        {item.steps.map((s) => (
          <li key={s.number} className="flex flex-wrap items-center gap-2">
            <span className="font-mono text-xs text-slate-500">{s.number}.</span>
            <span className={cn(s.status === "replaced" && "text-slate-400 line-through")}>{s.title}</span>
            <Badge
              tone={s.status === "completed" ? "success" : s.status === "failed" ? "danger" : s.status === "running" ? "info" : "neutral"}
            >
              {s.status === "pending" ? "Pending" : s.status === "running" ? "Running" : s.status === "completed" ? "Done" : s.status === "failed" ? "Failed" : "Replaced"}
            </Badge>
          </li>
        ))}
      </ol>
    </Row>
  );
}

function Step({ item, startedAt }: { item: StepItem; startedAt: number | null }) {
  const tone = item.status === "completed" ? "success" : item.status === "failed" ? "danger" : "default";
  return (
    <Row
      icon="chevronRight"
      title={`Step ${item.number}: ${item.title}`}
      meta={
        <>
          <Badge tone={item.status === "completed" ? "success" : item.status === "running" ? "info" : item.status === "failed" ? "danger" : "neutral"}>
            {item.status === "running" ? "Running" : item.status === "completed" ? "Completed" : item.status === "failed" ? "Failed" : "Interrupted"}
          </Badge>
          {item.durationMs !== null && <Meta>{formatDuration(item.durationMs)}</Meta>}
        </>
      }
      at={item.at}
      startedAt={startedAt}
      nested={false}
      tone={tone}
    >
      {item.result && <p className="max-h-64 overflow-auto break-words whitespace-pre-wrap">{item.result}</p>}
    </Row>
  );
}

function Citations({ citations }: { citations: Citation[] }) {
  if (citations.length === 0) return null;
  return (
    <div>
      <p className="text-xs font-medium text-slate-600 dark:text-slate-400">Citations</p>
      <ul className="mt-1 space-y-0.5 text-xs">
        {citations.map((c) =>
          c.kind === "source" ? (
            <li key={`s${c.marker}`}>
              [{c.marker}] {c.title || c.source} <span className="text-slate-500">({c.source})</span>
            </li>
          ) : (
            <li key={`p${c.number}`}>
              Step {c.number}: {c.title}
            </li>
          ),
        )}
      </ul>
    </div>
  );
}

function TimelineRowImpl({
  item,
  startedAt,
  decisionSent,
}: {
  item: TimelineItem;
  startedAt: number | null;
  /** For a waiting call: the decision sent from this page. */
  decisionSent: string | null;
}) {
  switch (item.kind) {
    case "start":
      return <Row icon="send" title={`Run started · ${modeLabel(item.mode)}`} at={item.at} startedAt={startedAt} nested={false} />;
    case "context":
      return (
        <Row
          icon="file"
          title={item.error ? "Retrieval failed" : `Retrieved ${item.passages ?? 0} ${item.passages === 1 ? "passage" : "passages"}`}
          at={item.at}
          startedAt={startedAt}
          nested={item.step !== null}
          tone={item.error ? "danger" : "default"}
        >
          {item.error && <p className="text-xs text-red-700 dark:text-red-300">{item.error}</p>}
        </Row>
      );
    case "plan":
      return <Plan item={item} startedAt={startedAt} />;
    case "step":
      return <Step item={item} startedAt={startedAt} />;
    case "model_call":
      return <ModelCall item={item} startedAt={startedAt} />;
    case "tool_call":
      return <ToolCall item={item} startedAt={startedAt} decisionSent={decisionSent} />;
    case "memory":
      return (
        <Row
          icon="refresh"
          title={item.summarised ? "Memory compacted (summary written)" : "Memory window moved"}
          at={item.at}
          startedAt={startedAt}
          nested={item.step !== null}
        />
      );
    case "end":
      return (
        <Row
          icon={item.status === "finished" ? "check" : item.status === "failed" ? "alert" : "stop"}
          title={`${item.status === "finished" ? "Finished" : item.status === "failed" ? "Failed" : "Cancelled"} · ${stopReasonLabel(item.output.stop_reason)}`}
          at={item.at}
          startedAt={startedAt}
          nested={false}
          tone={item.status === "finished" ? "success" : item.status === "failed" ? "danger" : "default"}
        >
          {item.error && <p className="text-red-700 dark:text-red-300">{item.error}</p>}
          <section aria-label="Final answer" className="rounded-md border border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900">
            <p className="mb-1 text-xs font-semibold tracking-wide text-slate-500 uppercase">Final answer</p>
            {item.output.text ? (
              <p className="break-words whitespace-pre-wrap">{item.output.text}</p>
            ) : (
              <p className="text-slate-500 italic">No answer text.</p>
            )}
          </section>
          <Citations citations={item.output.citations} />
        </Row>
      );
  }
}

export const TimelineRow = memo(
  TimelineRowImpl,
  (a, b) => a.item.key === b.item.key && a.item.rev === b.item.rev && a.startedAt === b.startedAt && a.decisionSent === b.decisionSent,
);
