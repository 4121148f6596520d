/**
 * `/detections/:detectionId`: one detection. The matched event, the rule with its authors (the Detection Rule
 * License asks that whoever shows a match shows the rule's author) and technique tags, the triage run, the
 * notes, and the workflow.
 */
import { useId, useState } from "react";
import { Link, useParams } from "react-router";
import {
  Badge,
  Button,
  ErrorState,
  Field,
  JsonView,
  MemberName,
  Page,
  PageHeader,
  ProblemMessage,
  RelativeTime,
  Skeleton,
  Textarea,
} from "../../components";
import { useMe } from "../../api/queries";
import { ApiProblem } from "../../api/problem";
import { usePermissions } from "../../lib/usePermissions";
import { LevelBadge, StatusBadge } from "./badges";
import { techniqueOfTag } from "./model";
import { useDetection, useRule, useUpdateDetection, type DetectionView, type RuleRef } from "./queries";
import { WorkflowActions } from "./WorkflowActions";

const linkClass =
  "text-indigo-700 hover:underline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:text-indigo-300";

const sectionClass = "rounded-lg border border-slate-200 p-4 dark:border-slate-800";

/** The event without the fields the server adds (`_matched`, `_correlation`), and those fields. */
function splitEvent(event: unknown): { event: unknown; matched: unknown; correlation: unknown } {
  if (typeof event !== "object" || event === null || Array.isArray(event)) return { event, matched: undefined, correlation: undefined };
  const { _matched: matched, _correlation: correlation, ...rest } = event as Record<string, unknown>;
  return { event: rest, matched, correlation };
}

export function DetectionDetailPage() {
  const { detectionId = "" } = useParams();
  const q = useDetection(detectionId);

  if (q.isPending) {
    return (
      <Page title="Detection">
        <div role="status" aria-label="Loading the detection" className="space-y-4">
          <Skeleton className="h-7 w-2/3" />
          <Skeleton className="h-40 w-full" />
        </div>
      </Page>
    );
  }
  if (q.error) {
    const notFound = q.error instanceof ApiProblem && (q.error.status === 404 || q.error.status === 400);
    return (
      <Page title="Detection">
        <BackLink />
        <ErrorState
          error={q.error}
          title={notFound ? "Detection not found" : "Cannot load the detection"}
          {...(notFound ? {} : { onRetry: () => void q.refetch() })}
        />
      </Page>
    );
  }
  return <DetectionDetail detection={q.data} />;
}

function BackLink() {
  return (
    <Link to="/detections" className={`mb-3 inline-block text-sm ${linkClass}`}>
      ← Detections
    </Link>
  );
}

function DetectionDetail({ detection: d }: { detection: DetectionView }) {
  const parts = splitEvent(d.event);
  return (
    <Page title={d.title}>
      <BackLink />
      <PageHeader
        title={d.title}
        description={
          <span className="flex flex-wrap items-center gap-2">
            <LevelBadge level={d.level} />
            <StatusBadge status={d.status} />
            <span>
              raised <RelativeTime date={d.created_at} />
            </span>
          </span>
        }
        actions={<WorkflowActions detection={d} size="md" />}
      />
      <div className="grid gap-6 lg:grid-cols-3">
        <div className="min-w-0 space-y-6 lg:col-span-2">
          <section aria-labelledby="event-h" className={sectionClass}>
            <h2 id="event-h" className="mb-2 text-base font-semibold">
              Matched event
            </h2>
            <JsonView value={parts.event} label="Matched event" defaultExpandDepth={3} className="max-h-[32rem]" />
          </section>
          {parts.matched !== undefined && (
            <section aria-labelledby="matched-h" className={sectionClass}>
              <h2 id="matched-h" className="mb-2 text-base font-semibold">
                Matched fields
              </h2>
              <JsonView value={parts.matched} label="Matched fields" />
            </section>
          )}
          {parts.correlation !== undefined && (
            <section aria-labelledby="correlation-h" className={sectionClass}>
              <h2 id="correlation-h" className="mb-2 text-base font-semibold">
                Correlation
              </h2>
              <JsonView value={parts.correlation} label="Correlation" />
            </section>
          )}
          <Notes detection={d} />
        </div>
        <div className="min-w-0 space-y-6">
          <Triage detection={d} />
          <RuleCard rule={d.rule ?? null} />
        </div>
      </div>
    </Page>
  );
}

function Triage({ detection: d }: { detection: DetectionView }) {
  const { can } = usePermissions();
  const me = useMe();
  const update = useUpdateDetection();
  const userId = me.data?.user_id ?? null;
  const mine = Boolean(userId && d.assignee_id === userId);
  return (
    <section aria-labelledby="triage-h" className={sectionClass}>
      <h2 id="triage-h" className="mb-3 text-base font-semibold">
        Triage
      </h2>
      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
        <dt className="text-slate-500 dark:text-slate-400">Status</dt>
        <dd>
          <StatusBadge status={d.status} />
        </dd>
        <dt className="text-slate-500 dark:text-slate-400">Assignee</dt>
        <dd className="break-all">
          {d.assignee_id ? <MemberName userId={d.assignee_id} /> : "Unassigned"}
        </dd>
        <dt className="text-slate-500 dark:text-slate-400">Triage run</dt>
        <dd>
          {d.run_id ? (
            <Link to={`/runs/${d.run_id}`} className={linkClass}>
              Open the triage run
            </Link>
          ) : (
            "None started"
          )}
        </dd>
        <dt className="text-slate-500 dark:text-slate-400">Updated</dt>
        <dd>
          <RelativeTime date={d.updated_at} />
        </dd>
      </dl>
      {can("detections_triage") && userId && (
        <div className="mt-3 flex flex-wrap gap-2">
          {!mine && (
            <Button
              size="sm"
              loading={update.isPending && Boolean(update.variables.assignee_id)}
              disabled={update.isPending}
              onClick={() => update.mutate({ id: d.id, version: d.version, assignee_id: userId })}
            >
              Assign to me
            </Button>
          )}
          {d.assignee_id && (
            <Button
              size="sm"
              loading={update.isPending && update.variables.unassign === true}
              disabled={update.isPending}
              onClick={() => update.mutate({ id: d.id, version: d.version, unassign: true })}
            >
              Unassign
            </Button>
          )}
        </div>
      )}
      {update.error && (
        <div className="mt-3">
          <ProblemMessage error={update.error} />
        </div>
      )}
    </section>
  );
}

function RuleCard({ rule }: { rule: RuleRef | null }) {
  const { can } = usePermissions();
  const [showYaml, setShowYaml] = useState(false);
  const yaml = useRule(rule?.id, showYaml && can("rules_read"));
  if (!rule) {
    return (
      <section aria-labelledby="rule-h" className={sectionClass}>
        <h2 id="rule-h" className="mb-2 text-base font-semibold">
          Rule
        </h2>
        <p className="text-sm text-slate-500 dark:text-slate-400">The rule that raised this detection has been deleted since.</p>
      </section>
    );
  }
  const techniques = rule.tags.map((t) => [t, techniqueOfTag(t)] as const);
  return (
    <section aria-labelledby="rule-h" className={sectionClass}>
      <h2 id="rule-h" className="mb-2 text-base font-semibold">
        Rule
      </h2>
      <p className="font-medium">{rule.title}</p>
      <dl className="mt-2 space-y-2 text-sm">
        <div>
          <dt className="text-slate-500 dark:text-slate-400">Author(s)</dt>
          <dd>{rule.author || "Not stated"}</dd>
        </div>
        <div>
          <dt className="text-slate-500 dark:text-slate-400">Sigma id</dt>
          <dd className="font-mono text-xs break-all">{rule.rule_uid}</dd>
        </div>
        <div>
          <dt className="text-slate-500 dark:text-slate-400">Tags</dt>
          <dd>
            {techniques.length === 0 ? (
              "None"
            ) : (
              <ul className="mt-1 flex flex-wrap gap-1.5" aria-label="Tags">
                {techniques.map(([tag, technique]) => (
                  <li key={tag}>
                    {technique ? (
                      <Link
                        to={`/coverage?technique=${encodeURIComponent(technique)}`}
                        className="inline-flex rounded-full bg-indigo-100 px-2 py-0.5 text-xs font-medium text-indigo-800 hover:underline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:bg-indigo-950 dark:text-indigo-300"
                        aria-label={`Technique ${technique} in the coverage`}
                      >
                        {technique}
                      </Link>
                    ) : (
                      <Badge>{tag}</Badge>
                    )}
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </div>
      </dl>
      <div className="mt-3 flex flex-col gap-1 text-sm">
        <Link to={`/detections?rule=${rule.id}`} className={linkClass}>
          Other detections of this rule
        </Link>
        {can("rules_read") && (
          <Link to={`/detections/rules?q=${encodeURIComponent(rule.rule_uid)}`} className={linkClass}>
            The rule in the rules list
          </Link>
        )}
      </div>
      {can("rules_read") && (
        <div className="mt-3">
          <Button size="sm" aria-expanded={showYaml} onClick={() => setShowYaml((s) => !s)}>
            {showYaml ? "Hide rule YAML" : "Show rule YAML"}
          </Button>
          {showYaml &&
            (yaml.isPending ? (
              <Skeleton className="mt-2 h-24 w-full" />
            ) : yaml.error ? (
              <div className="mt-2">
                <ErrorState compact error={yaml.error} onRetry={() => void yaml.refetch()} />
              </div>
            ) : (
              <pre
                className="mt-2 max-h-80 overflow-auto rounded-md border border-slate-200 bg-slate-50 p-2 font-mono text-xs dark:border-slate-800 dark:bg-slate-950"
                aria-label="Rule YAML"
                tabIndex={0}
              >
                {yaml.data.yaml}
              </pre>
            ))}
        </div>
      )}
    </section>
  );
}

function Notes({ detection: d }: { detection: DetectionView }) {
  const { can } = usePermissions();
  const update = useUpdateDetection();
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const headingId = useId();
  return (
    <section aria-labelledby={headingId} className={sectionClass}>
      <h2 id={headingId} className="mb-2 text-base font-semibold">
        Notes
      </h2>
      {d.notes.length === 0 ? (
        <p className="text-sm text-slate-500 dark:text-slate-400">No notes yet.</p>
      ) : (
        <ol className="space-y-3">
          {d.notes.map((n, i) => (
            <li key={`${n.at}-${i}`} className="border-l-2 border-slate-200 pl-3 dark:border-slate-700">
              <p className="text-xs text-slate-500 dark:text-slate-400">
                {n.author_id ? <MemberName userId={n.author_id} /> : "System"} ·{" "}
                <RelativeTime date={n.at} />
              </p>
              <p className="text-sm break-words whitespace-pre-wrap">{n.text}</p>
            </li>
          ))}
        </ol>
      )}
      {can("detections_triage") && (
        <form
          className="mt-4 space-y-2"
          onSubmit={(e) => {
            e.preventDefault();
            const note = text.trim();
            if (!note) {
              setError("Write a note first.");
              return;
            }
            setError(null);
            update.mutate({ id: d.id, version: d.version, note }, { onSuccess: () => setText("") });
          }}
        >
          <Field label="Add a note" error={error}>
            {(p) => <Textarea {...p} rows={3} value={text} onChange={(e) => setText(e.target.value)} />}
          </Field>
          {update.error && <ProblemMessage error={update.error} />}
          <div className="flex justify-end">
            <Button type="submit" loading={update.isPending}>
              Add note
            </Button>
          </div>
        </form>
      )}
    </section>
  );
}
