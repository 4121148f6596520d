import { useNavigate } from "react-router";
import { Badge, Button, Icon, IconButton, Menu, MenuItem, MenuLabel, MenuRadioGroup, MenuRadioItem, MenuSeparator, Tooltip, toast } from "../../components";
import { useMe } from "../../api/queries";
import { logout, switchOrganization } from "../../auth/actions";
import { useAuthStore } from "../../auth/store";
import { useTheme, type ThemeChoice } from "../../lib/theme";

export function TopBar({ onOpenMenu }: { onOpenMenu: () => void }) {
  return (
    <header className="flex h-14 shrink-0 items-center gap-2 border-b border-slate-200 bg-white px-3 sm:px-4 dark:border-slate-800 dark:bg-slate-950">
      <IconButton icon="menu" label="Open navigation" className="lg:hidden" onClick={onOpenMenu} />
      <OrgSwitcher />
      <div className="flex-1" />
      <ThemeMenu />
      <UserMenu />
    </header>
  );
}

function OrgSwitcher() {
  const me = useMe();
  const orgId = useAuthStore((s) => s.session?.organizationId);
  const navigate = useNavigate();
  const orgs = me.data?.organizations;
  const current = orgs?.find((o) => o.id === orgId);
  const name = current?.name ?? (orgId ? `Organisation ${orgId.slice(0, 8)}` : "Organisation");
  if (!orgs || orgs.length < 2) {
    return (
      <Tooltip content={orgs ? "You belong to one organisation" : `Organisation id ${orgId ?? ""}`}>
        <span tabIndex={0} className="flex min-w-0 items-center gap-2 rounded px-2 py-1 text-sm font-medium">
          <Icon name="building" className="shrink-0" />
          <span className="truncate">{name}</span>
        </span>
      </Tooltip>
    );
  }
  const onSwitch = async (id: string) => {
    if (id === orgId) return;
    try {
      await switchOrganization(id);
      void navigate("/chat");
      toast.success(`Switched to ${orgs.find((o) => o.id === id)?.name ?? "the organisation"}`);
    } catch (e) {
      toast.error(e);
    }
  };
  return (
    <Menu
      align="start"
      label="Organisations"
      trigger={
        <Button variant="ghost" className="min-w-0" aria-label={`Organisation: ${name}. Switch organisation`}>
          <Icon name="building" className="shrink-0" />
          <span className="max-w-[40vw] truncate">{name}</span>
          <Icon name="chevronDown" className="size-3.5 shrink-0" />
        </Button>
      }
    >
      <MenuLabel>Switch organisation</MenuLabel>
      <MenuRadioGroup value={orgId ?? ""} onValueChange={(v) => void onSwitch(v)}>
        {orgs.map((o) => (
          <MenuRadioItem key={o.id} value={o.id}>
            <span className="flex-1 truncate">{o.name}</span>
            <Badge>{o.role}</Badge>
          </MenuRadioItem>
        ))}
      </MenuRadioGroup>
    </Menu>
  );
}

const themeIcon = { light: "sun", dark: "moon", system: "monitor" } as const;

function ThemeMenu() {
  const choice = useTheme((s) => s.choice);
  const setChoice = useTheme((s) => s.setChoice);
  return (
    <Menu label="Theme" trigger={<IconButton icon={themeIcon[choice]} label={`Theme: ${choice}`} />}>
      <MenuLabel>Theme</MenuLabel>
      <MenuRadioGroup value={choice} onValueChange={(v) => setChoice(v as ThemeChoice)}>
        <MenuRadioItem value="light">Light</MenuRadioItem>
        <MenuRadioItem value="dark">Dark</MenuRadioItem>
        <MenuRadioItem value="system">System</MenuRadioItem>
      </MenuRadioGroup>
    </Menu>
  );
}

function UserMenu() {
  const me = useMe();
  const navigate = useNavigate();
  const email = me.data?.email ?? "Account";
  return (
    <Menu label="Account" trigger={<IconButton icon="user" label={`Account: ${email}`} />}>
      <MenuLabel>
        <span className="block truncate font-medium text-slate-900 dark:text-slate-100">{email}</span>
        {me.data?.role && <span className="capitalize">{me.data.role}</span>}
      </MenuLabel>
      <MenuSeparator />
      <MenuItem onSelect={() => void navigate("/settings")}>
        <Icon name="settings" /> Settings
      </MenuItem>
      <MenuItem
        onSelect={() => {
          void logout()
            .catch((e: unknown) => toast.error(e))
            .finally(() => void navigate("/login", { replace: true }));
        }}
      >
        <Icon name="logout" /> Sign out
      </MenuItem>
    </Menu>
  );
}
