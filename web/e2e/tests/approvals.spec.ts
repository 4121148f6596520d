/** The approvals inbox: waiting calls from runs appear there with a count in the navigation; decide there. */
import { createAgent, pendingApprovals, startRun, waitForRun } from "../support/api";
import { QUESTION } from "../support/chat";
import { expect, test } from "../support/fixtures";

test("the approvals inbox lists waiting calls with a nav badge and decides them", async ({ page, owner, ownerApi, login, snap }) => {
  const agent = await createAgent(ownerApi, "Inbox triage");
  const first = await startRun(ownerApi, agent.id, QUESTION);
  const second = await startRun(ownerApi, agent.id, "WS-0777 beacons to 203.0.113.99");
  await waitForRun(ownerApi, first.id, "awaiting_approval");
  await waitForRun(ownerApi, second.id, "awaiting_approval");

  await login(page, owner);
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByLabel("2 tool calls waiting for approval")).toBeVisible();
  await expect(nav.getByLabel("2 tool calls waiting for approval")).toHaveText("2");
  await nav.getByRole("link", { name: /Approvals/ }).click();
  await expect(page).toHaveURL(/\/approvals$/);
  await expect(page.getByRole("heading", { level: 1, name: "Approvals" })).toBeVisible();

  const list = page.getByRole("list", { name: "Waiting tool calls" });
  const cards = list.getByRole("listitem");
  await expect(cards).toHaveCount(2);
  const firstCard = cards.filter({ has: page.getByRole("link", { name: `Run ${first.id}` }) });
  const secondCard = cards.filter({ has: page.getByRole("link", { name: `Run ${second.id}` }) });
  await expect(firstCard.getByRole("heading", { name: "demo_isolate_host" })).toBeVisible();
  await expect(firstCard).toContainText("High risk");
  await expect(firstCard).toContainText(agent.name);
  await expect(firstCard).toContainText("WS-0142");
  await expect(secondCard).toContainText("WS-0777");
  await snap("approvals-inbox-two-waiting");

  // Approve the first.
  await firstCard.getByRole("button", { name: "Approve" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Approved demo_isolate_host." })).toBeVisible();
  await expect(cards).toHaveCount(1);
  await expect(nav.getByLabel("1 tool call waiting for approval")).toBeVisible();
  const done = await waitForRun(ownerApi, first.id, "finished");
  expect(JSON.stringify(done.output)).toContain("WS-0142 is isolated from the network");

  // Deny the second: a reason is required.
  await secondCard.getByRole("button", { name: "Deny…" }).click();
  const reason = secondCard.getByRole("textbox", { name: "Reason for denying" });
  await secondCard.getByRole("button", { name: "Deny call" }).click();
  // The field is required (the browser's own validation stops the empty submit); nothing was decided.
  expect(await reason.evaluate((e) => (e as HTMLTextAreaElement).validity.valueMissing)).toBe(true);
  expect((await pendingApprovals(ownerApi)).map((p) => p.run_id)).toEqual([second.id]);
  await reason.fill("Change freeze until Monday");
  await secondCard.getByRole("button", { name: "Deny call" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Denied demo_isolate_host." })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Nothing waits for a decision" })).toBeVisible();
  await expect(nav.getByLabel(/waiting for approval/)).toHaveCount(0);
  const denied = await waitForRun(ownerApi, second.id, "finished");
  expect(JSON.stringify(denied.output)).toContain("WS-0777 was not isolated");
  expect(await pendingApprovals(ownerApi)).toEqual([]);
  await snap();
});

test("the approvals inbox edits the arguments of a waiting call", async ({ page, owner, ownerApi, login, snap }) => {
  const agent = await createAgent(ownerApi, "Inbox edit");
  const run = await startRun(ownerApi, agent.id, QUESTION);
  await waitForRun(ownerApi, run.id, "awaiting_approval");
  await login(page, owner);
  await page.goto("/approvals");
  const card = page.getByRole("list", { name: "Waiting tool calls" }).getByRole("listitem");
  await expect(card).toHaveCount(1);
  await card.getByRole("button", { name: "Edit arguments…" }).click();
  const args = card.getByRole("textbox", { name: "Arguments (JSON)" });
  await expect(args).toHaveValue(/WS-0142/);
  await args.fill("[1, 2]");
  await card.getByRole("button", { name: "Run with these arguments" }).click();
  await expect(card.getByText("The arguments must be a JSON object")).toBeVisible();
  await args.fill(JSON.stringify({ hostname: "WS-0143" }));
  await card.getByRole("button", { name: "Run with these arguments" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Approved demo_isolate_host with edited arguments." })).toBeVisible();
  const done = await waitForRun(ownerApi, run.id, "finished");
  expect(JSON.stringify(done.output)).toContain("WS-0143");
  await snap();
});
