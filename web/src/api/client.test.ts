import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useAuthStore } from "../auth/store";
import { refreshSession } from "../auth/tokens";
import { api, unwrap } from "./client";
import { ApiProblem } from "./problem";

const session = (token: string) => ({
  access_token: token,
  token_type: "Bearer",
  expires_in: 900,
  organization_id: "01a23719-2308-74ba-8f63-9cff99e6d355",
  role: "owner",
});

const me = { organization_id: "o", role: "owner", kind: "user", permissions: ["chats_use"], organizations: [] };

function json(body: unknown, status = 200, type = "application/json") {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": type } });
}

let calls: { url: string; auth: string | null; csrf: string | null; body: string | null }[] = [];

beforeEach(() => {
  calls = [];
  vi.stubGlobal("document", { cookie: "other=1; secops_csrf=csrf%20value" });
  useAuthStore.getState().setSession({ accessToken: "old", expiresAt: Date.now() + 60_000, organizationId: "o", role: "owner" });
});

afterEach(() => {
  vi.unstubAllGlobals();
});

function stubFetch(handler: (path: string, req: Request) => Response | Promise<Response>) {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: Request | string, init?: RequestInit) => {
      const req = typeof input === "string" ? new Request(new URL(input, "http://localhost"), init) : input;
      const body = req.method === "GET" ? null : await req.clone().text();
      calls.push({ url: new URL(req.url).pathname, auth: req.headers.get("authorization"), csrf: req.headers.get("x-csrf-token"), body });
      return handler(new URL(req.url).pathname, req);
    }),
  );
}

describe("auth middleware", () => {
  it("adds the bearer token, refreshes once on a 401 and retries", async () => {
    stubFetch((path, req) => {
      if (path === "/v1/auth/refresh") return json(session("new"));
      return req.headers.get("authorization") === "Bearer new" ? json(me) : json({ type: "x", title: "t", status: 401, detail: "expired", code: "unauthorized" }, 401);
    });
    const data = await unwrap(api.GET("/v1/me"));
    expect(data.permissions).toEqual(["chats_use"]);
    expect(calls.map((c) => [c.url, c.auth])).toEqual([
      ["/v1/me", "Bearer old"],
      ["/v1/auth/refresh", null],
      ["/v1/me", "Bearer new"],
    ]);
    // Cookie mode: no body, the CSRF cookie's value in the header.
    expect(calls[1]?.csrf).toBe("csrf value");
    expect(calls[1]?.body).toBe("");
    expect(useAuthStore.getState().session?.accessToken).toBe("new");
  });

  it("ends the session when the refresh fails", async () => {
    stubFetch((path) =>
      path === "/v1/auth/refresh"
        ? json({ type: "x", title: "t", status: 401, detail: "no session", code: "unauthorized" }, 401)
        : json({ type: "x", title: "t", status: 401, detail: "expired", code: "unauthorized" }, 401),
    );
    const err = await unwrap(api.GET("/v1/me")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiProblem);
    expect(useAuthStore.getState().status).toBe("anonymous");
    expect(useAuthStore.getState().lostReason).toMatch(/sign in again/);
  });

  it("does not refresh on a failed login", async () => {
    stubFetch(() => json({ type: "x", title: "t", status: 401, detail: "wrong", code: "unauthorized" }, 401));
    await expect(unwrap(api.POST("/v1/auth/login", { body: { email: "a@b.c", password: "x" } }))).rejects.toMatchObject({ status: 401 });
    expect(calls.map((c) => c.url)).toEqual(["/v1/auth/login"]);
  });

  it("shares one refresh between concurrent callers", async () => {
    let refreshes = 0;
    stubFetch(async (path) => {
      if (path === "/v1/auth/refresh") {
        refreshes++;
        await new Promise((r) => setTimeout(r, 10));
        return json(session(`t${refreshes}`));
      }
      return json(me);
    });
    const results = await Promise.all([refreshSession(), refreshSession(), refreshSession()]);
    expect(results).toEqual([true, true, true]);
    expect(refreshes).toBe(1);
  });
});

describe("problems", () => {
  it("turns a problem document into an ApiProblem with detail and code", async () => {
    stubFetch(() =>
      json({ type: "about:blank", title: "Too Many Requests", status: 429, detail: "too many failed logins; retry in 30 seconds", code: "too_many_attempts" }, 429, "application/problem+json"),
    );
    const err = await unwrap(api.POST("/v1/auth/login", { body: { email: "a@b.c", password: "x" } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiProblem);
    expect(err).toMatchObject({ status: 429, code: "too_many_attempts", detail: "too many failed logins; retry in 30 seconds" });
  });

  it("reports an unreachable server as network_error", async () => {
    vi.stubGlobal("fetch", vi.fn(() => Promise.reject(new TypeError("Failed to fetch"))));
    await expect(unwrap(api.GET("/v1/chats"))).rejects.toMatchObject({ status: 0, code: "network_error" });
  });
});
