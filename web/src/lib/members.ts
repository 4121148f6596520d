/**
 * How the console names people. Members come with their display name and login e-mail (`GET /v1/members` →
 * `MemberView`); elsewhere the API gives only user ids (detection assignees, note authors, audit actors), which
 * `components/MemberName` looks up in the member directory (`useMemberDirectory`).
 */
import type { Schemas } from "../api/types";

export type MemberView = Schemas["MemberView"];

/** A short form of a user id for when nothing better is known: `User 0190c1d2…`. */
export function shortUserId(userId: string): string {
  return `User ${userId.slice(0, 8)}…`;
}

/** The best name for a member: the display name, else the e-mail, else the short user id. */
export function memberName(m: Pick<MemberView, "user_id" | "display_name" | "email">): string {
  return m.display_name?.trim() || m.email?.trim() || shortUserId(m.user_id);
}

/** The e-mail to show under the name, when the name is not already the e-mail. */
export function memberSecondary(m: Pick<MemberView, "display_name" | "email">): string | null {
  const email = m.email?.trim() || null;
  return m.display_name?.trim() && email ? email : null;
}

/** Members by user id. */
export type MemberDirectory = ReadonlyMap<string, MemberView>;

/** The name for a user id: "You", the member's name, or the short id (left the organisation, or no access). */
export function nameOfUser(userId: string, directory: MemberDirectory | undefined, myId: string | null | undefined): string {
  if (myId && userId === myId) return "You";
  const m = directory?.get(userId);
  return m ? memberName(m) : shortUserId(userId);
}
