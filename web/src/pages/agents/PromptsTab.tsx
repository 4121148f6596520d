/**
 * The agent's prompt versions: the list (newest first, the active one marked), a form for a new version
 * (optionally activated at once), activation of any version, and a side-by-side diff of two versions.
 */
import { useState, type SyntheticEvent } from "react";
import { ApiProblem, isVersionConflict } from "../../api/problem";
import type { AgentView } from "../../api/types";
import {
  Badge,
  Button,
  EmptyState,
  ErrorState,
  Field,
  Input,
  LoadMore,
  MemberName,
  ProblemMessage,
  RelativeTime,
  Select,
  SkeletonList,
  Textarea,
  toast,
} from "../../components";
import { usePermissions } from "../../lib/usePermissions";

import { PromptDiffView } from "./PromptDiffView";
import { useActivatePrompt, useCreatePrompt, usePrompts, type PromptView } from "./queries";
import { checkboxClass, legendClass, sectionClass } from "./ui";

/** An activation failure for a toast; a version conflict gets a clearer text (the agent is refetched). */
function activationError(e: unknown): unknown {
  return isVersionConflict(e)
    ? new Error("Someone else changed this agent meanwhile. It was reloaded: check the active version and try again.")
    : e;
}

function NewVersion({ agent, active }: { agent: AgentView; active: PromptView | undefined }) {
  const create = useCreatePrompt(agent.id);
  const activate = useActivatePrompt(agent.id);
  const [body, setBody] = useState(active?.body ?? "");
  const [note, setNote] = useState("");
  const [activateNow, setActivateNow] = useState(true);
  const [error, setError] = useState<string | null>(null);

  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    if (body.trim() === "") {
      setError("Enter the prompt.");
      return;
    }
    setError(null);
    create.mutate(
      { body, note: note.trim() },
      {
        onSuccess: (p) => {
          setNote("");
          if (!activateNow) {
            toast.success(`Saved version ${p.number} (not active).`);
            return;
          }
          activate.mutate(
            { number: p.number, agentVersion: agent.version },
            {
              onSuccess: () => toast.success(`Version ${p.number} is now active.`),
              onError: (err) => toast.error(activationError(err)),
            },
          );
        },
      },
    );
  };

  return (
    <form onSubmit={submit} noValidate>
      <fieldset className={sectionClass} disabled={create.isPending || activate.isPending}>
        <legend className={legendClass}>New version</legend>
        {create.error && <ProblemMessage error={create.error} />}
        <Field label="Prompt" error={error} required hint="Starts from the active version.">
          {(p) => (
            <Textarea {...p} rows={12} className="font-mono text-xs" value={body} onChange={(e) => setBody(e.target.value)} />
          )}
        </Field>
        <Field label="Note" hint="Why it changed (shown in the version list).">
          {(p) => <Input {...p} value={note} onChange={(e) => setNote(e.target.value)} maxLength={500} />}
        </Field>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" className={checkboxClass} checked={activateNow} onChange={(e) => setActivateNow(e.target.checked)} />
          Make it the active version
        </label>
        <Button type="submit" variant="primary" loading={create.isPending || activate.isPending}>
          Save version
        </Button>
      </fieldset>
    </form>
  );
}

function VersionRow({
  p,
  agent,
  canWrite,
}: {
  p: PromptView;
  agent: AgentView;
  canWrite: boolean;
}) {
  const activate = useActivatePrompt(agent.id);
  const active = agent.active_prompt_version === p.number;
  return (
    <li className="rounded-lg border border-slate-200 p-3 dark:border-slate-800">
      <div className="flex flex-wrap items-center gap-2">
        <h3 className="font-semibold">Version {p.number}</h3>
        {active && <Badge tone="success">Active</Badge>}
        <span className="text-xs text-slate-500">
          <RelativeTime date={p.created_at} />
          {p.author_id && (
            <>
              {" "}
              by <MemberName userId={p.author_id} />
            </>
          )}
        </span>
        {canWrite && !active && (
          <Button
            size="sm"
            className="ml-auto"
            loading={activate.isPending}
            aria-label={`Activate version ${p.number}`}
            onClick={() =>
              activate.mutate(
                { number: p.number, agentVersion: agent.version },
                {
                  onSuccess: () => toast.success(`Version ${p.number} is now active.`),
                  onError: (err) => toast.error(activationError(err)),
                },
              )
            }
          >
            Activate
          </Button>
        )}
      </div>
      {p.note && <p className="mt-1 text-sm text-slate-600 dark:text-slate-300">{p.note}</p>}
      <details className="mt-2">
        <summary className="cursor-pointer text-sm text-indigo-700 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-indigo-300">
          Show prompt
        </summary>
        <pre className="mt-2 max-h-96 overflow-auto rounded-md bg-slate-50 p-3 font-mono text-xs whitespace-pre-wrap dark:bg-slate-950">{p.body}</pre>
      </details>
    </li>
  );
}

function Compare({ agentId, versions }: { agentId: string; versions: PromptView[] }) {
  const numbers = versions.map((v) => v.number).sort((a, b) => b - a);
  const [pickedFrom, setFrom] = useState<number | null>(null);
  const [pickedTo, setTo] = useState<number | null>(null);
  const [shown, setShown] = useState<{ from: number; to: number } | null>(null);
  if (numbers.length < 2) return null;
  // Until picked: the newest version against the one before it.
  const from = pickedFrom ?? numbers[1] ?? null;
  const to = pickedTo ?? numbers[0] ?? null;

  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    if (from !== null && to !== null) setShown({ from, to });
  };
  const options = numbers.map((n) => (
    <option key={n} value={n}>
      Version {n}
    </option>
  ));
  return (
    <section aria-labelledby="compare-heading" className={sectionClass}>
      <h2 id="compare-heading" className="text-sm font-semibold">
        Compare versions
      </h2>
      <form onSubmit={submit} className="flex flex-wrap items-end gap-3">
        <Field label="From (older)" className="w-40">
          {(p) => (
            <Select {...p} value={from ?? ""} onChange={(e) => setFrom(Number(e.target.value))}>
              {options}
            </Select>
          )}
        </Field>
        <Field label="To (newer)" className="w-40">
          {(p) => (
            <Select {...p} value={to ?? ""} onChange={(e) => setTo(Number(e.target.value))}>
              {options}
            </Select>
          )}
        </Field>
        <Button type="submit" disabled={from === null || to === null || from === to}>
          Compare
        </Button>
      </form>
      {shown && <PromptDiffView agentId={agentId} from={shown.from} to={shown.to} />}
    </section>
  );
}

export function PromptsTab({ agent }: { agent: AgentView }) {
  const { can } = usePermissions();
  const canWrite = can("agents_write");
  const q = usePrompts(agent.id);
  const versions = q.data?.pages.flatMap((p) => p.items) ?? [];
  const active = versions.find((v) => v.number === agent.active_prompt_version);

  if (q.isPending) return <SkeletonList lines={4} />;
  if (q.isError && versions.length === 0) {
    const gone = q.error instanceof ApiProblem && q.error.status === 404;
    return <ErrorState error={q.error} title="Cannot load the prompt versions" {...(gone ? {} : { onRetry: () => void q.refetch() })} />;
  }

  return (
    <div className="space-y-6">
      {canWrite && <NewVersion key={active?.number ?? 0} agent={agent} active={active} />}
      <Compare agentId={agent.id} versions={versions} />
      <section aria-labelledby="versions-heading" className="space-y-3">
        <h2 id="versions-heading" className="font-semibold">
          Versions
        </h2>
        {q.isError && !q.isFetchNextPageError && <ErrorState compact error={q.error} onRetry={() => void q.refetch()} />}
        {versions.length === 0 ? (
          <EmptyState icon="file" title="No prompt versions" />
        ) : (
          <ul className="space-y-3">
            {versions.map((p) => (
              <VersionRow key={p.number} p={p} agent={agent} canWrite={canWrite} />
            ))}
          </ul>
        )}
        <LoadMore query={q} />
      </section>
    </div>
  );
}
