/// <reference types="vite/client" />

/** Limits read from secops-server/openapi.json at build time (see vite.config.ts). */
declare const __SPEC_LIMITS__: {
  password: { min: number; max: number };
  name: { min: number; max: number };
};
