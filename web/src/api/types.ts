/**
 * Friendly names for the generated API types.
 *
 * Everything here derives from `schema.d.ts` (generated from `secops-server/openapi.json` by `npm run gen:api`).
 * To code against a route before it is in the spec, intersect `Paths` with a local declaration guarded by
 * `"/v1/x" extends keyof paths ? unknown : {...}` so the generated type wins once it exists.
 */
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];

export type Session = Schemas["Session"];
export type ChatView = Schemas["ChatView"];
export type ChatPage = Schemas["ChatPage"];
export type MessageView = Schemas["MessageView"];
export type AgentView = Schemas["AgentView"];
export type AgentPage = Schemas["AgentPage"];
export type AttachmentView = Schemas["AttachmentView"];
export type RunView = Schemas["RunView"];
export type ApprovalRequest = Schemas["ApprovalRequest"];
export type FeedbackRequest = Schemas["FeedbackRequest"];

/** An organisation the user belongs to (`GET /v1/me` → `organizations`), for the switcher. */
export type OrgMembership = Schemas["OrganizationChoice"];

/** `GET /v1/me`: the principal, its permissions and the user's organisations. */
export type Me = Schemas["Me"];

/** One tool call waiting for a person (`GET /v1/approvals`). */
export type PendingApprovalItem = Schemas["PendingApprovalView"];

export type ApprovalPage = Schemas["ApprovalPage"];

/** The paths the client knows. */
export type Paths = paths;
