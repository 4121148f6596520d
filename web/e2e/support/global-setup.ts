/**
 * Starts the secops server binary for the whole run: a free port, a fresh data directory, the offline demo
 * model and a short access-token lifetime. Waits for /readyz; the returned function (Playwright's teardown)
 * stops it and removes the data directory. The server's output goes to test-results/server.log.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import {
  ACCESS_TOKEN_TTL_SECS,
  RESULTS_DIR,
  SCREENSHOT_DIR,
  SECOPS_BIN,
  WEB_DIR,
  WEB_MODE,
  baseURL,
  previewPort,
  serverPort,
} from "./env";

async function waitReady(url: string, child: { exitCode: number | null }, ms: number, probe = "/readyz"): Promise<void> {
  const deadline = Date.now() + ms;
  let last = "";
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url} exited with ${child.exitCode} before it was ready`);
    try {
      const r = await fetch(`${url}${probe}`);
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the server at ${url} was not ready within ${ms} ms (${last})`);
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!existsSync(SECOPS_BIN)) {
    throw new Error(`no server binary at ${SECOPS_BIN}: build it (cargo build -p secops-server --bin secops) or set SECOPS_BIN`);
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  // Screenshots are overwritten test by test (not emptied), so running one spec keeps the others' pictures.
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "secops-e2e-"));
  const port = serverPort();
  const log = openSync(path.join(RESULTS_DIR, "server.log"), "w");
  const child = spawn(SECOPS_BIN, ["serve"], {
    env: {
      ...process.env,
      SECOPS_DATA_DIR: dataDir,
      SECOPS_LISTEN: `127.0.0.1:${port}`,
      SECOPS_LLM_PROVIDER: "demo",
      SECOPS_ACCESS_TOKEN_TTL_SECS: String(ACCESS_TOKEN_TTL_SECS),
      SECOPS_ALLOW_REGISTRATION: "true",
      RUST_LOG: process.env.RUST_LOG ?? "info",
    },
    stdio: ["ignore", log, log],
  });
  // Should the runner itself be stopped, do not leave the server behind.
  process.once("exit", () => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  const serverUrl = `http://127.0.0.1:${port}`;
  try {
    await waitReady(serverUrl, child, 30_000);
  } catch (e) {
    child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`${String(e)}; see ${path.join(RESULTS_DIR, "server.log")}`);
  }
  process.stdout.write(`secops e2e: server ${SECOPS_BIN} at ${serverUrl}, data ${dataDir}\n`);

  let preview: ReturnType<typeof spawn> | null = null;
  if (WEB_MODE === "preview") {
    try {
      const vite = path.join(WEB_DIR, "node_modules", "vite", "bin", "vite.js");
      const outDir = path.join(RESULTS_DIR, "web-dist");
      process.stdout.write(`secops e2e: building web/src into ${outDir} (web/dist untouched)\n`);
      execFileSync(process.execPath, [vite, "build", "--outDir", outDir, "--emptyOutDir", "--logLevel", "warn"], {
        cwd: WEB_DIR,
        stdio: "inherit",
      });
      const plog = openSync(path.join(RESULTS_DIR, "preview.log"), "w");
      preview = spawn(
        process.execPath,
        [vite, "preview", "--outDir", outDir, "--host", "127.0.0.1", "--port", String(previewPort()), "--strictPort", "--bypass-lock"],
        { cwd: WEB_DIR, env: { ...process.env, SECOPS_API: serverUrl }, stdio: ["ignore", plog, plog] },
      );
      const p = preview;
      process.once("exit", () => {
        if (p.exitCode === null) p.kill("SIGKILL");
      });
      await waitReady(baseURL(), preview, 30_000, "/login");
      process.stdout.write(`secops e2e: console (vite preview) at ${baseURL()}\n`);
    } catch (e) {
      // Playwright runs no teardown when set-up fails: stop what was started.
      preview?.kill("SIGKILL");
      child.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`${String(e)}; see ${path.join(RESULTS_DIR, "preview.log")}`);
    }
  }
  return async () => {
    if (preview && preview.exitCode === null) preview.kill("SIGTERM");
    if (child.exitCode === null) {
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
}
