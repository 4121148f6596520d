import { defineConfig, devices } from "@playwright/test";
import { CHROMIUM, baseURL } from "./support/env";

export default defineConfig({
  testDir: "./tests",
  globalSetup: "./support/global-setup.ts",
  // Two cores: one browser at a time; every test registers its own user and organisation, so order is free.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  outputDir: "./test-results/artifacts",
  reporter: [
    ["list"],
    ["html", { open: "never", outputFolder: "./playwright-report" }],
    // Read by scripts/test-web.sh for its closing "N passed, N failed" line.
    ["json", { outputFile: "./test-results/results.json" }],
  ],
  use: {
    baseURL: baseURL(),
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    acceptDownloads: true,
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        viewport: { width: 1280, height: 860 },
        launchOptions: {
          executablePath: CHROMIUM,
          args: [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
          ],
        },
      },
    },
  ],
});
