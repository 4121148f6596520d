//! CrowdStrike Falcon against a fake Falcon API on loopback that answers in the documented formats: the OAuth2
//! token (fetched once, renewed after a 401), host lookup by hostname and IP, contain and lift containment
//! (high risk), 429 with `X-RateLimit-RetryAfter`, error bodies; the client secret and token never come back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method as HttpMethod, StatusCode, Uri};
use axum::response::IntoResponse;
use secops_core::tool::{RiskLevel, Tool, ToolError, Typed};
use secops_tools::edr::crowdstrike::{Falcon, FalconContain, FalconHostLookup, FalconLiftContainment};
use serde_json::{Value, json};

const SECRET: &str = "falcon-SECRET-client-secret";
const DEVICE: &str = "0123456789abcdef0123456789abcdef";

type Log = Arc<Mutex<Vec<(String, String, HeaderMap, String)>>>;

async fn fake_falcon() -> (SocketAddr, Log, Arc<AtomicUsize>, tokio::task::JoinSet<()>) {
    let log: Log = Arc::default();
    let tokens = Arc::new(AtomicUsize::new(0));
    let (seen, issued) = (Arc::clone(&log), Arc::clone(&tokens));
    let app = Router::new().fallback(move |method: HttpMethod, uri: Uri, headers: HeaderMap, body: Bytes| {
        let (seen, issued) = (Arc::clone(&seen), Arc::clone(&issued));
        async move {
            let path = uri.path().to_owned();
            let query = uri.query().unwrap_or("").to_owned();
            let body = String::from_utf8_lossy(&body).into_owned();
            seen.lock().unwrap().push((method.to_string(), format!("{path}?{query}"), headers.clone(), body.clone()));
            if path == "/oauth2/token" {
                if !body.contains(&format!("client_secret={SECRET}")) {
                    return (StatusCode::FORBIDDEN, axum::Json(json!({"errors": [{"code": 403, "message": "access denied, invalid client"}]}))).into_response();
                }
                let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
                return (StatusCode::CREATED, axum::Json(json!({"access_token": format!("falcon-token-{n}"), "token_type": "bearer", "expires_in": 1799}))).into_response();
            }
            let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
            // The first token "expires" at the first entity look-up, to exercise renewal.
            if auth == "Bearer falcon-token-1" && path == "/devices/entities/devices/v2" {
                return (StatusCode::UNAUTHORIZED, axum::Json(json!({"errors": [{"code": 401, "message": "access denied, authorization failed"}]}))).into_response();
            }
            if !auth.starts_with("Bearer falcon-token-") {
                return (StatusCode::UNAUTHORIZED, axum::Json(json!({"errors": [{"code": 401, "message": "access denied"}]}))).into_response();
            }
            match (method.as_str(), path.as_str()) {
                ("GET", "/devices/queries/devices/v1") if query.contains("busy") => {
                    (StatusCode::TOO_MANY_REQUESTS, [("x-ratelimit-retryafter", "4102444800")], axum::Json(json!({"errors": [{"code": 429, "message": "API rate limit exceeded."}]}))).into_response()
                }
                ("GET", "/devices/queries/devices/v1") if query.contains("ghost") => axum::Json(json!({"meta": {}, "resources": [], "errors": []})).into_response(),
                ("GET", "/devices/queries/devices/v1") => axum::Json(json!({"meta": {}, "resources": [DEVICE], "errors": []})).into_response(),
                ("GET", "/devices/entities/devices/v2") => axum::Json(json!({"resources": [{
                    "device_id": DEVICE, "hostname": "ws-042", "local_ip": "10.1.2.3", "platform_name": "Windows",
                    "os_version": "Windows 11", "status": "normal", "last_seen": "2026-11-29T05:59:00Z"}], "errors": []})).into_response(),
                ("POST", "/devices/entities/devices-actions/v2") => {
                    let ids: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                    let id = ids["ids"][0].as_str().unwrap_or("").to_owned();
                    if id == DEVICE {
                        (StatusCode::ACCEPTED, axum::Json(json!({"resources": [{"id": id, "path": "/devices/entities/devices/v1?ids=x"}], "errors": []}))).into_response()
                    } else {
                        (StatusCode::NOT_FOUND, axum::Json(json!({"resources": [], "errors": [{"code": 404, "message": "Device not found."}]}))).into_response()
                    }
                }
                _ => (StatusCode::NOT_FOUND, axum::Json(json!({"errors": [{"code": 404, "message": "Not found"}]}))).into_response(),
            }
        }
    });
    let (addr, server) = support::serve(app).await;
    (addr, log, tokens, server)
}

fn falcon(addr: SocketAddr, secret: &str) -> Falcon {
    let client = support::loopback_client();
    Falcon::new(client, format!("http://{addr}"), "falcon-client-id", secret)
}

#[tokio::test]
async fn lookup_contain_and_lift_send_what_falcon_documents() {
    let (addr, log, tokens, _server) = fake_falcon().await;
    let f = falcon(addr, SECRET);
    let lookup = Typed::new(FalconHostLookup(f.clone()));
    assert!(
        lookup.definition().untrusted_output,
        "what Falcon returns reaches the model as untrusted data"
    );
    let out = lookup
        .call(&support::ctx(), json!({"hostname": "ws-042"}))
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&out.content).unwrap();
    assert_eq!(v["hosts"][0]["device_id"], DEVICE);
    assert_eq!(
        (
            v["hosts"][0]["containment"].as_str(),
            v["hosts"][0]["platform"].as_str()
        ),
        (Some("normal"), Some("Windows"))
    );
    assert_eq!(
        tokens.load(Ordering::SeqCst),
        2,
        "a token, then a new one after the 401"
    );
    let calls: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .map(|(m, p, _, _)| format!("{m} {p}"))
        .collect();
    assert_eq!(
        calls,
        [
            "POST /oauth2/token?",
            "GET /devices/queries/devices/v1?filter=hostname%3A%27ws-042%27&limit=20",
            format!("GET /devices/entities/devices/v2?ids={DEVICE}").as_str(),
            "POST /oauth2/token?",
            format!("GET /devices/entities/devices/v2?ids={DEVICE}").as_str(),
        ]
    );
    let token_body = log.lock().unwrap()[0].3.clone();
    assert_eq!(
        token_body,
        format!("client_id=falcon-client-id&client_secret={SECRET}")
    );

    let by_ip = lookup
        .call(&support::ctx(), json!({"ip": "10.1.2.3"}))
        .await
        .unwrap();
    assert!(by_ip.content.contains(DEVICE));
    assert!(
        log.lock()
            .unwrap()
            .iter()
            .any(|(_, p, _, _)| p.contains("filter=local_ip%3A%2710.1.2.3%27"))
    );
    let none = lookup
        .call(&support::ctx(), json!({"hostname": "ghost"}))
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&none.content).unwrap(),
        json!({"hosts": []})
    );
    assert_eq!(tokens.load(Ordering::SeqCst), 2, "the renewed token is reused");

    let contain = Typed::new(FalconContain(f.clone()));
    assert_eq!(
        contain.definition().risk,
        RiskLevel::High,
        "containment waits for approval by default"
    );
    let out = contain
        .call(&support::ctx(), json!({"device_id": DEVICE}))
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&out.content).unwrap(),
        json!({"device_id": DEVICE, "action": "contain", "accepted": true})
    );
    let (method, path, headers, body) = log.lock().unwrap().last().unwrap().clone();
    assert_eq!(
        (method.as_str(), path.as_str()),
        ("POST", "/devices/entities/devices-actions/v2?action_name=contain")
    );
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"ids": [DEVICE]})
    );
    let lift = Typed::new(FalconLiftContainment(f));
    assert_eq!(lift.definition().risk, RiskLevel::High);
    lift.call(&support::ctx(), json!({"device_id": DEVICE}))
        .await
        .unwrap();
    assert!(
        log.lock()
            .unwrap()
            .last()
            .unwrap()
            .1
            .ends_with("action_name=lift_containment")
    );
}

#[tokio::test]
async fn falcon_errors_are_clear_and_secrets_never_leak() {
    let (addr, log, _tokens, _server) = fake_falcon().await;
    let f = falcon(addr, SECRET);
    let lookup = Typed::new(FalconHostLookup(f.clone()));
    let err = lookup
        .call(&support::ctx(), json!({"hostname": "busy"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ToolError::Unavailable(m) if m.contains("rate limiting; retry after")),
        "{err:?}"
    );
    let before = log.lock().unwrap().len();
    for bad in [
        json!({"hostname": "x' OR hostname:'*"}),
        json!({}),
        json!({"hostname": "a", "ip": "10.0.0.1"}),
        json!({"ip": "nope"}),
    ] {
        let err = lookup.call(&support::ctx(), bad.clone()).await.unwrap_err();
        assert!(matches!(err, ToolError::InvalidInput(_)), "{bad}");
    }
    assert_eq!(log.lock().unwrap().len(), before, "bad input sends nothing");
    let contain = Typed::new(FalconContain(f));
    let err = contain
        .call(&support::ctx(), json!({"device_id": "../../etc"}))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::InvalidInput(_)));
    let err = contain
        .call(
            &support::ctx(),
            json!({"device_id": "ffffffffffffffffffffffffffffffff"}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ToolError::Failed(m) if m.contains("Device not found")),
        "{err:?}"
    );
    let wrong = Typed::new(FalconHostLookup(falcon(addr, "wrong-secret")));
    let err = wrong
        .call(&support::ctx(), json!({"hostname": "ws-042"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("invalid client") && !err.contains(SECRET) && !err.contains("falcon-token"),
        "{err}"
    );
    assert!(!format!("{:?}", falcon(addr, SECRET)).contains(SECRET));
}
