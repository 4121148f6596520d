/** The agent's detection triggers: list, add, enable/disable and delete (each change sends the version read). */
import { useState, type SyntheticEvent } from "react";
import { isVersionConflict } from "../../api/problem";
import type { AgentView } from "../../api/types";
import {
  Badge,
  Button,
  ChoiceField,
  ConfirmDialog,
  EmptyState,
  Field,
  PagedList,
  ProblemMessage,
  RelativeTime,
  Textarea,
  toast,
} from "../../components";
import { usePermissions } from "../../lib/usePermissions";

import { DETECTION_LEVELS, TEXT_LIMITS } from "./limits";
import { useCreateTrigger, useDeleteTrigger, useTriggers, useUpdateTrigger, type TriggerView } from "./queries";
import { parseRules, readSpec } from "./triggers";
import { checkboxClass, legendClass, sectionClass } from "./ui";

function levelLabel(l: string): string {
  return l.charAt(0).toUpperCase() + l.slice(1);
}

/** A failure for a toast; a version conflict gets a clearer text (the list is refetched). */
function changeError(e: unknown): unknown {
  return isVersionConflict(e) ? new Error("Someone else changed this trigger meanwhile. The list was reloaded; try again.") : e;
}

function NewTrigger({ agentId }: { agentId: string }) {
  const create = useCreateTrigger(agentId);
  const [rules, setRules] = useState("");
  const [level, setLevel] = useState("high");
  const [enabled, setEnabled] = useState(true);
  const [error, setError] = useState<string | null>(null);

  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    const list = parseRules(rules);
    if (list.length > TEXT_LIMITS.triggerRules.max) {
      setError(`At most ${TEXT_LIMITS.triggerRules.max} rules per trigger.`);
      return;
    }
    setError(null);
    create.mutate(
      { kind: "detection", rules: list, min_level: level === "" ? null : level, enabled },
      {
        onSuccess: () => {
          toast.success("Trigger added.");
          setRules("");
        },
      },
    );
  };

  return (
    <form onSubmit={submit} noValidate>
      <fieldset className={sectionClass} disabled={create.isPending}>
        <legend className={legendClass}>New detection trigger</legend>
        <p className="-mt-2 text-xs text-slate-500 dark:text-slate-400">
          A detection of one of these rules, at this level or above, starts the agent with the detection as its input.
        </p>
        {create.error && <ProblemMessage error={create.error} />}
        <div className="grid gap-4 sm:grid-cols-[minmax(0,1fr)_14rem]">
          <Field label="Rule ids" hint="Sigma rule ids, one per line or separated by commas. Empty: any rule." error={error}>
            {(p) => <Textarea {...p} rows={3} className="font-mono text-xs" value={rules} onChange={(e) => setRules(e.target.value)} />}
          </Field>
          <ChoiceField label="Lowest level" none="Any level" value={level} options={DETECTION_LEVELS} labelOf={levelLabel} onChange={setLevel} />
        </div>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" className={checkboxClass} checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
          Enabled
        </label>
        <Button type="submit" variant="primary" loading={create.isPending}>
          Add trigger
        </Button>
      </fieldset>
    </form>
  );
}

function TriggerRow({ t, agentId, canWrite }: { t: TriggerView; agentId: string; canWrite: boolean }) {
  const update = useUpdateTrigger(agentId);
  const remove = useDeleteTrigger(agentId);
  const [confirm, setConfirm] = useState(false);
  const spec = readSpec(t);
  const title = spec.kind === "detection" ? "Detection trigger" : `${spec.kind} trigger`;
  return (
    <li className="rounded-lg border border-slate-200 p-3 dark:border-slate-800">
      <div className="flex flex-wrap items-center gap-2">
        <h3 className="font-semibold">{title}</h3>
        <Badge tone={t.enabled ? "success" : "neutral"}>{t.enabled ? "Enabled" : "Disabled"}</Badge>
        <span className="text-xs text-slate-500">
          added <RelativeTime date={t.created_at} />
        </span>
        {canWrite && (
          <div className="ml-auto flex flex-wrap gap-2">
            <Button
              size="sm"
              loading={update.isPending}
              onClick={() =>
                update.mutate(
                  { id: t.id, body: { version: t.version, enabled: !t.enabled } },
                  {
                    onSuccess: (saved) => toast.success(saved.enabled ? "Trigger enabled." : "Trigger disabled."),
                    onError: (e) => toast.error(changeError(e)),
                  },
                )
              }
            >
              {t.enabled ? "Disable" : "Enable"}
            </Button>
            <Button size="sm" variant="danger" onClick={() => setConfirm(true)}>
              Delete
            </Button>
          </div>
        )}
      </div>
      <dl className="mt-2 grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm">
        <dt className="text-slate-500">Rules</dt>
        <dd className="min-w-0">
          {spec.rules.length === 0 ? (
            "Any rule"
          ) : (
            <span className="flex flex-wrap gap-1">
              {spec.rules.map((r) => (
                <Badge key={r}>
                  <span className="font-mono">{r}</span>
                </Badge>
              ))}
            </span>
          )}
        </dd>
        <dt className="text-slate-500">Level</dt>
        <dd>{spec.minLevel ? `${levelLabel(spec.minLevel)} and above` : "Any level"}</dd>
      </dl>
      <ConfirmDialog
        open={confirm}
        onOpenChange={setConfirm}
        title="Delete this trigger?"
        description="Detections will no longer start this agent through it."
        confirmLabel="Delete trigger"
        danger
        loading={remove.isPending}
        onConfirm={() =>
          remove.mutate(
            { id: t.id, version: t.version },
            {
              onSuccess: () => toast.success("Trigger deleted."),
              onError: (e) => toast.error(changeError(e)),
              onSettled: () => setConfirm(false),
            },
          )
        }
      />
    </li>
  );
}

export function TriggersTab({ agent }: { agent: AgentView }) {
  const { can } = usePermissions();
  const canWrite = can("agents_write");
  const q = useTriggers(agent.id);
  const triggers = q.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <div className="space-y-6">
      {canWrite && <NewTrigger agentId={agent.id} />}
      <section aria-labelledby="triggers-heading" className="space-y-3">
        <h2 id="triggers-heading" className="font-semibold">
          Triggers
        </h2>
        <PagedList query={q} count={triggers.length} lines={3} errorTitle="Cannot load the triggers">
          {triggers.length === 0 ? (
            <EmptyState
              icon="alert"
              title="No triggers"
              description="Without a trigger the agent runs only when started by hand, by the API or from a chat."
            />
          ) : (
            <ul className="space-y-3">
              {triggers.map((t) => (
                <TriggerRow key={t.id} t={t} agentId={agent.id} canWrite={canWrite} />
              ))}
            </ul>
          )}
        </PagedList>
      </section>
    </div>
  );
}
