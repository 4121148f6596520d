//! Correlation state per organisation, driven by event time.
//!
//! Correlation rules (`event_count`, `value_count`, `temporal`, `temporal_ordered`, and rsigma's `value_*`
//! aggregates) count detections inside time windows. The windows follow the events' own timestamps, never
//! the clock of the machine reading them, so replaying last week's logs gives last week's correlations.
//!
//! Events do not always arrive in time order (several collectors, retries, batch uploads), and a window
//! counted in arrival order would then be wrong. [`CorrelationState`] holds each organisation's events back
//! for up to [`CorrelationOptions::max_delay`] of event time and feeds them to the correlator in timestamp
//! order; an event later than that is too late to correlate (its own detections are still returned) and is
//! counted in [`CorrelationStats::late`]. [`CorrelationState::flush`] releases what is held back, at the end
//! of a batch.
//!
//! Only events with a detection that feeds a correlation are held back; events without a timestamp are
//! never correlated ([`CorrelationStats::untimed`]).
//!
//! ```
//! use std::sync::Arc;
//! use secops_detect::correlation::{CorrelationOptions, CorrelationState};
//! use secops_detect::engine::RsigmaEngine;
//! use secops_detect::events::normalise;
//! use secops_detect::rules::{LoadOptions, RuleSet, RuleKind};
//! use serde_json::json;
//!
//! let rules = r#"
//! title: Failed Logon
//! name: failed_logon
//! status: test
//! logsource: {product: windows, service: security}
//! detection:
//!     selection: {EventID: 4625}
//!     condition: selection
//! ---
//! title: Many Failed Logons
//! status: test
//! author: Example Author
//! correlation:
//!     type: event_count
//!     rules: [failed_logon]
//!     group-by: [TargetUserName]
//!     timespan: 5m
//!     condition: {gte: 3}
//! level: high
//! "#;
//! let rules = RuleSet::from_sources([("logons.yml".into(), rules.to_owned())], &LoadOptions::default());
//! let mut state = CorrelationState::new(Arc::new(RsigmaEngine::new(&rules).unwrap()), CorrelationOptions::default());
//! let logon = |minute: u32| normalise(json!({"EventID": 4625, "Channel": "Security", "TargetUserName": "bob",
//!     "TimeCreated": format!("2025-03-01T10:0{minute}:00Z")})).unwrap();
//! let mut found = Vec::new();
//! for minute in [2, 0, 1] {   // out of order
//!     found.extend(state.process(&"org-a", &logon(minute)).unwrap());
//! }
//! found.extend(state.flush(&"org-a"));
//! let correlations: Vec<_> = found.iter().filter(|d| d.kind == RuleKind::Correlation).collect();
//! assert_eq!(correlations.len(), 1);
//! assert_eq!(correlations[0].authors, ["Example Author"]);
//! // The failed logons feed a correlation that does not `generate` them: they are not shown on their own.
//! assert!(found.iter().all(|d| d.kind == RuleKind::Correlation));
//! ```

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hash;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::engine::{Correlator, Detection, DetectionEngine};
use crate::error::DetectError;
use crate::events::NormalisedEvent;

/// How correlation state behaves.
#[derive(Debug, Clone, Copy)]
pub struct CorrelationOptions {
    /// How far behind the latest event time an event may arrive and still be correlated in order.
    /// Correlations fire this much event time after the event that completes them (or at
    /// [`CorrelationState::flush`]). Default: five minutes.
    pub max_delay: TimeDelta,
    /// Expire finished windows every this many correlated events. Default: 1024.
    pub expire_every: u64,
}

impl Default for CorrelationOptions {
    fn default() -> Self {
        CorrelationOptions {
            max_delay: TimeDelta::minutes(5),
            expire_every: 1024,
        }
    }
}

/// What happened to one organisation's events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CorrelationStats {
    /// Events fed to the correlator.
    pub correlated: u64,
    /// Events held back, waiting for their turn.
    pub pending: u64,
    /// Events that came later than `max_delay` and were not correlated.
    pub late: u64,
    /// Events with a correlation-relevant detection but no timestamp.
    pub untimed: u64,
}

struct Pending {
    at: DateTime<Utc>,
    seq: u64,
    event: NormalisedEvent,
    detections: Vec<Detection>,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

struct OrgState {
    correlator: Box<dyn Correlator>,
    pending: BinaryHeap<Reverse<Pending>>,
    latest: Option<DateTime<Utc>>,
    released: Option<DateTime<Utc>>,
    seq: u64,
    stats: CorrelationStats,
}

/// Correlation state for many organisations, owned by the caller, keyed by whatever identifies an
/// organisation (`K`). Organisations never see each other's events.
pub struct CorrelationState<K> {
    engine: Arc<dyn DetectionEngine>,
    options: CorrelationOptions,
    orgs: HashMap<K, OrgState>,
}

impl<K: Eq + Hash + Clone> CorrelationState<K> {
    /// Empty state for `engine`'s correlation rules. State built for one engine is meaningless for another:
    /// when rules are reloaded, start a new state.
    pub fn new(engine: Arc<dyn DetectionEngine>, options: CorrelationOptions) -> Self {
        CorrelationState {
            engine,
            options,
            orgs: HashMap::new(),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<dyn DetectionEngine> {
        &self.engine
    }

    /// Run the engine on one of `org`'s events and feed its correlations. Returns what to show: the
    /// event's detections and the correlations that fire now, for this event or earlier ones, less those of
    /// rules that only feed correlations which do not `generate` them.
    pub fn process(&mut self, org: &K, event: &NormalisedEvent) -> Result<Vec<Detection>, DetectError> {
        let detections = self.engine.detect(event);
        let mut correlations = self.observe(org, event, &detections)?;
        let mut out: Vec<Detection> = detections
            .into_iter()
            .filter(|d| !d.rule.correlation_only)
            .collect();
        correlations.retain(|d| !d.rule.correlation_only);
        out.append(&mut correlations);
        Ok(out)
    }

    /// Feed detections that the caller got from [`DetectionEngine::detect`]; returns the correlations that
    /// fire now, all of them (a correlation that only feeds another is marked
    /// [`RuleMeta::correlation_only`](crate::rules::RuleMeta::correlation_only)).
    pub fn observe(
        &mut self,
        org: &K,
        event: &NormalisedEvent,
        detections: &[Detection],
    ) -> Result<Vec<Detection>, DetectError> {
        if !self.engine.has_correlations() {
            return Ok(Vec::new());
        }
        let relevant: Vec<Detection> = detections
            .iter()
            .filter(|d| d.rule.feeds_correlation)
            .cloned()
            .collect();
        if relevant.is_empty() && !self.orgs.contains_key(org) {
            return Ok(Vec::new());
        }
        let state = match self.orgs.get_mut(org) {
            Some(state) => state,
            None => {
                let correlator = self.engine.new_correlator()?;
                self.orgs.entry(org.clone()).or_insert(OrgState {
                    correlator,
                    pending: BinaryHeap::new(),
                    latest: None,
                    released: None,
                    seq: 0,
                    stats: CorrelationStats::default(),
                })
            }
        };
        let Some(at) = event.timestamp() else {
            if !relevant.is_empty() {
                state.stats.untimed += 1;
            }
            return Ok(Vec::new());
        };
        if !relevant.is_empty() {
            if state.released.is_some_and(|released| at < released) {
                state.stats.late += 1;
            } else {
                state.seq += 1;
                state.pending.push(Reverse(Pending {
                    at,
                    seq: state.seq,
                    event: event.clone(),
                    detections: relevant,
                }));
            }
        }
        state.latest = Some(state.latest.map_or(at, |latest| latest.max(at)));
        let watermark = state
            .latest
            .and_then(|l| l.checked_sub_signed(self.options.max_delay));
        Ok(release(state, watermark, &self.options))
    }

    /// Correlate everything `org` has held back; at the end of a batch, or to stop waiting for late events.
    /// Like [`process`](Self::process), leaves out correlations that only feed others.
    pub fn flush(&mut self, org: &K) -> Vec<Detection> {
        match self.orgs.get_mut(org) {
            Some(state) => {
                let mut out = release(state, None, &self.options);
                out.retain(|d| !d.rule.correlation_only);
                out
            }
            None => Vec::new(),
        }
    }

    /// [`flush`](Self::flush) every organisation.
    pub fn flush_all(&mut self) -> Vec<(K, Detection)> {
        let options = self.options;
        let mut out = Vec::new();
        for (org, state) in &mut self.orgs {
            out.extend(
                release(state, None, &options)
                    .into_iter()
                    .filter(|d| !d.rule.correlation_only)
                    .map(|d| (org.clone(), d)),
            );
        }
        out
    }

    /// What happened to `org`'s events so far.
    pub fn stats(&self, org: &K) -> Option<CorrelationStats> {
        self.orgs.get(org).map(|s| CorrelationStats {
            pending: s.pending.len() as u64,
            ..s.stats
        })
    }

    /// Forget an organisation's state.
    pub fn remove(&mut self, org: &K) {
        self.orgs.remove(org);
    }
}

/// Feed held-back events up to `watermark` (all of them when `None`) in timestamp order.
fn release(
    state: &mut OrgState,
    watermark: Option<DateTime<Utc>>,
    options: &CorrelationOptions,
) -> Vec<Detection> {
    let mut out = Vec::new();
    while let Some(Reverse(next)) = state.pending.peek() {
        if watermark.is_some_and(|w| next.at > w) {
            break;
        }
        let Some(Reverse(next)) = state.pending.pop() else {
            break;
        };
        out.extend(state.correlator.correlate(&next.event, &next.detections, next.at));
        state.released = Some(next.at);
        state.stats.correlated += 1;
        if options.expire_every > 0 && state.stats.correlated.is_multiple_of(options.expire_every) {
            state.correlator.expire(next.at);
        }
    }
    out
}
