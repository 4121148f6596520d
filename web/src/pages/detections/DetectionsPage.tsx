/**
 * `/detections`: the queue. `GET /v1/detections`, filtered by status, level, rule, assignee and the days raised (the filters the
 * API has), kept in the URL; cursor-paged with "Load more"; workflow actions per row; "Post events" for roles
 * with `events_ingest`.
 */
import { useMemo, useState } from "react";
import { Link } from "react-router";
import {
  Button,
  ButtonLink,
  ChoiceField,
  EmptyState,
  ErrorState,
  Field,
  Input,
  Page,
  PageHeader,
  RelativeTime,
  Select,
  SkeletonList,
  Table,
  useMemberNames,
  type Column,
} from "../../components";
import { useMe } from "../../api/queries";
import { usePermissions } from "../../lib/usePermissions";
import { useUrlFilters } from "../../lib/urlState";
import { LevelBadge, StatusBadge } from "./badges";
import { IngestPanel } from "./IngestPanel";
import { DETECTION_STATUSES, LEVELS, STATUS_LABELS, dayEnd, dayStart, levelLabel } from "./model";
import { useDetections, useRules, type DetectionView } from "./queries";
import { WorkflowActions } from "./WorkflowActions";

const FILTER_KEYS = ["status", "level", "rule", "assignee", "since", "until"] as const;
const NO_FILTERS = { status: null, level: null, rule: null, assignee: null, since: null, until: null };

const linkClass =
  "font-medium text-indigo-700 hover:underline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:text-indigo-300";

export function DetectionsPage() {
  const { can } = usePermissions();
  const me = useMe();
  const [filters, setFilters] = useUrlFilters(FILTER_KEYS);
  const [showIngest, setShowIngest] = useState(false);
  const userId = me.data?.user_id ?? null;

  // "assignee=me" in the URL (shareable), the user's id in the request.
  const query = useMemo(
    () => ({
      status: filters.status,
      level: filters.level,
      rule: filters.rule,
      assignee: filters.assignee === "me" ? (userId ?? "") : filters.assignee,
      // Whole local days: from the start of the first to the end of the last.
      since: dayStart(filters.since),
      until: dayEnd(filters.until),
    }),
    [filters, userId],
  );
  const waitingForMe = filters.assignee === "me" && me.isPending;
  const detections = useDetections(query, !waitingForMe);
  const filtered = Boolean(filters.status || filters.level || filters.rule || filters.assignee || filters.since || filters.until);
  const items = detections.data?.pages.flatMap((p) => p.items) ?? [];

  const columns: Column<DetectionView>[] = [
    { key: "level", header: "Level", cell: (d) => <LevelBadge level={d.level} />, className: "w-24", hideOnMobile: true },
    {
      key: "title",
      header: "Detection",
      cell: (d) => (
        <div className="min-w-40">
          <Link id={`det-${d.id}-title`} to={`/detections/${d.id}`} className={linkClass}>
            {d.title}
          </Link>
          <p className="mt-0.5 text-xs text-slate-500 dark:text-slate-400">
            {d.rule ? (
              [d.rule.title !== d.title ? d.rule.title : null, d.rule.author ? `by ${d.rule.author}` : null].filter(Boolean).join(" · ") ||
              "Rule without author"
            ) : (
              "Rule deleted"
            )}
          </p>
          {/* Phones: one column, level, status, time and actions under the title. */}
          <div className="mt-1.5 flex flex-wrap items-center gap-1.5 text-xs text-slate-500 md:hidden dark:text-slate-400">
            <LevelBadge level={d.level} />
            <StatusBadge status={d.status} />
            <RelativeTime date={d.created_at} />
          </div>
          <div className="mt-2 md:hidden">
            <WorkflowActions detection={d} describedBy={`det-${d.id}-title`} />
          </div>
        </div>
      ),
    },
    { key: "status", header: "Status", cell: (d) => <StatusBadge status={d.status} />, hideOnMobile: true },
    { key: "created", header: "Raised", cell: (d) => <RelativeTime date={d.created_at} />, hideOnMobile: true },
    ...(can("detections_triage")
      ? [
          {
            key: "actions",
            header: "Actions",
            cell: (d: DetectionView) => <WorkflowActions detection={d} describedBy={`det-${d.id}-title`} />,
            hideOnMobile: true,
          },
        ]
      : []),
  ];

  return (
    <Page title="Detections">
      <PageHeader
        title="Detections"
        description="Matches of the detection rules, newest first, with the triage workflow."
        actions={
          <>
            {can("events_ingest") && (
              <Button icon="send" aria-expanded={showIngest} aria-controls="post-events" onClick={() => setShowIngest((s) => !s)}>
                Post events
              </Button>
            )}
            <ButtonLink to="/detections/rules">Rules</ButtonLink>
          </>
        }
      />

      {can("events_ingest") && showIngest && (
        <div id="post-events" className="mb-6">
          <IngestPanel />
        </div>
      )}

      <DetectionFilterBar filters={filters} setFilters={setFilters} canPickRule={can("rules_read")} canFilterMine={Boolean(userId) || filters.assignee === "me"} />

      {detections.isPending || waitingForMe ? (
        <SkeletonList lines={6} />
      ) : detections.error && !detections.isFetchNextPageError ? (
        <ErrorState error={detections.error} title="Cannot load the detections" onRetry={() => void detections.refetch()} />
      ) : (
        <>
          <Table
            caption="Detections"
            rows={items}
            rowKey={(d) => d.id}
            columns={columns}
            empty={
              filtered ? (
                <EmptyState
                  icon="alert"
                  title="No detections match these filters"
                  action={
                    <Button size="sm" onClick={() => setFilters(NO_FILTERS)}>
                      Clear filters
                    </Button>
                  }
                />
              ) : (
                <EmptyState
                  icon="shield"
                  title="No detections yet"
                  description="Detections appear when ingested events match an enabled rule."
                />
              )
            }
          />
          <div className="mt-3 flex flex-wrap items-center justify-between gap-2 text-sm text-slate-500 dark:text-slate-400">
            <span role="status">
              {items.length > 0 && `${items.length} ${items.length === 1 ? "detection" : "detections"} shown`}
            </span>
            {detections.hasNextPage && (
              <Button size="sm" loading={detections.isFetchingNextPage} onClick={() => void detections.fetchNextPage()}>
                Load more
              </Button>
            )}
          </div>
          {detections.isFetchNextPageError && (
            <ErrorState compact error={detections.error} onRetry={() => void detections.fetchNextPage()} />
          )}
        </>
      )}
    </Page>
  );
}

function DetectionFilterBar({
  filters,
  setFilters,
  canPickRule,
  canFilterMine,
}: {
  filters: Record<(typeof FILTER_KEYS)[number], string>;
  setFilters: (p: Partial<Record<(typeof FILTER_KEYS)[number], string | null>>) => void;
  canPickRule: boolean;
  canFilterMine: boolean;
}) {
  const rules = useRules(false, canPickRule);
  const { nameOf } = useMemberNames();
  const ruleOptions = rules.data?.pages.flatMap((p) => p.items) ?? [];
  const known = ruleOptions.some((r) => r.id === filters.rule);
  const active = Boolean(filters.status || filters.level || filters.rule || filters.assignee || filters.since || filters.until);
  return (
    <form
      role="search"
      aria-label="Filter detections"
      className="mb-4 grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-[repeat(6,minmax(0,1fr))_auto] lg:items-end"
      onSubmit={(e) => e.preventDefault()}
    >
      <ChoiceField
        label="Status"
        none="Any status"
        value={filters.status}
        options={DETECTION_STATUSES}
        labelOf={(s) => STATUS_LABELS[s]}
        onChange={(status) => setFilters({ status })}
      />
      <ChoiceField label="Level" none="Any level" value={filters.level} options={LEVELS} labelOf={levelLabel} onChange={(level) => setFilters({ level })} />
      {(canPickRule || filters.rule) && (
        <Field label="Rule" className="col-span-2 sm:col-span-1">
          {(p) => (
            <Select {...p} value={filters.rule} onChange={(e) => setFilters({ rule: e.target.value })}>
              <option value="">Any rule</option>
              {filters.rule && !known && <option value={filters.rule}>Rule {filters.rule.slice(0, 8)}…</option>}
              {ruleOptions.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.title}
                </option>
              ))}
            </Select>
          )}
        </Field>
      )}
      {canFilterMine && (
        <Field label="Assignee">
          {(p) => (
            <Select {...p} value={filters.assignee === "me" ? "me" : filters.assignee ? "other" : ""} onChange={(e) => setFilters({ assignee: e.target.value === "other" ? filters.assignee : e.target.value })}>
              <option value="">Anyone</option>
              <option value="me">Assigned to me</option>
              {filters.assignee && filters.assignee !== "me" && <option value="other">Assigned to {nameOf(filters.assignee)}</option>}
            </Select>
          )}
        </Field>
      )}
      <Field label="Raised from">
        {(p) => <Input {...p} type="date" value={filters.since} max={filters.until || undefined} onChange={(e) => setFilters({ since: e.target.value || null })} />}
      </Field>
      <Field label="Raised until">
        {(p) => <Input {...p} type="date" value={filters.until} min={filters.since || undefined} onChange={(e) => setFilters({ until: e.target.value || null })} />}
      </Field>
      {active && (
        <Button className="self-end" onClick={() => setFilters(NO_FILTERS)}>
          Clear filters
        </Button>
      )}
    </form>
  );
}
