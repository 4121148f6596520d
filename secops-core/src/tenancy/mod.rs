//! Who is acting, for which organisation, and what they may do.
//!
//! Every tenant-scoped operation in secops starts from an [`OrgId`]; the storage layer only hands out
//! transactions for one. Permissions are checked in the SDK's service layer through [`Principal::require`],
//! so an embedding application gets the same rules as the reference server.

mod ids;
mod rbac;

pub use ids::{
    AgentId, ApiKeyId, AttachmentId, ChatId, DetectionId, DocumentId, IdParseError, KnowledgeBaseId,
    MessageId, OrgId, PromptVersionId, RuleId, RunId, ToolConfigId, TriggerId, UserId,
};
pub use rbac::{Forbidden, Permission, Principal, PrincipalKind, Role, RoleParseError};
