/**
 * The session lifecycle in cookie mode.
 *
 * - Login, register and organisation switch send `X-Secops-Session: cookie`; the server then leaves
 *   `refresh_token` out of the body and sets `secops_refresh` (HttpOnly, Path=/v1/auth) and `secops_csrf`
 *   (readable by this script, Path=/).
 * - {@link refreshSession} calls `POST /v1/auth/refresh` with no body and `X-CSRF-Token: <secops_csrf>`.
 *   Concurrent callers share one request in flight, and tabs take turns through the Web Locks API, so a
 *   rotated refresh cookie is never presented twice.
 * - {@link acceptSession} stores a new session and schedules the next refresh shortly before expiry.
 *
 * This module talks to `fetch` directly, not to the API client: the client's 401 handling calls in here.
 */
import type { Session } from "../api/types";
import { useAuthStore } from "./store";

/** Sent on login, register and switch so the server answers in cookie mode. */
export const COOKIE_MODE_HEADERS = { "X-Secops-Session": "cookie" } as const;

const CSRF_COOKIE = "secops_csrf";
const LOCK_NAME = "secops-refresh";

/** A session body; in cookie mode `refresh_token` is absent or null. */
export type SessionBody = Omit<Session, "refresh_token"> & { refresh_token?: string | null };

export function readCookie(name: string): string | undefined {
  if (typeof document === "undefined") return undefined;
  for (const part of document.cookie.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export function isSessionBody(v: unknown): v is SessionBody {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.access_token === "string" &&
    typeof o.expires_in === "number" &&
    typeof o.organization_id === "string" &&
    typeof o.role === "string"
  );
}

let timer: ReturnType<typeof setTimeout> | undefined;
let inflight: Promise<boolean> | null = null;

/** When to refresh a token that lives `ttlSeconds`: a minute early (a fifth early for short tokens), ≥ 5 s. */
export function refreshDelayMs(ttlSeconds: number): number {
  const ttl = ttlSeconds * 1000;
  return Math.max(5_000, ttl - Math.min(60_000, ttl / 5));
}

/** Store a session the server just issued and schedule its refresh. */
export function acceptSession(s: SessionBody): void {
  useAuthStore.getState().setSession({
    accessToken: s.access_token,
    expiresAt: Date.now() + s.expires_in * 1000,
    organizationId: s.organization_id,
    role: s.role,
  });
  clearTimeout(timer);
  timer = setTimeout(() => void refreshSession(), refreshDelayMs(s.expires_in));
}

/** Forget the session locally (after logout, or when it cannot be renewed). */
export function endSession(reason: string | null = null): void {
  clearTimeout(timer);
  timer = undefined;
  useAuthStore.getState().clear(reason);
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  if (!locks?.request) return fn();
  return locks.request(LOCK_NAME, fn);
}

async function doRefresh(): Promise<boolean> {
  const csrf = readCookie(CSRF_COOKIE);
  // No CSRF cookie means no refresh cookie either (they are set and cleared together): nothing to restore.
  if (!csrf) return false;
  try {
    const res = await fetch("/v1/auth/refresh", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
    });
    if (!res.ok) return false;
    const body: unknown = await res.json();
    if (!isSessionBody(body)) return false;
    acceptSession(body);
    return true;
  } catch {
    return false;
  }
}

/**
 * Renew the access token from the refresh cookie. Resolves `true` with a new session in the store, or `false`
 * after clearing it (the router then sends the user to /login). One refresh at a time per tab.
 */
export function refreshSession(): Promise<boolean> {
  inflight ??= withLock(doRefresh)
    .then((ok) => {
      if (!ok) {
        const had = useAuthStore.getState().status === "authenticated";
        endSession(had ? "Your session ended. Please sign in again." : null);
      }
      return ok;
    })
    .finally(() => {
      inflight = null;
    });
  return inflight;
}

/** A valid token, refreshing first when it is about to expire (for the WebSocket, which cannot retry a 401). */
export async function freshAccessToken(): Promise<string | null> {
  const s = useAuthStore.getState().session;
  if (s && s.expiresAt - Date.now() > 15_000) return s.accessToken;
  const ok = await refreshSession();
  return ok ? (useAuthStore.getState().session?.accessToken ?? null) : null;
}

/** Timers are throttled in background tabs: check the token when the tab becomes visible again. */
export function watchVisibility(): () => void {
  const onVisible = () => {
    const s = useAuthStore.getState().session;
    if (document.visibilityState === "visible" && s && s.expiresAt - Date.now() < 30_000) void refreshSession();
  };
  document.addEventListener("visibilitychange", onVisible);
  return () => document.removeEventListener("visibilitychange", onVisible);
}
