/**
 * Members (list, change role, remove) and invitations (list, invite, revoke). The server refuses what the
 * role may not do (only owners grant or take away `owner`; the last owner stays); its refusals are shown in
 * the confirmation dialogs.
 */
import { useState, type SubmitEvent } from "react";
import { useMe } from "../../api/queries";
import {
  Badge,
  Button,
  ConfirmDialog,
  CopyField,
  EmptyState,
  ErrorState,
  Field,
  Input,
  PagedList,
  RelativeTime,
  SecretDialog,
  Select,
  Table,
  toast,
  type Column,
} from "../../components";
import { invitationLink } from "../../lib/invitations";
import { memberName, memberSecondary } from "../../lib/members";
import { usePermissions } from "../../lib/usePermissions";
import {
  useChangeRole,
  useInvitations,
  useInvite,
  useMembers,
  useRemoveMember,
  useWithdrawInvitation,
  type InvitationView,
  type MemberView,
} from "./queries";
import { ROLE_HELP, grantableRoles, isRole, roleLabel, type RoleName } from "./roles";
import { Section } from "./ui";

export function MembersTab() {
  const { can } = usePermissions();
  return (
    <div className="space-y-10">
      <MembersSection />
      {can("members_manage") && <InvitationsSection />}
    </div>
  );
}

// ---------------------------------------------------------------------------------------------------------
// Members

function MembersSection() {
  const { can } = usePermissions();
  const me = useMe();
  const members = useMembers();
  const manage = can("members_manage");
  const manageOwners = can("owners_manage");
  const [roleChange, setRoleChange] = useState<{ member: MemberView; role: RoleName } | null>(null);
  const [removing, setRemoving] = useState<MemberView | null>(null);
  const myId = me.data?.user_id ?? null;

  const rows = members.data?.pages.flatMap((p) => p.items) ?? [];
  const name = (m: MemberView) => (m.user_id === myId ? "you" : memberName(m));
  const mayChange = (m: MemberView) => manage && (m.role !== "owner" || manageOwners);

  const columns: Column<MemberView>[] = [
    {
      key: "member",
      header: "Member",
      cell: (m) => {
        const email = memberSecondary(m);
        return (
          <div className="min-w-0">
            <span className="inline-flex flex-wrap items-center gap-2">
              <span className="font-medium break-all">{memberName(m)}</span>
              {m.user_id === myId && <Badge tone="info">You</Badge>}
            </span>
            {email && <span className="block text-sm break-all text-slate-600 dark:text-slate-300">{email}</span>}
            <span className="block font-mono text-xs break-all text-slate-500 dark:text-slate-400">{m.user_id}</span>
          </div>
        );
      },
    },
    {
      key: "role",
      header: "Role",
      cell: (m) =>
        mayChange(m) ? (
          <Select
            aria-label={`Role of ${m.user_id}`}
            className="w-36"
            value={m.role}
            onChange={(e) => {
              const role = e.target.value;
              if (isRole(role) && role !== m.role) setRoleChange({ member: m, role });
            }}
          >
            {grantableRoles(manageOwners).map((r) => (
              <option key={r} value={r}>
                {roleLabel(r)}
              </option>
            ))}
            {!isRole(m.role) && <option value={m.role}>{m.role}</option>}
          </Select>
        ) : (
          <Badge tone={m.role === "owner" ? "info" : "neutral"}>{roleLabel(m.role)}</Badge>
        ),
    },
    { key: "joined", header: "Joined", cell: (m) => <RelativeTime date={m.joined_at} />, hideOnMobile: true },
    ...(manage
      ? [
          {
            key: "actions",
            header: <span className="sr-only">Actions</span>,
            className: "text-right",
            cell: (m: MemberView) =>
              mayChange(m) ? (
                <Button size="sm" variant="ghost" aria-label={`Remove ${m.user_id === myId ? "yourself" : `member ${m.user_id}`}`} onClick={() => setRemoving(m)}>
                  {m.user_id === myId ? "Leave" : "Remove"}
                </Button>
              ) : null,
          },
        ]
      : []),
  ];

  return (
    <Section
      id="settings-members"
      title="Members"
      description={
        manage
          ? "Everyone with access to this organisation and their roles. Only owners can grant or take away the owner role; the last owner always stays."
          : "Everyone with access to this organisation and their roles."
      }
    >
      <PagedList query={members} count={rows.length} lines={4} what="members">
        <Table
          caption="Members"
          rows={rows}
          rowKey={(m) => m.user_id}
          columns={columns}
          empty={<EmptyState icon="user" title="No members" description="This organisation has no members yet." />}
        />
      </PagedList>
      {roleChange && (
        <ChangeRoleDialog
          member={roleChange.member}
          role={roleChange.role}
          who={name(roleChange.member)}
          self={roleChange.member.user_id === myId}
          onClose={() => setRoleChange(null)}
        />
      )}
      {removing && <RemoveMemberDialog member={removing} who={name(removing)} self={removing.user_id === myId} onClose={() => setRemoving(null)} />}
    </Section>
  );
}

function ChangeRoleDialog({ member, role, who, self, onClose }: { member: MemberView; role: RoleName; who: string; self: boolean; onClose: () => void }) {
  const m = useChangeRole();
  return (
    <ConfirmDialog
      open
      onOpenChange={(o) => {
        if (!o) onClose();
      }}
      title="Change role?"
      description={`${self ? "You" : who} will be ${roleLabel(role)} instead of ${roleLabel(member.role)}.`}
      confirmLabel="Change role"
      loading={m.isPending}
      error={m.error}
      onConfirm={() =>
        m.mutate(
          { userId: member.user_id, role, version: member.version },
          {
            onSuccess: () => {
              toast.success(`Role changed to ${roleLabel(role)}.`);
              onClose();
            },
          },
        )
      }
    >
      <p className="text-slate-600 dark:text-slate-300">{ROLE_HELP[role]}</p>
      {self && (
        <p className="rounded-md bg-amber-50 p-2 text-amber-900 dark:bg-amber-950 dark:text-amber-200">
          This is your own role: you may lose access to settings you are using now.
        </p>
      )}
    </ConfirmDialog>
  );
}

function RemoveMemberDialog({ member, who, self, onClose }: { member: MemberView; who: string; self: boolean; onClose: () => void }) {
  const m = useRemoveMember();
  return (
    <ConfirmDialog
      open
      onOpenChange={(o) => {
        if (!o) onClose();
      }}
      title={self ? "Leave this organisation?" : "Remove member?"}
      description={
        self
          ? "You lose access to this organisation at once and are signed out of it."
          : `${who} (${roleLabel(member.role)}) loses access at once; their sessions end.`
      }
      confirmLabel={self ? "Leave" : "Remove member"}
      danger
      loading={m.isPending}
      error={m.error}
      onConfirm={() =>
        m.mutate(member.user_id, {
          onSuccess: () => {
            toast.success(self ? "You left the organisation." : "Member removed.");
            onClose();
          },
        })
      }
    />
  );
}

// ---------------------------------------------------------------------------------------------------------
// Invitations

type InvitationStatus = "pending" | "accepted" | "expired";

function statusOf(i: InvitationView, now = Date.now()): InvitationStatus {
  if (i.accepted_at) return "accepted";
  return new Date(i.expires_at).getTime() <= now ? "expired" : "pending";
}

const STATUS_BADGE: Record<InvitationStatus, { tone: "success" | "warning" | "neutral"; label: string }> = {
  pending: { tone: "warning", label: "Pending" },
  accepted: { tone: "success", label: "Accepted" },
  expired: { tone: "neutral", label: "Expired" },
};

function InvitationsSection() {
  const invitations = useInvitations();
  const [revoking, setRevoking] = useState<InvitationView | null>(null);
  const [token, setToken] = useState<{ token: string; email: string } | null>(null);
  const rows = invitations.data?.pages.flatMap((p) => p.items) ?? [];
  const columns: Column<InvitationView>[] = [
    { key: "email", header: "E-mail", cell: (i) => <span className="break-all">{i.email}</span> },
    { key: "role", header: "Role", cell: (i) => roleLabel(i.role) },
    {
      key: "status",
      header: "Status",
      cell: (i) => {
        const s = STATUS_BADGE[statusOf(i)];
        return <Badge tone={s.tone}>{s.label}</Badge>;
      },
    },
    {
      key: "expires",
      header: "Expires",
      hideOnMobile: true,
      cell: (i) => (i.accepted_at ? <span className="text-slate-500">Accepted <RelativeTime date={i.accepted_at} /></span> : <RelativeTime date={i.expires_at} />),
    },
    {
      key: "actions",
      header: <span className="sr-only">Actions</span>,
      className: "text-right",
      cell: (i) =>
        i.accepted_at ? null : (
          <Button size="sm" variant="ghost" aria-label={`Revoke invitation for ${i.email}`} onClick={() => setRevoking(i)}>
            Revoke
          </Button>
        ),
    },
  ];
  return (
    <Section
      id="settings-invitations"
      title="Invitations"
      description="Invite people by e-mail. Only an account with the invited address can accept; each invitation works once."
    >
      <InviteForm onInvited={(t, email) => setToken({ token: t, email })} />
      <PagedList query={invitations} count={rows.length} lines={3} what="invitations">
        <Table
          caption="Invitations"
          rows={rows}
          rowKey={(i) => i.id}
          columns={columns}
          empty={<EmptyState icon="user" title="No invitations" description="Invitations you send appear here until they are accepted or revoked." />}
        />
      </PagedList>
      {revoking && <RevokeInvitationDialog invitation={revoking} onClose={() => setRevoking(null)} />}
      <SecretDialog secret={token?.token ?? null} title="Invitation created" label="Invitation token" onClose={() => setToken(null)}>
        <CopyField label="Invitation link" value={token ? invitationLink(token.token) : ""} />
        <p className="text-sm text-slate-600 dark:text-slate-300">
          Send the link (or the token) to <strong className="break-all">{token?.email}</strong> through a channel you
          trust. They open it, sign in or register with that address, and accept. Programs can accept with{" "}
          <code className="rounded bg-slate-100 px-1 font-mono text-xs dark:bg-slate-800">POST /v1/invitations/accept</code>.
        </p>
      </SecretDialog>
    </Section>
  );
}

const EMAIL = /^[^@\s]+@[^@\s]+$/;

function InviteForm({ onInvited }: { onInvited: (token: string, email: string) => void }) {
  const { can } = usePermissions();
  const invite = useInvite();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<RoleName>("analyst");
  const [days, setDays] = useState("7");
  const [submitted, setSubmitted] = useState(false);
  const trimmed = email.trim();
  const emailError = !trimmed ? "Enter their e-mail address." : trimmed.length > 254 || !EMAIL.test(trimmed) ? "Enter an e-mail address like name@example.com." : null;
  const n = Number(days);
  const daysError = !/^\d+$/.test(days.trim()) || n < 1 || n > 30 ? "Enter 1 to 30 days." : null;

  const onSubmit = (e: SubmitEvent) => {
    e.preventDefault();
    setSubmitted(true);
    if (emailError || daysError) return;
    invite.mutate(
      {
        body: { email: trimmed, role, expires_in_days: n },
        reveal: (token, inv) => onInvited(token, inv.email),
      },
      {
        onSuccess: (inv) => {
          toast.success(`Invitation for ${inv.email} created.`);
          setEmail("");
          setSubmitted(false);
          invite.reset();
        },
      },
    );
  };

  return (
    <form onSubmit={onSubmit} noValidate aria-label="Invite a member" className="rounded-lg border border-slate-200 p-4 dark:border-slate-800">
      <div className="grid gap-4 sm:grid-cols-[minmax(0,2fr)_minmax(0,1fr)_8rem_auto] sm:items-start">
        <Field label="E-mail" required error={submitted ? emailError : undefined}>
          {(p) => <Input {...p} type="email" autoComplete="off" value={email} maxLength={254} onChange={(e) => setEmail(e.target.value)} />}
        </Field>
        <Field label="Role" hint={ROLE_HELP[role]}>
          {(p) => (
            <Select
              {...p}
              value={role}
              onChange={(e) => {
                if (isRole(e.target.value)) setRole(e.target.value);
              }}
            >
              {grantableRoles(can("owners_manage")).map((r) => (
                <option key={r} value={r}>
                  {roleLabel(r)}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label="Expires in (days)" error={submitted ? daysError : undefined} hint="1 to 30.">
          {(p) => <Input {...p} inputMode="numeric" value={days} onChange={(e) => setDays(e.target.value)} />}
        </Field>
        <div className="sm:pt-6">
          <Button type="submit" variant="primary" icon="plus" loading={invite.isPending}>
            Invite
          </Button>
        </div>
      </div>
      {invite.error ? (
        <div className="mt-3">
          <ErrorState error={invite.error} compact />
        </div>
      ) : null}
    </form>
  );
}

function RevokeInvitationDialog({ invitation, onClose }: { invitation: InvitationView; onClose: () => void }) {
  const m = useWithdrawInvitation();
  return (
    <ConfirmDialog
      open
      onOpenChange={(o) => {
        if (!o) onClose();
      }}
      title="Revoke invitation?"
      description={`The invitation for ${invitation.email} stops working; its token can no longer be accepted.`}
      confirmLabel="Revoke invitation"
      danger
      loading={m.isPending}
      error={m.error}
      onConfirm={() =>
        m.mutate(invitation.id, {
          onSuccess: () => {
            toast.success("Invitation revoked.");
            onClose();
          },
        })
      }
    />
  );
}
