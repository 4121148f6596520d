/**
 * Single sign-on (OpenID Connect) for the organisation: `GET/PUT/DELETE /v1/sso`. The client secret is
 * write-only: required the first time, left out to keep the stored one. The redirect URI to register at the
 * provider comes from the server once a provider is set up.
 */
import { useState, type SubmitEvent } from "react";
import { isVersionConflict } from "../../api/problem";
import {
  Badge,
  Button,
  ConfirmDialog,
  ConflictNotice,
  CopyButton,
  ErrorState,
  Field,
  Input,
  ProblemMessage,
  RelativeTime,
  Select,
  SkeletonList,
  toast,
} from "../../components";
import { usePermissions } from "../../lib/usePermissions";
import { useDeleteSso, usePutSso, useSso, type SsoConfigRequest, type SsoConfigView } from "./queries";
import { ROLE_HELP, isRole, roleLabel, type RoleName } from "./roles";
import { DefinitionList, Section } from "./ui";

const SSO_ROLES: RoleName[] = ["admin", "analyst", "viewer"];

export function SsoTab() {
  const sso = useSso();
  // Bumped by "Reload" after a conflict: the form starts afresh from the server's version.
  const [generation, setGeneration] = useState(0);
  if (sso.isPending) return <SkeletonList lines={5} />;
  if (sso.isError) return <ErrorState error={sso.error} onRetry={() => void sso.refetch()} />;
  const view = sso.data;
  return (
    <div className="space-y-10">
      <Section
        id="settings-sso"
        title="Single sign-on"
        description="Let members sign in through your identity provider (OpenID Connect, authorisation code with PKCE). People signing in for the first time join with the default role."
      >
        {view ? <SsoStatus view={view} /> : <NotConfigured />}
      </Section>
      <Section id="settings-sso-provider" title={view ? "Identity provider" : "Set up an identity provider"}>
        <SsoForm
          key={generation}
          view={view}
          reloading={sso.isFetching}
          onReload={() => {
            void sso.refetch().then(() => setGeneration((g) => g + 1));
          }}
          onRemoved={() => setGeneration((g) => g + 1)}
        />
      </Section>
    </div>
  );
}

function UrlValue({ value, label }: { value: string; label: string }) {
  return (
    <span className="inline-flex max-w-full items-center gap-1">
      <code className="min-w-0 rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs break-all dark:bg-slate-800">{value}</code>
      <CopyButton value={value} label={label} />
    </span>
  );
}

function SsoStatus({ view }: { view: SsoConfigView }) {
  return (
    <DefinitionList
      items={[
        { term: "Status", value: view.enabled ? <Badge tone="success">Enabled</Badge> : <Badge>Disabled: sign-ins are refused</Badge> },
        {
          term: "Redirect URI",
          value: (
            <>
              <UrlValue value={view.redirect_uri} label="redirect URI" />
              <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">Register this as the redirect (callback) URI of the client at your provider.</p>
            </>
          ),
        },
        {
          term: "Sign-in link",
          value: (
            <>
              <UrlValue value={view.login_url} label="sign-in link" />
              <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">Where members start a single sign-on into this organisation.</p>
            </>
          ),
        },
        { term: "Default role", value: roleLabel(view.default_role) },
        { term: "Last changed", value: <RelativeTime date={view.updated_at} /> },
      ]}
    />
  );
}

function NotConfigured() {
  const expected = `${window.location.origin}/v1/auth/sso/callback`;
  return (
    <div className="space-y-3 text-sm">
      <p>
        <Badge>Not set up</Badge> <span className="text-slate-600 dark:text-slate-300">Members sign in with e-mail and password only.</span>
      </p>
      <p className="text-slate-600 dark:text-slate-300">
        When you register the client at your provider, its redirect URI is most likely <UrlValue value={expected} label="expected redirect URI" /> (the
        server&apos;s public URL followed by <code className="font-mono text-xs">/v1/auth/sso/callback</code>). The exact value is shown here once you
        save.
      </p>
    </div>
  );
}

function issuerError(issuer: string): string | null {
  const t = issuer.trim();
  if (!t) return "Enter the issuer URL.";
  let u: URL;
  try {
    u = new URL(t);
  } catch {
    return "Enter the issuer as a full URL, e.g. https://login.example.com/realms/acme.";
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return "The issuer must be an https:// URL.";
  if (u.search || u.hash || u.username || u.password) return "The issuer has no query, fragment or credentials.";
  return null;
}

function SsoForm({
  view: initial,
  onReload,
  onRemoved,
  reloading,
}: {
  view: SsoConfigView | null;
  onReload: () => void;
  onRemoved: () => void;
  reloading: boolean;
}) {
  const { can } = usePermissions();
  const put = usePutSso();
  // The configuration as read when the form started (or as this form last saved it): its version goes with
  // the change, whatever a background refetch brings.
  const [view, setView] = useState(initial);
  const [removing, setRemoving] = useState(false);
  const [issuer, setIssuer] = useState(view?.issuer ?? "");
  const [clientId, setClientId] = useState(view?.client_id ?? "");
  const [secret, setSecret] = useState("");
  const [role, setRole] = useState<string>(view?.default_role ?? "viewer");
  const [enabled, setEnabled] = useState(view?.enabled ?? true);
  const [submitted, setSubmitted] = useState(false);
  const manage = can("org_manage");

  const errors = {
    issuer: issuerError(issuer),
    clientId: clientId.trim() ? null : "Enter the client id.",
    secret: !view && !secret ? "Enter the client secret (required the first time)." : null,
  };
  const invalid = Object.values(errors).some(Boolean);

  const onSubmit = (e: SubmitEvent) => {
    e.preventDefault();
    setSubmitted(true);
    if (invalid) return;
    const body: SsoConfigRequest = {
      issuer: issuer.trim(),
      client_id: clientId.trim(),
      default_role: role,
      enabled,
      ...(secret ? { client_secret: secret } : {}),
      ...(view ? { version: view.version } : {}),
    };
    put.mutate(body, {
      onSuccess: (saved) => {
        setView(saved);
        toast.success(view ? "Single sign-on saved." : "Single sign-on set up.");
        setSecret("");
        setSubmitted(false);
        put.reset();
      },
    });
  };

  return (
    <>
      <form onSubmit={onSubmit} noValidate aria-label="Identity provider" className="max-w-2xl space-y-4">
        <Field
          label="Issuer URL"
          required
          error={submitted ? errors.issuer : undefined}
          hint="Discovery is read from {issuer}/.well-known/openid-configuration. Must be https://."
        >
          {(p) => <Input {...p} type="url" value={issuer} spellCheck={false} autoComplete="off" placeholder="https://login.example.com/realms/acme" onChange={(e) => setIssuer(e.target.value)} disabled={!manage} />}
        </Field>
        <Field label="Client ID" required error={submitted ? errors.clientId : undefined} hint="The client id registered at the provider.">
          {(p) => <Input {...p} value={clientId} spellCheck={false} autoComplete="off" onChange={(e) => setClientId(e.target.value)} disabled={!manage} />}
        </Field>
        <Field
          label="Client secret"
          required={!view}
          error={submitted ? errors.secret : undefined}
          hint={view ? <strong>Stored — leave empty to keep.</strong> : "Write-only: stored encrypted and never shown again."}
        >
          {(p) => <Input {...p} type="password" value={secret} autoComplete="new-password" spellCheck={false} onChange={(e) => setSecret(e.target.value)} disabled={!manage} />}
        </Field>
        <Field label="Default role" hint={`For people single sign-on adds to the organisation. ${isRole(role) ? ROLE_HELP[role] : ""} Single sign-on never makes owners.`}>
          {(p) => (
            <Select {...p} value={role} onChange={(e) => setRole(e.target.value)} disabled={!manage}>
              {SSO_ROLES.map((r) => (
                <option key={r} value={r}>
                  {roleLabel(r)}
                </option>
              ))}
              {!SSO_ROLES.includes(role as RoleName) && <option value={role}>{roleLabel(role)}</option>}
            </Select>
          )}
        </Field>
        <div className="flex items-start gap-2">
          <input
            id="sso-enabled"
            type="checkbox"
            checked={enabled}
            onChange={(e) => setEnabled(e.target.checked)}
            disabled={!manage}
            aria-describedby="sso-enabled-hint"
            className="mt-0.5 size-4 rounded border-slate-300 accent-indigo-600 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500"
          />
          <div>
            <label htmlFor="sso-enabled" className="text-sm font-medium">
              Accept single sign-on logins
            </label>
            <p id="sso-enabled-hint" className="text-xs text-slate-500 dark:text-slate-400">
              Turn off to pause sign-ins through the provider without removing its settings.
            </p>
          </div>
        </div>
        {isVersionConflict(put.error) ? <ConflictNotice what="the single sign-on settings" onReload={onReload} reloading={reloading} /> : <ProblemMessage error={put.error} />}
        {manage && (
          <div className="flex flex-wrap gap-2">
            <Button type="submit" variant="primary" loading={put.isPending}>
              {view ? "Save changes" : "Set up single sign-on"}
            </Button>
            {view && (
              <Button variant="danger" onClick={() => setRemoving(true)}>
                Remove single sign-on
              </Button>
            )}
          </div>
        )}
      </form>
      {removing && <RemoveSsoDialog onClose={() => setRemoving(false)} onRemoved={onRemoved} />}
    </>
  );
}

function RemoveSsoDialog({ onClose, onRemoved }: { onClose: () => void; onRemoved: () => void }) {
  const m = useDeleteSso();
  return (
    <ConfirmDialog
      open
      onOpenChange={(o) => {
        if (!o) onClose();
      }}
      title="Remove single sign-on?"
      description="Sign-ins through the provider stop at once, including ones in progress. Members it added stay, but those it created have no password and cannot sign in until single sign-on is set up again."
      confirmLabel="Remove single sign-on"
      danger
      loading={m.isPending}
      error={m.error}
      onConfirm={() =>
        m.mutate(undefined, {
          onSuccess: () => {
            toast.success("Single sign-on removed.");
            onClose();
            onRemoved();
          },
        })
      }
    />
  );
}
