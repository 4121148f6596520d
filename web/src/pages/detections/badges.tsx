/** Level and status badges: the text carries the meaning, the colour repeats it. */
import { Badge } from "../../components";
import { levelLabel, levelTone, statusLabel, statusTone } from "./model";

export function LevelBadge({ level }: { level: string }) {
  return (
    <Badge tone={levelTone(level)} className={level === "critical" ? "ring-1 ring-red-600 dark:ring-red-400" : undefined}>
      {level === "critical" && <span aria-hidden>!</span>}
      {levelLabel(level)}
    </Badge>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <Badge tone={statusTone(status)}>{statusLabel(status)}</Badge>;
}
