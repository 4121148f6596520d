/** The chats of the organisation, newest first, virtualised and paged (GET /v1/chats). */
import { NavLink } from "react-router";
import { EmptyState, ErrorState, RelativeTime, SkeletonList, Spinner, VirtualList } from "../../components";
import { cn } from "../../lib/cn";
import type { ChatView } from "../../api/types";
import { useAgents, useChats } from "./queries";

export function ChatList({ onNewChat, canCreate }: { onNewChat: () => void; canCreate: boolean }) {
  const chats = useChats();
  const agents = useAgents();
  const agentName = (id: string | null | undefined) => agents.data?.items.find((a) => a.id === id)?.name;
  if (chats.isPending) return <SkeletonList lines={6} className="p-3" />;
  const items = chats.data?.pages.flatMap((p) => p.items) ?? [];
  // A failed next page keeps the chats loaded so far (its error shows under them).
  if (chats.isError && items.length === 0) return <ErrorState error={chats.error} onRetry={() => void chats.refetch()} compact />;
  if (items.length === 0) {
    return (
      <EmptyState
        icon="chat"
        title="No chats yet"
        description="Start one to ask an agent about an alert."
        action={
          canCreate ? (
            <button type="button" onClick={onNewChat} className="text-sm font-medium text-indigo-600 hover:underline dark:text-indigo-400">
              New chat
            </button>
          ) : undefined
        }
      />
    );
  }
  return (
    <VirtualList
      label="Chats"
      className="h-full p-2"
      items={items}
      estimateSize={60}
      getKey={(c) => c.id}
      hasMore={chats.hasNextPage}
      onEndReached={() => {
        // After a failure, "Try again" fetches (not every render at the end of the list).
        if (!chats.isFetchingNextPage && !chats.isFetchNextPageError) void chats.fetchNextPage();
      }}
      footer={
        chats.isFetchingNextPage ? (
          <div className="flex justify-center p-2" role="status" aria-label="Loading more chats">
            <Spinner className="size-4" />
          </div>
        ) : chats.isFetchNextPageError ? (
          <div className="p-2">
            <ErrorState error={chats.error} compact onRetry={() => void chats.fetchNextPage()} />
          </div>
        ) : null
      }
      renderItem={(c: ChatView) => (
        <NavLink
          to={`/chat/${c.id}`}
          className={({ isActive }) =>
            cn(
              "mb-0.5 block rounded-md px-3 py-2 focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-indigo-500",
              isActive ? "bg-indigo-100 dark:bg-indigo-950" : "hover:bg-slate-100 dark:hover:bg-slate-800",
            )
          }
        >
          <span className="block truncate text-sm font-medium">{c.title || "Untitled chat"}</span>
          <span className="flex gap-2 truncate text-xs text-slate-600 dark:text-slate-300">
            <span className="truncate">{agentName(c.agent_id) ?? (c.agent_id ? "Agent" : "Agent deleted")}</span>
            <span aria-hidden>·</span>
            <RelativeTime date={c.created_at} />
          </span>
        </NavLink>
      )}
    />
  );
}
