/** Detection triggers: reading a trigger's `spec` and the rule list typed in the form. */
import type { Schemas } from "../../api/types";

export interface DetectionSpec {
  kind: string;
  rules: string[];
  minLevel: string | null;
}

/** The trigger's spec (`{"kind": "detection", "rules": [...], "min_level": "high"}`), defensively. */
export function readSpec(t: Schemas["TriggerView"]): DetectionSpec {
  const s = t.spec;
  const kind = typeof s.kind === "string" ? s.kind : "unknown";
  const rules = Array.isArray(s.rules) ? s.rules.filter((r): r is string => typeof r === "string") : [];
  const minLevel = typeof s.min_level === "string" ? s.min_level : null;
  return { kind, rules, minLevel };
}

/** Rule ids from text: one per line or separated by commas; blanks and repeats dropped. */
export function parseRules(text: string): string[] {
  const seen = new Set<string>();
  for (const part of text.split(/[\n,]/)) {
    const r = part.trim();
    if (r) seen.add(r);
  }
  return [...seen];
}
