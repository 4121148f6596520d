//! Correlation rules on our fixtures, with events fed out of timestamp order: failed logons then a success
//! (`event_count` chained into `temporal_ordered`), and a password spray (`value_count`). State is per
//! organisation and follows event time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;
use std::sync::Arc;

use chrono::TimeDelta;
use secops_detect::correlation::{CorrelationOptions, CorrelationState};
use secops_detect::engine::{Detection, RsigmaEngine};
use secops_detect::events::{NormalisedEvent, normalise};
use secops_detect::rules::{LoadOptions, RuleKind, RuleSet};
use serde_json::json;

const BRUTE_FORCE: &str = "Failed Logons Followed By A Successful Logon";
const SPRAY: &str = "One Source Failing Logons For Many Accounts";

fn state(max_delay_minutes: i64) -> CorrelationState<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules/correlation");
    let rules = RuleSet::load_dir(dir, &LoadOptions::default()).unwrap();
    assert!(rules.failures().is_empty(), "{:?}", rules.failures());
    let engine = Arc::new(RsigmaEngine::new(&rules).unwrap());
    CorrelationState::new(
        engine,
        CorrelationOptions {
            max_delay: TimeDelta::minutes(max_delay_minutes),
            ..CorrelationOptions::default()
        },
    )
}

/// A Security logon record: 4624 success, 4625 failure, at `time` (`HH:MM:SS` on 2024-11-05).
fn logon(event_id: u32, time: &str, user: &str, ip: &str) -> NormalisedEvent {
    normalise(json!({
        "Event": {
            "System": {
                "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}},
                "EventID": event_id,
                "Channel": "Security",
                "Computer": "dc-fixture-02.example.test",
                "TimeCreated": {"#attributes": {"SystemTime": format!("2024-11-05T{time}.000Z")}}
            },
            "EventData": {"TargetUserName": user, "IpAddress": ip, "LogonType": 3}
        }
    }))
    .unwrap()
}

fn run(state: &mut CorrelationState<String>, org: &str, events: &[NormalisedEvent]) -> Vec<Detection> {
    let org = org.to_owned();
    let mut out = Vec::new();
    for event in events {
        out.extend(state.process(&org, event).unwrap());
    }
    out.extend(state.flush(&org));
    out
}

fn titled<'a>(found: &'a [Detection], title: &str) -> Vec<&'a Detection> {
    found.iter().filter(|d| d.title == title).collect()
}

#[test]
fn failed_logons_then_success_out_of_order() {
    let mut state = state(30);
    // In event time: three failures for bob at 08:00, 08:01, 08:02, then a success at 08:05. They arrive
    // success first and the failures shuffled.
    let events = [
        logon(4624, "08:05:00", "bob", "203.0.113.5"),
        logon(4625, "08:02:00", "bob", "203.0.113.5"),
        logon(4625, "08:00:00", "bob", "203.0.113.5"),
        logon(4625, "08:01:00", "bob", "203.0.113.5"),
    ];
    let found = run(&mut state, "org-a", &events);
    let fired = titled(&found, BRUTE_FORCE);
    assert_eq!(fired.len(), 1, "{found:#?}");
    let d = fired[0];
    assert_eq!(d.kind, RuleKind::Correlation);
    assert_eq!(d.rule_id.as_deref(), Some("00000000-5ec0-4000-8000-000000000013"));
    assert_eq!(d.authors, ["Secops Fixture Author"]);
    assert_eq!(d.techniques, ["T1110.001"]);
    let c = d.correlation.as_ref().unwrap();
    assert_eq!(c.correlation_type, "temporal_ordered");
    assert_eq!(c.group, [("TargetUserName".to_owned(), "bob".to_owned())]);
    // It fired on the success, at the success's time.
    assert_eq!(d.timestamp.unwrap().to_rfc3339(), "2024-11-05T08:05:00+00:00");
    assert_eq!(d.event["EventID"], 4624);
    // The building blocks only feed correlations: no detection of them on their own, and the intermediate
    // event_count correlation (referenced by the temporal one, which does not `generate` it) is not shown.
    assert!(found.iter().all(|d| d.title == BRUTE_FORCE), "{found:#?}");
    let stats = state.stats(&"org-a".to_owned()).unwrap();
    assert_eq!((stats.correlated, stats.late, stats.pending), (4, 0, 0));
}

#[test]
fn success_before_the_failures_is_not_a_brute_force() {
    let mut state = state(30);
    // In arrival order the success comes last, but in event time it came first.
    let events = [
        logon(4625, "09:01:00", "carol", "203.0.113.6"),
        logon(4625, "09:02:00", "carol", "203.0.113.6"),
        logon(4625, "09:03:00", "carol", "203.0.113.6"),
        logon(4624, "09:00:00", "carol", "203.0.113.6"),
    ];
    let found = run(&mut state, "org-a", &events);
    assert!(titled(&found, BRUTE_FORCE).is_empty(), "{found:#?}");
}

#[test]
fn failures_spread_wider_than_the_window_do_not_count() {
    let mut state = state(60);
    let events = [
        logon(4625, "10:00:00", "dave", "203.0.113.7"),
        logon(4625, "10:20:00", "dave", "203.0.113.7"),
        logon(4624, "10:31:00", "dave", "203.0.113.7"),
        logon(4625, "10:30:00", "dave", "203.0.113.7"),
    ];
    let found = run(&mut state, "org-a", &events);
    assert!(titled(&found, BRUTE_FORCE).is_empty(), "{found:#?}");
}

#[test]
fn value_count_password_spray_out_of_order() {
    let mut state = state(30);
    // One address fails for u1 10:00, u2 10:01, u5 10:02 (three accounts within five minutes: a spray), and
    // for u3 10:20 and u4 10:21 (only two in their window). Arrival order mixes the two groups; counted in
    // arrival order the 10:20 and 10:01 failures would wrongly share a window.
    let ip = "198.51.100.20";
    let events = [
        logon(4625, "10:20:00", "u3", ip),
        logon(4625, "10:21:00", "u4", ip),
        logon(4625, "10:01:00", "u2", ip),
        logon(4625, "10:02:00", "u5", ip),
        logon(4625, "10:00:00", "u1", ip),
    ];
    let found = run(&mut state, "org-b", &events);
    let fired = titled(&found, SPRAY);
    assert_eq!(fired.len(), 1, "{found:#?}");
    let c = fired[0].correlation.as_ref().unwrap();
    assert_eq!(c.correlation_type, "value_count");
    assert_eq!(c.group, [("IpAddress".to_owned(), ip.to_owned())]);
    assert_eq!(c.value, 3.0);
    assert_eq!(c.timespan_secs, 300);
    assert_eq!(fired[0].authors, ["Spray Fixture Author"]);
    assert_eq!(
        fired[0].timestamp.unwrap().to_rfc3339(),
        "2024-11-05T10:02:00+00:00"
    );
}

#[test]
fn the_same_account_many_times_is_not_a_spray() {
    let mut state = state(30);
    let ip = "198.51.100.21";
    let events: Vec<_> = (0..5)
        .map(|i| logon(4625, &format!("11:0{i}:00"), "erin", ip))
        .rev()
        .collect();
    let found = run(&mut state, "org-b", &events);
    assert!(titled(&found, SPRAY).is_empty(), "{found:#?}");
}

#[test]
fn organisations_do_not_share_windows() {
    let mut state = state(30);
    let ip = "198.51.100.22";
    let org_a = [
        logon(4625, "12:00:00", "f1", ip),
        logon(4625, "12:01:00", "f2", ip),
    ];
    let org_b = [logon(4625, "12:02:00", "f3", ip)];
    let mut found = Vec::new();
    for e in &org_a {
        found.extend(state.process(&"a".to_owned(), e).unwrap());
    }
    for e in &org_b {
        found.extend(state.process(&"b".to_owned(), e).unwrap());
    }
    found.extend(state.flush_all().into_iter().map(|(_, d)| d));
    assert!(titled(&found, SPRAY).is_empty(), "{found:#?}");

    // The same three failures in one organisation are a spray.
    let mut state = self::state(30);
    let found = run(
        &mut state,
        "a",
        &[org_a[0].clone(), org_a[1].clone(), org_b[0].clone()],
    );
    assert_eq!(titled(&found, SPRAY).len(), 1);
}

#[test]
fn events_later_than_the_reorder_window_are_counted_not_correlated() {
    let mut state = state(1);
    let org = "org-c".to_owned();
    let ip = "198.51.100.23";
    // Event time moves to 13:10; an event from 13:00 then comes ten minutes late.
    for e in [
        logon(4625, "13:09:00", "g1", ip),
        logon(4625, "13:10:00", "g2", ip),
    ] {
        state.process(&org, &e).unwrap();
    }
    state.process(&org, &logon(4625, "13:00:00", "g3", ip)).unwrap();
    let stats = state.stats(&org).unwrap();
    assert_eq!(stats.late, 1);
    assert!(titled(&state.flush(&org), SPRAY).is_empty());
}

#[test]
fn events_without_a_time_are_not_correlated() {
    let mut state = state(30);
    let org = "org-d".to_owned();
    let untimed = normalise(json!({"EventID": 4625, "Channel": "Security", "TargetUserName": "h", "IpAddress": "x", "LogonType": 3}))
        .unwrap();
    assert!(untimed.timestamp().is_none());
    for _ in 0..5 {
        assert!(state.process(&org, &untimed).unwrap().is_empty());
    }
    assert!(state.flush(&org).is_empty());
    assert_eq!(state.stats(&org).unwrap().untimed, 5);
}
