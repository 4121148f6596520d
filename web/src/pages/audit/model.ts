/**
 * The audit log's data as the UI reads it (tested in model.test.ts).
 *
 * `GET /v1/audit-events` items are `secops_store::audit::AuditEvent` (secops-store/src/audit.rs), typed as bare
 * objects in the spec, so {@link parseAuditEvent} reads them defensively. Filters map one to one to the query
 * parameters of `list` and `export` in secops-server/src/audit/mod.rs.
 */
import { isUuid } from "../detections/model";

export interface AuditEvent {
  id: string;
  seq: number | null;
  occurredAt: string;
  /** `user`, `api_key` or `system`. */
  actorKind: string;
  actorId: string | null;
  /** `POST /v1/agents/{id}`. */
  action: string;
  resourceKind: string;
  resourceId: string | null;
  ip: string | null;
  userAgent: string | null;
  /** `success`, `failure` or `denied`. */
  outcome: string;
  context: unknown;
  /** The event as the server sent it, for the details view. */
  raw: unknown;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

export function parseAuditEvent(raw: unknown, index = 0): AuditEvent {
  const o = isObj(raw) ? raw : {};
  return {
    id: str(o.id) ?? `unknown-${index}`,
    seq: typeof o.seq === "number" ? o.seq : null,
    occurredAt: str(o.occurred_at) ?? "",
    actorKind: str(o.actor_kind) ?? "unknown",
    actorId: str(o.actor_id),
    action: str(o.action) ?? "",
    resourceKind: str(o.resource_kind) ?? "",
    resourceId: str(o.resource_id),
    ip: str(o.ip),
    userAgent: str(o.user_agent),
    outcome: str(o.outcome) ?? "",
    context: o.context,
    raw,
  };
}

export const OUTCOMES = ["success", "failure", "denied"] as const;

/** The filters in the URL: short keys, mapped to the API's names by {@link auditQuery}. */
export const AUDIT_FILTER_KEYS = ["actor", "action", "kind", "resource", "outcome", "since", "until"] as const;
export type AuditFilterKey = (typeof AUDIT_FILTER_KEYS)[number];
export type AuditFilters = Record<AuditFilterKey, string>;

export interface AuditQuery {
  actor_id?: string;
  action?: string;
  resource_kind?: string;
  resource_id?: string;
  outcome?: string;
  since?: string;
  until?: string;
}

/** The query parameters for `filters` (empty ones left out), shared by the list and the export. */
export function auditQuery(f: AuditFilters): AuditQuery {
  const q: AuditQuery = {};
  const set = (k: keyof AuditQuery, v: string) => {
    const t = v.trim();
    if (t) q[k] = t;
  };
  set("actor_id", f.actor);
  set("action", f.action);
  set("resource_kind", f.kind);
  set("resource_id", f.resource);
  set("outcome", f.outcome);
  set("since", f.since);
  set("until", f.until);
  return q;
}

export function hasFilters(f: AuditFilters): boolean {
  return AUDIT_FILTER_KEYS.some((k) => f[k].trim() !== "");
}

/** Problems with filters before they go to the server (which would refuse them with a 400). */
export function validateFilters(f: AuditFilters): Partial<Record<AuditFilterKey, string>> {
  const errors: Partial<Record<AuditFilterKey, string>> = {};
  if (f.actor.trim() && !isUuid(f.actor)) errors.actor = "An actor is a user id (a UUID).";
  if (f.outcome && !(OUTCOMES as readonly string[]).includes(f.outcome)) errors.outcome = "Choose success, failure or denied.";
  for (const k of ["since", "until"] as const) {
    if (f[k] && Number.isNaN(Date.parse(f[k]))) errors[k] = "Not a valid date and time.";
  }
  if (!errors.since && !errors.until && f.since && f.until && Date.parse(f.since) >= Date.parse(f.until)) {
    errors.until = "“Until” must be after “since”.";
  }
  return errors;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** An RFC 3339 instant as the value of a `datetime-local` input, in the browser's time zone ("" if invalid). */
export function isoToLocalInput(iso: string): string {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A `datetime-local` value (browser time zone) as an RFC 3339 instant in UTC ("" if empty or invalid). */
export function localInputToIso(local: string): string {
  if (!local) return "";
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}

export interface Verification {
  checked: number;
  intact: boolean;
  firstBroken: { id: string; seq: number | null; reason: string } | null;
}

/** `GET /v1/audit-events/verify`: `{checked, intact, first_broken: {id, seq, reason} | null}`. */
export function parseVerification(raw: unknown): Verification {
  const o = isObj(raw) ? raw : {};
  const b = isObj(o.first_broken) ? o.first_broken : null;
  return {
    checked: typeof o.checked === "number" ? o.checked : 0,
    intact: o.intact === true && !b,
    firstBroken: b
      ? { id: str(b.id) ?? "", seq: typeof b.seq === "number" ? b.seq : null, reason: str(b.reason) ?? "unknown reason" }
      : null,
  };
}
