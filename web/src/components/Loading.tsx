/** Loading indicators: `Spinner` (inline), `Skeleton` (placeholder blocks), `PageLoading` (a whole region). */
import { cn } from "../lib/cn";

export function Spinner({ className = "size-5", label }: { className?: string; label?: string }) {
  return (
    <svg
      className={cn("animate-spin", className)}
      viewBox="0 0 24 24"
      fill="none"
      role={label ? "status" : undefined}
      aria-label={label}
      aria-hidden={label ? undefined : true}
    >
      <circle cx="12" cy="12" r="9" stroke="currentColor" strokeOpacity="0.25" strokeWidth="3" />
      <path d="M21 12a9 9 0 0 0-9-9" stroke="currentColor" strokeWidth="3" strokeLinecap="round" />
    </svg>
  );
}

/** A grey placeholder block; size it with classes (`h-4 w-32`). */
export function Skeleton({ className }: { className?: string }) {
  return <div aria-hidden className={cn("animate-pulse rounded bg-slate-200 dark:bg-slate-800", className)} />;
}

/** `lines` skeleton rows, announced once as "Loading…". */
export function SkeletonList({ lines = 5, className }: { lines?: number; className?: string }) {
  return (
    <div className={cn("space-y-2", className)} role="status" aria-label="Loading">
      {Array.from({ length: lines }, (_, i) => (
        <Skeleton key={i} className="h-10 w-full" />
      ))}
    </div>
  );
}

export function PageLoading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="flex h-full min-h-40 items-center justify-center gap-2 text-slate-500" role="status">
      <Spinner />
      <span>{label}</span>
    </div>
  );
}
