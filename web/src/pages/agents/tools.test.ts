import { describe, expect, it } from "vitest";
import type { Schemas } from "../../api/types";
import { filterGroups, toolGroups } from "./tools";

const catalogue: Schemas["ToolCatalogue"] = {
  builtin: [
    { name: "search_docs", description: "Search the knowledge base", risk: "low", input_schema: {} },
    { name: "calc", description: "Arithmetic", risk: "low", input_schema: {} },
  ],
  kinds: [
    {
      kind: "splunk",
      description: "Splunk",
      settings_schema: {},
      credentials_schema: {},
      actions: [
        { action: "search", description: "Run a search", risk: "medium" },
        { action: "delete_index", description: "Delete an index", risk: "high" },
      ],
    },
  ],
};

const config = (name: string, tools: string[]): Schemas["ToolConfigView"] => ({
  id: name,
  name,
  kind: "splunk",
  settings: {},
  has_credentials: true,
  egress_allow: [],
  tools,
  created_at: "",
  updated_at: "",
  version: 1,
});

describe("toolGroups", () => {
  it("groups built-in and configured tools with their risks", () => {
    const groups = toolGroups(catalogue, [config("prod", ["prod_search", "prod_delete_index"])], ["prod_search"]);
    expect(groups.map((g) => g.label)).toEqual(["Built-in tools", "prod (splunk)"]);
    expect(groups[0]?.tools.map((t) => t.name)).toEqual(["calc", "search_docs"]);
    expect(groups[1]?.tools).toEqual([
      { name: "prod_delete_index", description: "Delete an index", risk: "high" },
      { name: "prod_search", description: "Run a search", risk: "medium" },
    ]);
  });

  it("keeps selected tools nobody offers any more", () => {
    const groups = toolGroups(catalogue, [], ["old_tool", "calc"]);
    expect(groups.at(-1)).toMatchObject({ id: "missing", tools: [{ name: "old_tool" }] });
  });

  it("waits for the lists before calling anything missing", () => {
    expect(toolGroups(undefined, undefined, ["x"])).toEqual([]);
  });
});

describe("filterGroups", () => {
  it("matches names and descriptions and drops empty groups", () => {
    const groups = toolGroups(catalogue, [config("prod", ["prod_search"])], []);
    expect(filterGroups(groups, "ARITH").map((g) => g.tools.map((t) => t.name))).toEqual([["calc"]]);
    expect(filterGroups(groups, "")).toHaveLength(2);
  });
});
