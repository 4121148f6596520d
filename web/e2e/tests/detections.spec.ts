/** Detection rules (upload with lint errors, then a good one), ingesting events, the triage workflow, coverage. */
import { BROKEN, EVENTS_NDJSON, WHOAMI, WHOAMI_TECHNIQUE, WHOAMI_TITLE, ingest, uploadRule, type DetectionView } from "../support/rules";
import { expect, test } from "../support/fixtures";

test("a rule with a lint error is refused at its line and column, a good one is accepted", async ({ page, owner, login, snap }) => {
  await login(page, owner);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Detections" }).click();
  await page.getByRole("link", { name: "Rules", exact: true }).click();
  await expect(page).toHaveURL(/\/detections\/rules$/);
  await expect(page.getByRole("heading", { level: 1, name: "Detection rules" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "No rules yet" })).toBeVisible();

  await page.getByRole("button", { name: "Upload rule", expanded: false }).click();
  const upload = page.getByRole("region", { name: "Upload a rule" });
  const editor = upload.getByRole("textbox", { name: "Rule YAML" });
  await editor.fill(BROKEN);
  await upload.getByRole("button", { name: "Upload rule" }).click();

  const refused = upload.getByRole("alert");
  await expect(refused).toContainText(/The rule was refused: \d+ lint errors?/);
  const issues = refused.getByRole("list", { name: "Lint errors" }).getByRole("button");
  await expect(issues.first()).toContainText(/line \d+, column \d+: /);
  // The finding about the condition points at the condition's line.
  const finding = issues.filter({ hasText: "condition references 'nonexistent'" });
  await expect(finding).toHaveCount(1);
  const label = (await finding.innerText()).match(/line (\d+), column (\d+)/);
  const line = Number(label?.[1]);
  expect(BROKEN.split("\n")[line - 1]).toContain("condition: selection and nonexistent");
  await expect(editor).toHaveAttribute("aria-invalid", "true");
  // Choosing the finding puts the cursor on its line in the editor.
  await finding.click();
  await expect(editor).toBeFocused();
  const selectedLine = await editor.evaluate((el) => {
    const t = el as HTMLTextAreaElement;
    return t.value.slice(0, t.selectionStart).split("\n").length;
  });
  expect(selectedLine).toBe(line);
  await snap("rule-upload-lint-error");

  await editor.fill(WHOAMI);
  await upload.getByRole("button", { name: "Upload rule" }).click();
  await expect(upload).toContainText(`Uploaded “${WHOAMI_TITLE}” (enabled).`);
  await expect(editor).not.toHaveAttribute("aria-invalid", "true");
  const table = page.getByRole("table", { name: "Detection rules" });
  const row = table.getByRole("row").filter({ hasText: WHOAMI_TITLE });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("High");
  await expect(row.getByRole("link", { name: `Technique ${WHOAMI_TECHNIQUE} in the coverage` })).toBeVisible();
  await expect(row.getByRole("switch", { name: `Enabled: ${WHOAMI_TITLE}` })).toHaveAttribute("aria-checked", "true");

  // The same rule again is a conflict, shown as a problem.
  await editor.fill(WHOAMI);
  await upload.getByRole("button", { name: "Upload rule" }).click();
  await expect(upload).toContainText("already_exists");

  // Disable and re-enable it.
  const toggle = row.getByRole("switch", { name: `Enabled: ${WHOAMI_TITLE}` });
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-checked", "false");
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-checked", "true");
  await snap();
});

test("posted events raise a detection that moves through the triage workflow", async ({ page, owner, ownerApi, login, snap }) => {
  await uploadRule(ownerApi);
  await login(page, owner);
  await page.goto("/detections");
  await expect(page.getByRole("heading", { level: 1, name: "Detections" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "No detections yet" })).toBeVisible();

  await page.getByRole("button", { name: "Post events", expanded: false }).click();
  const panel = page.getByRole("region", { name: "Post events" });
  await panel.getByRole("textbox", { name: "Events (JSON or NDJSON)" }).fill(EVENTS_NDJSON);
  await panel.getByRole("button", { name: "Post events" }).click();
  await expect(panel).toContainText("Read 2 events; 1 detection raised.");
  await expect(panel.getByRole("link", { name: WHOAMI_TITLE })).toBeVisible();

  const table = page.getByRole("table", { name: "Detections" });
  const row = table.getByRole("row").filter({ hasText: WHOAMI_TITLE });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("New");
  await expect(row).toContainText("by Secops E2E Tests");
  await row.getByRole("link", { name: WHOAMI_TITLE }).click();

  await expect(page).toHaveURL(/\/detections\/[0-9a-f-]{36}$/);
  const id = new URL(page.url()).pathname.split("/").pop() ?? "";
  await expect(page.getByRole("heading", { level: 1, name: WHOAMI_TITLE })).toBeVisible();
  const matched = page.getByRole("region", { name: "Matched event" });
  await expect(matched).toContainText("whoami /all");
  const rule = page.getByRole("region", { name: "Rule" });
  await expect(rule).toContainText("Secops E2E Tests");
  await expect(rule.getByRole("link", { name: `Technique ${WHOAMI_TECHNIQUE} in the coverage` })).toBeVisible();

  const triage = page.getByRole("region", { name: "Triage" });
  await expect(triage).toContainText("Unassigned");
  await triage.getByRole("button", { name: "Assign to me" }).click();
  await expect(triage).toContainText("You");

  const workflow = page.getByRole("group", { name: "Workflow" });
  await workflow.getByRole("button", { name: "Start triage" }).click();
  await expect(triage).toContainText("Triaging");
  await workflow.getByRole("button", { name: "Mark true positive" }).click();
  await expect(triage).toContainText("True positive");

  const notes = page.getByRole("region", { name: "Notes" });
  await notes.getByRole("textbox", { name: "Add a note" }).fill("Confirmed with the host owner: not them.");
  await notes.getByRole("button", { name: "Add note" }).click();
  await expect(notes).toContainText("Confirmed with the host owner: not them.");

  await workflow.getByRole("button", { name: "Close" }).click();
  await expect(triage).toContainText("Closed");
  await expect(workflow.getByRole("button")).toHaveText(["Reopen"]);

  const stored = await ownerApi.get<DetectionView & { notes: { text: string }[]; assignee_id: string | null }>(`/v1/detections/${id}`);
  expect(stored.status).toBe("closed");
  expect(stored.assignee_id).not.toBeNull();
  expect(stored.notes.map((n) => n.text)).toContain("Confirmed with the host owner: not them.");

  // The queue filters by status.
  await page.getByRole("link", { name: "← Detections" }).click();
  await page.getByRole("combobox", { name: "Status" }).selectOption({ label: "New" });
  await expect(page).toHaveURL(/status=new/);
  await expect(page.getByRole("heading", { name: "No detections match these filters" })).toBeVisible();
  await page.getByRole("combobox", { name: "Status" }).selectOption({ label: "Closed" });
  await expect(page.getByRole("table", { name: "Detections" }).getByRole("row").filter({ hasText: WHOAMI_TITLE })).toHaveCount(1);
  await snap();
});

test("the workflow buttons in the queue move a detection", async ({ page, owner, ownerApi, login, snap }) => {
  await uploadRule(ownerApi);
  const [detection] = await ingest(ownerApi);
  expect(detection?.status).toBe("new");
  await login(page, owner);
  await page.goto("/detections");
  const row = page.getByRole("table", { name: "Detections" }).getByRole("row").filter({ hasText: WHOAMI_TITLE });
  await row.getByRole("button", { name: "Start triage" }).click();
  await expect(row).toContainText("Triaging");
  await row.getByRole("button", { name: "Mark false positive" }).click();
  await expect(row).toContainText("False positive");
  expect((await ownerApi.get<DetectionView>(`/v1/detections/${detection?.id ?? ""}`)).status).toBe("false_positive");
  await snap();
});

test("the coverage heatmap shows the technique of an enabled rule", async ({ page, owner, ownerApi, login, snap }) => {
  await uploadRule(ownerApi);
  await login(page, owner);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Coverage" }).click();
  await expect(page).toHaveURL(/\/coverage$/);
  await expect(page.getByRole("heading", { level: 1, name: "ATT&CK coverage" })).toBeVisible();
  const heatmap = page.getByRole("region", { name: "Coverage heatmap, by tactic" });
  const cell = heatmap.getByRole("button", { name: new RegExp(`^${WHOAMI_TECHNIQUE} .*: 1 enabled rule$`) });
  await expect(cell).toBeVisible();
  await expect(heatmap.getByRole("heading", { name: "Discovery" })).toBeVisible();
  await cell.click();
  await expect(page).toHaveURL(new RegExp(`technique=${WHOAMI_TECHNIQUE}`));
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText(WHOAMI_TECHNIQUE);
  await expect(dialog).toContainText("1 enabled rule cover this technique.");
  await expect(dialog.getByRole("list", { name: `Rules covering ${WHOAMI_TECHNIQUE}` })).toContainText(WHOAMI_TITLE);
  await snap();
  await dialog.getByRole("link", { name: "Show in the rules list" }).click();
  await expect(page).toHaveURL(new RegExp(`/detections/rules\\?technique=${WHOAMI_TECHNIQUE}`));
  await expect(page.getByRole("table", { name: "Detection rules" }).getByRole("row").filter({ hasText: WHOAMI_TITLE })).toHaveCount(1);
});
