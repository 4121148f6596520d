/** The agent list's client-side search and filters (the API lists agents page by page, without search). */
import type { AgentView } from "../../api/types";

export interface AgentFilter {
  search: string;
  status: "all" | "enabled" | "disabled";
  mode: string;
}

export function modeOf(agent: AgentView): string {
  return (agent.config as { mode?: string }).mode ?? "loop_with_limits";
}

export function filterAgents(agents: readonly AgentView[], f: AgentFilter): AgentView[] {
  const q = f.search.trim().toLowerCase();
  return agents.filter((a) => {
    if (f.status === "enabled" && !a.enabled) return false;
    if (f.status === "disabled" && a.enabled) return false;
    if (f.mode !== "all" && modeOf(a) !== f.mode) return false;
    if (q === "") return true;
    return (
      a.name.toLowerCase().includes(q) ||
      a.description.toLowerCase().includes(q) ||
      a.tools.some((t) => t.toLowerCase().includes(q))
    );
  });
}

/** `datetime-local` text (local time) as an ISO date-time, or undefined when empty or invalid. */
export function localToIso(v: string): string | undefined {
  if (!v) return undefined;
  const t = new Date(v);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}
