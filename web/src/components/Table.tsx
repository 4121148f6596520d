/**
 * A data table with typed columns. Rows can be links (`rowHref`) or actions (`onRowClick`); either way the
 * row is reachable by keyboard. Shows `empty` when there are no rows.
 *
 * ```tsx
 * <Table rows={page.items} rowKey={(r) => r.id} caption="Agents"
 *   columns={[{ key: "name", header: "Name", cell: (r) => r.name },
 *             { key: "created", header: "Created", cell: (r) => <RelativeTime date={r.created_at} /> }]} />
 * ```
 * For thousands of rows use {@link VirtualList} instead.
 */
import type { ReactNode } from "react";
import { useNavigate } from "react-router";
import { cn } from "../lib/cn";

export interface Column<T> {
  key: string;
  header: ReactNode;
  cell: (row: T) => ReactNode;
  className?: string;
  /** Hide this column below the `md` breakpoint. */
  hideOnMobile?: boolean;
}

export function Table<T>({
  rows,
  columns,
  rowKey,
  caption,
  rowHref,
  onRowClick,
  empty,
  className,
}: {
  rows: readonly T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  /** Accessible caption (visually hidden). */
  caption: string;
  rowHref?: (row: T) => string;
  onRowClick?: (row: T) => void;
  empty?: ReactNode;
  className?: string;
}) {
  const navigate = useNavigate();
  if (rows.length === 0 && empty) return <>{empty}</>;
  const activate = (row: T) => {
    if (rowHref) void navigate(rowHref(row));
    else onRowClick?.(row);
  };
  const interactive = Boolean(rowHref ?? onRowClick);
  return (
    <div className={cn("overflow-x-auto rounded-lg border border-slate-200 dark:border-slate-800", className)}>
      <table className="min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800">
        <caption className="sr-only">{caption}</caption>
        <thead className="bg-slate-50 dark:bg-slate-900">
          <tr>
            {columns.map((c) => (
              <th
                key={c.key}
                scope="col"
                className={cn(
                  "px-3 py-2 text-left text-xs font-semibold tracking-wide text-slate-600 uppercase dark:text-slate-400",
                  c.hideOnMobile && "hidden md:table-cell",
                  c.className,
                )}
              >
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
          {rows.map((row) => (
            <tr
              key={rowKey(row)}
              tabIndex={interactive ? 0 : undefined}
              onClick={interactive ? () => activate(row) : undefined}
              onKeyDown={
                interactive
                  ? (e) => {
                      if (e.key === "Enter" || e.key === " ") {
                        e.preventDefault();
                        activate(row);
                      }
                    }
                  : undefined
              }
              className={cn(
                interactive &&
                  "cursor-pointer hover:bg-slate-50 focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-indigo-500 dark:hover:bg-slate-900",
              )}
            >
              {columns.map((c) => (
                <td key={c.key} className={cn("px-3 py-2 align-top", c.hideOnMobile && "hidden md:table-cell", c.className)}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
