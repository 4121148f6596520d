/**
 * The states of a cursor-paged list (a TanStack `useInfiniteQuery` result), so every list handles them alike:
 *
 * - the first page loading: skeleton rows;
 * - the first page failed (nothing to show): the error, with "Try again";
 * - otherwise `children` (the table or list, which shows its own empty state), then "Load more"
 *   ({@link LoadMore}, with the error of a failed next page); a failed background refresh shows a compact
 *   error above the rows it kept.
 *
 * ```tsx
 * <PagedList query={q} count={rows.length} errorTitle="Cannot load the triggers" what="triggers">
 *   <Table rows={rows} ... empty={<EmptyState title="No triggers" />} />
 * </PagedList>
 * ```
 */
import type { ReactNode } from "react";
import { LoadMore, type NextPageQuery } from "./LoadMore";
import { SkeletonList } from "./Loading";
import { ErrorState } from "./States";

export interface PagedQuery extends NextPageQuery {
  isPending: boolean;
  isError: boolean;
  refetch: () => unknown;
}

export function PagedList({
  query,
  count,
  children,
  errorTitle,
  lines = 4,
  skeletonClassName,
  what,
  loadMoreClassName,
}: {
  query: PagedQuery;
  /** How many items are loaded (0 with a failed first page shows the error instead of `children`). */
  count: number;
  children: ReactNode;
  errorTitle?: string;
  /** Skeleton rows while the first page loads. */
  lines?: number;
  skeletonClassName?: string;
  /** Names the items on the button: "Load more <what>". */
  what?: string;
  loadMoreClassName?: string;
}) {
  if (query.isPending) return <SkeletonList lines={lines} {...(skeletonClassName ? { className: skeletonClassName } : {})} />;
  if (query.isError && count === 0) {
    return <ErrorState error={query.error} {...(errorTitle ? { title: errorTitle } : {})} onRetry={() => void query.refetch()} />;
  }
  return (
    <>
      {query.isError && !query.isFetchNextPageError && <ErrorState compact error={query.error} onRetry={() => void query.refetch()} />}
      {children}
      <LoadMore query={query} {...(what ? { what } : {})} {...(loadMoreClassName ? { className: loadMoreClassName } : {})} />
    </>
  );
}
