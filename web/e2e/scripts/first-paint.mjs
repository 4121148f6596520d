// Time to first contentful paint of the console on loopback, in Debian's Chromium: each load in a fresh browser
// context (nothing cached), against a running server. Prints the median and the slowest of N loads.
//
//   node scripts/first-paint.mjs http://127.0.0.1:8080/login [loads=15]
import { chromium } from "@playwright/test";

const url = process.argv[2] ?? "http://127.0.0.1:8080/login";
const loads = Number(process.argv[3] ?? 15);
const browser = await chromium.launch({
  executablePath: process.env.SECOPS_E2E_CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const fcp = [];
const loaded = [];
for (let i = 0; i < loads; i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url, { waitUntil: "load" });
  await page.getByRole("button", { name: /sign in/i }).first().waitFor();
  const [paint, nav] = await page.evaluate(() => [
    performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN,
    performance.getEntriesByType("navigation")[0]?.loadEventEnd ?? NaN,
  ]);
  if (i === 0) {
    const scripts = await page.evaluate(() =>
      performance.getEntriesByType("resource").filter((r) => r.initiatorType === "script" || r.name.endsWith(".js")).map((r) => new URL(r.name).pathname),
    );
    console.log(`scripts loaded for the first paint: ${scripts.join(" ")}`);
  }
  fcp.push(paint);
  loaded.push(nav);
  await context.close();
}
await browser.close();
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
const max = (xs) => sorted(xs)[xs.length - 1];
console.log(`first contentful paint over ${loads} cold loads of ${url}: median ${median(fcp).toFixed(0)} ms, slowest ${max(fcp).toFixed(0)} ms`);
console.log(`load event: median ${median(loaded).toFixed(0)} ms, slowest ${max(loaded).toFixed(0)} ms`);
