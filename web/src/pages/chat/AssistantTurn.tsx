/**
 * One answer: streamed text, plan, tool-call cards, citations, tokens and cost, stop reason, feedback, and a
 * Cancel button while the run is live. Renders a live turn from the stream reducer, or a stored message with
 * its run (usage, citations) fetched on demand.
 */
import { Link } from "react-router";
import { runOutputOf, usageOf, type Citation } from "../../api/runEvents";
import { Badge, Button, Icon, RelativeTime, Spinner, toast, type BadgeTone } from "../../components";
import { formatCost, formatDuration, formatNumber } from "../../lib/format";
import { cn } from "../../lib/cn";
import { usePermissions } from "../../lib/usePermissions";
import type { ApprovalRequest } from "../../api/types";
import { Feedback } from "./Feedback";
import { useRun } from "./queries";
import { displayText, isLive, type TurnState, type TurnStatus } from "./streamReducer";
import { ToolCallCard } from "./ToolCallCard";

const STATUS: Record<TurnStatus, { label: string; tone: BadgeTone }> = {
  queued: { label: "Queued", tone: "neutral" },
  running: { label: "Answering", tone: "info" },
  awaiting_approval: { label: "Waiting for approval", tone: "warning" },
  finished: { label: "Finished", tone: "success" },
  failed: { label: "Failed", tone: "danger" },
  cancelled: { label: "Cancelled", tone: "neutral" },
};

function stopLabel(reason: string): string {
  return reason.replace(/_/g, " ");
}

function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

function Citations({ citations }: { citations: readonly Citation[] }) {
  if (citations.length === 0) return null;
  return (
    <div>
      <h3 className="mb-1 text-xs font-medium text-slate-500 uppercase">Sources</h3>
      <ol className="space-y-0.5 text-xs">
        {citations.map((c) =>
          c.kind === "source" ? (
            <li key={`s${c.marker}-${c.id}`} className="flex gap-1">
              <span className="text-slate-500">[{c.marker}]</span>
              {isUrl(c.source) ? (
                <a href={c.source} target="_blank" rel="noopener noreferrer" className="text-indigo-600 underline-offset-2 hover:underline dark:text-indigo-400">
                  {c.title || c.source}
                </a>
              ) : (
                <span>
                  {c.title ? `${c.title} — ` : ""}
                  <span className="font-mono">{c.source}</span>
                </span>
              )}
            </li>
          ) : (
            <li key={`p${c.number}`} className="flex gap-1">
              <span className="text-slate-500">[step {c.number}]</span>
              <span>{c.title}</span>
            </li>
          ),
        )}
      </ol>
    </div>
  );
}

function UsageLine({ input, output, cost, calls, durationMs, stop }: { input: number; output: number; cost: number; calls?: number; durationMs?: number | null; stop?: string | null }) {
  return (
    <p className="flex flex-wrap gap-x-3 gap-y-1 text-xs text-slate-500 tabular-nums dark:text-slate-400">
      <span title="Input tokens">{formatNumber(input)} in</span>
      <span title="Output tokens">{formatNumber(output)} out</span>
      <span title="Cost of this turn">{formatCost(cost)}</span>
      {calls !== undefined && calls > 0 && <span>{calls} model {calls === 1 ? "call" : "calls"}</span>}
      {durationMs !== null && durationMs !== undefined && durationMs > 0 && <span>{formatDuration(durationMs)}</span>}
      {stop && stop !== "completed" && <span>stopped: {stopLabel(stop)}</span>}
    </p>
  );
}

export function AssistantTurn({
  turn,
  text,
  messageId,
  runId,
  createdAt,
  onCancel,
  onDecide,
  onReplay,
}: {
  turn: TurnState | undefined;
  /** The stored text (for answers from history). */
  text: string;
  messageId?: string;
  runId?: string | null;
  createdAt?: string;
  onCancel: (runId: string) => Promise<void>;
  onDecide: (runId: string, callId: string, body: ApprovalRequest) => Promise<void>;
  /** Load the run's events (tool calls) into the view. */
  onReplay?: (runId: string) => void;
}) {
  const { can } = usePermissions();
  const live = turn ? isLive(turn) : false;
  const run = useRun(runId, !turn);
  const shown = turn ? displayText(turn) || text : text;
  const status = turn ? STATUS[turn.status] : null;
  const stored = turn ? null : runOutputOf(run.data?.output);
  const storedUsage = run.data ? usageOf(run.data.usage) : null;
  const citations = turn ? turn.citations : (stored?.citations ?? []);
  const stop = turn ? turn.stopReason : (stored?.stop_reason ?? null);

  return (
    <article
      aria-label="Answer"
      aria-busy={live}
      className="max-w-3xl space-y-3 rounded-lg border border-slate-200 bg-slate-50 p-4 dark:border-slate-800 dark:bg-slate-900/60"
    >
      <header className="flex flex-wrap items-center gap-2 text-xs text-slate-500">
        <Icon name="bot" />
        <span className="font-medium text-slate-700 dark:text-slate-300">Agent</span>
        {status && <Badge tone={status.tone}>{status.label}</Badge>}
        {live && <Spinner className="size-3.5" />}
        {createdAt && <RelativeTime date={createdAt} />}
        <span className="flex-1" />
        {live && runId && can("runs_cancel") && (
          <Button
            size="sm"
            variant="secondary"
            icon="stop"
            onClick={() => void onCancel(runId).then(() => toast.info("Cancelling the run…"), (e: unknown) => toast.error(e))}
          >
            Cancel
          </Button>
        )}
      </header>

      {turn && turn.plan.length > 0 && (
        <ol className="space-y-0.5 text-xs" aria-label="Plan">
          {turn.plan.map((s) => (
            <li key={s.number} className="flex gap-2">
              <span className="w-16 shrink-0 text-slate-500">Step {s.number}</span>
              <span className={cn(s.status === "failed" && "text-red-600 line-through", s.status === "completed" && "text-emerald-700 dark:text-emerald-400")}>
                {s.title}
              </span>
              <span className="text-slate-400">{s.status}</span>
            </li>
          ))}
        </ol>
      )}

      {turn && turn.toolCalls.length > 0 && (
        <div className="space-y-2">
          {turn.toolCalls.map((c) => (
            <ToolCallCard
              key={c.id}
              card={c}
              runLive={live}
              canApprove={can("runs_approve")}
              onDecide={(body) => onDecide(turn.runId, c.id, body)}
            />
          ))}
        </div>
      )}

      {shown ? (
        <div className="text-sm leading-6 break-words whitespace-pre-wrap">{shown}</div>
      ) : live ? (
        <p className="text-sm text-slate-500">{turn?.status === "awaiting_approval" ? "Waiting for a decision on a tool call…" : "Thinking…"}</p>
      ) : null}

      {turn?.error && (
        <p role="alert" className="rounded bg-red-50 p-2 text-sm text-red-800 dark:bg-red-950/50 dark:text-red-200">
          The run failed: {turn.error}
        </p>
      )}

      <Citations citations={citations} />

      <footer className="flex flex-wrap items-center justify-between gap-2">
        {turn ? (
          <UsageLine
            input={turn.usage.inputTokens + turn.usage.cacheReadTokens + turn.usage.cacheWriteTokens}
            output={turn.usage.outputTokens}
            cost={turn.costUsd}
            calls={turn.modelCalls}
            durationMs={turn.startedAt !== null && turn.endedAt !== null ? turn.endedAt - turn.startedAt : null}
            stop={stop}
          />
        ) : run.data && storedUsage ? (
          <UsageLine
            input={storedUsage.input_tokens + storedUsage.cache_read_tokens + storedUsage.cache_write_tokens}
            output={storedUsage.output_tokens}
            cost={run.data.cost_usd}
            stop={stop}
          />
        ) : (
          <span />
        )}
        <div className="flex items-center gap-1">
          {!turn && runId && onReplay && (
            <Button size="sm" variant="ghost" onClick={() => onReplay(runId)}>
              Show tool calls
            </Button>
          )}
          {runId && can("runs_read") && (
            <Link to={`/runs/${runId}`} className="rounded px-2 py-1 text-xs text-indigo-600 hover:underline focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-indigo-400">
              Run details
            </Link>
          )}
          {!live && can("feedback_write") && (messageId ?? runId) && (
            <Feedback target={messageId ? "message" : "run"} targetId={messageId ?? runId ?? ""} />
          )}
        </div>
      </footer>
    </article>
  );
}
