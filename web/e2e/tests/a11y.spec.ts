/**
 * axe-core on every page, with real data on it: no violation of impact serious or critical (all violations are
 * printed, and attached to the report). Light theme page by page, then the dark theme over the same pages.
 */
import type { APIRequestContext, Page } from "@playwright/test";
import { Api, createAgent, registerUser, startRun, waitForRun, type Agent, type User } from "../support/api";
import { baseURL } from "../support/env";
import { QUESTION, expectAwaitingApproval, newChat, sendMessage } from "../support/chat";
import { expect, test } from "../support/fixtures";
import { ingest, uploadRule, WHOAMI_TITLE } from "../support/rules";

interface World {
  agent: Agent;
  runId: string;
  detectionId: string;
}

/** An organisation with an agent, a run waiting for approval, a rule and a detection. */
async function world(api: Api): Promise<World> {
  const agent = await createAgent(api, "A11y agent");
  const run = await startRun(api, agent.id, QUESTION);
  await uploadRule(api);
  const [detection] = await ingest(api);
  await waitForRun(api, run.id, "awaiting_approval");
  return { agent, runId: run.id, detectionId: detection?.id ?? "" };
}

/** One organisation with data for all the page checks below (made once per worker, not per test). */
let shared: { request: APIRequestContext; owner: User; w: World } | null = null;

test.beforeAll(async ({ playwright }) => {
  const request = await playwright.request.newContext({ baseURL: baseURL() });
  const owner = await registerUser(request, "a11y-pages");
  shared = { request, owner, w: await world(new Api(request, owner)) };
});

test.afterAll(async () => {
  await shared?.request.dispose();
  shared = null;
});

function sharedWorld(): { owner: User; w: World } {
  if (!shared) throw new Error("beforeAll did not set up the shared organisation");
  return shared;
}

/** Each page: where it is and what shows it has loaded its data. */
const PAGES: { name: string; path: (w: World) => string; ready: (page: Page, w: World) => Promise<void> }[] = [
  {
    name: "approvals",
    path: () => "/approvals",
    ready: async (page) => {
      await expect(page.getByRole("list", { name: "Waiting tool calls" }).getByRole("listitem")).toHaveCount(1);
    },
  },
  {
    name: "agents",
    path: () => "/agents",
    ready: async (page, w) => {
      await expect(page.getByRole("heading", { level: 1, name: "Agents" })).toBeVisible();
      await expect(page.getByRole("main").getByText(w.agent.name).first()).toBeVisible();
    },
  },
  {
    name: "agent detail",
    path: (w) => `/agents/${w.agent.id}`,
    ready: async (page, w) => {
      await expect(page.getByRole("heading", { level: 1, name: w.agent.name })).toBeVisible();
    },
  },
  {
    name: "run",
    path: (w) => `/runs/${w.runId}`,
    ready: async (page) => {
      await expect(page.getByRole("heading", { level: 1 })).toContainText("Awaiting approval");
      await expect(page.getByRole("list", { name: "Run timeline" })).toContainText("Tool call demo_isolate_host");
    },
  },
  {
    name: "detections",
    path: () => "/detections",
    ready: async (page) => {
      await expect(page.getByRole("table", { name: "Detections" }).getByRole("row").filter({ hasText: WHOAMI_TITLE })).toHaveCount(1);
    },
  },
  {
    name: "detection detail",
    path: (w) => `/detections/${w.detectionId}`,
    ready: async (page) => {
      await expect(page.getByRole("heading", { level: 1, name: WHOAMI_TITLE })).toBeVisible();
    },
  },
  {
    name: "rules",
    path: () => "/detections/rules",
    ready: async (page) => {
      await expect(page.getByRole("table", { name: "Detection rules" }).getByRole("row").filter({ hasText: WHOAMI_TITLE })).toHaveCount(1);
    },
  },
  {
    name: "coverage",
    path: () => "/coverage",
    ready: async (page) => {
      await expect(page.getByRole("region", { name: "Coverage heatmap, by tactic" })).toBeVisible();
    },
  },
  {
    name: "audit",
    path: () => "/audit",
    ready: async (page) => {
      await expect(page.getByRole("list", { name: "Audit events" }).getByRole("button").first()).toBeVisible();
    },
  },
  {
    name: "settings members",
    path: () => "/settings/members",
    ready: async (page) => {
      await expect(page.getByRole("table", { name: "Members" }).getByRole("row")).not.toHaveCount(0);
    },
  },
  {
    name: "settings api keys",
    path: () => "/settings/api-keys",
    ready: async (page) => {
      await expect(page.getByRole("heading", { level: 2, name: "API keys", exact: true })).toBeVisible();
    },
  },
  {
    name: "settings tools",
    path: () => "/settings/tools",
    ready: async (page) => {
      await expect(page.getByRole("heading", { level: 1, name: "Settings" })).toBeVisible();
      await expect(page.getByRole("heading", { level: 2 }).first()).toBeVisible();
    },
  },
];

test("accessibility: login page", async ({ page, checkA11y, snap }) => {
  await page.goto("/login");
  await expect(page.getByRole("heading", { level: 1, name: "Sign in" })).toBeVisible();
  await checkA11y("login");
  // With an error shown.
  await page.getByRole("textbox", { name: "E-mail", exact: true }).fill("nobody@example.com");
  await page.getByRole("textbox", { name: "Password", exact: true }).fill("not the password at all");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Wrong" })).toBeVisible();
  await checkA11y("login with an error");
  await snap();
});

test("accessibility: register page", async ({ page, checkA11y, snap }) => {
  await page.goto("/register");
  await expect(page.getByRole("heading", { level: 1, name: "Create an organisation" })).toBeVisible();
  await checkA11y("register");
  await page.getByRole("textbox", { name: "Password", exact: true }).fill("short");
  await page.getByRole("button", { name: "Create organisation" }).click();
  await expect(page.getByText(/At least \d+ characters/)).toBeVisible();
  await checkA11y("register with an error");
  await snap();
});

test("accessibility: chat page with a streamed answer and a call awaiting approval", async ({ page, owner, ownerApi, login, checkA11y, snap }) => {
  const agent = await createAgent(ownerApi, "A11y chat");
  await login(page, owner);
  await checkA11y("chat, no chat yet");
  await newChat(page, agent.name, "Accessible chat");
  await sendMessage(page, QUESTION);
  await expectAwaitingApproval(page);
  await checkA11y("chat awaiting approval");
  await page.getByRole("button", { name: "New chat" }).first().click();
  await expect(page.getByRole("dialog", { name: "New chat" })).toBeVisible();
  await checkA11y("new chat dialog");
  await snap();
});

for (const p of PAGES) {
  test(`accessibility: ${p.name} page`, async ({ page, login, checkA11y, snap }) => {
    const { owner, w } = sharedWorld();
    await login(page, owner);
    await page.goto(p.path(w));
    await p.ready(page, w);
    await checkA11y(p.name);
    await snap();
  });
}

test("accessibility: every page in the dark theme", async ({ page, login, checkA11y, snap }) => {
  test.setTimeout(240_000);
  const { owner, w } = sharedWorld();
  const failures: string[] = [];
  const check = async (name: string, ready: () => Promise<void>) => {
    try {
      await ready();
      await checkA11y(`${name} (dark)`);
    } catch (e) {
      failures.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto("/register");
  await expect(page.locator("html")).toHaveClass(/dark/);
  await check("register", () => expect(page.getByRole("heading", { level: 1 })).toBeVisible());
  await page.goto("/login");
  await check("login", () => expect(page.getByRole("heading", { level: 1, name: "Sign in" })).toBeVisible());
  await login(page, owner);
  await check("chat", () => expect(page.getByRole("heading", { level: 1, name: "Chats" })).toBeVisible());
  for (const p of PAGES) {
    await page.goto(p.path(w));
    await check(p.name, () => p.ready(page, w));
  }
  await snap();
  expect(failures, failures.join("\n\n")).toEqual([]);
});
