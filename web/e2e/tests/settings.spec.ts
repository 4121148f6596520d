/** Settings: members and invitations, API keys (the secret shown once), a tool configuration. */
import { newUserData, Api } from "../support/api";
import { expect, test } from "../support/fixtures";

test("members list, an invitation accepted, and a role change", async ({ page, request, owner, ownerApi, login, snap }) => {
  await login(page, owner);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await page.getByRole("tab", { name: "Members" }).click();
  await expect(page).toHaveURL(/tab=members/);
  const members = page.getByRole("table", { name: "Members" });
  await expect(members.getByRole("row")).toHaveCount(2); // header + the owner
  await expect(members).toContainText("You");

  // Invite an analyst-to-be as a viewer; the token is shown once.
  const invitee = newUserData("settings-invitee");
  const form = page.getByRole("form", { name: "Invite a member" });
  await form.getByRole("textbox", { name: "E-mail" }).fill(invitee.email);
  await form.getByRole("combobox", { name: "Role" }).selectOption({ label: "Viewer" });
  await form.getByRole("button", { name: "Invite" }).click();
  const dialog = page.getByRole("dialog", { name: "Invitation created" });
  await expect(dialog).toBeVisible();
  const token = await dialog.getByRole("textbox", { name: "Invitation token" }).inputValue();
  expect(token.length).toBeGreaterThan(16);
  await expect(dialog).toContainText(invitee.email);
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(dialog).toBeHidden();
  const invitations = page.getByRole("table", { name: "Invitations" });
  const invitation = invitations.getByRole("row").filter({ hasText: invitee.email });
  await expect(invitation).toContainText("Pending");
  await expect(invitation).toContainText("Viewer");

  // They register and accept with the token.
  const reg = await request.post("/v1/auth/register", {
    data: { email: invitee.email, password: invitee.password, organization_name: invitee.orgName },
  });
  expect(reg.status()).toBe(201);
  const inviteeApi = new Api(request, { ...invitee, orgId: ((await reg.json()) as { organization_id: string }).organization_id });
  const member = await inviteeApi.post<{ user_id: string; role: string }>("/v1/invitations/accept", { token });
  expect(member.role).toBe("viewer");

  await page.reload();
  await expect(members.getByRole("row")).toHaveCount(3);
  await expect(invitation).toContainText("Accepted");

  // Make them an analyst.
  const role = members.getByRole("combobox", { name: `Role of ${member.user_id}` });
  await expect(role).toHaveValue("viewer");
  await role.selectOption({ label: "Analyst" });
  const confirm = page.getByRole("dialog", { name: "Change role?" });
  await expect(confirm).toContainText("Analyst instead of Viewer");
  await confirm.getByRole("button", { name: "Change role" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Role changed to Analyst." })).toBeVisible();
  await expect(role).toHaveValue("analyst");
  const listed = await ownerApi.get<{ items: { user_id: string; role: string }[] }>("/v1/members");
  expect(listed.items.find((m) => m.user_id === member.user_id)?.role).toBe("analyst");
  await snap();
});

test("an API key's secret is shown once and works until revoked", async ({ page, request, owner, login, snap }) => {
  await login(page, owner);
  await page.goto("/settings?tab=api-keys");
  await expect(page.getByRole("tab", { name: "API keys", selected: true })).toBeVisible();
  await page.getByRole("button", { name: "Create API key" }).first().click();
  const create = page.getByRole("dialog", { name: "Create API key" });
  // A name is required.
  await create.getByRole("button", { name: "Create key" }).click();
  await expect(create.getByText("Give the key a name.")).toBeVisible();
  await create.getByRole("textbox", { name: "Name" }).fill("SIEM forwarder");
  await create.getByRole("combobox", { name: "Role" }).selectOption({ label: "Viewer" });
  await create.getByRole("button", { name: "Create key" }).click();

  const shown = page.getByRole("dialog", { name: "API key created" });
  await expect(shown).toBeVisible();
  const secret = await shown.getByRole("textbox", { name: "API key secret" }).inputValue();
  expect(secret).toMatch(/^sk_/);
  await expect(shown).toContainText("you will not see it again");
  await snap("api-key-secret-dialog");

  // The secret works.
  const me = await request.get("/v1/me", { headers: { Authorization: `Bearer ${secret}` } });
  expect(me.status()).toBe(200);
  expect(((await me.json()) as { role: string }).role).toBe("viewer");

  await shown.getByRole("button", { name: "Done" }).click();
  await expect(shown).toBeHidden();
  const row = page.getByRole("table", { name: "API keys" }).getByRole("row").filter({ hasText: "SIEM forwarder" });
  await expect(row).toContainText("Viewer");
  await expect(row).toContainText("Active");
  // Gone from the page, and from the page after a reload.
  expect(await page.content()).not.toContain(secret);
  await page.reload();
  await expect(row).toBeVisible();
  expect(await page.content()).not.toContain(secret);
  expect(await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))).not.toContain(secret);

  // Revoke it: the secret stops working.
  await row.getByRole("button", { name: "Revoke API key SIEM forwarder" }).click();
  const revoke = page.getByRole("dialog", { name: "Revoke API key?" });
  await revoke.getByRole("button", { name: "Revoke key" }).click();
  await expect(page.getByRole("status").filter({ hasText: "API key revoked." })).toBeVisible();
  await expect(row).toContainText("Revoked");
  const after = await request.get("/v1/me", { headers: { Authorization: `Bearer ${secret}` } });
  expect(after.status()).toBe(401);
  await snap();
});

test("a tool configuration is created from the catalogue with its credentials kept secret", async ({ page, owner, ownerApi, login, snap }) => {
  const catalogue = await ownerApi.get<{ kinds: { kind: string }[] }>("/v1/tools");
  expect(catalogue.kinds.map((k) => k.kind)).toContain("virustotal");
  await login(page, owner);
  await page.goto("/settings?tab=tools");
  await expect(page.getByRole("tab", { name: "Tools", selected: true })).toBeVisible();
  await expect(page.getByRole("heading", { name: "No tool configurations" })).toBeVisible();
  await page.getByRole("button", { name: "New tool configuration" }).first().click();
  const dialog = page.getByRole("dialog", { name: "New tool configuration" });
  await dialog.getByRole("combobox", { name: "Kind" }).selectOption("virustotal");
  await dialog.getByRole("textbox", { name: "Name" }).fill("vt-main");
  // The credential is required and is a password field.
  await dialog.getByRole("button", { name: "Create configuration" }).click();
  await expect(dialog.getByRole("alert")).toContainText("Some fields need attention");
  const token = dialog.getByLabel("API token");
  await expect(token).toHaveAttribute("type", "password");
  await token.fill("vt-secret-token-0123456789");
  await dialog.getByRole("button", { name: "Create configuration" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Tool configuration vt-main created." })).toBeVisible();
  await expect(dialog).toBeHidden();

  const row = page.getByRole("table", { name: "Tool configurations" }).getByRole("row").filter({ hasText: "vt-main" });
  await expect(row).toContainText("virustotal");
  await expect(row).toContainText("Stored");
  const configs = await ownerApi.get<{ items: Record<string, unknown>[] }>("/v1/tool-configs");
  expect(configs.items).toHaveLength(1);
  expect(configs.items[0]?.name).toBe("vt-main");
  expect(configs.items[0]?.has_credentials).toBe(true);
  expect(JSON.stringify(configs.items)).not.toContain("vt-secret-token");
  expect(await page.content()).not.toContain("vt-secret-token");
  await snap();
});
