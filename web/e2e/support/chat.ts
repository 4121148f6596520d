/** Chat page helpers: open a new chat through the UI, send a message, find answers and tool-call cards. */
import { expect, type Page } from "@playwright/test";

export const QUESTION = "WS-0142 beacons to 198.51.100.23";

/** Opens /chat, starts a chat with `agentName` through the "New chat" dialog; returns the chat id. */
export async function newChat(page: Page, agentName: string, title: string): Promise<string> {
  await page.goto("/chat");
  await page.getByRole("button", { name: "New chat" }).first().click();
  const dialog = page.getByRole("dialog", { name: "New chat" });
  await expect(dialog).toBeVisible();
  await dialog.getByRole("combobox", { name: "Agent" }).selectOption({ label: agentName });
  await dialog.getByRole("textbox", { name: "Title" }).fill(title);
  await dialog.getByRole("button", { name: "Start chat" }).click();
  await expect(dialog).toBeHidden();
  await expect(page).toHaveURL(/\/chat\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { level: 2, name: title })).toBeVisible();
  return new URL(page.url()).pathname.split("/").pop() ?? "";
}

export async function sendMessage(page: Page, text: string): Promise<void> {
  const box = page.getByRole("textbox", { name: "Message" });
  await expect(box).toBeEnabled();
  await box.fill(text);
  await page.getByRole("button", { name: "Send" }).click();
  await expect(page.getByRole("article", { name: "Your message" }).filter({ hasText: text }).first()).toBeVisible();
}

export function conversation(page: Page) {
  return page.getByRole("log", { name: "Conversation" });
}

export function answers(page: Page) {
  return conversation(page).getByRole("article", { name: "Answer" });
}

export function toolCard(page: Page, tool: string) {
  return conversation(page).getByRole("region", { name: `Tool call ${tool}` });
}

/** Waits until the isolate card waits for approval (after the lookup ran). */
export async function expectAwaitingApproval(page: Page): Promise<void> {
  await expect(toolCard(page, "demo_lookup_ip")).toBeVisible({ timeout: 20_000 });
  await expect(toolCard(page, "demo_lookup_ip")).toContainText("Done");
  const isolate = toolCard(page, "demo_isolate_host");
  await expect(isolate).toBeVisible({ timeout: 20_000 });
  await expect(isolate).toContainText("Awaiting approval");
  await expect(isolate.getByRole("button", { name: "Approve" })).toBeVisible();
}

/** The number of non-overlapping occurrences of `needle` in `hay`. */
export function occurrences(hay: string, needle: string): number {
  let n = 0;
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + needle.length)) n++;
  return n;
}
