/**
 * The workflow buttons of a detection: one per status the server allows next (`nextStatuses`). Hidden for
 * roles without `detections_triage`. A refused change (409 `invalid_transition` / `version_conflict`, 422) is
 * toasted and shown inline with its code; the detection is refetched either way.
 */
import { Button, ProblemMessage } from "../../components";
import { usePermissions } from "../../lib/usePermissions";
import { nextStatuses, transitionLabel, type DetectionStatus } from "./model";
import { useUpdateDetection, type DetectionView } from "./queries";

const variantFor = (to: DetectionStatus) => (to === "true_positive" ? "danger" : to === "triaging" ? "primary" : "secondary");

export function WorkflowActions({
  detection,
  describedBy,
  size = "sm",
}: {
  detection: Pick<DetectionView, "id" | "status" | "version" | "title">;
  /** Id of the element naming the detection (the row title), so each button's description says which one. */
  describedBy?: string;
  size?: "sm" | "md";
}) {
  const { can } = usePermissions();
  const update = useUpdateDetection();
  if (!can("detections_triage")) return null;
  const next = nextStatuses(detection.status);
  if (next.length === 0) return null;
  return (
    <div className="space-y-2">
      <div role="group" aria-label="Workflow" className="flex flex-wrap gap-1.5">
        {next.map((to) => (
          <Button
            key={to}
            size={size}
            variant={variantFor(to)}
            loading={update.isPending && update.variables.status === to}
            disabled={update.isPending}
            aria-describedby={describedBy}
            onClick={() => {
              update.reset();
              update.mutate({ id: detection.id, version: detection.version, status: to });
            }}
          >
            {transitionLabel(detection.status, to)}
          </Button>
        ))}
      </div>
      {update.error && <ProblemMessage error={update.error} />}
    </div>
  );
}
