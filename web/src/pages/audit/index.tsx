/**
 * `/audit`: the organisation's hash-chained audit log. `GET /v1/audit-events` with the filters the API has
 * (actor, action, resource kind and id, outcome, since/until; kept in the URL), cursor-paged 200 at a time into
 * a virtualised list whose rows expand to the full event. "Verify chain" (`GET /v1/audit-events/verify`) and
 * "Export NDJSON" (`GET /v1/audit-events/export`, same filters, saved through a Blob URL).
 */
import { useInfiniteQuery, useMutation, useQuery } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import { api, unwrap } from "../../api/client";
import { nextCursor } from "../../api/queries";
import {
  Badge,
  Button,
  ChoiceField,
  EmptyState,
  ErrorState,
  Field,
  Icon,
  Input,
  JsonView,
  Page,
  PageHeader,
  RelativeTime,
  SkeletonList,
  Spinner,
  toast,
  useMemberNames,
  VirtualList,
  type BadgeTone,
} from "../../components";
import { formatDateTime, formatNumber } from "../../lib/format";
import { cn } from "../../lib/cn";
import { usePermissions } from "../../lib/usePermissions";
import { saveBlob, timestampedName } from "../../lib/download";
import { useUrlFilters } from "../../lib/urlState";
import {
  AUDIT_FILTER_KEYS,
  OUTCOMES,
  auditQuery,
  hasFilters,
  isoToLocalInput,
  localInputToIso,
  parseAuditEvent,
  parseVerification,
  validateFilters,
  type AuditEvent,
  type AuditFilterKey,
  type AuditFilters,
  type AuditQuery,
} from "./model";

const PAGE_SIZE = 200;

const auditKeys = {
  all: ["audit"] as const,
  list: (q: AuditQuery) => ["audit", "list", q] as const,
  verify: ["audit", "verify"] as const,
};

const outcomeTone = (o: string): BadgeTone => (o === "success" ? "success" : o === "denied" ? "warning" : o === "failure" ? "danger" : "neutral");
const cap = (s: string) => (s ? s.charAt(0).toUpperCase() + s.slice(1) : "Unknown");

/** "API key 0190c1d2", "System"; a user by name when the member directory knows them. */
function actorLabel(e: AuditEvent, nameOf: (userId: string) => string): string {
  if (e.actorKind === "user" && e.actorId) return nameOf(e.actorId);
  const kind = e.actorKind === "api_key" ? "API key" : cap(e.actorKind);
  return e.actorId ? `${kind} ${e.actorId.slice(0, 8)}` : kind;
}

export function AuditPage() {
  const { can, loaded } = usePermissions();
  if (loaded && !can("audit_read")) {
    return (
      <Page title="Audit log">
        <PageHeader title="Audit log" />
        <EmptyState icon="shield" title="No access to the audit log" description="Your role cannot read the audit log. Ask an owner or admin." />
      </Page>
    );
  }
  return <AuditLog />;
}

function AuditLog() {
  const [filters, setFilters] = useUrlFilters(AUDIT_FILTER_KEYS);
  const query = useMemo(() => auditQuery(filters), [filters]);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const { nameOf } = useMemberNames();

  const list = useInfiniteQuery({
    queryKey: auditKeys.list(query),
    queryFn: ({ pageParam, signal }) =>
      unwrap(api.GET("/v1/audit-events", { params: { query: { ...query, limit: PAGE_SIZE, cursor: pageParam } }, signal })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: nextCursor,
  });
  const events = useMemo(
    () => (list.data?.pages.flatMap((p) => p.items as unknown[]) ?? []).map((raw, i) => parseAuditEvent(raw, i)),
    [list.data],
  );

  const exportNdjson = useMutation({
    mutationFn: async () => {
      const blob = await unwrap(api.GET("/v1/audit-events/export", { params: { query }, parseAs: "blob" }));
      saveBlob(new Blob([blob], { type: "application/x-ndjson" }), timestampedName("audit-events", "ndjson"));
    },
    onSuccess: () => toast.success("Audit events exported."),
    onError: (e) => toast.error(e),
  });

  const toggle = useCallback((id: string) => {
    setExpanded((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }, []);

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  return (
    <Page title="Audit log">
      <PageHeader
        title="Audit log"
        description="Every change made through the API and every sign-in, hash-chained so tampering shows."
        actions={
          <Button
            icon="file"
            loading={exportNdjson.isPending}
            onClick={() => exportNdjson.mutate()}
            title={hasFilters(filters) ? "Exports the events matching the filters, oldest first" : "Exports every event, oldest first"}
          >
            Export NDJSON
          </Button>
        }
      />
      <VerifyChain />
      <FilterForm key={new URLSearchParams(Object.entries(filters)).toString()} filters={filters} onApply={setFilters} />

      {list.isPending ? (
        <SkeletonList lines={8} />
      ) : list.error && !list.isFetchNextPageError ? (
        <ErrorState error={list.error} title="Cannot load the audit log" onRetry={() => void list.refetch()} />
      ) : events.length === 0 ? (
        <EmptyState
          icon="list"
          title={hasFilters(filters) ? "No events match these filters" : "No audit events yet"}
          action={
            hasFilters(filters) ? (
              <Button size="sm" onClick={() => setFilters(clearAll)}>
                Clear filters
              </Button>
            ) : undefined
          }
        />
      ) : (
        <div className="rounded-lg border border-slate-200 dark:border-slate-800">
          <div
            aria-hidden
            className="hidden grid-cols-[1.5rem_11rem_6rem_minmax(0,1fr)_10rem] gap-3 border-b border-slate-200 bg-slate-50 px-3 py-2 text-xs font-semibold tracking-wide text-slate-600 uppercase md:grid dark:border-slate-800 dark:bg-slate-900 dark:text-slate-400"
          >
            <span />
            <span>When</span>
            <span>Outcome</span>
            <span>Action and resource</span>
            <span>Actor</span>
          </div>
          <VirtualList
            label="Audit events"
            className="h-[65vh] min-h-80"
            items={events}
            getKey={(e) => e.id}
            estimateSize={56}
            overscan={12}
            hasMore={hasNextPage}
            onEndReached={list.isFetchNextPageError ? undefined : loadMore}
            renderItem={(e) => (
              <AuditRow
                event={e}
                actor={actorLabel(e, nameOf)}
                expanded={expanded.has(e.id)}
                onToggle={toggle}
                onFilter={(patch) => setFilters(patch)}
              />
            )}
          />
          <div className="flex flex-wrap items-center justify-between gap-2 border-t border-slate-200 px-3 py-2 text-sm text-slate-500 dark:border-slate-800 dark:text-slate-400">
            <span role="status">
              {formatNumber(events.length)} {events.length === 1 ? "event" : "events"} loaded
              {hasNextPage ? "; scroll down or load more for older ones" : ", the end of the log"}
            </span>
            {isFetchingNextPage ? (
              <Spinner className="size-4" label="Loading more events" />
            ) : (
              hasNextPage && (
                <Button size="sm" onClick={loadMore}>
                  Load more
                </Button>
              )
            )}
          </div>
          {list.isFetchNextPageError && (
            <div className="p-2">
              <ErrorState compact error={list.error} onRetry={loadMore} />
            </div>
          )}
        </div>
      )}
    </Page>
  );
}

const clearAll = Object.fromEntries(AUDIT_FILTER_KEYS.map((k) => [k, null])) as Record<AuditFilterKey, null>;

function AuditRow({
  event: e,
  actor,
  expanded,
  onToggle,
  onFilter,
}: {
  event: AuditEvent;
  /** Who acted, as shown (a user by name when known). */
  actor: string;
  expanded: boolean;
  onToggle: (id: string) => void;
  onFilter: (patch: Partial<Record<AuditFilterKey, string | null>>) => void;
}) {
  const detailsId = `audit-${e.id}-details`;
  const when = e.occurredAt ? formatDateTime(e.occurredAt) : "unknown time";
  return (
    <div className="border-b border-slate-100 dark:border-slate-800">
      <button
        type="button"
        aria-expanded={expanded}
        aria-controls={expanded ? detailsId : undefined}
        aria-label={`${e.seq !== null ? `#${e.seq} ` : ""}${e.action || "Unknown action"}, ${e.outcome || "unknown outcome"}, by ${actor}, ${when}`}
        onClick={() => onToggle(e.id)}
        className="grid w-full grid-cols-[1.5rem_minmax(0,1fr)] gap-x-3 gap-y-1 px-3 py-2 text-left text-sm hover:bg-slate-50 focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-indigo-500 md:grid-cols-[1.5rem_11rem_6rem_minmax(0,1fr)_10rem] dark:hover:bg-slate-900"
      >
        <Icon name={expanded ? "chevronDown" : "chevronRight"} className="mt-0.5 size-4 text-slate-400" />
        <span className="flex flex-wrap items-center gap-2 md:block">
          {e.occurredAt ? <RelativeTime date={e.occurredAt} /> : "—"}
          <Badge tone={outcomeTone(e.outcome)} className="md:hidden">
            {cap(e.outcome)}
          </Badge>
        </span>
        <span className="hidden md:block">
          <Badge tone={outcomeTone(e.outcome)}>{cap(e.outcome)}</Badge>
        </span>
        <span className="col-start-2 min-w-0 md:col-start-auto">
          <span className="block truncate font-mono text-xs">{e.action || "—"}</span>
          <span className="block truncate text-xs text-slate-500 dark:text-slate-400">
            {e.resourceKind}
            {e.resourceId && ` · ${e.resourceId}`}
          </span>
        </span>
        <span className="col-start-2 truncate text-xs text-slate-600 md:col-start-auto md:text-sm dark:text-slate-300" title={e.actorId ?? undefined}>
          {actor}
        </span>
      </button>
      {expanded && (
        <div id={detailsId} className="space-y-2 px-3 pb-3 md:pl-12">
          <div className="flex flex-wrap gap-2" role="group" aria-label="Filter by this event">
            {e.actorId && (
              <Button size="sm" variant="ghost" onClick={() => onFilter({ actor: e.actorId })}>
                Only this actor
              </Button>
            )}
            {e.action && (
              <Button size="sm" variant="ghost" onClick={() => onFilter({ action: e.action })}>
                Only this action
              </Button>
            )}
            {e.resourceKind && (
              <Button size="sm" variant="ghost" onClick={() => onFilter({ kind: e.resourceKind, resource: e.resourceId ?? null })}>
                Only this resource
              </Button>
            )}
          </div>
          <JsonView value={e.raw} label={`Audit event ${e.seq ?? e.id}`} defaultExpandDepth={2} className="max-h-72" />
        </div>
      )}
    </div>
  );
}

function FilterForm({ filters, onApply }: { filters: AuditFilters; onApply: (f: Partial<Record<AuditFilterKey, string | null>>) => void }) {
  // A draft of the URL's filters (local UI state), applied on submit; remounted when the URL changes.
  const [draft, setDraft] = useState<AuditFilters>(() => ({
    ...filters,
    since: isoToLocalInput(filters.since),
    until: isoToLocalInput(filters.until),
  }));
  const [errors, setErrors] = useState<Partial<Record<AuditFilterKey, string>>>({});
  const set = (k: AuditFilterKey) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [k]: e.target.value }));

  return (
    <form
      role="search"
      aria-label="Filter audit events"
      className="mb-4 rounded-lg border border-slate-200 p-3 dark:border-slate-800"
      onSubmit={(ev) => {
        ev.preventDefault();
        const next: AuditFilters = {
          ...draft,
          actor: draft.actor.trim(),
          action: draft.action.trim(),
          kind: draft.kind.trim(),
          resource: draft.resource.trim(),
          since: localInputToIso(draft.since),
          until: localInputToIso(draft.until),
        };
        const errs = validateFilters(next);
        setErrors(errs);
        if (Object.keys(errs).length === 0) onApply(next);
      }}
    >
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-4">
        <Field label="Action" hint="Exact, e.g. POST /v1/agents">
          {(p) => <Input {...p} value={draft.action} onChange={set("action")} placeholder="PATCH /v1/detections/{id}" />}
        </Field>
        <ChoiceField
          label="Outcome"
          none="Any outcome"
          value={draft.outcome}
          options={OUTCOMES}
          labelOf={cap}
          error={errors.outcome}
          onChange={(outcome) => setDraft((d) => ({ ...d, outcome }))}
        />
        <Field label="Resource kind" hint="e.g. agents, detections">
          {(p) => <Input {...p} value={draft.kind} onChange={set("kind")} />}
        </Field>
        <Field label="Resource id">
          {(p) => <Input {...p} value={draft.resource} onChange={set("resource")} />}
        </Field>
        <Field label="Actor (user id)" error={errors.actor}>
          {(p) => <Input {...p} value={draft.actor} onChange={set("actor")} spellCheck={false} className="font-mono" />}
        </Field>
        <Field label="Since" hint="Your local time" error={errors.since}>
          {(p) => <Input {...p} type="datetime-local" value={draft.since} onChange={set("since")} />}
        </Field>
        <Field label="Until" hint="Your local time" error={errors.until}>
          {(p) => <Input {...p} type="datetime-local" value={draft.until} onChange={set("until")} />}
        </Field>
        <div className="flex items-end gap-2">
          <Button type="submit" variant="primary">
            Apply filters
          </Button>
          {hasFilters(filters) && (
            <Button onClick={() => onApply(clearAll)}>Clear filters</Button>
          )}
        </div>
      </div>
    </form>
  );
}

function VerifyChain() {
  const [asked, setAsked] = useState(false);
  const v = useQuery({
    queryKey: auditKeys.verify,
    queryFn: async ({ signal }) => parseVerification(await unwrap(api.GET("/v1/audit-events/verify", { signal }))),
    enabled: asked,
    staleTime: 0,
  });
  const result = v.data;
  return (
    <section aria-labelledby="verify-h" className="mb-4 flex flex-wrap items-start gap-3">
      <h2 id="verify-h" className="sr-only">
        Chain verification
      </h2>
      <Button
        icon="shield"
        loading={v.isFetching}
        onClick={() => {
          if (asked) void v.refetch();
          else setAsked(true);
        }}
      >
        Verify chain
      </Button>
      <div role="status" aria-live="polite" className="min-w-0 flex-1">
        {v.error && !v.isFetching ? (
          <ErrorState compact error={v.error} />
        ) : result && !v.isFetching ? (
          result.intact ? (
            <p className="rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950/50 dark:text-emerald-100">
              <Icon name="check" className="mr-1 inline size-4 align-[-2px]" />
              <strong>Chain intact:</strong> {formatNumber(result.checked)} {result.checked === 1 ? "event" : "events"} checked.
            </p>
          ) : (
            <div className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900 dark:border-red-800 dark:bg-red-950/50 dark:text-red-100">
              <p>
                <Icon name="alert" className="mr-1 inline size-4 align-[-2px]" />
                <strong>Chain broken</strong>
                {result.firstBroken ? (
                  <>
                    {" "}
                    at event {result.firstBroken.seq !== null ? `#${result.firstBroken.seq}` : ""}: {result.firstBroken.reason}.
                  </>
                ) : (
                  "."
                )}{" "}
                {formatNumber(result.checked)} {result.checked === 1 ? "event" : "events"} checked.
              </p>
              {result.firstBroken?.id && (
                <p className="mt-1 font-mono text-xs break-all">
                  First broken event id: <span className={cn("select-all")}>{result.firstBroken.id}</span>
                </p>
              )}
            </div>
          )
        ) : null}
      </div>
    </section>
  );
}
