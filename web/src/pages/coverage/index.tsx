/**
 * `/coverage`: ATT&CK coverage of the enabled rules (`GET /v1/coverage`) as a heatmap, tactics as columns and
 * covered techniques as cells coloured by their number of enabled rules (the count is written in every cell).
 * Choosing a technique (kept in the URL as `?technique=`) lists the rules that cover it. "Download Navigator
 * layer" saves `GET /v1/coverage/navigator` as a file.
 */
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import {
  Badge,
  Button,
  ButtonLink,
  Dialog,
  EmptyState,
  ErrorState,
  Page,
  PageHeader,
  Skeleton,
  toast,
} from "../../components";
import { cn } from "../../lib/cn";
import { saveBlob, timestampedName } from "../../lib/download";
import { useUrlFilters } from "../../lib/urlState";
import { LevelBadge } from "../detections/badges";
import { techniqueUrl } from "../detections/model";
import { coverageKey } from "../detections/queries";
import {
  BUCKETS,
  bucketLabel,
  buildHeatmap,
  findTechnique,
  parseCoverage,
  rulesPhrase,
  type Coverage,
  type HeatColumn,
} from "./heatmap";

const linkClass =
  "text-indigo-700 hover:underline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:text-indigo-300";

const cellBorder = (bucket: number) =>
  bucket === 0 ? "border-slate-500 dark:border-slate-400" : "border-transparent";

const FILTER_KEYS = ["technique"] as const;

export function CoveragePage() {
  const [filters, setFilters] = useUrlFilters(FILTER_KEYS);
  const q = useQuery({
    queryKey: coverageKey,
    queryFn: async ({ signal }) => parseCoverage(await unwrap(api.GET("/v1/coverage", { signal }))),
  });
  const download = useMutation({
    mutationFn: async () => {
      const layer: unknown = await unwrap(api.GET("/v1/coverage/navigator"));
      const blob = new Blob([JSON.stringify(layer, null, 2)], { type: "application/json" });
      saveBlob(blob, timestampedName("secops-navigator-layer", "json"));
    },
    onSuccess: () => toast.success("Navigator layer downloaded."),
    onError: (e) => toast.error(e),
  });

  return (
    <Page title="ATT&CK coverage">
      <PageHeader
        title="ATT&CK coverage"
        description="The MITRE ATT&CK techniques the enabled rules detect, by tactic."
        actions={
          <>
            <Button icon="file" loading={download.isPending} onClick={() => download.mutate()}>
              Download Navigator layer
            </Button>
            <ButtonLink to="/detections/rules">Rules</ButtonLink>
          </>
        }
      />
      {q.isPending ? (
        <div role="status" aria-label="Loading the coverage" className="space-y-4">
          <Skeleton className="h-16 w-full" />
          <div className="flex gap-3 overflow-hidden">
            {Array.from({ length: 6 }, (_, i) => (
              <Skeleton key={i} className="h-64 w-44 shrink-0" />
            ))}
          </div>
        </div>
      ) : q.error ? (
        <ErrorState error={q.error} title="Cannot load the coverage" onRetry={() => void q.refetch()} />
      ) : (
        <CoverageView
          cov={q.data}
          onPick={(id) => setFilters({ technique: id })}
        />
      )}
      {q.data && (
        <TechniqueDialog
          cov={q.data}
          id={filters.technique}
          onClose={() => setFilters({ technique: null })}
        />
      )}
    </Page>
  );
}

function CoverageView({ cov, onPick }: { cov: Coverage; onPick: (id: string) => void }) {
  const columns = buildHeatmap(cov);
  const covered = cov.techniques.filter((t) => t.rules.length > 0).length;
  return (
    <div className="space-y-6">
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
        <Stat label="Enabled rules" value={cov.rules} />
        <Stat label="With ATT&CK techniques" value={cov.rulesWithTechniques} />
        <Stat
          label="Techniques covered"
          value={cov.catalogueTechniques ? `${covered} of ${cov.catalogueTechniques}` : covered}
        />
        <Stat label="Catalogue" value={cov.catalogue || "—"} small />
      </dl>

      <Legend />

      {cov.techniques.length === 0 ? (
        <EmptyState
          icon="grid"
          title="No technique is covered yet"
          description={
            <>
              Coverage counts enabled rules tagged with ATT&CK techniques (<code>attack.t1059.001</code>). Upload or
              enable such rules on the <Link to="/detections/rules" className={linkClass}>rules page</Link>.
            </>
          }
        />
      ) : (
        <Heatmap columns={columns} onPick={onPick} />
      )}

      {cov.unknownTechniques.length > 0 && (
        <section aria-labelledby="unknown-h" className="rounded-lg border border-amber-300 bg-amber-50 p-4 text-sm text-amber-950 dark:border-amber-800 dark:bg-amber-950/40 dark:text-amber-100">
          <h2 id="unknown-h" className="font-semibold">
            Techniques the catalogue does not know
          </h2>
          <p className="mt-1">Tags of enabled rules name these ids; they are left out of the heatmap and the Navigator layer.</p>
          <ul className="mt-2 flex flex-wrap gap-2">
            {cov.unknownTechniques.map((u) => (
              <li key={u.id}>
                <Link to={`/detections/rules?technique=${encodeURIComponent(u.id)}`} className={cn("font-mono", linkClass)}>
                  {u.id}
                </Link>{" "}
                ({u.rules} {u.rules === 1 ? "rule" : "rules"})
              </li>
            ))}
          </ul>
        </section>
      )}

      <p className="text-xs text-slate-500 dark:text-slate-400">
        MITRE ATT&CK® content © The MITRE Corporation, reproduced with its permission. ATT&CK is a registered trademark
        of The MITRE Corporation.
      </p>
    </div>
  );
}

function Stat({ label, value, small = false }: { label: string; value: string | number; small?: boolean }) {
  return (
    <div className="rounded-lg border border-slate-200 p-3 dark:border-slate-800">
      <dt className="text-xs text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className={small ? "mt-1 text-sm font-medium" : "mt-1 text-xl font-semibold"}>{value}</dd>
    </div>
  );
}

function Legend() {
  return (
    <div className="flex flex-wrap items-center gap-x-3 gap-y-2 text-sm" role="group" aria-labelledby="legend-label">
      <span id="legend-label" className="font-medium">
        Enabled rules per technique:
      </span>
      <ul className="flex flex-wrap gap-1.5">
        {BUCKETS.map((b, i) => (
          <li
            key={bucketLabel(b)}
            className={cn("inline-flex h-7 min-w-10 items-center justify-center rounded border px-2 text-xs font-semibold", b.className, cellBorder(i))}
          >
            <span className="sr-only">{b.max === 0 ? "none: " : ""}</span>
            {bucketLabel(b)}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Heatmap({ columns, onPick }: { columns: HeatColumn[]; onPick: (id: string) => void }) {
  return (
    <div
      role="region"
      aria-label="Coverage heatmap, by tactic"
      tabIndex={0}
      className="-mx-1 overflow-x-auto px-1 pb-2 focus-visible:outline-2 focus-visible:outline-indigo-500"
    >
      <div className="flex flex-col gap-4 lg:flex-row lg:gap-2">
        {columns.map((col) => (
          <section
            key={col.tactic}
            aria-labelledby={`tactic-${col.tactic}`}
            className="min-w-0 lg:w-44 lg:shrink-0"
          >
            <h2 id={`tactic-${col.tactic}`} className="border-b-2 border-slate-300 pb-1 text-sm leading-5 font-semibold lg:flex lg:h-12 lg:items-end dark:border-slate-700">
              {col.name}
            </h2>
            <p className="mt-0.5 mb-2 text-xs text-slate-600 dark:text-slate-400">
              {col.cells.length} {col.cells.length === 1 ? "technique" : "techniques"}
              {col.tacticRules > 0 && ` · ${col.tacticRules} tagged ${col.tacticRules === 1 ? "rule" : "rules"}`}
            </p>
            {col.cells.length === 0 ? (
              <div
                className={cn("rounded border px-2 py-1.5 text-xs", BUCKETS[0]?.className, cellBorder(0))}
              >
                No covered technique
              </div>
            ) : (
              <ul className="grid grid-cols-1 gap-1 sm:grid-cols-2 lg:grid-cols-1">
                {col.cells.map((cell) => (
                  <li key={cell.id}>
                    <button
                      type="button"
                      onClick={() => onPick(cell.id)}
                      data-technique={cell.id.toUpperCase()}
                      aria-label={`${cell.id} ${cell.name ?? ""}: ${rulesPhrase(cell.count)}`.replace(/ {2,}/g, " ")}
                      className={cn(
                        "flex w-full items-start gap-2 rounded border px-2 py-1.5 text-left text-xs hover:ring-2 hover:ring-indigo-400 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500",
                        BUCKETS[cell.bucket]?.className,
                        cellBorder(cell.bucket),
                      )}
                    >
                      <span className="min-w-0 flex-1">
                        <span className="block font-mono font-semibold">{cell.id}</span>
                        <span className="block leading-tight break-words">{cell.name ?? "Unknown name"}</span>
                      </span>
                      <span aria-hidden className="shrink-0 rounded bg-black/10 px-1.5 font-semibold tabular-nums dark:bg-white/15">
                        {cell.count}
                      </span>
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </section>
        ))}
      </div>
    </div>
  );
}

function TechniqueDialog({ cov, id, onClose }: { cov: Coverage; id: string; onClose: () => void }) {
  // The technique last shown, for the focus return after `id` has been cleared.
  const [shown, setShown] = useState(id);
  if (id && id !== shown) setShown(id);
  const t = id ? findTechnique(cov, id) : undefined;
  const techniqueId = t?.id ?? id.toUpperCase();
  const levels = t ? Object.entries(t.levels).filter(([, n]) => n > 0) : [];
  return (
    <Dialog
      open={Boolean(id)}
      onOpenChange={(o) => {
        if (!o) onClose();
      }}
      // Back to the technique's cell when the dialog was opened by a link (or the cell is gone).
      returnFocus={() => (shown ? document.querySelector<HTMLElement>(`[data-technique="${CSS.escape(shown.toUpperCase())}"]`) : null)}
      title={t?.name ? `${techniqueId} ${t.name}` : techniqueId}
      description={t ? `${rulesPhrase(t.rules.length)} cover this technique.` : "No enabled rule covers this technique."}
      footer={
        <>
          <a href={techniqueUrl(techniqueId)} target="_blank" rel="noreferrer noopener" className={cn("mr-auto self-center text-sm", linkClass)}>
            {techniqueId} on attack.mitre.org
          </a>
          <ButtonLink variant="primary" to={`/detections/rules?technique=${encodeURIComponent(techniqueId)}`}>
            Show in the rules list
          </ButtonLink>
        </>
      }
    >
      {!t || t.rules.length === 0 ? (
        <p className="text-sm text-slate-600 dark:text-slate-300">
          Disabled rules do not count; the rules list shows every rule tagged with {techniqueId}.
        </p>
      ) : (
        <div className="space-y-4 text-sm">
          {(t.tactics.length > 0 || levels.length > 0) && (
            <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1.5">
              {t.tactics.length > 0 && (
                <>
                  <dt className="text-slate-500 dark:text-slate-400">Tactics</dt>
                  <dd>{t.tactics.join(", ")}</dd>
                </>
              )}
              {levels.length > 0 && (
                <>
                  <dt className="text-slate-500 dark:text-slate-400">Levels</dt>
                  <dd>{levels.map(([l, n]) => `${l} ${n}`).join(", ")}</dd>
                </>
              )}
              {t.logsources.length > 0 && (
                <>
                  <dt className="text-slate-500 dark:text-slate-400">Log sources</dt>
                  <dd className="font-mono text-xs break-all">{t.logsources.join(", ")}</dd>
                </>
              )}
            </dl>
          )}
          <ul aria-label={`Rules covering ${techniqueId}`} className="divide-y divide-slate-200 dark:divide-slate-800">
            {t.rules.map((r, i) => (
              <li key={`${r.id ?? r.title}-${i}`} className="flex flex-wrap items-center gap-2 py-2">
                {r.level ? <LevelBadge level={r.level} /> : <Badge>No level</Badge>}
                <span className="min-w-0 flex-1 font-medium break-words">
                  {r.id ? (
                    <Link to={`/detections/rules?q=${encodeURIComponent(r.id)}`} className={linkClass}>
                      {r.title}
                    </Link>
                  ) : (
                    r.title
                  )}
                </span>
                <span className="text-xs text-slate-500 dark:text-slate-400">
                  {r.status ?? "no status"} · <span className="font-mono">{r.logsource}</span>
                </span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </Dialog>
  );
}
