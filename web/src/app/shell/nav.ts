import type { IconName } from "../../components";
import type { Permission } from "../../lib/usePermissions";

export interface NavItem {
  to: string;
  label: string;
  icon: IconName;
  /** Hidden when the role lacks it. */
  needs: Permission;
}

export const NAV_ITEMS: NavItem[] = [
  { to: "/chat", label: "Chat", icon: "chat", needs: "chats_use" },
  { to: "/approvals", label: "Approvals", icon: "check", needs: "runs_read" },
  { to: "/agents", label: "Agents", icon: "bot", needs: "agents_read" },
  { to: "/detections", label: "Detections", icon: "alert", needs: "detections_read" },
  { to: "/coverage", label: "Coverage", icon: "grid", needs: "rules_read" },
  { to: "/audit", label: "Audit", icon: "list", needs: "audit_read" },
  { to: "/settings", label: "Settings", icon: "settings", needs: "org_read" },
];
