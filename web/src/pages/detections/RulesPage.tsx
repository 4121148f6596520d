/**
 * `/detections/rules`: the organisation's Sigma rules. `GET /v1/detection-rules` (cursor-paged, 200 a page);
 * the API filters only by `enabled_only`, so level, status, search, technique and "disabled" filter the loaded
 * rules here (all kept in the URL). Enable/disable (`PATCH`, with the version read), delete, and upload for roles
 * with `rules_write`.
 */
import { useEffect, useState } from "react";
import { Link } from "react-router";
import {
  Badge,
  Button,
  ChoiceField,
  ConfirmDialog,
  Dialog,
  EmptyState,
  ErrorState,
  Field,
  Input,
  Page,
  PageHeader,
  RelativeTime,
  SkeletonList,
  Spinner,
  Table,
  type Column,
} from "../../components";
import { cn } from "../../lib/cn";
import { usePermissions } from "../../lib/usePermissions";
import { useUrlFilters } from "../../lib/urlState";
import { LevelBadge } from "./badges";
import { LEVELS, RULE_STATUSES, levelLabel, techniquesOfTags } from "./model";
import { useDeleteRule, useRule, useRules, useSetRuleEnabled, type RuleView } from "./queries";
import { RuleUpload } from "./RuleUpload";
import { filterRules, hasClientFilters } from "./rulesFilter";

const FILTER_KEYS = ["enabled", "level", "status", "q", "technique"] as const;

/** Most rules loaded automatically to apply a client-side filter (25 pages); beyond that, "Load more". */
const AUTO_LOAD_MAX = 5000;

const linkClass =
  "text-indigo-700 hover:underline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:text-indigo-300";

const ENABLED_CHOICES = ["enabled", "disabled"] as const;

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export function DetectionRulesPage() {
  const { can } = usePermissions();
  const [filters, setFilters] = useUrlFilters(FILTER_KEYS);
  const [uploading, setUploading] = useState(false);
  const [viewing, setViewing] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<RuleView | null>(null);
  const rules = useRules(filters.enabled === "enabled");
  const del = useDeleteRule();
  const writable = can("rules_write");
  // When the rule that opened a dialog is gone (deleted), the focus goes back to the search box.
  const searchBox = () => document.querySelector<HTMLElement>('form[aria-label="Filter rules"] input');

  const loaded = rules.data?.pages.flatMap((p) => p.items) ?? [];
  const rows = filterRules(loaded, filters);
  const clientFiltered = hasClientFilters(filters);

  // The API cannot filter by level, status, text or technique: while such a filter is on, load the remaining
  // pages (up to AUTO_LOAD_MAX rules) so the filter sees every rule, not just the first page.
  const { hasNextPage, isFetchingNextPage, isFetchNextPageError, fetchNextPage } = rules;
  const autoLoading = clientFiltered && hasNextPage && loaded.length < AUTO_LOAD_MAX && !isFetchNextPageError;
  useEffect(() => {
    if (autoLoading && !isFetchingNextPage) void fetchNextPage();
  }, [autoLoading, isFetchingNextPage, fetchNextPage]);
  const anyFilter = clientFiltered || filters.enabled !== "";
  const clear = () => setFilters({ enabled: null, level: null, status: null, q: null, technique: null });

  const columns: Column<RuleView>[] = [
    {
      key: "rule",
      header: "Rule",
      cell: (r) => (
        <div className="min-w-40">
          <button
            type="button"
            id={`rule-${r.id}-title`}
            className={cn("text-left font-medium", linkClass)}
            onClick={() => setViewing(r.id)}
          >
            {r.title}
          </button>
          <p className="mt-0.5 text-xs text-slate-500 dark:text-slate-400">
            {r.author ? `by ${r.author}` : "No author"}
            <span className="md:hidden"> · {cap(r.status)}</span>
          </p>
          <div className="mt-1.5 md:hidden">{actions(r)}</div>
        </div>
      ),
    },
    { key: "level", header: "Level", cell: (r) => <LevelBadge level={r.level} /> },
    { key: "status", header: "Status", cell: (r) => cap(r.status), hideOnMobile: true },
    {
      key: "techniques",
      header: "Techniques",
      hideOnMobile: true,
      cell: (r) => <TechniqueLinks tags={r.tags} />,
    },
    {
      key: "enabled",
      header: "Enabled",
      cell: (r) => (writable ? <EnabledSwitch rule={r} /> : <Badge tone={r.enabled ? "success" : "neutral"}>{r.enabled ? "Enabled" : "Disabled"}</Badge>),
    },
    {
      key: "actions",
      header: <span className="sr-only">Actions</span>,
      hideOnMobile: true,
      cell: (r) => actions(r),
    },
  ];

  function actions(r: RuleView) {
    return (
      <div className="flex flex-wrap items-center gap-2">
        <Link
          to={`/detections?rule=${r.id}`}
          className={cn("text-sm whitespace-nowrap", linkClass)}
          aria-describedby={`rule-${r.id}-title`}
        >
          Detections
        </Link>
        {writable && (
          <Button
            size="sm"
            variant="ghost"
            aria-label={`Delete rule ${r.title}`}
            onClick={() => setDeleting(r)}
          >
            Delete
          </Button>
        )}
      </div>
    );
  }

  return (
    <Page title="Detection rules">
      <Link to="/detections" className={`mb-3 inline-block text-sm ${linkClass}`}>
        ← Detections
      </Link>
      <PageHeader
        title="Detection rules"
        description="Sigma rules, correlations and filters of the organisation. Enabled rules run on ingested events."
        actions={
          writable && (
            <Button variant="primary" icon="plus" aria-expanded={uploading} aria-controls="rule-upload" onClick={() => setUploading((u) => !u)}>
              Upload rule
            </Button>
          )
        }
      />

      {writable && uploading && (
        <div id="rule-upload" className="mb-6">
          <RuleUpload onClose={() => setUploading(false)} />
        </div>
      )}

      <form
        role="search"
        aria-label="Filter rules"
        className="mb-4 grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-[2fr_1fr_1fr_1fr_1fr_auto] lg:items-end"
        onSubmit={(e) => e.preventDefault()}
      >
        <Field label="Search" className="col-span-2 sm:col-span-3 lg:col-span-1">
          {(p) => (
            <Input
              {...p}
              type="search"
              placeholder="Title, Sigma id, author or tag"
              value={filters.q}
              onChange={(e) => setFilters({ q: e.target.value })}
            />
          )}
        </Field>
        <ChoiceField
          label="Enabled"
          none="All rules"
          value={filters.enabled}
          options={ENABLED_CHOICES}
          labelOf={(c) => (c === "enabled" ? "Enabled only" : "Disabled only")}
          onChange={(enabled) => setFilters({ enabled })}
        />
        <ChoiceField label="Level" none="Any level" value={filters.level} options={LEVELS} labelOf={levelLabel} onChange={(level) => setFilters({ level })} />
        <ChoiceField label="Status" none="Any status" value={filters.status} options={RULE_STATUSES} labelOf={cap} onChange={(status) => setFilters({ status })} />
        <Field label="Technique">
          {(p) => (
            <Input {...p} placeholder="T1059.001" value={filters.technique} onChange={(e) => setFilters({ technique: e.target.value })} />
          )}
        </Field>
        {anyFilter && (
          <Button className="self-end" onClick={clear}>
            Clear filters
          </Button>
        )}
      </form>

      {rules.isPending || (autoLoading && rows.length === 0) ? (
        <div>
          {!rules.isPending && (
            <p role="status" className="mb-2 text-sm text-slate-500 dark:text-slate-400">
              Searching the rules: {loaded.length} loaded…
            </p>
          )}
          <SkeletonList lines={6} />
        </div>
      ) : rules.error && !rules.isFetchNextPageError ? (
        <ErrorState error={rules.error} title="Cannot load the rules" onRetry={() => void rules.refetch()} />
      ) : (
        <>
          <Table
            caption="Detection rules"
            rows={rows}
            rowKey={(r) => r.id}
            columns={columns}
            empty={
              anyFilter ? (
                <EmptyState
                  title="No rules match these filters"
                  description={rules.hasNextPage ? "Only the rules loaded so far were searched: load more to search further." : undefined}
                  action={
                    <div className="flex gap-2">
                      {rules.hasNextPage && (
                        <Button size="sm" loading={rules.isFetchingNextPage} onClick={() => void rules.fetchNextPage()}>
                          Load more
                        </Button>
                      )}
                      <Button size="sm" onClick={clear}>
                        Clear filters
                      </Button>
                    </div>
                  }
                />
              ) : (
                <EmptyState
                  icon="shield"
                  title="No rules yet"
                  description={writable ? "Upload a Sigma rule to start detecting." : "Someone with rule access can upload Sigma rules."}
                />
              )
            }
          />
          {rows.length > 0 && (
            <div className="mt-3 flex flex-wrap items-center justify-between gap-2 text-sm text-slate-500 dark:text-slate-400">
              <span role="status">
                {clientFiltered
                  ? autoLoading
                    ? `${rows.length} matching so far; searching (${loaded.length} rules loaded)…`
                    : `${rows.length} of ${loaded.length} ${rules.hasNextPage ? "loaded " : ""}rules match${rules.hasNextPage ? "; load more to search further" : ""}`
                  : `${loaded.length} ${loaded.length === 1 ? "rule" : "rules"} shown`}
              </span>
              {rules.hasNextPage && !autoLoading && (
                <Button size="sm" loading={rules.isFetchingNextPage} onClick={() => void rules.fetchNextPage()}>
                  Load more
                </Button>
              )}
            </div>
          )}
          {rules.isFetchNextPageError && <ErrorState compact error={rules.error} onRetry={() => void rules.fetchNextPage()} />}
        </>
      )}

      <RuleDialog id={viewing} loaded={loaded} onClose={() => setViewing(null)} returnFocus={searchBox} />
      <ConfirmDialog
        open={deleting !== null}
        onOpenChange={(o) => {
          if (!o) setDeleting(null);
        }}
        returnFocus={searchBox}
        title="Delete this rule?"
        description={
          deleting ? `“${deleting.title}” stops running and is removed. Its detections stay, without the link to it.` : undefined
        }
        confirmLabel="Delete rule"
        danger
        loading={del.isPending}
        onConfirm={() => {
          if (!deleting) return;
          del.mutate(
            { id: deleting.id, title: deleting.title },
            {
              onSettled: () => setDeleting(null),
            },
          );
        }}
      />
    </Page>
  );
}

function TechniqueLinks({ tags }: { tags: readonly string[] }) {
  const ids = techniquesOfTags(tags);
  if (ids.length === 0) return <span className="text-slate-500 dark:text-slate-400">—</span>;
  return (
    <ul className="flex max-w-64 flex-wrap gap-1" aria-label="Techniques">
      {ids.map((t) => (
        <li key={t}>
          <Link to={`/coverage?technique=${encodeURIComponent(t)}`} className={cn("font-mono text-xs", linkClass)} aria-label={`Technique ${t} in the coverage`}>
            {t}
          </Link>
        </li>
      ))}
    </ul>
  );
}

/** A switch for a rule's `enabled`; its name ("Enabled: <title>") stays the same in both states. */
function EnabledSwitch({ rule }: { rule: RuleView }) {
  const set = useSetRuleEnabled();
  const on = rule.enabled;
  return (
    <button
      type="button"
      role="switch"
      aria-checked={on}
      aria-label={`Enabled: ${rule.title}`}
      disabled={set.isPending}
      onClick={() => set.mutate({ id: rule.id, version: rule.version, enabled: !on })}
      className={cn(
        "inline-flex h-7 items-center gap-1.5 rounded-full border px-1 text-xs font-medium transition-colors focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 disabled:opacity-60",
        on
          ? "border-emerald-700 bg-emerald-700 text-white dark:border-emerald-400"
          : "border-slate-400 bg-white text-slate-700 dark:border-slate-500 dark:bg-slate-900 dark:text-slate-200",
      )}
    >
      {set.isPending ? (
        <Spinner className="size-4" />
      ) : (
        <span aria-hidden className={cn("size-5 rounded-full", on ? "order-2 bg-white" : "bg-slate-400 dark:bg-slate-500")} />
      )}
      <span aria-hidden className={cn("w-6 text-center", on && "order-1")}>
        {on ? "On" : "Off"}
      </span>
    </button>
  );
}

function RuleDialog({
  id,
  loaded,
  onClose,
  returnFocus,
}: {
  id: string | null;
  loaded: readonly RuleView[];
  onClose: () => void;
  returnFocus: () => HTMLElement | null;
}) {
  const fromList = loaded.find((r) => r.id === id);
  const fetched = useRule(id ?? undefined, id !== null && !fromList);
  const rule = fromList ?? fetched.data;
  return (
    <Dialog
      open={id !== null}
      onOpenChange={(o) => {
        if (!o) onClose();
      }}
      returnFocus={returnFocus}
      title={rule?.title ?? "Rule"}
      description={rule ? `Sigma id ${rule.rule_uid}` : undefined}
    >
      {!rule ? (
        fetched.error ? (
          <ErrorState compact error={fetched.error} />
        ) : (
          <SkeletonList lines={3} />
        )
      ) : (
        <div className="space-y-3 text-sm">
          <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1.5">
            <dt className="text-slate-500 dark:text-slate-400">Level</dt>
            <dd>
              <LevelBadge level={rule.level} />
            </dd>
            <dt className="text-slate-500 dark:text-slate-400">Status</dt>
            <dd>{cap(rule.status)}</dd>
            <dt className="text-slate-500 dark:text-slate-400">Enabled</dt>
            <dd>{rule.enabled ? "Yes" : "No"}</dd>
            <dt className="text-slate-500 dark:text-slate-400">Author(s)</dt>
            <dd>{rule.author || "Not stated"}</dd>
            <dt className="text-slate-500 dark:text-slate-400">Tags</dt>
            <dd className="break-words">{rule.tags.length ? rule.tags.join(", ") : "None"}</dd>
            <dt className="text-slate-500 dark:text-slate-400">Uploaded</dt>
            <dd>
              <RelativeTime date={rule.created_at} />
            </dd>
            <dt className="text-slate-500 dark:text-slate-400">Changed</dt>
            <dd>
              <RelativeTime date={rule.updated_at} />
            </dd>
          </dl>
          <pre
            tabIndex={0}
            aria-label="Rule YAML"
            className="max-h-80 overflow-auto rounded-md border border-slate-200 bg-slate-50 p-2 font-mono text-xs dark:border-slate-800 dark:bg-slate-950"
          >
            {rule.yaml}
          </pre>
        </div>
      )}
    </Dialog>
  );
}
