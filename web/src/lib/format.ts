/** Small formatting helpers shared by the pages. All are pure and locale-aware where it matters. */

const nf = new Intl.NumberFormat(undefined);

export function formatNumber(n: number): string {
  return nf.format(n);
}

/** `1536` → `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i] ?? "TiB"}`;
}

/** US dollars with enough digits for per-turn model costs (`$0.0042`). */
export function formatCost(usd: number): string {
  if (usd === 0) return "$0";
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(2)}`;
}

/** `1234` ms → `1.2 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "3 minutes ago", "yesterday", "in 2 hours" for an ISO date or epoch ms, relative to `now`. */
export function formatRelative(date: string | number | Date, now: number = Date.now()): string {
  const t = new Date(date).getTime();
  if (Number.isNaN(t)) return "";
  const s = Math.round((t - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 45) return rtf.format(0, "second");
  if (abs < 45 * 60) return rtf.format(Math.round(s / 60), "minute");
  if (abs < 22 * 3600) return rtf.format(Math.round(s / 3600), "hour");
  if (abs < 26 * 86400) return rtf.format(Math.round(s / 86400), "day");
  if (abs < 320 * 86400) return rtf.format(Math.round(s / (30 * 86400)), "month");
  return rtf.format(Math.round(s / (365 * 86400)), "year");
}

export function formatDateTime(date: string | number | Date): string {
  return new Date(date).toLocaleString();
}
