//! The SigmaHQ corpus and its regression cases, from the shared data set (`SECOPS_SHARED_DATA`, e.g.
//! `/work/shared/data`). Skipped when the variable is unset (a fresh clone has no data set); fails when it is
//! set and the folder is missing (CI sets it).
//!
//! - every rule of `sigma/rules*` loads, or fails with a reason; failures are printed by reason;
//! - every regression case (`sigma/regression_data/**/info.yml`) fires its rule through the `secops detect`
//!   code path with strict logsource routing, with at most one unrelated rule per case on average;
//! - the Navigator layer of the corpus is a valid 4.x layer whose technique scores equal a direct count of
//!   the rules' `attack.t*` tags.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    missing_docs
)]

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use secops_detect::attack::Catalogue;
use secops_detect::cli::{DetectOptions, Detector};
use secops_detect::coverage::Coverage;
use secops_detect::rules::{LoadOptions, RuleSet, RuleStatus};
use serde_json::Value;

fn shared_data() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("SECOPS_SHARED_DATA")?);
    assert!(
        dir.join("sigma").is_dir(),
        "SECOPS_SHARED_DATA={} has no sigma/ folder",
        dir.display()
    );
    Some(dir)
}

fn rule_dirs(data: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(data.join("sigma"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("rules"))
        })
        .collect();
    dirs.sort();
    dirs
}

fn find_files(dir: &Path, name: &str, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            find_files(&path, name, out);
        } else if path.file_name().and_then(|n| n.to_str()) == Some(name) {
            out.push(path);
        }
    }
}

fn load_corpus(data: &Path, options: &LoadOptions) -> RuleSet {
    let started = std::time::Instant::now();
    let rules = RuleSet::load_dirs(rule_dirs(data), options).unwrap();
    println!(
        "corpus with statuses {:?}: {} detection rules, {} correlations, {} failed, {} skipped for status, in {:.1?}",
        options.statuses,
        rules.rules().len(),
        rules.correlations().len(),
        rules.failures().len(),
        rules.skipped().len(),
        started.elapsed()
    );
    for (reason, count) in rules.failure_counts() {
        println!("  failed: {reason}: {count}");
    }
    for failure in rules.failures() {
        println!("    {failure}");
    }
    rules
}

#[test]
fn corpus_loads_and_regression_cases_fire() {
    let Some(data) = shared_data() else {
        println!("SECOPS_SHARED_DATA is not set: skipping the corpus test");
        return;
    };
    // By default only stable and test rules run.
    let default = load_corpus(&data, &LoadOptions::default());
    assert!(
        default
            .rules()
            .iter()
            .all(|r| matches!(r.meta.status, Some(RuleStatus::Stable | RuleStatus::Test)))
    );

    // The regression cases include experimental rules: run every status.
    let rules = load_corpus(&data, &LoadOptions::all_statuses());
    let total_docs = rules.rules().len() + rules.correlations().len() + rules.failures().len();
    assert!(total_docs > 3000, "only {total_docs} rules found");
    for failure in rules.failures() {
        assert!(
            !failure.message.is_empty(),
            "a failure without a reason: {failure:?}"
        );
    }

    let detector = Detector::from_rules(&rules, &DetectOptions::new(Vec::new())).unwrap();
    let mut infos = Vec::new();
    find_files(&data.join("sigma/regression_data"), "info.yml", &mut infos);
    let mut cases = 0usize;
    let mut failed = Vec::new();
    let mut unrelated_total = 0usize;
    let mut unrelated_rules: BTreeMap<String, usize> = BTreeMap::new();
    for info in &infos {
        let text = std::fs::read_to_string(info).unwrap();
        let yaml: yaml_serde::Value = yaml_serde::from_str(&text).unwrap();
        let Some(tests) = yaml.get("regression_tests_info").and_then(|t| t.as_sequence()) else {
            continue; // a case whose test is commented out (no event file)
        };
        let expected = yaml["rule_metadata"][0]["id"].as_str().unwrap().to_owned();
        for test in tests {
            let evtx = test["path"].as_str().unwrap();
            let json = data.join("sigma").join(Path::new(evtx).with_extension("json"));
            cases += 1;
            let mut out = Vec::new();
            detector.run_file(&json, &mut out).unwrap();
            let fired: BTreeSet<String> = out
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| serde_json::from_slice::<Value>(l).unwrap())
                .map(|d| d["rule_id"].as_str().unwrap_or_default().to_owned())
                .collect();
            if !fired.contains(&expected) {
                failed.push(format!(
                    "{}: expected {expected}, fired {fired:?}",
                    json.display()
                ));
            }
            let unrelated: Vec<&String> = fired.iter().filter(|id| **id != expected).collect();
            unrelated_total += unrelated.len();
            for id in unrelated {
                *unrelated_rules.entry(id.clone()).or_insert(0) += 1;
            }
        }
    }
    let average = unrelated_total as f64 / cases.max(1) as f64;
    println!(
        "regression: {} of {cases} cases fire their rule; {unrelated_total} unrelated rule firings, {average:.2} per case",
        cases - failed.len()
    );
    let mut noisy: Vec<_> = unrelated_rules.into_iter().collect();
    noisy.sort_by_key(|n| std::cmp::Reverse(n.1));
    for (id, n) in noisy.iter().take(15) {
        let title = rules
            .rules()
            .iter()
            .find(|r| r.meta.id.as_deref() == Some(id))
            .map_or("?", |r| r.meta.title.as_str());
        println!("  unrelated: {n} cases: {id} {title}");
    }
    for f in &failed {
        println!("  MISSED {f}");
    }
    assert_eq!(cases, 202, "the data set has 202 regression cases");
    assert!(
        failed.is_empty(),
        "{} cases did not fire their rule",
        failed.len()
    );
    assert!(average <= 1.0, "{average:.2} unrelated rules per case");
}

#[test]
fn corpus_navigator_layer_matches_tag_counts() {
    let Some(data) = shared_data() else {
        println!("SECOPS_SHARED_DATA is not set: skipping the corpus test");
        return;
    };
    let options = LoadOptions::default();
    let rules = load_corpus(&data, &options);
    let coverage = Coverage::from_rules(rules.metas().map(|m| &**m), Catalogue::embedded());
    let layer = coverage.to_navigator_layer("corpus");

    // Layer format 4.x.
    assert!(layer["name"].is_string());
    assert!(layer["versions"]["layer"].as_str().unwrap().starts_with("4."));
    assert!(layer["versions"]["navigator"].is_string());
    assert!(!layer["versions"]["attack"].as_str().unwrap().is_empty());
    assert_eq!(layer["domain"], "enterprise-attack");
    let entries = layer["techniques"].as_array().unwrap();
    let mut scores: BTreeMap<String, u64> = BTreeMap::new();
    for entry in entries {
        let id = entry["techniqueID"].as_str().unwrap();
        assert!(
            Catalogue::embedded().technique(id).is_some(),
            "{id} is not in the catalogue"
        );
        if let Some(score) = entry.get("score") {
            assert!(entry["comment"].is_string());
            assert!(
                scores.insert(id.to_owned(), score.as_u64().unwrap()).is_none(),
                "{id} twice"
            );
        }
    }
    // Serialises and reads back as JSON.
    let text = serde_json::to_string(&layer).unwrap();
    let _: Value = serde_json::from_str(&text).unwrap();

    // A direct count: read every rule file's YAML and count the rules per `attack.tNNNN[.NNN]` tag, for rules
    // of the statuses that run, leaving out the files whose rules failed to load.
    let failed: HashSet<&Path> = rules.failures().iter().map(|f| f.path.as_path()).collect();
    let statuses: Vec<&str> = options.statuses.iter().map(|s| s.as_str()).collect();
    let mut files = Vec::new();
    for dir in rule_dirs(&data) {
        find_yaml(&dir, &mut files);
    }
    let mut direct: BTreeMap<String, u64> = BTreeMap::new();
    for file in &files {
        if failed.contains(file.as_path()) {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for doc in yaml_serde::Deserializer::from_str(&text) {
            let Ok(value) = <yaml_serde::Value as serde::Deserialize>::deserialize(doc) else {
                continue;
            };
            let status = value
                .get("status")
                .and_then(|s| s.as_str())
                .unwrap_or("experimental");
            if !statuses.contains(&status) {
                continue;
            }
            let mut seen = BTreeSet::new();
            for tag in value
                .get("tags")
                .and_then(|t| t.as_sequence())
                .into_iter()
                .flatten()
            {
                let tag = tag.as_str().unwrap_or_default().to_ascii_lowercase();
                if let Some(t) = tag.strip_prefix("attack.t")
                    && t.chars().next().is_some_and(|c| c.is_ascii_digit())
                {
                    seen.insert(format!("T{}", t.to_ascii_uppercase()));
                }
            }
            for t in seen {
                *direct.entry(t).or_insert(0) += 1;
            }
        }
    }
    println!(
        "navigator: {} techniques scored, {} rules with techniques, unknown technique IDs: {:?}",
        scores.len(),
        coverage.rules_with_techniques,
        coverage.unknown_techniques
    );
    assert!(coverage.unknown_techniques.is_empty());
    assert_eq!(scores, direct);
}

fn find_yaml(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            find_yaml(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
}
