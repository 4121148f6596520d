//! The rsigma engine.
//!
//! Rules are grouped by log source, one rsigma [`Engine`] per group, so that routing an event is choosing
//! the groups its log source accepts; within a group rsigma's own candidate index picks the rules worth
//! evaluating. Each compiled rule carries its position in our rule list as a custom attribute, which rsigma
//! hands back with every match, so a match finds its metadata without a lookup by ID or title.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rsigma_eval::event::JsonEvent;
use rsigma_eval::{
    CorrelationConfig, CorrelationEngine, DetectionBody, Engine, EvaluationResult, ResultBody, RuleHeader,
    TimestampFallback,
};
use rsigma_parser::SigmaCollection;
use serde_json::Value;

use super::{CorrelationMatch, Correlator, Detection, DetectionEngine, MatchedField, Routing};
use crate::error::DetectError;
use crate::events::NormalisedEvent;
use crate::rules::{RuleLogSource, RuleMeta, RuleSet};

/// The custom attribute that carries a compiled rule's index into [`RsigmaEngine::metas`].
const RULE_INDEX: &str = "secops.rule_index";

/// How the engine runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineOptions {
    /// Which rules see which events.
    pub routing: Routing,
}

struct Bucket {
    logsource: RuleLogSource,
    engine: Engine,
}

/// The [`DetectionEngine`] built on rsigma 0.23.
///
/// ```
/// use secops_detect::engine::{DetectionEngine, RsigmaEngine};
/// use secops_detect::events::normalise;
/// use secops_detect::rules::{LoadOptions, RuleSet};
/// use serde_json::json;
///
/// let rule = r#"
/// title: Certutil Download
/// id: 0c1f3a52-2222-4222-8222-222222222222
/// status: test
/// author: Example Author
/// tags: [attack.command-and-control, attack.t1105]
/// logsource: {product: windows, category: process_creation}
/// detection:
///     selection:
///         Image|endswith: '\certutil.exe'
///         CommandLine|contains|all: ['-urlcache', 'http']
///     condition: selection
/// level: high
/// "#;
/// let rules = RuleSet::from_sources([("certutil.yml".into(), rule.to_owned())], &LoadOptions::default());
/// let engine = RsigmaEngine::new(&rules).unwrap();
/// let sysmon = |id: u64| normalise(json!({"Event": {
///     "System": {"EventID": id, "Channel": "Microsoft-Windows-Sysmon/Operational"},
///     "EventData": {"Image": "C:\\Windows\\System32\\certutil.exe",
///                   "CommandLine": "certutil -urlcache -f http://x/a.exe a.exe"}}})).unwrap();
/// let found = engine.detect(&sysmon(1));
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[0].authors, ["Example Author"]);
/// assert_eq!(found[0].techniques, ["T1105"]);
/// // The same fields in a network connection event (Sysmon 3): routed away from the rule.
/// assert!(engine.detect(&sysmon(3)).is_empty());
/// ```
pub struct RsigmaEngine {
    name: String,
    metas: Vec<Arc<RuleMeta>>,
    buckets: Vec<Bucket>,
    routing: Routing,
    correlations: Option<Arc<CorrelationTemplate>>,
}

/// What every organisation's correlator is built from.
struct CorrelationTemplate {
    collection: SigmaCollection,
    metas: HashMap<String, Arc<RuleMeta>>,
}

impl RsigmaEngine {
    /// An engine for `rules`, with strict routing.
    pub fn new(rules: &RuleSet) -> Result<RsigmaEngine, DetectError> {
        Self::with_options(rules, EngineOptions::default())
    }

    /// An engine for `rules`.
    pub fn with_options(rules: &RuleSet, options: EngineOptions) -> Result<RsigmaEngine, DetectError> {
        let metas: Vec<Arc<RuleMeta>> = rules.metas().cloned().collect();
        let mut groups: BTreeMap<RuleLogSource, Vec<rsigma_eval::CompiledRule>> = BTreeMap::new();
        for (index, rule) in rules.rules().iter().enumerate() {
            let mut compiled = rule.compiled.clone();
            Arc::make_mut(&mut compiled.custom_attributes).insert(RULE_INDEX.to_owned(), Value::from(index));
            let key = match options.routing {
                Routing::Off => RuleLogSource::default(),
                Routing::Strict | Routing::Lenient => rule.meta.logsource.clone(),
            };
            groups.entry(key).or_default().push(compiled);
        }
        let mut buckets = Vec::with_capacity(groups.len());
        for (logsource, compiled) in groups {
            let mut engine = Engine::new();
            engine.extend_compiled_rules(compiled);
            for filter in rules.filters() {
                engine.apply_filter(&filter.sigma).map_err(|e| {
                    DetectError::Engine(format!(
                        "filter {} ({}): {e}",
                        filter.sigma.title,
                        filter.path.display()
                    ))
                })?;
            }
            buckets.push(Bucket { logsource, engine });
        }
        let correlations = if rules.correlations().is_empty() {
            None
        } else {
            let template = correlation_template(rules);
            // Build one correlator now so that a problem shows when the rules load, not per organisation.
            new_correlation_engine(&template)?;
            Some(Arc::new(template))
        };
        Ok(RsigmaEngine {
            name: "rsigma 0.23.0".to_owned(),
            metas,
            buckets,
            routing: options.routing,
            correlations,
        })
    }

    /// How many rule groups (distinct log sources) there are.
    pub fn group_count(&self) -> usize {
        self.buckets.len()
    }

    fn detection_of(&self, result: EvaluationResult, event: &NormalisedEvent) -> Option<(usize, Detection)> {
        let index = usize::try_from(result.header.custom_attributes.get(RULE_INDEX)?.as_u64()?).ok()?;
        let meta = self.metas.get(index)?;
        let mut matched: Vec<MatchedField> = match result.body {
            ResultBody::Detection(body) => body
                .matched_fields
                .into_iter()
                .map(|m| MatchedField {
                    field: m.field,
                    value: m.value,
                })
                .collect(),
            ResultBody::Correlation(_) => Vec::new(),
        };
        // rsigma keeps a rule's selections in a hash map; sorted, the same match reads the same every run.
        matched.sort_by(|a, b| a.field.cmp(&b.field));
        Some((index, Detection::new(Arc::clone(meta), event, matched)))
    }
}

impl DetectionEngine for RsigmaEngine {
    fn name(&self) -> &str {
        &self.name
    }

    fn rules(&self) -> &[Arc<RuleMeta>] {
        &self.metas
    }

    fn detect(&self, event: &NormalisedEvent) -> Vec<Detection> {
        let json = JsonEvent::borrow(event.fields());
        let mut found = Vec::new();
        for bucket in &self.buckets {
            if !self.routing.accepts(&bucket.logsource, event.logsource()) {
                continue;
            }
            for result in bucket.engine.evaluate(&json) {
                if let Some(detection) = self.detection_of(result, event) {
                    found.push(detection);
                }
            }
        }
        // rsigma's candidate order depends on hashing; rule order makes output reproducible.
        found.sort_by_key(|(index, _)| *index);
        found.into_iter().map(|(_, d)| d).collect()
    }

    fn has_correlations(&self) -> bool {
        self.correlations.is_some()
    }

    fn new_correlator(&self) -> Result<Box<dyn Correlator>, DetectError> {
        match &self.correlations {
            None => Ok(Box::new(NoCorrelations)),
            Some(template) => Ok(Box::new(RsigmaCorrelator {
                engine: new_correlation_engine(template)?,
                template: Arc::clone(template),
            })),
        }
    }
}

/// The ID a rule goes by inside the correlation engine: its own, or one made from its file and title, so
/// that rules without an ID can still feed correlations (which rsigma matches by ID).
fn reference_key(meta: &RuleMeta) -> String {
    meta.id
        .clone()
        .unwrap_or_else(|| format!("{}#{}", meta.path.display(), meta.title))
}

fn correlation_template(rules: &RuleSet) -> CorrelationTemplate {
    let mut collection = SigmaCollection::new();
    let mut metas = HashMap::new();
    for rule in rules.rules().iter().filter(|r| r.meta.feeds_correlation) {
        let mut sigma = rule.sigma.clone();
        let key = reference_key(&rule.meta);
        sigma.id = Some(key.clone());
        metas.insert(key, Arc::clone(&rule.meta));
        collection.rules.push(sigma);
    }
    for correlation in rules.correlations() {
        let mut sigma = correlation.sigma.clone();
        let key = reference_key(&correlation.meta);
        sigma.id = Some(key.clone());
        metas.insert(key, Arc::clone(&correlation.meta));
        collection.correlations.push(sigma);
    }
    CorrelationTemplate { collection, metas }
}

fn new_correlation_engine(template: &CorrelationTemplate) -> Result<CorrelationEngine, DetectError> {
    let config = CorrelationConfig {
        // Time comes from events only; an event without a time never reaches a correlator.
        timestamp_fallback: TimestampFallback::Skip,
        ..CorrelationConfig::default()
    };
    let mut engine = CorrelationEngine::new(config);
    engine
        .add_collection(&template.collection)
        .map_err(|e| DetectError::Engine(format!("correlation rules: {e}")))?;
    Ok(engine)
}

struct NoCorrelations;

impl Correlator for NoCorrelations {
    fn correlate(&mut self, _: &NormalisedEvent, _: &[Detection], _: DateTime<Utc>) -> Vec<Detection> {
        Vec::new()
    }

    fn expire(&mut self, _: DateTime<Utc>) {}
}

struct RsigmaCorrelator {
    engine: CorrelationEngine,
    template: Arc<CorrelationTemplate>,
}

impl Correlator for RsigmaCorrelator {
    fn correlate(
        &mut self,
        event: &NormalisedEvent,
        detections: &[Detection],
        at: DateTime<Utc>,
    ) -> Vec<Detection> {
        let fed: Vec<EvaluationResult> = detections
            .iter()
            .filter(|d| d.rule.feeds_correlation)
            .map(|d| EvaluationResult {
                header: RuleHeader {
                    rule_title: d.title.clone(),
                    rule_id: Some(reference_key(&d.rule)),
                    level: None,
                    tags: Vec::new(),
                    custom_attributes: Arc::default(),
                    enrichments: None,
                },
                body: ResultBody::Detection(DetectionBody {
                    matched_selections: Vec::new(),
                    matched_fields: Vec::new(),
                    event: None,
                }),
            })
            .collect();
        if fed.is_empty() {
            return Vec::new();
        }
        let json = JsonEvent::borrow(event.fields());
        self.engine
            .process_with_detections(&json, fed, at.timestamp())
            .into_iter()
            .filter_map(|result| {
                let ResultBody::Correlation(body) = result.body else {
                    return None;
                };
                let meta = self.template.metas.get(result.header.rule_id.as_deref()?)?;
                let mut detection = Detection::new(Arc::clone(meta), event, Vec::new());
                detection.timestamp = Some(at);
                detection.correlation = Some(CorrelationMatch {
                    correlation_type: body.correlation_type.as_str().to_owned(),
                    group: body.group_key,
                    value: body.aggregated_value,
                    timespan_secs: body.timespan_secs,
                });
                Some(detection)
            })
            .collect()
    }

    fn expire(&mut self, now: DateTime<Utc>) {
        self.engine.evict_expired(now.timestamp());
    }
}
