/**
 * Saving data as a file through a Blob URL (the CSP allows `blob:`). Fetch the data through the api client
 * (`parseAs: "blob"` or JSON), so the bearer token and the refresh-on-401 apply, then:
 *
 * ```ts
 * saveBlob(new Blob([text], { type: "application/x-ndjson" }), timestampedName("audit-events", "ndjson"));
 * ```
 */

/** Starts a download of `blob` as `filename`. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.rel = "noopener";
  a.style.display = "none";
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Give the browser time to start reading the blob before releasing it.
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

/** `prefix-2026-05-01T10-20-30Z.ext`: a file name that sorts by time and is valid everywhere. */
export function timestampedName(prefix: string, ext: string, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/:/g, "-");
  return `${prefix}-${stamp}.${ext}`;
}
