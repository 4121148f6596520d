/** `/agents`: the organisation's agents, with search and filters (kept in the URL). */
import { Link, useSearchParams } from "react-router";
import {
  Badge,
  EmptyState,
  Field,
  Input,
  Page,
  PagedList,
  PageHeader,
  RelativeTime,
  Select,
  Table,
  type Column,
} from "../../components";
import type { AgentView } from "../../api/types";
import { usePermissions } from "../../lib/usePermissions";
import { modeLabel } from "../runs/status";
import { filterAgents, modeOf, type AgentFilter } from "./filter";
import { PLANNING_MODES } from "./limits";
import { useAgentList } from "./queries";
import { linkClass } from "./ui";

const columns: Column<AgentView>[] = [
  {
    key: "name",
    header: "Name",
    cell: (a) => (
      <div className="min-w-0">
        <Link to={`/agents/${a.id}`} className={linkClass}>
          {a.name}
        </Link>
        {a.description && <p className="mt-0.5 line-clamp-2 max-w-md text-xs text-slate-500 dark:text-slate-400">{a.description}</p>}
      </div>
    ),
  },
  { key: "mode", header: "Planning", cell: (a) => modeLabel(modeOf(a)), hideOnMobile: true },
  { key: "tools", header: "Tools", cell: (a) => a.tools.length, hideOnMobile: true },
  {
    key: "prompt",
    header: "Prompt",
    cell: (a) => (a.active_prompt_version != null ? `v${a.active_prompt_version}` : "—"),
    hideOnMobile: true,
  },
  {
    key: "status",
    header: "Status",
    cell: (a) => <Badge tone={a.enabled ? "success" : "neutral"}>{a.enabled ? "Enabled" : "Disabled"}</Badge>,
  },
  { key: "updated", header: "Updated", cell: (a) => <RelativeTime date={a.updated_at} />, hideOnMobile: true },
];

function readFilter(p: URLSearchParams): AgentFilter {
  const status = p.get("status");
  return {
    search: p.get("q") ?? "",
    status: status === "enabled" || status === "disabled" ? status : "all",
    mode: p.get("mode") ?? "all",
  };
}

export function AgentsPage() {
  const { can } = usePermissions();
  const q = useAgentList();
  const [params, setParams] = useSearchParams();
  const filter = readFilter(params);
  const all = q.data?.pages.flatMap((p) => p.items) ?? [];
  const shown = filterAgents(all, filter);
  const filtering = filter.search.trim() !== "" || filter.status !== "all" || filter.mode !== "all";

  const set = (key: string, value: string, none: string) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (value === none) next.delete(key);
        else next.set(key, value);
        return next;
      },
      { replace: true },
    );

  return (
    <Page title="Agents">
      <PageHeader
        title="Agents"
        description="Agents, their prompts, tools, budgets and triggers."
        actions={
          can("agents_write") ? (
            <Link
              to="/agents/new"
              className="inline-flex h-9 items-center gap-1.5 rounded-md bg-indigo-600 px-3.5 text-sm font-medium text-white hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500"
            >
              New agent
            </Link>
          ) : undefined
        }
      />
      <search className="mb-4 grid gap-3 sm:grid-cols-[minmax(0,1fr)_12rem_12rem]" aria-label="Filter agents">
        <Field label="Search">
          {(p) => (
            <Input
              {...p}
              type="search"
              placeholder="Name, description or tool"
              value={filter.search}
              onChange={(e) => set("q", e.target.value, "")}
            />
          )}
        </Field>
        <Field label="Status">
          {(p) => (
            <Select {...p} value={filter.status} onChange={(e) => set("status", e.target.value, "all")}>
              <option value="all">All</option>
              <option value="enabled">Enabled</option>
              <option value="disabled">Disabled</option>
            </Select>
          )}
        </Field>
        <Field label="Planning mode">
          {(p) => (
            <Select {...p} value={filter.mode} onChange={(e) => set("mode", e.target.value, "all")}>
              <option value="all">All</option>
              {PLANNING_MODES.map((m) => (
                <option key={m} value={m}>
                  {modeLabel(m)}
                </option>
              ))}
            </Select>
          )}
        </Field>
      </search>
      <PagedList query={q} count={all.length} lines={6} errorTitle="Cannot load the agents" loadMoreClassName="mt-4">
        <Table
          rows={shown}
          columns={columns}
          rowKey={(a) => a.id}
          caption="Agents"
          empty={
            filtering ? (
              <EmptyState
                icon="bot"
                title="No agents match"
                description={q.hasNextPage ? "Only the agents loaded so far are searched; load more to search further." : "Change the search or the filters."}
              />
            ) : (
              <EmptyState
                icon="bot"
                title="No agents yet"
                description="An agent is a system prompt, a set of tools and the limits it works within."
                action={
                  can("agents_write") ? (
                    <Link to="/agents/new" className={linkClass}>
                      Create the first agent
                    </Link>
                  ) : undefined
                }
              />
            )
          }
        />
        {filtering && shown.length > 0 && (
          <p className="mt-2 text-xs text-slate-500 dark:text-slate-400" role="status">
            {shown.length} of {all.length} loaded agents match.
          </p>
        )}
      </PagedList>
    </Page>
  );
}
