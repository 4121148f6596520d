/** "5 minutes ago", kept current (every 30 s), with the exact time as tooltip and machine-readable `dateTime`. */
import { useEffect, useState } from "react";
import { formatDateTime, formatRelative } from "../lib/format";

export function RelativeTime({ date, className }: { date: string | number | Date; className?: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(t);
  }, []);
  const d = new Date(date);
  if (Number.isNaN(d.getTime())) return null;
  return (
    <time dateTime={d.toISOString()} title={formatDateTime(d)} className={className}>
      {formatRelative(d, now)}
    </time>
  );
}
