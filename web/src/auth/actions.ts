/** Login, registration, organisation switch and logout, all in cookie mode. */
import { api, unwrap, unwrapVoid } from "../api/client";
import type { Schemas } from "../api/types";
import { queryClient } from "../lib/queryClient";
import { COOKIE_MODE_HEADERS, acceptSession, endSession, isSessionBody, refreshSession } from "./tokens";
import { ApiProblem } from "../api/problem";

function sessionOrThrow(body: unknown): void {
  if (!isSessionBody(body)) {
    throw new ApiProblem({
      type: "about:blank",
      title: "Unexpected answer",
      status: 500,
      detail: "The server's answer did not contain a session.",
      code: "invalid_session",
    });
  }
  acceptSession(body);
}

export async function login(body: Schemas["LoginRequest"]): Promise<void> {
  const s = await unwrap(api.POST("/v1/auth/login", { body, headers: COOKIE_MODE_HEADERS }));
  queryClient.clear();
  sessionOrThrow(s);
}

export async function register(body: Schemas["RegisterRequest"]): Promise<void> {
  const s = await unwrap(api.POST("/v1/auth/register", { body, headers: COOKIE_MODE_HEADERS }));
  queryClient.clear();
  sessionOrThrow(s);
}

/** Move the session to another organisation, then drop every cached answer of the old one. */
export async function switchOrganization(organizationId: string): Promise<void> {
  const s = await unwrap(
    api.POST("/v1/auth/switch", { body: { organization_id: organizationId }, headers: COOKIE_MODE_HEADERS }),
  );
  sessionOrThrow(s);
  queryClient.clear();
}

/** Revoke the refresh family on the server (clears both cookies), then forget everything locally. */
export async function logout(): Promise<void> {
  try {
    await unwrapVoid(api.POST("/v1/auth/logout"));
  } finally {
    endSession(null);
    queryClient.clear();
  }
}

/** At start-up: restore the session from the refresh cookie, silently. */
export async function restoreSession(): Promise<void> {
  await refreshSession();
}

/**
 * Where "Sign in with SSO" sends the browser. With the default redirect URI the identity provider returns to the
 * server's callback, which (for a top-level navigation) sets the refresh cookie and redirects to the console;
 * the console then restores the session with a cookie refresh at start-up.
 */
export function ssoStartUrl(organizationId: string): string {
  return `/v1/auth/sso/${encodeURIComponent(organizationId)}/start`;
}
