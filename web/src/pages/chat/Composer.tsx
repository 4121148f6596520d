/**
 * The message box: text (Enter sends, Shift+Enter breaks the line), attachments by file button or drag and
 * drop (uploaded at once, referenced by id in the message), and Send / Stop.
 */
import { useMutation } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type RefObject, type SubmitEvent } from "react";
import { ApiProblem } from "../../api/problem";
import { useServerInfo } from "../../api/queries";
import type { AttachmentView } from "../../api/types";
import { Button, Icon, IconButton, Spinner, Textarea, toast } from "../../components";
import { formatBytes } from "../../lib/format";
import { cn } from "../../lib/cn";
import { DEFAULT_MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_PER_MESSAGE, uploadAttachment, uploadErrorText } from "./attachments";

interface Pending {
  key: number;
  file: File;
  state: "uploading" | "ready" | "error";
  attachment?: AttachmentView;
  error?: ApiProblem | Error;
}

let nextKey = 1;

export function Composer({
  chatId,
  disabled,
  liveRunId,
  onSend,
  onStop,
  addFilesRef,
}: {
  chatId: string;
  disabled: boolean;
  /** A run of this chat is live: offer Stop. */
  liveRunId: string | null;
  onSend: (text: string, attachmentIds: string[]) => Promise<unknown>;
  onStop: (runId: string) => Promise<void>;
  /** Set to a function that adds files (for drag and drop on the conversation). */
  addFilesRef: RefObject<((files: File[]) => void) | null>;
}) {
  const server = useServerInfo();
  const [text, setText] = useState("");
  const [attachments, setAttachments] = useState<Pending[]>([]);
  const fileInput = useRef<HTMLInputElement>(null);
  const hintId = useId();
  const inputId = useId();

  const add = (list: File[]) => {
    const room = MAX_ATTACHMENTS_PER_MESSAGE - attachments.length;
    if (list.length > room) toast.info(`At most ${MAX_ATTACHMENTS_PER_MESSAGE} attachments per message.`);
    for (const file of list.slice(0, Math.max(0, room))) {
      const key = nextKey++;
      setAttachments((a) => [...a, { key, file, state: "uploading" }]);
      uploadAttachment(chatId, file).then(
        (attachment) => setAttachments((a) => a.map((p) => (p.key === key ? { ...p, state: "ready", attachment } : p))),
        (error: unknown) =>
          setAttachments((a) =>
            a.map((p) => (p.key === key ? { ...p, state: "error", error: error instanceof Error ? error : new Error(String(error)) } : p)),
          ),
      );
    }
  };

  // Files dropped on the conversation come in through this handle.
  useEffect(() => {
    addFilesRef.current = add;
    return () => {
      addFilesRef.current = null;
    };
  });

  const send = useMutation({
    mutationFn: () => onSend(text.trim(), attachments.flatMap((a) => (a.attachment ? [a.attachment.id] : []))),
    onSuccess: () => {
      setText("");
      setAttachments([]);
    },
    onError: (e) => toast.error(e),
  });

  const uploading = attachments.some((a) => a.state === "uploading");
  const canSend = !disabled && !send.isPending && !uploading && text.trim().length > 0;

  const onSubmit = (e: SubmitEvent) => {
    e.preventDefault();
    if (canSend) send.mutate();
  };

  return (
    <form onSubmit={onSubmit} className="border-t border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-950">
      {attachments.length > 0 && (
        <ul className="mb-2 flex flex-wrap gap-2" aria-label="Attachments">
          {attachments.map((a) => (
            <li
              key={a.key}
              className={cn(
                "flex max-w-full items-center gap-1.5 rounded-md border px-2 py-1 text-xs",
                a.state === "error" ? "border-red-300 bg-red-50 text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200" : "border-slate-200 dark:border-slate-700",
              )}
            >
              {a.state === "uploading" ? <Spinner className="size-3.5" label={`Uploading ${a.file.name}`} /> : <Icon name={a.state === "error" ? "alert" : "file"} />}
              <span className="max-w-48 truncate">{a.file.name}</span>
              <span className="text-slate-500">{formatBytes(a.file.size)}</span>
              {a.state === "error" && a.error && (
                <span role="alert" className="max-w-80 truncate" title={uploadErrorText(a.error)}>
                  — {uploadErrorText(a.error)}
                  {a.error instanceof ApiProblem && <span className="font-mono opacity-75"> ({a.error.code})</span>}
                </span>
              )}
              <IconButton icon="close" size="sm" className="size-6" label={`Remove ${a.file.name}`} onClick={() => setAttachments((l) => l.filter((p) => p.key !== a.key))} />
            </li>
          ))}
        </ul>
      )}
      <div className="flex items-end gap-2">
        <input
          ref={fileInput}
          type="file"
          multiple
          className="sr-only"
          tabIndex={-1}
          aria-hidden
          onChange={(e) => {
            add(Array.from(e.target.files ?? []));
            e.target.value = "";
          }}
        />
        <IconButton icon="paperclip" label="Attach files" disabled={disabled} onClick={() => fileInput.current?.click()} aria-describedby={hintId} />
        <label htmlFor={inputId} className="sr-only">
          Message
        </label>
        <Textarea
          id={inputId}
          rows={Math.min(8, Math.max(1, text.split("\n").length))}
          placeholder={disabled ? "Your role cannot start runs" : "Ask the agent…"}
          value={text}
          disabled={disabled}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              if (canSend) send.mutate();
            }
          }}
          aria-describedby={hintId}
          maxLength={100_000}
          className="max-h-60 min-h-9 resize-none"
        />
        {liveRunId ? (
          <Button icon="stop" onClick={() => void onStop(liveRunId).catch((e: unknown) => toast.error(e))}>
            Stop
          </Button>
        ) : (
          <Button type="submit" variant="primary" icon="send" loading={send.isPending} disabled={!canSend}>
            Send
          </Button>
        )}
      </div>
      <p id={hintId} className="mt-1.5 text-xs text-slate-500 dark:text-slate-400">
        Enter sends, Shift+Enter adds a line. Drop files here or use the clip: up to {MAX_ATTACHMENTS_PER_MESSAGE} files,{" "}
        {formatBytes(server.data?.max_attachment_bytes ?? DEFAULT_MAX_ATTACHMENT_BYTES)} each
        {server.data ? ` (${server.data.attachment_types.join(", ")})` : " (server default): text, CSV, JSON, NDJSON, PDF, PNG or JPEG"}.
      </p>
    </form>
  );
}
