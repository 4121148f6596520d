/**
 * "Load more" under a cursor-paged list (a TanStack `useInfiniteQuery` result), and the error of a failed next
 * page (the button stays, so pressing it again retries). Renders nothing when there is no next page and no
 * error.
 *
 * ```tsx
 * const q = useInfiniteQuery(...);
 * <LoadMore query={q} />                  // "Load more"
 * <LoadMore query={q} what="members" />   // "Load more members"
 * ```
 */
import { cn } from "../lib/cn";
import { Button } from "./Button";
import { ErrorState } from "./States";

/** The parts of an infinite query that paging needs. */
export interface NextPageQuery {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  isFetchNextPageError: boolean;
  error: unknown;
  fetchNextPage: () => unknown;
}

export function LoadMore({ query, what, className }: { query: NextPageQuery; what?: string; className?: string }) {
  if (!query.hasNextPage && !query.isFetchNextPageError) return null;
  return (
    <div className={cn("space-y-2", className)}>
      {query.isFetchNextPageError && <ErrorState error={query.error} compact />}
      {query.hasNextPage && (
        <div className="flex justify-center">
          <Button loading={query.isFetchingNextPage} onClick={() => void query.fetchNextPage()}>
            {what ? `Load more ${what}` : "Load more"}
          </Button>
        </div>
      )}
    </div>
  );
}
