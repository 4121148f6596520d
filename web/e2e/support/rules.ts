/** Sigma rules and events for the detection tests (the shapes of secops-server/tests/detections.rs). */
import type { Api } from "./api";

export const WHOAMI_TITLE = "Whoami Run From A Shell";
export const WHOAMI_TECHNIQUE = "T1033";

export const WHOAMI = String.raw`title: Whoami Run From A Shell
id: 7d1c3e52-1b6a-4a8e-9c11-5a0e2f6b9d01
status: test
description: whoami.exe started, as attackers do right after landing on a host.
author: Secops E2E Tests
date: 2026-11-29
tags:
    - attack.discovery
    - attack.t1033
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\whoami.exe'
    condition: selection
level: high
`;

/** The same rule whose condition names a selection that does not exist: a lint error with a position. */
export const BROKEN = WHOAMI.replace("condition: selection", "condition: selection and nonexistent").replace("9d01", "9d99");

export function processEvent(image: string, commandLine: string, at: string): Record<string, unknown> {
  return {
    EventID: 1,
    Channel: "Microsoft-Windows-Sysmon/Operational",
    Computer: "ws-042.example.test",
    TimeCreated: at,
    Image: image,
    CommandLine: commandLine,
    User: "EXAMPLE\\alice",
  };
}

export const EVENTS_NDJSON = [
  processEvent("C:\\Windows\\System32\\whoami.exe", "whoami /all", "2026-11-29T08:00:00Z"),
  processEvent("C:\\Windows\\explorer.exe", "explorer.exe", "2026-11-29T08:00:06Z"),
]
  .map((e) => JSON.stringify(e))
  .join("\n");

export interface RuleView {
  id: string;
  title: string;
  enabled: boolean;
}

export async function uploadRule(api: Api, yaml = WHOAMI): Promise<RuleView> {
  return (await api.post<{ rule: RuleView }>("/v1/detection-rules", { yaml })).rule;
}

export interface DetectionView {
  id: string;
  title: string;
  status: string;
  version: number;
}

export async function ingest(api: Api, ndjson = EVENTS_NDJSON): Promise<DetectionView[]> {
  const report = await api.json<{ detections: DetectionView[] }>("POST", "/v1/events", ndjson, {
    "Content-Type": "application/x-ndjson",
  });
  return report.detections;
}
