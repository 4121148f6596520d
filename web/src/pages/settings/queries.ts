/**
 * Server state of the settings page (TanStack Query). Keys are rooted at `["members"]`, `["invitations"]`,
 * `["api-keys"]`, `["tool-configs"]`, `["tools"]` and `["sso"]`; mutations invalidate their root.
 *
 * Secrets: the API key secret and the invitation token come back once. They never enter a query, and the
 * mutations that receive them hand them to a `reveal` callback (the dialog's own state) and keep only the
 * public part as their result. Mutations that send secrets (credentials, client secret) or receive them use
 * `gcTime: 0`, so the mutation cache drops their variables as soon as the form is gone.
 */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, unwrapVoid } from "../../api/client";
import { ApiProblem } from "../../api/problem";
import { nextCursor, pageParams, queryKeys } from "../../api/queries";
import type { Schemas } from "../../api/types";

export type MemberView = Schemas["MemberView"];
export type InvitationView = Schemas["InvitationView"];
export type ApiKeyView = Schemas["ApiKeyView"];
export type ToolConfigView = Schemas["ToolConfigView"];
export type ToolKindView = Schemas["ToolKindView"];
export type ToolCatalogue = Schemas["ToolCatalogue"];
export type ToolTestReport = Schemas["ToolTestReport"];
export type SsoConfigView = Schemas["SsoConfigView"];
export type SsoConfigRequest = Schemas["SsoConfigRequest"];
export type CreateToolConfigRequest = Schemas["CreateToolConfigRequest"];
export type UpdateToolConfigRequest = Schemas["UpdateToolConfigRequest"];
export type CreateApiKeyRequest = Schemas["CreateApiKeyRequest"];
export type InviteRequest = Schemas["InviteRequest"];

export const settingsKeys = {
  members: queryKeys.members,
  memberList: [...queryKeys.members, "list"] as const,
  invitations: ["invitations"] as const,
  invitationList: ["invitations", "list"] as const,
  apiKeys: ["api-keys"] as const,
  apiKeyList: ["api-keys", "list"] as const,
  toolConfigs: ["tool-configs"] as const,
  toolConfigList: ["tool-configs", "list"] as const,
  toolConfig: (id: string) => ["tool-configs", "one", id] as const,
  catalogue: ["tools", "catalogue"] as const,
  sso: ["sso"] as const,
};

// ---------------------------------------------------------------------------------------------------------
// Members and invitations

export function useMembers() {
  return useInfiniteQuery({
    queryKey: settingsKeys.memberList,
    queryFn: ({ pageParam }) => unwrap(api.GET("/v1/members", { params: { query: pageParams(pageParam) } })),
    initialPageParam: "",
    getNextPageParam: nextCursor,
  });
}

export function useChangeRole() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (v: { userId: string; role: string; version: number }) =>
      unwrap(api.PATCH("/v1/members/{user_id}", { params: { path: { user_id: v.userId } }, body: { role: v.role, version: v.version } })),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: settingsKeys.members });
      // One's own role may have changed.
      void qc.invalidateQueries({ queryKey: queryKeys.me });
    },
  });
}

export function useRemoveMember() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (userId: string) => unwrapVoid(api.DELETE("/v1/members/{user_id}", { params: { path: { user_id: userId } } })),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: settingsKeys.members });
      void qc.invalidateQueries({ queryKey: queryKeys.me });
    },
  });
}

export function useInvitations(enabled = true) {
  return useInfiniteQuery({
    queryKey: settingsKeys.invitationList,
    queryFn: ({ pageParam }) => unwrap(api.GET("/v1/invitations", { params: { query: pageParams(pageParam) } })),
    initialPageParam: "",
    getNextPageParam: nextCursor,
    enabled,
  });
}

/** Invites someone; the token (shown once) goes to `reveal`, the result holds the invitation without it. */
export function useInvite() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async ({ body, reveal }: { body: InviteRequest; reveal: (token: string, invitation: InvitationView) => void }) => {
      const { token, ...invitation } = await unwrap(api.POST("/v1/invitations", { body }));
      if (token) reveal(token, invitation);
      return invitation;
    },
    gcTime: 0,
    onSuccess: () => void qc.invalidateQueries({ queryKey: settingsKeys.invitations }),
  });
}

export function useWithdrawInvitation() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => unwrapVoid(api.DELETE("/v1/invitations/{id}", { params: { path: { id } } })),
    onSettled: () => void qc.invalidateQueries({ queryKey: settingsKeys.invitations }),
  });
}

// ---------------------------------------------------------------------------------------------------------
// API keys

export function useApiKeys() {
  return useInfiniteQuery({
    queryKey: settingsKeys.apiKeyList,
    queryFn: ({ pageParam }) => unwrap(api.GET("/v1/api-keys", { params: { query: pageParams(pageParam) } })),
    initialPageParam: "",
    getNextPageParam: nextCursor,
  });
}

/** Creates a key; the secret goes to `reveal` only, never into the query or mutation cache. */
export function useCreateApiKey() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async ({ body, reveal }: { body: CreateApiKeyRequest; reveal: (secret: string, key: ApiKeyView) => void }) => {
      const created = await unwrap(api.POST("/v1/api-keys", { body }));
      reveal(created.secret, created.key);
      return created.key;
    },
    gcTime: 0,
    onSuccess: () => void qc.invalidateQueries({ queryKey: settingsKeys.apiKeys }),
  });
}

export function useRevokeApiKey() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => unwrapVoid(api.DELETE("/v1/api-keys/{id}", { params: { path: { id } } })),
    onSettled: () => void qc.invalidateQueries({ queryKey: settingsKeys.apiKeys }),
  });
}

// ---------------------------------------------------------------------------------------------------------
// Tools

export function useToolCatalogue() {
  return useQuery({
    queryKey: settingsKeys.catalogue,
    queryFn: () => unwrap(api.GET("/v1/tools")),
    staleTime: 5 * 60_000,
  });
}

export function useToolConfigs() {
  return useInfiniteQuery({
    queryKey: settingsKeys.toolConfigList,
    queryFn: ({ pageParam }) => unwrap(api.GET("/v1/tool-configs", { params: { query: pageParams(pageParam) } })),
    initialPageParam: "",
    getNextPageParam: nextCursor,
  });
}

/**
 * One configuration, read fresh each time its editor opens (nothing cached in between), and again on "Reload"
 * after a conflict. The editor works on the version it first read; background refetches do not touch it.
 */
export function useToolConfig(id: string) {
  return useQuery({
    queryKey: settingsKeys.toolConfig(id),
    queryFn: () => unwrap(api.GET("/v1/tool-configs/{id}", { params: { path: { id } } })),
    staleTime: 0,
    gcTime: 0,
    refetchOnWindowFocus: false,
  });
}

export function useCreateToolConfig() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateToolConfigRequest) => unwrap(api.POST("/v1/tool-configs", { body })),
    gcTime: 0,
    onSuccess: () => void qc.invalidateQueries({ queryKey: settingsKeys.toolConfigs }),
  });
}

export function useUpdateToolConfig() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id: string; body: UpdateToolConfigRequest }) =>
      unwrap(api.PATCH("/v1/tool-configs/{id}", { params: { path: { id } }, body })),
    gcTime: 0,
    onSuccess: () => void qc.invalidateQueries({ queryKey: settingsKeys.toolConfigs }),
  });
}

export function useDeleteToolConfig() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, version }: { id: string; version: number }) =>
      unwrapVoid(api.DELETE("/v1/tool-configs/{id}", { params: { path: { id }, query: { version } } })),
    onSettled: () => void qc.invalidateQueries({ queryKey: settingsKeys.toolConfigs }),
  });
}

export function useTestToolConfig() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => unwrap(api.POST("/v1/tool-configs/{id}/test", { params: { path: { id } } })),
    // A test of an MCP server refreshes the tools it offers (and the configuration's version).
    onSettled: () => void qc.invalidateQueries({ queryKey: settingsKeys.toolConfigs }),
  });
}

// ---------------------------------------------------------------------------------------------------------
// Single sign-on

/** The identity provider, or `null` when none is set up (404). */
export function useSso() {
  return useQuery({
    queryKey: settingsKeys.sso,
    queryFn: async (): Promise<SsoConfigView | null> => {
      try {
        return await unwrap(api.GET("/v1/sso"));
      } catch (e) {
        if (e instanceof ApiProblem && e.status === 404) return null;
        throw e;
      }
    },
  });
}

export function usePutSso() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: SsoConfigRequest) => unwrap(api.PUT("/v1/sso", { body })),
    gcTime: 0,
    onSuccess: (view) => qc.setQueryData(settingsKeys.sso, view),
    onSettled: () => void qc.invalidateQueries({ queryKey: settingsKeys.sso }),
  });
}

export function useDeleteSso() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => unwrapVoid(api.DELETE("/v1/sso")),
    onSuccess: () => qc.setQueryData(settingsKeys.sso, null),
    onSettled: () => void qc.invalidateQueries({ queryKey: settingsKeys.sso }),
  });
}
