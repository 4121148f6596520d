/**
 * A 409 `version_conflict` (see `isVersionConflict` in `api/problem.ts`): someone else changed the thing since
 * it was read. Says so and offers to reload, which discards the local edits.
 *
 * ```tsx
 * {isVersionConflict(m.error) && <ConflictNotice what="this configuration" onReload={reload} reloading={q.isFetching} />}
 * ```
 */
import { Button } from "./Button";

export function ConflictNotice({ what, onReload, reloading }: { what: string; onReload: () => void; reloading?: boolean }) {
  return (
    <div
      role="alert"
      className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200"
    >
      <p className="font-medium">Someone else changed {what} since you opened it.</p>
      <p className="mt-1">Reload to see their version, then make your change again. Reloading discards what you entered here.</p>
      <Button size="sm" className="mt-2" icon="refresh" loading={reloading === true} onClick={onReload}>
        Reload
      </Button>
    </div>
  );
}
