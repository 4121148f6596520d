/**
 * Filters kept in the URL search params, so a filtered view can be shared and survives a reload. Empty values
 * are removed from the URL. Used by the detections, rules, coverage and audit pages; the writes replace the
 * history entry (a filter change is not a step back).
 *
 * ```ts
 * const [f, setF] = useUrlFilters(["status", "level"] as const);
 * setF({ status: "new" });   // ?status=new, other params kept
 * ```
 */
import { useCallback, useMemo } from "react";
import { useSearchParams } from "react-router";

/** `params` with `patch` applied (empty strings and `null` delete a key); a new object, `params` untouched. */
export function patchParams(params: URLSearchParams, patch: Record<string, string | null | undefined>): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (v === null || v.trim() === "") next.delete(k);
    else next.set(k, v);
  }
  return next;
}

/** The values of `keys` in `params` ("" when absent). */
export function readParams<K extends string>(params: URLSearchParams, keys: readonly K[]): Record<K, string> {
  const out = {} as Record<K, string>;
  for (const k of keys) out[k] = params.get(k) ?? "";
  return out;
}

export function useUrlFilters<K extends string>(keys: readonly K[]) {
  const [params, setParams] = useSearchParams();
  // Keyed on strings: `params` is a new object on every render, `keys` often a new array.
  const serialised = params.toString();
  const keyList = keys.join(",");
  const values = useMemo(
    () => readParams(new URLSearchParams(serialised), keyList.split(",") as K[]),
    [serialised, keyList],
  );
  const set = useCallback(
    (patch: Partial<Record<K, string | null>>) => {
      setParams((prev) => patchParams(prev, patch), { replace: true });
    },
    [setParams],
  );
  return [values, set] as const;
}
