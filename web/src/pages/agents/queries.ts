/** Server state of the agent pages (TanStack Query, keys under `["agents"]`, `["tools"]`, `["tool-configs"]`). */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, unwrapVoid } from "../../api/client";
import { nextCursor, pageParams, queryKeys } from "../../api/queries";
import type { AgentView, Schemas } from "../../api/types";

export type PromptView = Schemas["PromptView"];
export type TriggerView = Schemas["TriggerView"];
export type CreateAgentRequest = Schemas["CreateAgentRequest"];
export type UpdateAgentRequest = Schemas["UpdateAgentRequest"];
export type CreateTriggerRequest = Schemas["CreateTriggerRequest"];
export type UpdateTriggerRequest = Schemas["UpdateTriggerRequest"];

export const agentKeys = {
  all: queryKeys.agents,
  list: [...queryKeys.agents, "list", "pages"] as const,
  agent: queryKeys.agent,
  prompts: (id: string) => [...queryKeys.agent(id), "prompts"] as const,
  diff: (id: string, from: number, to: number) => [...queryKeys.agent(id), "prompts", "diff", from, to] as const,
  triggers: (id: string) => [...queryKeys.agent(id), "triggers"] as const,
  tools: ["tools", "catalogue"] as const,
  toolConfigs: ["tool-configs", "list", "all"] as const,
};

/** Agents, newest first, page by page. */
export function useAgentList() {
  return useInfiniteQuery({
    queryKey: agentKeys.list,
    queryFn: ({ pageParam, signal }) => unwrap(api.GET("/v1/agents", { params: { query: pageParams(pageParam) }, signal })),
    initialPageParam: "",
    getNextPageParam: nextCursor,
  });
}

export function useAgent(id: string | undefined) {
  return useQuery({
    queryKey: agentKeys.agent(id ?? ""),
    queryFn: ({ signal }) => unwrap(api.GET("/v1/agents/{id}", { params: { path: { id: id ?? "" } }, signal })),
    enabled: Boolean(id),
  });
}

/** The server's own tools and the kinds' actions (with their risks). */
export function useToolCatalogue(enabled = true) {
  return useQuery({
    queryKey: agentKeys.tools,
    queryFn: ({ signal }) => unwrap(api.GET("/v1/tools", { signal })),
    staleTime: 5 * 60_000,
    enabled,
  });
}

/** Every tool configuration of the organisation (all pages, for the tool picker). */
export function useAllToolConfigs(enabled = true) {
  return useQuery({
    queryKey: agentKeys.toolConfigs,
    queryFn: async ({ signal }) => {
      const items: Schemas["ToolConfigView"][] = [];
      let cursor = "";
      // At most 20 pages of 200; more configurations than that are not a picker's job.
      for (let i = 0; i < 20; i++) {
        const page = await unwrap(
          api.GET("/v1/tool-configs", { params: { query: pageParams(cursor, 200) }, signal }),
        );
        items.push(...page.items);
        if (!page.next_cursor) break;
        cursor = page.next_cursor;
      }
      return items;
    },
    staleTime: 60_000,
    enabled,
  });
}

function useInvalidateAgent() {
  const qc = useQueryClient();
  return (agent?: AgentView) => {
    if (agent) qc.setQueryData(agentKeys.agent(agent.id), agent);
    void qc.invalidateQueries({ queryKey: [...queryKeys.agents, "list"] });
  };
}

export function useCreateAgent() {
  const done = useInvalidateAgent();
  return useMutation({
    mutationFn: (body: CreateAgentRequest) => unwrap(api.POST("/v1/agents", { body })),
    onSuccess: (agent) => done(agent),
  });
}

export function useUpdateAgent(id: string) {
  const done = useInvalidateAgent();
  return useMutation({
    mutationFn: (body: UpdateAgentRequest) => unwrap(api.PATCH("/v1/agents/{id}", { params: { path: { id } }, body })),
    onSuccess: (agent) => done(agent),
  });
}

export function useDeleteAgent(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (version: number) =>
      unwrapVoid(api.DELETE("/v1/agents/{id}", { params: { path: { id }, query: { version } } })),
    onSuccess: () => {
      // Dropped only once the page has left (an observer still mounted would refetch it: a 404).
      setTimeout(() => qc.removeQueries({ queryKey: agentKeys.agent(id) }), 0);
      void qc.invalidateQueries({ queryKey: [...queryKeys.agents, "list"] });
    },
  });
}

export function usePrompts(agentId: string) {
  return useInfiniteQuery({
    queryKey: agentKeys.prompts(agentId),
    queryFn: ({ pageParam, signal }) =>
      unwrap(api.GET("/v1/agents/{id}/prompts", { params: { path: { id: agentId }, query: pageParams(pageParam) }, signal })),
    initialPageParam: "",
    getNextPageParam: nextCursor,
  });
}

export function usePromptDiff(agentId: string, from: number | null, to: number | null) {
  return useQuery({
    queryKey: agentKeys.diff(agentId, from ?? 0, to ?? 0),
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/v1/agents/{id}/prompts/diff", {
          params: { path: { id: agentId }, query: { from: from ?? 0, to: to ?? 0 } },
          signal,
        }),
      ),
    enabled: from !== null && to !== null,
    staleTime: Infinity,
  });
}

export function useCreatePrompt(agentId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { body: string; note: string }) =>
      unwrap(api.POST("/v1/agents/{id}/prompts", { params: { path: { id: agentId } }, body })),
    onSettled: () => void qc.invalidateQueries({ queryKey: agentKeys.prompts(agentId) }),
  });
}

export function useActivatePrompt(agentId: string) {
  const done = useInvalidateAgent();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (v: { number: number; agentVersion: number }) =>
      unwrap(
        api.POST("/v1/agents/{id}/prompts/{number}/activate", {
          params: { path: { id: agentId, number: v.number } },
          body: { agent_version: v.agentVersion },
        }),
      ),
    onSuccess: (agent) => done(agent),
    onError: () => void qc.invalidateQueries({ queryKey: agentKeys.agent(agentId), exact: true }),
  });
}

export function useTriggers(agentId: string) {
  return useInfiniteQuery({
    queryKey: agentKeys.triggers(agentId),
    queryFn: ({ pageParam, signal }) =>
      unwrap(api.GET("/v1/agents/{id}/triggers", { params: { path: { id: agentId }, query: pageParams(pageParam) }, signal })),
    initialPageParam: "",
    getNextPageParam: nextCursor,
  });
}

export function useCreateTrigger(agentId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateTriggerRequest) =>
      unwrap(api.POST("/v1/agents/{id}/triggers", { params: { path: { id: agentId } }, body })),
    onSettled: () => void qc.invalidateQueries({ queryKey: agentKeys.triggers(agentId) }),
  });
}

export function useUpdateTrigger(agentId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (v: { id: string; body: UpdateTriggerRequest }) =>
      unwrap(api.PATCH("/v1/triggers/{id}", { params: { path: { id: v.id } }, body: v.body })),
    onSettled: () => void qc.invalidateQueries({ queryKey: agentKeys.triggers(agentId) }),
  });
}

export function useDeleteTrigger(agentId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (t: { id: string; version: number }) =>
      unwrapVoid(api.DELETE("/v1/triggers/{id}", { params: { path: { id: t.id }, query: { version: t.version } } })),
    onSettled: () => void qc.invalidateQueries({ queryKey: agentKeys.triggers(agentId) }),
  });
}

export function useStartRun(agentId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: string) =>
      unwrap(api.POST("/v1/agents/{id}/runs", { params: { path: { id: agentId } }, body: { input } })),
    onSuccess: (run) => {
      qc.setQueryData(queryKeys.run(run.id), run);
      void qc.invalidateQueries({ queryKey: ["runs", "list"] });
    },
  });
}
