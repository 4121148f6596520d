import { Badge } from "../../components";
import { riskTone } from "./decision";

/** A tool's risk as a badge: "High risk" in red, "Medium risk" amber, "Low risk" green. */
export function RiskBadge({ risk }: { risk: string | null | undefined }) {
  const label = risk ? `${risk.charAt(0).toUpperCase()}${risk.slice(1)} risk` : "Unknown risk";
  return <Badge tone={riskTone(risk)}>{label}</Badge>;
}
