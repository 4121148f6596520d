/**
 * The ATT&CK coverage heatmap as pure data (tested in heatmap.test.ts).
 *
 * `GET /v1/coverage` answers `secops_detect::coverage::Coverage` (secops-detect/src/coverage/mod.rs), typed as a
 * bare object in the spec, so {@link parseCoverage} reads it defensively. It lists only the techniques that at
 * least one enabled rule covers; a technique listed with no rules (or a tactic without any covered technique)
 * is shown as an empty, grey cell.
 */

export interface CoveredRule {
  /** The Sigma id (`rule_uid`), when the rule has one. */
  id: string | null;
  title: string;
  level: string | null;
  status: string | null;
  /** `product/category/service`. */
  logsource: string;
}

export interface TechniqueCoverage {
  id: string;
  name: string | null;
  /** Tactic short names (`execution`). */
  tactics: string[];
  rules: CoveredRule[];
  levels: Record<string, number>;
  logsources: string[];
}

export interface Coverage {
  catalogue: string;
  attackVersion: string | null;
  domain: string;
  rules: number;
  rulesWithTechniques: number;
  techniques: TechniqueCoverage[];
  unknownTechniques: { id: string; rules: number }[];
  /** Rules per tactic short name (from tactic tags). */
  tactics: Record<string, number>;
  catalogueTechniques: number;
}

/** Enterprise ATT&CK's tactics in matrix order (the server's embedded catalogue, ATT&CK 19). */
export const ENTERPRISE_TACTICS: readonly { id: string; shortname: string; name: string }[] = [
  { id: "TA0043", shortname: "reconnaissance", name: "Reconnaissance" },
  { id: "TA0042", shortname: "resource-development", name: "Resource Development" },
  { id: "TA0001", shortname: "initial-access", name: "Initial Access" },
  { id: "TA0002", shortname: "execution", name: "Execution" },
  { id: "TA0003", shortname: "persistence", name: "Persistence" },
  { id: "TA0004", shortname: "privilege-escalation", name: "Privilege Escalation" },
  { id: "TA0005", shortname: "stealth", name: "Stealth" },
  { id: "TA0112", shortname: "defense-impairment", name: "Defense Impairment" },
  { id: "TA0006", shortname: "credential-access", name: "Credential Access" },
  { id: "TA0007", shortname: "discovery", name: "Discovery" },
  { id: "TA0008", shortname: "lateral-movement", name: "Lateral Movement" },
  { id: "TA0009", shortname: "collection", name: "Collection" },
  { id: "TA0011", shortname: "command-and-control", name: "Command and Control" },
  { id: "TA0010", shortname: "exfiltration", name: "Exfiltration" },
  { id: "TA0040", shortname: "impact", name: "Impact" },
];

/** The column of techniques whose catalogue entry names no tactic. */
export const NO_TACTIC = "(none)";

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
const counts = (v: unknown): Record<string, number> =>
  isObj(v) ? Object.fromEntries(Object.entries(v).map(([k, n]) => [k, num(n)])) : {};

function parseTechnique(key: string, v: unknown): TechniqueCoverage {
  const o = isObj(v) ? v : {};
  const rules = Array.isArray(o.rules) ? o.rules : [];
  return {
    id: str(o.id) ?? key,
    name: str(o.name),
    tactics: strings(o.tactics),
    rules: rules.map((r): CoveredRule => {
      const ro = isObj(r) ? r : {};
      return {
        id: str(ro.id),
        title: str(ro.title) ?? "Untitled rule",
        level: str(ro.level),
        status: str(ro.status),
        logsource: str(ro.logsource) ?? "",
      };
    }),
    levels: counts(o.levels),
    logsources: strings(o.logsources),
  };
}

/** The coverage in `raw` (the JSON of `GET /v1/coverage`); missing parts read as empty. */
export function parseCoverage(raw: unknown): Coverage {
  const o = isObj(raw) ? raw : {};
  const techniques = isObj(o.techniques) ? Object.entries(o.techniques).map(([k, v]) => parseTechnique(k, v)) : [];
  return {
    catalogue: str(o.catalogue) ?? "",
    attackVersion: str(o.attack_version),
    domain: str(o.domain) ?? "enterprise-attack",
    rules: num(o.rules),
    rulesWithTechniques: num(o.rules_with_techniques),
    techniques,
    unknownTechniques: Object.entries(counts(o.unknown_techniques))
      .map(([id, rules]) => ({ id, rules }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    tactics: counts(o.tactics),
    catalogueTechniques: num(o.catalogue_techniques),
  };
}

export interface HeatCell {
  id: string;
  name: string | null;
  /** Enabled rules covering it. */
  count: number;
  bucket: number;
}

export interface HeatColumn {
  /** Short name (`execution`). */
  tactic: string;
  name: string;
  /** `TA0002`, when the tactic is known. */
  tacticId: string | null;
  /** Enabled rules tagged with the tactic itself. */
  tacticRules: number;
  cells: HeatCell[];
}

/** `privilege-escalation` → `Privilege Escalation`. */
export function tacticName(shortname: string): string {
  const known = ENTERPRISE_TACTICS.find((t) => t.shortname === shortname);
  if (known) return known.name;
  if (shortname === NO_TACTIC) return "No tactic";
  return shortname
    .split("-")
    .map((w) => (w ? w.charAt(0).toUpperCase() + w.slice(1) : w))
    .join(" ");
}

/** Sorts `T1059` before `T1059.001` before `T1060`. */
export function compareTechniqueIds(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

/**
 * Tactics as columns (every known tactic in matrix order, even without covered techniques, then any other
 * tactic the response names), each with its techniques as cells sorted by id. A technique with several
 * tactics appears in each of their columns.
 */
export function buildHeatmap(cov: Coverage): HeatColumn[] {
  const byTactic = new Map<string, HeatCell[]>();
  for (const t of ENTERPRISE_TACTICS) byTactic.set(t.shortname, []);
  for (const t of cov.techniques) {
    const cell: HeatCell = { id: t.id, name: t.name, count: t.rules.length, bucket: bucketOf(t.rules.length) };
    const tactics = t.tactics.length > 0 ? [...new Set(t.tactics)] : [NO_TACTIC];
    for (const tactic of tactics) {
      const list = byTactic.get(tactic) ?? [];
      list.push(cell);
      byTactic.set(tactic, list);
    }
  }
  const known = new Set(ENTERPRISE_TACTICS.map((t) => t.shortname));
  const extra = [...byTactic.keys()].filter((k) => !known.has(k) && k !== NO_TACTIC).sort();
  const order = [...ENTERPRISE_TACTICS.map((t) => t.shortname), ...extra, ...(byTactic.has(NO_TACTIC) ? [NO_TACTIC] : [])];
  return order.map((tactic) => ({
    tactic,
    name: tacticName(tactic),
    tacticId: ENTERPRISE_TACTICS.find((t) => t.shortname === tactic)?.id ?? null,
    tacticRules: cov.tactics[tactic] ?? 0,
    cells: (byTactic.get(tactic) ?? []).sort((a, b) => compareTechniqueIds(a.id, b.id)),
  }));
}

/** One technique by id (case-insensitive), or `undefined`. */
export function findTechnique(cov: Coverage, id: string): TechniqueCoverage | undefined {
  const want = id.trim().toUpperCase();
  return cov.techniques.find((t) => t.id.toUpperCase() === want);
}

/* ---------- Colour scale ---------- */

export interface Bucket {
  /** Smallest count in the bucket. */
  min: number;
  /** Largest count, `null` for "and more". */
  max: number | null;
  light: { bg: string; fg: string };
  dark: { bg: string; fg: string };
  /** Tailwind classes with exactly the colours above (arbitrary values, so the contrast test checks what renders). */
  className: string;
}

/**
 * Counts → colours: grey for none, then deeper indigo for more rules (in dark mode "deeper" is brighter). Every
 * pair keeps WCAG AA text contrast (4.5:1) in both themes, and the count is always written in the cell, so
 * colour is never the only cue.
 */
export const BUCKETS: readonly Bucket[] = [
  {
    min: 0,
    max: 0,
    light: { bg: "#f1f5f9", fg: "#334155" },
    dark: { bg: "#1e293b", fg: "#cbd5e1" },
    className: "border-dashed bg-[#f1f5f9] text-[#334155] dark:bg-[#1e293b] dark:text-[#cbd5e1]",
  },
  {
    min: 1,
    max: 1,
    light: { bg: "#e0e7ff", fg: "#312e81" },
    dark: { bg: "#1e1b4b", fg: "#c7d2fe" },
    className: "bg-[#e0e7ff] text-[#312e81] dark:bg-[#1e1b4b] dark:text-[#c7d2fe]",
  },
  {
    min: 2,
    max: 2,
    light: { bg: "#c7d2fe", fg: "#1e1b4b" },
    dark: { bg: "#312e81", fg: "#e0e7ff" },
    className: "bg-[#c7d2fe] text-[#1e1b4b] dark:bg-[#312e81] dark:text-[#e0e7ff]",
  },
  {
    min: 3,
    max: 4,
    light: { bg: "#818cf8", fg: "#1e1b4b" },
    dark: { bg: "#4338ca", fg: "#ffffff" },
    className: "bg-[#818cf8] text-[#1e1b4b] dark:bg-[#4338ca] dark:text-[#ffffff]",
  },
  {
    min: 5,
    max: 9,
    light: { bg: "#4f46e5", fg: "#ffffff" },
    dark: { bg: "#818cf8", fg: "#020617" },
    className: "bg-[#4f46e5] text-[#ffffff] dark:bg-[#818cf8] dark:text-[#020617]",
  },
  {
    min: 10,
    max: null,
    light: { bg: "#312e81", fg: "#ffffff" },
    dark: { bg: "#c7d2fe", fg: "#1e1b4b" },
    className: "bg-[#312e81] text-[#ffffff] dark:bg-[#c7d2fe] dark:text-[#1e1b4b]",
  },
];

/** The bucket index of a rule count. */
export function bucketOf(count: number): number {
  const n = Math.max(0, Math.floor(count));
  const i = BUCKETS.findIndex((b) => n >= b.min && (b.max === null || n <= b.max));
  return i < 0 ? BUCKETS.length - 1 : i;
}

export function bucketLabel(b: Bucket): string {
  if (b.max === null) return `${b.min}+`;
  if (b.max === b.min) return String(b.min);
  return `${b.min}–${b.max}`;
}

export function rulesPhrase(n: number): string {
  return `${n} enabled ${n === 1 ? "rule" : "rules"}`;
}

/* ---------- WCAG contrast (for the tests, and handy for any future palette change) ---------- */

function channel(c: number): number {
  const s = c / 255;
  return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
}

/** Relative luminance of `#rrggbb`. */
export function luminance(hex: string): number {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new Error(`not a #rrggbb colour: ${hex}`);
  const [r, g, b] = [m[1], m[2], m[3]].map((x) => parseInt(x ?? "0", 16));
  return 0.2126 * channel(r ?? 0) + 0.7152 * channel(g ?? 0) + 0.0722 * channel(b ?? 0);
}

/** WCAG contrast ratio of two `#rrggbb` colours (1 to 21). */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return ((hi ?? 0) + 0.05) / ((lo ?? 0) + 0.05);
}
