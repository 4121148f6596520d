/**
 * Names for user ids: the shared member directory (`useMemberDirectory`, only when the role has
 * `members_read`) and the caller's own id, with `nameOf(id)` → "You", the member's name, or a short id.
 */
import { useMe, useMemberDirectory } from "../api/queries";
import { nameOfUser, type MemberDirectory } from "./members";
import { usePermissions } from "./usePermissions";

export function useMemberNames(): { directory: MemberDirectory | undefined; myId: string | null; nameOf: (userId: string) => string } {
  const { can } = usePermissions();
  const me = useMe();
  const directory = useMemberDirectory(can("members_read")).data;
  const myId = me.data?.user_id ?? null;
  return { directory, myId, nameOf: (id) => nameOfUser(id, directory, myId) };
}
