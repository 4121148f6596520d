import { describe, expect, it } from "vitest";
import type { AgentView } from "../../api/types";
import { filterAgents, localToIso } from "./filter";

const agent = (name: string, enabled: boolean, mode: string, tools: string[] = []): AgentView => ({
  id: name,
  name,
  description: `${name} agent`,
  config: { mode } as AgentView["config"],
  tools,
  enabled,
  created_at: "",
  updated_at: "",
  version: 1,
});

const agents = [agent("Triage", true, "loop_with_limits", ["splunk_search"]), agent("Hunter", false, "plan_and_execute")];

describe("filterAgents", () => {
  it("searches names, descriptions and tools", () => {
    expect(filterAgents(agents, { search: "hun", status: "all", mode: "all" }).map((a) => a.name)).toEqual(["Hunter"]);
    expect(filterAgents(agents, { search: "SPLUNK", status: "all", mode: "all" }).map((a) => a.name)).toEqual(["Triage"]);
  });

  it("filters by status and mode", () => {
    expect(filterAgents(agents, { search: "", status: "disabled", mode: "all" }).map((a) => a.name)).toEqual(["Hunter"]);
    expect(filterAgents(agents, { search: "", status: "all", mode: "loop_with_limits" }).map((a) => a.name)).toEqual(["Triage"]);
    expect(filterAgents(agents, { search: "", status: "enabled", mode: "plan_and_execute" })).toEqual([]);
  });
});

describe("localToIso", () => {
  it("turns datetime-local text into an ISO instant", () => {
    expect(localToIso("")).toBeUndefined();
    expect(localToIso("nonsense")).toBeUndefined();
    expect(localToIso("2024-03-01T10:30")).toBe(new Date(2024, 2, 1, 10, 30).toISOString());
  });
});
