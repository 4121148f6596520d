/**
 * The body of `POST /v1/events`. The server takes `application/json` (an object or an array of objects) or
 * `application/x-ndjson` (one object per line), see `parse_events` in secops-server/src/detections/rules.rs.
 * Pasted text that is one JSON document goes as JSON; anything else as NDJSON, so the server reports the
 * first bad line by number.
 */

export interface EventsPayload {
  contentType: "application/json" | "application/x-ndjson";
  body: string;
  /** Events counted locally (the server's count is the one that matters). */
  count: number;
}

/** How to send `text`, or a message saying why there is nothing to send. */
export function eventsPayload(text: string): EventsPayload | { error: string } {
  const trimmed = text.trim();
  if (!trimmed) return { error: "Paste at least one event (a JSON object, an array of objects, or NDJSON)." };
  try {
    const doc: unknown = JSON.parse(trimmed);
    if (Array.isArray(doc)) return { contentType: "application/json", body: trimmed, count: doc.length };
    if (typeof doc === "object" && doc !== null) return { contentType: "application/json", body: trimmed, count: 1 };
    return { error: "An event is a JSON object: send an object, an array of objects, or NDJSON." };
  } catch {
    // Not one document: NDJSON, one event per non-blank line.
  }
  const lines = trimmed.split(/\r?\n/).filter((l) => l.trim() !== "");
  return { contentType: "application/x-ndjson", body: `${lines.join("\n")}\n`, count: lines.length };
}
