/**
 * The chat: a streamed answer with tool-call cards, approvals decided in the chat (approve, deny with a
 * reason, edit the arguments), a connection dropped mid-stream that resumes without duplicating text, and the
 * server-sent-events fallback when no WebSocket can be opened.
 */
import type { WebSocketRoute } from "@playwright/test";
import { createAgent } from "../support/api";
import { QUESTION, answers, conversation, expectAwaitingApproval, newChat, occurrences, sendMessage, toolCard } from "../support/chat";
import { expect, test } from "../support/fixtures";

const SUMMARY = "[demo model] Triage summary.";
const RECOMMENDATION = "Recommendation: reset the credentials used on the host";

test("a streamed chat answer with tool cards, approved in the chat", async ({ page, owner, ownerApi, login, snap }) => {
  const agent = await createAgent(ownerApi, "Chat triage");
  await login(page, owner);

  // Count the streamed pieces the page receives over the WebSocket.
  const deltas: string[] = [];
  page.on("websocket", (ws) => {
    ws.on("framereceived", (f) => {
      if (typeof f.payload !== "string") return;
      try {
        const frame = JSON.parse(f.payload) as { type?: string; event?: { type?: string; text?: string } };
        if (frame.type === "run_event" && frame.event?.type === "text_delta") deltas.push(frame.event.text ?? "");
      } catch {
        /* not JSON */
      }
    });
  });

  await newChat(page, agent.name, "Beaconing WS-0142");
  await expect(page.getByRole("button", { name: "Live" })).toBeVisible();
  await sendMessage(page, QUESTION);
  await expectAwaitingApproval(page);
  await expect(toolCard(page, "demo_isolate_host")).toContainText("WS-0142");
  await expect(answers(page).last()).toContainText("Waiting for approval");
  // The navigation badge counts the waiting call.
  await expect(page.getByRole("navigation", { name: "Main" }).getByLabel("1 tool call waiting for approval")).toBeVisible();

  // Watch the answer grow in the page: the summary must appear piece by piece, not all at once.
  await page.evaluate(() => {
    const w = window as unknown as { __lengths: number[] };
    w.__lengths = [];
    const log = document.querySelector('[role="log"]');
    if (!log) throw new Error("no conversation log");
    new MutationObserver(() => {
      const all = log.querySelectorAll('article[aria-label="Answer"]');
      const text = all[all.length - 1]?.textContent ?? "";
      const at = text.indexOf("[demo model] Triage summary.");
      if (at >= 0) w.__lengths.push(text.length - at);
    }).observe(log, { subtree: true, childList: true, characterData: true });
  });
  await toolCard(page, "demo_isolate_host").getByRole("button", { name: "Approve" }).click();
  const answer = answers(page).last();
  await expect(answer).toContainText(SUMMARY, { timeout: 20_000 });
  await expect(answer).toContainText("WS-0142 is isolated from the network");
  await expect(answer).toContainText(RECOMMENDATION);
  await expect(answer).toContainText("Finished");
  await expect(toolCard(page, "demo_isolate_host")).toContainText("Done");
  await expect(toolCard(page, "demo_isolate_host")).toContainText("approved");
  await expect(page.getByRole("navigation", { name: "Main" }).getByLabel(/waiting for approval/)).toHaveCount(0);

  const lengths = await page.evaluate(() => (window as unknown as { __lengths: number[] }).__lengths);
  expect(new Set(lengths).size, `the summary grew in ${new Set(lengths).size} steps`).toBeGreaterThanOrEqual(5);
  // The text arrived in pieces over the socket, and shows once.
  expect(deltas.length).toBeGreaterThan(10);
  expect(deltas.join("")).toContain(RECOMMENDATION);
  expect(occurrences((await conversation(page).innerText()), RECOMMENDATION)).toBe(1);

  await snap();
  // A reload shows the stored conversation.
  await page.reload();
  await expect(answers(page).last()).toContainText(RECOMMENDATION);
});

test("a tool call denied with a reason in the chat", async ({ page, owner, ownerApi, login, snap }) => {
  const agent = await createAgent(ownerApi, "Chat deny");
  await login(page, owner);
  await newChat(page, agent.name, "Deny the isolation");
  await sendMessage(page, QUESTION);
  await expectAwaitingApproval(page);
  const card = toolCard(page, "demo_isolate_host");
  await card.getByRole("button", { name: "Deny…" }).click();
  await card.getByRole("textbox", { name: "Reason" }).fill("The host runs the payroll batch tonight");
  await card.getByRole("button", { name: "Deny call" }).click();
  const answer = answers(page).last();
  await expect(answer).toContainText(SUMMARY, { timeout: 20_000 });
  await expect(answer).toContainText("WS-0142 was not isolated");
  await expect(answer).toContainText("payroll batch");
  await expect(card).toContainText("Denied");
  await snap();
});

test("a tool call run with edited arguments from the chat", async ({ page, owner, ownerApi, login, snap }) => {
  const agent = await createAgent(ownerApi, "Chat edit");
  await login(page, owner);
  await newChat(page, agent.name, "Edit the isolation");
  await sendMessage(page, QUESTION);
  await expectAwaitingApproval(page);
  const card = toolCard(page, "demo_isolate_host");
  await card.getByRole("button", { name: "Edit arguments…" }).click();
  const args = card.getByRole("textbox", { name: "Arguments (JSON)" });
  await expect(args).toHaveValue(/WS-0142/);
  // Invalid JSON is caught before it is sent.
  await args.fill("{ not json");
  await expect(card.getByText(/Not valid JSON/)).toBeVisible();
  await expect(card.getByRole("button", { name: "Run with these arguments" })).toBeDisabled();
  await args.fill(JSON.stringify({ hostname: "WS-0999", reason: "edited by the analyst" }, null, 2));
  await card.getByRole("button", { name: "Run with these arguments" }).click();
  const answer = answers(page).last();
  await expect(answer).toContainText(SUMMARY, { timeout: 20_000 });
  await expect(answer).toContainText("WS-0999");
  await expect(card).toContainText("edited");
  await expect(card).toContainText("Done");
  await snap();
});

test("a dropped connection resumes mid-stream without duplicating text", async ({ page, owner, ownerApi, login, snap }) => {
  const agent = await createAgent(ownerApi, "Chat resume");
  await login(page, owner);

  // Every chat WebSocket goes through this proxy. After the approval, once a few pieces of the summary were
  // delivered, the first connection is cut (both ends); the app must reconnect and follow the run from the
  // last sequence number it applied.
  let approved = false;
  let cut = false;
  let connections = 0;
  let deltasAfterApproval = 0;
  let followAfter: number | null = null;
  await page.routeWebSocket(/\/v1\/chats\/[^/]+\/ws$/, (ws: WebSocketRoute) => {
    connections += 1;
    let dead = false;
    const server = ws.connectToServer();
    ws.onMessage((m) => {
      if (typeof m === "string" && cut) {
        try {
          const f = JSON.parse(m) as { type?: string; after?: number };
          if (f.type === "follow") followAfter = f.after ?? null;
        } catch {
          /* not JSON */
        }
      }
      server.send(m);
    });
    server.onMessage((m) => {
      if (typeof m === "string" && approved && !cut) {
        try {
          const f = JSON.parse(m) as { type?: string; event?: { type?: string } };
          if (f.type === "run_event" && f.event?.type === "text_delta") {
            deltasAfterApproval += 1;
            if (deltasAfterApproval === 6) {
              ws.send(m);
              cut = true;
              dead = true;
              void server.close();
              void ws.close({ code: 4000, reason: "cut by the test" });
              return;
            }
          }
        } catch {
          /* not JSON */
        }
      }
      if (!dead) ws.send(m);
    });
  });

  await newChat(page, agent.name, "Resume the stream");
  await expect(page.getByRole("button", { name: "Live" })).toBeVisible();
  await sendMessage(page, QUESTION);
  await expectAwaitingApproval(page);
  approved = true;
  await toolCard(page, "demo_isolate_host").getByRole("button", { name: "Approve" }).click();

  const answer = answers(page).last();
  await expect(answer).toContainText(RECOMMENDATION, { timeout: 30_000 });
  await expect(answer).toContainText("Finished");
  expect(cut, "the connection was cut mid-stream").toBe(true);
  expect(connections, "the app reconnected").toBeGreaterThanOrEqual(2);
  expect(followAfter, "the app resumed after the last event it had").not.toBeNull();
  expect(followAfter ?? 0).toBeGreaterThan(0);
  await expect(page.getByRole("button", { name: "Live" })).toBeVisible();

  const text = await answer.innerText();
  expect(occurrences(text, SUMMARY)).toBe(1);
  expect(occurrences(text, RECOMMENDATION)).toBe(1);
  expect(occurrences(text, "is isolated from the network")).toBe(1);
  // The streamed text equals the stored answer once the run is over (a reload reads it from the server).
  const streamed = text.slice(text.indexOf(SUMMARY), text.indexOf("(This is the offline demo model"));
  await snap();
  await page.reload();
  const stored = await answers(page).last().innerText();
  expect(stored).toContain(streamed.trim());
});

test("the chat falls back to server-sent events when no WebSocket opens", async ({ page, owner, ownerApi, login, snap }) => {
  const agent = await createAgent(ownerApi, "Chat SSE");
  await login(page, owner);
  // Every WebSocket to the chat is refused.
  await page.routeWebSocket(/\/v1\/chats\/[^/]+\/ws$/, (ws) => {
    void ws.close({ code: 4001, reason: "no upgrade here" });
  });
  await newChat(page, agent.name, "Over HTTP");
  await expect(page.getByRole("button", { name: "Live (HTTP)" })).toBeVisible({ timeout: 15_000 });
  const sse = page.waitForResponse(
    (r) => /\/v1\/chats\/[^/]+\/messages$/.test(new URL(r.url()).pathname) && r.request().method() === "POST",
  );
  await sendMessage(page, QUESTION);
  expect((await sse).headers()["content-type"]).toContain("text/event-stream");
  await expectAwaitingApproval(page);
  await toolCard(page, "demo_isolate_host").getByRole("button", { name: "Approve" }).click();
  const answer = answers(page).last();
  await expect(answer).toContainText(RECOMMENDATION, { timeout: 30_000 });
  expect(occurrences(await answer.innerText(), RECOMMENDATION)).toBe(1);
  await snap();
});
