import { describe, expect, it } from "vitest";
import {
  AUDIT_FILTER_KEYS,
  auditQuery,
  hasFilters,
  isoToLocalInput,
  localInputToIso,
  parseAuditEvent,
  parseVerification,
  validateFilters,
  type AuditFilters,
} from "./model";

const none = Object.fromEntries(AUDIT_FILTER_KEYS.map((k) => [k, ""])) as AuditFilters;
const uuid = "0190d5c3-8c3c-7b7e-9f00-0123456789ab";

describe("parseAuditEvent", () => {
  it("reads the stored event (the NewAuditEvent fields are flattened)", () => {
    const raw = {
      id: uuid,
      seq: 7,
      occurred_at: "2026-05-01T10:00:00Z",
      actor_kind: "user",
      actor_id: uuid,
      action: "PATCH /v1/detections/{id}",
      resource_kind: "detections",
      resource_id: "abc",
      ip: "10.0.0.1",
      user_agent: "test",
      context: { status: 200, role: "analyst" },
      outcome: "success",
      prev_hash: "00",
      hash: "11",
    };
    const e = parseAuditEvent(raw);
    expect(e).toMatchObject({
      id: uuid,
      seq: 7,
      actorKind: "user",
      action: "PATCH /v1/detections/{id}",
      resourceKind: "detections",
      resourceId: "abc",
      outcome: "success",
    });
    expect(e.raw).toBe(raw);
  });

  it("fills gaps", () => {
    const e = parseAuditEvent({}, 3);
    expect(e.id).toBe("unknown-3");
    expect(e.actorId).toBeNull();
    expect(e.seq).toBeNull();
  });
});

describe("filters", () => {
  it("maps to the API's parameter names and drops empty ones", () => {
    expect(auditQuery({ ...none, actor: ` ${uuid} `, kind: "agents", outcome: "denied", since: "2026-01-01T00:00:00.000Z" })).toEqual({
      actor_id: uuid,
      resource_kind: "agents",
      outcome: "denied",
      since: "2026-01-01T00:00:00.000Z",
    });
    expect(auditQuery(none)).toEqual({});
    expect(hasFilters(none)).toBe(false);
    expect(hasFilters({ ...none, action: "x" })).toBe(true);
  });

  it("validates before sending", () => {
    expect(validateFilters(none)).toEqual({});
    expect(validateFilters({ ...none, actor: "bob" })).toHaveProperty("actor");
    expect(validateFilters({ ...none, outcome: "maybe" })).toHaveProperty("outcome");
    expect(validateFilters({ ...none, since: "nonsense" })).toHaveProperty("since");
    expect(
      validateFilters({ ...none, since: "2026-02-01T00:00:00Z", until: "2026-01-01T00:00:00Z" }),
    ).toHaveProperty("until");
    expect(validateFilters({ ...none, since: "2026-01-01T00:00:00Z", until: "2026-02-01T00:00:00Z" })).toEqual({});
  });

  it("round-trips datetime-local values through UTC", () => {
    const local = "2026-03-04T05:06";
    const iso = localInputToIso(local);
    expect(iso).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\.000Z$/);
    expect(isoToLocalInput(iso)).toBe(local);
    expect(localInputToIso("")).toBe("");
    expect(isoToLocalInput("garbage")).toBe("");
  });
});

describe("parseVerification", () => {
  it("reads an intact chain", () => {
    expect(parseVerification({ checked: 12, intact: true, first_broken: null })).toEqual({
      checked: 12,
      intact: true,
      firstBroken: null,
    });
  });

  it("reads the first broken link", () => {
    expect(parseVerification({ checked: 5, intact: false, first_broken: { id: uuid, seq: 4, reason: "hash mismatch" } })).toEqual({
      checked: 5,
      intact: false,
      firstBroken: { id: uuid, seq: 4, reason: "hash mismatch" },
    });
  });

  it("never reports a chain with a broken link as intact", () => {
    expect(parseVerification({ checked: 5, intact: true, first_broken: { id: uuid, seq: 4, reason: "x" } }).intact).toBe(false);
  });
});
