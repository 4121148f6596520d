/** The current organisation (from `GET /v1/me` → `organizations`) and the signed-in account. */
import { useMe } from "../../api/queries";
import { Badge, CopyButton, ErrorState, SkeletonList } from "../../components";
import { ROLE_HELP, isRole, roleLabel } from "./roles";
import { DefinitionList, Section } from "./ui";

export function OrganizationTab() {
  const me = useMe();
  if (me.isPending) return <SkeletonList lines={4} />;
  if (me.isError) return <ErrorState error={me.error} onRetry={() => void me.refetch()} />;
  const m = me.data;
  const orgs = m.organizations;
  const org = orgs.find((o) => o.id === m.organization_id);
  const others = orgs.filter((o) => o.id !== m.organization_id);
  return (
    <div className="space-y-10">
      <Section id="settings-org" title="Organisation" description="The organisation you are working in now.">
        <DefinitionList
          items={[
            { term: "Name", value: org?.name ?? <span className="text-slate-500">Unknown</span> },
            { term: "Slug", value: org ? <span className="font-mono">{org.slug}</span> : "—" },
            {
              term: "Organisation id",
              value: (
                <span className="inline-flex items-center gap-1">
                  <span className="font-mono text-xs break-all">{m.organization_id}</span>
                  <CopyButton value={m.organization_id} label="organisation id" />
                </span>
              ),
            },
            {
              term: "Your role",
              value: (
                <span className="inline-flex flex-wrap items-center gap-2">
                  <Badge tone="info">{roleLabel(m.role)}</Badge>
                  {isRole(m.role) && <span className="text-slate-500 dark:text-slate-400">{ROLE_HELP[m.role]}</span>}
                </span>
              ),
            },
          ]}
        />
        <p className="text-xs text-slate-500 dark:text-slate-400">
          Single sign-on starts from this organisation id (see the Single sign-on tab).
        </p>
      </Section>

      <Section id="settings-account" title="Your account">
        <DefinitionList
          items={[
            { term: "E-mail", value: m.email ?? <span className="text-slate-500">{m.kind === "api_key" ? "Signed in with an API key" : "—"}</span> },
            ...(m.user_id
              ? [{ term: "User id", value: <span className="font-mono text-xs break-all">{m.user_id}</span> }]
              : []),
            { term: "Signed in as", value: m.kind === "api_key" ? "API key" : m.kind === "user" ? "User" : m.kind },
          ]}
        />
      </Section>

      {others.length > 0 && (
        <Section
          id="settings-other-orgs"
          title="Your other organisations"
          description="Switch to another organisation from the organisation menu in the top bar."
        >
          <ul className="divide-y divide-slate-100 rounded-lg border border-slate-200 text-sm dark:divide-slate-800 dark:border-slate-800">
            {others.map((o) => (
              <li key={o.id} className="flex flex-wrap items-center justify-between gap-2 px-3 py-2">
                <span>
                  <span className="font-medium">{o.name}</span> <span className="font-mono text-xs text-slate-500">{o.slug}</span>
                </span>
                <Badge>{roleLabel(o.role)}</Badge>
              </li>
            ))}
          </ul>
        </Section>
      )}
    </div>
  );
}
