/**
 * Approve, deny (with a reason) or edit the arguments of one tool call that waits for approval
 * (`POST /v1/runs/{id}/approvals/{tool_call_id}`). Used by the approvals inbox and the run page.
 *
 * Renders nothing for roles without `runs_approve`. After a decision it invalidates `["approvals"]` (the inbox
 * and the navigation badge) and the run, and calls `onDecided`.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type SyntheticEvent } from "react";
import { api, unwrap } from "../../api/client";
import { queryKeys } from "../../api/queries";
import { Button, Field, ProblemMessage, Textarea, toast } from "../../components";
import { usePermissions } from "../../lib/usePermissions";
import { decisionBody, decisionToast, inputText, parseEditedInput, type DecisionKind } from "./decision";

type Mode = "choose" | "deny" | "edit";

type Decision =
  | { decision: "approve" }
  | { decision: "deny"; reason: string }
  | { decision: "edit"; input: Record<string, unknown> };

export function ApprovalControls({
  runId,
  toolCallId,
  toolName,
  input,
  onDecided,
}: {
  runId: string;
  toolCallId: string;
  toolName: string;
  /** The arguments the model asked for (the starting point of an edit). */
  input: unknown;
  onDecided?: (decision: DecisionKind) => void;
}) {
  const { can } = usePermissions();
  const qc = useQueryClient();
  const [mode, setMode] = useState<Mode>("choose");
  const [reason, setReason] = useState("");
  const [reasonError, setReasonError] = useState<string | null>(null);
  const [edited, setEdited] = useState(() => inputText(input));
  const [editError, setEditError] = useState<string | null>(null);
  const groupId = useId();

  const decide = useMutation({
    mutationFn: (d: Decision) =>
      unwrap(
        api.POST("/v1/runs/{id}/approvals/{tool_call_id}", {
          params: { path: { id: runId, tool_call_id: toolCallId } },
          body: decisionBody(d),
        }),
      ),
    onSuccess: (run, d) => {
      qc.setQueryData(queryKeys.run(runId), run);
      toast.success(decisionToast(d.decision, toolName));
      setMode("choose");
      onDecided?.(d.decision);
    },
    // Also after a failure: a 404 or 409 means it was decided elsewhere or the run moved on.
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.approvals });
      void qc.invalidateQueries({ queryKey: queryKeys.run(runId), exact: true });
      void qc.invalidateQueries({ queryKey: ["runs", "list"] });
    },
  });

  if (!can("runs_approve")) return null;

  const busy = decide.isPending;

  const submitDeny = (e: SyntheticEvent) => {
    e.preventDefault();
    if (reason.trim() === "") {
      setReasonError("Say why, so the model (and the audit log) knows.");
      return;
    }
    setReasonError(null);
    decide.mutate({ decision: "deny", reason });
  };

  const submitEdit = (e: SyntheticEvent) => {
    e.preventDefault();
    const parsed = parseEditedInput(edited);
    if (!parsed.ok) {
      setEditError(parsed.error);
      return;
    }
    setEditError(null);
    decide.mutate({ decision: "edit", input: parsed.value });
  };

  return (
    <div role="group" aria-labelledby={`${groupId}-label`} className="space-y-3">
      <p id={`${groupId}-label`} className="sr-only">
        Decision on {toolName}
      </p>
      {mode === "choose" && (
        <div className="flex flex-wrap gap-2">
          <Button
            variant="primary"
            size="sm"
            icon="check"
            loading={busy && decide.variables.decision === "approve"}
            disabled={busy}
            onClick={() => decide.mutate({ decision: "approve" })}
          >
            Approve
          </Button>
          <Button size="sm" variant="danger" disabled={busy} onClick={() => setMode("deny")}>
            Deny…
          </Button>
          <Button size="sm" disabled={busy} onClick={() => setMode("edit")}>
            Edit arguments…
          </Button>
        </div>
      )}
      {mode === "deny" && (
        <form onSubmit={submitDeny} noValidate className="space-y-2">
          <Field label="Reason for denying" error={reasonError} required hint="The model is told this reason.">
            {(p) => (
              <Textarea
                {...p}
                rows={2}
                autoFocus
                value={reason}
                maxLength={2000}
                onChange={(e) => setReason(e.target.value)}
              />
            )}
          </Field>
          <div className="flex flex-wrap gap-2">
            <Button type="submit" size="sm" variant="danger" loading={busy}>
              Deny call
            </Button>
            <Button size="sm" variant="ghost" disabled={busy} onClick={() => setMode("choose")}>
              Back
            </Button>
          </div>
        </form>
      )}
      {mode === "edit" && (
        <form onSubmit={submitEdit} noValidate className="space-y-2">
          <Field label="Arguments (JSON)" error={editError} hint="The call runs with these arguments instead.">
            {(p) => (
              <Textarea
                {...p}
                rows={Math.min(14, Math.max(4, edited.split("\n").length))}
                autoFocus
                spellCheck={false}
                className="font-mono text-xs"
                value={edited}
                onChange={(e) => setEdited(e.target.value)}
              />
            )}
          </Field>
          <div className="flex flex-wrap gap-2">
            <Button type="submit" size="sm" variant="primary" loading={busy}>
              Run with these arguments
            </Button>
            <Button size="sm" variant="ghost" disabled={busy} onClick={() => setMode("choose")}>
              Back
            </Button>
          </div>
        </form>
      )}
      {decide.error && <ProblemMessage error={decide.error} />}
    </div>
  );
}
