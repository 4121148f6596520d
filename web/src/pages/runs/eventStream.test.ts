import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";

/** Responses the stubbed `fetch` hands out, in order, and the requests it saw. */
const responses: ((req: Request) => Response)[] = [];
const requests: Request[] = [];

function sse(events: { seq: number; type: string }[], opts: { cut?: boolean } = {}): () => Response {
  return () => {
    const text = events.map((e) => `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify({ ...e, run_id: "r", at_ms: e.seq })}\n\n`).join("");
    const bytes = new TextEncoder().encode(text);
    // Two reads: the first half, then the rest (or a network failure).
    const half = Math.floor(bytes.length / 2);
    let reads = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        reads++;
        if (reads === 1) c.enqueue(bytes.slice(0, half));
        else if (opts.cut) c.error(new TypeError("network error"));
        else {
          c.enqueue(bytes.slice(half));
          c.close();
        }
      },
    });
    return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
  };
}

function json(status: number, body: unknown): () => Response {
  return () => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

let mod: typeof import("./eventStream");

beforeAll(async () => {
  vi.stubGlobal("fetch", (input: Request) => {
    requests.push(input);
    const next = responses.shift();
    if (!next) return Promise.reject(new TypeError("no response queued"));
    return Promise.resolve(next(input));
  });
  // The API client takes `fetch` when it is created: import it after stubbing.
  mod = await import("./eventStream");
});

afterEach(() => {
  responses.length = 0;
  requests.length = 0;
});

async function collect(gen: AsyncGenerator<unknown[]>): Promise<number[][]> {
  const out: number[][] = [];
  for await (const batch of gen) out.push(batch.map((e) => (e as { seq: number }).seq));
  return out;
}

const ev = (seq: number, type = "text_delta") => ({ seq, type });

describe("payloadsOf", () => {
  it("parses JSON payloads, takes seq from the SSE id when missing, and reports error events", () => {
    const r = mod.payloadsOf([
      { id: "4", event: "text_delta", data: '{"type":"text_delta","text":"x"}' },
      { event: "message", data: "not json" },
      { event: "error", data: "feed broke" },
    ]);
    expect(r.events).toEqual([{ type: "text_delta", text: "x", seq: 4 }]);
    expect(r.error).toBe("feed broke");
  });
});

describe("runEventBatches", () => {
  it("yields the events of each read as a batch and stops after the terminal event", async () => {
    responses.push(sse([ev(1, "run_started"), ev(2), ev(3), ev(4, "finished")]));
    const batches = await collect(mod.runEventBatches("r", 0, new AbortController().signal));
    expect(batches.flat()).toEqual([1, 2, 3, 4]);
    expect(batches.length).toBeGreaterThanOrEqual(1);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.headers.get("Last-Event-ID")).toBeNull();
    expect(requests[0]?.headers.get("Accept")).toBe("text/event-stream");
  });

  it("resumes after the last event received when the connection drops", async () => {
    // A server that replays after Last-Event-ID, as the real one does; the first connection breaks halfway.
    const after = (req: Request) => Number(req.headers.get("Last-Event-ID") ?? "0");
    const upTo10 = (req: Request) => [6, 7, 8, 9, 10].filter((n) => n > after(req)).map((n) => ev(n, n === 10 ? "cancelled" : "text_delta"));
    responses.push(
      (req) => sse(upTo10(req), { cut: true })(),
      (req) => sse(upTo10(req))(),
    );
    const batches = await collect(mod.runEventBatches("r", 5, new AbortController().signal));
    // Nothing twice, nothing lost.
    expect(batches.flat()).toEqual([6, 7, 8, 9, 10]);
    expect(requests[0]?.headers.get("Last-Event-ID")).toBe("5");
    expect(Number(requests[1]?.headers.get("Last-Event-ID"))).toBeGreaterThan(5);
  });

  it("ends without a terminal event once the run is found ended", async () => {
    responses.push(sse([]), json(200, { id: "r", status: "finished" }));
    expect(await collect(mod.runEventBatches("r", 12, new AbortController().signal))).toEqual([]);
    expect(requests.map((r) => new URL(r.url).pathname)).toEqual(["/v1/runs/r/events", "/v1/runs/r"]);
  });

  it("throws the problem of a 4xx at once", async () => {
    responses.push(json(404, { type: "about:blank", title: "Not found", status: 404, detail: "run not found", code: "not_found" }));
    await expect(collect(mod.runEventBatches("r", 0, new AbortController().signal))).rejects.toMatchObject({
      status: 404,
      code: "not_found",
      detail: "run not found",
    });
  });

  it("stops quietly when aborted", async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    expect(await collect(mod.runEventBatches("r", 0, ctrl.signal))).toEqual([]);
    expect(requests).toHaveLength(0);
  });
});

describe("backoffMs", () => {
  it("doubles from half a second up to 15 s, plus jitter", () => {
    expect(mod.backoffMs(0, 0)).toBe(500);
    expect(mod.backoffMs(3, 0)).toBe(4000);
    expect(mod.backoffMs(20, 0)).toBe(15_000);
    expect(mod.backoffMs(0, 0.999)).toBe(749);
  });
});
