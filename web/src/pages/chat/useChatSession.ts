/**
 * The live state of one chat: the stream reducer fed by a {@link ChatConnection}, plus the actions on runs
 * (send, follow, cancel, decide on approvals). Server data (messages, chats) stays in TanStack Query; this
 * hook invalidates it when a run ends.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { api, unwrap } from "../../api/client";
import { queryKeys } from "../../api/queries";
import type { ApprovalRequest } from "../../api/types";
import { toast } from "../../lib/toast";
import { ChatConnection, type ConnectionMode } from "./connection";
import { chatStreamReducer, initialChatStream } from "./streamReducer";

export function useChatSession(chatId: string) {
  const [state, dispatch] = useReducer(chatStreamReducer, initialChatStream);
  const [mode, setMode] = useState<ConnectionMode>("connecting");
  const stateRef = useRef(state);
  const connRef = useRef<ChatConnection | null>(null);
  const qc = useQueryClient();

  useEffect(() => {
    stateRef.current = state;
  }, [state]);

  useEffect(() => {
    dispatch({ type: "reset" });
    const invalidateMessages = () => void qc.invalidateQueries({ queryKey: queryKeys.chatMessages(chatId) });
    const conn = new ChatConnection(
      chatId,
      {
        onMode: setMode,
        onRunStarted: (runId, userText) => {
          dispatch({ type: "run_started", runId, ...(userText !== undefined ? { userText } : {}) });
          invalidateMessages();
        },
        onRunEvent: (runId, seq, event) => {
          dispatch({ type: "event", runId, seq, event });
          const kind = typeof event === "object" && event !== null ? (event as { type?: unknown }).type : null;
          if (kind === "awaiting_approval" || kind === "approval_resolved") {
            void qc.invalidateQueries({ queryKey: queryKeys.approvals });
          }
        },
        onRunEnded: (runId) => {
          dispatch({ type: "run_ended", runId });
          invalidateMessages();
          void qc.invalidateQueries({ queryKey: queryKeys.run(runId) });
        },
        onProblem: (p) => toast.error(p),
      },
      { lastSeq: (runId) => stateRef.current.turns[runId]?.lastSeq ?? 0 },
    );
    connRef.current = conn;
    conn.start();
    return () => {
      conn.stop();
      connRef.current = null;
    };
  }, [chatId, qc]);

  const send = useCallback(async (text: string, attachmentIds: string[]) => {
    const conn = connRef.current;
    if (!conn) throw new Error("not connected");
    return conn.sendMessage(text, attachmentIds);
  }, []);

  const follow = useCallback((runId: string) => connRef.current?.follow(runId), []);

  const cancel = useCallback(async (runId: string) => {
    await unwrap(api.POST("/v1/runs/{id}/cancel", { params: { path: { id: runId } } }));
  }, []);

  const decide = useCallback(
    async (runId: string, toolCallId: string, body: ApprovalRequest) => {
      await unwrap(
        api.POST("/v1/runs/{id}/approvals/{tool_call_id}", {
          params: { path: { id: runId, tool_call_id: toolCallId } },
          body,
        }),
      );
      void qc.invalidateQueries({ queryKey: queryKeys.approvals });
    },
    [qc],
  );

  return { state, mode, send, follow, cancel, decide };
}

export type ChatSession = ReturnType<typeof useChatSession>;
