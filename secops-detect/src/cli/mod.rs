//! What the `secops detect`, `secops rules lint` and `secops coverage` commands do, as functions that take
//! paths and options and write to any [`Write`], so that tests and benchmarks run exactly what the command
//! runs.
//!
//! ```
//! use secops_detect::cli::{DetectOptions, Detector};
//!
//! let dir = std::env::temp_dir().join(format!("secops-detect-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! std::fs::write(dir.join("whoami.yml"), "title: Whoami\nid: 9a9a9a9a-3333-4333-8333-333333333333\nstatus: test\n\
//!     author: Example Author\nlogsource: {product: windows, category: process_creation}\n\
//!     detection: {s: {Image|endswith: '\\whoami.exe'}, condition: s}\nlevel: low\n").unwrap();
//!
//! let detector = Detector::load(&DetectOptions::new(vec![dir.clone()])).unwrap();
//! let events = r#"{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Image": "C:\\Windows\\System32\\whoami.exe"}"#;
//! let mut out = Vec::new();
//! let summary = detector.run(events.as_bytes(), &mut out).unwrap();
//! assert_eq!((summary.events, summary.detections), (1, 1));
//! let line: serde_json::Value = serde_json::from_slice(&out).unwrap();
//! assert_eq!(line["title"], "Whoami");
//! assert_eq!(line["authors"][0], "Example Author");
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use crate::attack::Catalogue;
use crate::correlation::{CorrelationOptions, CorrelationState, CorrelationStats};
use crate::coverage::Coverage;
use crate::engine::{Detection, DetectionEngine, EngineOptions, RsigmaEngine};
use crate::error::DetectError;
use crate::events::{EventLogSource, NormaliseOptions, NormalisedEvent, normalise_with, read_events};
use crate::rules::{LintSeverity, LoadFailure, LoadOptions, RuleKind, RuleSet, RuleStatus, lint};

/// Records normalised and matched per batch and thread; a batch is split between the threads, then its
/// detections are correlated and written in input order. Small, so that a batch's records are still in
/// the cache when they are matched and written: 64 records run 5-8 % faster than 4,096 did, on one thread
/// and on two (`cargo bench -p secops-benches --bench detect`).
const BATCH_PER_THREAD: usize = 64;

/// Parse a status list: `stable,test`, or `all`.
///
/// ```
/// use secops_detect::cli::parse_statuses;
/// use secops_detect::rules::RuleStatus;
///
/// assert_eq!(parse_statuses("stable, test").unwrap(), [RuleStatus::Stable, RuleStatus::Test]);
/// assert_eq!(parse_statuses("all").unwrap().len(), 5);
/// assert!(parse_statuses("shiny").is_err());
/// ```
pub fn parse_statuses(list: &str) -> Result<Vec<RuleStatus>, DetectError> {
    if list.trim().eq_ignore_ascii_case("all") {
        return Ok(LoadOptions::all_statuses().statuses);
    }
    list.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.parse().map_err(DetectError::Usage))
        .collect()
}

/// Parse a default log source for events that do not reveal theirs: `product=linux,category=process_creation`
/// (`category` may repeat).
///
/// ```
/// use secops_detect::cli::parse_logsource;
///
/// let ls = parse_logsource("product=Linux, category=process_creation").unwrap();
/// assert_eq!(ls.product.as_deref(), Some("linux"));
/// assert_eq!(ls.categories, ["process_creation"]);
/// assert!(parse_logsource("os=linux").is_err());
/// ```
pub fn parse_logsource(text: &str) -> Result<EventLogSource, DetectError> {
    let mut logsource = EventLogSource::default();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| DetectError::Usage(format!("`{part}`: expected key=value")))?;
        let value = value.trim().to_ascii_lowercase();
        match key.trim() {
            "product" => logsource.product = Some(value),
            "service" => logsource.service = Some(value),
            "category" => logsource.categories.push(value),
            other => {
                return Err(DetectError::Usage(format!(
                    "unknown log source part `{other}` (product, service, category)"
                )));
            }
        }
    }
    Ok(logsource)
}

/// Options of `secops detect`.
#[derive(Debug, Clone)]
pub struct DetectOptions {
    /// Rule directories or files.
    pub rules: Vec<PathBuf>,
    /// Statuses and pipelines.
    pub load: LoadOptions,
    /// Routing.
    pub engine: EngineOptions,
    /// Event normalisation.
    pub normalise: NormaliseOptions,
    /// Correlation ordering.
    pub correlation: CorrelationOptions,
    /// Threads for normalising and matching; 0 means one per core.
    pub threads: usize,
}

impl DetectOptions {
    /// Defaults for `rules`: `stable` and `test` rules, strict routing, one thread.
    pub fn new(rules: Vec<PathBuf>) -> Self {
        DetectOptions {
            rules,
            load: LoadOptions::default(),
            engine: EngineOptions::default(),
            normalise: NormaliseOptions::default(),
            correlation: CorrelationOptions::default(),
            threads: 1,
        }
    }
}

/// How loading went.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RulesSummary {
    /// Detection rules that run.
    pub detection_rules: usize,
    /// Correlation rules that run.
    pub correlation_rules: usize,
    /// Rules that failed to load.
    pub failed: usize,
    /// Failures by reason.
    pub failed_by_reason: BTreeMap<String, usize>,
    /// Rules skipped for their status.
    pub skipped: usize,
}

impl RulesSummary {
    fn of(rules: &RuleSet) -> Self {
        RulesSummary {
            detection_rules: rules.rules().len(),
            correlation_rules: rules.correlations().len(),
            failed: rules.failures().len(),
            failed_by_reason: rules
                .failure_counts()
                .into_iter()
                .map(|(reason, n)| (reason.to_string(), n))
                .collect(),
            skipped: rules.skipped().len(),
        }
    }
}

/// What a run of `secops detect` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSummary {
    /// Records read.
    pub events: u64,
    /// Records that were not JSON objects.
    pub invalid_events: u64,
    /// Detection-rule matches shown.
    pub detections: u64,
    /// Correlations that fired.
    pub correlations: u64,
    /// Matches by level.
    pub by_level: BTreeMap<String, u64>,
    /// Correlation ordering.
    pub correlation: CorrelationStats,
    /// The rules.
    pub rules: RulesSummary,
    /// Wall time of the run, seconds.
    pub seconds: f64,
    /// Records per second.
    pub events_per_second: f64,
}

impl RunSummary {
    fn add(&mut self, other: &RunSummary) {
        self.events += other.events;
        self.invalid_events += other.invalid_events;
        self.detections += other.detections;
        self.correlations += other.correlations;
        for (level, n) in &other.by_level {
            *self.by_level.entry(level.clone()).or_insert(0) += n;
        }
        self.correlation.correlated += other.correlation.correlated;
        self.correlation.late += other.correlation.late;
        self.correlation.untimed += other.correlation.untimed;
        self.seconds += other.seconds;
        self.events_per_second = if self.seconds > 0.0 {
            self.events as f64 / self.seconds
        } else {
            0.0
        };
    }
}

/// Loaded rules, ready to run over event files.
pub struct Detector {
    engine: Arc<dyn DetectionEngine>,
    rules: RulesSummary,
    failures: Vec<LoadFailure>,
    options: DetectOptions,
}

impl Detector {
    /// Load the rules and build the engine.
    pub fn load(options: &DetectOptions) -> Result<Detector, DetectError> {
        let rules = RuleSet::load_dirs(&options.rules, &options.load)?;
        Self::from_rules(&rules, options)
    }

    /// Build the engine from rules already loaded.
    pub fn from_rules(rules: &RuleSet, options: &DetectOptions) -> Result<Detector, DetectError> {
        let engine = RsigmaEngine::with_options(rules, options.engine)?;
        Ok(Detector {
            engine: Arc::new(engine),
            rules: RulesSummary::of(rules),
            failures: rules.failures().to_vec(),
            options: options.clone(),
        })
    }

    /// Use `threads` threads for matching from now on (0: one per core).
    pub fn set_threads(&mut self, threads: usize) {
        self.options.threads = threads;
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<dyn DetectionEngine> {
        &self.engine
    }

    /// Rules that did not load.
    pub fn failures(&self) -> &[LoadFailure] {
        &self.failures
    }

    /// How loading went.
    pub fn rules_summary(&self) -> &RulesSummary {
        &self.rules
    }

    fn thread_count(&self) -> usize {
        match self.options.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    /// Run over one input (JSON, a JSON array, NDJSON or concatenated JSON) and write one JSON line per
    /// match. Correlations are kept for this input only, as one organisation's.
    pub fn run(&self, input: impl Read, out: &mut dyn Write) -> Result<RunSummary, DetectError> {
        let started = Instant::now();
        let mut summary = RunSummary {
            rules: self.rules.clone(),
            ..Default::default()
        };
        let mut correlation = CorrelationState::new(Arc::clone(&self.engine), self.options.correlation);
        let mut records = read_events(input);
        let batch_size = BATCH_PER_THREAD * self.thread_count();
        let mut batch = Vec::with_capacity(batch_size);
        loop {
            batch.clear();
            for record in records.by_ref().take(batch_size) {
                batch.push(record?);
            }
            if batch.is_empty() {
                break;
            }
            let matched = self.match_batch(std::mem::take(&mut batch));
            for item in matched {
                summary.events += 1;
                let Some(matched) = item else {
                    summary.invalid_events += 1;
                    continue;
                };
                for (level, n) in LEVEL_NAMES.iter().zip(matched.shown_by_level) {
                    if n > 0 {
                        summary.detections += u64::from(n);
                        *summary.by_level.entry((*level).to_owned()).or_insert(0) += u64::from(n);
                    }
                }
                out.write_all(&matched.lines)?;
                if let Some(event) = &matched.event {
                    let correlations = correlation.observe(&(), event, &matched.detections)?;
                    for detection in correlations.iter().filter(|d| !d.rule.correlation_only) {
                        write_detection(out, detection, &mut summary)?;
                    }
                }
            }
        }
        for detection in correlation.flush(&()) {
            write_detection(out, &detection, &mut summary)?;
        }
        if let Some(stats) = correlation.stats(&()) {
            summary.correlation = stats;
        }
        summary.seconds = started.elapsed().as_secs_f64();
        summary.events_per_second = if summary.seconds > 0.0 {
            summary.events as f64 / summary.seconds
        } else {
            0.0
        };
        Ok(summary)
    }

    /// Run over an event file (`-`: standard input).
    pub fn run_file(&self, path: &Path, out: &mut dyn Write) -> Result<RunSummary, DetectError> {
        if path == Path::new("-") {
            return self.run(std::io::stdin().lock(), out);
        }
        let file = std::fs::File::open(path).map_err(|e| DetectError::io(path, e))?;
        self.run(file, out)
    }

    /// Normalise and match records, on several threads when asked; results in input order, `None` for
    /// records that are not JSON objects. The matches to show are also returned written out as JSON lines,
    /// so that writing them out is shared between the threads too.
    pub fn match_batch(&self, records: Vec<Value>) -> Vec<Option<Matched>> {
        let threads = self.thread_count();
        let correlating = self.engine.has_correlations();
        let one = |record: Value| {
            let event = normalise_with(record, &self.options.normalise).ok()?;
            let detections = self.engine.detect(&event);
            // Each line holds the event; sized for a typical Windows record so that it rarely grows.
            let mut lines = Vec::with_capacity(detections.len() * 2048);
            let mut shown_by_level = [0u32; 6];
            for detection in detections.iter().filter(|d| !d.rule.correlation_only) {
                // Writing to memory only fails on a value serde_json cannot write, which our types never hold.
                if serde_json::to_writer(&mut lines, detection).is_ok() {
                    lines.push(b'\n');
                    shown_by_level[detection.level.map_or(0, |l| l as usize + 1)] += 1;
                }
            }
            // Without correlation rules nothing else needs the event: it is freed here, on the thread that
            // built it, which a multi-threaded run of the system allocator much prefers.
            let (event, detections) = if correlating {
                (Some(event), detections)
            } else {
                (None, Vec::new())
            };
            Some(Matched {
                event,
                detections,
                lines,
                shown_by_level,
            })
        };
        if threads <= 1 || records.len() < 2 * threads {
            return records.into_iter().map(one).collect();
        }
        let chunk = records.len().div_ceil(threads);
        let mut chunks: Vec<Vec<Value>> = Vec::with_capacity(threads);
        let mut records = records.into_iter().peekable();
        while records.peek().is_some() {
            chunks.push(records.by_ref().take(chunk).collect());
        }
        let mut chunks = chunks.into_iter();
        let own = chunks.next().unwrap_or_default();
        std::thread::scope(|scope| {
            let handles: Vec<_> = chunks
                .map(|c| {
                    (
                        c.len(),
                        scope.spawn(move || c.into_iter().map(one).collect::<Vec<_>>()),
                    )
                })
                .collect();
            // This thread takes the first chunk rather than wait idle.
            let mut out: Vec<Option<Matched>> = own.into_iter().map(one).collect();
            // A worker only panics on a bug; its records then count as unreadable rather than taking the
            // whole run down.
            for (len, handle) in handles {
                out.extend(handle.join().unwrap_or_else(|_| (0..len).map(|_| None).collect()));
            }
            out
        })
    }
}

/// One record, matched.
pub struct Matched {
    /// The record, normalised; kept only when correlation rules are loaded, which need it.
    pub event: Option<NormalisedEvent>,
    /// Its detections, those of rules that only feed correlations included; kept only when correlation
    /// rules are loaded.
    pub detections: Vec<Detection>,
    /// The detections to show, as JSON lines.
    pub lines: Vec<u8>,
    /// How many detections were shown at each level, in [`LEVEL_NAMES`] order.
    pub shown_by_level: [u32; 6],
}

/// Level names in the order of [`Matched::shown_by_level`]: `none` for rules without a level, then
/// [`Level`](crate::rules::Level) in order.
pub const LEVEL_NAMES: [&str; 6] = ["none", "informational", "low", "medium", "high", "critical"];

fn count_detection(detection: &Detection, summary: &mut RunSummary) {
    match detection.kind {
        RuleKind::Detection => summary.detections += 1,
        RuleKind::Correlation => summary.correlations += 1,
    }
    let level = detection.level.map_or("none", |l| l.as_str());
    *summary.by_level.entry(level.to_owned()).or_insert(0) += 1;
}

fn write_detection(
    out: &mut dyn Write,
    detection: &Detection,
    summary: &mut RunSummary,
) -> Result<(), DetectError> {
    count_detection(detection, summary);
    serde_json::to_writer(&mut *out, detection).map_err(|e| DetectError::Output(e.into()))?;
    out.write_all(b"\n")?;
    Ok(())
}

/// `secops detect`: load the rules, run every event file, write one JSON line per match and then a
/// `{"summary": ...}` line. Rules that failed to load are listed on `diagnostics`, one per line.
pub fn detect(
    options: &DetectOptions,
    events: &[PathBuf],
    out: &mut dyn Write,
    diagnostics: &mut dyn Write,
) -> Result<RunSummary, DetectError> {
    let detector = Detector::load(options)?;
    for failure in detector.failures() {
        writeln!(diagnostics, "rule not loaded: {failure}")?;
    }
    let mut total = RunSummary {
        rules: detector.rules_summary().clone(),
        ..Default::default()
    };
    for path in events {
        let summary = detector.run_file(path, out)?;
        total.add(&summary);
    }
    serde_json::to_writer(&mut *out, &serde_json::json!({ "summary": total }))
        .map_err(|e| DetectError::Output(e.into()))?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(total)
}

/// What `secops rules lint` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LintSummary {
    /// Files linted.
    pub files: usize,
    /// Findings by severity.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Suggestions and hints (shown only with `all`).
    pub infos: usize,
}

/// `secops rules lint`: lint every rule file under `paths` and write `path:line:column: severity[code]:
/// message` lines (errors and warnings; suggestions and hints too with `all`), then a count.
pub fn lint_paths(paths: &[PathBuf], all: bool, out: &mut dyn Write) -> Result<LintSummary, DetectError> {
    let mut files = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|e| DetectError::io(path, e))?;
        if metadata.is_file() {
            files.push(path.clone());
        } else {
            crate::rules::collect_yaml_files(path, &mut files)?;
        }
    }
    let mut summary = LintSummary::default();
    for file in &files {
        summary.files += 1;
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                summary.errors += 1;
                writeln!(out, "{}:1:1: error[file_read_error]: {e}", file.display())?;
                continue;
            }
        };
        for issue in lint(&text) {
            let shown = match issue.severity {
                LintSeverity::Error => {
                    summary.errors += 1;
                    true
                }
                LintSeverity::Warning => {
                    summary.warnings += 1;
                    true
                }
                LintSeverity::Info | LintSeverity::Hint => {
                    summary.infos += 1;
                    all
                }
            };
            if shown {
                writeln!(out, "{}:{issue}", file.display())?;
            }
        }
    }
    writeln!(
        out,
        "{} files: {} errors, {} warnings, {} suggestions",
        summary.files, summary.errors, summary.warnings, summary.infos
    )?;
    Ok(summary)
}

/// `secops coverage`: the ATT&CK coverage of the rules that run, against the embedded catalogue or a STIX
/// bundle. With `navigator`, a Navigator layer (JSON); otherwise one JSON line per covered technique and a
/// summary line.
pub fn coverage(
    rules: &[PathBuf],
    load: &LoadOptions,
    stix: Option<&Path>,
    navigator: bool,
    out: &mut dyn Write,
) -> Result<Coverage, DetectError> {
    let set = RuleSet::load_dirs(rules, load)?;
    let stix_catalogue;
    let catalogue = match stix {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| DetectError::io(path, e))?;
            stix_catalogue = Catalogue::from_stix(&text)?;
            &stix_catalogue
        }
        None => Catalogue::embedded(),
    };
    let coverage = Coverage::from_rules(set.metas().map(|m| &**m), catalogue);
    if navigator {
        let layer = coverage.to_navigator_layer("secops detection coverage");
        serde_json::to_writer_pretty(&mut *out, &layer).map_err(|e| DetectError::Output(e.into()))?;
        out.write_all(b"\n")?;
    } else {
        for t in coverage.techniques.values() {
            let line = serde_json::json!({
                "technique": t.id, "name": t.name, "tactics": t.tactics, "rules": t.rules.len(),
                "levels": t.levels, "logsources": t.logsources,
            });
            serde_json::to_writer(&mut *out, &line).map_err(|e| DetectError::Output(e.into()))?;
            out.write_all(b"\n")?;
        }
        let summary = serde_json::json!({"summary": {
            "catalogue": coverage.catalogue, "rules": coverage.rules,
            "rules_with_techniques": coverage.rules_with_techniques,
            "techniques_covered": coverage.techniques.len(), "catalogue_techniques": coverage.catalogue_techniques,
            "unknown_techniques": coverage.unknown_techniques, "rules_by_tactic": coverage.tactics,
            "rules_failed": set.failures().len(), "rules_skipped": set.skipped().len(),
        }});
        serde_json::to_writer(&mut *out, &summary).map_err(|e| DetectError::Output(e.into()))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(coverage)
}
