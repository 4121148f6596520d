//! The catalogue against one fake on loopback that answers each vendor's documented "who am I" or token
//! request: every kind's probe sends the documented request with its credentials, reports a refusal without
//! echoing them, and tools built from a configuration scrub credentials a service echoes back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method as HttpMethod, StatusCode, Uri};
use axum::response::IntoResponse;
use secops_tools::catalog;
use serde_json::{Value, json};

/// Every credential below holds this, so one search finds any leak.
const MARK: &str = "LEAKCANARY";

type Log = Arc<Mutex<Vec<(String, String, HeaderMap, String)>>>;

/// Answers the probe requests when the presented credential contains `good`; refuses otherwise, echoing the
/// `Authorization` header and the form body back the way careless services do.
async fn fake() -> (SocketAddr, Log, tokio::task::JoinSet<()>) {
    let log: Log = Arc::default();
    let seen = Arc::clone(&log);
    let app = Router::new().fallback(move |method: HttpMethod, uri: Uri, headers: HeaderMap, body: Bytes| {
        let seen = Arc::clone(&seen);
        async move {
            let path = uri.path().to_owned();
            let body = String::from_utf8_lossy(&body).into_owned();
            let target = format!("{path}?{}", uri.query().unwrap_or(""));
            seen.lock().unwrap().push((method.to_string(), target, headers.clone(), body.clone()));
            let presented = [
                headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned(),
                headers.get("x-apikey").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned(),
                headers.get("key").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned(),
                body.clone(),
            ]
            .join(" ");
            let decoded = presented
                .split_whitespace()
                .filter_map(|w| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, w).ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .collect::<Vec<_>>()
                .join(" ");
            let good = presented.contains("good") || decoded.contains("good");
            let refuse = || {
                (
                    StatusCode::UNAUTHORIZED,
                    axum::Json(json!({"error": "invalid_client", "error_description": format!("bad credentials: {presented}")})),
                )
                    .into_response()
            };
            match (method.as_str(), path.as_str()) {
                ("POST", "/auth.test") if good => {
                    axum::Json(json!({"ok": true, "url": "https://acme.slack.com/", "team": "Acme", "user": "secops-bot", "team_id": "T1", "user_id": "U1"})).into_response()
                }
                ("POST", "/auth.test") => axum::Json(json!({"ok": false, "error": "invalid_auth"})).into_response(),
                _ if !good => refuse(),
                ("POST", "/services/search/jobs") => axum::Json(json!({"results": [{"host": "ws-042"}]})).into_response(),
                ("GET", "/services/server/info") => axum::Json(json!({"entry": [{"name": "server-info", "content": {"version": "9.3.1"}}]})).into_response(),
                ("GET", "/rest/api/3/myself") => axum::Json(json!({"accountId": "5b10a2844c20165700ede21g", "displayName": "SecOps Bot"})).into_response(),
                ("GET", "/ip_addresses/8.8.8.8") => axum::Json(json!({"data": {"id": "8.8.8.8", "type": "ip_address", "attributes": {}}})).into_response(),
                ("GET", "/check") => axum::Json(json!({"data": {"ipAddress": "8.8.8.8", "abuseConfidenceScore": 0}})).into_response(),
                ("POST", "/oauth2/token") | ("POST", "/tenant-1/oauth2/v2.0/token") => {
                    axum::Json(json!({"access_token": "at-issued", "token_type": "bearer", "expires_in": 1799})).into_response()
                }
                _ => (StatusCode::NOT_FOUND, axum::Json(json!({"error": "not found"}))).into_response(),
            }
        }
    });
    let (addr, server) = support::serve(app).await;
    (addr, log, server)
}

/// Settings and credentials of every kind whose probe makes a request, pointed at `base`; `quality` goes into
/// each secret.
fn configs(base: &str, quality: &str) -> Vec<(&'static str, Value, Value)> {
    let s = |v: &str| format!("{MARK}-{quality}-{v}");
    vec![
        ("splunk", json!({"base_url": base}), json!({"token": s("splunk")})),
        (
            "jira",
            json!({"base_url": base, "email": "bot@example.com"}),
            json!({"api_token": s("jira")}),
        ),
        (
            "slack",
            json!({"base_url": base}),
            json!({"bot_token": s("xoxb")}),
        ),
        (
            "virustotal",
            json!({"base_url": base}),
            json!({"api_token": s("vt")}),
        ),
        (
            "abuseipdb",
            json!({"base_url": base}),
            json!({"api_token": s("abuse")}),
        ),
        (
            "crowdstrike",
            json!({"base_url": base}),
            json!({"client_id": s("id"), "client_secret": s("secret")}),
        ),
        (
            "defender",
            json!({"tenant_id": "tenant-1", "login_url": base, "api_url": base}),
            json!({"client_id": s("id"), "client_secret": s("secret")}),
        ),
    ]
}

#[tokio::test]
async fn every_probe_sends_the_documented_request_and_reports_success() {
    let (addr, log, _server) = fake().await;
    let base = format!("http://{addr}");
    let client = support::loopback_client();
    for (kind, settings, credentials) in configs(&base, "good") {
        let report = catalog::probe(kind, &settings, Some(&credentials), &client)
            .await
            .unwrap();
        assert!(report.ok, "{kind}: {report:?}");
        assert_eq!(report.checked, "connection");
        assert!(!report.detail.contains(MARK), "{kind}: {}", report.detail);
    }
    let seen: Vec<(String, String)> = log
        .lock()
        .unwrap()
        .iter()
        .map(|(m, t, _, _)| (m.clone(), t.clone()))
        .collect();
    let want = [
        ("GET", "/services/server/info?output_mode=json"),
        ("GET", "/rest/api/3/myself?"),
        ("POST", "/auth.test?"),
        ("GET", "/ip_addresses/8.8.8.8?"),
        ("GET", "/check?ipAddress=8.8.8.8&maxAgeInDays=1"),
        ("POST", "/oauth2/token?"),
        ("POST", "/tenant-1/oauth2/v2.0/token?"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(m, t)| ((*m).to_owned(), (*t).to_owned()))
        .collect();
    assert_eq!(seen, want);
    let log = log.lock().unwrap();
    assert_eq!(log[0].2["authorization"], format!("Bearer {MARK}-good-splunk"));
    let jira = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("bot@example.com:{MARK}-good-jira"),
    );
    assert_eq!(log[1].2["authorization"], format!("Basic {jira}"));
    assert_eq!(log[3].2["x-apikey"], format!("{MARK}-good-vt"));
    assert_eq!(log[4].2["key"], format!("{MARK}-good-abuse"));
    let form: Vec<(String, String)> = url::form_urlencoded::parse(log[6].3.as_bytes())
        .into_owned()
        .collect();
    assert!(
        form.contains(&(
            "scope".into(),
            "https://api.securitycenter.microsoft.com/.default".into()
        )),
        "{form:?}"
    );
    assert!(form.contains(&("grant_type".into(), "client_credentials".into())));
}

#[tokio::test]
async fn refused_credentials_are_reported_without_echoing_them() {
    let (addr, _log, _server) = fake().await;
    let base = format!("http://{addr}");
    let client = support::loopback_client();
    for (kind, settings, credentials) in configs(&base, "bad") {
        let report = catalog::probe(kind, &settings, Some(&credentials), &client)
            .await
            .unwrap();
        assert!(!report.ok, "{kind}: {report:?}");
        assert!(!report.detail.contains(MARK), "{kind} leaked: {}", report.detail);
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, MARK);
        assert!(
            !report.detail.contains(&b64[..8]),
            "{kind} leaked base64: {}",
            report.detail
        );
    }
    let slack = &configs(&base, "bad")[2];
    let report = catalog::probe(slack.0, &slack.1, Some(&slack.2), &client)
        .await
        .unwrap();
    assert_eq!(report.detail, "Slack refused the token: invalid_auth");
}

#[tokio::test]
async fn a_probe_cannot_reach_loopback_unless_allowed() {
    let (addr, log, _server) = fake().await;
    let client = secops_tools::egress::EgressClient::new(
        secops_tools::egress::EgressPolicy::public_only(),
        secops_tools::egress::EgressConfig::default(),
    )
    .unwrap();
    let (kind, settings, credentials) = configs(&format!("http://{addr}"), "good").remove(0);
    let report = catalog::probe(kind, &settings, Some(&credentials), &client)
        .await
        .unwrap();
    assert!(!report.ok);
    assert!(report.detail.contains("127.0.0.1"), "{}", report.detail);
    assert!(log.lock().unwrap().is_empty());
}

#[tokio::test]
async fn webhook_and_declared_http_tools_check_only_their_configuration() {
    let client = support::loopback_client();
    let report = catalog::probe(
        "slack_webhook",
        &json!({}),
        Some(&json!({"webhook_url": "https://hooks.slack.com/services/T0/B0/XXXX"})),
        &client,
    )
    .await
    .unwrap();
    assert_eq!((report.ok, report.checked), (true, "configuration"));
    let bad = catalog::probe("slack_webhook", &json!({"channel": "x"}), None, &client)
        .await
        .unwrap_err();
    assert!(
        bad.to_string()
            .starts_with("invalid settings for `slack_webhook`: unknown field `channel`"),
        "{bad}"
    );
}

#[tokio::test]
async fn built_tools_scrub_credentials_a_service_echoes() {
    let (addr, _log, _server) = fake().await;
    let base = format!("http://{addr}");
    let client = support::loopback_client();
    let (kind, settings, credentials) = configs(&base, "bad").remove(5);
    let tools = catalog::build("falcon", kind, &settings, Some(&credentials), &client, &[]).unwrap();
    let registry = {
        let mut r = secops_core::tool::ToolRegistry::new();
        for t in tools {
            r.register(t).unwrap();
        }
        r
    };
    let call = secops_core::message::ToolCall {
        id: "call_1".into(),
        name: "falcon_host_lookup".into(),
        input: json!({"hostname": "ws-042"}),
    };
    let done = registry.execute(&support::ctx(), &call).await;
    assert!(
        done.content.contains("refused the client credentials"),
        "{}",
        done.content
    );
    assert!(done.content.contains("[REDACTED]"), "{}", done.content);
    assert!(!done.content.contains(MARK), "{}", done.content);
}

/// A configured tool pointed at a forbidden range, at a name that resolves into one, or at a service that
/// redirects into one never reaches it, and the model reads why; allow-listed loopback works.
#[tokio::test]
async fn configured_tools_cannot_reach_forbidden_ranges() {
    let (addr, log, _server) = fake().await;
    let redirector = Router::new().fallback(|| async {
        (
            StatusCode::FOUND,
            [(
                axum::http::header::LOCATION,
                "http://169.254.169.254/latest/meta-data/",
            )],
        )
    });
    let (redirect_addr, _redirect) = support::serve(redirector).await;
    let public = secops_tools::egress::EgressClient::new(
        secops_tools::egress::EgressPolicy::public_only(),
        secops_tools::egress::EgressConfig::default(),
    )
    .unwrap();
    let port = addr.port();
    let search = |base: String, client: &secops_tools::egress::EgressClient| {
        let tools = catalog::build(
            "siem",
            "splunk",
            &json!({"base_url": base}),
            Some(&json!({"token": format!("{MARK}-good-token")})),
            client,
            &[],
        )
        .unwrap();
        let mut registry = secops_core::tool::ToolRegistry::new();
        for t in tools {
            registry.register(t).unwrap();
        }
        registry
    };
    let call = secops_core::message::ToolCall {
        id: "call_1".into(),
        name: "siem_search".into(),
        input: json!({"query": "index=edr"}),
    };
    for host in [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "[::1]",
        "[fd00::1]",
        "[fe80::1]",
        // A name that resolves (from /etc/hosts, no network) to loopback only.
        "localhost",
    ] {
        let done = search(format!("http://{host}:{port}"), &public)
            .execute(&support::ctx(), &call)
            .await;
        assert!(done.is_error, "{host}");
        assert!(
            done.content
                .contains("tools may not reach it unless the organisation allow-lists it"),
            "{host}: {}",
            done.content
        );
        assert!(!done.content.contains(MARK), "{}", done.content);
    }
    assert!(log.lock().unwrap().is_empty(), "nothing reached the service");

    // Loopback allow-listed: the redirector is reached, the metadata address it points to is not.
    let allowed = support::loopback_client();
    let done = search(format!("http://{redirect_addr}"), &allowed)
        .execute(&support::ctx(), &call)
        .await;
    assert!(done.is_error);
    assert!(done.content.contains("169.254.169.254 is in"), "{}", done.content);
    let done = search(format!("http://{addr}"), &allowed)
        .execute(&support::ctx(), &call)
        .await;
    assert!(
        !done.is_error,
        "an allow-listed loopback target works: {}",
        done.content
    );
}
