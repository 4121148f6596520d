/** Small pure helpers of the settings tabs. */

export const EXPIRY_PRESETS = [
  { value: "never", label: "Never" },
  { value: "7", label: "In 7 days" },
  { value: "30", label: "In 30 days" },
  { value: "90", label: "In 90 days" },
  { value: "365", label: "In 1 year" },
  { value: "custom", label: "On a date…" },
] as const;

export type ExpiryChoice = (typeof EXPIRY_PRESETS)[number]["value"];

/** The expiry to send (ISO 8601), `null` for none, or an error message. */
export function expiryOf(choice: ExpiryChoice, date: string, now = Date.now()): { ok: true; value: string | null } | { ok: false; error: string } {
  if (choice === "never") return { ok: true, value: null };
  if (choice === "custom") {
    if (!date) return { ok: false, error: "Pick a date." };
    const t = new Date(`${date}T23:59:59`).getTime();
    if (Number.isNaN(t)) return { ok: false, error: "Pick a valid date." };
    if (t <= now) return { ok: false, error: "Pick a date in the future." };
    return { ok: true, value: new Date(t).toISOString() };
  }
  return { ok: true, value: new Date(now + Number(choice) * 86_400_000).toISOString() };
}


const CONFIG_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** A tool configuration's name: 1 to 32 lowercase letters, digits and `-`, starting with a letter. */
export function checkConfigName(name: string): string | null {
  if (name === "") return "Give the configuration a name.";
  if (name.length > 32) return "At most 32 characters.";
  if (!CONFIG_NAME.test(name)) return "Use lowercase letters, digits and -, starting with a letter (no _).";
  return null;
}
