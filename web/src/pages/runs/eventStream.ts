/**
 * A run's events over server-sent events (`GET /v1/runs/{id}/events`), as batches for the run page's query.
 *
 * The server replays the stored events after `Last-Event-ID` (0: all), then streams new ones while the run is
 * live (a pause for approval included), and closes the stream once the run has ended and every event was sent.
 * Events arrive in `seq` order; each SSE `id` is the event's `seq`.
 *
 * {@link runEventBatches} yields the events of each network read as one batch (a replay of 2,000 events becomes a
 * handful of cache updates, not 2,000). A dropped connection, a 5xx or an `error` event resumes after the last
 * event received, with exponential backoff; a 4xx (gone, not allowed) ends the stream with that problem.
 */
import { api, unwrap } from "../../api/client";
import { ApiProblem, problemFromThrown, toProblem } from "../../api/problem";
import { TERMINAL_KINDS } from "../../api/runEvents";
import { parseSseChunk } from "../../lib/sse";

/** Failed attempts in a row before the stream gives up and reports the problem. */
export const MAX_ATTEMPTS = 8;

export function backoffMs(attempt: number, jitter: number = Math.random()): number {
  return Math.min(15_000, 500 * 2 ** Math.min(attempt, 10)) + Math.floor(jitter * 250);
}

/** Run statuses after which nothing more happens. */
export function isLiveStatus(status: string | null | undefined): boolean {
  return status !== "finished" && status !== "failed" && status !== "cancelled";
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function streamProblem(detail: string): ApiProblem {
  return new ApiProblem({ type: "about:blank", title: "Stream failed", status: 502, detail, code: "stream_failed" });
}

interface ParsedBatch {
  events: unknown[];
  /** An SSE `error` event: the server's feed failed. */
  error: string | null;
}

/** Parses SSE messages into event payloads (exported for tests). */
export function payloadsOf(messages: { id?: string; event: string; data: string }[]): ParsedBatch {
  const events: unknown[] = [];
  let error: string | null = null;
  for (const m of messages) {
    if (m.event === "error") {
      error = m.data || "The event stream failed.";
      continue;
    }
    try {
      const payload = JSON.parse(m.data) as unknown;
      if (typeof payload === "object" && payload !== null) {
        const o = payload as Record<string, unknown>;
        // The SSE id is the sequence number; the payload carries it too.
        if (typeof o.seq !== "number" && m.id !== undefined) o.seq = Number(m.id);
        events.push(o);
      }
    } catch {
      // Not JSON: skip it.
    }
  }
  return { events, error };
}

async function* sseBatches(body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<ParsedBatch> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const cancel = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener("abort", cancel, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || signal.aborted) break;
      buffer += decoder.decode(value, { stream: true });
      const { events, rest } = parseSseChunk(buffer);
      buffer = rest;
      if (events.length > 0) yield payloadsOf(events);
    }
    if (!signal.aborted) {
      const { events } = parseSseChunk(buffer + decoder.decode() + "\n\n");
      if (events.length > 0) yield payloadsOf(events);
    }
  } finally {
    signal.removeEventListener("abort", cancel);
    reader.releaseLock();
  }
}

function seqOf(e: unknown): number {
  const s = (e as { seq?: unknown }).seq;
  return typeof s === "number" ? s : 0;
}

function isTerminal(e: unknown): boolean {
  const t = (e as { type?: unknown }).type;
  return typeof t === "string" && TERMINAL_KINDS.includes(t);
}

/**
 * The run's events after `after`, batch by batch, until the run has ended and all were delivered (or `signal`
 * aborts). Throws an {@link ApiProblem} on a 4xx, or after {@link MAX_ATTEMPTS} failed attempts in a row.
 */
export async function* runEventBatches(runId: string, after: number, signal: AbortSignal): AsyncGenerator<unknown[]> {
  let attempt = 0;
  let last = after;
  // A function, so the checks after each await are not narrowed away.
  const aborted = () => signal.aborted;
  for (;;) {
    if (aborted()) return;
    let terminal = false;
    try {
      const res = await api.GET("/v1/runs/{id}/events", {
        params: { path: { id: runId } },
        headers: { Accept: "text/event-stream", ...(last > 0 ? { "Last-Event-ID": String(last) } : {}) },
        parseAs: "stream",
        signal,
      });
      if (!res.response.ok || !res.data) throw toProblem(res.error, res.response);
      for await (const batch of sseBatches(res.data, signal)) {
        const fresh = batch.events.filter((e) => seqOf(e) > last);
        if (fresh.length > 0) {
          for (const e of fresh) last = Math.max(last, seqOf(e));
          terminal ||= fresh.some(isTerminal);
          attempt = 0;
          yield fresh;
        }
        if (batch.error !== null) throw streamProblem(batch.error);
      }
    } catch (e) {
      if (aborted()) return;
      const p = problemFromThrown(e);
      if (p.status >= 400 && p.status < 500) throw p;
      if (++attempt >= MAX_ATTEMPTS) throw p;
      await sleep(backoffMs(attempt - 1), signal);
      continue;
    }
    if (terminal || aborted()) return;
    // The stream closed without a terminal event: a dropped connection, or a run that ended without one.
    try {
      const run = await unwrap(api.GET("/v1/runs/{id}", { params: { path: { id: runId } }, signal }));
      if (!isLiveStatus(run.status)) return;
    } catch (e) {
      if (aborted()) return;
      const p = problemFromThrown(e);
      if (p.status >= 400 && p.status < 500) throw p;
      if (attempt + 1 >= MAX_ATTEMPTS) throw p;
    }
    await sleep(backoffMs(attempt++), signal);
  }
}
