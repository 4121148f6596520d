//! Rules as data: loading Sigma rules from files, with a reason for every rule that does not load, status
//! gating, and the metadata every detection carries (authors above all: the Detection Rule License under
//! which SigmaHQ publishes its rules requires that whoever shows a match shows the rule's author).
//!
//! A rule *fails* when it cannot run: unreadable file, bad YAML, an invalid detection or condition, a
//! modifier or regular expression that does not compile, an ID already taken, a correlation that refers to
//! a rule that is not loaded. A rule is *skipped* when it is fine but its status is not one the caller
//! runs: by default only `stable` and `test` rules run (see [`LoadOptions`]); a rule without a status counts
//! as `experimental`.
//!
//! ```
//! use secops_detect::rules::{LoadOptions, RuleSet, RuleStatus};
//!
//! let yaml = r#"
//! title: Whoami Execution
//! id: 6f3e2b1a-0000-4000-8000-000000000001
//! status: test
//! author: Jane Doe, John Roe (Example Org)
//! tags: [attack.discovery, attack.t1033]
//! logsource: {product: windows, category: process_creation}
//! detection:
//!     selection: {Image|endswith: '\whoami.exe'}
//!     condition: selection
//! level: low
//! "#;
//! let rules = RuleSet::from_sources([("whoami.yml".into(), yaml.to_owned())], &LoadOptions::default());
//! assert!(rules.failures().is_empty());
//! let rule = &rules.rules()[0].meta;
//! assert_eq!(rule.authors, ["Jane Doe", "John Roe (Example Org)"]);
//! assert_eq!(rule.techniques, ["T1033"]);
//! assert_eq!(rule.status, Some(RuleStatus::Test));
//!
//! // The same rule as `experimental` is skipped unless asked for.
//! let experimental = yaml.replace("status: test", "status: experimental");
//! let rules = RuleSet::from_sources([("whoami.yml".into(), experimental)], &LoadOptions::default());
//! assert!(rules.rules().is_empty());
//! assert_eq!(rules.skipped().len(), 1);
//! ```

mod lint;
mod meta;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rsigma_eval::CompiledRule;
use rsigma_parser::{CorrelationRule, FilterRule, SigmaRule};
use serde::Serialize;

use crate::error::DetectError;
use crate::pipeline::Pipeline;

pub use lint::{LintIssue, LintSeverity, lint};
pub use meta::{Level, RuleKind, RuleLogSource, RuleMeta, RuleStatus, split_authors};

/// What to load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The statuses that run. Default: `stable` and `test`.
    pub statuses: Vec<RuleStatus>,
    /// Processing pipelines applied to every rule before it is compiled (field mappings, added
    /// conditions...), in priority order.
    pub pipelines: Vec<Pipeline>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            statuses: vec![RuleStatus::Stable, RuleStatus::Test],
            pipelines: Vec::new(),
        }
    }
}

impl LoadOptions {
    /// Run rules of every status, deprecated and unsupported ones included.
    pub fn all_statuses() -> Self {
        LoadOptions {
            statuses: vec![
                RuleStatus::Stable,
                RuleStatus::Test,
                RuleStatus::Experimental,
                RuleStatus::Deprecated,
                RuleStatus::Unsupported,
            ],
            ..Default::default()
        }
    }

    fn runs(&self, status: Option<rsigma_parser::Status>) -> bool {
        self.statuses
            .contains(&status.map_or(RuleStatus::Experimental, RuleStatus::from))
    }
}

/// Why a rule did not load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// The file could not be read.
    Io,
    /// The file is not valid YAML.
    Yaml,
    /// The YAML is not a valid Sigma document (missing fields, bad detection, bad condition...).
    Parse,
    /// The rule is valid Sigma but could not be compiled (modifier, regular expression, value...).
    Compile,
    /// A processing pipeline failed on the rule.
    Pipeline,
    /// Another loaded rule already has the ID.
    DuplicateId,
    /// A correlation refers to a rule that is not loaded.
    UnknownReference,
}

impl std::fmt::Display for FailureReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FailureReason::Io => "unreadable file",
            FailureReason::Yaml => "invalid YAML",
            FailureReason::Parse => "invalid Sigma",
            FailureReason::Compile => "does not compile",
            FailureReason::Pipeline => "pipeline failed",
            FailureReason::DuplicateId => "duplicate id",
            FailureReason::UnknownReference => "unknown rule reference",
        })
    }
}

/// A rule (or a file) that did not load.
#[derive(Debug, Clone, Serialize)]
pub struct LoadFailure {
    /// The file.
    pub path: PathBuf,
    /// The rule's title, when it got that far.
    pub title: Option<String>,
    /// The kind of failure, for counting.
    pub reason: FailureReason,
    /// What exactly was wrong.
    pub message: String,
}

impl std::fmt::Display for LoadFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.path.display(), self.reason, self.message)
    }
}

/// A rule that loaded but does not run because of its status.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// The rule's ID.
    pub id: Option<String>,
    /// The rule's title.
    pub title: String,
    /// Its status (`None`: no status, counted as experimental).
    pub status: Option<RuleStatus>,
}

/// A loaded detection rule.
#[derive(Debug, Clone)]
pub struct LoadedRule {
    /// What detections of the rule show.
    pub meta: Arc<RuleMeta>,
    /// The rule as parsed (after pipelines).
    pub sigma: SigmaRule,
    /// The rule compiled by rsigma, kept so that the rsigma engine does not compile it twice.
    pub(crate) compiled: CompiledRule,
}

/// A loaded correlation rule.
#[derive(Debug, Clone)]
pub struct LoadedCorrelation {
    /// What detections of the rule show.
    pub meta: Arc<RuleMeta>,
    /// The rule as parsed (after pipelines).
    pub sigma: CorrelationRule,
}

/// A loaded Sigma filter (a document that adds exclusions to other rules).
#[derive(Debug, Clone)]
pub struct LoadedFilter {
    /// The file it came from.
    pub path: PathBuf,
    /// The filter as parsed.
    pub sigma: FilterRule,
}

/// A set of loaded rules, with what failed and what was skipped.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<LoadedRule>,
    correlations: Vec<LoadedCorrelation>,
    filters: Vec<LoadedFilter>,
    failures: Vec<LoadFailure>,
    skipped: Vec<Skipped>,
}

impl RuleSet {
    /// Load every `.yml`/`.yaml` file under `dir`, recursively, in path order. Only an unreadable `dir`
    /// is an error; anything wrong with a file or a rule is a [`LoadFailure`].
    pub fn load_dir(dir: impl AsRef<Path>, options: &LoadOptions) -> Result<RuleSet, DetectError> {
        Self::load_dirs([dir], options)
    }

    /// Load several directories (or single rule files) as one set.
    pub fn load_dirs<P: AsRef<Path>>(
        dirs: impl IntoIterator<Item = P>,
        options: &LoadOptions,
    ) -> Result<RuleSet, DetectError> {
        let mut files = Vec::new();
        for dir in dirs {
            let dir = dir.as_ref();
            let metadata = std::fs::metadata(dir).map_err(|e| DetectError::io(dir, e))?;
            if metadata.is_file() {
                files.push(dir.to_path_buf());
            } else {
                collect_yaml_files(dir, &mut files)?;
            }
        }
        let mut io_failures = Vec::new();
        let sources: Vec<(PathBuf, String)> = files
            .into_iter()
            .filter_map(|path| match std::fs::read_to_string(&path) {
                Ok(text) => Some((path, text)),
                Err(e) => {
                    io_failures.push(LoadFailure {
                        path,
                        title: None,
                        reason: FailureReason::Io,
                        message: e.to_string(),
                    });
                    None
                }
            })
            .collect();
        let mut set = Self::from_sources(sources, options);
        set.failures.splice(0..0, io_failures);
        Ok(set)
    }

    /// Load rules from texts, each with the path to report it under.
    pub fn from_sources(
        sources: impl IntoIterator<Item = (PathBuf, String)>,
        options: &LoadOptions,
    ) -> RuleSet {
        let mut builder = Builder::default();
        for (path, text) in sources {
            builder.add_text(&path, &text, options);
        }
        builder.finish()
    }

    /// The detection rules that run.
    pub fn rules(&self) -> &[LoadedRule] {
        &self.rules
    }

    /// The correlation rules that run.
    pub fn correlations(&self) -> &[LoadedCorrelation] {
        &self.correlations
    }

    /// The filters.
    pub fn filters(&self) -> &[LoadedFilter] {
        &self.filters
    }

    /// What did not load.
    pub fn failures(&self) -> &[LoadFailure] {
        &self.failures
    }

    /// What loaded but does not run.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// The metadata of every rule that runs, detections then correlations.
    pub fn metas(&self) -> impl Iterator<Item = &Arc<RuleMeta>> {
        self.rules
            .iter()
            .map(|r| &r.meta)
            .chain(self.correlations.iter().map(|c| &c.meta))
    }

    /// Failures counted by reason.
    pub fn failure_counts(&self) -> BTreeMap<FailureReason, usize> {
        let mut counts = BTreeMap::new();
        for failure in &self.failures {
            *counts.entry(failure.reason).or_insert(0) += 1;
        }
        counts
    }
}

pub(crate) fn collect_yaml_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DetectError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| DetectError::io(dir, e))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect_yaml_files(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Collects rules, then resolves what depends on the whole set (IDs, correlation references).
#[derive(Default)]
struct Builder {
    rules: Vec<(RuleMeta, SigmaRule, CompiledRule)>,
    correlations: Vec<(RuleMeta, CorrelationRule)>,
    filters: Vec<LoadedFilter>,
    failures: Vec<LoadFailure>,
    skipped: Vec<Skipped>,
}

impl Builder {
    fn fail(&mut self, path: &Path, title: Option<&str>, reason: FailureReason, message: impl Into<String>) {
        self.failures.push(LoadFailure {
            path: path.to_path_buf(),
            title: title.map(str::to_owned),
            reason,
            message: message.into(),
        });
    }

    fn add_text(&mut self, path: &Path, text: &str, options: &LoadOptions) {
        let collection = match rsigma_parser::parse_sigma_yaml(text) {
            Ok(c) => c,
            Err(e) => {
                let reason = match e {
                    rsigma_parser::SigmaParserError::Yaml(_) => FailureReason::Yaml,
                    _ => FailureReason::Parse,
                };
                self.fail(path, None, reason, e.to_string());
                return;
            }
        };
        for error in &collection.errors {
            let reason = if error.starts_with("YAML parse error") {
                FailureReason::Yaml
            } else {
                FailureReason::Parse
            };
            self.fail(path, None, reason, error.clone());
        }
        let mut pipelines: Vec<rsigma_eval::Pipeline> =
            options.pipelines.iter().map(|p| p.inner().clone()).collect();
        pipelines.sort_by_key(|p| p.priority);
        for mut rule in collection.rules {
            if let Err(e) = rsigma_eval::apply_pipelines(&pipelines, &mut rule) {
                self.fail(path, Some(&rule.title), FailureReason::Pipeline, e.to_string());
                continue;
            }
            if !options.runs(rule.status) {
                self.skip(path, rule.id.clone(), &rule.title, rule.status);
                continue;
            }
            match rsigma_eval::compile_rule(&rule) {
                Ok(compiled) => {
                    let meta = RuleMeta::from_rule(&rule, path);
                    self.rules.push((meta, rule, compiled));
                }
                Err(e) => self.fail(path, Some(&rule.title), FailureReason::Compile, e.to_string()),
            }
        }
        for mut correlation in collection.correlations {
            if let Err(e) =
                rsigma_eval::pipeline::apply_pipelines_to_correlation(&pipelines, &mut correlation)
            {
                self.fail(
                    path,
                    Some(&correlation.title),
                    FailureReason::Pipeline,
                    e.to_string(),
                );
                continue;
            }
            if !options.runs(correlation.status) {
                self.skip(
                    path,
                    correlation.id.clone(),
                    &correlation.title,
                    correlation.status,
                );
                continue;
            }
            if let Err(e) = rsigma_eval::correlation::compile_correlation(&correlation) {
                self.fail(
                    path,
                    Some(&correlation.title),
                    FailureReason::Compile,
                    e.to_string(),
                );
                continue;
            }
            let meta = RuleMeta::from_correlation(&correlation, path);
            self.correlations.push((meta, correlation));
        }
        for filter in collection.filters {
            if !options.runs(filter.status) {
                self.skip(path, filter.id.clone(), &filter.title, filter.status);
                continue;
            }
            let bad = filter
                .detection
                .named
                .values()
                .find_map(|d| rsigma_eval::compiler::compile_detection(d).err());
            if let Some(e) = bad {
                self.fail(path, Some(&filter.title), FailureReason::Compile, e.to_string());
                continue;
            }
            self.filters.push(LoadedFilter {
                path: path.to_path_buf(),
                sigma: filter,
            });
        }
    }

    fn skip(&mut self, path: &Path, id: Option<String>, title: &str, status: Option<rsigma_parser::Status>) {
        self.skipped.push(Skipped {
            path: path.to_path_buf(),
            id,
            title: title.to_owned(),
            status: status.map(RuleStatus::from),
        });
    }

    fn finish(mut self) -> RuleSet {
        // IDs are unique across detections and correlations: detections and correlations refer to rules by
        // ID, and a second rule under the same ID would make those references ambiguous.
        let mut seen: HashMap<String, PathBuf> = HashMap::new();
        let mut rules = Vec::with_capacity(self.rules.len());
        for (meta, sigma, compiled) in std::mem::take(&mut self.rules) {
            if let Some(id) = &meta.id
                && let Some(first) = seen.get(id)
            {
                let message = format!("id {id} is already used by {}", first.display());
                self.fail(&meta.path, Some(&meta.title), FailureReason::DuplicateId, message);
                continue;
            }
            if let Some(id) = &meta.id {
                seen.insert(id.clone(), meta.path.clone());
            }
            rules.push((meta, sigma, compiled));
        }
        let mut correlations = Vec::with_capacity(self.correlations.len());
        for (meta, sigma) in std::mem::take(&mut self.correlations) {
            if let Some(id) = &meta.id
                && let Some(first) = seen.get(id)
            {
                let message = format!("id {id} is already used by {}", first.display());
                self.fail(&meta.path, Some(&meta.title), FailureReason::DuplicateId, message);
                continue;
            }
            if let Some(id) = &meta.id {
                seen.insert(id.clone(), meta.path.clone());
            }
            correlations.push((meta, sigma));
        }

        // A correlation can only run when every rule it refers to runs; dropping one can orphan a
        // correlation built on it, so repeat until nothing changes.
        let detection_keys: HashSet<String> = rules
            .iter()
            .flat_map(|(_, s, _)| s.id.iter().chain(s.name.iter()).cloned())
            .collect();
        loop {
            let known: HashSet<String> = detection_keys
                .iter()
                .chain(
                    correlations
                        .iter()
                        .flat_map(|(_, c)| c.id.iter().chain(c.name.iter())),
                )
                .cloned()
                .collect();
            let missing = correlations
                .iter()
                .position(|(_, c): &(RuleMeta, CorrelationRule)| c.rules.iter().any(|r| !known.contains(r)));
            let Some(index) = missing else {
                break;
            };
            let (meta, sigma) = correlations.remove(index);
            let unknown: Vec<&str> = sigma
                .rules
                .iter()
                .filter(|r| !known.contains(*r))
                .map(String::as_str)
                .collect();
            let message = format!(
                "refers to {} which no loaded rule has as id or name (not loaded, failed, or skipped for its status)",
                unknown.join(", ")
            );
            self.fail(
                &meta.path,
                Some(&meta.title),
                FailureReason::UnknownReference,
                message,
            );
        }

        // Rules that only feed correlations which do not `generate` them are not shown on their own.
        let hidden: HashSet<String> = correlations
            .iter()
            .filter(|(_, c)| !c.generate)
            .flat_map(|(_, c)| c.rules.iter().cloned())
            .collect();
        let fed: HashSet<String> = correlations
            .iter()
            .flat_map(|(_, c)| c.rules.iter().cloned())
            .collect();
        let names = |id: &Option<String>, name: &Option<String>| -> Vec<String> {
            id.iter().chain(name.iter()).cloned().collect()
        };
        let rules = rules
            .into_iter()
            .map(|(mut meta, sigma, compiled)| {
                let keys = names(&sigma.id, &sigma.name);
                meta.correlation_only = keys.iter().any(|k| hidden.contains(k));
                meta.feeds_correlation = keys.iter().any(|k| fed.contains(k));
                LoadedRule {
                    meta: Arc::new(meta),
                    sigma,
                    compiled,
                }
            })
            .collect();
        let correlations = correlations
            .into_iter()
            .map(|(mut meta, sigma)| {
                let keys = names(&sigma.id, &sigma.name);
                meta.correlation_only = keys.iter().any(|k| hidden.contains(k));
                meta.feeds_correlation = keys.iter().any(|k| fed.contains(k));
                LoadedCorrelation {
                    meta: Arc::new(meta),
                    sigma,
                }
            })
            .collect();
        RuleSet {
            rules,
            correlations,
            filters: self.filters,
            failures: self.failures,
            skipped: self.skipped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> RuleSet {
        RuleSet::from_sources([("r.yml".into(), yaml.to_owned())], &LoadOptions::all_statuses())
    }

    #[test]
    fn failures_have_reasons() {
        assert_eq!(load("title: [unclosed").failures()[0].reason, FailureReason::Yaml);
        let no_detection = "title: t\nlogsource: {product: windows}\n";
        assert_eq!(load(no_detection).failures()[0].reason, FailureReason::Parse);
        let bad_regex =
            "title: t\nlogsource: {product: windows}\ndetection:\n  s: {A|re: '(('}\n  condition: s\n";
        assert_eq!(load(bad_regex).failures()[0].reason, FailureReason::Compile);
    }

    #[test]
    fn duplicate_ids_and_dangling_correlations_fail() {
        let rule =
            "title: a\nid: x-1\nlogsource: {product: windows}\ndetection:\n  s: {A: 1}\n  condition: s\n";
        let set = RuleSet::from_sources(
            [
                ("a.yml".into(), rule.to_owned()),
                ("b.yml".into(), rule.to_owned()),
            ],
            &LoadOptions::all_statuses(),
        );
        assert_eq!(set.rules().len(), 1);
        assert_eq!(set.failures()[0].reason, FailureReason::DuplicateId);

        let corr = "title: c\nid: c-1\ncorrelation:\n  type: event_count\n  rules: [nope]\n  timespan: 1m\n  group-by: [A]\n  condition: {gte: 2}\n";
        let set = load(corr);
        assert!(set.correlations().is_empty());
        assert_eq!(set.failures()[0].reason, FailureReason::UnknownReference);
    }
}
