/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";
import { readFileSync } from "node:fs";

interface StringSchema {
  minLength?: number;
  maxLength?: number;
}

// Input limits the UI shows as hints, taken from the API spec so they cannot drift from the server.
const spec = JSON.parse(readFileSync(new URL("../secops-server/openapi.json", import.meta.url), "utf8")) as {
  components: { schemas: Record<string, StringSchema | undefined> };
};
const schema = (name: string) => spec.components.schemas[name] ?? {};
const limits = {
  password: { min: schema("Password").minLength ?? 12, max: schema("Password").maxLength ?? 1024 },
  name: { min: schema("Name").minLength ?? 1, max: schema("Name").maxLength ?? 120 },
};

// The API the dev server proxies to (`SECOPS_API=http://127.0.0.1:18080 npm run dev`).
const api = process.env.SECOPS_API ?? "http://127.0.0.1:8080";

// The server's Content-Security-Policy for the console; `npm run preview` serves the build with it, so a
// violation shows up before the bundle ships.
const csp =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "connect-src 'self'; frame-ancestors 'none'";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  define: { __SPEC_LIMITS__: JSON.stringify(limits) },
  server: {
    port: 5173,
    strictPort: true,
    // e2e/ is a separate package whose reports must not reload the app.
    watch: { ignored: ["**/e2e/**", "**/dist/**"] },
    proxy: {
      // REST, server-sent events and the chat WebSocket all live under /v1.
      "/v1": { target: api, changeOrigin: false, ws: true },
      "/openapi.json": { target: api },
    },
  },
  preview: {
    port: 4173,
    strictPort: true,
    headers: { "Content-Security-Policy": csp },
    proxy: { "/v1": { target: api, changeOrigin: false, ws: true } },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Hashed names under dist/assets/ (the Vite default), no inline scripts, no source maps in the artefact.
    assetsDir: "assets",
    sourcemap: false,
    // Keep every asset a file: the CSP allows images from data: but scripts only from 'self'.
    assetsInlineLimit: 0,
    target: "es2022",
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
