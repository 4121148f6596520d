//! ATT&CK coverage of a rule set: for each technique, the enabled rules that detect it, their levels and
//! the log sources they need; exported as an ATT&CK Navigator layer (format 4.5).
//!
//! A rule counts for the techniques its tags name, as named: a rule tagged `attack.t1059.001` counts for
//! T1059.001, not for T1059. Technique IDs the catalogue does not know are listed in
//! [`Coverage::unknown_techniques`] and left out of the layer.
//!
//! ```
//! use secops_detect::attack::Catalogue;
//! use secops_detect::coverage::Coverage;
//! use secops_detect::rules::{LoadOptions, RuleSet};
//!
//! let rule = |id: &str, level: &str| format!(
//!     "title: Rule {id}\nid: {id}\nstatus: test\ntags: [attack.execution, attack.t1059.001]\nlevel: {level}\n\
//!      logsource: {{product: windows, category: process_creation}}\n\
//!      detection: {{s: {{Image|endswith: '\\powershell.exe'}}, condition: s}}\n");
//! let rules = RuleSet::from_sources(
//!     [("a.yml".into(), rule("a", "high")), ("b.yml".into(), rule("b", "low"))],
//!     &LoadOptions::default(),
//! );
//! let coverage = Coverage::from_rules(rules.metas().map(|m| &**m), Catalogue::embedded());
//! let t = coverage.technique("T1059.001").unwrap();
//! assert_eq!(t.rules.len(), 2);
//! assert_eq!(t.logsources.iter().next().unwrap(), "windows/process_creation/*");
//!
//! let layer = coverage.to_navigator_layer("secops");
//! assert_eq!(layer["domain"], "enterprise-attack");
//! assert_eq!(layer["versions"]["layer"], "4.5");
//! let entry = layer["techniques"].as_array().unwrap().iter()
//!     .find(|t| t["techniqueID"] == "T1059.001").unwrap();
//! assert_eq!(entry["score"], 2);
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};

use crate::attack::{Catalogue, MITRE_NOTICE};
use crate::rules::{Level, RuleMeta, RuleStatus};

/// Navigator layer format written.
pub const LAYER_FORMAT: &str = "4.5";
/// Navigator version the layer is written for.
pub const NAVIGATOR_VERSION: &str = "5.1.0";

/// A rule, as coverage lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoveredRule {
    /// Its ID.
    pub id: Option<String>,
    /// Its title.
    pub title: String,
    /// Its level.
    pub level: Option<Level>,
    /// Its status.
    pub status: Option<RuleStatus>,
    /// The log source it needs, `product/category/service`.
    pub logsource: String,
}

/// The coverage of one technique.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TechniqueCoverage {
    /// `T1059.001`.
    pub id: String,
    /// Its name, when the catalogue knows it.
    pub name: Option<String>,
    /// Its tactics, from the catalogue.
    pub tactics: Vec<String>,
    /// The rules that detect it.
    pub rules: Vec<CoveredRule>,
    /// How many of them at each level (`none` for rules without a level).
    pub levels: BTreeMap<String, usize>,
    /// The log sources those rules need.
    pub logsources: BTreeSet<String>,
}

/// Coverage of a rule set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    /// The catalogue used.
    pub catalogue: String,
    /// Its ATT&CK version.
    pub attack_version: Option<String>,
    /// Its domain.
    pub domain: String,
    /// Rules considered.
    pub rules: usize,
    /// Rules with at least one technique tag.
    pub rules_with_techniques: usize,
    /// Covered techniques known to the catalogue, by ID.
    pub techniques: BTreeMap<String, TechniqueCoverage>,
    /// Technique IDs in tags that the catalogue does not know, with how many rules use each.
    pub unknown_techniques: BTreeMap<String, usize>,
    /// Rules per tactic (from tactic tags).
    pub tactics: BTreeMap<String, usize>,
    /// Techniques in the catalogue.
    pub catalogue_techniques: usize,
}

impl Coverage {
    /// The coverage of `rules` (give it the rules that run: [`RuleSet::metas`](crate::rules::RuleSet::metas)).
    pub fn from_rules<'a>(rules: impl IntoIterator<Item = &'a RuleMeta>, catalogue: &Catalogue) -> Coverage {
        let mut coverage = Coverage {
            catalogue: catalogue.source.clone(),
            attack_version: catalogue.attack_version.clone(),
            domain: catalogue.domain.clone(),
            rules: 0,
            rules_with_techniques: 0,
            techniques: BTreeMap::new(),
            unknown_techniques: BTreeMap::new(),
            tactics: BTreeMap::new(),
            catalogue_techniques: catalogue.technique_count(),
        };
        for rule in rules {
            coverage.rules += 1;
            if !rule.techniques.is_empty() {
                coverage.rules_with_techniques += 1;
            }
            for tactic in &rule.tactics {
                *coverage.tactics.entry(tactic.clone()).or_insert(0) += 1;
            }
            for id in &rule.techniques {
                let Some(technique) = catalogue.technique(id) else {
                    *coverage.unknown_techniques.entry(id.clone()).or_insert(0) += 1;
                    continue;
                };
                let entry = coverage
                    .techniques
                    .entry(technique.id.clone())
                    .or_insert_with(|| TechniqueCoverage {
                        id: technique.id.clone(),
                        name: Some(technique.name.clone()),
                        tactics: technique.tactics.clone(),
                        rules: Vec::new(),
                        levels: BTreeMap::new(),
                        logsources: BTreeSet::new(),
                    });
                let logsource = rule.logsource.to_string();
                entry.logsources.insert(logsource.clone());
                let level = rule.level.map_or("none", Level::as_str);
                *entry.levels.entry(level.to_owned()).or_insert(0) += 1;
                entry.rules.push(CoveredRule {
                    id: rule.id.clone(),
                    title: rule.title.clone(),
                    level: rule.level,
                    status: rule.status,
                    logsource,
                });
            }
        }
        coverage
    }

    /// One technique's coverage.
    pub fn technique(&self, id: &str) -> Option<&TechniqueCoverage> {
        self.techniques.get(&id.trim().to_ascii_uppercase())
    }

    /// An ATT&CK Navigator layer (format 4.5): one entry per covered technique, scored by its number of
    /// rules, with the rules' levels and log sources in the comment and their titles in the metadata.
    /// Parents of covered sub-techniques get an entry that only opens them.
    pub fn to_navigator_layer(&self, name: &str) -> Value {
        let mut techniques = Vec::new();
        let mut max = 0usize;
        for t in self.techniques.values() {
            max = max.max(t.rules.len());
            let levels: Vec<String> = t.levels.iter().rev().map(|(l, n)| format!("{l} {n}")).collect();
            let comment = format!(
                "{} rule{} ({}); log sources: {}",
                t.rules.len(),
                if t.rules.len() == 1 { "" } else { "s" },
                levels.join(", "),
                t.logsources.iter().cloned().collect::<Vec<_>>().join(", ")
            );
            let metadata: Vec<Value> = t
                .rules
                .iter()
                .map(|r| {
                    let level = r.level.map_or("none", Level::as_str);
                    json!({"name": "rule", "value": format!("{} [{level}]", r.title)})
                })
                .collect();
            techniques.push(json!({
                "techniqueID": t.id,
                "score": t.rules.len(),
                "comment": comment,
                "enabled": true,
                "metadata": metadata,
                "links": [],
                "showSubtechniques": false,
            }));
        }
        let parents: BTreeSet<&str> = self
            .techniques
            .keys()
            .filter_map(|id| id.split_once('.').map(|(p, _)| p))
            .collect();
        for parent in parents {
            match techniques.iter_mut().find(|t| t["techniqueID"] == parent) {
                Some(entry) => entry["showSubtechniques"] = Value::Bool(true),
                None => techniques.push(json!({
                    "techniqueID": parent,
                    "enabled": true,
                    "showSubtechniques": true,
                })),
            }
        }
        json!({
            "name": name,
            "versions": {
                "attack": self.attack_version.clone().unwrap_or_default(),
                "navigator": NAVIGATOR_VERSION,
                "layer": LAYER_FORMAT,
            },
            "domain": self.domain,
            "description": format!(
                "Detection coverage of {} rules ({} with ATT&CK techniques) over {} techniques, scored by number of \
                 rules. Catalogue: {}. {MITRE_NOTICE}",
                self.rules, self.rules_with_techniques, self.techniques.len(), self.catalogue
            ),
            "sorting": 3,
            "layout": {
                "layout": "side",
                "aggregateFunction": "average",
                "showID": true,
                "showName": true,
                "showAggregateScores": false,
                "countUnscored": false,
                "expandedSubtechniques": "annotated",
            },
            "hideDisabled": false,
            "techniques": techniques,
            "gradient": {
                "colors": ["#ffffffff", "#66b1ffff", "#1a4f99ff"],
                "minValue": 0,
                "maxValue": max.max(1),
            },
            "legendItems": [],
            "metadata": [{"name": "generator", "value": "secops-detect"}],
            "links": [],
            "showTacticRowBackground": false,
            "tacticRowBackground": "#dddddd",
            "selectTechniquesAcrossTactics": true,
            "selectSubtechniquesWithParent": false,
            "selectVisibleTechniques": false,
        })
    }
}
