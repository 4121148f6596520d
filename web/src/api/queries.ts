/**
 * Query keys and the queries several pages share. Page-specific queries live with their page; keep their keys
 * under the same roots so invalidation by prefix works (`["chats"]` invalidates every chat query).
 */
import { useQuery } from "@tanstack/react-query";
import { useAuthStore } from "../auth/store";
import { api, unwrap } from "./client";
import { ApiProblem } from "./problem";
import type { MemberDirectory } from "../lib/members";
import type { ApprovalPage, Me, Schemas } from "./types";

export const queryKeys = {
  me: ["me"] as const,
  agents: ["agents"] as const,
  agent: (id: string) => ["agents", id] as const,
  chats: ["chats"] as const,
  chat: (id: string) => ["chats", id] as const,
  chatMessages: (id: string) => ["chats", id, "messages"] as const,
  chatAttachments: (id: string) => ["chats", id, "attachments"] as const,
  run: (id: string) => ["runs", id] as const,
  approvals: ["approvals"] as const,
  /** Root of every member query (the settings list and the directory); invalidate it after member changes. */
  members: ["members"] as const,
  memberDirectory: ["members", "directory"] as const,
  server: ["server"] as const,
};

/** The paging part of a list route's query: `limit` and, after the first page, the `cursor` it got. */
export function pageParams(cursor: string | undefined, limit = 50): { limit: number; cursor?: string } {
  return { limit, ...(cursor ? { cursor } : {}) };
}

/** `getNextPageParam` for the API's pages: `next_cursor`, absent or null on the last page. */
export function nextCursor(last: { next_cursor?: string | null }): string | undefined {
  return last.next_cursor ?? undefined;
}

/** The current principal: role, permissions and (soon) the user's organisations. */
export function useMe() {
  const authed = useAuthStore((s) => s.status === "authenticated");
  const org = useAuthStore((s) => s.session?.organizationId);
  return useQuery({
    queryKey: [...queryKeys.me, org],
    queryFn: async (): Promise<Me> => unwrap(api.GET("/v1/me")),
    enabled: authed,
    staleTime: 60_000,
  });
}

/**
 * Tool calls waiting for approval (`GET /v1/approvals`). While the server does not have the route yet (404)
 * the result is `null`, and callers show nothing.
 */
export function useApprovals(enabled = true) {
  const authed = useAuthStore((s) => s.status === "authenticated");
  return useQuery({
    queryKey: queryKeys.approvals,
    queryFn: async (): Promise<ApprovalPage | null> => {
      try {
        return await unwrap(api.GET("/v1/approvals", { params: { query: { limit: 200 } } }));
      } catch (e) {
        if (e instanceof ApiProblem && (e.status === 404 || e.status === 405 || e.status === 403)) return null;
        throw e;
      }
    },
    enabled: authed && enabled,
    refetchInterval: 30_000,
    staleTime: 10_000,
  });
}

/**
 * The server's public settings (`GET /v1/server`, no login needed): whether it registers organisations, its
 * upload limits and which model answers. They change only when the operator restarts the server.
 */
export function useServerInfo() {
  return useQuery({
    queryKey: queryKeys.server,
    queryFn: async () => unwrap(api.GET("/v1/server")),
    staleTime: 5 * 60_000,
  });
}

/** Most members the directory reads (pages of 200). */
const DIRECTORY_MAX = 2_000;

/**
 * The organisation's members by user id, for naming the user ids other resources carry (assignees, note
 * authors, audit actors). Needs `members_read`: pass `enabled = can("members_read")`; without it callers fall
 * back to short ids.
 */
export function useMemberDirectory(enabled: boolean) {
  const authed = useAuthStore((s) => s.status === "authenticated");
  const org = useAuthStore((s) => s.session?.organizationId);
  return useQuery({
    queryKey: [...queryKeys.memberDirectory, org],
    queryFn: async ({ signal }): Promise<MemberDirectory> => {
      const byId = new Map<string, Schemas["MemberView"]>();
      let cursor: string | undefined;
      do {
        const page = await unwrap(
          api.GET("/v1/members", { params: { query: pageParams(cursor, 200) }, signal }),
        );
        for (const m of page.items) byId.set(m.user_id, m);
        cursor = nextCursor(page);
      } while (cursor && byId.size < DIRECTORY_MAX);
      return byId;
    },
    enabled: authed && enabled,
    staleTime: 5 * 60_000,
  });
}
