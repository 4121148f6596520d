/** JSON helpers. */

/** JSON.parse when the text is JSON (object or array), else the text itself. */
export function parseMaybeJson(text: string): unknown {
  const t = text.trim();
  if (!(t.startsWith("{") || t.startsWith("["))) return text;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return text;
  }
}
