/**
 * Collapsible, pretty-printed JSON. Objects and arrays fold with a keyboard-accessible toggle; nodes deeper
 * than `defaultExpandDepth` start folded. `value` may be any JSON value; for a string that holds JSON, use
 * {@link parseMaybeJson} first (tool results arrive as text).
 *
 * ```tsx
 * <JsonView value={call.input} />
 * <JsonView value={parseMaybeJson(result)} defaultExpandDepth={1} />
 * ```
 */
import { useState } from "react";
import { cn } from "../lib/cn";
import { Icon } from "./Icon";


function Scalar({ value }: { value: unknown }) {
  if (value === null) return <span className="text-slate-500">null</span>;
  switch (typeof value) {
    case "string":
      return <span className="break-all whitespace-pre-wrap text-emerald-700 dark:text-emerald-400">{JSON.stringify(value)}</span>;
    case "number":
    case "bigint":
      return <span className="text-sky-700 dark:text-sky-400">{String(value)}</span>;
    case "boolean":
      return <span className="text-amber-700 dark:text-amber-400">{String(value)}</span>;
    default:
      return <span className="text-slate-500">{value === undefined ? "undefined" : JSON.stringify(value)}</span>;
  }
}

function Node({ name, value, depth, open: openDepth }: { name?: string; value: unknown; depth: number; open: number }) {
  const isArray = Array.isArray(value);
  const isObject = typeof value === "object" && value !== null;
  const [open, setOpen] = useState(depth < openDepth);
  const label = name !== undefined && <span className="text-violet-700 dark:text-violet-300">{JSON.stringify(name)}: </span>;
  if (!isObject) {
    return (
      <div className="pl-4">
        {label}
        <Scalar value={value} />
      </div>
    );
  }
  const entries: [string, unknown][] = isArray
    ? (value as unknown[]).map((v, i) => [String(i), v])
    : Object.entries(value as Record<string, unknown>);
  const [openB, closeB] = isArray ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) {
    return (
      <div className="pl-4">
        {label}
        {openB}
        {closeB}
      </div>
    );
  }
  return (
    <div className={depth > 0 ? "pl-4" : undefined}>
      <button
        type="button"
        className="-ml-4 inline-flex items-center rounded text-left focus-visible:outline-2 focus-visible:outline-indigo-500"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
      >
        <Icon name={open ? "chevronDown" : "chevronRight"} className="size-3.5 text-slate-400" />
        <span>
          {label}
          {openB}
          {!open && (
            <span className="text-slate-500">
              {" "}
              {entries.length} {isArray ? (entries.length === 1 ? "item" : "items") : entries.length === 1 ? "key" : "keys"} {closeB}
            </span>
          )}
        </span>
      </button>
      {open && (
        <>
          {entries.map(([k, v]) => (
            <Node key={k} name={isArray ? undefined : k} value={v} depth={depth + 1} open={openDepth} />
          ))}
          <div>{closeB}</div>
        </>
      )}
    </div>
  );
}

export function JsonView({
  value,
  defaultExpandDepth = 2,
  className,
  label,
}: {
  value: unknown;
  defaultExpandDepth?: number;
  className?: string;
  /** Accessible name of the region, e.g. "Arguments". */
  label?: string;
}) {
  const [copied, setCopied] = useState(false);
  const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  return (
    <div
      role="group"
      aria-label={label}
      className={cn(
        "relative max-h-96 overflow-auto rounded-md border border-slate-200 bg-slate-50 p-2 pl-5 font-mono text-xs leading-5 dark:border-slate-800 dark:bg-slate-950",
        className,
      )}
    >
      <button
        type="button"
        className="absolute top-1 right-1 rounded px-1.5 py-0.5 text-[11px] text-slate-600 hover:bg-slate-200 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-slate-300 dark:hover:bg-slate-800"
        onClick={() => {
          void navigator.clipboard.writeText(text).then(() => {
            setCopied(true);
            setTimeout(() => setCopied(false), 1500);
          });
        }}
      >
        {copied ? "Copied" : "Copy"}
      </button>
      {typeof value === "string" ? (
        <pre className="-ml-3 break-words whitespace-pre-wrap">{value}</pre>
      ) : (
        <div className="-ml-4">
          <Node value={value} depth={0} open={defaultExpandDepth} />
        </div>
      )}
    </div>
  );
}
