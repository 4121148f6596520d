/**
 * A small typed-enough client of the secops API for setting tests up (and for checks the UI cannot show),
 * over Playwright's APIRequestContext. It logs in in body mode (no cookies), and since the server under test
 * issues access tokens that live only a few seconds, it logs in again whenever its token is about to lapse.
 */
import type { APIRequestContext, APIResponse } from "@playwright/test";
import { ACCESS_TOKEN_TTL_SECS } from "./env";

export interface User {
  email: string;
  password: string;
  displayName: string;
  orgName: string;
  /** The organisation registration created (the user owns it). */
  orgId: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 500)}`);
  }
}

let counter = 0;

/** A unique address per call (the run's time, the process, a counter). */
export function uniqueEmail(tag: string): string {
  counter += 1;
  const slug = tag.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 24) || "user";
  return `e2e-${slug}-${Date.now().toString(36)}-${process.pid}-${counter}@example.com`;
}

export function newUserData(tag: string): Omit<User, "orgId"> {
  const email = uniqueEmail(tag);
  return {
    email,
    password: `pw-${Math.random().toString(36).slice(2)}-Correct-Horse`,
    displayName: `E2E ${tag}`.slice(0, 60),
    orgName: `Org ${tag} ${counter}`.slice(0, 60),
  };
}

async function check(res: APIResponse, what: string): Promise<APIResponse> {
  if (!res.ok()) throw new ApiError(res.status(), await res.text(), what);
  return res;
}

export async function registerUser(request: APIRequestContext, tag: string): Promise<User> {
  const u = newUserData(tag);
  const res = await check(
    await request.post("/v1/auth/register", {
      data: { email: u.email, password: u.password, organization_name: u.orgName, display_name: u.displayName },
    }),
    `register ${u.email}`,
  );
  const s = (await res.json()) as { organization_id: string };
  return { ...u, orgId: s.organization_id };
}

/** An API session of `user` in `orgId` (default: their own organisation). */
export class Api {
  private token: string | null = null;
  private obtained = 0;

  constructor(
    readonly request: APIRequestContext,
    readonly user: User,
    readonly orgId: string = user.orgId,
  ) {}

  async accessToken(): Promise<string> {
    const maxAge = Math.max(1, ACCESS_TOKEN_TTL_SECS - 2) * 1000;
    if (!this.token || Date.now() - this.obtained > maxAge) {
      const res = await check(
        await this.request.post("/v1/auth/login", {
          data: { email: this.user.email, password: this.user.password, organization_id: this.orgId },
        }),
        `login ${this.user.email}`,
      );
      this.token = ((await res.json()) as { access_token: string }).access_token;
      this.obtained = Date.now();
    }
    return this.token;
  }

  async raw(method: string, url: string, data?: unknown, headers: Record<string, string> = {}): Promise<APIResponse> {
    const token = await this.accessToken();
    return this.request.fetch(url, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...headers },
      ...(data === undefined ? {} : typeof data === "string" ? { data } : { data: data as object }),
    });
  }

  async json<T = Record<string, unknown>>(method: string, url: string, data?: unknown, headers?: Record<string, string>): Promise<T> {
    const res = await check(await this.raw(method, url, data, headers), `${method} ${url}`);
    const text = await res.text();
    return (text ? JSON.parse(text) : null) as T;
  }

  get<T = Record<string, unknown>>(url: string): Promise<T> {
    return this.json<T>("GET", url);
  }
  post<T = Record<string, unknown>>(url: string, data?: unknown, headers?: Record<string, string>): Promise<T> {
    return this.json<T>("POST", url, data ?? {}, headers);
  }
  patch<T = Record<string, unknown>>(url: string, data: unknown): Promise<T> {
    return this.json<T>("PATCH", url, data);
  }
}

export interface Agent {
  id: string;
  name: string;
  version: number;
  active_prompt_version?: number | null;
}

export const DEMO_TOOLS = ["demo_lookup_ip", "demo_isolate_host"] as const;

export async function createAgent(api: Api, name: string, tools: readonly string[] = DEMO_TOOLS): Promise<Agent> {
  return api.post<Agent>("/v1/agents", {
    name,
    description: "Triage agent created by the end-to-end tests.",
    system_prompt: "You are a careful SOC analyst. Triage the alert.",
    tools,
  });
}

export interface Run {
  id: string;
  status: string;
}

/** Polls `fn` until it returns something truthy (or throws after `ms`). */
export async function eventually<T>(fn: () => Promise<T | null | undefined | false>, ms = 15_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

export interface PendingApproval {
  run_id: string;
  tool_call_id: string;
  tool_name: string;
  agent_name: string;
  input: Record<string, unknown>;
}

/** Starts a run of `agentId` with `input`, through the API. */
export async function startRun(api: Api, agentId: string, input: string): Promise<Run> {
  return api.post<Run>(`/v1/agents/${agentId}/runs`, { input });
}

/** Waits until the run is in `status` (or one of them). */
export async function waitForRun(api: Api, runId: string, status: string | string[], ms = 20_000): Promise<Run & { output?: unknown }> {
  const want = Array.isArray(status) ? status : [status];
  return eventually(
    async () => {
      const r = await api.get<Run & { output?: unknown }>(`/v1/runs/${runId}`);
      return want.includes(r.status) ? r : null;
    },
    ms,
    `run ${runId} to be ${want.join(" or ")}`,
  );
}

/** The calls that wait for approval in the organisation. */
export async function pendingApprovals(api: Api): Promise<PendingApproval[]> {
  return (await api.get<{ items: PendingApproval[] }>("/v1/approvals?limit=200")).items;
}

/**
 * A viewer of `owner`'s organisation: the owner invites a new address with the role viewer, that person
 * registers (which gives them an organisation of their own too) and accepts the invitation.
 */
export async function inviteViewer(request: APIRequestContext, ownerApi: Api, tag: string): Promise<{ viewer: User; viewerApi: Api }> {
  const data = newUserData(`${tag}-viewer`);
  const invitation = await ownerApi.post<{ token: string }>("/v1/invitations", { email: data.email, role: "viewer" });
  const res = await check(
    await request.post("/v1/auth/register", {
      data: { email: data.email, password: data.password, organization_name: data.orgName, display_name: data.displayName },
    }),
    `register ${data.email}`,
  );
  const own = ((await res.json()) as { organization_id: string }).organization_id;
  const viewer: User = { ...data, orgId: own };
  await new Api(request, viewer).post("/v1/invitations/accept", { token: invitation.token });
  return { viewer, viewerApi: new Api(request, viewer, ownerApi.user.orgId) };
}
