/**
 * The agent's settings: the edit form for roles with `agents_write` (optimistic concurrency: the form sends the
 * version it started from; a 409 shows a conflict with a reload), a read-only summary for the others.
 */
import { useState, type ReactNode } from "react";
import { isVersionConflict } from "../../api/problem";
import type { AgentView } from "../../api/types";
import { Badge, Button, toast } from "../../components";
import { formatCost, formatDuration, formatNumber } from "../../lib/format";
import { usePermissions } from "../../lib/usePermissions";
import { modeLabel } from "../runs/status";
import { AgentForm } from "./AgentForm";
import { toUpdateRequest, valuesFromAgent } from "./agentForm";
import { useUpdateAgent } from "./queries";

function Conflict({ onReload, reloading, saved }: { onReload: () => void; reloading: boolean; saved: boolean }) {
  return (
    <div
      role={saved ? "alert" : "status"}
      className="rounded-lg border border-amber-300 bg-amber-50 p-4 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950/40 dark:text-amber-100"
    >
      <p className="font-semibold">
        {saved ? "Someone else changed this agent — reload to see their version" : "This agent was changed elsewhere"}
      </p>
      <p className="mt-1">
        {saved
          ? "Your changes were not saved. Reloading shows the current settings and discards your edits here; then make your changes again."
          : "Since you opened this form someone saved a newer version; saving now would be refused. Reload to see it (your edits here are discarded)."}
      </p>
      <Button className="mt-3" size="sm" icon="refresh" loading={reloading} onClick={onReload}>
        Reload agent
      </Button>
    </div>
  );
}

export function SettingsTab({ agent, reload }: { agent: AgentView; reload: () => Promise<AgentView | undefined> }) {
  const { can } = usePermissions();
  const update = useUpdateAgent(agent.id);
  // The version the form started from; a newer one in the cache means someone else saved meanwhile.
  const [base, setBase] = useState(agent);
  const [formKey, setFormKey] = useState(0);
  const [reloading, setReloading] = useState(false);

  if (!can("agents_write")) return <SettingsSummary agent={agent} />;

  const conflict = isVersionConflict(update.error);
  const stale = !conflict && !update.isPending && agent.version > base.version;

  const doReload = () => {
    setReloading(true);
    void reload()
      .then((fresh) => {
        setBase(fresh ?? agent);
        setFormKey((k) => k + 1);
        update.reset();
      })
      .finally(() => setReloading(false));
  };

  return (
    <div className="max-w-4xl space-y-4">
      {(conflict || stale) && <Conflict saved={conflict} onReload={doReload} reloading={reloading} />}
      <AgentForm
        key={formKey}
        initial={valuesFromAgent(base)}
        create={false}
        submitLabel="Save changes"
        submitting={update.isPending}
        problem={conflict ? null : update.error}
        onSubmit={(values) =>
          update.mutate(toUpdateRequest(values, base.version), {
            onSuccess: (saved) => {
              toast.success("Saved.");
              setBase(saved);
              setFormKey((k) => k + 1);
            },
          })
        }
      />
    </div>
  );
}

function Item({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="grid gap-1 py-2 sm:grid-cols-[14rem_1fr]">
      <dt className="text-sm text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="min-w-0 text-sm break-words">{children}</dd>
    </div>
  );
}

type Loose = Partial<AgentView["config"]> & {
  budget?: Partial<AgentView["config"]["budget"]>;
  approval?: Partial<AgentView["config"]["approval"]>;
};

function limit(v: number | null | undefined, fmt: (n: number) => string = formatNumber): string {
  return v === null || v === undefined ? "No limit" : fmt(v);
}

/** The settings as text, for roles that cannot change them. */
export function SettingsSummary({ agent }: { agent: AgentView }) {
  const c = agent.config as Loose;
  const b: Partial<AgentView["config"]["budget"]> = c.budget ?? {};
  const a: Partial<AgentView["config"]["approval"]> = c.approval ?? {};
  return (
    <dl className="max-w-4xl divide-y divide-slate-100 rounded-lg border border-slate-200 px-4 dark:divide-slate-800 dark:border-slate-800">
      <Item label="Status">{agent.enabled ? "Enabled" : "Disabled"}</Item>
      <Item label="Planning mode">{modeLabel(c.mode ?? "loop_with_limits")}</Item>
      <Item label="Model">{c.model ?? agent.model ?? "The provider's default"}</Item>
      <Item label="Tools">
        {agent.tools.length === 0 ? (
          "None"
        ) : (
          <span className="flex flex-wrap gap-1">
            {agent.tools.map((t) => (
              <Badge key={t}>
                <span className="font-mono">{t}</span>
                {a.always?.includes(t) ? " · always asks" : a.never?.includes(t) ? " · never asks" : ""}
              </Badge>
            ))}
          </span>
        )}
      </Item>
      <Item label="Approval">
        {a.from_risk === null ? "Never by risk alone" : `${a.from_risk ?? "high"} risk and above waits for a person`}
      </Item>
      <Item label="Turn limit">{c.max_turns ?? 12}</Item>
      <Item label="Parallel tool calls">{c.max_parallel_tool_calls ?? 4}</Item>
      <Item label="Budget: model calls">{limit(b.max_model_calls)}</Item>
      <Item label="Budget: tool calls">{limit(b.max_tool_calls)}</Item>
      <Item label="Budget: tokens">{limit(b.max_total_tokens)}</Item>
      <Item label="Budget: cost">{limit(b.max_cost_usd, formatCost)}</Item>
      <Item label="Budget: active time">{limit(b.max_wall_clock_ms, formatDuration)}</Item>
    </dl>
  );
}
