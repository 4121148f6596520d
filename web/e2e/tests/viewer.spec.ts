/**
 * A viewer (invited by the owner with the role viewer) sees no write controls, and the server refuses the
 * writes they force with their own session's token.
 */
import type { Page } from "@playwright/test";
import { createAgent, inviteViewer, startRun, waitForRun, type User } from "../support/api";
import { QUESTION } from "../support/chat";
import { expect, test } from "../support/fixtures";
import { EVENTS_NDJSON, WHOAMI, WHOAMI_TITLE, ingest, uploadRule } from "../support/rules";

/** Signs the viewer in and moves the session to `org` with the organisation menu if it is not there yet. */
async function intoOrg(page: Page, org: User): Promise<void> {
  const banner = page.getByRole("banner");
  const switcher = banner.getByRole("button", { name: /^Organisation: .*Switch organisation$/ });
  await expect(switcher).toBeVisible();
  if (!(await switcher.innerText()).includes(org.orgName)) {
    await switcher.click();
    await page.getByRole("menuitemradio", { name: new RegExp(org.orgName) }).click();
  }
  await expect(switcher).toContainText(org.orgName);
}

test("a viewer sees no write controls and the server refuses their writes", async ({ page, request, owner, ownerApi, login, sessions, snap }) => {
  const agent = await createAgent(ownerApi, "Viewer visible agent");
  await uploadRule(ownerApi);
  await ingest(ownerApi);
  const run = await startRun(ownerApi, agent.id, QUESTION);
  await waitForRun(ownerApi, run.id, "awaiting_approval");
  const { viewer, viewerApi } = await inviteViewer(request, ownerApi, "viewer-controls");
  expect((await viewerApi.get<{ role: string }>("/v1/me")).role).toBe("viewer");

  await login(page, viewer);
  await intoOrg(page, owner);
  // The start page of a role without chats is the detection queue.
  await page.goto("/");
  await expect(page).toHaveURL(/\/detections$/);

  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Detections" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Chat" })).toHaveCount(0);
  await expect(nav.getByRole("link", { name: "Audit" })).toHaveCount(0);

  // Detections: the queue without "Post events" or workflow buttons.
  const row = page.getByRole("table", { name: "Detections" }).getByRole("row").filter({ hasText: WHOAMI_TITLE });
  await expect(row).toHaveCount(1);
  await expect(page.getByRole("button", { name: "Post events" })).toHaveCount(0);
  await expect(row.getByRole("button")).toHaveCount(0);
  await row.getByRole("link", { name: WHOAMI_TITLE }).click();
  await expect(page.getByRole("heading", { level: 1, name: WHOAMI_TITLE })).toBeVisible();
  await expect(page.getByRole("group", { name: "Workflow" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Assign to me" })).toHaveCount(0);
  await expect(page.getByRole("textbox", { name: "Add a note" })).toHaveCount(0);

  // Rules: listed, with no upload, switch or delete.
  await page.goto("/detections/rules");
  const rules = page.getByRole("table", { name: "Detection rules" });
  await expect(rules.getByRole("row").filter({ hasText: WHOAMI_TITLE })).toHaveCount(1);
  await expect(page.getByRole("button", { name: "Upload rule" })).toHaveCount(0);
  await expect(rules.getByRole("switch")).toHaveCount(0);
  await expect(rules.getByRole("button", { name: /^Delete rule/ })).toHaveCount(0);
  await expect(rules).toContainText("Enabled");

  // Approvals: the waiting call is shown, without decisions.
  await page.goto("/approvals");
  const card = page.getByRole("list", { name: "Waiting tool calls" }).getByRole("listitem");
  await expect(card).toHaveCount(1);
  await expect(card).toContainText("Your role can see waiting calls but not decide on them.");
  await expect(card.getByRole("button", { name: "Approve" })).toHaveCount(0);

  // The run page: no cancel, no decision buttons.
  await page.goto(`/runs/${run.id}`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Awaiting approval");
  await expect(page.getByRole("button", { name: "Cancel run" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Approve" })).toHaveCount(0);

  // The chat says the role cannot use it.
  await page.goto("/chat");
  await expect(page.getByRole("heading", { name: "Chats are not available to your role" })).toBeVisible();
  await expect(page.getByRole("button", { name: "New chat" })).toHaveCount(0);
  await snap();

  // Forcing writes with the browser session's own token: the server refuses every one.
  const token = sessions.latest();
  const auth = { Authorization: `Bearer ${token}` };
  const me = await page.request.get("/v1/me", { headers: auth });
  expect(me.status()).toBe(200);
  expect(((await me.json()) as { role: string; organization_id: string }).organization_id).toBe(owner.orgId);
  const writes: [string, string, unknown][] = [
    ["POST", "/v1/agents", { name: "viewer-made", system_prompt: "x" }],
    ["PATCH", `/v1/agents/${agent.id}`, { description: "changed by a viewer", version: agent.version }],
    ["POST", `/v1/agents/${agent.id}/runs`, { input: QUESTION }],
    ["POST", "/v1/detection-rules", { yaml: WHOAMI.replace("9d01", "9d42") }],
    ["POST", "/v1/api-keys", { name: "viewer key" }],
    ["POST", "/v1/invitations", { email: "someone@example.com", role: "viewer" }],
    ["POST", "/v1/tool-configs", { name: "viewer-tool", kind: "virustotal", settings: {} }],
    ["POST", `/v1/runs/${run.id}/approvals/${encodeURIComponent((await ownerApi.get<{ items: { tool_call_id: string }[] }>("/v1/approvals")).items[0]?.tool_call_id ?? "x")}`, { decision: "approve" }],
  ];
  for (const [method, url, data] of writes) {
    const res = await page.request.fetch(url, { method, headers: auth, data: data as object });
    expect(res.status(), `${method} ${url} as a viewer: ${await res.text()}`).toBe(403);
  }
  const ingestRes = await page.request.post("/v1/events", {
    headers: { ...auth, "Content-Type": "application/x-ndjson" },
    data: EVENTS_NDJSON,
  });
  expect(ingestRes.status()).toBe(403);
  // Nothing changed: the run still waits.
  expect((await waitForRun(ownerApi, run.id, "awaiting_approval")).status).toBe("awaiting_approval");
});

test("a viewer sees no write controls on the agents and settings pages", async ({ page, request, owner, ownerApi, login, snap }) => {
  const agent = await createAgent(ownerApi, "Viewer agent page");
  const { viewer } = await inviteViewer(request, ownerApi, "viewer-settings");
  await login(page, viewer);
  await intoOrg(page, owner);

  await page.goto("/agents");
  await expect(page.getByRole("heading", { level: 1, name: "Agents" })).toBeVisible();
  await expect(page.getByRole("link", { name: agent.name })).toBeVisible();
  await expect(page.getByRole("link", { name: "New agent" }).or(page.getByRole("button", { name: "New agent" }))).toHaveCount(0);
  await page.getByRole("link", { name: agent.name }).click();
  await expect(page.getByRole("heading", { level: 1, name: agent.name })).toBeVisible();
  for (const name of ["Save", "Save changes", "Delete", "Delete agent", "New version", "Activate", "Start run", "Run agent"]) {
    await expect(page.getByRole("button", { name, exact: true })).toHaveCount(0);
  }

  await page.goto("/settings/members");
  const members = page.getByRole("table", { name: "Members" });
  await expect(members.getByRole("row")).toHaveCount(3); // header + owner + viewer
  await expect(members.getByRole("combobox")).toHaveCount(0);
  await expect(members.getByRole("button")).toHaveCount(0);
  await expect(page.getByRole("form", { name: "Invite a member" })).toHaveCount(0);

  await page.goto("/settings/api-keys");
  await expect(page.getByRole("button", { name: "Create API key" })).toHaveCount(0);

  await page.goto("/settings/tools");
  await expect(page.getByRole("heading", { level: 1, name: "Settings" })).toBeVisible();
  for (const name of [/^New tool/, /^Add tool/, /^Create/, /^Delete/, /^Save/]) {
    await expect(page.getByRole("main").getByRole("button", { name })).toHaveCount(0);
  }
  await snap();
});
