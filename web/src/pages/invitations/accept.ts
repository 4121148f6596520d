/**
 * Accepting an invitation (`POST /v1/invitations/accept`). The answer is the new membership (`MemberView`),
 * which does not name the organisation; the organisation is the one `GET /v1/me` lists afterwards and did not
 * list before, and the console then moves the session there (`POST /v1/auth/switch`, cookie mode).
 */
import { api, unwrap } from "../../api/client";
import { ApiProblem } from "../../api/problem";
import type { OrgMembership, Schemas } from "../../api/types";

export type MemberView = Schemas["MemberView"];

export interface Accepted {
  member: MemberView;
  /** The organisation joined, when `/v1/me` shows which one it is. */
  organization: OrgMembership | null;
}

/** The organisation in `after` that is not in `before` (the one just joined), or `null`. */
export function joinedOrganization(before: readonly OrgMembership[], after: readonly OrgMembership[]): OrgMembership | null {
  const known = new Set(before.map((o) => o.id));
  const added = after.filter((o) => !known.has(o.id));
  return added.length === 1 ? (added[0] ?? null) : null;
}

/** Accepts `token` as the signed-in user and finds the organisation it joined. */
export async function acceptInvitation(token: string): Promise<Accepted> {
  const before = await unwrap(api.GET("/v1/me"));
  const member = await unwrap(api.POST("/v1/invitations/accept", { body: { token } }));
  let organization: OrgMembership | null = null;
  try {
    organization = joinedOrganization(before.organizations, (await unwrap(api.GET("/v1/me"))).organizations);
  } catch {
    // The membership exists; without the organisation the user switches with the organisation menu.
  }
  return { member, organization };
}

export type AcceptFailure =
  /** 403 `invitation_not_for_you`: signed in with another address than the invited one. */
  | "not_for_you"
  /** 404: used, withdrawn or expired. */
  | "unusable"
  /** 409: a member of that organisation already. */
  | "member_already"
  | "other";

export function acceptFailure(e: unknown): AcceptFailure {
  if (!(e instanceof ApiProblem)) return "other";
  if (e.status === 403 && e.code === "invitation_not_for_you") return "not_for_you";
  if (e.status === 404) return "unusable";
  if (e.status === 409) return "member_already";
  return "other";
}

export const FAILURE_TEXT: Record<Exclude<AcceptFailure, "other">, { title: string; text: string }> = {
  not_for_you: {
    title: "This invitation is for another e-mail address",
    text: "Only the account with the invited address can accept it. Sign in with that address (or register it), then open the invitation link again.",
  },
  unusable: {
    title: "This invitation cannot be used",
    text: "It was accepted already, withdrawn, or it expired. Ask whoever invited you for a new one.",
  },
  member_already: {
    title: "You are a member already",
    text: "Your account already belongs to the organisation of this invitation. Switch to it with the organisation menu.",
  },
};
