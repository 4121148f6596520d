/** The run page: a run's facts and its event timeline, live while it runs, with its waiting call decided there. */
import { createAgent, startRun, waitForRun } from "../support/api";
import { QUESTION } from "../support/chat";
import { expect, test } from "../support/fixtures";

test("a run's timeline shows its events, and the waiting call is approved on the run page", async ({ page, owner, ownerApi, login, snap }) => {
  const agent = await createAgent(ownerApi, "Run timeline");
  const run = await startRun(ownerApi, agent.id, QUESTION);
  await waitForRun(ownerApi, run.id, "awaiting_approval");

  await login(page, owner);
  await page.goto(`/runs/${run.id}`);
  const header = page.getByRole("heading", { level: 1 });
  // The title names the run by a short form of its id (either end of the UUID).
  await expect(header).toContainText(new RegExp(`Run (${run.id.slice(0, 8)}|${run.id.slice(-8)})`));
  await expect(header).toContainText("Awaiting approval");
  await expect(page.getByRole("link", { name: agent.name })).toBeVisible();
  await expect(page.getByText(run.id, { exact: true })).toBeVisible();

  const timeline = page.getByRole("list", { name: "Run timeline" });
  await expect(timeline).toContainText("Run started");
  await expect(timeline).toContainText("Model call 1");
  const lookup = timeline.getByRole("article").filter({ hasText: "Tool call demo_lookup_ip" });
  await expect(lookup).toContainText("Succeeded");
  const isolate = timeline.getByRole("article").filter({ hasText: "Tool call demo_isolate_host" });
  await expect(isolate).toContainText("Awaiting approval");

  const waiting = page.getByRole("region", { name: /Waiting for a decision \(1\)/ });
  await expect(waiting).toContainText("demo_isolate_host");
  await expect(waiting).toContainText("High risk");
  await snap("run-timeline-awaiting-approval");
  await waiting.getByRole("button", { name: "Approve" }).click();

  await expect(header).toContainText("Finished", { timeout: 20_000 });
  await expect(isolate).toContainText("Succeeded");
  await expect(timeline).toContainText("Model call 3");
  await expect(timeline.getByRole("heading", { name: "Finished · Completed" })).toBeVisible();
  await expect(page.getByRole("region", { name: /Waiting for a decision/ })).toHaveCount(0);
  const done = await waitForRun(ownerApi, run.id, "finished");
  expect(JSON.stringify(done.output)).toContain("WS-0142 is isolated");

  // A reload rebuilds the same timeline from the stored events.
  await page.reload();
  await expect(header).toContainText("Finished");
  await expect(timeline).toContainText("Tool call demo_isolate_host");
  await snap();
});

test("a run page follows a live run as it starts", async ({ page, owner, ownerApi, login, snap }) => {
  const agent = await createAgent(ownerApi, "Run live");
  await login(page, owner);
  const run = await startRun(ownerApi, agent.id, "WS-0555 beacons to 198.51.100.77");
  await page.goto(`/runs/${run.id}`);
  const header = page.getByRole("heading", { level: 1 });
  // Without a reload, the page moves on as events arrive.
  await expect(header).toContainText("Awaiting approval", { timeout: 20_000 });
  await expect(page.getByRole("list", { name: "Run timeline" })).toContainText("Tool call demo_isolate_host");
  await page.getByRole("button", { name: "Cancel run" }).click();
  const confirm = page.getByRole("dialog", { name: "Cancel this run?" });
  await confirm.getByRole("button", { name: "Cancel run" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Run cancelled." })).toBeVisible();
  await expect(header).toContainText("Cancelled", { timeout: 20_000 });
  await waitForRun(ownerApi, run.id, "cancelled");
  await snap();
});

test("an unknown run shows a not-found state", async ({ page, owner, login, snap }) => {
  await login(page, owner);
  await page.goto("/runs/00000000-0000-7000-8000-000000000000");
  await expect(page.getByText("This run does not exist (or belongs to another organisation)")).toBeVisible();
  await snap();
});
