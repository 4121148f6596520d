/** Registration, sign-in, token refresh after expiry, sign-out. */
import { newUserData } from "../support/api";
import { ACCESS_TOKEN_TTL_SECS } from "../support/env";
import { expect, logoutUI, test } from "../support/fixtures";

test("register through the UI creates an organisation and signs in", async ({ page, snap }) => {
  const u = newUserData("register-ui");
  await page.goto("/register");
  await expect(page.getByRole("heading", { level: 1, name: "Create an organisation" })).toBeVisible();
  await page.getByRole("textbox", { name: "E-mail", exact: true }).fill(u.email);
  await page.getByRole("textbox", { name: "Password", exact: true }).fill(u.password);
  await page.getByRole("textbox", { name: "Display name", exact: true }).fill(u.displayName);
  await page.getByRole("textbox", { name: "Organisation name", exact: true }).fill(u.orgName);
  await page.getByRole("button", { name: "Create organisation" }).click();
  await expect(page).toHaveURL(/\/chat$/);
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
  await expect(page.getByRole("banner")).toContainText(u.orgName);
  await expect(page.getByRole("button", { name: `Account: ${u.email}` })).toBeVisible();
  await snap();
});

test("register refuses a short password and a taken e-mail", async ({ page, owner, snap }) => {
  await page.goto("/register");
  await page.getByRole("textbox", { name: "E-mail", exact: true }).fill(owner.email);
  await page.getByRole("textbox", { name: "Password", exact: true }).fill("short");
  await page.getByRole("textbox", { name: "Organisation name", exact: true }).fill("Another org");
  await page.getByRole("button", { name: "Create organisation" }).click();
  await expect(page.getByRole("textbox", { name: "Password", exact: true })).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByText(/At least \d+ characters/)).toBeVisible();
  await page.getByRole("textbox", { name: "Password", exact: true }).fill("a-long-enough-password");
  await page.getByRole("button", { name: "Create organisation" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "already exists" })).toContainText(
    "An account with this e-mail already exists.",
  );
  await expect(page).toHaveURL(/\/register$/);
  await snap();
});

test("login through the UI, and a wrong password is refused", async ({ page, owner, login, snap }) => {
  await page.goto("/login");
  await page.getByRole("textbox", { name: "E-mail", exact: true }).fill(owner.email);
  await page.getByRole("textbox", { name: "Password", exact: true }).fill(`${owner.password}-wrong`);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Wrong" })).toContainText("Wrong e-mail or password.");
  await expect(page).toHaveURL(/\/login$/);

  await login(page, owner, { expectPath: /\/chat$/ });
  await expect(page.getByRole("button", { name: `Account: ${owner.email}` })).toBeVisible();
  await snap();
});

test("an unauthenticated deep link goes to login and back after signing in", async ({ page, owner, snap }) => {
  await page.goto("/settings/members");
  await expect(page).toHaveURL(/\/login$/);
  await page.getByRole("textbox", { name: "E-mail", exact: true }).fill(owner.email);
  await page.getByRole("textbox", { name: "Password", exact: true }).fill(owner.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/settings(\/members|\?tab=members)$/);
  await snap();
});

test("the session is refreshed after the access token expires", async ({ page, owner, login, sessions, snap }) => {
  await login(page, owner);
  const first = sessions.latest();
  const refreshesBefore = sessions.refreshes;

  // Outlive the access token, then act: every call must still be authorised (the app refreshes on its timer
  // or on the first 401, with the HttpOnly cookie) and the user must stay signed in.
  await page.waitForTimeout((ACCESS_TOKEN_TTL_SECS + 2) * 1000);
  const refreshed = page.waitForResponse(
    (r) => new URL(r.url()).pathname === "/v1/auth/refresh" && r.request().method() === "POST" && r.ok(),
    { timeout: (ACCESS_TOKEN_TTL_SECS + 5) * 1000 },
  );
  const me = page.waitForResponse((r) => new URL(r.url()).pathname === "/v1/me" && r.ok());
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await expect(page).toHaveURL(/\/settings/);
  await page.reload();
  await me;
  await refreshed;
  await expect(page).toHaveURL(/\/settings/);
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
  await expect(page.getByRole("button", { name: `Account: ${owner.email}` })).toBeVisible();
  expect(sessions.refreshes).toBeGreaterThan(refreshesBefore);
  expect(sessions.latest()).not.toBe(first);

  // The refreshed token authorises API calls (and the stale one no longer does).
  const fresh = await page.request.get("/v1/me", { headers: { Authorization: `Bearer ${sessions.latest()}` } });
  expect(fresh.status()).toBe(200);
  // The first token is past its lifetime (plus the server's few seconds of leeway): refused.
  await expect
    .poll(async () => (await page.request.get("/v1/me", { headers: { Authorization: `Bearer ${first}` } })).status(), {
      timeout: 15_000,
      intervals: [1_000],
    })
    .toBe(401);
  await snap();
});

test("the session stays alive on an idle page across several token lifetimes", async ({ page, owner, login, sessions, snap }) => {
  await login(page, owner);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  const before = sessions.refreshes;
  // No reload and no action: only the app's own scheduling keeps the session alive.
  await page.waitForTimeout((ACCESS_TOKEN_TTL_SECS * 2 + 2) * 1000);
  expect(sessions.refreshes - before).toBeGreaterThanOrEqual(2);
  const me = await page.request.get("/v1/me", { headers: { Authorization: `Bearer ${sessions.latest()}` } });
  expect(me.status()).toBe(200);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" }).click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.getByRole("button", { name: `Account: ${owner.email}` })).toBeVisible();
  await snap();
});

test("logout returns to login and a reload stays logged out", async ({ page, owner, login, snap }) => {
  await login(page, owner);
  await logoutUI(page);
  await expect(page.getByRole("heading", { level: 1, name: "Sign in" })).toBeVisible();
  await page.reload();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { level: 1, name: "Sign in" })).toBeVisible();
  await page.goto("/chat");
  await expect(page).toHaveURL(/\/login$/);
  // The refresh cookie is gone or revoked: the server refuses a refresh.
  const csrf = (await page.context().cookies()).find((c) => c.name === "secops_csrf")?.value ?? "";
  const r = await page.request.post("/v1/auth/refresh", { headers: { "X-CSRF-Token": csrf, Origin: new URL(page.url()).origin } });
  expect(r.status()).toBeGreaterThanOrEqual(400);
  await snap();
});
