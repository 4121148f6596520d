/**
 * A server-sent events parser over a fetch body (EventSource cannot POST or send headers). Yields each event's
 * `id`, `event` name and `data` (multi-line data joined with "\n"); comments and keep-alives are skipped.
 */
export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/** Parse complete SSE text into events (exported for tests); returns the events and the unparsed rest. */
export function parseSseChunk(buffer: string): { events: SseMessage[]; rest: string } {
  const events: SseMessage[] = [];
  const normalised = buffer.replace(/\r\n?/g, "\n");
  const blocks = normalised.split("\n\n");
  const rest = blocks.pop() ?? "";
  for (const block of blocks) {
    let id: string | undefined;
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "id") id = value;
      else if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (data.length > 0 || id !== undefined) events.push({ ...(id !== undefined ? { id } : {}), event, data: data.join("\n") });
  }
  return { events, rest };
}

export async function* readSse(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      if (signal?.aborted) return;
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      const { events, rest } = parseSseChunk(buffer);
      buffer = rest;
      for (const e of events) yield e;
    }
    const { events } = parseSseChunk(buffer + "\n\n");
    for (const e of events) yield e;
  } finally {
    reader.releaseLock();
  }
}
