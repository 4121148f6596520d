//! Our own rules and events (tests/fixtures): loading, status gating, normalisation, routing, the
//! `secops detect` code path, linting, coverage and STIX catalogues. Runs on a fresh clone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use secops_detect::attack::Catalogue;
use secops_detect::cli::{self, DetectOptions, Detector};
use secops_detect::coverage::Coverage;
use secops_detect::engine::{DetectionEngine, EngineOptions, Routing, RsigmaEngine};
use secops_detect::events::{normalise, read_events};
use secops_detect::pipeline::Pipeline;
use secops_detect::rules::{FailureReason, LintSeverity, LoadOptions, RuleKind, RuleSet, lint};
use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn rules_dir() -> PathBuf {
    fixtures().join("rules")
}

/// Run `secops detect` over one fixture event file; the titles that fired, per output line.
fn detect_titles(options: &DetectOptions, events: &str) -> Vec<String> {
    let detector = Detector::load(options).unwrap();
    let mut out = Vec::new();
    detector
        .run_file(&fixtures().join("events").join(events), &mut out)
        .unwrap();
    lines(&out)
        .iter()
        .map(|d| d["title"].as_str().unwrap().to_owned())
        .collect()
}

fn lines(out: &[u8]) -> Vec<Value> {
    out.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect()
}

#[test]
fn fixture_rules_load_with_status_gating() {
    let rules = RuleSet::load_dir(rules_dir(), &LoadOptions::default()).unwrap();
    assert!(rules.failures().is_empty(), "{:?}", rules.failures());
    // Eleven detection rules in all; the experimental one is skipped by default.
    assert_eq!(rules.rules().len(), 10);
    assert_eq!(rules.correlations().len(), 3);
    assert_eq!(rules.skipped().len(), 1);
    assert_eq!(rules.skipped()[0].title, "Certutil Decoding A File");

    let all = RuleSet::load_dir(rules_dir(), &LoadOptions::all_statuses()).unwrap();
    assert_eq!(all.rules().len(), 11);
    assert!(all.skipped().is_empty());

    let whoami = rules
        .rules()
        .iter()
        .find(|r| r.meta.title == "Whoami Privilege Listing")
        .unwrap();
    assert_eq!(
        whoami.meta.authors,
        ["Secops Fixture Author", "Second Fixture Author (Fixture Org)"]
    );
    assert_eq!(whoami.meta.techniques, ["T1033"]);
    assert_eq!(whoami.meta.tactics, ["discovery"]);
    let encoded = rules
        .rules()
        .iter()
        .find(|r| r.meta.title == "Encoded PowerShell Outside Program Files")
        .unwrap();
    // `attack.defense_evasion` is the renamed tactic Stealth.
    assert_eq!(encoded.meta.tactics, ["execution", "stealth"]);
}

#[test]
fn broken_rules_fail_with_reasons() {
    let rules = RuleSet::load_dir(fixtures().join("broken"), &LoadOptions::default()).unwrap();
    assert!(rules.rules().is_empty());
    let reason = |file: &str| {
        rules
            .failures()
            .iter()
            .find(|f| f.path.ends_with(file))
            .unwrap_or_else(|| panic!("no failure for {file}: {:?}", rules.failures()))
            .reason
    };
    assert_eq!(reason("bad_condition.yml"), FailureReason::Parse);
    assert_eq!(reason("bad_regex.yml"), FailureReason::Compile);
    assert_eq!(reason("bad_yaml.yml"), FailureReason::Yaml);
    assert_eq!(reason("unknown_modifier.yml"), FailureReason::Parse);
    assert_eq!(
        reason("dangling_correlation.yml"),
        FailureReason::UnknownReference
    );
    assert_eq!(rules.failures().len(), 5);
    assert!(rules.failures().iter().all(|f| !f.message.is_empty()));
}

#[test]
fn missing_rule_dir_is_an_error() {
    assert!(RuleSet::load_dir(fixtures().join("no-such-dir"), &LoadOptions::default()).is_err());
}

#[test]
fn detect_fires_the_expected_rules_with_routing() {
    let titles = detect_titles(&DetectOptions::new(vec![rules_dir()]), "windows.json");
    assert_eq!(
        titles,
        [
            "Whoami Privilege Listing",
            // One event, two rules: in rule (file path) order.
            "Base64 Encoded Fixture Marker",
            "Encoded PowerShell Outside Program Files",
            "Run Key Pointing Into a Temp Folder",
            "Connection To Internal Host On Port 4444",
            "Defender Found A Credential Dumping Tool",
        ]
    );
}

#[test]
fn routing_off_lets_rules_see_other_categories() {
    let mut options = DetectOptions::new(vec![rules_dir()]);
    options.engine = EngineOptions {
        routing: Routing::Off,
    };
    let titles = detect_titles(&options, "windows.json");
    // Event 6 is a process creation that carries DestinationIp/DestinationPort: without routing the network
    // rule fires on it too.
    assert_eq!(
        titles
            .iter()
            .filter(|t| *t == "Connection To Internal Host On Port 4444")
            .count(),
        2
    );
}

#[test]
fn every_status_runs_when_asked() {
    let mut options = DetectOptions::new(vec![rules_dir()]);
    options.load = LoadOptions::all_statuses();
    let titles = detect_titles(&options, "windows.json");
    assert!(titles.contains(&"Certutil Decoding A File".to_owned()));
}

#[test]
fn detection_lines_carry_rule_authors_attack_and_event() {
    let detector = Detector::load(&DetectOptions::new(vec![rules_dir()])).unwrap();
    let mut out = Vec::new();
    detector
        .run_file(&fixtures().join("events/windows.json"), &mut out)
        .unwrap();
    let found = lines(&out);
    let defender = found
        .iter()
        .find(|d| d["title"] == "Defender Found A Credential Dumping Tool")
        .unwrap();
    assert_eq!(defender["rule_id"], "00000000-5ec0-4000-8000-000000000005");
    assert_eq!(defender["level"], "critical");
    assert_eq!(defender["kind"], "detection");
    assert_eq!(defender["authors"], json!(["Secops Fixture Author"]));
    assert_eq!(defender["techniques"], json!(["T1003.001"]));
    assert_eq!(defender["tactics"], json!(["credential-access"]));
    assert_eq!(defender["timestamp"], "2025-06-02T09:06:00Z");
    // The event, normalised: the spaced Defender field under its Sigma name, and as written.
    assert_eq!(defender["event"]["ThreatName"], "HackTool:Win32/Mimikatz.D");
    assert_eq!(defender["event"]["Threat Name"], "HackTool:Win32/Mimikatz.D");
    assert_eq!(
        defender["event"]["Channel"],
        "Microsoft-Windows-Windows Defender/Operational"
    );
    assert!(
        defender["matched_fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["field"] == "ThreatName")
    );
}

#[test]
fn ecs_documents_are_routed_and_matched() {
    let titles = detect_titles(&DetectOptions::new(vec![rules_dir()]), "linux-ecs.ndjson");
    // The process start matches; the network event with the same command line is not a process creation.
    assert_eq!(titles, ["Download Piped Into A Shell"]);
}

#[test]
fn cli_detect_writes_matches_then_a_summary() {
    let mut out = Vec::new();
    let mut diagnostics = Vec::new();
    let summary = cli::detect(
        &DetectOptions::new(vec![rules_dir()]),
        &[
            fixtures().join("events/windows.json"),
            fixtures().join("events/logons.ndjson"),
        ],
        &mut out,
        &mut diagnostics,
    )
    .unwrap();
    assert!(diagnostics.is_empty());
    let found = lines(&out);
    let last = found.last().unwrap();
    assert_eq!(last["summary"]["events"], 16);
    assert_eq!(last["summary"]["detections"], 6);
    assert_eq!(last["summary"]["correlations"], 1);
    assert_eq!(
        last["summary"]["by_level"],
        json!({"critical": 1, "high": 3, "low": 1, "medium": 2})
    );
    assert_eq!(last["summary"]["rules"]["detection_rules"], 10);
    assert_eq!(last["summary"]["rules"]["skipped"], 1);
    assert_eq!(summary.events, 16);
    // Failed and successful logons only feed correlations: not shown on their own.
    assert!(
        found
            .iter()
            .all(|d| d["title"] != "Failed Logon" && d["title"] != "Successful Logon")
    );
    let correlation = found.iter().find(|d| d["kind"] == "correlation").unwrap();
    assert_eq!(
        correlation["title"],
        "Failed Logons Followed By A Successful Logon"
    );
    assert_eq!(
        correlation["correlation"]["group"],
        json!([["TargetUserName", "bob"]])
    );
    assert_eq!(correlation["authors"], json!(["Secops Fixture Author"]));
}

#[test]
fn multi_threaded_matching_keeps_input_order() {
    // Enough copies of the fixture events to split between threads.
    let records: Vec<Value> =
        read_events(std::fs::File::open(fixtures().join("events/windows.json")).unwrap())
            .collect::<Result<_, _>>()
            .unwrap();
    let mut input = Vec::new();
    for _ in 0..64 {
        for r in &records {
            serde_json::to_writer(&mut input, r).unwrap();
            input.push(b'\n');
        }
    }
    let single = Detector::load(&DetectOptions::new(vec![rules_dir()])).unwrap();
    let mut options = DetectOptions::new(vec![rules_dir()]);
    options.threads = 4;
    let multi = Detector::load(&options).unwrap();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let sa = single.run(input.as_slice(), &mut a).unwrap();
    let sb = multi.run(input.as_slice(), &mut b).unwrap();
    if a != b {
        let (la, lb) = (lines(&a), lines(&b));
        let i = la
            .iter()
            .zip(&lb)
            .position(|(x, y)| x != y)
            .unwrap_or(la.len().min(lb.len()));
        panic!(
            "multi-threaded output differs at line {i}: {:?}\nvs\n{:?}",
            la.get(i),
            lb.get(i)
        );
    }
    assert_eq!((sa.events, sa.detections), (512, 6 * 64));
    assert_eq!(sb.detections, sa.detections);
}

#[test]
fn bad_input_is_an_error_with_its_position_and_non_objects_are_counted() {
    let detector = Detector::load(&DetectOptions::new(vec![rules_dir()])).unwrap();
    let err = detector
        .run("{\"a\": 1}\n{\"a\": ".as_bytes(), &mut Vec::new())
        .unwrap_err();
    assert!(err.to_string().contains("record 2"), "{err}");
    let summary = detector
        .run("[1, {\"a\": 1}]".as_bytes(), &mut Vec::new())
        .unwrap();
    assert_eq!((summary.events, summary.invalid_events), (2, 1));
}

#[test]
fn rule_pipelines_map_fields() {
    // Rules keep Sysmon names; the pipeline rewrites them to the names this event source uses.
    let pipeline = Pipeline::from_yaml(
        "name: fixture_edr\npriority: 10\ntransformations:\n  - id: edr_fields\n    type: field_name_mapping\n    mapping:\n      Image: proc.path\n      CommandLine: proc.cmdline\n      OriginalFileName: proc.original_name\n",
    )
    .unwrap();
    let options = LoadOptions {
        pipelines: vec![pipeline],
        ..LoadOptions::default()
    };
    let rules = RuleSet::load_dir(rules_dir().join("windows"), &options).unwrap();
    let engine = RsigmaEngine::new(&rules).unwrap();
    let event = normalise(json!({
        "logsource": {"product": "windows", "category": "process_creation"},
        "proc": {"path": "C:\\Windows\\System32\\whoami.exe", "cmdline": "whoami /priv"}
    }))
    .unwrap();
    let found = engine.detect(&event);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].title, "Whoami Privilege Listing");
}

#[test]
fn lint_reports_positions() {
    let text = std::fs::read_to_string(fixtures().join("broken/bad_condition.yml")).unwrap();
    let issues = lint(&text);
    let error = issues.iter().find(|i| i.severity == LintSeverity::Error).unwrap();
    // `    condition: selection and (`: the condition starts at column 16, the error is at its 16th character.
    assert_eq!((error.line, error.column), (13, 31), "{issues:?}");
    assert_eq!(error.message, "Condition parse error at 1:16: expected expr");

    let text = std::fs::read_to_string(fixtures().join("broken/bad_regex.yml")).unwrap();
    let issues = lint(&text);
    let error = issues.iter().find(|i| i.code == "compile").unwrap();
    assert_eq!((error.line, error.column), (10, 1));

    let text = std::fs::read_to_string(fixtures().join("broken/bad_yaml.yml")).unwrap();
    let issues = lint(&text);
    let error = issues.iter().find(|i| i.severity == LintSeverity::Error).unwrap();
    assert!(error.line >= 5, "{issues:?}");

    let text = std::fs::read_to_string(fixtures().join("broken/unknown_modifier.yml")).unwrap();
    let error = lint(&text)
        .into_iter()
        .find(|i| i.severity == LintSeverity::Error)
        .unwrap();
    assert!(error.message.contains("endswithh"), "{error:?}");
    assert!(error.line > 1);

    // Our good rules have no errors.
    let mut out = Vec::new();
    let summary = cli::lint_paths(&[rules_dir()], false, &mut out).unwrap();
    assert_eq!(summary.errors, 0, "{}", String::from_utf8_lossy(&out));
    assert_eq!(summary.files, 10);
    let mut out = Vec::new();
    let summary = cli::lint_paths(&[fixtures().join("broken")], false, &mut out).unwrap();
    // The dangling correlation is valid on its own: only loading it with the other rules shows the gap.
    assert_eq!(summary.errors, 4, "{}", String::from_utf8_lossy(&out));
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("bad_condition.yml:13:31: error[condition]: Condition parse error"),
        "{text}"
    );
    assert_eq!(
        text.lines().count(),
        5,
        "one line per finding and a count: {text}"
    );
}

#[test]
fn coverage_and_navigator_layer_for_fixtures() {
    let rules = RuleSet::load_dir(rules_dir(), &LoadOptions::default()).unwrap();
    let coverage = Coverage::from_rules(rules.metas().map(|m| &**m), Catalogue::embedded());
    let t = coverage.technique("T1059.001").unwrap();
    assert_eq!(t.name.as_deref(), Some("PowerShell"));
    assert_eq!(t.rules.len(), 1);
    assert_eq!(t.levels.get("high"), Some(&1));
    assert!(t.logsources.contains("windows/process_creation/*"));
    let credential = coverage.technique("T1003.001").unwrap();
    assert!(credential.logsources.contains("windows/*/windefend"));

    let mut out = Vec::new();
    cli::coverage(&[rules_dir()], &LoadOptions::default(), None, true, &mut out).unwrap();
    let layer: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(layer["versions"]["layer"], "4.5");
    assert_eq!(layer["versions"]["attack"], "19");
    assert_eq!(layer["domain"], "enterprise-attack");
    let scored: BTreeSet<String> = layer["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t.get("score").is_some())
        .map(|t| t["techniqueID"].as_str().unwrap().to_owned())
        .collect();
    let tagged: BTreeSet<String> = rules.metas().flat_map(|m| m.techniques.clone()).collect();
    assert_eq!(scored, tagged);
    // Parents of covered sub-techniques are opened.
    assert!(
        layer["techniques"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["techniqueID"] == "T1059" && t["showSubtechniques"] == true)
    );
    assert!(layer["description"].as_str().unwrap().contains("MITRE"));
}

#[test]
fn a_stix_bundle_replaces_the_catalogue() {
    let text = std::fs::read_to_string(fixtures().join("stix-bundle.json")).unwrap();
    let catalogue = Catalogue::from_stix(&text).unwrap();
    assert_eq!(catalogue.attack_version.as_deref(), Some("42"));
    assert_eq!(
        catalogue.technique_count(),
        3,
        "the revoked technique is left out"
    );
    assert_eq!(catalogue.tactics()[0].shortname, "discovery", "matrix order");
    assert_eq!(
        catalogue.technique("T1003.001").unwrap().parent.as_deref(),
        Some("T1003")
    );

    let mut out = Vec::new();
    let coverage = cli::coverage(
        &[rules_dir()],
        &LoadOptions::default(),
        Some(&fixtures().join("stix-bundle.json")),
        false,
        &mut out,
    )
    .unwrap();
    assert_eq!(
        coverage.techniques.keys().collect::<Vec<_>>(),
        ["T1003.001", "T1033"]
    );
    assert!(coverage.unknown_techniques.contains_key("T1059.001"));
    let summary = lines(&out).pop().unwrap();
    assert_eq!(summary["summary"]["techniques_covered"], 2);

    assert!(Catalogue::from_stix("{\"type\": \"bundle\", \"objects\": []}").is_err());
    assert!(Catalogue::from_stix("not json").is_err());
}

#[test]
fn correlation_only_rules_are_kept_out_of_detections_but_feed_correlations() {
    let rules = RuleSet::load_dir(rules_dir(), &LoadOptions::default()).unwrap();
    let failed = rules
        .rules()
        .iter()
        .find(|r| r.meta.title == "Failed Logon")
        .unwrap();
    assert!(failed.meta.correlation_only && failed.meta.feeds_correlation);
    let many = rules
        .correlations()
        .iter()
        .find(|r| r.meta.title == "Repeated Failed Logons")
        .unwrap();
    assert!(many.meta.correlation_only);
    assert_eq!(many.meta.kind, RuleKind::Correlation);
}

#[test]
fn sigma_filters_exclude_matches() {
    let rules =
        RuleSet::load_dirs([rules_dir(), fixtures().join("filters")], &LoadOptions::default()).unwrap();
    assert!(rules.failures().is_empty(), "{:?}", rules.failures());
    assert_eq!(rules.filters().len(), 1);
    let engine = RsigmaEngine::new(&rules).unwrap();
    let whoami = |user: &str| {
        normalise(
            json!({"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Image": "C:\\Windows\\System32\\whoami.exe", "CommandLine": "whoami /priv", "User": user}),
        )
        .unwrap()
    };
    assert_eq!(engine.detect(&whoami("EXAMPLE\\analyst")).len(), 1);
    assert!(engine.detect(&whoami("EXAMPLE\\fixture-admin")).is_empty());
}
