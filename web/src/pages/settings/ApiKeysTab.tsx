/**
 * API keys: list, create (the secret is shown once, in a dialog, and kept only in that dialog's state), revoke.
 */
import { useState, type SubmitEvent } from "react";
import {
  Badge,
  Button,
  ConfirmDialog,
  Dialog,
  EmptyState,
  Field,
  Input,
  PagedList,
  ProblemMessage,
  RelativeTime,
  SecretDialog,
  Select,
  Table,
  toast,
  type Column,
} from "../../components";
import { usePermissions } from "../../lib/usePermissions";
import { useApiKeys, useCreateApiKey, useRevokeApiKey, type ApiKeyView } from "./queries";
import { ROLE_HELP, isRole, roleLabel, roleOfScopes, rolesUpTo, type RoleName } from "./roles";
import { EXPIRY_PRESETS, expiryOf, type ExpiryChoice } from "./helpers";
import { Section } from "./ui";

type KeyStatus = "active" | "expired" | "revoked";

function statusOf(k: ApiKeyView, now = Date.now()): KeyStatus {
  if (k.revoked_at) return "revoked";
  if (k.expires_at && new Date(k.expires_at).getTime() <= now) return "expired";
  return "active";
}

const STATUS: Record<KeyStatus, { tone: "success" | "neutral" | "danger"; label: string }> = {
  active: { tone: "success", label: "Active" },
  expired: { tone: "neutral", label: "Expired" },
  revoked: { tone: "danger", label: "Revoked" },
};

export function ApiKeysTab() {
  const { can } = usePermissions();
  const keys = useApiKeys();
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiKeyView | null>(null);
  // The one place the new secret lives, until its dialog closes.
  const [secret, setSecret] = useState<{ secret: string; name: string } | null>(null);
  const manage = can("api_keys_manage");
  const rows = keys.data?.pages.flatMap((p) => p.items) ?? [];

  const columns: Column<ApiKeyView>[] = [
    { key: "name", header: "Name", cell: (k) => <span className="font-medium break-words">{k.name}</span> },
    { key: "prefix", header: "Prefix", cell: (k) => <span className="font-mono text-xs">{k.prefix}</span> },
    {
      key: "role",
      header: "Role",
      cell: (k) => {
        const r = roleOfScopes(k.scopes);
        return r ? roleLabel(r) : <span className="font-mono text-xs">{k.scopes.join(", ") || "—"}</span>;
      },
    },
    { key: "created", header: "Created", hideOnMobile: true, cell: (k) => <RelativeTime date={k.created_at} /> },
    {
      key: "expires",
      header: "Expires",
      cell: (k) => (k.expires_at ? <RelativeTime date={k.expires_at} /> : <span className="text-slate-500">Never</span>),
    },
    {
      key: "used",
      header: "Last used",
      hideOnMobile: true,
      cell: (k) => (k.last_used_at ? <RelativeTime date={k.last_used_at} /> : <span className="text-slate-500">Never</span>),
    },
    {
      key: "status",
      header: "Status",
      cell: (k) => {
        const s = STATUS[statusOf(k)];
        return (
          <Badge tone={s.tone}>{s.label}</Badge>
        );
      },
    },
    ...(manage
      ? [
          {
            key: "actions",
            header: <span className="sr-only">Actions</span>,
            className: "text-right",
            cell: (k: ApiKeyView) =>
              k.revoked_at ? null : (
                <Button size="sm" variant="ghost" aria-label={`Revoke API key ${k.name}`} onClick={() => setRevoking(k)}>
                  Revoke
                </Button>
              ),
          },
        ]
      : []),
  ];

  return (
    <Section
      id="settings-api-keys"
      title="API keys"
      description="Keys let programs call the API as this organisation, with a role no higher than yours. Send them as Authorization: Bearer <key>."
      actions={
        manage && (
          <Button variant="primary" icon="plus" onClick={() => setCreating(true)}>
            Create API key
          </Button>
        )
      }
    >
      <PagedList query={keys} count={rows.length} lines={4} what="keys">
        <Table
          caption="API keys"
          rows={rows}
          rowKey={(k) => k.id}
          columns={columns}
          empty={
            <EmptyState
              icon="shield"
              title="No API keys"
              description="Create a key for a script, a SIEM forwarder or another service that calls the API."
              {...(manage ? { action: <Button onClick={() => setCreating(true)}>Create API key</Button> } : {})}
            />
          }
        />
      </PagedList>
      {creating && (
        <CreateApiKeyDialog
          onClose={() => setCreating(false)}
          onCreated={(s, name) => {
            setCreating(false);
            setSecret({ secret: s, name });
          }}
        />
      )}
      {revoking && <RevokeDialog apiKey={revoking} onClose={() => setRevoking(null)} />}
      <SecretDialog secret={secret?.secret ?? null} title="API key created" label="API key secret" onClose={() => setSecret(null)}>
        <p className="text-sm text-slate-600 dark:text-slate-300">
          Store the key for <strong className="break-words">{secret?.name}</strong> in your secrets manager. If it is
          lost, revoke it and create another.
        </p>
      </SecretDialog>
    </Section>
  );
}

const NAME_LIMITS = __SPEC_LIMITS__.name;
// eslint-disable-next-line no-control-regex -- the server refuses control characters in names
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function CreateApiKeyDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (secret: string, name: string) => void }) {
  const { role: myRole } = usePermissions();
  const roles = rolesUpTo(myRole);
  const create = useCreateApiKey();
  const [name, setName] = useState("");
  const [role, setRole] = useState<RoleName>(roles.includes("analyst") ? "analyst" : (roles[roles.length - 1] ?? "viewer"));
  const [expiry, setExpiry] = useState<ExpiryChoice>("90");
  const [date, setDate] = useState("");
  const [submitted, setSubmitted] = useState(false);

  const trimmed = name.trim();
  const nameError = !trimmed
    ? "Give the key a name."
    : trimmed.length > NAME_LIMITS.max
      ? `At most ${NAME_LIMITS.max} characters.`
      : CONTROL.test(name)
        ? "No control characters."
        : null;
  const exp = expiryOf(expiry, date);

  const onSubmit = (e: SubmitEvent) => {
    e.preventDefault();
    setSubmitted(true);
    if (nameError || !exp.ok) return;
    create.mutate(
      { body: { name: trimmed, role, expires_at: exp.value }, reveal: (s, key) => onCreated(s, key.name) },
      {
        onSuccess: () => {
          toast.success("API key created.");
          create.reset();
        },
      },
    );
  };

  return (
    <Dialog
      open
      onOpenChange={(o) => {
        if (!o) onClose();
      }}
      title="Create API key"
      description="The secret is shown once, right after it is created."
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" form="create-api-key" variant="primary" loading={create.isPending}>
            Create key
          </Button>
        </>
      }
    >
      <form id="create-api-key" onSubmit={onSubmit} noValidate className="space-y-4">
        <Field label="Name" required error={submitted ? nameError : undefined} hint="To recognise the key by, e.g. “SIEM forwarder”.">
          {(p) => <Input {...p} value={name} maxLength={NAME_LIMITS.max} autoComplete="off" onChange={(e) => setName(e.target.value)} autoFocus />}
        </Field>
        <Field label="Role" hint={`${ROLE_HELP[role]} A key cannot have more rights than you.`}>
          {(p) => (
            <Select
              {...p}
              value={role}
              onChange={(e) => {
                if (isRole(e.target.value)) setRole(e.target.value);
              }}
            >
              {roles.map((r) => (
                <option key={r} value={r}>
                  {roleLabel(r)}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label="Expires">
          {(p) => (
            <Select {...p} value={expiry} onChange={(e) => setExpiry(e.target.value as ExpiryChoice)}>
              {EXPIRY_PRESETS.map((x) => (
                <option key={x.value} value={x.value}>
                  {x.label}
                </option>
              ))}
            </Select>
          )}
        </Field>
        {expiry === "custom" && (
          <Field label="Expiry date" required error={submitted && !exp.ok ? exp.error : undefined} hint="The key stops working at the end of this day (your time zone).">
            {(p) => <Input {...p} type="date" value={date} onChange={(e) => setDate(e.target.value)} />}
          </Field>
        )}
        <ProblemMessage error={create.error} />
      </form>
    </Dialog>
  );
}

function RevokeDialog({ apiKey, onClose }: { apiKey: ApiKeyView; onClose: () => void }) {
  const m = useRevokeApiKey();
  return (
    <ConfirmDialog
      open
      onOpenChange={(o) => {
        if (!o) onClose();
      }}
      title="Revoke API key?"
      description={`Programs using “${apiKey.name}” (${apiKey.prefix}) are refused from now on. This cannot be undone.`}
      confirmLabel="Revoke key"
      danger
      loading={m.isPending}
      error={m.error}
      onConfirm={() =>
        m.mutate(apiKey.id, {
          onSuccess: () => {
            toast.success("API key revoked.");
            onClose();
          },
        })
      }
    />
  );
}
