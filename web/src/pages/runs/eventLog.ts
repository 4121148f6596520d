/**
 * The run page's event log: every event of one run, in `seq` order, without duplicates. It is the data of the
 * TanStack query `["runs", id, "events"]` (see `useRunEvents`), fed by batches from the SSE stream.
 *
 * Batches may repeat events (a resume after a dropped connection, a refetch); anything at or below `lastSeq`
 * is ignored. The server sends events strictly in order within one stream and resumes after `Last-Event-ID`,
 * so a gap can only come from a server fault; the log keeps what it got, in order, rather than stalling.
 */
import { TERMINAL_KINDS, parseRunEvent, type RunEvent } from "../../api/runEvents";

export interface RunEventLog {
  /** Events, ascending `seq`, unique. */
  readonly events: readonly RunEvent[];
  /** Highest `seq` held (0: none). */
  readonly lastSeq: number;
  /** A terminal event (`finished`, `failed`, `cancelled`) is in the log. */
  readonly ended: boolean;
}

export const EMPTY_LOG: RunEventLog = { events: [], lastSeq: 0, ended: false };

/** The log with `batch` applied (the same object when nothing in it is new). */
export function appendEvents(log: RunEventLog, batch: readonly unknown[]): RunEventLog {
  const fresh: RunEvent[] = [];
  for (const raw of batch) {
    const e = parseRunEvent(raw);
    if (!e || typeof e.seq !== "number" || !Number.isFinite(e.seq) || e.seq <= log.lastSeq) continue;
    fresh.push(e);
  }
  if (fresh.length === 0) return log;
  fresh.sort((a, b) => a.seq - b.seq);
  const unique: RunEvent[] = [];
  let last = log.lastSeq;
  for (const e of fresh) {
    if (e.seq <= last) continue;
    unique.push(e);
    last = e.seq;
  }
  return {
    events: log.events.concat(unique),
    lastSeq: last,
    ended: log.ended || unique.some((e) => TERMINAL_KINDS.includes(e.type)),
  };
}
