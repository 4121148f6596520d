import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DETECTION_LEVELS, PLANNING_MODES, SETTINGS_DEFAULTS, SETTINGS_LIMITS, TEXT_LIMITS } from "./limits";

interface Schema {
  $ref?: string;
  oneOf?: Schema[];
  properties?: Record<string, Schema>;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  pattern?: string;
  default?: unknown;
  type?: string | string[];
  format?: string;
  description?: string;
}

const spec = JSON.parse(readFileSync(new URL("../../../../secops-server/openapi.json", import.meta.url), "utf8")) as {
  components: { schemas: Record<string, Schema> };
};
const schemas = spec.components.schemas;

function resolve(s: Schema): Schema {
  if (s.$ref) return schemas[s.$ref.replace("#/components/schemas/", "")] ?? {};
  const ref = s.oneOf?.find((v) => v.$ref);
  return ref ? resolve(ref) : s;
}

/** Every property of `AgentSettings` with a numeric range, by dotted path. */
function numericBounds(s: Schema, path: string, out: Map<string, Schema>) {
  const r = resolve(s);
  if (r.minimum !== undefined && r.maximum !== undefined) out.set(path, r);
  for (const [k, v] of Object.entries(r.properties ?? {})) numericBounds(v, path ? `${path}.${k}` : k, out);
  return out;
}

describe("agent settings limits", () => {
  const bounds = numericBounds({ $ref: "#/components/schemas/AgentSettings" }, "", new Map());

  it("lists every numeric setting of the spec with the same range", () => {
    expect(new Set(Object.keys(SETTINGS_LIMITS))).toEqual(new Set(bounds.keys()));
    for (const [path, limit] of Object.entries(SETTINGS_LIMITS)) {
      const s = bounds.get(path);
      expect(s?.minimum, path).toBe(limit.min);
      expect(s?.maximum, path).toBe(limit.max);
      const types = Array.isArray(s?.type) ? s.type : [s?.type];
      expect(types.includes("integer"), path).toBe(limit.integer);
    }
  });

  it("has the spec's string limits and defaults", () => {
    expect(schemas.Name?.minLength).toBe(TEXT_LIMITS.name.min);
    expect(schemas.Name?.maxLength).toBe(TEXT_LIMITS.name.max);
    const settings = schemas.AgentSettings?.properties ?? {};
    expect(settings.model?.maxLength).toBe(TEXT_LIMITS.model.max);
    expect(settings.model?.minLength).toBe(TEXT_LIMITS.model.min);
    const approval = schemas.ApprovalSettings?.properties ?? {};
    expect(approval.always?.maxItems).toBe(TEXT_LIMITS.approvalList.max);
    expect(approval.from_risk?.default).toBe(SETTINGS_DEFAULTS.from_risk);
    for (const key of ["max_parallel_tool_calls", "max_turns", "max_turns_per_step", "max_replans", "max_output_tokens", "retrieval_top_k"] as const) {
      expect(settings[key]?.default, key).toBe(SETTINGS_DEFAULTS[key]);
    }
    expect(settings.mode?.default).toBe(SETTINGS_DEFAULTS.mode);
    const modes = /\^\((.*)\)\$/.exec(settings.mode?.pattern ?? "")?.[1]?.split("|") ?? [];
    expect(new Set(modes)).toEqual(new Set(PLANNING_MODES));
  });

  it("knows the detection levels the trigger docs name", () => {
    const d = schemas.CreateTriggerRequest?.properties?.min_level?.description ?? "";
    expect(d).toContain(DETECTION_LEVELS[0]);
    expect(d).toContain(DETECTION_LEVELS[DETECTION_LEVELS.length - 1]);
  });
});
