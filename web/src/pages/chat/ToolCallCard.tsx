/**
 * One tool call of a turn: its state, tool name, arguments and result (collapsible JSON), duration, and —
 * while it waits for approval — Approve, Deny (with a reason) and Edit arguments (JSON validated before it is
 * sent). Decisions go to `POST /v1/runs/{id}/approvals/{tool_call_id}`.
 */
import { useMutation } from "@tanstack/react-query";
import { useId, useState } from "react";
import type { ApprovalRequest } from "../../api/types";
import { Badge, Button, ErrorState, Field, Icon, Input, JsonView, Textarea, type BadgeTone } from "../../components";
import { formatDuration } from "../../lib/format";
import { parseMaybeJson } from "../../lib/json";
import { cn } from "../../lib/cn";
import type { ToolCallCard as Card, ToolCallStatus } from "./streamReducer";
import { validateArguments } from "./validation";

const STATUS: Record<ToolCallStatus, { label: string; tone: BadgeTone }> = {
  requested: { label: "Requested", tone: "neutral" },
  awaiting_approval: { label: "Awaiting approval", tone: "warning" },
  running: { label: "Running", tone: "info" },
  done: { label: "Done", tone: "success" },
  error: { label: "Error", tone: "danger" },
  denied: { label: "Denied", tone: "danger" },
  cancelled: { label: "Not run", tone: "neutral" },
};

type Mode = "idle" | "deny" | "edit";

export function ToolCallCard({
  card,
  runLive,
  canApprove,
  onDecide,
}: {
  card: Card;
  /** The run is still going (decisions make sense). */
  runLive: boolean;
  canApprove: boolean;
  onDecide: (body: ApprovalRequest) => Promise<void>;
}) {
  const waiting = card.status === "awaiting_approval" && runLive;
  const [open, setOpen] = useState(waiting || card.status === "error");
  const [mode, setMode] = useState<Mode>("idle");
  const [reason, setReason] = useState("");
  const [edited, setEdited] = useState(() => JSON.stringify(card.input, null, 2));
  const [sent, setSent] = useState<string | null>(null);
  const bodyId = useId();
  const decide = useMutation({
    mutationFn: onDecide,
    onSuccess: (_v, body) => {
      setSent(body.decision);
      setMode("idle");
    },
  });
  const validation = mode === "edit" ? validateArguments(edited) : null;
  const status = STATUS[card.status];
  const isOpen = open || waiting;

  return (
    <section
      aria-label={`Tool call ${card.tool}`}
      className={cn(
        "rounded-lg border bg-white text-sm dark:bg-slate-900",
        waiting ? "border-amber-400 dark:border-amber-600" : "border-slate-200 dark:border-slate-800",
      )}
    >
      <h3>
        <button
          type="button"
          aria-expanded={isOpen}
          aria-controls={bodyId}
          onClick={() => setOpen((o) => !o)}
          className="flex w-full items-center gap-2 rounded-lg px-3 py-2 text-left focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-indigo-500"
        >
          <Icon name={isOpen ? "chevronDown" : "chevronRight"} className="size-3.5 text-slate-400" />
          <Icon name="tool" className="text-slate-500" />
          <span className="min-w-0 flex-1 truncate font-mono text-xs font-semibold">{card.tool || "tool"}</span>
          {card.decision && <Badge>{card.decision === "edit" ? "edited" : card.decision === "approve" ? "approved" : "denied by a person"}</Badge>}
          <Badge tone={status.tone}>{status.label}</Badge>
          {card.durationMs !== null && card.durationMs > 0 && (
            <span className="text-xs text-slate-500 tabular-nums">{formatDuration(card.durationMs)}</span>
          )}
        </button>
      </h3>
      {isOpen && (
        <div id={bodyId} className="space-y-3 border-t border-slate-200 px-3 py-3 dark:border-slate-800">
          <div>
            <h4 className="mb-1 text-xs font-medium text-slate-500 uppercase">Arguments</h4>
            <JsonView value={card.input} label={`Arguments of ${card.tool}`} />
          </div>
          {card.result !== null && (
            <div>
              <h4 className="mb-1 text-xs font-medium text-slate-500 uppercase">
                Result{card.outcome && card.outcome !== "success" ? ` (${card.outcome.replace(/_/g, " ")})` : ""}
              </h4>
              <JsonView value={parseMaybeJson(card.result)} label={`Result of ${card.tool}`} defaultExpandDepth={1} />
            </div>
          )}
          {waiting && sent && (
            <p role="status" className="rounded bg-slate-100 p-2 text-xs dark:bg-slate-800">
              Decision sent ({sent}). The run continues once every waiting call is decided.
            </p>
          )}
          {waiting && !sent && canApprove && (
            <div className="space-y-3 rounded-md bg-amber-50 p-3 dark:bg-amber-950/40">
              <p className="text-xs text-amber-900 dark:text-amber-200">This call waits for a person. Check the arguments before you decide.</p>
              {mode === "idle" && (
                <div className="flex flex-wrap gap-2">
                  <Button variant="primary" size="sm" icon="check" loading={decide.isPending} onClick={() => decide.mutate({ decision: "approve" })}>
                    Approve
                  </Button>
                  <Button size="sm" onClick={() => setMode("deny")}>
                    Deny…
                  </Button>
                  <Button size="sm" onClick={() => setMode("edit")}>
                    Edit arguments…
                  </Button>
                </div>
              )}
              {mode === "deny" && (
                <form
                  className="space-y-2"
                  onSubmit={(e) => {
                    e.preventDefault();
                    decide.mutate({ decision: "deny", reason: reason.trim() });
                  }}
                >
                  <Field label="Reason" hint="The model is told why.">
                    {(p) => <Input {...p} value={reason} onChange={(e) => setReason(e.target.value)} autoFocus maxLength={2000} />}
                  </Field>
                  <div className="flex gap-2">
                    <Button type="submit" variant="danger" size="sm" loading={decide.isPending}>
                      Deny call
                    </Button>
                    <Button size="sm" onClick={() => setMode("idle")}>
                      Back
                    </Button>
                  </div>
                </form>
              )}
              {mode === "edit" && (
                <form
                  className="space-y-2"
                  onSubmit={(e) => {
                    e.preventDefault();
                    if (validation && "value" in validation) decide.mutate({ decision: "edit", input: validation.value });
                  }}
                >
                  <Field
                    label="Arguments (JSON)"
                    hint="The call runs with these arguments instead; the server checks them against the tool's schema."
                    error={validation && "error" in validation ? validation.error : undefined}
                  >
                    {(p) => (
                      <Textarea
                        {...p}
                        className="font-mono text-xs"
                        rows={Math.min(16, Math.max(4, edited.split("\n").length))}
                        value={edited}
                        onChange={(e) => setEdited(e.target.value)}
                        spellCheck={false}
                        autoFocus
                      />
                    )}
                  </Field>
                  <div className="flex gap-2">
                    <Button type="submit" variant="primary" size="sm" loading={decide.isPending} disabled={!validation || "error" in validation}>
                      Run with these arguments
                    </Button>
                    <Button size="sm" onClick={() => setMode("idle")}>
                      Back
                    </Button>
                  </div>
                </form>
              )}
              {decide.error && <ErrorState error={decide.error} compact />}
            </div>
          )}
          {waiting && !canApprove && (
            <p className="text-xs text-slate-500">Waiting for someone allowed to approve tool calls.</p>
          )}
        </div>
      )}
    </section>
  );
}
