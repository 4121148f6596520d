/**
 * Server state of the detection pages (TanStack Query). Keys: `["detections", ...]`, `["rules", ...]`; rule
 * changes also invalidate `["coverage"]` (coverage counts the enabled rules).
 */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, unwrapVoid } from "../../api/client";
import { nextCursor } from "../../api/queries";
import type { Schemas } from "../../api/types";
import { toast } from "../../components";
import { statusLabel } from "./model";

export type DetectionView = Schemas["DetectionView"];
export type RuleView = Schemas["RuleView"];
export type RuleRef = Schemas["RuleRef"];
export type RuleIssue = Schemas["RuleIssue"];
export type UploadedRule = Schemas["UploadedRule"];
export type IngestReport = Schemas["IngestReport"];

export const DETECTIONS_PAGE = 50;
/** Rules per page: the server's maximum, since level/status/search filter on the client. */
export const RULES_PAGE = 200;

export interface DetectionFilters {
  status: string;
  level: string;
  rule: string;
  assignee: string;
  /** Raised at or after (RFC 3339), or "". */
  since: string;
  /** Raised before (RFC 3339), or "". */
  until: string;
}

export const detectionKeys = {
  all: ["detections"] as const,
  list: (f: DetectionFilters) => ["detections", "list", f] as const,
  one: (id: string) => ["detections", id] as const,
};

export const ruleKeys = {
  all: ["rules"] as const,
  list: (enabledOnly: boolean) => ["rules", "list", { enabledOnly }] as const,
  one: (id: string) => ["rules", id] as const,
};

export const coverageKey = ["coverage"] as const;

const opt = (s: string) => (s ? s : undefined);

export function useDetections(f: DetectionFilters, enabled = true) {
  return useInfiniteQuery({
    queryKey: detectionKeys.list(f),
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET("/v1/detections", {
          params: {
            query: {
              status: opt(f.status),
              level: opt(f.level),
              rule_id: opt(f.rule),
              assignee_id: opt(f.assignee),
              since: opt(f.since),
              until: opt(f.until),
              limit: DETECTIONS_PAGE,
              cursor: pageParam,
            },
          },
          signal,
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: nextCursor,
    enabled,
  });
}

export function useDetection(id: string) {
  return useQuery({
    queryKey: detectionKeys.one(id),
    queryFn: ({ signal }) => unwrap(api.GET("/v1/detections/{id}", { params: { path: { id } }, signal })),
  });
}

export interface DetectionChange {
  id: string;
  version: number;
  status?: string;
  note?: string;
  assignee_id?: string;
  unassign?: boolean;
}

/**
 * `PATCH /v1/detections/{id}`. A 409 (`invalid_transition`, or `version_conflict` when someone else changed it)
 * or 422 is shown as a toast and returned in `error` for inline display; the detections are refetched either way.
 */
export function useUpdateDetection() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...body }: DetectionChange) =>
      unwrap(api.PATCH("/v1/detections/{id}", { params: { path: { id } }, body })),
    onSuccess: (d, v) => {
      qc.setQueryData(detectionKeys.one(d.id), d);
      if (v.status) toast.success(`“${d.title}” is now ${statusLabel(d.status).toLowerCase()}.`);
      else if (v.note) toast.success("Note added.");
      else toast.success(d.assignee_id ? "Assigned." : "Unassigned.");
    },
    onError: (e) => toast.error(e),
    // Not awaited: the detail already has the answer; the lists refetch in the background.
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: detectionKeys.all });
    },
  });
}

export function useRules(enabledOnly: boolean, enabled = true) {
  return useInfiniteQuery({
    queryKey: ruleKeys.list(enabledOnly),
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET("/v1/detection-rules", {
          params: { query: { enabled_only: enabledOnly || undefined, limit: RULES_PAGE, cursor: pageParam } },
          signal,
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: nextCursor,
    enabled,
  });
}

export function useRule(id: string | undefined, enabled = true) {
  return useQuery({
    queryKey: ruleKeys.one(id ?? ""),
    queryFn: ({ signal }) => unwrap(api.GET("/v1/detection-rules/{id}", { params: { path: { id: id ?? "" } }, signal })),
    enabled: enabled && Boolean(id),
  });
}

function useInvalidateRules() {
  const qc = useQueryClient();
  return () =>
    Promise.all([qc.invalidateQueries({ queryKey: ruleKeys.all }), qc.invalidateQueries({ queryKey: coverageKey })]);
}

export function useSetRuleEnabled() {
  const invalidate = useInvalidateRules();
  return useMutation({
    mutationFn: ({ id, version, enabled }: { id: string; version: number; enabled: boolean }) =>
      unwrap(api.PATCH("/v1/detection-rules/{id}", { params: { path: { id } }, body: { version, enabled } })),
    onSuccess: (r) => toast.success(`“${r.title}” ${r.enabled ? "enabled" : "disabled"}.`),
    onError: (e) => toast.error(e),
    onSettled: invalidate,
  });
}

export function useDeleteRule() {
  const invalidate = useInvalidateRules();
  return useMutation({
    mutationFn: ({ id }: { id: string; title: string }) =>
      unwrapVoid(api.DELETE("/v1/detection-rules/{id}", { params: { path: { id } } })),
    onSuccess: (_, v) => toast.success(`“${v.title}” deleted.`),
    onError: (e) => toast.error(e),
    onSettled: invalidate,
  });
}

/** `POST /v1/detection-rules`. Errors are not toasted: the upload form lists them next to the editor. */
export function useUploadRule() {
  const invalidate = useInvalidateRules();
  return useMutation({
    mutationFn: (body: { yaml: string; enabled?: boolean }) => unwrap(api.POST("/v1/detection-rules", { body })),
    onSuccess: (r) => {
      toast.success(`“${r.rule.title}” uploaded${r.rule.enabled ? " and enabled" : " (disabled)"}.`);
      return invalidate();
    },
  });
}

/** `POST /v1/events` with a JSON or NDJSON body, sent as is. */
export function useIngest() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ body, contentType, flush }: { body: string; contentType: string; flush: boolean }) =>
      unwrap(
        api.POST("/v1/events", {
          params: { query: { flush: flush || undefined } },
          body,
          bodySerializer: (b: string) => b,
          headers: { "Content-Type": contentType },
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: detectionKeys.all }),
  });
}
