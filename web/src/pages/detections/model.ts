/**
 * The detection workflow and rule vocabulary as the server defines them, as pure data and functions (tested in
 * model.test.ts).
 *
 * - Statuses and transitions: `secops-store/src/detections.rs` (`DetectionStatus::can_become`).
 * - Levels: `secops-server/src/detections/mod.rs` (`LEVELS`).
 * - Rule statuses: `RuleView.status` in the spec.
 */
import type { BadgeTone } from "../../components";

export const DETECTION_STATUSES = ["new", "triaging", "true_positive", "false_positive", "closed"] as const;
export type DetectionStatus = (typeof DETECTION_STATUSES)[number];

/** Sigma levels, lowest first. */
export const LEVELS = ["informational", "low", "medium", "high", "critical"] as const;
export type Level = (typeof LEVELS)[number];

export const RULE_STATUSES = ["stable", "test", "experimental", "deprecated", "unsupported"] as const;

const TRANSITIONS: Record<DetectionStatus, readonly DetectionStatus[]> = {
  new: ["triaging", "closed"],
  triaging: ["true_positive", "false_positive", "new"],
  true_positive: ["closed", "triaging"],
  false_positive: ["closed", "triaging"],
  closed: ["triaging"],
};

export function isDetectionStatus(s: string): s is DetectionStatus {
  return (DETECTION_STATUSES as readonly string[]).includes(s);
}

export function isLevel(s: string): s is Level {
  return (LEVELS as readonly string[]).includes(s);
}

/** The statuses a detection in `status` may move to (empty for a status the UI does not know). */
export function nextStatuses(status: string): readonly DetectionStatus[] {
  return isDetectionStatus(status) ? TRANSITIONS[status] : [];
}

export const STATUS_LABELS: Record<DetectionStatus, string> = {
  new: "New",
  triaging: "Triaging",
  true_positive: "True positive",
  false_positive: "False positive",
  closed: "Closed",
};

export function statusLabel(status: string): string {
  return isDetectionStatus(status) ? STATUS_LABELS[status] : status;
}

export const STATUS_TONES: Record<DetectionStatus, BadgeTone> = {
  new: "info",
  triaging: "warning",
  true_positive: "danger",
  false_positive: "success",
  closed: "neutral",
};

export function statusTone(status: string): BadgeTone {
  return isDetectionStatus(status) ? STATUS_TONES[status] : "neutral";
}

/** The label of the button that moves a detection from `from` to `to` (stable: tests find buttons by it). */
export function transitionLabel(from: string, to: DetectionStatus): string {
  switch (to) {
    case "triaging":
      return from === "new" ? "Start triage" : "Reopen";
    case "true_positive":
      return "Mark true positive";
    case "false_positive":
      return "Mark false positive";
    case "closed":
      return "Close";
    case "new":
      return "Back to new";
  }
}

/** The start of a local calendar day (`YYYY-MM-DD` from a date input) as RFC 3339, or "" for no day. */
export function dayStart(day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return "";
  const t = new Date(`${day}T00:00:00`);
  return Number.isNaN(t.getTime()) ? "" : t.toISOString();
}

/** The end of a local calendar day (the start of the next) as RFC 3339, or "" for no day. */
export function dayEnd(day: string): string {
  const start = dayStart(day);
  if (!start) return "";
  const t = new Date(`${day}T00:00:00`);
  t.setDate(t.getDate() + 1);
  return t.toISOString();
}

export function levelLabel(level: string): string {
  return level ? level.charAt(0).toUpperCase() + level.slice(1) : "Unknown";
}

export function levelTone(level: string): BadgeTone {
  switch (level) {
    case "critical":
    case "high":
      return "danger";
    case "medium":
      return "warning";
    case "low":
      return "info";
    default:
      return "neutral";
  }
}

/** `attack.t1059.001` → `T1059.001`; `null` for tags that do not name a technique. */
export function techniqueOfTag(tag: string): string | null {
  const m = /^attack\.(t\d{4}(?:\.\d{3})?)$/i.exec(tag.trim());
  return m?.[1] ? m[1].toUpperCase() : null;
}

/** The ATT&CK techniques a rule's tags name, in tag order, without duplicates. */
export function techniquesOfTags(tags: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of tags) {
    const id = techniqueOfTag(t);
    if (id && !out.includes(id)) out.push(id);
  }
  return out;
}

/** A technique's page on attack.mitre.org (`T1059.001` → `/techniques/T1059/001`). */
export function techniqueUrl(id: string): string {
  return `https://attack.mitre.org/techniques/${id.toUpperCase().replace(".", "/")}`;
}

/** Whether `s` looks like a UUID (the server rejects malformed ids in filters). */
export function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s.trim());
}
