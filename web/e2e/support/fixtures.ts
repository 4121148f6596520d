/**
 * The test fixtures every spec uses:
 *
 * - `owner`: a fresh user and organisation registered through the API (a unique e-mail per test);
 * - `ownerApi`: an API session of that owner for setting things up;
 * - `login(page, user)`: signs in through the login form (cookie mode, so the browser holds the session);
 * - `snap()`: saves the page's screenshot to screenshots/<test name>.png (every test calls it explicitly);
 * - `sessions`: the access tokens the browser received (login, register, refresh, switch), newest last, and
 *   the number of `POST /v1/auth/refresh` calls it made;
 * - `checkA11y(name)`: axe-core on the current page; fails on any violation of impact serious or critical and
 *   prints them all.
 */
import AxeBuilder from "@axe-core/playwright";
import { test as base, expect, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { Api, registerUser, type User } from "./api";
import { SCREENSHOT_DIR } from "./env";

export { expect };

export interface SessionLog {
  tokens: string[];
  refreshes: number;
  latest(): string;
}

interface Fixtures {
  owner: User;
  ownerApi: Api;
  login: (page: Page, user: User, opts?: { expectPath?: RegExp }) => Promise<void>;
  snap: (name?: string) => Promise<void>;
  sessions: SessionLog;
  checkA11y: (name: string, opts?: { exclude?: string[] }) => Promise<void>;
}

export function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 100);
}

export const test = base.extend<Fixtures>({
  owner: async ({ request }, use, testInfo) => {
    await use(await registerUser(request, testInfo.title));
  },
  ownerApi: async ({ request, owner }, use) => {
    await use(new Api(request, owner));
  },
  sessions: [
    async ({ page }, use) => {
      const log: SessionLog = {
        tokens: [],
        refreshes: 0,
        latest() {
          const t = this.tokens.at(-1);
          if (!t) throw new Error("the browser has received no session yet");
          return t;
        },
      };
      page.on("request", (r) => {
        if (r.method() === "POST" && new URL(r.url()).pathname === "/v1/auth/refresh") log.refreshes += 1;
      });
      page.on("response", (r) => {
        const p = new URL(r.url()).pathname;
        if (r.request().method() !== "POST" || !/^\/v1\/auth\/(login|register|refresh|switch)$/.test(p) || !r.ok()) return;
        r.json()
          .then((b: unknown) => {
            const t = (b as { access_token?: unknown } | null)?.access_token;
            if (typeof t === "string") log.tokens.push(t);
          })
          .catch(() => undefined);
      });
      await use(log);
    },
    { auto: true },
  ],
  login: async ({ sessions }, use) => {
    void sessions;
    await use(async (page, user, opts) => {
      await page.goto("/login");
      await page.getByRole("textbox", { name: "E-mail", exact: true }).fill(user.email);
      await page.getByRole("textbox", { name: "Password", exact: true }).fill(user.password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await expect(page).not.toHaveURL(/\/login/, { timeout: 15_000 });
      if (opts?.expectPath) await expect(page).toHaveURL(opts.expectPath);
      await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
    });
  },
  snap: async ({ page }, use, testInfo) => {
    let taken = false;
    await use(async (name) => {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const file = path.join(SCREENSHOT_DIR, `${slug(name ?? testInfo.title)}.png`);
      await page.screenshot({ path: file, fullPage: true });
      taken = true;
    });
    // A failing test stops before its own snap(): keep what the page showed then, under the same name.
    if (!taken && testInfo.status !== testInfo.expectedStatus && !page.isClosed()) {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      await page
        .screenshot({ path: path.join(SCREENSHOT_DIR, `${slug(testInfo.title)}.png`), fullPage: true })
        .catch(() => undefined);
    }
  },
  checkA11y: async ({ page }, use, testInfo) => {
    await use(async (name, opts) => {
      let builder = new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]);
      for (const sel of opts?.exclude ?? []) builder = builder.exclude(sel);
      const results = await builder.analyze();
      const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
      const report = results.violations
        .map(
          (v) =>
            `[${v.impact ?? "?"}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
            v.nodes
              .slice(0, 8)
              .map((n) => `    ${n.target.join(" ")}\n      ${n.failureSummary?.replace(/\n/g, "\n      ") ?? ""}`)
              .join("\n"),
        )
        .join("\n");
      if (results.violations.length > 0) {
        await testInfo.attach(`axe-${slug(name)}.txt`, { body: report, contentType: "text/plain" });
        process.stdout.write(`\naxe on ${name} (${page.url()}): ${results.violations.length} violation(s)\n${report}\n`);
      }
      expect(bad, `serious or critical accessibility violations on ${name}:\n${report}`).toEqual([]);
    });
  },
});

/** Signs out through the account menu. */
export async function logoutUI(page: Page): Promise<void> {
  await page.getByRole("button", { name: /^Account:/ }).click();
  await page.getByRole("menuitem", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
}
