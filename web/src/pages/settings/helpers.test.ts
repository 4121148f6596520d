import { describe, expect, it } from "vitest";
import { checkConfigName, expiryOf } from "./helpers";
import { grantableRoles, roleOfScopes, rolesUpTo } from "./roles";

describe("expiryOf", () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);
  it("gives no expiry, a preset or the end of a chosen day", () => {
    expect(expiryOf("never", "", now)).toEqual({ ok: true, value: null });
    expect(expiryOf("30", "", now)).toEqual({ ok: true, value: new Date(now + 30 * 86_400_000).toISOString() });
    const custom = expiryOf("custom", "2025-02-01", now);
    expect(custom.ok).toBe(true);
    if (custom.ok) expect(new Date(custom.value ?? "").getTime()).toBe(new Date("2025-02-01T23:59:59").getTime());
  });
  it("refuses a missing or past date", () => {
    expect(expiryOf("custom", "", now)).toEqual({ ok: false, error: "Pick a date." });
    expect(expiryOf("custom", "2024-12-31", now)).toEqual({ ok: false, error: "Pick a date in the future." });
  });
});

describe("checkConfigName", () => {
  it("follows the server's naming rule", () => {
    expect(checkConfigName("splunk-prod")).toBeNull();
    expect(checkConfigName("a")).toBeNull();
    expect(checkConfigName("")).toMatch(/name/);
    expect(checkConfigName("splunk_prod")).toMatch(/no _/);
    expect(checkConfigName("1splunk")).toMatch(/starting with a letter/);
    expect(checkConfigName("a".repeat(33))).toBe("At most 32 characters.");
  });
});

describe("roles", () => {
  it("limits API key roles to the creator's and owner grants to owners", () => {
    expect(rolesUpTo("admin")).toEqual(["admin", "analyst", "viewer"]);
    expect(rolesUpTo("owner")).toEqual(["owner", "admin", "analyst", "viewer"]);
    expect(rolesUpTo(null)).toEqual(["viewer"]);
    expect(grantableRoles(false)).not.toContain("owner");
    expect(grantableRoles(true)).toContain("owner");
    expect(roleOfScopes(["role:analyst"])).toBe("analyst");
    expect(roleOfScopes(["events:write"])).toBeNull();
  });
});
