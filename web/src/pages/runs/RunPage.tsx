/**
 * `/runs/:runId`: a run's header (status, agent, trigger, prompt version, tokens, cost, times), the calls that
 * wait for a decision, and the virtualised timeline built from the run's event stream (live while it runs).
 */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState, type ReactNode, type RefObject } from "react";
import { Link, useParams } from "react-router";
import { ApiProblem } from "../../api/problem";
import { useApprovals } from "../../api/queries";
import { runOutputOf, usageOf, type Usage } from "../../api/runEvents";
import type { RunView } from "../../api/types";
import {
  Badge,
  Button,
  ConfirmDialog,
  EmptyState,
  ErrorState,
  JsonView,
  Page,
  PageHeader,
  RelativeTime,
  Skeleton,
  SkeletonList,
  Spinner,
  VirtualList,
  toast,
} from "../../components";
import { formatCost, formatDuration, formatNumber } from "../../lib/format";
import { usePermissions } from "../../lib/usePermissions";
import { useAgent } from "../agents/queries";
import { ApprovalControls } from "../approvals/ApprovalControls";
import { RiskBadge } from "../approvals/RiskBadge";
import type { DecisionKind } from "../approvals/decision";
import { EMPTY_LOG } from "./eventLog";
import { isLiveStatus } from "./eventStream";
import { runKeys, useCancelRun, useRun, useRunEvents } from "./queries";
import { RunStatusBadge } from "./RunStatusBadge";
import { modeLabel, shortId, stopReasonLabel } from "./status";
import { TimelineRow } from "./TimelineRow";
import { buildTimeline, totalTokens, type TimelineItem, type TimelineSummary, type ToolCallItem } from "./timeline";

const linkClass =
  "font-medium text-indigo-700 underline-offset-2 hover:underline focus-visible:rounded focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-indigo-300";

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="mt-0.5 truncate text-sm font-medium">{children}</dd>
    </div>
  );
}

const TRIGGERS: Record<string, string> = {
  manual: "Manual",
  chat: "Chat message",
  detection: "Detection",
  schedule: "Schedule",
};

function RunFacts({ run, summary }: { run: RunView; summary: TimelineSummary }) {
  const agent = useAgent(run.agent_id);
  const usage: Usage = summary.usage ?? usageOf(run.usage);
  const tokens = totalTokens(usage);
  const cost = summary.costUsd ?? run.cost_usd;
  const started = summary.startedAt ?? null;
  const finished = run.finished_at ? new Date(run.finished_at).getTime() : summary.endedAt;
  const output = summary.output ?? runOutputOf(run.output);
  return (
    <dl className="grid grid-cols-2 gap-x-6 gap-y-3 rounded-lg border border-slate-200 p-4 sm:grid-cols-3 lg:grid-cols-6 dark:border-slate-800">
      <Fact label="Agent">
        <Link to={`/agents/${run.agent_id}`} className={linkClass}>
          {agent.data?.name ?? (agent.isPending ? "…" : shortId(run.agent_id))}
        </Link>
      </Fact>
      <Fact label="Trigger">{TRIGGERS[run.trigger] ?? (run.trigger || "—")}</Fact>
      <Fact label="Prompt version">
        {run.prompt_version != null ? (
          <Link to={`/agents/${run.agent_id}?tab=prompts`} className={linkClass}>
            v{run.prompt_version}
          </Link>
        ) : (
          "—"
        )}
      </Fact>
      <Fact label="Tokens">
        <span title={`${formatNumber(usage.input_tokens)} input, ${formatNumber(usage.output_tokens)} output, ${formatNumber(usage.cache_read_tokens + usage.cache_write_tokens)} cache`}>
          {formatNumber(tokens)}
        </span>
        <span className="block text-xs font-normal text-slate-500 dark:text-slate-400">
          {formatNumber(usage.input_tokens)} in · {formatNumber(usage.output_tokens)} out
        </span>
      </Fact>
      <Fact label="Cost">{formatCost(cost)}</Fact>
      <Fact label="Calls">
        {formatNumber(summary.modelCalls)} model · {formatNumber(summary.toolCalls)} tool
      </Fact>
      <Fact label="Created">
        <RelativeTime date={run.created_at} />
      </Fact>
      <Fact label="Started">{started !== null ? <RelativeTime date={started} /> : "—"}</Fact>
      <Fact label="Finished">
        {finished !== null ? <RelativeTime date={finished} /> : "—"}
      </Fact>
      <Fact label="Duration">
        {started !== null && finished !== null ? formatDuration(Math.max(0, finished - started)) : started !== null ? "in progress" : "—"}
      </Fact>
      <Fact label="Stop reason">{output ? stopReasonLabel(output.stop_reason) : "—"}</Fact>
      <Fact label="Run id">
        <span className="font-mono text-xs" title={run.id}>
          {run.id}
        </span>
      </Fact>
    </dl>
  );
}

function WaitingCalls({
  runId,
  calls,
  sent,
  onDecided,
}: {
  runId: string;
  calls: ToolCallItem[];
  sent: Record<string, DecisionKind>;
  onDecided: (callId: string, d: DecisionKind) => void;
}) {
  const { can } = usePermissions();
  if (calls.length === 0) return null;
  return (
    <section aria-labelledby="waiting-heading" className="rounded-lg border border-amber-300 bg-amber-50 p-4 dark:border-amber-800 dark:bg-amber-950/30">
      <h2 id="waiting-heading" className="font-semibold text-amber-900 dark:text-amber-200">
        Waiting for a decision ({calls.length})
      </h2>
      {!can("runs_approve") && (
        <p className="mt-1 text-sm text-amber-900 dark:text-amber-200">The run is paused until someone allowed to approve decides.</p>
      )}
      <ul className="mt-3 space-y-4">
        {calls.map((c) => (
          <li key={c.id} className="rounded-md border border-amber-200 bg-white p-3 dark:border-amber-900 dark:bg-slate-900">
            <div className="mb-2 flex flex-wrap items-center gap-2">
              <h3 className="font-mono text-sm font-semibold break-all">{c.tool}</h3>
              <ToolRisk tool={c.tool} runId={runId} />
              {c.approval && (
                <span className="ml-auto text-xs text-slate-600 dark:text-slate-300">
                  waiting since <RelativeTime date={c.approval.requestedAt} />
                </span>
              )}
            </div>
            <JsonView value={c.input} label={`Arguments of ${c.tool}`} />
            <div className="mt-3">
              {sent[c.id] ? (
                <DecisionSent decision={sent[c.id] ?? ""} />
              ) : (
                <ApprovalControls
                  runId={runId}
                  toolCallId={c.id}
                  toolName={c.tool}
                  input={c.input}
                  onDecided={(d) => onDecided(c.id, d)}
                />
              )}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Replaces the controls once decided; takes the focus from the button that went away. */
function DecisionSent({ decision }: { decision: string }) {
  const ref = useRef<HTMLParagraphElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <p
      ref={ref}
      role="status"
      tabIndex={-1}
      className="text-sm text-slate-700 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-slate-300"
    >
      Decision sent ({decision}). The run resumes once every waiting call is decided.
    </p>
  );
}

/** The tool's risk, when the approvals inbox knows it. */
function ToolRisk({ tool, runId }: { tool: string; runId: string }) {
  const { can } = usePermissions();
  const approvals = useApprovals(can("runs_read"));
  const item = approvals.data?.items.find((i) => i.run_id === runId && i.tool_name === tool);
  if (!item) return null;
  return <RiskBadge risk={item.risk} />;
}

/** The timeline's scroll container: the VirtualList's outer element (the list role sits on its rows' box). */
function scroller(container: HTMLDivElement | null): HTMLElement | null {
  const el = container?.firstElementChild;
  return el instanceof HTMLElement ? el : null;
}

function useFollow(container: RefObject<HTMLDivElement | null>, follow: boolean, count: number) {
  useEffect(() => {
    if (!follow) return;
    const list = scroller(container.current);
    if (list) list.scrollTop = list.scrollHeight;
  }, [container, follow, count]);
}

function scrollList(container: HTMLDivElement | null, to: "start" | "end") {
  const list = scroller(container);
  if (list) list.scrollTop = to === "start" ? 0 : list.scrollHeight;
}

function Timeline({
  items,
  startedAt,
  live,
  sent,
}: {
  items: TimelineItem[];
  startedAt: number | null;
  live: boolean;
  sent: Record<string, DecisionKind>;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  const following = live && follow;
  useFollow(ref, following, items.length > 0 ? (items[items.length - 1]?.rev ?? 0) + items.length : 0);
  return (
    <section aria-labelledby="timeline-heading" className="space-y-2">
      <div className="flex flex-wrap items-center gap-2">
        <h2 id="timeline-heading" className="font-semibold">
          Timeline
        </h2>
        <span className="text-xs text-slate-600 dark:text-slate-300">{formatNumber(items.length)} entries</span>
        <div className="ml-auto flex flex-wrap items-center gap-2">
          {live && (
            <label className="flex items-center gap-1.5 text-sm">
              <input
                type="checkbox"
                className="size-4 rounded focus-visible:outline-2 focus-visible:outline-indigo-500"
                checked={follow}
                onChange={(e) => setFollow(e.target.checked)}
              />
              Follow new events
            </label>
          )}
          <Button size="sm" variant="ghost" onClick={() => scrollList(ref.current, "start")}>
            Jump to start
          </Button>
          <Button size="sm" variant="ghost" onClick={() => scrollList(ref.current, "end")}>
            Jump to end
          </Button>
        </div>
      </div>
      <div ref={ref}>
        <VirtualList
          items={items}
          label="Run timeline"
          estimateSize={140}
          overscan={6}
          getKey={(i) => i.key}
          className="h-[70vh] min-h-80 rounded-lg border border-slate-200 px-2 py-1 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:border-slate-800"
          renderItem={(item) => (
            <TimelineRow
              item={item}
              startedAt={startedAt}
              decisionSent={item.kind === "tool_call" ? (sent[item.id] ?? null) : null}
            />
          )}
        />
      </div>
    </section>
  );
}

export function RunPage() {
  const { runId = "" } = useParams();
  const qc = useQueryClient();
  const { can } = usePermissions();
  const run = useRun(runId);
  const events = useRunEvents(runId);
  const log = events.data ?? EMPTY_LOG;
  const timeline = useMemo(() => buildTimeline(log.events), [log.events]);
  const { summary } = timeline;
  const approvals = useApprovals(can("runs_read"));
  const cancel = useCancelRun(runId);
  const [confirmCancel, setConfirmCancel] = useState(false);
  // Decisions sent from this page, shown until the run records them (it does so on resuming).
  const [sent, setSent] = useState<Record<string, DecisionKind>>({});

  const viewStatus = run.data?.status;
  const status =
    viewStatus && !isLiveStatus(viewStatus) ? viewStatus : (summary.phase ?? viewStatus ?? null);
  const live = status !== null && isLiveStatus(status);
  const streaming = events.fetchStatus === "fetching" && !log.ended;

  // Refresh the run (usage, cost, output, finished_at) whenever the events say its phase changed.
  const phase = summary.phase;
  useEffect(() => {
    if (phase !== null) void qc.invalidateQueries({ queryKey: runKeys.run(runId), exact: true });
  }, [phase, qc, runId]);

  // The calls that still wait: from the events, narrowed by the inbox when it lists this run (after a reload,
  // calls already decided while others still wait are not in it).
  const listed = approvals.data?.items.filter((i) => i.run_id === runId);
  const waiting = summary.awaiting.filter((t) =>
    listed && listed.length > 0 ? listed.some((i) => i.tool_call_id === t.id) || Boolean(sent[t.id]) : true,
  );

  const title = `Run ${shortId(runId)}`;

  if (run.isError && !run.data) {
    const notFound = run.error instanceof ApiProblem && run.error.status === 404;
    return (
      <Page title={title}>
        <PageHeader title={title} />
        <ErrorState
          error={run.error}
          title={notFound ? "This run does not exist (or belongs to another organisation)" : "Cannot load the run"}
          {...(notFound ? {} : { onRetry: () => void run.refetch() })}
        />
      </Page>
    );
  }

  return (
    <Page title={title}>
      <PageHeader
        title={
          <span className="flex flex-wrap items-center gap-2">
            {title}
            {status && <RunStatusBadge status={status} />}
            {streaming && (
              <Badge tone="info">
                <Spinner className="size-3" /> Live
              </Badge>
            )}
          </span>
        }
        description={summary.startedAt !== null ? modeFromTimeline(timeline.items) : undefined}
        actions={
          live && can("runs_cancel") ? (
            <Button variant="danger" icon="stop" onClick={() => setConfirmCancel(true)}>
              Cancel run
            </Button>
          ) : undefined
        }
      />
      <div className="space-y-6">
        {run.data ? (
          <RunFacts run={run.data} summary={summary} />
        ) : (
          <div role="status" aria-label="Loading the run" className="grid grid-cols-2 gap-4 sm:grid-cols-6">
            {Array.from({ length: 6 }, (_, i) => (
              <Skeleton key={i} className="h-10" />
            ))}
          </div>
        )}
        <WaitingCalls
          runId={runId}
          calls={waiting}
          sent={sent}
          onDecided={(id, d) => setSent((s) => ({ ...s, [id]: d }))}
        />
        {events.isError && (
          <ErrorState compact error={events.error} onRetry={() => void events.refetch()} />
        )}
        {events.isPending ? (
          <div className="space-y-2">
            <p role="status" className="text-sm text-slate-500">
              {viewStatus === "queued" ? "Waiting for the run to start…" : "Loading the run's events…"}
            </p>
            <SkeletonList lines={6} className="[&>div]:h-16" />
          </div>
        ) : timeline.items.length === 0 && !events.isError ? (
          <EmptyState
            icon="list"
            title={live ? "No events yet" : "This run recorded no events"}
            description={live ? "Events appear here as the run works." : undefined}
          />
        ) : timeline.items.length > 0 ? (
          <Timeline items={timeline.items} startedAt={summary.startedAt} live={live && streaming} sent={sent} />
        ) : null}
      </div>
      <ConfirmDialog
        open={confirmCancel}
        onOpenChange={setConfirmCancel}
        title="Cancel this run?"
        description="The run stops at once; calls in flight are abandoned and it ends with what it has."
        confirmLabel="Cancel run"
        danger
        loading={cancel.isPending}
        onConfirm={() =>
          cancel.mutate(undefined, {
            onSuccess: () => {
              toast.success("Run cancelled.");
              setConfirmCancel(false);
            },
            onError: (e) => {
              toast.error(e);
              setConfirmCancel(false);
            },
          })
        }
      />
    </Page>
  );
}

function modeFromTimeline(items: TimelineItem[]): string | undefined {
  const start = items.find((i) => i.kind === "start");
  return start?.kind === "start" ? modeLabel(start.mode) : undefined;
}
