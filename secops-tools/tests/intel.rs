//! VirusTotal and AbuseIPDB against fake services on loopback that answer in the documented formats, including
//! unknown indicators, quota (429), wrong keys (401) and refusals; the key never comes back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use secops_core::tool::{Tool, ToolError, Typed};
use secops_tools::egress::EgressClient;
use secops_tools::intel::{AbuseIpDb, VirusTotal};
use serde_json::{Value, json};

const SHA256: &str = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";
const KEY: &str = "intel-SECRET-key-0042";

type Log = Arc<Mutex<Vec<(String, String, HeaderMap)>>>;

async fn fake() -> (SocketAddr, Log, tokio::task::JoinSet<()>) {
    let log: Log = Arc::default();
    let seen = Arc::clone(&log);
    let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
        let seen = Arc::clone(&seen);
        async move {
            let path = uri.path().to_owned();
            let query = uri.query().unwrap_or("").to_owned();
            seen.lock().unwrap().push((path.clone(), query.clone(), headers.clone()));
            let vt_key_ok = headers.get("x-apikey").is_some_and(|k| k == KEY);
            let abuse_key_ok = headers.get("key").is_some_and(|k| k == KEY);
            let vt_error = |status: StatusCode, code: &str, message: &str| {
                (status, axum::Json(json!({"error": {"code": code, "message": message}}))).into_response()
            };
            if path.starts_with("/api/v3/") && !vt_key_ok {
                return vt_error(StatusCode::UNAUTHORIZED, "WrongCredentialsError", "Wrong API key");
            }
            if path.starts_with("/api/v2/") && !abuse_key_ok {
                return (StatusCode::UNAUTHORIZED, axum::Json(json!({"errors": [{"detail": "Authentication failed. Your API key is either missing, incorrect, or revoked.", "status": 401}]}))).into_response();
            }
            let stats = |m: u64| json!({"data": {"id": "x", "type": "t", "attributes": {"last_analysis_stats": {"harmless": 60, "malicious": m, "suspicious": 1, "undetected": 10, "timeout": 0}, "reputation": -42}}});
            match (path.as_str(), query.as_str()) {
                (p, _) if p == format!("/api/v3/files/{SHA256}") => axum::Json(stats(54)).into_response(),
                ("/api/v3/ip_addresses/203.0.113.7", _) => axum::Json(stats(3)).into_response(),
                ("/api/v3/urls/aHR0cDovL2V2aWwuZXhhbXBsZS9sb2dpbj9hPTE", _) => axum::Json(stats(7)).into_response(),
                ("/api/v3/domains/quota.example", _) => vt_error(StatusCode::TOO_MANY_REQUESTS, "QuotaExceededError", "Quota exceeded"),
                (p, _) if p.starts_with("/api/v3/") => vt_error(StatusCode::NOT_FOUND, "NotFoundError", "not found"),
                ("/api/v2/check", "ipAddress=203.0.113.7&maxAgeInDays=30") => axum::Json(json!({"data": {
                    "ipAddress": "203.0.113.7", "isPublic": true, "ipVersion": 4, "isWhitelisted": false,
                    "abuseConfidenceScore": 100, "countryCode": "NL", "usageType": "Data Center/Web Hosting/Transit",
                    "isp": "Example Hosting", "domain": "example.net", "totalReports": 77, "numDistinctUsers": 40,
                    "lastReportedAt": "2026-11-28T18:21:04+00:00"}})).into_response(),
                ("/api/v2/check", q) if q.starts_with("ipAddress=198.51.100.9") => (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "60"), ("x-ratelimit-remaining", "0")],
                    axum::Json(json!({"errors": [{"detail": "Daily rate limit of 1000 requests exceeded for this endpoint.", "status": 429}]})),
                )
                    .into_response(),
                ("/api/v2/check", _) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    axum::Json(json!({"errors": [{"detail": "The ip address must be a valid IPv4 or IPv6 address.", "status": 422, "source": {"parameter": "ipAddress"}}]})),
                )
                    .into_response(),
                _ => StatusCode::NOT_FOUND.into_response(),
            }
        }
    });
    let (addr, server) = support::serve(app).await;
    (addr, log, server)
}

fn client() -> EgressClient {
    support::loopback_client()
}

fn report(content: &str) -> Value {
    serde_json::from_str(content).unwrap()
}

#[tokio::test]
async fn virustotal_reports_verdicts_unknowns_and_service_trouble() {
    let (addr, log, _server) = fake().await;
    let vt = Typed::new(VirusTotal::new(client(), format!("http://{addr}/api/v3"), KEY));
    let out = vt
        .call(
            &support::ctx(),
            json!({"kind": "file", "value": SHA256.to_uppercase()}),
        )
        .await
        .unwrap();
    let r = report(&out.content);
    assert_eq!(
        (
            r["found"].as_bool(),
            r["malicious"].as_u64(),
            r["reputation"].as_i64()
        ),
        (Some(true), Some(54), Some(-42))
    );
    let (path, _, headers) = log.lock().unwrap()[0].clone();
    assert_eq!(
        path,
        format!("/api/v3/files/{SHA256}"),
        "hashes are sent lower-case"
    );
    assert_eq!(headers["x-apikey"], KEY);

    let url = vt
        .call(
            &support::ctx(),
            json!({"kind": "url", "value": "http://evil.example/login?a=1"}),
        )
        .await
        .unwrap();
    assert_eq!(
        report(&url.content)["malicious"],
        7,
        "URLs are looked up by their unpadded base64url id"
    );
    let ip = vt
        .call(&support::ctx(), json!({"kind": "ip", "value": "203.0.113.7"}))
        .await
        .unwrap();
    assert_eq!(report(&ip.content)["malicious"], 3);
    let unknown = vt
        .call(
            &support::ctx(),
            json!({"kind": "domain", "value": "fresh.example"}),
        )
        .await
        .unwrap();
    assert_eq!(
        report(&unknown.content)["found"],
        false,
        "an unknown indicator is an answer"
    );

    let quota = vt
        .call(
            &support::ctx(),
            json!({"kind": "domain", "value": "quota.example"}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&quota, ToolError::Unavailable(m) if m.contains("quota")),
        "{quota:?}"
    );
    for (kind, value) in [
        ("file", "abc"),
        ("ip", "not-an-ip"),
        ("domain", "a/b"),
        ("url", "ftp://x"),
    ] {
        let err = vt
            .call(&support::ctx(), json!({"kind": kind, "value": value}))
            .await
            .unwrap_err();
        assert!(
            matches!(err, ToolError::InvalidInput(_)),
            "{kind} {value}: {err:?}"
        );
    }
    let wrong = Typed::new(VirusTotal::new(
        client(),
        format!("http://{addr}/api/v3"),
        "wrong-key",
    ));
    let err = wrong
        .call(&support::ctx(), json!({"kind": "ip", "value": "203.0.113.7"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ToolError::Unavailable(m) if m.contains("API key") && m.contains("Wrong API key")),
        "{err:?}"
    );
}

#[tokio::test]
async fn abuseipdb_checks_an_address_and_reports_limits_and_refusals() {
    let (addr, log, _server) = fake().await;
    let tool = Typed::new(AbuseIpDb::new(client(), format!("http://{addr}/api/v2"), KEY));
    let out = tool
        .call(
            &support::ctx(),
            json!({"ip": "203.0.113.7", "max_age_in_days": 30}),
        )
        .await
        .unwrap();
    assert_eq!(
        report(&out.content),
        json!({"ip": "203.0.113.7", "abuse_confidence_score": 100, "total_reports": 77, "distinct_reporters": 40,
               "country_code": "NL", "isp": "Example Hosting", "usage_type": "Data Center/Web Hosting/Transit",
               "last_reported_at": "2026-11-28T18:21:04+00:00"})
    );
    let (path, query, headers) = log.lock().unwrap()[0].clone();
    assert_eq!(
        (path.as_str(), query.as_str()),
        ("/api/v2/check", "ipAddress=203.0.113.7&maxAgeInDays=30")
    );
    assert_eq!(
        (
            headers["key"].to_str().unwrap(),
            headers["accept"].to_str().unwrap()
        ),
        (KEY, "application/json")
    );

    let limited = tool
        .call(&support::ctx(), json!({"ip": "198.51.100.9"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&limited, ToolError::Unavailable(m) if m.contains("retry after 60 s") && m.contains("Daily rate limit")),
        "{limited:?}"
    );
    let refused = tool
        .call(&support::ctx(), json!({"ip": "192.0.2.1"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, ToolError::Failed(m) if m.contains("422") && m.contains("valid IPv4")),
        "{refused:?}"
    );
    let err = tool
        .call(&support::ctx(), json!({"ip": "999.1.1.1"}))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::InvalidInput(_)));
    // The registry enforces the schema's range; called directly, the tool clamps rather than send a bad value.
    let _ = tool
        .call(
            &support::ctx(),
            json!({"ip": "203.0.113.7", "max_age_in_days": 0}),
        )
        .await;
    assert!(log.lock().unwrap().last().unwrap().1.ends_with("maxAgeInDays=1"));
    let wrong = Typed::new(AbuseIpDb::new(client(), format!("http://{addr}/api/v2"), "wrong"));
    let err = wrong
        .call(&support::ctx(), json!({"ip": "203.0.113.7"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("API key") && !err.contains(KEY), "{err}");
}
