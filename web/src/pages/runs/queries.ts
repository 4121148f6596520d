/** Server state of the run pages (TanStack Query, keys under `["runs"]`). */
import {
  experimental_streamedQuery as streamedQuery,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { nextCursor, pageParams, queryKeys } from "../../api/queries";
import type { RunView } from "../../api/types";
import { EMPTY_LOG, appendEvents, type RunEventLog } from "./eventLog";
import { isLiveStatus, runEventBatches } from "./eventStream";

/** The stream of a run whose events are all held. */
function nothingMore(): AsyncIterable<unknown[]> {
  return {
    [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ done: true as const, value: undefined }) }),
  };
}

export const runKeys = {
  run: queryKeys.run,
  events: (id: string) => [...queryKeys.run(id), "events"] as const,
  list: (filters: RunFilters) => ["runs", "list", filters] as const,
};

/** One run (status, usage, cost, output). Live runs refresh while the page is open. */
export function useRun(runId: string) {
  return useQuery({
    queryKey: runKeys.run(runId),
    queryFn: ({ signal }) => unwrap(api.GET("/v1/runs/{id}", { params: { path: { id: runId } }, signal })),
    staleTime: (q) => (q.state.data && !isLiveStatus(q.state.data.status) ? Infinity : 5_000),
  });
}

/**
 * The run's events, streamed into the cache as they arrive. A refetch (an invalidation of `["runs", id]`, a
 * retry after an error) resumes after the last event held instead of starting over.
 */
export function useRunEvents(runId: string) {
  const key = runKeys.events(runId);
  return useQuery({
    queryKey: key,
    queryFn: streamedQuery<unknown[], RunEventLog, typeof key>({
      streamFn: (ctx) => {
        const held = ctx.client.getQueryData<RunEventLog>(key);
        if (held?.ended) return nothingMore();
        return runEventBatches(runId, held?.lastSeq ?? 0, ctx.signal);
      },
      reducer: appendEvents,
      initialValue: EMPTY_LOG,
      refetchMode: "append",
    }),
    staleTime: Infinity,
    gcTime: 60_000,
    retry: false,
    refetchOnReconnect: false,
  });
}

export interface RunFilters {
  agent_id?: string;
  status?: string;
  /** ISO date-time. */
  since?: string;
  /** ISO date-time. */
  until?: string;
}

/** Runs, newest first, page by page. */
export function useRunList(filters: RunFilters, enabled = true) {
  return useInfiniteQuery({
    queryKey: runKeys.list(filters),
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET("/v1/runs", {
          params: { query: { ...filters, ...pageParams(pageParam) } },
          signal,
        }),
      ),
    initialPageParam: "",
    getNextPageParam: nextCursor,
    enabled,
  });
}

export function useCancelRun(runId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/v1/runs/{id}/cancel", { params: { path: { id: runId } } })),
    onSuccess: (run: RunView) => {
      qc.setQueryData(runKeys.run(runId), run);
    },
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: runKeys.run(runId), exact: true });
      void qc.invalidateQueries({ queryKey: ["runs", "list"] });
      void qc.invalidateQueries({ queryKey: queryKeys.approvals });
    },
  });
}
