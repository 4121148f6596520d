/** A table of runs (newest first), each linking to its run page. */
import type { ReactNode } from "react";
import { Link } from "react-router";
import { usageOf } from "../../api/runEvents";
import type { RunView } from "../../api/types";
import { RelativeTime, Table, type Column } from "../../components";
import { formatCost, formatDuration, formatNumber } from "../../lib/format";
import { linkClass } from "../agents/ui";
import { RunStatusBadge } from "./RunStatusBadge";
import { shortId } from "./status";
import { totalTokens } from "./timeline";

const TRIGGERS: Record<string, string> = { manual: "Manual", chat: "Chat", detection: "Detection", schedule: "Schedule" };

const columns: Column<RunView>[] = [
  {
    key: "run",
    header: "Run",
    cell: (r) => (
      <Link to={`/runs/${r.id}`} className={linkClass} aria-label={`Run ${r.id}`}>
        <span className="font-mono">{shortId(r.id)}</span>
      </Link>
    ),
  },
  { key: "status", header: "Status", cell: (r) => <RunStatusBadge status={r.status} /> },
  { key: "trigger", header: "Trigger", cell: (r) => TRIGGERS[r.trigger] ?? r.trigger, hideOnMobile: true },
  { key: "prompt", header: "Prompt", cell: (r) => (r.prompt_version != null ? `v${r.prompt_version}` : "—"), hideOnMobile: true },
  { key: "tokens", header: "Tokens", cell: (r) => formatNumber(totalTokens(usageOf(r.usage))), hideOnMobile: true, className: "text-right tabular-nums" },
  { key: "cost", header: "Cost", cell: (r) => formatCost(r.cost_usd), hideOnMobile: true, className: "text-right tabular-nums" },
  { key: "created", header: "Created", cell: (r) => <RelativeTime date={r.created_at} /> },
  {
    key: "duration",
    header: "Duration",
    cell: (r) => (r.finished_at ? formatDuration(Math.max(0, Date.parse(r.finished_at) - Date.parse(r.created_at))) : "—"),
    hideOnMobile: true,
  },
];

export function RunTable({ runs, empty, caption }: { runs: readonly RunView[]; empty: ReactNode; caption: string }) {
  return <Table rows={runs} columns={columns} rowKey={(r) => r.id} caption={caption} empty={empty} />;
}
