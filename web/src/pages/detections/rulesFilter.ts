/**
 * Filters of the rules page. `GET /v1/detection-rules` filters only by `enabled_only`; level, status, search,
 * technique and "disabled only" are applied here, to the rules loaded so far.
 */
import { techniquesOfTags } from "./model";

export interface RuleLike {
  title: string;
  rule_uid: string;
  author: string;
  level: string;
  status: string;
  enabled: boolean;
  tags: readonly string[];
}

export interface RuleFilters {
  /** "", "enabled" or "disabled". */
  enabled: string;
  level: string;
  status: string;
  /** Free text: title, Sigma id, author or tag. */
  q: string;
  /** An ATT&CK technique id (`T1059.001`), matched as named (as coverage counts it). */
  technique: string;
}

/** Whether a filter needs the client (everything but "enabled"). */
export function hasClientFilters(f: RuleFilters): boolean {
  return Boolean(f.enabled === "disabled" || f.level || f.status || f.q.trim() || f.technique.trim());
}

export function filterRules<R extends RuleLike>(rules: readonly R[], f: RuleFilters): R[] {
  const q = f.q.trim().toLowerCase();
  const technique = f.technique.trim().toUpperCase();
  return rules.filter((r) => {
    if (f.enabled === "enabled" && !r.enabled) return false;
    if (f.enabled === "disabled" && r.enabled) return false;
    if (f.level && r.level !== f.level) return false;
    if (f.status && r.status !== f.status) return false;
    if (technique && !techniquesOfTags(r.tags).includes(technique)) return false;
    if (q) {
      const hay = [r.title, r.rule_uid, r.author, ...r.tags].join("\n").toLowerCase();
      if (!hay.includes(q)) return false;
    }
    return true;
  });
}
