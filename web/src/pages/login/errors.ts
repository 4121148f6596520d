import { ApiProblem } from "../../api/problem";

/** The message for a failed login: the wording users need, the server's detail otherwise. */
export function loginErrorMessage(e: unknown): { message: string; code?: string } {
  if (e instanceof ApiProblem) {
    if (e.status === 401) return { message: "Wrong e-mail or password.", code: e.code };
    if (e.status === 429 || e.code === "too_many_attempts") return { message: e.detail, code: e.code };
    return { message: e.detail, code: e.code };
  }
  return { message: "Could not sign in. Try again." };
}
