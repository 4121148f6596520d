/** The invitation page: accepting an invitation from its link (`/invitations/accept?token=…`). */
export { AcceptInvitationPage } from "./AcceptInvitationPage";
