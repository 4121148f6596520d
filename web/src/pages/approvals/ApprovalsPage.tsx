/** `/approvals`: every tool call of the organisation that waits for a person, decided inline. */
import { useInfiniteQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import { nextCursor, pageParams, queryKeys } from "../../api/queries";
import type { Schemas } from "../../api/types";
import {
  Button,
  EmptyState,
  ErrorState,
  JsonView,
  LoadMore,
  Page,
  PageHeader,
  RelativeTime,
  SkeletonList,
} from "../../components";
import { usePermissions } from "../../lib/usePermissions";
import { ApprovalControls } from "./ApprovalControls";
import { shortId } from "../runs/status";
import { RiskBadge } from "./RiskBadge";

type PendingApproval = Schemas["PendingApprovalView"];

const linkClass =
  "font-medium text-indigo-700 underline-offset-2 hover:underline focus-visible:rounded focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-indigo-300";

function useApprovalInbox() {
  return useInfiniteQuery({
    queryKey: [...queryKeys.approvals, "inbox"],
    queryFn: ({ pageParam, signal }) =>
      unwrap(api.GET("/v1/approvals", { params: { query: pageParams(pageParam) }, signal })),
    initialPageParam: "",
    getNextPageParam: nextCursor,
    refetchInterval: 30_000,
  });
}

function ApprovalCard({ item, onDecided }: { item: PendingApproval; onDecided: () => void }) {
  const { can } = usePermissions();
  return (
    <li className="rounded-lg border border-slate-200 bg-white p-4 shadow-xs dark:border-slate-800 dark:bg-slate-900">
      <article aria-labelledby={`approval-${item.run_id}-${item.tool_call_id}`} className="space-y-3">
        <div className="flex flex-wrap items-center gap-2">
          <h2
            id={`approval-${item.run_id}-${item.tool_call_id}`}
            tabIndex={-1}
            className="font-mono text-sm font-semibold break-all focus-visible:outline-2 focus-visible:outline-indigo-500"
          >
            {item.tool_name}
          </h2>
          <RiskBadge risk={item.risk} />
          <span className="ml-auto text-xs text-slate-500 dark:text-slate-400">
            Waiting since <RelativeTime date={item.requested_at} />
          </span>
        </div>
        <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm">
          <dt className="text-slate-500 dark:text-slate-400">Agent</dt>
          <dd className="min-w-0 truncate">
            <Link to={`/agents/${item.agent_id}`} className={linkClass}>
              {item.agent_name || item.agent_id}
            </Link>
          </dd>
          <dt className="text-slate-500 dark:text-slate-400">Run</dt>
          <dd>
            <Link to={`/runs/${item.run_id}`} className={linkClass} aria-label={`Run ${item.run_id}`}>
              <span className="font-mono">{shortId(item.run_id)}</span>
            </Link>
          </dd>
          {item.chat_id && (
            <>
              <dt className="text-slate-500 dark:text-slate-400">Chat</dt>
              <dd>
                <Link to={`/chat/${item.chat_id}`} className={linkClass}>
                  Open chat
                </Link>
              </dd>
            </>
          )}
        </dl>
        <JsonView value={item.input} label={`Arguments of ${item.tool_name}`} defaultExpandDepth={2} />
        {can("runs_approve") ? (
          <ApprovalControls
            runId={item.run_id}
            toolCallId={item.tool_call_id}
            toolName={item.tool_name}
            input={item.input}
            onDecided={onDecided}
          />
        ) : (
          <p className="text-sm text-slate-500 dark:text-slate-400">Your role can see waiting calls but not decide on them.</p>
        )}
      </article>
    </li>
  );
}

export function ApprovalsPage() {
  const q = useApprovalInbox();
  // Calls decided from this page, hidden until the refetch confirms they are gone.
  const [decided, setDecided] = useState<ReadonlySet<string>>(() => new Set());
  const items = (q.data?.pages.flatMap((p) => p.items) ?? []).filter((i) => !decided.has(`${i.run_id}/${i.tool_call_id}`));
  // After a decision the card goes away: focus moves to the next one (or the page heading).
  const focusIndex = useRef<number | null>(null);
  const listRef = useRef<HTMLUListElement>(null);
  useEffect(() => {
    if (focusIndex.current === null) return;
    const headings = listRef.current?.querySelectorAll<HTMLElement>("h2[tabindex]");
    let target = headings?.[Math.min(focusIndex.current, headings.length - 1)];
    if (!target) {
      // None left: the page heading (made focusable for this).
      target = document.querySelector<HTMLElement>("main h1, h1") ?? undefined;
      target?.setAttribute("tabindex", "-1");
    }
    focusIndex.current = null;
    target?.focus();
  });

  return (
    <Page title="Approvals">
      <PageHeader
        title="Approvals"
        description="Tool calls waiting for a person's decision, across every run and chat."
        actions={
          <Button icon="refresh" onClick={() => void q.refetch()} loading={q.isRefetching && !q.isFetchingNextPage}>
            Refresh
          </Button>
        }
      />
      {q.isPending ? (
        <SkeletonList lines={4} className="[&>div]:h-40" />
      ) : q.isError && !q.data ? (
        <ErrorState error={q.error} title="Cannot load the approvals" onRetry={() => void q.refetch()} />
      ) : items.length === 0 && !q.hasNextPage ? (
        <EmptyState icon="check" title="Nothing waits for a decision" description="Tool calls that need a person appear here." />
      ) : (
        <>
          {q.isError && !q.isFetchNextPageError && <ErrorState compact error={q.error} onRetry={() => void q.refetch()} />}
          <ul ref={listRef} aria-label="Waiting tool calls" className="space-y-4">
            {items.map((item, index) => (
              <ApprovalCard
                key={`${item.run_id}/${item.tool_call_id}`}
                item={item}
                onDecided={() => {
                  focusIndex.current = index;
                  setDecided((s) => new Set(s).add(`${item.run_id}/${item.tool_call_id}`));
                }}
              />
            ))}
          </ul>
          {items.length === 0 && (
            <p className="mt-4 text-sm text-slate-500 dark:text-slate-400">Nothing on this page; there may be more.</p>
          )}
          <LoadMore query={q} className="mt-4" />
        </>
      )}
    </Page>
  );
}
