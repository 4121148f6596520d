/**
 * Where the server under test listens. The Playwright config is evaluated in the runner and again in every
 * worker, so the port is chosen once (in the runner, by binding port 0 in a child process) and handed on
 * through the environment, which the workers inherit.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const SCREENSHOT_DIR = path.join(E2E_DIR, "screenshots");
export const RESULTS_DIR = path.join(E2E_DIR, "test-results");

/** The access-token lifetime the server runs with: short, so token expiry and refresh happen for real. */
export const ACCESS_TOKEN_TTL_SECS = Number(process.env.SECOPS_E2E_TOKEN_TTL ?? "5");

function freePort(): number {
  const out = execFileSync(
    process.execPath,
    [
      "-e",
      "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close();});",
    ],
    { encoding: "utf8" },
  );
  const port = Number(out.trim());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`could not find a free port (got ${out})`);
  return port;
}

export function serverPort(): number {
  if (!process.env.SECOPS_E2E_PORT) process.env.SECOPS_E2E_PORT = String(freePort());
  return Number(process.env.SECOPS_E2E_PORT);
}

/**
 * Which console the browser loads:
 * - `embedded` (default, and what CI runs): the bundle compiled into the server binary, served by the server;
 * - `preview`: for working on pages before web/dist is rebuilt: global setup builds web/src into
 *   test-results/web-dist (web/dist is not touched) and serves it with `vite preview`, which proxies /v1
 *   (HTTP and WebSocket) to the server.
 */
export const WEB_MODE: "embedded" | "preview" = process.env.SECOPS_E2E_WEB === "preview" ? "preview" : "embedded";

export function previewPort(): number {
  if (!process.env.SECOPS_E2E_WEB_PORT) process.env.SECOPS_E2E_WEB_PORT = String(freePort());
  return Number(process.env.SECOPS_E2E_WEB_PORT);
}

/** The console's origin. 127.0.0.1, not localhost: the server's default public URL is http://<listen>. */
export function baseURL(): string {
  return `http://127.0.0.1:${WEB_MODE === "preview" ? previewPort() : serverPort()}`;
}

export const WEB_DIR = path.resolve(E2E_DIR, "..");

export const SECOPS_BIN = process.env.SECOPS_BIN ?? "/var/tmp/secops-ci-target/debug/secops";
export const CHROMIUM = process.env.SECOPS_E2E_CHROMIUM ?? "/usr/bin/chromium";
