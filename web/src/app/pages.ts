/**
 * The lazily loaded pages. Each page folder's `index.tsx` exports its page components by name; the route
 * table in `App.tsx` uses these. To add a page: export it from its folder and add one line here.
 */
import { lazy, type ComponentType } from "react";

function page<M>(load: () => Promise<M>, name: keyof M & string) {
  return lazy(async () => {
    const m = await load();
    return { default: m[name] as ComponentType };
  });
}

export const pages = {
  Login: page(() => import("../pages/login"), "LoginPage"),
  Register: page(() => import("../pages/register"), "RegisterPage"),
  AcceptInvitation: page(() => import("../pages/invitations"), "AcceptInvitationPage"),
  Chat: page(() => import("../pages/chat"), "ChatPage"),
  Approvals: page(() => import("../pages/approvals"), "ApprovalsPage"),
  Agents: page(() => import("../pages/agents"), "AgentsPage"),
  AgentNew: page(() => import("../pages/agents"), "AgentNewPage"),
  AgentDetail: page(() => import("../pages/agents"), "AgentDetailPage"),
  Run: page(() => import("../pages/runs"), "RunPage"),
  Detections: page(() => import("../pages/detections"), "DetectionsPage"),
  DetectionDetail: page(() => import("../pages/detections"), "DetectionDetailPage"),
  DetectionRules: page(() => import("../pages/detections"), "DetectionRulesPage"),
  Coverage: page(() => import("../pages/coverage"), "CoveragePage"),
  Audit: page(() => import("../pages/audit"), "AuditPage"),
  Settings: page(() => import("../pages/settings"), "SettingsPage"),
  NotFound: page(() => import("../pages/not-found"), "NotFoundPage"),
};
