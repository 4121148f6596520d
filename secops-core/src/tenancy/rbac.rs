use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{OrgId, UserId};

/// A built-in role within one organisation. Ordered from most to least privileged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including deleting the organisation and managing owners.
    Owner,
    /// Manages members, agents, tools, rules and keys; reads audit.
    Admin,
    /// Works cases: runs agents, chats, approves tool calls, triages detections.
    Analyst,
    /// Reads; changes nothing.
    Viewer,
}

/// The roles' names did not match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}` (expected owner, admin, analyst or viewer)")]
pub struct RoleParseError(pub String);

impl Role {
    /// All roles, most privileged first.
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Analyst, Role::Viewer];

    /// The role's stable name, as stored and sent over the API.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
        }
    }

    /// Whether this role grants `permission`.
    #[must_use]
    pub fn allows(self, permission: Permission) -> bool {
        use Permission as P;
        match self {
            Role::Owner => true,
            Role::Admin => !matches!(permission, P::OrgDelete | P::OwnersManage),
            Role::Analyst => matches!(
                permission,
                P::OrgRead
                    | P::MembersRead
                    | P::AgentsRead
                    | P::RunsRead
                    | P::RunsStart
                    | P::RunsCancel
                    | P::RunsApprove
                    | P::ChatsUse
                    | P::FeedbackWrite
                    | P::ToolsRead
                    | P::DetectionsRead
                    | P::DetectionsTriage
                    | P::EventsIngest
                    | P::RulesRead
                    | P::DocumentsRead
                    | P::DocumentsWrite
            ),
            Role::Viewer => matches!(
                permission,
                P::OrgRead
                    | P::MembersRead
                    | P::AgentsRead
                    | P::RunsRead
                    | P::ToolsRead
                    | P::DetectionsRead
                    | P::RulesRead
                    | P::DocumentsRead
            ),
        }
    }

    /// Every permission this role grants.
    #[must_use]
    pub fn permissions(self) -> Vec<Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(|p| self.allows(*p))
            .collect()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = RoleParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| RoleParseError(s.chars().take(32).collect()))
    }
}

/// One thing a principal may do. Routes and SDK services each require one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Permission {
    /// Read the organisation's profile and settings.
    OrgRead,
    /// Change the organisation's settings (SSO, limits).
    OrgManage,
    /// Delete the organisation.
    OrgDelete,
    /// List members.
    MembersRead,
    /// Invite, change roles of and remove non-owner members.
    MembersManage,
    /// Grant or remove the owner role.
    OwnersManage,
    /// Create, list and revoke API keys.
    ApiKeysManage,
    /// Read agents and their prompt versions.
    AgentsRead,
    /// Create and change agents and prompt versions.
    AgentsWrite,
    /// Read runs and their events.
    RunsRead,
    /// Start runs.
    RunsStart,
    /// Cancel runs.
    RunsCancel,
    /// Approve, deny or edit tool calls that wait for approval.
    RunsApprove,
    /// Use chats.
    ChatsUse,
    /// Leave feedback on messages and runs.
    FeedbackWrite,
    /// Read the tool catalogue and configurations (never credentials).
    ToolsRead,
    /// Create, change and delete tool configurations and credentials.
    ToolsManage,
    /// Read detections.
    DetectionsRead,
    /// Change a detection's status, assignee and notes.
    DetectionsTriage,
    /// Send events for detection.
    EventsIngest,
    /// Read detection rules and coverage.
    RulesRead,
    /// Upload, enable, disable and tune detection rules.
    RulesWrite,
    /// Read documents in the retrieval index.
    DocumentsRead,
    /// Add and remove documents in the retrieval index.
    DocumentsWrite,
    /// Read and export the audit log.
    AuditRead,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 25] = [
        Permission::OrgRead,
        Permission::OrgManage,
        Permission::OrgDelete,
        Permission::MembersRead,
        Permission::MembersManage,
        Permission::OwnersManage,
        Permission::ApiKeysManage,
        Permission::AgentsRead,
        Permission::AgentsWrite,
        Permission::RunsRead,
        Permission::RunsStart,
        Permission::RunsCancel,
        Permission::RunsApprove,
        Permission::ChatsUse,
        Permission::FeedbackWrite,
        Permission::ToolsRead,
        Permission::ToolsManage,
        Permission::DetectionsRead,
        Permission::DetectionsTriage,
        Permission::EventsIngest,
        Permission::RulesRead,
        Permission::RulesWrite,
        Permission::DocumentsRead,
        Permission::DocumentsWrite,
        Permission::AuditRead,
    ];
}

/// How a principal authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// A person, through a password, SSO or refresh token.
    User,
    /// A service, through an API key.
    ApiKey,
    /// secops itself: schedulers, detection triggers, workers.
    System,
}

/// An authenticated actor acting within one organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The organisation every action is scoped to.
    pub org_id: OrgId,
    /// The acting user; `None` for API keys and system actors.
    pub user_id: Option<UserId>,
    /// The role within `org_id`.
    pub role: Role,
    /// How the actor authenticated.
    pub kind: PrincipalKind,
}

/// A principal lacked a permission.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("role `{role}` lacks permission `{permission:?}`")]
pub struct Forbidden {
    /// The role that was checked.
    pub role: Role,
    /// The permission that was missing.
    pub permission: Permission,
}

impl Principal {
    /// A user acting in an organisation with a role.
    #[must_use]
    pub fn user(org_id: OrgId, user_id: UserId, role: Role) -> Self {
        Self {
            org_id,
            user_id: Some(user_id),
            role,
            kind: PrincipalKind::User,
        }
    }

    /// secops itself acting for an organisation (e.g. a scheduled trigger); it has the admin role.
    #[must_use]
    pub fn system(org_id: OrgId) -> Self {
        Self {
            org_id,
            user_id: None,
            role: Role::Admin,
            kind: PrincipalKind::System,
        }
    }

    /// Succeeds when the principal's role grants `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), Forbidden> {
        if self.role.allows(permission) {
            Ok(())
        } else {
            Err(Forbidden {
                role: self.role,
                permission,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_nested() {
        for p in Permission::ALL {
            if Role::Viewer.allows(p) {
                assert!(Role::Analyst.allows(p), "{p:?}");
            }
            if Role::Analyst.allows(p) {
                assert!(Role::Admin.allows(p), "{p:?}");
            }
            assert!(Role::Owner.allows(p));
        }
        assert!(!Role::Admin.allows(Permission::OwnersManage));
        assert!(!Role::Viewer.allows(Permission::RunsStart));
        assert!(Role::Analyst.allows(Permission::RunsApprove));
        assert!(!Role::Analyst.allows(Permission::AuditRead));
    }

    #[test]
    fn require_reports_what_is_missing() {
        let p = Principal::user(OrgId::new(), UserId::new(), Role::Viewer);
        let err = p.require(Permission::AgentsWrite).unwrap_err();
        assert_eq!(err.permission, Permission::AgentsWrite);
        assert!(p.require(Permission::AgentsRead).is_ok());
    }

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        assert!("root".parse::<Role>().is_err());
    }
}
