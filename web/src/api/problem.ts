/**
 * Errors from the API as one typed value.
 *
 * The server answers failures with `application/problem+json` documents (`{type, title, status, detail, code}`,
 * see the `Problem` schema). {@link ApiProblem} carries them to the UI; {@link toProblem} builds one from whatever
 * came back (a problem document, plain text, nothing, or a network failure) so callers never inspect raw bodies.
 */
import type { components } from "./schema";

export type ProblemDocument = components["schemas"]["Problem"];

/** A failed API call: show `detail` to the user and branch on `code` (stable) or `status`. */
export class ApiProblem extends Error {
  override readonly name = "ApiProblem";
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  /** Stable machine-readable code, e.g. `too_many_attempts`, `csrf_failed`, `network_error`. */
  readonly code: string;
  /** Short summary of the type. */
  readonly title: string;
  /** Details of this occurrence, meant for the user. */
  readonly detail: string;
  /** URI naming the problem type. */
  readonly type: string;

  constructor(p: ProblemDocument) {
    super(p.detail || p.title || p.code);
    this.status = p.status;
    this.code = p.code;
    this.title = p.title;
    this.detail = p.detail;
    this.type = p.type;
  }
}

export function isProblemDocument(v: unknown): v is ProblemDocument {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.status === "number" && typeof o.code === "string" && typeof o.detail === "string";
}

/** The problem for an error body (already parsed by openapi-fetch: JSON, or the raw text) and its response. */
export function toProblem(body: unknown, response: Response | undefined): ApiProblem {
  if (isProblemDocument(body)) {
    const o = body as Partial<ProblemDocument> & ProblemDocument;
    return new ApiProblem({
      type: typeof o.type === "string" ? o.type : "about:blank",
      title: typeof o.title === "string" ? o.title : "",
      status: o.status,
      detail: o.detail,
      code: o.code,
    });
  }
  const status = response?.status ?? 0;
  const text = typeof body === "string" ? body.trim().slice(0, 500) : "";
  return new ApiProblem({
    type: "about:blank",
    title: response?.statusText ?? "Error",
    status,
    detail: text || `The server answered ${status}${response?.statusText ? ` ${response.statusText}` : ""}.`,
    code: `http_${status}`,
  });
}

/** The problem for a thrown value (network failure, abort, or an ApiProblem passing through). */
export function problemFromThrown(e: unknown): ApiProblem {
  if (e instanceof ApiProblem) return e;
  if (e instanceof DOMException && e.name === "AbortError") {
    return new ApiProblem({ type: "about:blank", title: "Aborted", status: 0, detail: "The request was cancelled.", code: "aborted" });
  }
  return new ApiProblem({
    type: "about:blank",
    title: "Network error",
    status: 0,
    detail: "Cannot reach the server. Check your connection and try again.",
    code: "network_error",
  });
}

/**
 * A conflicting change (`409 version_conflict`): someone else changed the thing since it was read (the `version`
 * sent is stale). Offer a reload (`ConflictNotice`) rather than a bare error.
 */
export function isVersionConflict(e: unknown): boolean {
  return e instanceof ApiProblem && e.status === 409 && e.code === "version_conflict";
}

/** A one-line text for any error, for toasts and error states. */
export function describeError(e: unknown): string {
  if (e instanceof ApiProblem) return e.detail;
  if (e instanceof Error) return e.message;
  return "Something went wrong.";
}
