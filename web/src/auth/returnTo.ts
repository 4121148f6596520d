/**
 * Return-to after signing in. The route guard (and any page that sends people to sign in) puts the path to
 * come back to in the router state (`{ from }`); /login and /register go there after a session starts, and
 * pass it on when the user moves between them.
 *
 * ```tsx
 * <Link to="/login" state={returnToState("/invitations/accept?token=…")}>Sign in</Link>
 * ```
 */
import { useLocation } from "react-router";

/** The router state that brings the user back to `path` after signing in or registering. */
export function returnToState(path: string): { from: string } {
  return { from: path };
}

/** `from` when it is a path of this console (not another origin, not the sign-in pages themselves). */
export function safeReturnPath(from: unknown): string | null {
  if (typeof from !== "string" || !from.startsWith("/") || from.startsWith("//")) return null;
  if (from.startsWith("/login") || from.startsWith("/register")) return null;
  return from;
}

/** Where to go after signing in: back where the guard found the user, else the chat. */
export function useReturnTo(): string {
  const location = useLocation();
  const state: unknown = location.state;
  if (typeof state === "object" && state !== null && "from" in state) return safeReturnPath(state.from) ?? "/chat";
  return "/chat";
}
