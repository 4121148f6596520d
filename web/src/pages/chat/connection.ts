/**
 * The chat's live connection: the WebSocket `GET /v1/chats/{id}/ws`, with server-sent events as the fallback.
 *
 * **WebSocket.** Browsers cannot set headers on a WebSocket, so the access token travels as the subprotocol
 * `bearer.<token>` next to `secops.v1` (the one the server selects); see `secops-server/src/extract.rs`.
 * Frames are JSON: we send `message` and `follow`; we receive `ready`, `run_started`, `run_event`,
 * `run_ended`, `ack` and `error` (`secops-server/src/chats/ws.rs`). A dropped socket reconnects with
 * exponential backoff (0.5 s doubling to 15 s, plus jitter) and, once `ready`, sends
 * `follow {run_id, after: lastSeq}` for every run still live, where `lastSeq` is the reducer's last applied
 * sequence number, so streaming resumes without duplicates (and the reducer drops any that do come).
 *
 * **SSE fallback.** When the socket never opens (twice in a row; e.g. a proxy without upgrade support), or when
 * a message is sent while the socket is down, the message goes as `POST /v1/chats/{id}/messages` with
 * `Accept: text/event-stream`, and runs are followed with `GET /v1/runs/{id}/events` and `Last-Event-ID`.
 *
 * Approvals and cancellation use their HTTP routes (see `useChatSession`), whose answers say which request
 * failed; WebSocket `error` frames do not name the frame they answer.
 */
import { api } from "../../api/client";
import { ApiProblem, problemFromThrown, toProblem } from "../../api/problem";
import { freshAccessToken } from "../../auth/tokens";
import { readSse } from "../../lib/sse";
import { isTerminalPayload } from "./streamReducer";

export type ConnectionMode =
  /** Opening the socket. */
  | "connecting"
  /** The socket is open and `ready`. */
  | "websocket"
  /** The socket dropped; trying again. */
  | "reconnecting"
  /** No socket: messages and events go over HTTP with server-sent events. */
  | "sse"
  /** Stopped, or no session. */
  | "closed";

export interface ConnectionEvents {
  onMode: (mode: ConnectionMode) => void;
  onRunStarted: (runId: string, userText?: string) => void;
  onRunEvent: (runId: string, seq: number, payload: unknown) => void;
  /** Every event of the run was delivered. */
  onRunEnded: (runId: string) => void;
  onProblem: (problem: ApiProblem) => void;
}

export interface ConnectionOptions {
  /** The last sequence number applied for a run (0: none), to resume after. */
  lastSeq: (runId: string) => number;
  /** The WebSocket constructor (tests). */
  WebSocketImpl?: typeof WebSocket;
  /** Skip the WebSocket. */
  forceSse?: boolean;
}

/** Failed opens in a row, with no socket ever ready, before falling back to SSE. */
export const WS_FAILURES_BEFORE_SSE = 2;

export function backoffMs(attempt: number, jitter: number = Math.random()): number {
  return Math.min(15_000, 500 * 2 ** Math.min(attempt, 10)) + Math.floor(jitter * 250);
}

interface PendingSend {
  text: string;
  resolve: (runId: string) => void;
  reject: (p: ApiProblem) => void;
}

type Frame = Record<string, unknown> & { type?: unknown };

function problem(code: string, detail: string, status = 0): ApiProblem {
  return new ApiProblem({ type: "about:blank", title: code, status, detail, code });
}

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

export class ChatConnection {
  private ws: WebSocket | null = null;
  private mode: ConnectionMode = "connecting";
  private stopped = false;
  private everReady = false;
  private failures = 0;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Runs to follow until they end (resumed after a reconnect). */
  private readonly live = new Set<string>();
  /** Runs whose WebSocket feed failed: re-follow instead of ending on `run_ended`. */
  private readonly failedFeeds = new Set<string>();
  private readonly pending: PendingSend[] = [];
  /** Runs streamed over SSE right now. */
  private readonly sse = new Map<string, AbortController>();
  private readonly onOnline = () => {
    if (this.mode === "reconnecting") {
      clearTimeout(this.timer);
      void this.openSocket();
    }
  };

  constructor(
    private readonly chatId: string,
    private readonly events: ConnectionEvents,
    private readonly opts: ConnectionOptions,
  ) {}

  start(): void {
    if (typeof window !== "undefined") window.addEventListener("online", this.onOnline);
    if (this.opts.forceSse || (!this.opts.WebSocketImpl && typeof WebSocket === "undefined")) this.setMode("sse");
    else void this.openSocket();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    if (typeof window !== "undefined") window.removeEventListener("online", this.onOnline);
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, "bye");
    for (const c of this.sse.values()) c.abort();
    this.sse.clear();
    for (const p of this.pending.splice(0)) p.reject(problem("aborted", "The chat was closed."));
    this.setMode("closed");
  }

  getMode(): ConnectionMode {
    return this.mode;
  }

  /** Follow a run's events (from after the reducer's last applied one) until it ends. */
  follow(runId: string): void {
    if (this.stopped) return;
    this.live.add(runId);
    if (this.socketReady()) this.sendFollow(runId);
    else if (this.mode === "sse") void this.followSse(runId, 0);
    // Otherwise: sent once the socket is ready.
  }

  /** Send a user message; resolves with the id of the run that answers it. */
  sendMessage(text: string, attachmentIds: string[] = []): Promise<string> {
    if (this.stopped) return Promise.reject(problem("aborted", "The chat was closed."));
    const ws = this.ws;
    if (ws && this.socketReady()) {
      return new Promise((resolve, reject) => {
        this.pending.push({ text, resolve, reject });
        ws.send(JSON.stringify({ type: "message", text, attachment_ids: attachmentIds }));
      });
    }
    return this.sendSse(text, attachmentIds);
  }

  private setMode(mode: ConnectionMode): void {
    if (this.mode === mode) return;
    this.mode = mode;
    this.events.onMode(mode);
  }

  private socketReady(): boolean {
    return this.mode === "websocket" && this.ws?.readyState === 1;
  }

  private sendFollow(runId: string): void {
    if (this.sse.has(runId)) return;
    this.ws?.send(JSON.stringify({ type: "follow", run_id: runId, after: this.opts.lastSeq(runId) }));
  }

  private async openSocket(): Promise<void> {
    if (this.stopped) return;
    const token = await freshAccessToken();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() may have run during the await
    if (this.stopped) return;
    if (!token) {
      this.events.onProblem(problem("unauthorized", "Your session ended. Please sign in again.", 401));
      this.setMode("closed");
      return;
    }
    const url = new URL(`/v1/chats/${encodeURIComponent(this.chatId)}/ws`, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const Impl = this.opts.WebSocketImpl ?? WebSocket;
    let ws: WebSocket;
    try {
      ws = new Impl(url.toString(), ["secops.v1", `bearer.${token}`]);
    } catch {
      this.socketClosed(false);
      return;
    }
    this.ws = ws;
    let ready = false;
    ws.onmessage = (m: MessageEvent) => {
      if (this.ws !== ws || typeof m.data !== "string") return;
      let frame: Frame;
      try {
        frame = JSON.parse(m.data) as Frame;
      } catch {
        return;
      }
      if (frame.type === "ready") {
        ready = true;
        this.everReady = true;
        this.failures = 0;
        this.attempt = 0;
        this.setMode("websocket");
        for (const runId of this.live) this.sendFollow(runId);
        return;
      }
      this.onFrame(frame);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.socketClosed(ready);
    };
    ws.onerror = () => {
      // A close event follows.
    };
  }

  private socketClosed(wasReady: boolean): void {
    for (const p of this.pending.splice(0)) {
      p.reject(problem("connection_lost", "The connection dropped before the server confirmed the message. Check the chat, then send it again if it is missing."));
    }
    if (this.stopped) return;
    if (!wasReady) this.failures++;
    if (!this.everReady && this.failures >= WS_FAILURES_BEFORE_SSE) {
      this.setMode("sse");
      for (const runId of this.live) void this.followSse(runId, 0);
      return;
    }
    this.setMode("reconnecting");
    this.timer = setTimeout(() => void this.openSocket(), backoffMs(this.attempt++));
  }

  private onFrame(frame: Frame): void {
    const runId = str(frame.run_id);
    switch (frame.type) {
      case "run_started": {
        if (!runId) return;
        this.live.add(runId);
        const p = this.pending.shift();
        this.events.onRunStarted(runId, p?.text);
        p?.resolve(runId);
        return;
      }
      case "run_event":
        if (runId && typeof frame.seq === "number") this.events.onRunEvent(runId, frame.seq, frame.event);
        return;
      case "run_ended":
        if (!runId) return;
        if (this.failedFeeds.delete(runId)) {
          // The feed broke (not the run): follow again from where we are.
          setTimeout(() => {
            if (this.live.has(runId)) this.follow(runId);
          }, backoffMs(0));
          return;
        }
        this.live.delete(runId);
        this.events.onRunEnded(runId);
        return;
      case "error": {
        const p = new ApiProblem({
          type: "about:blank",
          title: str(frame.code) ?? "error",
          status: typeof frame.status === "number" ? frame.status : 500,
          detail: str(frame.detail) ?? "The server reported an error.",
          code: str(frame.code) ?? "error",
        });
        if (runId && p.code === "stream_failed") {
          this.failedFeeds.add(runId);
          return;
        }
        const waiting = this.pending.shift();
        if (waiting) waiting.reject(p);
        else this.events.onProblem(p);
        return;
      }
      default:
        // `ack` and frames this console does not know.
        return;
    }
  }

  /** Sends over HTTP and streams the answer as SSE; resolves with the run id from the first event. */
  private sendSse(text: string, attachmentIds: string[]): Promise<string> {
    const ctrl = new AbortController();
    return new Promise<string>((resolve, reject) => {
      let settled = false;
      const settle = (runId: string) => {
        if (settled) return;
        settled = true;
        this.live.add(runId);
        this.sse.set(runId, ctrl);
        this.events.onRunStarted(runId, text);
        resolve(runId);
      };
      const run = async () => {
        const res = await api.POST("/v1/chats/{id}/messages", {
          params: { path: { id: this.chatId } },
          body: { text, attachment_ids: attachmentIds },
          headers: { Accept: "text/event-stream" },
          parseAs: "stream",
          signal: ctrl.signal,
        });
        if (!res.response.ok || !res.data) throw toProblem(res.error, res.response);
        const { runId, terminal } = await this.consume(res.data, ctrl.signal, settle);
        if (!runId) throw problem("stream_failed", "The server closed the stream before the run started.");
        this.sseEnded(runId, ctrl, terminal, 0);
      };
      run().catch((e: unknown) => {
        if (!settled) reject(problemFromThrown(e));
        else this.events.onProblem(problemFromThrown(e));
      });
    });
  }

  private async followSse(runId: string, attempt: number): Promise<void> {
    if (this.stopped || this.sse.has(runId) || !this.live.has(runId)) return;
    const ctrl = new AbortController();
    this.sse.set(runId, ctrl);
    try {
      const res = await api.GET("/v1/runs/{id}/events", {
        params: { path: { id: runId } },
        headers: { Accept: "text/event-stream", "Last-Event-ID": String(this.opts.lastSeq(runId)) },
        parseAs: "stream",
        signal: ctrl.signal,
      });
      if (!res.response.ok || !res.data) {
        const p = toProblem(res.error, res.response);
        if (p.status >= 400 && p.status < 500) {
          // Gone or not allowed: stop following it.
          this.sse.delete(runId);
          this.live.delete(runId);
          this.events.onProblem(p);
          return;
        }
        throw p;
      }
      const { terminal } = await this.consume(res.data, ctrl.signal, () => undefined);
      this.sseEnded(runId, ctrl, terminal, 0);
    } catch {
      this.sseEnded(runId, ctrl, false, attempt + 1);
    }
  }

  private sseEnded(runId: string, ctrl: AbortController, terminal: boolean, attempt: number): void {
    if (this.sse.get(runId) === ctrl) this.sse.delete(runId);
    if (this.stopped || ctrl.signal.aborted) return;
    if (terminal) {
      this.live.delete(runId);
      this.events.onRunEnded(runId);
      return;
    }
    // Dropped mid-run: resume over the socket when it is up, else over SSE after a pause.
    if (this.socketReady()) {
      this.sendFollow(runId);
      return;
    }
    this.timer = setTimeout(() => void this.followSse(runId, attempt), backoffMs(attempt));
  }

  /** Reads an SSE body of run events; `onRunId` gets the run id from the first event. */
  private async consume(
    body: ReadableStream<Uint8Array>,
    signal: AbortSignal,
    onRunId: (runId: string) => void,
  ): Promise<{ runId: string | null; terminal: boolean }> {
    let runId: string | null = null;
    let terminal = false;
    for await (const m of readSse(body, signal)) {
      if (m.event === "error") {
        this.events.onProblem(problem("stream_failed", m.data || "The event stream failed.", 500));
        continue;
      }
      let payload: unknown;
      try {
        payload = JSON.parse(m.data) as unknown;
      } catch {
        continue;
      }
      const obj = typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>) : {};
      const id: string | null = str(obj.run_id) ?? runId;
      const seq = m.id !== undefined ? Number(m.id) : typeof obj.seq === "number" ? obj.seq : Number.NaN;
      if (!id) continue;
      if (runId === null) {
        runId = id;
        onRunId(id);
      }
      this.events.onRunEvent(id, seq, payload);
      if (isTerminalPayload(payload)) terminal = true;
    }
    return { runId, terminal };
  }
}
