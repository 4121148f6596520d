use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{RiskLevel, ToolDefinition};

/// Which tool calls of an agent wait for a person's approval.
///
/// Rules apply in order: a tool named in `never` runs without approval, one named in `always` waits, and any
/// other waits when its risk is at least `from_risk`. The default asks for approval of high-risk tools only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalPolicy {
    /// The lowest risk level that needs approval; `None` means risk alone never does.
    #[serde(default = "default_from_risk")]
    pub from_risk: Option<RiskLevel>,
    /// Tools that always need approval.
    #[serde(default)]
    pub always: BTreeSet<String>,
    /// Tools that never need approval, whatever their risk.
    #[serde(default)]
    pub never: BTreeSet<String>,
}

#[allow(clippy::unnecessary_wraps)] // serde's default needs the exact field type
fn default_from_risk() -> Option<RiskLevel> {
    Some(RiskLevel::High)
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        Self {
            from_risk: default_from_risk(),
            always: BTreeSet::new(),
            never: BTreeSet::new(),
        }
    }
}

impl ApprovalPolicy {
    /// No call ever waits (fully autonomous agents; use with care).
    #[must_use]
    pub fn autonomous() -> Self {
        Self {
            from_risk: None,
            ..Self::default()
        }
    }

    /// Every call waits.
    #[must_use]
    pub fn always() -> Self {
        Self {
            from_risk: Some(RiskLevel::Low),
            ..Self::default()
        }
    }

    /// Whether a call to `tool` must wait for approval.
    #[must_use]
    pub fn requires_approval(&self, tool: &ToolDefinition) -> bool {
        if self.never.contains(&tool.name) {
            return false;
        }
        if self.always.contains(&tool.name) {
            return true;
        }
        self.from_risk.is_some_and(|from| tool.risk >= from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn policy_rules_apply_in_order() {
        let isolate = ToolDefinition::new("isolate_host", "", json!({})).with_risk(RiskLevel::High);
        let search = ToolDefinition::new("search", "", json!({}));
        let default = ApprovalPolicy::default();
        assert!(default.requires_approval(&isolate));
        assert!(!default.requires_approval(&search));
        let mut p = ApprovalPolicy::default();
        p.never.insert("isolate_host".into());
        p.always.insert("search".into());
        assert!(!p.requires_approval(&isolate));
        assert!(p.requires_approval(&search));
        assert!(!ApprovalPolicy::autonomous().requires_approval(&isolate));
        assert!(ApprovalPolicy::always().requires_approval(&search));
        let parsed: ApprovalPolicy = serde_json::from_value(json!({})).unwrap();
        assert_eq!(parsed, default);
    }
}
