import { describe, expect, it } from "vitest";
import { ApiProblem, isVersionConflict } from "../../api/problem";
import type { AgentView } from "../../api/types";
import {
  charCount,
  defaultValues,
  hasControl,
  numberOf,
  overrideOf,
  problemField,
  setOverride,
  toCreateRequest,
  toggleTool,
  toSettings,
  toUpdateRequest,
  validate,
  valuesFromAgent,
  type AgentFormValues,
} from "./agentForm";

function agent(config: Record<string, unknown>, extra: Partial<AgentView> = {}): AgentView {
  return {
    id: "a1",
    name: "Triage",
    description: "d",
    config: config as AgentView["config"],
    tools: ["search", "isolate_host"],
    enabled: true,
    created_at: "2024-01-01T00:00:00Z",
    updated_at: "2024-01-01T00:00:00Z",
    version: 7,
    active_prompt_version: 1,
    model: null,
    ...extra,
  };
}

function withNumbers(v: AgentFormValues, numbers: Partial<AgentFormValues["numbers"]>): AgentFormValues {
  return { ...v, numbers: { ...v.numbers, ...numbers } };
}

const problem = (status: number, code: string, detail: string) => new ApiProblem({ type: "about:blank", title: "", status, code, detail });

describe("the agent form", () => {
  it("starts from the server's defaults and sends every setting explicitly", () => {
    const v = { ...defaultValues(), name: " Triage ", systemPrompt: "You triage." };
    expect(validate(v, { create: true })).toEqual({});
    const body = toCreateRequest(v);
    expect(body).toMatchObject({ name: "Triage", system_prompt: "You triage.", enabled: true, tools: [] });
    expect(body.config).toEqual({
      mode: "loop_with_limits",
      model: null,
      approval: { from_risk: "high", always: [], never: [] },
      budget: { max_model_calls: null, max_tool_calls: null, max_total_tokens: null, max_cost_usd: null, max_wall_clock_ms: null },
      max_parallel_tool_calls: 4,
      max_turns: 12,
      max_turns_per_step: 6,
      max_replans: 1,
      max_output_tokens: 4096,
      temperature: null,
      retrieval_top_k: 5,
      pricing: null,
    });
  });

  it("reads an agent whose optional settings are absent, keeping them absent-as-null", () => {
    const v = valuesFromAgent(
      agent({
        mode: "plan_and_execute",
        budget: { max_wall_clock_ms: 90_000, max_cost_usd: 2.5 },
        approval: { from_risk: null, always: ["isolate_host"], never: [] },
        max_parallel_tool_calls: 2,
        max_turns: 12,
        max_turns_per_step: 6,
        max_replans: 1,
        retrieval_top_k: 5,
        model: "gpt-x",
      }),
    );
    expect(v).toMatchObject({ name: "Triage", mode: "plan_and_execute", model: "gpt-x", fromRisk: "", always: ["isolate_host"], pricing: false });
    expect(v.numbers["budget.max_wall_clock_ms"]).toBe("90");
    expect(v.numbers.max_output_tokens).toBe("");
    const s = toSettings(v);
    expect(s.budget.max_wall_clock_ms).toBe(90_000);
    expect(s.max_output_tokens).toBeNull();
    expect(s.approval.from_risk).toBeNull();
    expect(s.model).toBe("gpt-x");
  });

  it("defaults an absent from_risk to high", () => {
    expect(valuesFromAgent(agent({})).fromRisk).toBe("high");
  });

  it("validates ranges, whole numbers and required fields", () => {
    const base = { ...defaultValues(), name: "x" };
    const v = withNumbers(base, {
      max_turns: "0",
      max_parallel_tool_calls: "2.5",
      max_replans: "",
      temperature: "2.5",
      "budget.max_cost_usd": "abc",
      "budget.max_wall_clock_ms": "0.5",
    });
    const e = validate(v, { create: false });
    expect(e.max_turns).toBe("From 1 to 100.");
    expect(e.max_parallel_tool_calls).toBe("Enter a whole number.");
    expect(e.max_replans).toBe("Required.");
    expect(e.temperature).toBeDefined();
    expect(e["budget.max_cost_usd"]).toBe("Enter a number.");
    expect(e["budget.max_wall_clock_ms"]).toMatch(/^From 1 to 604/);
    expect(e.systemPrompt).toBeUndefined();
    expect(validate({ ...base, name: "  " }, { create: true })).toMatchObject({ name: "Enter a name.", systemPrompt: "Enter the system prompt." });
    expect(validate({ ...base, name: "x".repeat(121) }, { create: false }).name).toBeDefined();
  });

  it("accepts the bounds themselves", () => {
    const v = withNumbers(
      { ...defaultValues(), name: "x" },
      { max_turns: "100", max_replans: "0", temperature: "0", "budget.max_wall_clock_ms": "604800", "budget.max_tool_calls": "0" },
    );
    expect(validate(v, { create: false })).toEqual({});
    expect(numberOf(v, "budget.max_wall_clock_ms")).toBe(604_800_000);
  });

  it("needs input and output prices once pricing is on", () => {
    const v = { ...defaultValues(), name: "x", pricing: true };
    expect(validate(v, { create: false })).toMatchObject({ "pricing.input_per_mtok": "Required.", "pricing.output_per_mtok": "Required." });
    const priced = withNumbers(v, { "pricing.input_per_mtok": "3", "pricing.output_per_mtok": "15" });
    expect(validate(priced, { create: false })).toEqual({});
    expect(toSettings(priced).pricing).toEqual({ input_per_mtok: 3, output_per_mtok: 15, cache_read_per_mtok: 0, cache_write_per_mtok: 0 });
  });

  it("sends the version it read with an update", () => {
    const v = valuesFromAgent(agent({}));
    expect(toUpdateRequest(v, 7)).toMatchObject({ version: 7, name: "Triage", tools: ["search", "isolate_host"] });
  });

  it("keeps approval overrides for the agent's tools only", () => {
    let v = valuesFromAgent(agent({}));
    v = setOverride(v, "isolate_host", "always");
    v = setOverride(v, "search", "never");
    expect(overrideOf(v, "isolate_host")).toBe("always");
    v = setOverride(v, "isolate_host", "never");
    expect(v.always).toEqual([]);
    expect(v.never).toEqual(["search", "isolate_host"]);
    v = toggleTool(v, "search", false);
    expect(v.tools).toEqual(["isolate_host"]);
    expect(v.never).toEqual(["isolate_host"]);
    expect(toggleTool(v, "isolate_host", true)).toBe(v);
    expect(toSettings({ ...v, always: ["gone"] }).approval.always).toEqual([]);
  });
});

describe("problems", () => {
  it("maps a problem to its field", () => {
    expect(problemField(problem(422, "out_of_range", "config.max_turns must be 1 to 100 (got 0)"))).toBe("max_turns");
    expect(problemField(problem(422, "out_of_range", "config.budget.max_cost_usd must be 0 to 100000"))).toBe("budget.max_cost_usd");
    expect(problemField(problem(422, "out_of_range", "config.approval.always must be at most 256 tool names"))).toBe("approval");
    expect(problemField(problem(422, "unknown_tool", "no tool named `x`"))).toBe("tools");
    expect(problemField(problem(409, "already_exists", "an agent with that name already exists"))).toBe("name");
    expect(problemField(problem(500, "internal", "boom"))).toBeNull();
    expect(problemField(new Error("x"))).toBeNull();
  });

  it("tells a version conflict from a duplicate name", () => {
    expect(isVersionConflict(problem(409, "version_conflict", "agent was changed by someone else"))).toBe(true);
    expect(isVersionConflict(problem(409, "already_exists", "taken"))).toBe(false);
  });
});

describe("text checks", () => {
  it("counts characters as the server does (not UTF-16 units)", () => {
    expect(charCount("abc")).toBe(3);
    expect(charCount("🛡️x")).toBe(3); // shield + variation selector + x
    expect(validate({ ...defaultValues(), name: "😀".repeat(120) }, { create: false }).name).toBeUndefined();
    expect(validate({ ...defaultValues(), name: "😀".repeat(121) }, { create: false }).name).toBeDefined();
  });

  it("finds control characters", () => {
    expect(hasControl("ok name")).toBe(false);
    expect(hasControl("tab\there")).toBe(true);
    expect(hasControl("\u0085")).toBe(true);
  });
});
