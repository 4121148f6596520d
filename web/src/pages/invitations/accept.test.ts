import { describe, expect, it } from "vitest";
import { ApiProblem } from "../../api/problem";
import { acceptFailure, joinedOrganization } from "./accept";

const org = (id: string) => ({ id, name: `Org ${id}`, slug: id, role: "viewer" });
const problem = (status: number, code: string) => new ApiProblem({ type: "about:blank", title: "", status, detail: "d", code });

describe("accepting an invitation", () => {
  it("finds the organisation that was joined", () => {
    expect(joinedOrganization([org("a")], [org("a"), org("b")])?.id).toBe("b");
    expect(joinedOrganization([org("a")], [org("a")])).toBeNull();
    // Two new ones at once: ambiguous, the user picks.
    expect(joinedOrganization([], [org("a"), org("b")])).toBeNull();
  });

  it("tells the refusals apart", () => {
    expect(acceptFailure(problem(403, "invitation_not_for_you"))).toBe("not_for_you");
    expect(acceptFailure(problem(403, "forbidden"))).toBe("other");
    expect(acceptFailure(problem(404, "not_found"))).toBe("unusable");
    expect(acceptFailure(problem(409, "conflict"))).toBe("member_already");
    expect(acceptFailure(new Error("x"))).toBe("other");
  });
});
