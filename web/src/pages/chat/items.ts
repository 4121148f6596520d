/**
 * What the conversation shows, in order: stored messages merged with the live turns of the stream reducer.
 * A stored answer whose run has a live turn is drawn from the turn (tool calls, usage); a turn whose messages
 * are not stored yet is drawn from the reducer alone (the user's text it sent).
 */
import type { MessageView } from "../../api/types";
import type { ChatStreamState } from "./streamReducer";

export type ConversationItem =
  | { kind: "user"; key: string; text: string; createdAt?: string; pending: boolean }
  | { kind: "assistant"; key: string; text: string; messageId?: string; runId: string | null; createdAt?: string };

export function buildItems(messages: readonly MessageView[], stream: ChatStreamState): ConversationItem[] {
  const answered = new Set<string>();
  const asked = new Set<string>();
  for (const m of messages) {
    if (!m.run_id) continue;
    if (m.role === "assistant") answered.add(m.run_id);
    else asked.add(m.run_id);
  }
  const items: ConversationItem[] = [];
  for (const m of messages) {
    if (m.role === "user") {
      items.push({ kind: "user", key: m.id, text: m.text, createdAt: m.created_at, pending: false });
      // A live answer goes right after its question until it is stored.
      if (m.run_id && !answered.has(m.run_id) && stream.turns[m.run_id]) {
        items.push({ kind: "assistant", key: `run-${m.run_id}`, text: "", runId: m.run_id });
      }
    } else {
      items.push({ kind: "assistant", key: m.id, text: m.text, messageId: m.id, runId: m.run_id ?? null, createdAt: m.created_at });
    }
  }
  for (const runId of stream.order) {
    if (asked.has(runId) || answered.has(runId)) continue;
    const turn = stream.turns[runId];
    if (turn?.userText) items.push({ kind: "user", key: `pending-${runId}`, text: turn.userText, pending: true });
    items.push({ kind: "assistant", key: `run-${runId}`, text: "", runId });
  }
  return items;
}

/** The run to resume on opening a chat: the last question with no stored answer. */
export function unansweredRun(messages: readonly MessageView[]): string | null {
  const answered = new Set(messages.filter((m) => m.role === "assistant" && m.run_id).map((m) => m.run_id));
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role === "user") return m.run_id && !answered.has(m.run_id) ? m.run_id : null;
  }
  return null;
}
