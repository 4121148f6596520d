/**
 * Picks an agent's tools (server tools and the organisation's configured ones) and, per chosen tool, whether its
 * calls wait for approval: by risk (the policy's threshold), always, or never.
 */
import { useId, useState } from "react";
import { Badge, ErrorState, Field, Input, Select, Skeleton } from "../../components";
import { usePermissions } from "../../lib/usePermissions";
import { RiskBadge } from "../approvals/RiskBadge";
import { overrideOf, setOverride, toggleTool, type AgentFormValues } from "./agentForm";
import { useAllToolConfigs, useToolCatalogue } from "./queries";
import { filterGroups, toolGroups, type ToolOption } from "./tools";
import { checkboxClass } from "./ui";

function ToolRow({
  tool,
  values,
  onChange,
}: {
  tool: ToolOption;
  values: AgentFormValues;
  onChange: (v: AgentFormValues) => void;
}) {
  const id = useId();
  const checked = values.tools.includes(tool.name);
  return (
    <li className="flex flex-col gap-2 py-2 sm:flex-row sm:items-start">
      <div className="flex min-w-0 flex-1 items-start gap-2">
        <input
          id={id}
          type="checkbox"
          className={`${checkboxClass} mt-0.5`}
          checked={checked}
          onChange={(e) => onChange(toggleTool(values, tool.name, e.target.checked))}
          aria-describedby={tool.description ? `${id}-desc` : undefined}
        />
        <div className="min-w-0">
          <label htmlFor={id} className="flex flex-wrap items-center gap-2 text-sm">
            <span className="font-mono break-all">{tool.name}</span>
            {tool.risk && <RiskBadge risk={tool.risk} />}
          </label>
          {tool.description && (
            <p id={`${id}-desc`} className="text-xs text-slate-500 dark:text-slate-400">
              {tool.description}
            </p>
          )}
        </div>
      </div>
      {checked && (
        <div className="sm:w-44">
          <label htmlFor={`${id}-approval`} className="sr-only">
            Approval for {tool.name}
          </label>
          <Select
            id={`${id}-approval`}
            className="py-1 text-xs"
            value={overrideOf(values, tool.name)}
            onChange={(e) => onChange(setOverride(values, tool.name, e.target.value as "default" | "always" | "never"))}
          >
            <option value="default">Approval by risk</option>
            <option value="always">Always ask</option>
            <option value="never">Never ask</option>
          </Select>
        </div>
      )}
    </li>
  );
}

export function ToolPicker({
  values,
  onChange,
  error,
}: {
  values: AgentFormValues;
  onChange: (v: AgentFormValues) => void;
  error?: string | undefined;
}) {
  const { can, loaded } = usePermissions();
  const allowed = can("tools_read");
  const catalogue = useToolCatalogue(allowed);
  const configs = useAllToolConfigs(allowed);
  const [filter, setFilter] = useState("");
  const groups = toolGroups(catalogue.data, configs.data, values.tools);
  const shown = filterGroups(groups, filter);
  const headingId = useId();

  return (
    <div className="space-y-3" role="group" aria-labelledby={headingId}>
      <div className="flex flex-wrap items-end justify-between gap-2">
        <p id={headingId} className="text-sm font-medium">
          Tools <span className="font-normal text-slate-500">({values.tools.length} selected)</span>
        </p>
        <Field label="Filter tools" className="w-full sm:w-64">
          {(p) => <Input {...p} type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="Name or description" />}
        </Field>
      </div>
      {error && (
        <p role="alert" className="text-sm text-red-600 dark:text-red-400">
          {error}
        </p>
      )}
      {loaded && !allowed ? (
        <div className="space-y-1 text-sm">
          <p className="text-slate-500">Your role cannot list the tool catalogue; the agent keeps its tools.</p>
          <div className="flex flex-wrap gap-1">
            {values.tools.map((t) => (
              <Badge key={t}>{t}</Badge>
            ))}
          </div>
        </div>
      ) : catalogue.isPending || configs.isPending ? (
        <div role="status" aria-label="Loading tools" className="space-y-2">
          <Skeleton className="h-8 w-full" />
          <Skeleton className="h-8 w-full" />
          <Skeleton className="h-8 w-2/3" />
        </div>
      ) : (
        <>
          {catalogue.isError && <ErrorState compact error={catalogue.error} onRetry={() => void catalogue.refetch()} />}
          {configs.isError && <ErrorState compact error={configs.error} onRetry={() => void configs.refetch()} />}
          {shown.length === 0 ? (
            <p className="text-sm text-slate-500">{filter ? "No tool matches the filter." : "No tools are available yet."}</p>
          ) : (
            <div className="max-h-[28rem] space-y-3 overflow-y-auto rounded-md border border-slate-200 p-3 dark:border-slate-800">
              {shown.map((g) => (
                <fieldset key={g.id}>
                  <legend className="text-xs font-semibold tracking-wide text-slate-500 uppercase">{g.label}</legend>
                  <ul className="divide-y divide-slate-100 dark:divide-slate-800">
                    {g.tools.map((t) => (
                      <ToolRow key={t.name} tool={t} values={values} onChange={onChange} />
                    ))}
                  </ul>
                </fieldset>
              ))}
            </div>
          )}
        </>
      )}
    </div>
  );
}
