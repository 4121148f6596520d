//! What a rule says about itself.

use std::path::{Path, PathBuf};

use rsigma_parser::{CorrelationRule, SigmaRule};
use serde::{Deserialize, Serialize};

use crate::attack::AttackTags;

/// A rule's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleStatus {
    /// Tested and stable.
    Stable,
    /// Tested.
    Test,
    /// New.
    Experimental,
    /// Superseded.
    Deprecated,
    /// Needs something a SIEM cannot do.
    Unsupported,
}

impl RuleStatus {
    /// The name as Sigma writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Stable => "stable",
            RuleStatus::Test => "test",
            RuleStatus::Experimental => "experimental",
            RuleStatus::Deprecated => "deprecated",
            RuleStatus::Unsupported => "unsupported",
        }
    }
}

impl std::str::FromStr for RuleStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "stable" => Ok(RuleStatus::Stable),
            "test" => Ok(RuleStatus::Test),
            "experimental" => Ok(RuleStatus::Experimental),
            "deprecated" => Ok(RuleStatus::Deprecated),
            "unsupported" => Ok(RuleStatus::Unsupported),
            other => Err(format!(
                "unknown rule status `{other}` (stable, test, experimental, deprecated, unsupported)"
            )),
        }
    }
}

impl From<rsigma_parser::Status> for RuleStatus {
    fn from(status: rsigma_parser::Status) -> Self {
        match status {
            rsigma_parser::Status::Stable => RuleStatus::Stable,
            rsigma_parser::Status::Test => RuleStatus::Test,
            rsigma_parser::Status::Experimental => RuleStatus::Experimental,
            rsigma_parser::Status::Deprecated => RuleStatus::Deprecated,
            rsigma_parser::Status::Unsupported => RuleStatus::Unsupported,
        }
    }
}

/// A rule's level (severity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Informational.
    Informational,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Level {
    /// The name as Sigma writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

impl From<rsigma_parser::Level> for Level {
    fn from(level: rsigma_parser::Level) -> Self {
        match level {
            rsigma_parser::Level::Informational => Level::Informational,
            rsigma_parser::Level::Low => Level::Low,
            rsigma_parser::Level::Medium => Level::Medium,
            rsigma_parser::Level::High => Level::High,
            rsigma_parser::Level::Critical => Level::Critical,
        }
    }
}

/// Detection rule or correlation rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Matches single events.
    Detection,
    /// Matches patterns of detections over time.
    Correlation,
}

/// The log source a rule reads, lower-cased. Unset parts accept any event.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RuleLogSource {
    /// e.g. `windows`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// e.g. `process_creation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// e.g. `security`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

impl RuleLogSource {
    pub(crate) fn from_sigma(ls: &rsigma_parser::LogSource) -> Self {
        let lower = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_ascii_lowercase)
        };
        RuleLogSource {
            product: lower(&ls.product),
            category: lower(&ls.category),
            service: lower(&ls.service),
        }
    }
}

impl std::fmt::Display for RuleLogSource {
    /// `product/category/service`, with `*` for unset parts: `windows/process_creation/*`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let part = |p: &Option<String>| p.clone().unwrap_or_else(|| "*".to_owned());
        write!(
            f,
            "{}/{}/{}",
            part(&self.product),
            part(&self.category),
            part(&self.service)
        )
    }
}

/// What a rule says about itself, shared by all its detections.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleMeta {
    /// The rule's ID.
    pub id: Option<String>,
    /// The rule's `name` (what correlations may refer to it by).
    pub name: Option<String>,
    /// The title.
    pub title: String,
    /// Detection or correlation.
    pub kind: RuleKind,
    /// Its status.
    pub status: Option<RuleStatus>,
    /// Its level.
    pub level: Option<Level>,
    /// The `author` field as written.
    pub author: Option<String>,
    /// The authors, one by one.
    pub authors: Vec<String>,
    /// The rule's licence, when it names one.
    pub license: Option<String>,
    /// All tags.
    pub tags: Vec<String>,
    /// ATT&CK technique and sub-technique IDs from the tags (`T1059.001`).
    pub techniques: Vec<String>,
    /// ATT&CK tactic short names from the tags (`execution`).
    pub tactics: Vec<String>,
    /// The log source it reads (correlations: none).
    pub logsource: RuleLogSource,
    /// The file it came from.
    pub path: PathBuf,
    /// Only feeds correlations that do not `generate` its matches: its detections are not shown.
    pub correlation_only: bool,
    /// Some correlation refers to it.
    pub feeds_correlation: bool,
}

impl RuleMeta {
    pub(crate) fn from_rule(rule: &SigmaRule, path: &Path) -> Self {
        let attack = AttackTags::from_tags(rule.tags.iter().map(String::as_str));
        RuleMeta {
            id: rule.id.clone(),
            name: rule.name.clone(),
            title: rule.title.clone(),
            kind: RuleKind::Detection,
            status: rule.status.map(RuleStatus::from),
            level: rule.level.map(Level::from),
            author: rule.author.clone(),
            authors: rule.author.as_deref().map(split_authors).unwrap_or_default(),
            license: rule.license.clone(),
            tags: rule.tags.clone(),
            techniques: attack.techniques,
            tactics: attack.tactics,
            logsource: RuleLogSource::from_sigma(&rule.logsource),
            path: path.to_path_buf(),
            correlation_only: false,
            feeds_correlation: false,
        }
    }

    pub(crate) fn from_correlation(rule: &CorrelationRule, path: &Path) -> Self {
        let attack = AttackTags::from_tags(rule.tags.iter().map(String::as_str));
        RuleMeta {
            id: rule.id.clone(),
            name: rule.name.clone(),
            title: rule.title.clone(),
            kind: RuleKind::Correlation,
            status: rule.status.map(RuleStatus::from),
            level: rule.level.map(Level::from),
            author: rule.author.clone(),
            authors: rule.author.as_deref().map(split_authors).unwrap_or_default(),
            license: rule.license.clone(),
            tags: rule.tags.clone(),
            techniques: attack.techniques,
            tactics: attack.tactics,
            logsource: RuleLogSource::default(),
            path: path.to_path_buf(),
            correlation_only: false,
            feeds_correlation: false,
        }
    }
}

/// Split an `author` field into authors: at commas and ` & ` / ` and ` outside parentheses, so that
/// `Jane Doe (Org A, Org B), John Roe` stays two authors.
///
/// ```
/// use secops_detect::rules::split_authors;
///
/// assert_eq!(split_authors("Jane Doe (Org A, Org B), John Roe"), ["Jane Doe (Org A, Org B)", "John Roe"]);
/// assert_eq!(split_authors("A & B"), ["A", "B"]);
/// ```
pub fn split_authors(author: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    let mut push = |s: &mut String| {
        let t = s.trim();
        if !t.is_empty() {
            out.push(t.to_owned());
        }
        s.clear();
    };
    let mut chars = author.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth == 0 && c == ',' {
            push(&mut current);
            continue;
        }
        if depth == 0 && c == '&' {
            push(&mut current);
            continue;
        }
        if depth == 0 && c == ' ' && current.ends_with(" and") && chars.peek().is_some() {
            current.truncate(current.len() - 4);
            push(&mut current);
            continue;
        }
        current.push(c);
    }
    push(&mut current);
    out
}
