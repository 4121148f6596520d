/**
 * The one API client: `openapi-fetch` over the generated {@link Paths}.
 *
 * ```ts
 * const chats = await unwrap(api.GET("/v1/chats", { params: { query: { limit: 50 } } }));
 * ```
 *
 * The auth middleware adds `Authorization: Bearer <access token>` from memory. On a 401 it performs one
 * cookie refresh (shared with any other caller, see `auth/tokens.ts`) and retries the request once with the
 * new token; when the refresh fails the session is cleared and the router shows /login.
 *
 * {@link unwrap} turns a `{data, error}` result into the data or a thrown {@link ApiProblem}, which is what
 * TanStack Query wants.
 */
import createClient, { type Middleware } from "openapi-fetch";
import { accessToken } from "../auth/store";
import { endSession, refreshSession } from "../auth/tokens";
import { ApiProblem, problemFromThrown, toProblem } from "./problem";
import type { Paths } from "./types";

/** Routes whose 401 means "wrong credentials", not "token expired". */
const NO_RETRY = /^\/v1\/auth\/(login|register|refresh|sso\/)/;

const pendingCopies = new Map<string, Request>();

export const authMiddleware: Middleware = {
  onRequest({ request, schemaPath, id }) {
    const token = accessToken();
    if (token && !request.headers.has("Authorization")) request.headers.set("Authorization", `Bearer ${token}`);
    // Keep an unread copy for one retry after a refresh (the original's body is consumed by fetch).
    if (!NO_RETRY.test(schemaPath)) pendingCopies.set(id, request.clone());
    return request;
  },
  async onResponse({ response, id }) {
    const copy = pendingCopies.get(id);
    pendingCopies.delete(id);
    if (response.status !== 401 || !copy) return undefined;
    if (!(await refreshSession())) return undefined;
    const token = accessToken();
    if (token) copy.headers.set("Authorization", `Bearer ${token}`);
    const retried = await fetch(copy);
    if (retried.status === 401) endSession("Your session ended. Please sign in again.");
    return retried;
  },
  onError({ id }) {
    pendingCopies.delete(id);
    return undefined;
  },
};

export const api = createClient<Paths>({
  baseUrl: typeof window !== "undefined" ? window.location.origin : "http://localhost",
  credentials: "same-origin",
  // Looked up per call, so tests (and anything that wraps fetch later) are honoured.
  fetch: (input: Request) => globalThis.fetch(input),
});
api.use(authMiddleware);

type Result<T> =
  | { data: T; error?: never; response: Response }
  | { data?: never; error: unknown; response: Response };

/** The data of a successful call; throws an {@link ApiProblem} otherwise (network failures included). */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<Exclude<T, undefined>> {
  let result: Result<T>;
  try {
    result = await call;
  } catch (e) {
    throw problemFromThrown(e);
  }
  if (result.error !== undefined || !result.response.ok) throw toProblem(result.error, result.response);
  return result.data as Exclude<T, undefined>;
}

/** Like {@link unwrap} for calls answered with 204 No Content. */
export async function unwrapVoid(call: Promise<{ error?: unknown; response: Response }>): Promise<void> {
  let result: { error?: unknown; response: Response };
  try {
    result = await call;
  } catch (e) {
    throw problemFromThrown(e);
  }
  if (!result.response.ok) throw toProblem(result.error, result.response);
}

export { ApiProblem };
