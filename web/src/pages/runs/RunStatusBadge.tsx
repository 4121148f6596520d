import { Badge } from "../../components";
import { runStatusLabel, runStatusTone } from "./status";

/** A run's status as a badge (the text says it; the colour only helps). */
export function RunStatusBadge({ status }: { status: string }) {
  return <Badge tone={runStatusTone(status)}>{runStatusLabel(status)}</Badge>;
}
