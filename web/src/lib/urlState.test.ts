import { describe, expect, it } from "vitest";
import { patchParams, readParams } from "./urlState";

describe("URL filters", () => {
  it("sets, keeps and deletes params", () => {
    const p = new URLSearchParams("status=new&level=high");
    const next = patchParams(p, { status: "", level: "low", rule: "r1", other: undefined });
    expect(next.toString()).toBe("level=low&rule=r1");
    expect(p.toString()).toBe("status=new&level=high");
    expect(readParams(next, ["level", "status"])).toEqual({ level: "low", status: "" });
  });
});
