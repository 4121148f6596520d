/** The audit log: search with a filter, verify the hash chain, export the filtered events as NDJSON. */
import { readFile } from "node:fs/promises";
import { createAgent } from "../support/api";
import { uploadRule } from "../support/rules";
import { expect, test } from "../support/fixtures";

test("audit search with a filter, chain verification and NDJSON export", async ({ page, owner, ownerApi, login, snap }) => {
  await createAgent(ownerApi, "Audited agent one");
  await createAgent(ownerApi, "Audited agent two");
  await uploadRule(ownerApi);
  await login(page, owner);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Audit log" })).toBeVisible();

  const list = page.getByRole("list", { name: "Audit events" });
  const rows = list.getByRole("button", { name: /^#\d+ / });
  await expect(list.getByRole("button", { name: /POST \/v1\/agents, success/ })).toHaveCount(2);
  await expect(list.getByRole("button", { name: /POST \/v1\/detection-rules, success/ })).toHaveCount(1);

  // Filter by action: only the two agent creations are left.
  const search = page.getByRole("search", { name: "Filter audit events" });
  await search.getByRole("textbox", { name: "Action" }).fill("POST /v1/agents");
  await search.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/action=POST/);
  await expect(rows).toHaveCount(2);
  await expect(list.getByRole("button", { name: /POST \/v1\/detection-rules/ })).toHaveCount(0);
  await expect(page.getByText("2 events loaded, the end of the log")).toBeVisible();

  // A row expands to the full event.
  await rows.first().click();
  await expect(rows.first()).toHaveAttribute("aria-expanded", "true");
  await expect(rows.nth(1)).toHaveAttribute("aria-expanded", "false");
  await expect(list.getByRole("group", { name: "Filter by this event" })).toBeVisible();

  // Verify the chain.
  await page.getByRole("button", { name: "Verify chain" }).click();
  await expect(page.getByText(/Chain intact: \d+ events? checked\./)).toBeVisible();

  // Export the filtered events.
  const downloading = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export NDJSON" }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^audit-events-.*\.ndjson$/);
  const file = await download.path();
  const lines = (await readFile(file, "utf8")).split("\n").filter((l) => l.trim() !== "");
  expect(lines).toHaveLength(2);
  for (const line of lines) {
    const event = JSON.parse(line) as { action: string; outcome: string; resource_kind: string };
    expect(event.action).toBe("POST /v1/agents");
    expect(event.outcome).toBe("success");
  }
  await expect(page.getByRole("status").filter({ hasText: "Audit events exported." })).toBeVisible();
  await snap();

  // Clearing the filters shows everything again.
  await search.getByRole("button", { name: "Clear filters" }).click();
  await expect(list.getByRole("button", { name: /POST \/v1\/detection-rules, success/ })).toHaveCount(1);
});

test("audit filter by outcome finds a denied request", async ({ page, owner, ownerApi, login, snap }) => {
  // A refused write (a name already taken) is audited as a failure.
  await createAgent(ownerApi, "Dup agent");
  const dup = await ownerApi.raw("POST", "/v1/agents", { name: "Dup agent", system_prompt: "x" });
  expect(dup.status()).toBe(409);
  await login(page, owner);
  await page.goto("/audit?outcome=failure");
  const list = page.getByRole("list", { name: "Audit events" });
  await expect(page.getByRole("search", { name: "Filter audit events" }).getByRole("combobox", { name: "Outcome" })).toHaveValue("failure");
  await expect(list.getByRole("button", { name: /POST \/v1\/agents, failure/ })).toHaveCount(1);
  await expect(list.getByRole("button", { name: /, success,/ })).toHaveCount(0);
  await snap();
});
