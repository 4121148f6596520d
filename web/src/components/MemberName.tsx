/**
 * A person named by user id: "You", the member's display name (e-mail and id as tooltip), or a short id when
 * the role cannot list members or the user has left. Reads the shared member directory (one query for the
 * page, only with `members_read`).
 *
 * ```tsx
 * Assigned to <MemberName userId={d.assignee_id} />
 * ```
 */
import { cn } from "../lib/cn";
import { nameOfUser } from "../lib/members";
import { useMemberNames } from "../lib/useMemberNames";

export function MemberName({ userId, className }: { userId: string; className?: string }) {
  const { directory, myId } = useMemberNames();
  const member = directory?.get(userId);
  const known = Boolean(member) || (myId !== null && userId === myId);
  return (
    <span className={cn(!known && "font-mono text-xs", className)} title={[member?.email, userId].filter(Boolean).join(" · ")}>
      {nameOfUser(userId, directory, myId)}
    </span>
  );
}
