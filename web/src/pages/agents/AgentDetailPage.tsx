/** `/agents/:agentId`: one agent, with tabs (Settings, Prompts, Triggers, Runs), "Run now" and delete. */
import { useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { ApiProblem, isVersionConflict } from "../../api/problem";
import {
  Badge,
  Button,
  ConfirmDialog,
  ErrorState,
  Page,
  PageHeader,
  Skeleton,
  SkeletonList,
  Tabs,
  toast,
} from "../../components";
import { usePermissions } from "../../lib/usePermissions";
import { modeLabel } from "../runs/status";

import { modeOf } from "./filter";
import { PromptsTab } from "./PromptsTab";
import { useAgent, useDeleteAgent } from "./queries";
import { RunNowDialog } from "./RunNowDialog";
import { RunsTab } from "./RunsTab";
import { SettingsTab } from "./SettingsTab";
import { TriggersTab } from "./TriggersTab";
import { linkClass } from "./ui";

const TABS = ["settings", "prompts", "triggers", "runs"] as const;
type Tab = (typeof TABS)[number];

function isTab(v: string | null): v is Tab {
  return v !== null && (TABS as readonly string[]).includes(v);
}

export function AgentDetailPage() {
  const { agentId = "" } = useParams();
  const { can } = usePermissions();
  const navigate = useNavigate();
  const q = useAgent(agentId);
  const remove = useDeleteAgent(agentId);
  const [params, setParams] = useSearchParams();
  const tabParam = params.get("tab");
  const tab: Tab = isTab(tabParam) ? tabParam : "settings";
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [runNow, setRunNow] = useState(false);
  const agent = q.data;

  if (q.isPending) {
    return (
      <Page title="Agent">
        <div role="status" aria-label="Loading the agent" className="space-y-4">
          <Skeleton className="h-7 w-64" />
          <Skeleton className="h-4 w-96 max-w-full" />
          <SkeletonList lines={6} />
        </div>
      </Page>
    );
  }

  if (!agent) {
    const notFound = q.error instanceof ApiProblem && q.error.status === 404;
    return (
      <Page title="Agent">
        <PageHeader title="Agent" />
        <ErrorState
          error={q.error}
          title={notFound ? "This agent does not exist (any more)" : "Cannot load the agent"}
          {...(notFound ? {} : { onRetry: () => void q.refetch() })}
        />
        <p className="mt-4 text-center">
          <Link to="/agents" className={linkClass}>
            Back to all agents
          </Link>
        </p>
      </Page>
    );
  }

  const setTab = (t: string) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (t === "settings") next.delete("tab");
        else next.set("tab", t);
        return next;
      },
      { replace: true },
    );

  const reload = async () => (await q.refetch()).data;

  return (
    <Page title={agent.name}>
      <PageHeader
        title={
          <span className="flex flex-wrap items-center gap-2">
            <span className="break-all">{agent.name}</span>
            <Badge tone={agent.enabled ? "success" : "neutral"}>{agent.enabled ? "Enabled" : "Disabled"}</Badge>
          </span>
        }
        description={
          <>
            {agent.description && <span className="block">{agent.description}</span>}
            <span className="block text-xs">
              {modeLabel(modeOf(agent))} · {agent.tools.length} {agent.tools.length === 1 ? "tool" : "tools"}
              {agent.active_prompt_version != null && <> · prompt v{agent.active_prompt_version}</>} ·{" "}
              <Link to="/agents" className={linkClass}>
                all agents
              </Link>
            </span>
          </>
        }
        actions={
          <>
            {can("runs_start") && (
              <Button
                variant="primary"
                icon="send"
                onClick={() => setRunNow(true)}
                disabled={!agent.enabled}
                title={agent.enabled ? undefined : "Enable the agent to run it"}
              >
                Run now
              </Button>
            )}
            {can("agents_write") && (
              <Button variant="danger" onClick={() => setConfirmDelete(true)}>
                Delete
              </Button>
            )}
          </>
        }
      />
      {!agent.enabled && can("runs_start") && (
        <p className="-mt-4 mb-4 text-xs text-slate-500 dark:text-slate-400">A disabled agent cannot be run; enable it in Settings.</p>
      )}
      <Tabs
        label="Agent sections"
        value={tab}
        onValueChange={setTab}
        tabs={[
          { value: "settings", label: "Settings", content: <SettingsTab agent={agent} reload={reload} /> },
          { value: "prompts", label: "Prompts", content: <PromptsTab agent={agent} /> },
          { value: "triggers", label: "Triggers", content: <TriggersTab agent={agent} /> },
          { value: "runs", label: "Runs", content: <RunsTab agentId={agent.id} /> },
        ]}
      />
      {can("runs_start") && <RunNowDialog agentId={agent.id} agentName={agent.name} open={runNow} onOpenChange={setRunNow} />}
      <ConfirmDialog
        open={confirmDelete}
        onOpenChange={setConfirmDelete}
        title={`Delete ${agent.name}?`}
        description="The agent is deleted with its prompt versions, triggers and run history. This cannot be undone."
        confirmLabel="Delete agent"
        danger
        loading={remove.isPending}
        onConfirm={() =>
          remove.mutate(agent.version, {
            onSuccess: () => {
              toast.success(`Deleted ${agent.name}.`);
              setConfirmDelete(false);
              void navigate("/agents");
            },
            onError: (e) => {
              setConfirmDelete(false);
              if (isVersionConflict(e)) {
                toast.error(new Error("Someone else changed this agent meanwhile; it was reloaded. Check it, then delete again."));
                void q.refetch();
              } else {
                toast.error(e);
              }
            },
          })
        }
      />
    </Page>
  );
}
