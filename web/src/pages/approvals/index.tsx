/** The approvals inbox; `ApprovalControls` is shared with the run page. */
export { ApprovalsPage } from "./ApprovalsPage";
export { ApprovalControls } from "./ApprovalControls";
export { RiskBadge } from "./RiskBadge";
