import { describe, expect, it } from "vitest";
import { memberName, memberSecondary, nameOfUser, shortUserId, type MemberView } from "./members";

const ID = "0190c1d2-0000-7000-8000-000000000001";
const member = (over: Partial<MemberView>): MemberView => ({ user_id: ID, role: "analyst", joined_at: "2026-01-01T00:00:00Z", version: 1, ...over });

describe("member names", () => {
  it("prefers the display name, then the e-mail, then the short id", () => {
    expect(memberName(member({ display_name: "Ada Lovelace", email: "ada@example.com" }))).toBe("Ada Lovelace");
    expect(memberName(member({ display_name: "  ", email: "ada@example.com" }))).toBe("ada@example.com");
    expect(memberName(member({ display_name: null, email: null }))).toBe("User 0190c1d2…");
    expect(shortUserId(ID)).toBe("User 0190c1d2…");
  });

  it("shows the e-mail second only when the name is not the e-mail", () => {
    expect(memberSecondary(member({ display_name: "Ada", email: "ada@example.com" }))).toBe("ada@example.com");
    expect(memberSecondary(member({ email: "ada@example.com" }))).toBeNull();
  });

  it("names a user id from the directory, or as 'You'", () => {
    const dir = new Map([[ID, member({ display_name: "Ada" })]]);
    expect(nameOfUser(ID, dir, ID)).toBe("You");
    expect(nameOfUser(ID, dir, null)).toBe("Ada");
    expect(nameOfUser("0190c1d2-ffff-7000-8000-000000000002", dir, null)).toBe("User 0190c1d2…");
    expect(nameOfUser(ID, undefined, undefined)).toBe("User 0190c1d2…");
  });
});
