import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useAuthStore } from "../../auth/store";
import { ChatConnection, WS_FAILURES_BEFORE_SSE, backoffMs, type ConnectionEvents, type ConnectionMode } from "./connection";

const CHAT = "01a23719-0000-7000-8000-0000000000c1";
const RUN = "01a23719-0000-7000-8000-0000000000r1";

/** A WebSocket double: records what the client sends; the test plays the server. */
class FakeSocket {
  static instances: FakeSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(
    public url: string,
    public protocols: string[],
  ) {
    FakeSocket.instances.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close() {
    this.readyState = 3;
  }
  // Server side:
  open() {
    this.readyState = 1;
    this.frame({ type: "ready", chat_id: CHAT });
  }
  frame(f: unknown) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  drop() {
    this.readyState = 3;
    this.onclose?.();
  }
}

function recorder() {
  const log = {
    modes: [] as ConnectionMode[],
    events: [] as { runId: string; seq: number; payload: unknown }[],
    started: [] as { runId: string; userText?: string }[],
    ended: [] as string[],
    problems: [] as string[],
  };
  const events: ConnectionEvents = {
    onMode: (m) => log.modes.push(m),
    onRunStarted: (runId, userText) => log.started.push({ runId, ...(userText !== undefined ? { userText } : {}) }),
    onRunEvent: (runId, seq, payload) => log.events.push({ runId, seq, payload }),
    onRunEnded: (runId) => log.ended.push(runId),
    onProblem: (p) => log.problems.push(p.code),
  };
  return { log, events };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

beforeEach(() => {
  FakeSocket.instances = [];
  vi.stubGlobal("window", {
    location: { href: "https://console.example/chat", origin: "https://console.example" },
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
  });
  useAuthStore.getState().setSession({
    accessToken: "tok.en.value",
    expiresAt: Date.now() + 600_000,
    organizationId: "org",
    role: "analyst",
  });
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("WebSocket transport", () => {
  it("passes the token as a subprotocol and sends messages as frames", async () => {
    const { log, events } = recorder();
    const conn = new ChatConnection(CHAT, events, { lastSeq: () => 0, WebSocketImpl: FakeSocket as unknown as typeof WebSocket });
    conn.start();
    await flush();
    const ws = FakeSocket.instances[0];
    if (!ws) throw new Error("no socket");
    expect(ws.url).toBe(`wss://console.example/v1/chats/${CHAT}/ws`);
    expect(ws.protocols).toEqual(["secops.v1", "bearer.tok.en.value"]);
    ws.open();
    expect(conn.getMode()).toBe("websocket");

    const sent = conn.sendMessage("Is it phishing?", ["att-1"]);
    expect(ws.sent).toEqual([{ type: "message", text: "Is it phishing?", attachment_ids: ["att-1"] }]);
    ws.frame({ type: "run_started", run_id: RUN, message_id: "m1" });
    await expect(sent).resolves.toBe(RUN);
    expect(log.started).toEqual([{ runId: RUN, userText: "Is it phishing?" }]);

    ws.frame({ type: "run_event", run_id: RUN, seq: 1, kind: "run_started", event: { type: "run_started", seq: 1 } });
    ws.frame({ type: "run_ended", run_id: RUN });
    expect(log.events).toEqual([{ runId: RUN, seq: 1, payload: { type: "run_started", seq: 1 } }]);
    expect(log.ended).toEqual([RUN]);
    conn.stop();
  });

  it("rejects a send answered by an error frame with the server's problem", async () => {
    const { events } = recorder();
    const conn = new ChatConnection(CHAT, events, { lastSeq: () => 0, WebSocketImpl: FakeSocket as unknown as typeof WebSocket });
    conn.start();
    await flush();
    const ws = FakeSocket.instances[0];
    ws?.open();
    const sent = conn.sendMessage("hi");
    ws?.frame({ type: "error", code: "model_provider_unavailable", status: 503, detail: "no model is configured" });
    await expect(sent).rejects.toMatchObject({ code: "model_provider_unavailable", status: 503, detail: "no model is configured" });
    conn.stop();
  });

  it("reconnects with backoff and follows live runs after the last applied seq", async () => {
    vi.useFakeTimers();
    const { log, events } = recorder();
    let applied = 0;
    const conn = new ChatConnection(CHAT, events, { lastSeq: () => applied, WebSocketImpl: FakeSocket as unknown as typeof WebSocket });
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    const first = FakeSocket.instances[0];
    first?.open();
    const sent = conn.sendMessage("go");
    first?.frame({ type: "run_started", run_id: RUN, message_id: "m1" });
    await sent;
    first?.frame({ type: "run_event", run_id: RUN, seq: 1, event: { type: "run_started" } });
    first?.frame({ type: "run_event", run_id: RUN, seq: 2, event: { type: "text_delta", text: "a" } });
    applied = 2;
    first?.drop();
    expect(conn.getMode()).toBe("reconnecting");
    expect(FakeSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(backoffMs(0, 1));
    const second = FakeSocket.instances[1];
    if (!second) throw new Error("did not reconnect");
    second.open();
    expect(second.sent).toEqual([{ type: "follow", run_id: RUN, after: 2 }]);
    expect(log.modes).toEqual(["websocket", "reconnecting", "websocket"]);
    conn.stop();
  });

  it("re-follows a run whose feed failed instead of ending it", async () => {
    vi.useFakeTimers();
    const { log, events } = recorder();
    const conn = new ChatConnection(CHAT, events, { lastSeq: () => 7, WebSocketImpl: FakeSocket as unknown as typeof WebSocket });
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = FakeSocket.instances[0];
    ws?.open();
    conn.follow(RUN);
    expect(ws?.sent).toEqual([{ type: "follow", run_id: RUN, after: 7 }]);
    ws?.frame({ type: "error", code: "stream_failed", status: 500, detail: "db", run_id: RUN });
    ws?.frame({ type: "run_ended", run_id: RUN });
    expect(log.ended).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(ws?.sent).toEqual([
      { type: "follow", run_id: RUN, after: 7 },
      { type: "follow", run_id: RUN, after: 7 },
    ]);
    conn.stop();
  });
});

function sseResponse(text: string): Response {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode(text));
      c.close();
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
}

describe("SSE fallback", () => {
  it("falls back after the socket never opens, then streams a message over HTTP", async () => {
    vi.useFakeTimers();
    const requests: Request[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn((req: Request) => {
        requests.push(req);
        return Promise.resolve(
          sseResponse(
            `id: 1\nevent: run_started\ndata: {"type":"run_started","seq":1,"run_id":"${RUN}","mode":"single_step"}\n\n` +
              `: keep-alive\n\n` +
              `id: 2\nevent: text_delta\ndata: {"type":"text_delta","seq":2,"run_id":"${RUN}","text":"hello"}\n\n` +
              `id: 3\nevent: finished\ndata: {"type":"finished","seq":3,"run_id":"${RUN}","output":{"text":"hello","citations":[],"stop_reason":"completed"}}\n\n`,
          ),
        );
      }),
    );
    const { log, events } = recorder();
    const conn = new ChatConnection(CHAT, events, { lastSeq: () => 0, WebSocketImpl: FakeSocket as unknown as typeof WebSocket });
    conn.start();
    for (let i = 0; i < WS_FAILURES_BEFORE_SSE; i++) {
      await vi.advanceTimersByTimeAsync(20_000);
      FakeSocket.instances[i]?.drop();
    }
    expect(conn.getMode()).toBe("sse");

    vi.useRealTimers();
    await expect(conn.sendMessage("hello?")).resolves.toBe(RUN);
    await vi.waitFor(() => expect(log.ended).toEqual([RUN]));
    const req = requests[0];
    expect(req?.method).toBe("POST");
    expect(new URL(req?.url ?? "").pathname).toBe(`/v1/chats/${CHAT}/messages`);
    expect(req?.headers.get("accept")).toBe("text/event-stream");
    expect(req?.headers.get("authorization")).toBe("Bearer tok.en.value");
    expect(log.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(log.started).toEqual([{ runId: RUN, userText: "hello?" }]);
    conn.stop();
  });

  it("resumes a dropped SSE stream with Last-Event-ID", async () => {
    const requests: Request[] = [];
    let call = 0;
    vi.stubGlobal(
      "fetch",
      vi.fn((req: Request) => {
        requests.push(req);
        call++;
        return Promise.resolve(
          call === 1
            ? sseResponse(`id: 4\nevent: text_delta\ndata: {"type":"text_delta","seq":4,"run_id":"${RUN}","text":"a"}\n\n`)
            : sseResponse(`id: 5\nevent: cancelled\ndata: {"type":"cancelled","seq":5,"run_id":"${RUN}","output":{"text":"","citations":[],"stop_reason":"cancelled"}}\n\n`),
        );
      }),
    );
    const { log, events } = recorder();
    let applied = 3;
    const conn = new ChatConnection(CHAT, events, {
      lastSeq: () => applied,
      forceSse: true,
    });
    const origRunEvent = events.onRunEvent;
    events.onRunEvent = (r, s, p) => {
      applied = s;
      origRunEvent(r, s, p);
    };
    conn.start();
    conn.follow(RUN);
    await vi.waitFor(() => expect(log.ended).toEqual([RUN]), { timeout: 3_000 });
    expect(requests.map((r) => r.headers.get("last-event-id"))).toEqual(["3", "4"]);
    expect(new URL(requests[0]?.url ?? "").pathname).toBe(`/v1/runs/${RUN}/events`);
    conn.stop();
  });
});
