/**
 * What the current role may do, from `GET /v1/me` → `permissions` (snake_case names of the server's
 * `Permission` enum). Hide (not just disable) controls the role cannot use:
 *
 * ```tsx
 * const { can } = usePermissions();
 * {can("agents_write") && <Button>New agent</Button>}
 * ```
 *
 * While `/v1/me` loads, `can` answers `false`, so write controls appear only once allowed.
 */
import { useMemo } from "react";
import { useMe } from "../api/queries";

/** The permissions the server knows (secops-core `tenancy::rbac::Permission`). */
export type Permission =
  | "org_read"
  | "org_manage"
  | "org_delete"
  | "members_read"
  | "members_manage"
  | "owners_manage"
  | "api_keys_manage"
  | "agents_read"
  | "agents_write"
  | "runs_read"
  | "runs_start"
  | "runs_cancel"
  | "runs_approve"
  | "chats_use"
  | "feedback_write"
  | "tools_read"
  | "tools_manage"
  | "detections_read"
  | "detections_triage"
  | "events_ingest"
  | "rules_read"
  | "rules_write"
  | "documents_read"
  | "documents_write"
  | "audit_read";

export interface Permissions {
  can: (p: Permission) => boolean;
  role: string | null;
  loaded: boolean;
}

export function usePermissions(): Permissions {
  const me = useMe();
  const list = me.data?.permissions;
  return useMemo(() => {
    const set = new Set(list ?? []);
    return { can: (p: Permission) => set.has(p), role: me.data?.role ?? null, loaded: list !== undefined };
  }, [list, me.data?.role]);
}
