//! Tools through the server, on both backends: the catalogue, tool configurations (write-only credentials,
//! validation, egress limits, test connection, tenancy), an investigation that uses three integrations with
//! the containment step waiting for approval, and a leak test that runs every integration with recognisable
//! credentials against a fake that echoes them back, then searches everything the server kept or logged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use support::Server;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, Uri, header};
use axum::response::IntoResponse;
use secops_core::model::{ModelProvider, ScriptedProvider, ScriptedTurn};
use serde_json::{Value, json};
use tokio::task::JoinSet;

/// Every credential in this file starts with this, so one search finds any leak.
const MARK: &str = "CANARY7Q";
const DEVICE: &str = "0123456789abcdef0123456789abcdef";
const MACHINE: &str = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07";

fn secret(what: &str) -> String {
    format!("{MARK}-{what}-s3cr3t")
}

type Log = Arc<Mutex<Vec<(String, String, HeaderMap, String)>>>;

/// One loopback server that answers like Splunk, CrowdStrike, Defender, Jira, Slack, VirusTotal, AbuseIPDB and
/// a declared HTTP API, in their documented formats. Whatever credential a request presents is echoed back in
/// the answer, as careless services and verbose error pages do; a request mentioning `failme` gets an error.
async fn vendors() -> (SocketAddr, Log, JoinSet<()>) {
    let log: Log = Arc::default();
    let seen = Arc::clone(&log);
    let app = Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
        let seen = Arc::clone(&seen);
        async move {
            let path = uri.path().to_owned();
            let query = uri.query().unwrap_or("").to_owned();
            let body = String::from_utf8_lossy(&body).into_owned();
            seen.lock().unwrap().push((method.to_string(), format!("{path}?{query}"), headers.clone(), body.clone()));
            let header = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            let echoed = format!("auth={} key={} apikey={} body={body} path={path}", header("authorization"), header("key"), header("x-apikey"));
            let fail = format!("{path}{query}{body}").to_lowercase().contains("failme") || query.contains("198.51.100.66");
            if fail {
                return (
                    StatusCode::UNAUTHORIZED,
                    axum::Json(json!({
                        "messages": [{"type": "ERROR", "text": format!("rejected: {echoed}")}],
                        "errors": [{"code": 401, "message": format!("rejected: {echoed}")}],
                        "errorMessages": [format!("rejected: {echoed}")],
                        "error": {"code": "Unauthorized", "message": format!("rejected: {echoed}")},
                        "ok": false,
                    })),
                )
                    .into_response();
            }
            match (method.as_str(), path.as_str()) {
                ("POST", "/services/search/jobs") => axum::Json(json!({"preview": false, "results": [
                    {"host": "ws-042", "dest_ip": "203.0.113.7", "process_name": "rundll32.exe", "count": "14", "_raw": echoed}]})).into_response(),
                ("GET", "/services/server/info") => axum::Json(json!({"entry": [{"name": "server-info", "content": {"version": "9.3.1"}}]})).into_response(),
                ("POST", "/oauth2/token") => (StatusCode::CREATED, axum::Json(json!({"access_token": "falcon-access", "token_type": "bearer", "expires_in": 1799}))).into_response(),
                ("GET", "/devices/queries/devices/v1") => axum::Json(json!({"meta": {}, "resources": [DEVICE], "errors": []})).into_response(),
                ("GET", "/devices/entities/devices/v2") => axum::Json(json!({"resources": [{
                    "device_id": DEVICE, "hostname": "ws-042", "local_ip": "10.1.2.3", "platform_name": "Windows",
                    "os_version": "Windows 11", "status": "normal", "last_seen": "2026-11-29T05:59:00Z"}], "errors": []})).into_response(),
                ("POST", "/devices/entities/devices-actions/v2") => (StatusCode::ACCEPTED, axum::Json(json!({"resources": [{"id": DEVICE, "path": "/devices/entities/devices/v1"}], "errors": []}))).into_response(),
                ("POST", "/tenant-1/oauth2/v2.0/token") => axum::Json(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "entra-access"})).into_response(),
                ("GET", "/api/machines") => axum::Json(json!({"value": [{
                    "id": MACHINE, "computerDnsName": "ws-042.contoso.com", "osPlatform": "Windows11", "healthStatus": "Active",
                    "riskScore": "High", "lastIpAddress": "10.1.2.3", "lastSeen": "2026-11-29T05:59:00Z", "note": echoed}]})).into_response(),
                ("POST", "/rest/api/3/issue") => (StatusCode::CREATED, axum::Json(json!({"id": "10042", "key": "SEC-42", "self": format!("http://jira/rest/api/3/issue/10042#{echoed}")}))).into_response(),
                ("POST", "/chat.postMessage") => axum::Json(json!({"ok": true, "channel": "C0SOC", "ts": "1732870000.000100", "message": {"text": echoed}})).into_response(),
                ("POST", p) if p.starts_with("/hooks/") => "ok".into_response(),
                ("GET", p) if p.starts_with("/ip_addresses/") || p.starts_with("/domains/") => axum::Json(json!({"data": {"id": "x", "type": "ip_address", "attributes": {
                    "last_analysis_stats": {"harmless": 60, "malicious": 3, "suspicious": 1, "undetected": 10, "timeout": 0}, "reputation": -42, "whois": echoed}}})).into_response(),
                ("GET", "/check") => axum::Json(json!({"data": {"ipAddress": "203.0.113.7", "isPublic": true, "ipVersion": 4, "isWhitelisted": false,
                    "abuseConfidenceScore": 100, "countryCode": "NL", "usageType": "Data Center", "isp": echoed, "domain": "example.net",
                    "totalReports": 77, "numDistinctUsers": 40, "lastReportedAt": "2026-11-28T18:21:04+00:00"}})).into_response(),
                ("GET", p) if p.starts_with("/assets/") => axum::Json(json!({"asset": {"owner": "it-ops", "seen": echoed}})).into_response(),
                _ => (StatusCode::NOT_FOUND, axum::Json(json!({"error": "not found"}))).into_response(),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut set = JoinSet::new();
    set.spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, log, set)
}

/// A server whose operator lets tools reach loopback, where the fakes run.
async fn server(postgres: bool, provider: Option<Arc<dyn ModelProvider>>) -> Server {
    Server::start(
        postgres,
        &[("SECOPS_TOOL_EGRESS_ALLOWABLE", "127.0.0.0/8".into())],
        provider,
    )
    .await
}

impl Server {
    async fn configure(&self, token: &str, body: Value) -> Value {
        let (s, created) = self
            .call(Method::POST, "/v1/tool-configs", token, Some(body))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{created}");
        created
    }

    async fn wait_for_status(&self, token: &str, run: &str, want: &str) -> Value {
        for _ in 0..400 {
            let (s, r) = self
                .call(Method::GET, &format!("/v1/runs/{run}"), token, None)
                .await;
            assert_eq!(s, StatusCode::OK, "{r}");
            if r["status"] == want {
                return r;
            }
            assert!(
                !matches!(r["status"].as_str(), Some("failed" | "cancelled" | "finished")),
                "run ended as {} while waiting for {want}: {r}",
                r["status"]
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("run {run} never became {want}");
    }

    /// A run's server-sent events as far as the first frame containing `needle` (the stream stays open while
    /// the run waits for approval).
    async fn events_until(&self, token: &str, run: &str, needle: &str) -> String {
        use futures::StreamExt;
        use tower::ServiceExt;
        let req = Request::builder()
            .uri(format!("/v1/runs/{run}/events"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let mut body = res.into_body().into_data_stream();
        let mut text = String::new();
        while !text.contains(needle) {
            let chunk = tokio::time::timeout(Duration::from_secs(20), body.next())
                .await
                .unwrap_or_else(|_| panic!("no `{needle}` within 20 s in {text}"))
                .unwrap_or_else(|| panic!("the stream ended without `{needle}`: {text}"))
                .unwrap();
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        text
    }

    /// Everything the organisation can read about a run and its tools, as one text to search.
    async fn everything(&self, token: &str, run: &str) -> String {
        let mut all = String::new();
        for path in [
            format!("/v1/runs/{run}"),
            format!("/v1/runs/{run}/events"),
            "/v1/audit-events?limit=200".to_owned(),
            "/v1/tool-configs?limit=200".to_owned(),
            "/v1/tools".to_owned(),
        ] {
            let (s, v) = self.call(Method::GET, &path, token, None).await;
            assert_eq!(s, StatusCode::OK, "{path}: {v}");
            all.push_str(&match v {
                Value::String(text) => text,
                other => other.to_string(),
            });
        }
        all
    }
}

/// The id of the call to `tool` that waits for approval, from a run's server-sent events.
fn waiting_call(sse: &str, tool: &str) -> String {
    fn find(v: &Value, tool: &str) -> Option<String> {
        match v {
            Value::Object(map) => {
                if map.get("tool").and_then(Value::as_str) == Some(tool)
                    && let Some(id) = map.get("call_id").and_then(Value::as_str)
                {
                    return Some(id.to_owned());
                }
                map.values().find_map(|v| find(v, tool))
            }
            Value::Array(items) => items.iter().find_map(|v| find(v, tool)),
            _ => None,
        }
    }
    sse.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .filter(|v| v.to_string().contains("awaiting_approval"))
        .find_map(|v| find(&v, tool))
        .unwrap_or_else(|| panic!("no call to {tool} waits for approval in {sse}"))
}

fn splunk(base: &str, name: &str) -> Value {
    json!({"name": name, "kind": "splunk", "settings": {"base_url": base}, "credentials": {"token": secret("splunk")}, "egress_allow": ["127.0.0.1/32"]})
}

#[tokio::test]
async fn tool_configs_keep_credentials_write_only_validate_and_stay_in_their_organisation() {
    let (addr, log, _vendors) = vendors().await;
    let base = format!("http://{addr}");
    for postgres in [false, true] {
        let srv = server(postgres, None).await;
        let owner = srv.owner("Blue Team").await;

        let (s, catalogue) = srv.call(Method::GET, "/v1/tools", &owner, None).await;
        assert_eq!(s, StatusCode::OK);
        let kinds: Vec<&str> = catalogue["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "splunk",
                "jira",
                "slack",
                "slack_webhook",
                "virustotal",
                "abuseipdb",
                "crowdstrike",
                "defender",
                "mcp",
                "http"
            ]
        );
        let falcon = &catalogue["kinds"][6];
        assert_eq!(
            falcon["actions"][1],
            json!({"action": "contain_host", "description": "Cut a host off the network (network containment).", "risk": "high"})
        );
        assert_eq!(
            falcon["credentials_schema"]["required"],
            json!(["client_id", "client_secret"])
        );

        let created = srv.configure(&owner, splunk(&base, "siem")).await;
        assert_eq!(created["tools"], json!(["siem_search"]));
        assert_eq!(created["has_credentials"], true);
        assert_eq!(created["egress_allow"], json!(["127.0.0.1/32"]));
        assert!(
            !created.to_string().contains(MARK),
            "credentials are never returned: {created}"
        );
        let id = created["id"].as_str().unwrap().to_owned();
        let (_, got) = srv
            .call(Method::GET, &format!("/v1/tool-configs/{id}"), &owner, None)
            .await;
        assert_eq!(got["name"], "siem");
        assert!(!got.to_string().contains(MARK));

        // Bad configurations are refused with a code saying what is wrong, and never echo a credential.
        for (body, status, code) in [
            (
                json!({"name": "x", "kind": "qradar"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_tool_kind",
            ),
            (
                json!({"name": "Bad_Name", "kind": "splunk", "settings": {"base_url": base}, "credentials": {"token": "t0k3n"}}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_tool_name",
            ),
            (
                json!({"name": "nourl", "kind": "splunk", "credentials": {"token": secret("t")}}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_settings",
            ),
            (
                json!({"name": "badcreds", "kind": "splunk", "settings": {"base_url": base}, "credentials": {"token": [secret("t")]}}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_credentials",
            ),
            (
                json!({"name": "both", "kind": "splunk", "settings": {"base_url": base}, "credentials": {"token": secret("t"), "username": "u", "password": secret("p")}}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_credentials",
            ),
            (
                json!({"name": "lan", "kind": "splunk", "settings": {"base_url": base}, "credentials": {"token": secret("t")}, "egress_allow": ["10.0.0.0/8"]}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "egress_not_permitted",
            ),
            (
                json!({"name": "cidr", "kind": "splunk", "settings": {"base_url": base}, "credentials": {"token": secret("t")}, "egress_allow": ["localhost"]}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_egress",
            ),
            (splunk(&base, "siem"), StatusCode::CONFLICT, "already_exists"),
        ] {
            let (s, problem) = srv
                .call(Method::POST, "/v1/tool-configs", &owner, Some(body.clone()))
                .await;
            assert_eq!(
                (s, problem["code"].as_str()),
                (status, Some(code)),
                "{body}: {problem}"
            );
            assert!(!problem.to_string().contains(MARK), "{problem}");
        }

        // Test connection: the fake accepts the token; without the allow-list the guard refuses loopback.
        let before = log.lock().unwrap().len();
        let (s, report) = srv
            .call(Method::POST, &format!("/v1/tool-configs/{id}/test"), &owner, None)
            .await;
        assert_eq!(s, StatusCode::OK, "{report}");
        assert_eq!(report["ok"], true, "{report}");
        assert_eq!(report["checked"], "connection");
        let sent = log.lock().unwrap()[before].clone();
        assert_eq!(
            (sent.0.as_str(), sent.1.as_str()),
            ("GET", "/services/server/info?output_mode=json")
        );
        assert_eq!(sent.2["authorization"], format!("Bearer {}", secret("splunk")));
        let (s, closed) = srv
            .call(
                Method::PATCH,
                &format!("/v1/tool-configs/{id}"),
                &owner,
                Some(json!({"version": created["version"], "egress_allow": []})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{closed}");
        let (_, report) = srv
            .call(Method::POST, &format!("/v1/tool-configs/{id}/test"), &owner, None)
            .await;
        assert_eq!(report["ok"], false, "{report}");
        assert!(
            report["detail"].as_str().unwrap().contains("127.0.0.1"),
            "{report}"
        );
        assert_eq!(log.lock().unwrap().len(), before + 1, "nothing was sent");

        // Updates: credentials replaced or removed, never read back; a stale version is a conflict.
        let (s, stale) = srv
            .call(
                Method::PATCH,
                &format!("/v1/tool-configs/{id}"),
                &owner,
                Some(json!({"version": created["version"], "settings": {"base_url": base}})),
            )
            .await;
        assert_eq!(
            (s, stale["code"].as_str()),
            (StatusCode::CONFLICT, Some("version_conflict"))
        );
        let (s, emptied) = srv
            .call(
                Method::PATCH,
                &format!("/v1/tool-configs/{id}"),
                &owner,
                Some(json!({"version": closed["version"], "remove_credentials": true})),
            )
            .await;
        assert_eq!(
            (s, emptied["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_credentials")),
            "a Splunk configuration needs credentials: {emptied}"
        );
        let (s, rotated) = srv
            .call(Method::PATCH, &format!("/v1/tool-configs/{id}"), &owner, Some(json!({"version": closed["version"], "credentials": {"token": secret("rotated")}, "egress_allow": ["127.0.0.1/32"]})))
            .await;
        assert_eq!(s, StatusCode::OK, "{rotated}");
        assert!(!rotated.to_string().contains(MARK));
        let (_, report) = srv
            .call(Method::POST, &format!("/v1/tool-configs/{id}/test"), &owner, None)
            .await;
        assert_eq!(report["ok"], true, "{report}");
        assert_eq!(
            log.lock().unwrap().last().unwrap().2["authorization"],
            format!("Bearer {}", secret("rotated"))
        );

        // Agents name configured tools; a tool nobody offers is refused.
        let (s, agent) = srv
            .call(
                Method::POST,
                "/v1/agents",
                &owner,
                Some(json!({"name": "hunter", "system_prompt": "Hunt.", "tools": ["siem_search"]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{agent}");
        let (s, problem) = srv
            .call(
                Method::POST,
                "/v1/agents",
                &owner,
                Some(json!({"name": "typo", "system_prompt": "Hunt.", "tools": ["siem_serch"]})),
            )
            .await;
        assert_eq!(
            (s, problem["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_tool")),
            "{problem}"
        );

        // Another organisation can neither see, use, test, change nor delete it.
        let other = srv.owner("Red Team").await;
        let (_, listed) = srv.call(Method::GET, "/v1/tool-configs", &other, None).await;
        assert_eq!(listed["items"], json!([]));
        for (method, path, body) in [
            (Method::GET, format!("/v1/tool-configs/{id}"), None),
            (Method::POST, format!("/v1/tool-configs/{id}/test"), None),
            (
                Method::PATCH,
                format!("/v1/tool-configs/{id}"),
                Some(json!({"version": rotated["version"], "settings": {"base_url": "http://127.0.0.1:9"}})),
            ),
            (
                Method::DELETE,
                format!("/v1/tool-configs/{id}?version={}", rotated["version"]),
                None,
            ),
        ] {
            let (s, problem) = srv.call(method.clone(), &path, &other, body).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path}: {problem}");
        }
        let (s, problem) = srv
            .call(
                Method::POST,
                "/v1/agents",
                &other,
                Some(json!({"name": "thief", "system_prompt": "x", "tools": ["siem_search"]})),
            )
            .await;
        assert_eq!(
            (s, problem["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_tool"))
        );
        let (_, still) = srv
            .call(Method::GET, &format!("/v1/tool-configs/{id}"), &owner, None)
            .await;
        assert_eq!(still["version"], rotated["version"], "unchanged");

        let (s, _) = srv
            .call(
                Method::DELETE,
                &format!("/v1/tool-configs/{id}?version={}", rotated["version"]),
                &owner,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        srv.shutdown().await;
    }
}

/// The configurations of the investigation: the SIEM, the EDR and the ticket system.
fn investigation_configs(base: &str) -> Vec<Value> {
    vec![
        splunk(base, "siem"),
        json!({"name": "edr", "kind": "crowdstrike", "settings": {"base_url": base}, "credentials": {"client_id": secret("falcon-id"), "client_secret": secret("falcon")}, "egress_allow": ["127.0.0.1/32"]}),
        json!({"name": "tickets", "kind": "jira", "settings": {"base_url": base, "email": "soc-bot@example.com"}, "credentials": {"api_token": secret("jira")}, "egress_allow": ["127.0.0.1/32"]}),
    ]
}

#[tokio::test]
async fn an_investigation_searches_the_siem_looks_up_the_host_waits_to_contain_it_and_opens_a_ticket() {
    let (addr, log, _vendors) = vendors().await;
    let base = format!("http://{addr}");
    let provider: Arc<dyn ModelProvider> = Arc::new(
        ScriptedProvider::new(vec![
            ScriptedTurn::tool_call("siem_search", json!({"query": "index=edr dest_ip=203.0.113.7 | stats count by host, process_name", "earliest": "-4h"})),
            ScriptedTurn::tool_call("edr_host_lookup", json!({"hostname": "ws-042"})),
            ScriptedTurn::tool_call("edr_contain_host", json!({"device_id": DEVICE})),
            ScriptedTurn::tool_call("tickets_create_issue", json!({"project": "SEC", "summary": "ws-042 beaconing to 203.0.113.7: contained", "description": "rundll32.exe on ws-042 beaconed 14 times to 203.0.113.7. The host is contained."})),
            ScriptedTurn::text("ws-042 beaconed to 203.0.113.7; it is contained and SEC-42 tracks the follow-up."),
        ])
        .cycled(),
    );
    for postgres in [false, true] {
        let srv = server(postgres, Some(Arc::clone(&provider))).await;
        let owner = srv.owner("SOC").await;
        for c in investigation_configs(&base) {
            srv.configure(&owner, c).await;
        }
        let (s, agent) = srv
            .call(
                Method::POST,
                "/v1/agents",
                &owner,
                Some(
                    json!({"name": "triage", "system_prompt": "You investigate alerts.",
                "tools": ["siem_search", "edr_host_lookup", "edr_contain_host", "tickets_create_issue"]}),
                ),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{agent}");
        let before = log.lock().unwrap().len();
        let (s, run) = srv
            .call(Method::POST, &format!("/v1/agents/{}/runs", agent["id"].as_str().unwrap()), &owner,
                Some(json!({"input": "Alert: ws-042 talks to 203.0.113.7 every 60 s. Investigate and contain if needed."})))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{run}");
        let run_id = run["id"].as_str().unwrap().to_owned();
        srv.wait_for_status(&owner, &run_id, "awaiting_approval").await;

        // Searched and looked up; the containment waits for a person.
        let sent: Vec<(String, String)> = log.lock().unwrap()[before..]
            .iter()
            .map(|(m, t, _, _)| (m.clone(), t.clone()))
            .collect();
        let paths: Vec<&str> = sent.iter().map(|(_, t)| t.split('?').next().unwrap()).collect();
        assert_eq!(
            paths,
            [
                "/services/search/jobs",
                "/oauth2/token",
                "/devices/queries/devices/v1",
                "/devices/entities/devices/v2"
            ]
        );
        assert_eq!(
            sent[2].1,
            "/devices/queries/devices/v1?filter=hostname%3A%27ws-042%27&limit=20"
        );
        let events = srv.events_until(&owner, &run_id, "awaiting_approval").await;
        assert!(events.contains("edr_contain_host"), "{events}");

        let call_id = waiting_call(&events, "edr_contain_host");
        let (s, decided) = srv
            .call(
                Method::POST,
                &format!("/v1/runs/{run_id}/approvals/{call_id}"),
                &owner,
                Some(json!({"decision": "approve"})),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{decided}");
        srv.wait_for_status(&owner, &run_id, "finished").await;

        let after: Vec<(String, String, HeaderMap, String)> = log.lock().unwrap()[before..].to_vec();
        let contain = after
            .iter()
            .find(|r| r.1.starts_with("/devices/entities/devices-actions/v2"))
            .expect("containment sent");
        assert_eq!(
            contain.1,
            "/devices/entities/devices-actions/v2?action_name=contain"
        );
        assert_eq!(
            serde_json::from_str::<Value>(&contain.3).unwrap(),
            json!({"ids": [DEVICE]})
        );
        assert_eq!(contain.2["authorization"], "Bearer falcon-access");
        let ticket = after
            .iter()
            .find(|r| r.1.starts_with("/rest/api/3/issue"))
            .expect("ticket opened");
        let issue: Value = serde_json::from_str(&ticket.3).unwrap();
        assert_eq!(issue["fields"]["project"], json!({"key": "SEC"}));
        assert_eq!(
            issue["fields"]["summary"],
            "ws-042 beaconing to 203.0.113.7: contained"
        );
        assert_eq!(issue["fields"]["description"]["type"], "doc", "ADF");
        let basic = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("soc-bot@example.com:{}", secret("jira")),
        );
        assert_eq!(ticket.2["authorization"], format!("Basic {basic}"));

        // Every call is audited, the approval too; the answer names the ticket.
        let (_, audit) = srv
            .call(Method::GET, "/v1/audit-events?limit=200", &owner, None)
            .await;
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for tool in [
            "siem_search",
            "edr_host_lookup",
            "edr_contain_host",
            "tickets_create_issue",
        ] {
            assert!(
                actions.contains(&format!("tool_call {tool}").as_str()),
                "{tool} not audited: {actions:?}"
            );
        }
        let (_, done) = srv
            .call(Method::GET, &format!("/v1/runs/{run_id}"), &owner, None)
            .await;
        assert!(done.to_string().contains("SEC-42"), "{done}");
        assert!(!srv.everything(&owner, &run_id).await.contains(MARK));
        srv.shutdown().await;
    }
}

/// Everything logged while this test binary runs, at every level.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: std::sync::OnceLock<Arc<Mutex<Vec<u8>>>> = std::sync::OnceLock::new();
    Arc::clone(LOGS.get_or_init(|| {
        let buffer: Arc<Mutex<Vec<u8>>> = Arc::default();
        let sink = Arc::clone(&buffer);
        struct Capture(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Capture {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        // The server's own set-up, at the most verbose level an operator can ask for.
        secops_server::telemetry::logs::install("trace", move || Capture(Arc::clone(&sink)))
            .expect("the test binary installs no other subscriber");
        buffer
    }))
}

#[tokio::test]
async fn credentials_never_leak_into_results_errors_events_audit_or_logs() {
    let logs = captured_logs();
    tracing::info!("capturing logs");
    let (addr, log, _vendors) = vendors().await;
    let base = format!("http://{addr}");
    let allow = json!(["127.0.0.1/32"]);
    let configs = vec![
        splunk(&base, "siem"),
        json!({"name": "edr", "kind": "crowdstrike", "settings": {"base_url": base}, "credentials": {"client_id": secret("falcon-id"), "client_secret": secret("falcon")}, "egress_allow": allow}),
        // Its client id makes the token endpoint fail, echoing the form with the secret in it.
        json!({"name": "edrbad", "kind": "crowdstrike", "settings": {"base_url": base}, "credentials": {"client_id": format!("failme-{}", secret("id")), "client_secret": secret("falcon-bad")}, "egress_allow": allow}),
        json!({"name": "mde", "kind": "defender", "settings": {"tenant_id": "tenant-1", "login_url": base, "api_url": base}, "credentials": {"client_id": secret("entra-id"), "client_secret": secret("entra")}, "egress_allow": allow}),
        json!({"name": "tickets", "kind": "jira", "settings": {"base_url": base, "email": "soc-bot@example.com"}, "credentials": {"api_token": secret("jira")}, "egress_allow": allow}),
        json!({"name": "chat", "kind": "slack", "settings": {"base_url": base}, "credentials": {"bot_token": format!("xoxb-{}", secret("slack"))}, "egress_allow": allow}),
        json!({"name": "hook", "kind": "slack_webhook", "credentials": {"webhook_url": format!("{base}/hooks/T0/B0/{}", secret("hook"))}, "egress_allow": allow}),
        json!({"name": "vt", "kind": "virustotal", "settings": {"base_url": base}, "credentials": {"api_token": secret("vt")}, "egress_allow": allow}),
        json!({"name": "abuse", "kind": "abuseipdb", "settings": {"base_url": base}, "credentials": {"api_token": secret("abuse")}, "egress_allow": allow}),
        json!({"name": "assets", "kind": "http", "settings": {"tools": [{
            "name": "owner", "description": "Who owns a host.", "method": "GET", "url": format!("{base}/assets/{{host}}"),
            "input_schema": {"type": "object", "properties": {"host": {"type": "string"}}, "required": ["host"]},
            "auth": {"type": "bearer"}}]}, "credentials": {"token": secret("assets")}, "egress_allow": allow}),
    ];
    let ok_calls = vec![
        ("siem_search", json!({"query": "index=edr host=ws-042"})),
        ("edr_host_lookup", json!({"hostname": "ws-042"})),
        ("edrbad_host_lookup", json!({"hostname": "ws-042"})),
        ("mde_machine_lookup", json!({"hostname": "ws-042"})),
        (
            "tickets_create_issue",
            json!({"project": "SEC", "summary": "ws-042", "description": "beaconing"}),
        ),
        (
            "chat_post_message",
            json!({"channel": "#soc", "text": "ws-042 beacons"}),
        ),
        ("hook_notify", json!({"text": "ws-042 beacons"})),
        ("vt_lookup", json!({"kind": "ip", "value": "203.0.113.7"})),
        ("abuse_check", json!({"ip": "203.0.113.7"})),
        ("assets_owner", json!({"host": "ws-042"})),
    ];
    let failing_calls = vec![
        ("siem_search", json!({"query": "index=edr failme"})),
        ("edr_host_lookup", json!({"hostname": "failme"})),
        ("mde_machine_lookup", json!({"hostname": "failme"})),
        (
            "tickets_create_issue",
            json!({"project": "SEC", "summary": "failme", "description": "x"}),
        ),
        ("chat_post_message", json!({"channel": "#soc", "text": "failme"})),
        ("hook_notify", json!({"text": "failme"})),
        ("vt_lookup", json!({"kind": "domain", "value": "failme.example"})),
        ("abuse_check", json!({"ip": "198.51.100.66"})),
        ("assets_owner", json!({"host": "failme"})),
    ];
    let tools: Vec<&str> = ok_calls.iter().map(|(t, _)| *t).collect();
    let scripted = Arc::new(
        ScriptedProvider::new(vec![
            ScriptedTurn::parallel_calls(ok_calls.clone()),
            ScriptedTurn::parallel_calls(failing_calls.clone()),
            ScriptedTurn::text("Done."),
        ])
        .cycled()
        .recording(),
    );
    let provider: Arc<dyn ModelProvider> = scripted.clone();
    for postgres in [false, true] {
        let srv = server(postgres, Some(Arc::clone(&provider))).await;
        let owner = srv.owner("Leaky Corp").await;
        for c in &configs {
            let created = srv.configure(&owner, c.clone()).await;
            assert!(!created.to_string().contains(MARK), "{created}");
            let id = created["id"].as_str().unwrap();
            let (_, report) = srv
                .call(Method::POST, &format!("/v1/tool-configs/{id}/test"), &owner, None)
                .await;
            assert!(
                !report.to_string().contains(MARK),
                "test connection leaked: {report}"
            );
        }
        let (s, agent) = srv
            .call(
                Method::POST,
                "/v1/agents",
                &owner,
                Some(json!({"name": "leaky", "system_prompt": "Use every tool.", "tools": tools})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{agent}");
        let before = log.lock().unwrap().len();
        let (s, run) = srv
            .call(
                Method::POST,
                &format!("/v1/agents/{}/runs", agent["id"].as_str().unwrap()),
                &owner,
                Some(json!({"input": "Check ws-042."})),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{run}");
        let run_id = run["id"].as_str().unwrap().to_owned();
        srv.wait_for_status(&owner, &run_id, "finished").await;

        // The services did receive the credentials, and echoed them back in successes and errors alike.
        let sent = log.lock().unwrap()[before..].to_vec();
        let presented = |needle: &str| {
            sent.iter().any(|(_, target, headers, body)| {
                target.contains(needle)
                    || body.contains(needle)
                    || headers
                        .values()
                        .any(|v| v.to_str().unwrap_or("").contains(needle))
            })
        };
        for what in [
            "splunk",
            "falcon",
            "falcon-bad",
            "entra",
            "slack",
            "hook",
            "vt",
            "abuse",
            "assets",
        ] {
            assert!(
                presented(&secret(what)),
                "{what} was never presented, so this test would prove nothing"
            );
        }
        assert!(
            sent.iter().any(|(_, _, h, _)| h
                .get("authorization")
                .is_some_and(|v| v.to_str().unwrap().starts_with("Basic "))),
            "Jira's basic credentials were sent"
        );

        let everything = srv.everything(&owner, &run_id).await;
        for (tool, _) in ok_calls.iter().chain(&failing_calls) {
            assert!(
                everything.contains(&format!("tool_call {tool}")),
                "{tool} did not run: {everything}"
            );
        }
        assert!(
            everything.contains("[REDACTED]"),
            "the echoed credentials were scrubbed, not absent"
        );
        assert!(everything.contains("rejected"), "the error paths ran");
        let jira_basic = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("soc-bot@example.com:{}", secret("jira")),
        );
        for leak in [MARK.to_owned(), jira_basic.clone()] {
            assert!(
                !everything.contains(&leak),
                "{leak} in what the API returns: {everything}"
            );
        }
        let seen_by_model = format!("{:?}", scripted.requests());
        assert!(
            seen_by_model.contains("rundll32.exe"),
            "the model got the results"
        );
        assert!(
            !seen_by_model.contains(MARK) && !seen_by_model.contains(&jira_basic),
            "the model saw a credential: {seen_by_model}"
        );
        srv.shutdown().await;
    }
    let logs = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(logs.contains("capturing logs"), "logs are captured");
    assert!(
        !logs.contains(MARK),
        "a credential reached the logs: {}",
        logs.lines()
            .filter(|l| l.contains(MARK))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// A real MCP server (rmcp's server side, streamable HTTP) that wants a bearer token and can grow a tool.
mod mcp_fixture {
    use std::sync::{Arc, Mutex};

    use axum::extract::Request;
    use axum::http::{StatusCode, header};
    use axum::middleware::Next;
    use axum::response::{IntoResponse, Response};
    use rmcp::ServerHandler;
    use rmcp::model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorData, JsonObject,
        ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
    };
    use rmcp::service::{RequestContext, RoleServer};
    use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
    use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
    use serde_json::{Value, json};

    pub(crate) const TOKEN: &str = "CANARY7Q-mcp-bearer-s3cr3t";

    fn object(v: Value) -> JsonObject {
        match v {
            Value::Object(m) => m,
            _ => JsonObject::new(),
        }
    }

    #[derive(Clone, Default)]
    pub(crate) struct Intel {
        pub(crate) extra: Arc<Mutex<Vec<String>>>,
    }

    impl ServerHandler for Intel {
        fn get_info(&self) -> ServerConfig {
            ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
        }

        async fn list_tools(
            &self,
            _request: Option<PaginatedRequestParams>,
            _context: RequestContext<RoleServer>,
        ) -> Result<ListToolsResult, ErrorData> {
            let ip = || {
                object(
                    json!({"type": "object", "properties": {"ip": {"type": "string"}}, "required": ["ip"], "additionalProperties": false}),
                )
            };
            let mut tools = vec![
                Tool::new("lookup_ip", "Reputation of an IPv4 address.", ip())
                    .with_annotations(ToolAnnotations::new().read_only(true)),
                Tool::new("block_ip", "Block an address at the perimeter firewall.", ip())
                    .with_annotations(ToolAnnotations::new().destructive(true)),
            ];
            for name in self.extra.lock().unwrap().iter() {
                tools.push(Tool::new(
                    name.clone(),
                    "Added later.",
                    object(json!({"type": "object"})),
                ));
            }
            Ok(ListToolsResult::with_all_items(tools))
        }

        async fn call_tool(
            &self,
            request: CallToolRequestParams,
            _context: RequestContext<RoleServer>,
        ) -> Result<CallToolResponse, ErrorData> {
            let args = request.arguments.unwrap_or_default();
            let ip = args
                .get("ip")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            match request.name.as_ref() {
                // Echoes the token the way a debugging server might: it must be scrubbed.
                "lookup_ip" => Ok(CallToolResult::success(vec![ContentBlock::text(format!(
                    "{ip}: known C2 (intel fixture); request authorised by Bearer {TOKEN}"
                ))])
                .into()),
                "block_ip" => {
                    Ok(CallToolResult::success(vec![ContentBlock::text(format!("blocked {ip}"))]).into())
                }
                other => Err(ErrorData::invalid_params(format!("no tool `{other}`"), None)),
            }
        }
    }

    async fn require_token(request: Request, next: Next) -> Response {
        let ok = request
            .headers()
            .get(header::AUTHORIZATION)
            .is_some_and(|v| v.as_bytes() == format!("Bearer {TOKEN}").as_bytes());
        if !ok {
            return (StatusCode::UNAUTHORIZED, "missing or wrong bearer token").into_response();
        }
        next.run(request).await
    }

    /// Serves `intel` on loopback; the URL of its MCP endpoint.
    pub(crate) async fn serve(intel: Intel, tasks: &mut tokio::task::JoinSet<()>) -> String {
        let service: StreamableHttpService<Intel, LocalSessionManager> = StreamableHttpService::new(
            move || Ok(intel.clone()),
            Arc::default(),
            StreamableHttpServerConfig::default(),
        );
        let app = axum::Router::new()
            .nest_service("/mcp", service)
            .layer(axum::middleware::from_fn(require_token));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tasks.spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/mcp")
    }
}

#[tokio::test]
async fn an_mcp_server_configured_over_http_lends_its_tools_to_runs() {
    let logs = captured_logs();
    let mut servers = JoinSet::new();
    let intel = mcp_fixture::Intel::default();
    let url = mcp_fixture::serve(intel.clone(), &mut servers).await;
    let provider: Arc<dyn ModelProvider> = Arc::new(
        ScriptedProvider::new(vec![
            ScriptedTurn::tool_call("intel_lookup_ip", json!({"ip": "203.0.113.7"})),
            ScriptedTurn::text("203.0.113.7 is a known C2 server."),
        ])
        .cycled(),
    );
    for postgres in [false, true] {
        let srv = server(postgres, Some(Arc::clone(&provider))).await;
        let owner = srv.owner("Intel Team").await;

        // The wrong token: refused at creation with a clear error that does not repeat it.
        let (s, problem) = srv
            .call(
                Method::POST,
                "/v1/tool-configs",
                &owner,
                Some(json!({"name": "intel", "kind": "mcp", "settings": {"url": url},
                "credentials": {"bearer_token": secret("wrong")}, "egress_allow": ["127.0.0.1/32"]})),
            )
            .await;
        assert_eq!(
            (s, problem["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("tool_service_unreachable")),
            "{problem}"
        );
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("refused the configured credentials"),
            "{problem}"
        );
        assert!(!problem.to_string().contains(MARK), "{problem}");
        // A stdio server cannot be configured through the API.
        let (s, problem) = srv
            .call(
                Method::POST,
                "/v1/tool-configs",
                &owner,
                Some(json!({"name": "local", "kind": "mcp", "settings": {"url": "/usr/bin/mcp-server"}})),
            )
            .await;
        assert_eq!(
            (s, problem["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_settings")),
            "{problem}"
        );

        let created = srv
            .configure(
                &owner,
                json!({"name": "intel", "kind": "mcp", "settings": {"url": url, "risk": {"lookup_ip": "low"}},
                "credentials": {"bearer_token": mcp_fixture::TOKEN}, "egress_allow": ["127.0.0.1/32"]}),
            )
            .await;
        assert_eq!(created["tools"], json!(["intel_lookup_ip", "intel_block_ip"]));
        let id = created["id"].as_str().unwrap().to_owned();
        let (_, report) = srv
            .call(Method::POST, &format!("/v1/tool-configs/{id}/test"), &owner, None)
            .await;
        assert_eq!(report["ok"], true, "{report}");
        assert_eq!(
            report["detail"],
            "the MCP server offers 2 tool(s): lookup_ip, block_ip"
        );

        let (s, agent) = srv
            .call(Method::POST, "/v1/agents", &owner, Some(json!({"name": "intel", "system_prompt": "Check indicators.", "tools": ["intel_lookup_ip"]})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{agent}");
        let (_, run) = srv
            .call(
                Method::POST,
                &format!("/v1/agents/{}/runs", agent["id"].as_str().unwrap()),
                &owner,
                Some(json!({"input": "Is 203.0.113.7 bad?"})),
            )
            .await;
        let run_id = run["id"].as_str().unwrap().to_owned();
        srv.wait_for_status(&owner, &run_id, "finished").await;
        let everything = srv.everything(&owner, &run_id).await;
        assert!(
            everything.contains("known C2 (intel fixture)"),
            "the MCP result reached the run: {everything}"
        );
        assert!(everything.contains("tool_call intel_lookup_ip"), "audited");
        assert!(
            !everything.contains(MARK),
            "the bearer token the server echoed was scrubbed: {everything}"
        );

        // The server grows a tool; testing the configuration picks it up.
        intel.extra.lock().unwrap().push("whois".into());
        let (_, report) = srv
            .call(Method::POST, &format!("/v1/tool-configs/{id}/test"), &owner, None)
            .await;
        assert_eq!(
            report["detail"],
            "the MCP server offers 3 tool(s): lookup_ip, block_ip, whois"
        );
        let (_, refreshed) = srv
            .call(Method::GET, &format!("/v1/tool-configs/{id}"), &owner, None)
            .await;
        assert_eq!(
            refreshed["tools"],
            json!(["intel_lookup_ip", "intel_block_ip", "intel_whois"])
        );
        intel.extra.lock().unwrap().clear();
        srv.shutdown().await;
    }
    // rmcp logs whole MCP messages below `error`, the echoed token among them; the server's set-up keeps
    // them out even at `trace`.
    let logs = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(logs.contains("run stopped"), "the runs' logs were captured");
    assert!(
        !logs.contains(mcp_fixture::TOKEN),
        "the MCP bearer token reached the logs: {}",
        logs.lines()
            .filter(|l| l.contains(mcp_fixture::TOKEN))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
