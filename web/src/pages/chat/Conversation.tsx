/**
 * The conversation: a virtualised list of questions and answers that sticks to the bottom while an answer
 * streams (unless the user scrolled up), and a polite live region announcing turn status changes.
 */
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import type { MessageView } from "../../api/types";
import { EmptyState, Icon, RelativeTime } from "../../components";
import { AssistantTurn } from "./AssistantTurn";
import { buildItems, type ConversationItem } from "./items";
import type { ChatSession } from "./useChatSession";
import { displayText, type TurnStatus } from "./streamReducer";

const ANNOUNCE: Partial<Record<TurnStatus, string>> = {
  awaiting_approval: "A tool call is waiting for approval.",
  finished: "The answer is complete.",
  failed: "The run failed.",
  cancelled: "The run was cancelled.",
};

function UserBubble({ item }: { item: Extract<ConversationItem, { kind: "user" }> }) {
  return (
    <article aria-label="Your message" className="ml-auto max-w-2xl rounded-lg bg-indigo-600 px-4 py-3 text-sm text-white">
      <p className="break-words whitespace-pre-wrap">{item.text}</p>
      <p className="mt-1 text-right text-xs text-indigo-50">{item.pending ? "Sending…" : item.createdAt ? <RelativeTime date={item.createdAt} /> : null}</p>
    </article>
  );
}

export function Conversation({ messages, session }: { messages: readonly MessageView[]; session: ChatSession }) {
  const items = buildItems(messages, session.state);
  const scrollRef = useRef<HTMLDivElement>(null);
  const [stick, setStick] = useState(true);
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer is designed to be called each render
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 120,
    overscan: 6,
    getItemKey: (i) => items[i]?.key ?? i,
  });

  // What changes as an answer streams: keep the bottom in view.
  const lastItem = items[items.length - 1];
  const lastTurn = lastItem?.kind === "assistant" && lastItem.runId ? session.state.turns[lastItem.runId] : undefined;
  const growth = `${items.length}:${lastTurn ? displayText(lastTurn).length + lastTurn.toolCalls.length * 1000 + lastTurn.lastSeq : 0}`;
  useLayoutEffect(() => {
    if (stick && items.length > 0) virtualizer.scrollToIndex(items.length - 1, { align: "end" });
  }, [growth, stick, items.length, virtualizer]);

  // Announce status changes of the newest turn.
  const [announcement, setAnnouncement] = useState("");
  const lastStatus = lastTurn?.status;
  useEffect(() => {
    const text = lastStatus ? ANNOUNCE[lastStatus] : undefined;
    if (text) setAnnouncement(text);
  }, [lastStatus]);

  return (
    <div
      ref={scrollRef}
      className="min-h-0 flex-1 overflow-y-auto px-3 py-4 sm:px-6"
      onScroll={(e) => {
        const el = e.currentTarget;
        setStick(el.scrollHeight - el.scrollTop - el.clientHeight < 80);
      }}
    >
      <p className="sr-only" aria-live="polite">
        {announcement}
      </p>
      {items.length === 0 ? (
        <EmptyState icon="chat" title="Ask the agent" description="Describe the alert, paste indicators, or attach headers and logs." />
      ) : (
        <div role="log" aria-label="Conversation" style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {virtualizer.getVirtualItems().map((v) => {
            const item = items[v.index];
            if (!item) return null;
            return (
              <div
                key={v.key}
                data-index={v.index}
                ref={virtualizer.measureElement}
                className="absolute top-0 left-0 w-full pb-4"
                style={{ transform: `translateY(${v.start}px)` }}
              >
                {item.kind === "user" ? (
                  <UserBubble item={item} />
                ) : (
                  <AssistantTurn
                    turn={item.runId ? session.state.turns[item.runId] : undefined}
                    text={item.text}
                    runId={item.runId}
                    {...(item.messageId ? { messageId: item.messageId } : {})}
                    {...(item.createdAt ? { createdAt: item.createdAt } : {})}
                    onCancel={session.cancel}
                    onDecide={session.decide}
                    onReplay={session.follow}
                  />
                )}
              </div>
            );
          })}
        </div>
      )}
      {!stick && items.length > 0 && (
        <button
          type="button"
          onClick={() => setStick(true)}
          className="sticky bottom-2 left-full flex items-center gap-1 rounded-full bg-slate-900 px-3 py-1.5 text-xs text-white shadow-lg focus-visible:outline-2 focus-visible:outline-indigo-500 dark:bg-slate-100 dark:text-slate-900"
        >
          <Icon name="chevronDown" className="size-3.5" /> Latest
        </button>
      )}
    </div>
  );
}
