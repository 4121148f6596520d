/**
 * A virtualised vertical list (`@tanstack/react-virtual`) for long, variable-height lists. Items are measured
 * after render, so heights need not be known. When `hasMore`, reaching the end calls `onEndReached` (for
 * infinite queries).
 *
 * ```tsx
 * <VirtualList items={chats} estimateSize={56} getKey={(c) => c.id} label="Chats"
 *   hasMore={q.hasNextPage} onEndReached={() => void q.fetchNextPage()}
 *   renderItem={(c) => <ChatRow chat={c} />} />
 * ```
 */
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, type ReactNode } from "react";
import { cn } from "../lib/cn";

export function VirtualList<T>({
  items,
  renderItem,
  getKey,
  estimateSize = 48,
  overscan = 8,
  hasMore = false,
  onEndReached,
  label,
  className,
  footer,
}: {
  items: readonly T[];
  renderItem: (item: T, index: number) => ReactNode;
  getKey: (item: T, index: number) => string;
  estimateSize?: number;
  overscan?: number;
  hasMore?: boolean;
  onEndReached?: () => void;
  label: string;
  className?: string;
  footer?: ReactNode;
}) {
  const parentRef = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer is designed to be called each render
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => parentRef.current,
    estimateSize: () => estimateSize,
    overscan,
    getItemKey: (i) => {
      const item = items[i];
      return item === undefined ? i : getKey(item, i);
    },
  });
  const virtualItems = virtualizer.getVirtualItems();
  const last = virtualItems[virtualItems.length - 1];
  useEffect(() => {
    if (hasMore && onEndReached && last && last.index >= items.length - 5) onEndReached();
  }, [hasMore, onEndReached, last, items.length]);

  return (
    <div ref={parentRef} className={cn("overflow-y-auto", className)}>
      {/* The list role is on the rows' own container, so a footer (a "loading more" status) is not a list child. */}
      <div role="list" aria-label={label} style={{ height: virtualizer.getTotalSize(), position: "relative", width: "100%" }}>
        {virtualItems.map((v) => {
          const item = items[v.index];
          if (item === undefined) return null;
          return (
            <div
              key={v.key}
              role="listitem"
              data-index={v.index}
              ref={virtualizer.measureElement}
              style={{ position: "absolute", top: 0, left: 0, width: "100%", transform: `translateY(${v.start}px)` }}
            >
              {renderItem(item, v.index)}
            </div>
          );
        })}
      </div>
      {footer}
    </div>
  );
}
