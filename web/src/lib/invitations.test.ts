import { describe, expect, it } from "vitest";
import { acceptInvitationPath, invitationLink } from "./invitations";

describe("invitation links", () => {
  it("puts the token in the query, encoded", () => {
    expect(acceptInvitationPath("abc+/=")).toBe("/invitations/accept?token=abc%2B%2F%3D");
    expect(invitationLink("tok", "https://secops.example")).toBe("https://secops.example/invitations/accept?token=tok");
  });

  it("leaves the query out without a token", () => {
    expect(acceptInvitationPath("  ")).toBe("/invitations/accept");
  });
});
