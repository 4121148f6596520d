//! Microsoft Defender for Endpoint against fakes of Entra ID and the Defender API on loopback, answering in the
//! documented formats: the token request, machine lookup by name and IP, isolate and release followed until the
//! action settles, failed actions, `ActiveRequestAlreadyExists`, 404, 429; the client secret never comes back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method as HttpMethod, StatusCode, Uri};
use axum::response::IntoResponse;
use secops_core::tool::{RiskLevel, Tool, ToolError, Typed};
use secops_tools::edr::defender::{Defender, DefenderIsolate, DefenderMachineLookup, DefenderRelease};
use serde_json::{Value, json};

const SECRET: &str = "entra-SECRET-client-secret";
const MACHINE: &str = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07";
const BUSY: &str = "ffffffffffffffffffffffffffffffffffffffff";
const BROKEN: &str = "0000000000000000000000000000000000000000";

type Log = Arc<Mutex<Vec<(String, String, String)>>>;

async fn fake() -> (SocketAddr, Log, tokio::task::JoinSet<()>) {
    let log: Log = Arc::default();
    let seen = Arc::clone(&log);
    let polls = Arc::new(AtomicUsize::new(0));
    let app = Router::new().fallback(move |method: HttpMethod, uri: Uri, headers: HeaderMap, body: Bytes| {
        let seen = Arc::clone(&seen);
        let polls = Arc::clone(&polls);
        async move {
            let path = uri.path().to_owned();
            let query = uri.query().unwrap_or("").to_owned();
            let body = String::from_utf8_lossy(&body).into_owned();
            seen.lock().unwrap().push((method.to_string(), format!("{path}?{query}"), body.clone()));
            if path == "/tenant-1/oauth2/v2.0/token" {
                if !body.contains(&format!("client_secret={SECRET}")) {
                    return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}))).into_response();
                }
                return axum::Json(json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "entra-access-token"})).into_response();
            }
            if headers.get("authorization").is_none_or(|a| a != "Bearer entra-access-token") {
                return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": {"code": "Unauthorized", "message": "Unauthorized"}}))).into_response();
            }
            let action = |id: &str, kind: &str, status: &str, machine: &str| json!({"id": id, "type": kind, "status": status, "machineId": machine, "requestor": "secops"});
            match (method.as_str(), path.as_str()) {
                ("GET", "/api/machines") if query.contains("busy") => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "20")], "").into_response(),
                ("GET", "/api/machines") => axum::Json(json!({"@odata.context": "https://api.securitycenter.microsoft.com/api/$metadata#Machines", "value": [{
                    "id": MACHINE, "computerDnsName": "ws-042.contoso.com", "osPlatform": "Windows11", "healthStatus": "Active",
                    "riskScore": "High", "lastIpAddress": "10.1.2.3", "lastSeen": "2026-11-29T05:59:00Z"}]})).into_response(),
                ("POST", p) if p == format!("/api/machines/{MACHINE}/isolate") => (StatusCode::CREATED, axum::Json(action("b89eb834-4578-496c-8be0-03f004061435", "Isolate", "Pending", MACHINE))).into_response(),
                ("POST", p) if p == format!("/api/machines/{MACHINE}/unisolate") => (StatusCode::CREATED, axum::Json(action("c1d2e3f4-0000-4000-8000-000000000001", "Unisolate", "Succeeded", MACHINE))).into_response(),
                ("POST", p) if p == format!("/api/machines/{BUSY}/isolate") => (StatusCode::BAD_REQUEST, axum::Json(json!({"error": {"code": "ActiveRequestAlreadyExists", "message": "Action is already in progress"}}))).into_response(),
                ("POST", p) if p == format!("/api/machines/{BROKEN}/isolate") => (StatusCode::CREATED, axum::Json(action("dead0000-0000-4000-8000-000000000000", "Isolate", "Pending", BROKEN))).into_response(),
                ("GET", "/api/machineactions/b89eb834-4578-496c-8be0-03f004061435") => {
                    let n = polls.fetch_add(1, Ordering::SeqCst);
                    let status = if n == 0 { "InProgress" } else { "Succeeded" };
                    axum::Json(action("b89eb834-4578-496c-8be0-03f004061435", "Isolate", status, MACHINE)).into_response()
                }
                ("GET", "/api/machineactions/dead0000-0000-4000-8000-000000000000") => axum::Json(action("dead0000-0000-4000-8000-000000000000", "Isolate", "Failed", BROKEN)).into_response(),
                _ => (StatusCode::NOT_FOUND, axum::Json(json!({"error": {"code": "ResourceNotFound", "message": "Machine was not found"}}))).into_response(),
            }
        }
    });
    let (addr, server) = support::serve(app).await;
    (addr, log, server)
}

fn defender(addr: SocketAddr, secret: &str) -> Defender {
    let client = support::loopback_client();
    let base = format!("http://{addr}");
    Defender::new(client, &base, "tenant-1", base.clone(), "app-id", secret)
        .polling(Duration::from_millis(5), 10)
}

fn parsed(content: &str) -> Value {
    serde_json::from_str(content).unwrap()
}

#[tokio::test]
async fn lookup_isolate_and_release_send_what_defender_documents() {
    let (addr, log, _server) = fake().await;
    let d = defender(addr, SECRET);
    let lookup = Typed::new(DefenderMachineLookup(d.clone()));
    let out = lookup
        .call(&support::ctx(), json!({"hostname": "WS-042.contoso.com"}))
        .await
        .unwrap();
    assert_eq!(parsed(&out.content)["machines"][0]["machine_id"], MACHINE);
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen[0].1, "/tenant-1/oauth2/v2.0/token?");
    assert_eq!(
        seen[0].2,
        format!(
            "client_id=app-id&client_secret={SECRET}&scope=https%3A%2F%2Fapi.securitycenter.microsoft.com%2F.default&grant_type=client_credentials"
        )
    );
    assert_eq!(
        seen[1].1,
        "/api/machines?%24filter=computerDnsName+eq+%27ws-042.contoso.com%27"
    );
    lookup
        .call(&support::ctx(), json!({"ip": "10.1.2.3"}))
        .await
        .unwrap();
    assert_eq!(
        log.lock().unwrap().last().unwrap().1,
        "/api/machines?%24filter=lastIpAddress+eq+%2710.1.2.3%27"
    );
    assert_eq!(
        log.lock()
            .unwrap()
            .iter()
            .filter(|(_, p, _)| p.contains("oauth2"))
            .count(),
        1,
        "the token is cached"
    );

    let isolate = Typed::new(DefenderIsolate(d.clone()));
    assert_eq!(
        isolate.definition().risk,
        RiskLevel::High,
        "isolation waits for approval by default"
    );
    let out = isolate
        .call(
            &support::ctx(),
            json!({"machine_id": MACHINE, "comment": "Beacon to 203.0.113.7", "isolation_type": "Selective"}),
        )
        .await
        .unwrap();
    assert_eq!(
        parsed(&out.content),
        json!({"action_id": "b89eb834-4578-496c-8be0-03f004061435", "type": "Isolate", "status": "Succeeded", "machine_id": MACHINE})
    );
    let calls: Vec<(String, String, String)> = log.lock().unwrap().iter().skip(3).cloned().collect();
    assert_eq!(calls[0].1, format!("/api/machines/{MACHINE}/isolate?"));
    assert_eq!(
        parsed(&calls[0].2),
        json!({"Comment": "Beacon to 203.0.113.7", "IsolationType": "Selective"})
    );
    assert_eq!(calls.len(), 3, "isolate, then two polls until Succeeded");

    let release = Typed::new(DefenderRelease(d));
    assert_eq!(release.definition().risk, RiskLevel::High);
    let out = release
        .call(
            &support::ctx(),
            json!({"machine_id": MACHINE, "comment": "Clean"}),
        )
        .await
        .unwrap();
    assert_eq!(parsed(&out.content)["status"], "Succeeded");
    let (_, path, body) = log.lock().unwrap().last().unwrap().clone();
    assert_eq!(
        (path.as_str(), parsed(&body)),
        (
            format!("/api/machines/{MACHINE}/unisolate?").as_str(),
            json!({"Comment": "Clean"})
        )
    );
}

#[tokio::test]
async fn defender_errors_are_clear_and_the_secret_never_leaks() {
    let (addr, log, _server) = fake().await;
    let d = defender(addr, SECRET);
    let isolate = Typed::new(DefenderIsolate(d.clone()));
    let err = isolate
        .call(&support::ctx(), json!({"machine_id": BUSY, "comment": "x"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ToolError::Failed(m) if m.contains("ActiveRequestAlreadyExists")),
        "{err:?}"
    );
    let err = isolate
        .call(&support::ctx(), json!({"machine_id": BROKEN, "comment": "x"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ToolError::Failed(m) if m.contains("ended Failed")),
        "{err:?}"
    );
    let err = isolate
        .call(
            &support::ctx(),
            json!({"machine_id": "abcdefabcdefabcdefabcdefabcdefabcdefabcd", "comment": "x"}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ToolError::InvalidInput(m) if m.contains("not found")),
        "{err:?}"
    );
    let before = log.lock().unwrap().len();
    let err = isolate
        .call(
            &support::ctx(),
            json!({"machine_id": "../machines", "comment": "x"}),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::InvalidInput(_)));
    let lookup = Typed::new(DefenderMachineLookup(d));
    let err = lookup
        .call(&support::ctx(), json!({"hostname": "x' or 1 eq 1 or 'y"}))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::InvalidInput(_)));
    assert_eq!(log.lock().unwrap().len(), before, "bad input sends nothing");
    let err = lookup
        .call(&support::ctx(), json!({"hostname": "busy"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ToolError::Unavailable(m) if m.contains("retry after 20 s")),
        "{err:?}"
    );
    let wrong = Typed::new(DefenderMachineLookup(defender(addr, "wrong")));
    let err = wrong
        .call(&support::ctx(), json!({"hostname": "ws-042"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("invalid_client") && err.contains("AADSTS7000215") && !err.contains(SECRET),
        "{err}"
    );
    assert!(!format!("{:?}", defender(addr, SECRET)).contains(SECRET));
}
