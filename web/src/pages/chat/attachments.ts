/**
 * Chat attachments: the server's limits and the upload call.
 *
 * The limits are the server defaults (`secops-server/src/config/mod.rs`: `max_attachment_bytes` 10 MiB,
 * `DEFAULT_ATTACHMENT_TYPES`; 10 attachments per message in `chats/mod.rs`). An operator can change the size
 * and types, and the API does not publish them, so the console only shows them as hints and leaves the
 * decision to the server (413 too large, 415 type not accepted, 422 content does not match its type).
 */
import { api, unwrap } from "../../api/client";
import { ApiProblem, describeError } from "../../api/problem";
import type { AttachmentView } from "../../api/types";

export const DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;
export const DEFAULT_ATTACHMENT_TYPES = [
  "text/plain",
  "text/csv",
  "application/json",
  "application/x-ndjson",
  "application/pdf",
  "image/png",
  "image/jpeg",
] as const;

const BY_EXTENSION: Record<string, string> = {
  txt: "text/plain",
  log: "text/plain",
  eml: "text/plain",
  md: "text/plain",
  csv: "text/csv",
  json: "application/json",
  ndjson: "application/x-ndjson",
  jsonl: "application/x-ndjson",
  pdf: "application/pdf",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
};

/** The media type to declare: the browser's when it knows one the server takes, else by extension. */
export function mediaTypeFor(name: string, browserType: string): string {
  if ((DEFAULT_ATTACHMENT_TYPES as readonly string[]).includes(browserType)) return browserType;
  const ext = name.split(".").pop()?.toLowerCase() ?? "";
  return BY_EXTENSION[ext] ?? (browserType || "application/octet-stream");
}

/** `POST /v1/chats/{id}/attachments` (multipart, one part named `file`). */
export async function uploadAttachment(chatId: string, file: File, signal?: AbortSignal): Promise<AttachmentView> {
  const typed = new File([file], file.name, { type: mediaTypeFor(file.name, file.type) });
  const form = new FormData();
  form.append("file", typed, file.name);
  return unwrap(
    api.POST("/v1/chats/{id}/attachments", {
      params: { path: { id: chatId } },
      // The spec types the part as a string; the real body is the form.
      body: { file: file.name },
      bodySerializer: () => form,
      ...(signal ? { signal } : {}),
    }),
  );
}

/** Human wording for upload failures; the server's detail and code are kept. */
export function uploadErrorText(e: unknown): string {
  if (e instanceof ApiProblem) {
    if (e.status === 413) return `Too large: ${e.detail}`;
    if (e.status === 415) return `Type not accepted: ${e.detail}`;
  }
  return describeError(e);
}
