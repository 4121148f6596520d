/**
 * The tools an agent can be given: the server's own (`GET /v1/tools` → `builtin`) and those of the organisation's
 * tool configurations (`GET /v1/tool-configs` → `tools`, named `<config>_<action>`; their risk and description
 * come from the catalogue's kind). Tools the agent names that neither lists (a deleted configuration) are kept
 * in an "unavailable" group so they can be seen and removed.
 */
import type { Schemas } from "../../api/types";

export interface ToolOption {
  name: string;
  description: string;
  risk: string | null;
}

export interface ToolGroup {
  id: string;
  label: string;
  tools: ToolOption[];
}

export function toolGroups(
  catalogue: Schemas["ToolCatalogue"] | undefined,
  configs: readonly Schemas["ToolConfigView"][] | undefined,
  selected: readonly string[],
): ToolGroup[] {
  const groups: ToolGroup[] = [];
  const known = new Set<string>();
  if (catalogue) {
    const tools = catalogue.builtin.map((t) => ({ name: t.name, description: t.description, risk: t.risk }));
    tools.sort((a, b) => a.name.localeCompare(b.name));
    for (const t of tools) known.add(t.name);
    if (tools.length > 0) groups.push({ id: "builtin", label: "Built-in tools", tools });
  }
  for (const c of configs ?? []) {
    const kind = catalogue?.kinds.find((k) => k.kind === c.kind);
    const tools = c.tools
      .filter((name) => !known.has(name))
      .map((name) => {
        const action = kind?.actions.find((a) => `${c.name}_${a.action}` === name);
        return { name, description: action?.description ?? "", risk: action?.risk ?? null };
      });
    tools.sort((a, b) => a.name.localeCompare(b.name));
    for (const t of tools) known.add(t.name);
    if (tools.length > 0) groups.push({ id: `config:${c.id}`, label: `${c.name} (${c.kind})`, tools });
  }
  const missing = selected.filter((n) => !known.has(n));
  if (missing.length > 0 && (catalogue !== undefined || configs !== undefined)) {
    groups.push({
      id: "missing",
      label: "Not available any more",
      tools: missing.map((name) => ({ name, description: "No server tool or tool configuration offers this tool now.", risk: null })),
    });
  }
  return groups;
}

/** Groups narrowed to tools whose name or description contains `filter` (case-insensitive). */
export function filterGroups(groups: readonly ToolGroup[], filter: string): ToolGroup[] {
  const f = filter.trim().toLowerCase();
  if (f === "") return [...groups];
  return groups
    .map((g) => ({ ...g, tools: g.tools.filter((t) => t.name.toLowerCase().includes(f) || t.description.toLowerCase().includes(f)) }))
    .filter((g) => g.tools.length > 0);
}
