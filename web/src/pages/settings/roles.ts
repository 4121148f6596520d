/** The organisation roles (secops-core `tenancy::rbac::Role`), most powerful first. */

export const ROLES = ["owner", "admin", "analyst", "viewer"] as const;
export type RoleName = (typeof ROLES)[number];

export const ROLE_LABELS: Record<RoleName, string> = {
  owner: "Owner",
  admin: "Admin",
  analyst: "Analyst",
  viewer: "Viewer",
};

export const ROLE_HELP: Record<RoleName, string> = {
  owner: "Everything, including deleting the organisation and managing owners.",
  admin: "Manages members, agents, tools, rules and keys; reads audit.",
  analyst: "Works cases: runs agents, chats, approves tool calls, triages detections.",
  viewer: "Reads; changes nothing.",
};

export function isRole(r: string | null | undefined): r is RoleName {
  return (ROLES as readonly string[]).includes(r ?? "");
}

export function roleLabel(r: string | null | undefined): string {
  return isRole(r) ? ROLE_LABELS[r] : (r ?? "—");
}

/** Roles at or below `role` (an API key cannot have more rights than its creator). */
export function rolesUpTo(role: string | null | undefined): RoleName[] {
  const i = isRole(role) ? ROLES.indexOf(role) : ROLES.length - 1;
  return ROLES.slice(i);
}

/** Roles a member manager may grant: owner only with `owners_manage`. */
export function grantableRoles(canManageOwners: boolean): RoleName[] {
  return canManageOwners ? [...ROLES] : ROLES.filter((r) => r !== "owner");
}

/** The role of an API key, from its scopes (`role:analyst`). */
export function roleOfScopes(scopes: readonly string[]): string | null {
  const s = scopes.find((x) => x.startsWith("role:"));
  return s ? s.slice("role:".length) : null;
}
