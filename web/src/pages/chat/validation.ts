/** Validates edited arguments: JSON, and an object (the spec's `input: object`). */
export function validateArguments(text: string): { value: Record<string, unknown> } | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { error: `Not valid JSON: ${e instanceof Error ? e.message : "parse error"}` };
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return { error: "The arguments must be a JSON object ({ … })." };
  return { value: v as Record<string, unknown> };
}
