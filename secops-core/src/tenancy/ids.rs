use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A string that was supposed to be an id but is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a valid {kind} (expected a UUID)")]
pub struct IdParseError {
    /// Which id type was being parsed, e.g. `OrgId`.
    pub kind: &'static str,
    /// The rejected input, cut to 64 characters so a hostile value cannot flood logs.
    pub input: String,
}

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered (UUIDv7) id.
            #[must_use]
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID, e.g. one read back from storage.
            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            #[must_use]
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self).map_err(|_| IdParseError {
                    kind: stringify!($name),
                    input: s.chars().take(64).collect(),
                })
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    };
}

uuid_id!(
    /// An organisation (tenant). Everything but users belongs to exactly one.
    OrgId
);
uuid_id!(
    /// A user account; users join organisations through memberships.
    UserId
);
uuid_id!(
    /// A configured agent: prompt, model, tools, planning mode and limits.
    AgentId
);
uuid_id!(
    /// One execution of an agent.
    RunId
);
uuid_id!(
    /// An immutable, numbered version of an agent's system prompt.
    PromptVersionId
);
uuid_id!(
    /// A chat session.
    ChatId
);
uuid_id!(
    /// One message in a chat.
    MessageId
);
uuid_id!(
    /// A file attached to a chat message.
    AttachmentId
);
uuid_id!(
    /// A service API key.
    ApiKeyId
);
uuid_id!(
    /// An organisation's configuration (endpoint, credentials) for one tool kind.
    ToolConfigId
);
uuid_id!(
    /// What starts an agent run: manual, schedule or detection.
    TriggerId
);
uuid_id!(
    /// A detection rule (Sigma) stored for an organisation.
    RuleId
);
uuid_id!(
    /// A detection (alert) raised by a rule match.
    DetectionId
);
uuid_id!(
    /// A document indexed for retrieval.
    DocumentId
);
uuid_id!(
    /// A knowledge base: a named set of documents that agents search (secops-rag).
    KnowledgeBaseId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_v7_and_round_trip() {
        let a = RunId::new();
        let b = RunId::new();
        assert_eq!(a.as_uuid().get_version_num(), 7);
        assert!(a <= b, "v7 ids sort by creation time");
        let parsed: RunId = a.to_string().parse().unwrap();
        assert_eq!(parsed, a);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, format!("\"{a}\""));
    }

    #[test]
    fn bad_id_is_a_clear_error() {
        let err = "not-a-uuid".parse::<OrgId>().unwrap_err();
        assert_eq!(err.kind, "OrgId");
        assert!(err.to_string().contains("not-a-uuid"));
        let long = "x".repeat(500);
        assert_eq!(long.parse::<OrgId>().unwrap_err().input.len(), 64);
    }
}
