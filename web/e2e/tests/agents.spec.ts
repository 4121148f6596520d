/** Agents: create one in the UI, prompt versions (new version, diff, activate), and a run started from the agent. */
import { createAgent, waitForRun, type Agent } from "../support/api";
import { QUESTION } from "../support/chat";
import { expect, test } from "../support/fixtures";

test("an agent is created in the UI with the demo tools", async ({ page, owner, ownerApi, login, snap }) => {
  await login(page, owner);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Agents" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Agents" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "No agents yet" })).toBeVisible();
  await page.getByRole("link", { name: "New agent" }).first().click();
  await expect(page).toHaveURL(/\/agents\/new$/);
  const form = page.getByRole("form", { name: "New agent" });
  // Required fields are checked before anything is sent.
  await form.getByRole("button", { name: "Create agent" }).click();
  await expect(form.getByRole("textbox", { name: "Name" })).toHaveAttribute("aria-invalid", "true");
  await form.getByRole("textbox", { name: "Name" }).fill("UI triage agent");
  await form.getByRole("textbox", { name: "Description" }).fill("Triages beaconing alerts.");
  await form.getByRole("textbox", { name: "System prompt" }).fill("You are a careful SOC analyst.\nTriage the alert step by step.");
  await form.getByRole("checkbox", { name: /demo_lookup_ip/ }).check();
  await form.getByRole("checkbox", { name: /demo_isolate_host/ }).check();
  await expect(form.getByRole("combobox", { name: "Approval for demo_isolate_host" })).toBeVisible();
  await form.getByRole("button", { name: "Create agent" }).click();

  await expect(page).toHaveURL(/\/agents\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { level: 1, name: /UI triage agent/ })).toBeVisible();
  const id = new URL(page.url()).pathname.split("/").pop() ?? "";
  const agent = await ownerApi.get<Agent & { tools: string[]; description: string }>(`/v1/agents/${id}`);
  expect(agent.name).toBe("UI triage agent");
  expect(agent.description).toBe("Triages beaconing alerts.");
  expect([...agent.tools].sort()).toEqual(["demo_isolate_host", "demo_lookup_ip"]);
  expect(agent.active_prompt_version).toBe(1);

  // It is listed.
  await page.getByRole("link", { name: "all agents" }).click();
  const row = page.getByRole("table", { name: "Agents" }).getByRole("row").filter({ hasText: "UI triage agent" });
  await expect(row).toHaveCount(1);
  await snap();
});

test("a new prompt version, its diff, and activating it", async ({ page, owner, ownerApi, login, snap }) => {
  const agent = await createAgent(ownerApi, "Prompt agent");
  await login(page, owner);
  await page.goto(`/agents/${agent.id}`);
  await expect(page.getByRole("heading", { level: 1, name: /Prompt agent/ })).toBeVisible();
  await page.getByRole("tab", { name: "Prompts" }).click();
  await expect(page).toHaveURL(/tab=prompts/);

  const prompt = page.getByRole("textbox", { name: "Prompt" });
  await expect(prompt).toHaveValue("You are a careful SOC analyst. Triage the alert.");
  await prompt.fill("You are a careful SOC analyst. Triage the alert.\nAlways check the reputation of every address first.");
  await page.getByRole("textbox", { name: "Note" }).fill("Reputation first");
  // Saved without activating: it is activated after looking at the diff.
  await page.getByRole("checkbox", { name: "Make it the active version" }).uncheck();
  await page.getByRole("button", { name: "Save version" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved version 2 (not active)." })).toBeVisible();
  await expect(page.getByRole("heading", { level: 3, name: "Version 2" })).toBeVisible();
  await expect(page.getByText("Reputation first")).toBeVisible();

  // The diff between version 1 and 2.
  const compare = page.getByRole("region", { name: "Compare versions" });
  await compare.getByRole("combobox", { name: "From (older)" }).selectOption({ label: "Version 1" });
  await compare.getByRole("combobox", { name: "To (newer)" }).selectOption({ label: "Version 2" });
  await compare.getByRole("button", { name: "Compare" }).click();
  const diff = page.getByRole("group", { name: "Differences between version 1 and version 2" });
  await expect(diff).toBeVisible();
  await expect(diff).toContainText("Added: Always check the reputation of every address first.");
  await snap("prompt-diff");

  // Activate version 2.
  await page.getByRole("button", { name: "Activate version 2" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Version 2 is now active." })).toBeVisible();
  await expect(page.getByRole("button", { name: "Activate version 2" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Activate version 1" })).toBeVisible();
  expect((await ownerApi.get<Agent>(`/v1/agents/${agent.id}`)).active_prompt_version).toBe(2);
  await snap();
});

test("a run started from the agent page opens its timeline", async ({ page, owner, ownerApi, login, snap }) => {
  const agent = await createAgent(ownerApi, "Run-now agent");
  await login(page, owner);
  await page.goto(`/agents/${agent.id}`);
  await page.getByRole("button", { name: "Run now" }).click();
  const dialog = page.getByRole("dialog", { name: `Run ${agent.name} now` });
  await dialog.getByRole("textbox", { name: "Input" }).fill(QUESTION);
  await dialog.getByRole("button", { name: "Start run" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Started a run of ${agent.name}.` })).toBeVisible();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  const runId = new URL(page.url()).pathname.split("/").pop() ?? "";

  const header = page.getByRole("heading", { level: 1 });
  await expect(header).toContainText("Awaiting approval", { timeout: 20_000 });
  const timeline = page.getByRole("list", { name: "Run timeline" });
  await expect(timeline).toContainText("Run started");
  await expect(timeline).toContainText("Tool call demo_lookup_ip");
  await page.getByRole("region", { name: /Waiting for a decision/ }).getByRole("button", { name: "Approve" }).click();
  await expect(header).toContainText("Finished", { timeout: 20_000 });
  await waitForRun(ownerApi, runId, "finished");

  // The agent's Runs tab lists it.
  await page.getByRole("link", { name: agent.name }).first().click();
  await page.getByRole("tab", { name: "Runs" }).click();
  const runs = page.getByRole("table", { name: "Runs of this agent" });
  await expect(runs.getByRole("link", { name: `Run ${runId}` })).toBeVisible();
  await expect(runs.getByRole("row").filter({ has: page.getByRole("link", { name: `Run ${runId}` }) })).toContainText("Finished");
  await snap();
});
