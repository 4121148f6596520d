/** The chat page's queries and mutations (server state, TanStack Query). */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, unwrapVoid } from "../../api/client";
import { nextCursor, pageParams, queryKeys } from "../../api/queries";
import type { ChatView, FeedbackRequest } from "../../api/types";

/** The agents to chat with (first 200; the picker filters them). */
export function useAgents(enabled = true) {
  return useQuery({
    queryKey: [...queryKeys.agents, "list", { limit: 200 }],
    queryFn: () => unwrap(api.GET("/v1/agents", { params: { query: { limit: 200 } } })),
    enabled,
    staleTime: 60_000,
  });
}

/** Chats, newest first, page by page. */
export function useChats() {
  return useInfiniteQuery({
    queryKey: [...queryKeys.chats, "list"],
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/v1/chats", { params: { query: pageParams(pageParam) } })),
    initialPageParam: "",
    getNextPageParam: nextCursor,
  });
}

export function useChat(chatId: string) {
  return useQuery({
    queryKey: queryKeys.chat(chatId),
    queryFn: () => unwrap(api.GET("/v1/chats/{id}", { params: { path: { id: chatId } } })),
  });
}

export function useMessages(chatId: string) {
  return useQuery({
    queryKey: queryKeys.chatMessages(chatId),
    queryFn: () => unwrap(api.GET("/v1/chats/{id}/messages", { params: { path: { id: chatId } } })),
    staleTime: 5_000,
  });
}

/** A run (usage, cost, output with citations) — for answers loaded from history. */
export function useRun(runId: string | null | undefined, enabled = true) {
  return useQuery({
    queryKey: queryKeys.run(runId ?? ""),
    queryFn: () => unwrap(api.GET("/v1/runs/{id}", { params: { path: { id: runId ?? "" } } })),
    enabled: Boolean(runId) && enabled,
    staleTime: (q) => (q.state.data?.finished_at ? Infinity : 5_000),
  });
}

export function useCreateChat() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { agent_id: string; title?: string }) => unwrap(api.POST("/v1/chats", { body })),
    onSuccess: (chat: ChatView) => {
      qc.setQueryData(queryKeys.chat(chat.id), chat);
      void qc.invalidateQueries({ queryKey: [...queryKeys.chats, "list"] });
    },
  });
}

export function useSendFeedback() {
  return useMutation({
    mutationFn: (body: FeedbackRequest) => unwrapVoid(api.POST("/v1/feedback", { body })),
  });
}
