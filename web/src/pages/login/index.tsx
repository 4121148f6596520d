/** Sign in with e-mail and password (cookie mode), or start a single sign-on for an organisation. */
import { useMutation } from "@tanstack/react-query";
import { useState, type SubmitEvent } from "react";
import { Link, useNavigate } from "react-router";
import { login, ssoStartUrl } from "../../auth/actions";
import { useAuthStore } from "../../auth/store";
import { returnToState, useReturnTo } from "../../auth/returnTo";
import { Button, Field, Input } from "../../components";
import { AuthLayout } from "./AuthLayout";
import { loginErrorMessage } from "./errors";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function LoginPage() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [org, setOrg] = useState("");
  const [ssoError, setSsoError] = useState<string | null>(null);
  const navigate = useNavigate();
  const to = useReturnTo();
  const lostReason = useAuthStore((s) => s.lostReason);
  const m = useMutation({
    mutationFn: () => login({ email: email.trim(), password }),
    onSuccess: () => void navigate(to, { replace: true }),
  });
  const err = m.error ? loginErrorMessage(m.error) : null;

  const onSubmit = (e: SubmitEvent) => {
    e.preventDefault();
    m.mutate();
  };
  const onSso = (e: SubmitEvent) => {
    e.preventDefault();
    const id = org.trim();
    if (!UUID.test(id)) {
      setSsoError("Enter the organisation id (a UUID) your administrator gave you.");
      return;
    }
    setSsoError(null);
    window.location.assign(ssoStartUrl(id));
  };

  return (
    <AuthLayout
      title="Sign in"
      footer={
        <>
          New here?{" "}
          <Link to="/register" state={returnToState(to)} className="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
            Create an organisation
          </Link>
        </>
      }
    >
      {lostReason && !err && (
        <p role="status" className="mb-4 rounded-md bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200">
          {lostReason}
        </p>
      )}
      <form onSubmit={onSubmit} className="space-y-4" noValidate>
        <Field label="E-mail" required>
          {(p) => (
            <Input {...p} type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
          )}
        </Field>
        <Field label="Password" required>
          {(p) => (
            <Input
              {...p}
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              maxLength={1024}
            />
          )}
        </Field>
        {err && (
          <div role="alert" className="rounded-md bg-red-50 p-3 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">
            <p>{err.message}</p>
            {err.code && <p className="mt-0.5 font-mono text-xs opacity-75">code: {err.code}</p>}
          </div>
        )}
        <Button type="submit" variant="primary" className="w-full" loading={m.isPending} disabled={!email || !password}>
          Sign in
        </Button>
      </form>
      <div className="my-5 flex items-center gap-3 text-xs text-slate-600 dark:text-slate-300">
        <span className="h-px flex-1 bg-slate-200 dark:bg-slate-700" />
        or
        <span className="h-px flex-1 bg-slate-200 dark:bg-slate-700" />
      </div>
      <form onSubmit={onSso} className="space-y-3" noValidate>
        <Field label="Organisation id" hint="Single sign-on through your organisation's identity provider." error={ssoError}>
          {(p) => (
            <Input
              {...p}
              value={org}
              onChange={(e) => setOrg(e.target.value)}
              placeholder="e.g. 0190c1d2-…"
              autoComplete="organization"
              spellCheck={false}
            />
          )}
        </Field>
        <Button type="submit" className="w-full" disabled={!org.trim()}>
          Sign in with SSO
        </Button>
      </form>
    </AuthLayout>
  );
}
