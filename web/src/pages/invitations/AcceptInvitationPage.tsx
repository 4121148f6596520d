/**
 * `/invitations/accept?token=…`: the invited person accepts an invitation. Signed in, "Accept invitation" calls
 * `POST /v1/invitations/accept`, moves the session to the organisation joined and opens the chat. Signed out,
 * the page links to sign-in and registration, which come back here (with the token) afterwards.
 *
 * The route is outside the guards: it works with and without a session.
 */
import { useMutation } from "@tanstack/react-query";
import { useState, type SubmitEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useMe } from "../../api/queries";
import { logout, switchOrganization } from "../../auth/actions";
import { returnToState } from "../../auth/returnTo";
import { useAuthStore } from "../../auth/store";
import { Button, ButtonLink, ErrorState, Field, Input, PageLoading, toast } from "../../components";
import { acceptInvitationPath } from "../../lib/invitations";
import { AuthLayout } from "../login/AuthLayout";
import { roleLabel } from "../settings/roles";
import { FAILURE_TEXT, acceptFailure, acceptInvitation, type Accepted } from "./accept";

const linkClass = "font-medium text-indigo-600 hover:underline dark:text-indigo-400";

export function AcceptInvitationPage() {
  const status = useAuthStore((s) => s.status);
  const [params] = useSearchParams();
  const [token, setToken] = useState(() => params.get("token") ?? "");
  if (status === "restoring") return <PageLoading label="Restoring your session…" />;
  return (
    <AuthLayout title="Accept an invitation">
      {status === "authenticated" ? (
        <SignedIn token={token} setToken={setToken} />
      ) : (
        <SignedOut token={token} setToken={setToken} />
      )}
    </AuthLayout>
  );
}

function TokenField({ token, setToken, error }: { token: string; setToken: (t: string) => void; error?: string | null }) {
  return (
    <Field label="Invitation token" hint="From the invitation link or message you received." error={error}>
      {(p) => (
        <Input
          {...p}
          value={token}
          onChange={(e) => setToken(e.target.value)}
          className="font-mono text-xs"
          spellCheck={false}
          autoComplete="off"
        />
      )}
    </Field>
  );
}

function SignedOut({ token, setToken }: { token: string; setToken: (t: string) => void }) {
  const back = returnToState(acceptInvitationPath(token));
  return (
    <div className="space-y-4">
      <p className="text-sm text-slate-600 dark:text-slate-300">
        Sign in with the e-mail address the invitation was sent to. You come back here to accept it.
      </p>
      <TokenField token={token} setToken={setToken} />
      <ButtonLink to="/login" state={back} variant="primary" className="w-full">
        Sign in to accept
      </ButtonLink>
      <p className="text-center text-sm text-slate-600 dark:text-slate-400">
        No account yet?{" "}
        <Link to="/register" state={back} className={linkClass}>
          Register with the invited address
        </Link>
      </p>
    </div>
  );
}

function SignedIn({ token, setToken }: { token: string; setToken: (t: string) => void }) {
  const navigate = useNavigate();
  const me = useMe();
  const [missing, setMissing] = useState(false);
  const accept = useMutation({ mutationFn: (t: string) => acceptInvitation(t) });
  const failure = accept.error ? acceptFailure(accept.error) : null;

  const finish = async ({ member, organization }: Accepted) => {
    const role = roleLabel(member.role);
    if (organization) {
      try {
        await switchOrganization(organization.id);
        toast.success(`You joined ${organization.name} as ${role}.`);
      } catch (e) {
        toast.error(e);
      }
    } else {
      toast.success(`You joined the organisation as ${role}. Switch to it with the organisation menu.`);
    }
    void navigate("/chat");
  };

  const onSubmit = (e: SubmitEvent) => {
    e.preventDefault();
    const t = token.trim();
    setMissing(!t);
    if (!t) return;
    accept.mutate(t, { onSuccess: (r) => void finish(r) });
  };

  const otherAccount = () => {
    void logout()
      .catch((e: unknown) => toast.error(e))
      .finally(() => void navigate("/login", { replace: true, state: returnToState(acceptInvitationPath(token)) }));
  };

  return (
    <form onSubmit={onSubmit} className="space-y-4" noValidate>
      <p className="text-sm text-slate-600 dark:text-slate-300">
        {me.data?.email ? (
          <>
            You are signed in as <strong className="break-all">{me.data.email}</strong>. The invitation must be for this
            address.
          </>
        ) : (
          "The invitation must be for the address you are signed in with."
        )}
      </p>
      <TokenField token={token} setToken={setToken} error={missing ? "Paste the invitation token." : null} />
      {failure && failure !== "other" ? (
        <div role="alert" className="rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-800 dark:border-red-900 dark:bg-red-950/50 dark:text-red-200">
          <p className="font-medium">{FAILURE_TEXT[failure].title}</p>
          <p className="mt-1">{FAILURE_TEXT[failure].text}</p>
          {failure === "not_for_you" && (
            <Button size="sm" className="mt-2" onClick={otherAccount}>
              Sign in with another account
            </Button>
          )}
          {failure === "member_already" && (
            <Link to="/chat" className={`mt-2 inline-block ${linkClass}`}>
              Go to the console
            </Link>
          )}
        </div>
      ) : accept.error ? (
        <ErrorState error={accept.error} compact />
      ) : null}
      <Button type="submit" variant="primary" className="w-full" loading={accept.isPending}>
        Accept invitation
      </Button>
      <p className="text-center text-sm">
        <Link to="/chat" className={linkClass}>
          Not now
        </Link>
      </p>
    </form>
  );
}
