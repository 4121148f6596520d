/**
 * The chat page: the chat list beside the conversation (one or the other on small screens), "New chat",
 * streaming answers, tool-call approvals, attachments and feedback.
 */
import { useEffect, useRef, useState, type DragEvent } from "react";
import { Link, useParams } from "react-router";
import { Badge, Button, EmptyState, ErrorState, Icon, PageLoading, Tooltip, useDocumentTitle } from "../../components";
import { cn } from "../../lib/cn";
import { usePermissions } from "../../lib/usePermissions";
import { ChatList } from "./ChatList";
import { Composer } from "./Composer";
import { Conversation } from "./Conversation";
import type { ConnectionMode } from "./connection";
import { unansweredRun } from "./items";
import { NewChatDialog } from "./NewChatDialog";
import { useChat, useMessages } from "./queries";
import { isLive } from "./streamReducer";
import { useChatSession } from "./useChatSession";

export function ChatPage() {
  const { chatId } = useParams();
  const { can, loaded } = usePermissions();
  const [newOpen, setNewOpen] = useState(false);
  useDocumentTitle("Chat");

  if (loaded && !can("chats_use")) {
    return <EmptyState icon="chat" title="Chats are not available to your role" description="Ask an administrator for the analyst role to chat with agents." />;
  }
  return (
    <div className="flex h-full min-h-0">
      <aside
        aria-label="Chats"
        className={cn(
          "flex w-full shrink-0 flex-col border-r border-slate-200 md:w-72 dark:border-slate-800",
          chatId ? "hidden md:flex" : "flex",
        )}
      >
        <div className="flex items-center justify-between gap-2 p-3">
          <h1 className="text-base font-semibold">Chats</h1>
          {can("chats_use") && (
            <Button size="sm" variant="primary" icon="plus" onClick={() => setNewOpen(true)}>
              New chat
            </Button>
          )}
        </div>
        <div className="min-h-0 flex-1">
          <ChatList onNewChat={() => setNewOpen(true)} canCreate={can("chats_use")} />
        </div>
      </aside>
      <section aria-label="Conversation" className={cn("min-w-0 flex-1 flex-col", chatId ? "flex" : "hidden md:flex")}>
        {chatId ? (
          <ChatView key={chatId} chatId={chatId} />
        ) : (
          <EmptyState
            icon="chat"
            title="Pick a chat or start a new one"
            action={
              <Button variant="primary" icon="plus" onClick={() => setNewOpen(true)}>
                New chat
              </Button>
            }
          />
        )}
      </section>
      <NewChatDialog open={newOpen} onOpenChange={setNewOpen} />
    </div>
  );
}

const MODE: Record<ConnectionMode, { label: string; tone: "success" | "warning" | "neutral" | "info"; hint: string }> = {
  connecting: { label: "Connecting", tone: "neutral", hint: "Opening the live connection." },
  websocket: { label: "Live", tone: "success", hint: "Connected over WebSocket." },
  reconnecting: { label: "Reconnecting", tone: "warning", hint: "The connection dropped; answers resume where they stopped." },
  sse: { label: "Live (HTTP)", tone: "info", hint: "WebSocket unavailable; streaming over server-sent events." },
  closed: { label: "Offline", tone: "neutral", hint: "Not connected." },
};

function ChatView({ chatId }: { chatId: string }) {
  const chat = useChat(chatId);
  const messages = useMessages(chatId);
  const session = useChatSession(chatId);
  const { can } = usePermissions();
  const addFiles = useRef<((files: File[]) => void) | null>(null);
  const [dragging, setDragging] = useState(false);
  const resumed = useRef(false);
  useDocumentTitle(chat.data?.title || "Chat");

  // Opening a chat whose last question has no stored answer yet: follow that run (it may still be going).
  const items = messages.data?.items;
  const { follow } = session;
  useEffect(() => {
    if (!items || resumed.current) return;
    resumed.current = true;
    const runId = unansweredRun(items);
    if (runId) follow(runId);
  }, [items, follow]);

  const liveTurn = session.state.order
    .map((id) => session.state.turns[id])
    .find((t) => t !== undefined && isLive(t));

  if (chat.isError && !chat.data) return <ErrorState error={chat.error} onRetry={() => void chat.refetch()} />;

  const mode = MODE[session.mode];
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const files = Array.from(e.dataTransfer.files);
    if (files.length > 0) addFiles.current?.(files);
  };

  return (
    <div
      className="relative flex min-h-0 flex-1 flex-col"
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes("Files")) {
          e.preventDefault();
          setDragging(true);
        }
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={onDrop}
    >
      <header className="flex items-center gap-2 border-b border-slate-200 px-3 py-2 dark:border-slate-800">
        <Link to="/chat" className="rounded p-1 md:hidden" aria-label="Back to chats">
          <Icon name="chevronRight" className="size-4 rotate-180" />
        </Link>
        <h2 className="min-w-0 flex-1 truncate text-sm font-semibold">{chat.data?.title || "Untitled chat"}</h2>
        <Tooltip content={mode.hint}>
          <button type="button" className="rounded-full focus-visible:outline-2 focus-visible:outline-indigo-500">
            <Badge tone={mode.tone}>
              <span aria-hidden className={cn("size-1.5 rounded-full bg-current", session.mode === "websocket" && "animate-pulse")} />
              {mode.label}
            </Badge>
          </button>
        </Tooltip>
      </header>
      {/* A failed refresh keeps the messages shown; only a failed first load replaces them. */}
      {messages.data ? (
        <Conversation messages={messages.data.items} session={session} />
      ) : messages.isError ? (
        <ErrorState error={messages.error} onRetry={() => void messages.refetch()} />
      ) : (
        <PageLoading label="Loading messages…" />
      )}
      <Composer
        chatId={chatId}
        disabled={!can("runs_start") || chat.data?.agent_id === null}
        liveRunId={liveTurn && can("runs_cancel") ? liveTurn.runId : null}
        onSend={session.send}
        onStop={session.cancel}
        addFilesRef={addFiles}
      />
      {dragging && (
        <div className="pointer-events-none absolute inset-0 z-10 flex items-center justify-center rounded border-2 border-dashed border-indigo-500 bg-indigo-50/80 text-sm font-medium text-indigo-800 dark:bg-indigo-950/80 dark:text-indigo-200">
          Drop files to attach them
        </div>
      )}
    </div>
  );
}
