/**
 * Settings: organisation, members and invitations, API keys, tool configurations, single sign-on. The tab is
 * in the URL (`/settings?tab=members`); the older path form (`/settings/members`) redirects to it. Tabs the
 * role cannot use are not shown (the server refuses them anyway).
 */
import type { ReactNode } from "react";
import { Navigate, useParams, useSearchParams } from "react-router";
import { Page, PageHeader, SkeletonList, Tabs } from "../../components";
import { usePermissions, type Permission } from "../../lib/usePermissions";
import { ApiKeysTab } from "./ApiKeysTab";
import { MembersTab } from "./MembersTab";
import { OrganizationTab } from "./OrganizationTab";
import { SsoTab } from "./SsoTab";
import { ToolsTab } from "./ToolsTab";

const TABS = [
  { value: "organization", label: "Organisation", needs: null, content: <OrganizationTab /> },
  { value: "members", label: "Members", needs: "members_read", content: <MembersTab /> },
  { value: "api-keys", label: "API keys", needs: "api_keys_manage", content: <ApiKeysTab /> },
  { value: "tools", label: "Tools", needs: "tools_read", content: <ToolsTab /> },
  { value: "sso", label: "Single sign-on", needs: "org_manage", content: <SsoTab /> },
] as const satisfies readonly { value: string; label: string; needs: Permission | null; content: ReactNode }[];

type TabValue = (typeof TABS)[number]["value"];

/** Other names a tab is reached by (older links, spelling). */
const ALIASES: Record<string, TabValue> = {
  profile: "organization",
  organisation: "organization",
  org: "organization",
  invitations: "members",
  keys: "api-keys",
  "tool-configs": "tools",
};

function tabOf(name: string | null | undefined): TabValue | null {
  if (!name) return null;
  const n = name.toLowerCase();
  return TABS.find((t) => t.value === n)?.value ?? ALIASES[n] ?? null;
}

export function SettingsPage() {
  const { can, loaded } = usePermissions();
  const [params, setParams] = useSearchParams();
  const rest = useParams()["*"];

  // `/settings/members` → `/settings?tab=members`.
  if (rest) {
    const legacy = tabOf(rest.split("/")[0]);
    return <Navigate to={legacy ? `/settings?tab=${legacy}` : "/settings"} replace />;
  }

  const visible = TABS.filter((t) => t.needs === null || can(t.needs));
  const requested = tabOf(params.get("tab"));
  const active = visible.find((t) => t.value === requested) ?? visible[0];
  const title = active && requested ? `${active.label} · Settings` : "Settings";

  return (
    <Page title={title}>
      <PageHeader title="Settings" description="Your organisation, its members, API keys, tool connections and single sign-on." />
      {!loaded || !active ? (
        <SkeletonList lines={5} />
      ) : (
        <Tabs
          label="Settings sections"
          value={active.value}
          onValueChange={(v) =>
            setParams((p) => {
              const next = new URLSearchParams(p);
              next.set("tab", v);
              return next;
            })
          }
          tabs={visible.map((t) => ({ value: t.value, label: t.label, content: t.content }))}
        />
      )}
    </Page>
  );
}
