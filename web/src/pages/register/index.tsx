/** Create an organisation with yourself as its owner (cookie mode), then go back where the user came from. */
import { useMutation } from "@tanstack/react-query";
import { useState, type SubmitEvent } from "react";
import { Link, useNavigate } from "react-router";
import { ApiProblem } from "../../api/problem";
import { useServerInfo } from "../../api/queries";
import { register } from "../../auth/actions";
import { returnToState, useReturnTo } from "../../auth/returnTo";
import { Button, Field, Input } from "../../components";
import { AuthLayout } from "../login/AuthLayout";
import schemaLimits from "./limits";

export function RegisterPage() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [orgName, setOrgName] = useState("");
  const [touched, setTouched] = useState(false);
  const navigate = useNavigate();
  const to = useReturnTo();
  const m = useMutation({
    mutationFn: () =>
      register({
        email: email.trim(),
        password,
        organization_name: orgName.trim(),
        ...(displayName.trim() ? { display_name: displayName.trim() } : {}),
      }),
    onSuccess: () => void navigate(to, { replace: true }),
  });
  const { min, max } = schemaLimits.password;
  const passwordError = touched && password.length > 0 && password.length < min ? `At least ${min} characters.` : null;
  const problem = m.error instanceof ApiProblem ? m.error : null;
  const server = useServerInfo();
  // Known before anyone types when the server says so; the refusal of a submit says it too.
  const disabled = problem?.code === "registration_disabled" || server.data?.registration_open === false;

  const onSubmit = (e: SubmitEvent) => {
    e.preventDefault();
    setTouched(true);
    if (password.length < min || !email.trim() || !orgName.trim()) return;
    m.mutate();
  };

  return (
    <AuthLayout
      title="Create an organisation"
      footer={
        <>
          Already have an account?{" "}
          <Link to="/login" state={returnToState(to)} className="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
            Sign in
          </Link>
        </>
      }
    >
      {disabled ? (
        <div role="alert" className="rounded-md bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200">
          <p className="font-medium">Registration is turned off on this server.</p>
          {problem && <p className="mt-1">{problem.detail}</p>}
          <p className="mt-1">Ask an administrator of your organisation for an invitation.</p>
          <p className="mt-0.5 font-mono text-xs opacity-75">code: {problem?.code ?? "registration_disabled"}</p>
        </div>
      ) : (
        <form onSubmit={onSubmit} className="space-y-4" noValidate>
          <Field label="E-mail" required>
            {(p) => <Input {...p} type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />}
          </Field>
          <Field label="Password" required hint={`${min} to ${max} characters.`} error={passwordError}>
            {(p) => (
              <Input
                {...p}
                type="password"
                autoComplete="new-password"
                minLength={min}
                maxLength={max}
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                onBlur={() => setTouched(true)}
              />
            )}
          </Field>
          <Field label="Display name" hint="Optional; defaults to your e-mail.">
            {(p) => (
              <Input {...p} autoComplete="name" maxLength={schemaLimits.name.max} value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
            )}
          </Field>
          <Field label="Organisation name" required>
            {(p) => (
              <Input {...p} autoComplete="organization" maxLength={schemaLimits.name.max} value={orgName} onChange={(e) => setOrgName(e.target.value)} />
            )}
          </Field>
          {problem && (
            <div role="alert" className="rounded-md bg-red-50 p-3 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">
              <p>{problem.status === 409 ? "An account with this e-mail already exists." : problem.detail}</p>
              <p className="mt-0.5 font-mono text-xs opacity-75">code: {problem.code}</p>
            </div>
          )}
          {m.error && !problem && (
            <p role="alert" className="text-sm text-red-600">
              Could not register. Try again.
            </p>
          )}
          <Button type="submit" variant="primary" className="w-full" loading={m.isPending}>
            Create organisation
          </Button>
        </form>
      )}
    </AuthLayout>
  );
}
