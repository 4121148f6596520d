/** The agent's run history (`GET /v1/runs?agent_id=`), filtered by status and creation time. */
import { useState } from "react";
import { ChoiceField, EmptyState, Field, Input, PagedList } from "../../components";
import { useRunList, type RunFilters } from "../runs/queries";
import { RunTable } from "../runs/RunTable";
import { RUN_STATUSES, runStatusLabel } from "../runs/status";
import { localToIso } from "./filter";

export function RunsTab({ agentId }: { agentId: string }) {
  const [status, setStatus] = useState("");
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const filters: RunFilters = { agent_id: agentId };
  if (status) filters.status = status;
  const s = localToIso(since);
  const u = localToIso(until);
  if (s) filters.since = s;
  if (u) filters.until = u;
  const q = useRunList(filters);
  const runs = q.data?.pages.flatMap((p) => p.items) ?? [];
  const filtering = Boolean(status || s || u);
  const badRange = s !== undefined && u !== undefined && s >= u;

  return (
    <div className="space-y-4">
      <search aria-label="Filter runs" className="grid gap-3 sm:grid-cols-3">
        <ChoiceField label="Status" none="Any status" value={status} options={RUN_STATUSES} labelOf={runStatusLabel} onChange={setStatus} />
        <Field label="Created since" hint="Your local time">
          {(p) => <Input {...p} type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />}
        </Field>
        <Field label="Created before" error={badRange ? "Must be after “Created since”." : undefined}>
          {(p) => <Input {...p} type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />}
        </Field>
      </search>
      <PagedList query={q} count={runs.length} lines={5} errorTitle="Cannot load the runs">
        <RunTable
          runs={runs}
          caption="Runs of this agent"
          empty={
            <EmptyState
              icon="list"
              title={filtering ? "No runs match" : "No runs yet"}
              description={filtering ? "Change the filters." : "Runs appear here when the agent is started by hand, a trigger or a chat."}
            />
          }
        />
      </PagedList>
    </div>
  );
}
