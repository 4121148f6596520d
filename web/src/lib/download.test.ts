import { describe, expect, it } from "vitest";
import { timestampedName } from "./download";

describe("timestampedName", () => {
  it("makes a portable name", () => {
    expect(timestampedName("audit", "ndjson", new Date("2026-05-01T10:20:30.123Z"))).toBe("audit-2026-05-01T10-20-30Z.ndjson");
  });
});
