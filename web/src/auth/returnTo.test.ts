import { describe, expect, it } from "vitest";
import { returnToState, safeReturnPath } from "./returnTo";

describe("return-to", () => {
  it("accepts console paths only", () => {
    expect(safeReturnPath("/invitations/accept?token=x")).toBe("/invitations/accept?token=x");
    expect(safeReturnPath("//evil.example/x")).toBeNull();
    expect(safeReturnPath("https://evil.example/")).toBeNull();
    expect(safeReturnPath("/login")).toBeNull();
    expect(safeReturnPath("/register")).toBeNull();
    expect(safeReturnPath(42)).toBeNull();
  });

  it("builds the router state", () => {
    expect(returnToState("/chat")).toEqual({ from: "/chat" });
  });
});
