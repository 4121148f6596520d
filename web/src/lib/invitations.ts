/**
 * Invitation links. An invitation token (shown once, when it is created in Settings → Members) is accepted at
 * `/invitations/accept?token=…` by the invited person, signed in with the invited address.
 */

export const ACCEPT_INVITATION_PATH = "/invitations/accept";

/** The console path that accepts `token` (for a return-to after signing in). */
export function acceptInvitationPath(token: string): string {
  const t = token.trim();
  return t ? `${ACCEPT_INVITATION_PATH}?token=${encodeURIComponent(t)}` : ACCEPT_INVITATION_PATH;
}

/** The full link to send to the invited person. */
export function invitationLink(token: string, origin: string = window.location.origin): string {
  return `${origin}${acceptInvitationPath(token)}`;
}
