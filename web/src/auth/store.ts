/**
 * Auth state, in memory only. The access token is never written to localStorage or sessionStorage: a reload
 * restores the session through the HttpOnly refresh cookie instead (see `tokens.ts`).
 *
 * Only auth state lives here; server data (the principal, its organisations, everything else) belongs to
 * TanStack Query.
 */
import { create } from "zustand";

export type AuthStatus =
  /** At start-up, while the silent cookie refresh runs. */
  | "restoring"
  | "authenticated"
  | "anonymous";

export interface SessionInfo {
  accessToken: string;
  /** Epoch milliseconds at which the access token expires. */
  expiresAt: number;
  organizationId: string;
  role: string;
}

interface AuthState {
  status: AuthStatus;
  session: SessionInfo | null;
  /** Why the last session ended without the user asking (shown on the login page). */
  lostReason: string | null;
  setSession: (s: SessionInfo) => void;
  clear: (reason?: string | null) => void;
}

export const useAuthStore = create<AuthState>()((set) => ({
  status: "restoring",
  session: null,
  lostReason: null,
  setSession: (session) => set({ session, status: "authenticated", lostReason: null }),
  clear: (reason = null) => set({ session: null, status: "anonymous", lostReason: reason }),
}));

/** The current access token, for non-React code (the API client, the WebSocket). */
export function accessToken(): string | null {
  return useAuthStore.getState().session?.accessToken ?? null;
}
