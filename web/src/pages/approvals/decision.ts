/** Pure helpers of the approval decision: the edited arguments and the request body. */
import type { ApprovalRequest } from "../../api/types";

export type DecisionKind = ApprovalRequest["decision"];

export type ParsedInput = { ok: true; value: Record<string, unknown> } | { ok: false; error: string };

/** The edited arguments: a JSON object, or why not. */
export function parseEditedInput(text: string): ParsedInput {
  const t = text.trim();
  if (t === "") return { ok: false, error: "Enter the arguments as a JSON object." };
  let value: unknown;
  try {
    value = JSON.parse(t) as unknown;
  } catch (e) {
    return { ok: false, error: `Not valid JSON: ${e instanceof Error ? e.message : "parse error"}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, error: "The arguments must be a JSON object ({ … })." };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** The arguments as editable text. */
export function inputText(input: unknown): string {
  if (input === undefined) return "{}";
  try {
    return JSON.stringify(input, null, 2);
  } catch {
    return "{}";
  }
}

/** The body of `POST /v1/runs/{id}/approvals/{tool_call_id}`. */
export function decisionBody(
  d: { decision: "approve" } | { decision: "deny"; reason: string } | { decision: "edit"; input: Record<string, unknown> },
): ApprovalRequest {
  switch (d.decision) {
    case "approve":
      return { decision: "approve" };
    case "deny":
      return { decision: "deny", reason: d.reason.trim() };
    case "edit":
      return { decision: "edit", input: d.input };
  }
}

export function decisionToast(decision: DecisionKind, tool: string): string {
  switch (decision) {
    case "approve":
      return `Approved ${tool}.`;
    case "deny":
      return `Denied ${tool}.`;
    case "edit":
      return `Approved ${tool} with edited arguments.`;
  }
}

/** Risk as a badge tone: high is red. */
export function riskTone(risk: string | null | undefined): "danger" | "warning" | "neutral" | "success" {
  switch (risk) {
    case "high":
      return "danger";
    case "medium":
      return "warning";
    case "low":
      return "success";
    default:
      return "neutral";
  }
}
