//! Detection engines: the [`DetectionEngine`] trait the rest of secops uses, its rsigma implementation
//! ([`RsigmaEngine`]), logsource [`Routing`], and the [`Detection`] every match becomes.
//!
//! The trait is object-safe (`Arc<dyn DetectionEngine>`), so another engine can replace rsigma without
//! touching callers. Detection is stateless and `&self`, so one engine serves every thread and organisation;
//! correlation state lives outside the engine, per organisation, in
//! [`CorrelationState`](crate::correlation::CorrelationState).

mod routing;
mod rsigma;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::error::DetectError;
use crate::events::NormalisedEvent;
use crate::rules::{Level, RuleKind, RuleMeta, RuleStatus};

pub use routing::Routing;
pub use rsigma::{EngineOptions, RsigmaEngine};

/// One field that made a rule match.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchedField {
    /// The field (`keyword` for keyword matches).
    pub field: String,
    /// Its value in the event.
    pub value: Value,
}

/// What a correlation rule saw when it fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrelationMatch {
    /// `event_count`, `value_count`, `temporal`...
    #[serde(rename = "type")]
    pub correlation_type: String,
    /// The group-by fields and their values.
    pub group: Vec<(String, String)>,
    /// The count, distinct count or aggregate that met the condition.
    pub value: f64,
    /// The rule's time window, in seconds.
    pub timespan_secs: u64,
}

/// A rule matched.
///
/// Serialised, it is one line of `secops detect` output: the rule (ID, title, level, status, authors,
/// ATT&CK techniques and tactics), what matched, and the event.
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    /// A detection rule on one event, or a correlation over several.
    pub kind: RuleKind,
    /// The rule's ID.
    pub rule_id: Option<String>,
    /// The rule's title.
    pub title: String,
    /// The rule's level.
    pub level: Option<Level>,
    /// The rule's status.
    pub status: Option<RuleStatus>,
    /// The rule's authors: the Detection Rule License requires showing them with every match.
    pub authors: Vec<String>,
    /// ATT&CK techniques from the rule's tags.
    pub techniques: Vec<String>,
    /// ATT&CK tactics from the rule's tags.
    pub tactics: Vec<String>,
    /// The fields that matched (detection rules).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matched_fields: Vec<MatchedField>,
    /// What the correlation saw (correlation rules).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation: Option<CorrelationMatch>,
    /// The event's time.
    pub timestamp: Option<DateTime<Utc>>,
    /// The event (for a correlation: the one that completed it), normalised.
    pub event: Arc<Value>,
    /// Everything the rule says about itself.
    #[serde(skip)]
    pub rule: Arc<RuleMeta>,
}

impl Detection {
    /// A detection of `rule` on `event`.
    pub fn new(rule: Arc<RuleMeta>, event: &NormalisedEvent, matched_fields: Vec<MatchedField>) -> Self {
        Detection {
            kind: rule.kind,
            rule_id: rule.id.clone(),
            title: rule.title.clone(),
            level: rule.level,
            status: rule.status,
            authors: rule.authors.clone(),
            techniques: rule.techniques.clone(),
            tactics: rule.tactics.clone(),
            matched_fields,
            correlation: None,
            timestamp: event.timestamp(),
            event: event.fields_shared(),
            rule,
        }
    }
}

/// Keeps correlation windows for one organisation. Events must come in timestamp order;
/// [`CorrelationState`](crate::correlation::CorrelationState) puts them in order first.
pub trait Correlator: Send {
    /// Feed one event and its detections at time `at`; returns the correlations that fire.
    fn correlate(
        &mut self,
        event: &NormalisedEvent,
        detections: &[Detection],
        at: DateTime<Utc>,
    ) -> Vec<Detection>;

    /// Drop windows that can no longer fire, now that event time has reached `now`.
    fn expire(&mut self, now: DateTime<Utc>);
}

/// A detection engine: compiled rules that match events.
pub trait DetectionEngine: Send + Sync {
    /// A name for logs and reports, e.g. `rsigma 0.23`.
    fn name(&self) -> &str;

    /// The rules it runs, detections then correlations.
    fn rules(&self) -> &[Arc<RuleMeta>];

    /// The detection rules that match `event` (not correlations). Detections of rules that only feed
    /// correlations are included here: the correlation state needs them, and
    /// [`CorrelationState::process`](crate::correlation::CorrelationState::process) drops them from what it
    /// shows.
    fn detect(&self, event: &NormalisedEvent) -> Vec<Detection>;

    /// Whether any correlation rule is loaded.
    fn has_correlations(&self) -> bool;

    /// Fresh correlation state for one organisation.
    fn new_correlator(&self) -> Result<Box<dyn Correlator>, DetectError>;
}
