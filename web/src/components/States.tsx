/**
 * Empty and error states for pages and panels.
 *
 * `ErrorState` shows an {@link ApiProblem}'s `detail` and `code` (so users can report it) and an optional retry.
 */
import type { ReactNode } from "react";
import { ApiProblem, describeError } from "../api/problem";
import { Button } from "./Button";
import { Icon, type IconName } from "./Icon";

export function EmptyState({
  title,
  description,
  action,
  icon = "list",
}: {
  title: string;
  description?: ReactNode;
  action?: ReactNode;
  icon?: IconName;
}) {
  return (
    <div className="flex flex-col items-center justify-center gap-2 px-6 py-12 text-center">
      <Icon name={icon} className="size-8 text-slate-400" />
      <h2 className="text-base font-semibold">{title}</h2>
      {description && <p className="max-w-md text-sm text-slate-500 dark:text-slate-400">{description}</p>}
      {action && <div className="mt-2">{action}</div>}
    </div>
  );
}

export function ErrorState({
  error,
  title = "Something went wrong",
  onRetry,
  compact = false,
}: {
  error: unknown;
  title?: string;
  onRetry?: () => void;
  compact?: boolean;
}) {
  const code = error instanceof ApiProblem ? error.code : null;
  return (
    <div
      role="alert"
      className={
        compact
          ? "rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-800 dark:border-red-900 dark:bg-red-950/50 dark:text-red-200"
          : "mx-auto my-8 max-w-lg rounded-lg border border-red-200 bg-red-50 p-6 text-red-800 dark:border-red-900 dark:bg-red-950/50 dark:text-red-200"
      }
    >
      <div className="flex items-start gap-2">
        <Icon name="alert" className="mt-0.5 size-5 shrink-0" />
        <div className="min-w-0 flex-1">
          {!compact && <h2 className="font-semibold">{title}</h2>}
          <p className="break-words">{describeError(error)}</p>
          {code && <p className="mt-1 font-mono text-xs opacity-80">code: {code}</p>}
          {onRetry && (
            <Button size="sm" className="mt-3" icon="refresh" onClick={onRetry}>
              Try again
            </Button>
          )}
        </div>
      </div>
    </div>
  );
}

/** An inline problem for forms: detail plus code, announced when it appears. */
export function ProblemMessage({ error }: { error: unknown }) {
  if (!error) return null;
  return <ErrorState error={error} compact />;
}
