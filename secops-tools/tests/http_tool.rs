//! The generic HTTP tool against a fake service on loopback: the exact requests it sends (path, query, headers,
//! body, each auth kind), OAuth token caching, response extraction, the service's error and rate-limit answers,
//! and credentials never coming back in results or errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method as HttpMethod, StatusCode, Uri};
use axum::response::IntoResponse;
use secops_core::tool::{Tool, ToolError};
use secops_tools::egress::{EgressClient, EgressConfig, EgressPolicy};
use secops_tools::http::{Credentials, HttpTool, HttpToolSpec};
use serde_json::{Value, json};

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: String,
    headers: HeaderMap,
    body: String,
}

struct Fake {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    _server: tokio::task::JoinSet<()>,
}

async fn fake() -> Fake {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = Arc::clone(&seen);
    let app = Router::new().fallback(move |method: HttpMethod, uri: Uri, headers: HeaderMap, body: Bytes| {
        let log = Arc::clone(&log);
        async move {
            let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            let key = headers.get("x-api-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            log.lock().unwrap().push(Seen {
                method: method.to_string(),
                path: uri.path().to_owned(),
                query: uri.query().unwrap_or("").to_owned(),
                headers: headers.clone(),
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            match uri.path() {
                "/oauth/token" => axum::Json(json!({"access_token": "oauth-access-7f3a9c", "token_type": "Bearer", "expires_in": 3600})).into_response(),
                "/limited" => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "7")], format!("slow down, {key}")).into_response(),
                "/broken" => (StatusCode::BAD_GATEWAY, format!("upstream failed while using {auth}")).into_response(),
                "/not-json" => "plain words".into_response(),
                // Services that echo what they got are exactly where credentials leak from.
                _ => axum::Json(json!({"data": {"score": 90, "country": "NL", "echo": auth, "key": key}, "meta": {"took": 3}})).into_response(),
            }
        }
    });
    let (addr, server) = support::serve(app).await;
    Fake {
        addr,
        seen,
        _server: server,
    }
}

fn client() -> EgressClient {
    support::loopback_client()
}

fn spec(toml_text: &str, addr: SocketAddr) -> HttpToolSpec {
    toml::from_str(&toml_text.replace("ADDR", &addr.to_string())).unwrap()
}

const SCHEMA: &str = r#"input_schema = { type = "object", properties = { ip = { type = "string" }, limit = { type = "integer" }, summary = { type = "string" } } }"#;

fn creds(v: Value) -> Credentials {
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn get_with_path_query_headers_and_bearer_extracts_fields_and_scrubs_the_token() {
    let f = fake().await;
    let toml_text = format!(
        r#"
name = "ip_reputation"
description = "Reputation of an IP."
method = "GET"
url = "http://ADDR/v1/ip/{{{{ip}}}}"
query = {{ verbose = "true", limit = "{{{{limit}}}}" }}
headers = {{ Accept = "application/json" }}
auth = {{ type = "bearer" }}
response = {{ pointer = "/data", fields = ["score", "country", "echo"] }}
{SCHEMA}
"#
    );
    let tool = HttpTool::new(
        spec(&toml_text, f.addr),
        creds(json!({"token": "tok-SECRET-4242"})),
        client(),
    )
    .unwrap();
    assert!(
        tool.definition().untrusted_output,
        "what the service returns reaches the model as untrusted data"
    );
    let out = tool
        .call(&support::ctx(), json!({"ip": "203.0.113.7", "limit": 5}))
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&out.content).unwrap();
    assert_eq!(
        v,
        json!({"score": 90, "country": "NL", "echo": "Bearer [REDACTED]"})
    );
    assert!(!out.content.contains("tok-SECRET-4242"));

    let seen = f.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let s = &seen[0];
    assert_eq!(
        (s.method.as_str(), s.path.as_str()),
        ("GET", "/v1/ip/203.0.113.7")
    );
    assert_eq!(s.query, "limit=5&verbose=true");
    assert_eq!(s.headers["authorization"], "Bearer tok-SECRET-4242");
    assert_eq!(s.headers["accept"], "application/json");

    // An input cannot climb out of its path segment.
    tool.call(&support::ctx(), json!({"ip": "../../admin?x=1"}))
        .await
        .unwrap();
    let last = f.seen.lock().unwrap().last().unwrap().clone();
    assert_eq!(last.path, "/v1/ip/..%2F..%2Fadmin%3Fx%3D1");
}

#[tokio::test]
async fn post_json_body_with_basic_auth_and_api_key_header() {
    let f = fake().await;
    let basic = format!(
        r#"
name = "open_ticket"
description = "Open a ticket."
risk = "medium"
method = "POST"
url = "http://ADDR/rest/api/3/issue"
body = {{ fields = {{ summary = "{{{{summary}}}}", priority = {{ id = "{{{{limit}}}}" }}, labels = ["secops"] }} }}
auth = {{ type = "basic" }}
{SCHEMA}
"#
    );
    let tool = HttpTool::new(
        spec(&basic, f.addr),
        creds(json!({"username": "svc-secops", "password": "pw-SECRET-99"})),
        client(),
    )
    .unwrap();
    let out = tool
        .call(
            &support::ctx(),
            json!({"summary": "Beacon from ws-042", "limit": 2}),
        )
        .await
        .unwrap();
    let s = f.seen.lock().unwrap().last().unwrap().clone();
    assert_eq!(
        (s.method.as_str(), s.path.as_str()),
        ("POST", "/rest/api/3/issue")
    );
    assert_eq!(s.headers["content-type"], "application/json");
    let body: Value = serde_json::from_str(&s.body).unwrap();
    assert_eq!(
        body,
        json!({"fields": {"summary": "Beacon from ws-042", "priority": {"id": 2}, "labels": ["secops"]}})
    );
    assert!(s.headers["authorization"].to_str().unwrap().starts_with("Basic "));
    assert!(out.content.contains("Basic [REDACTED]"), "{}", out.content);
    assert_eq!(tool.definition().risk, secops_core::tool::RiskLevel::Medium);

    let keyed = r#"
name = "vt_ip"
description = "VirusTotal IP report."
method = "GET"
url = "http://ADDR/api/v3/ip_addresses/{{ip}}"
auth = { type = "api_key_header", header = "x-apikey" }
input_schema = { type = "object", properties = { ip = { type = "string" } } }
"#;
    let tool = HttpTool::new(
        spec(keyed, f.addr),
        creds(json!({"api_key": "vt-SECRET-abcdef"})),
        client(),
    )
    .unwrap();
    tool.call(&support::ctx(), json!({"ip": "203.0.113.7"}))
        .await
        .unwrap();
    let s = f.seen.lock().unwrap().last().unwrap().clone();
    assert_eq!(s.headers["x-apikey"], "vt-SECRET-abcdef");
}

#[tokio::test]
async fn oauth_client_credentials_fetch_one_token_and_reuse_it() {
    let f = fake().await;
    let text = r#"
name = "edr_host"
description = "Look up a host."
method = "GET"
url = "http://ADDR/devices/queries/devices/v1"
query = { filter = "hostname:'{{ip}}'" }
auth = { type = "oauth2_client_credentials", token_url = "http://ADDR/oauth/token", scope = "hosts:read" }
input_schema = { type = "object", properties = { ip = { type = "string" } } }
"#;
    let tool = HttpTool::new(
        spec(text, f.addr),
        creds(json!({"client_id": "cid-1", "client_secret": "cs-SECRET-777"})),
        client(),
    )
    .unwrap();
    for _ in 0..2 {
        let out = tool.call(&support::ctx(), json!({"ip": "ws-042"})).await.unwrap();
        assert!(
            out.content.contains("Bearer [REDACTED]") && !out.content.contains("oauth-access-7f3a9c"),
            "{}",
            out.content
        );
    }
    let seen = f.seen.lock().unwrap().clone();
    let tokens: Vec<&Seen> = seen.iter().filter(|s| s.path == "/oauth/token").collect();
    assert_eq!(tokens.len(), 1, "the token is cached");
    assert_eq!(tokens[0].body, "grant_type=client_credentials&scope=hosts%3Aread");
    assert_eq!(
        tokens[0].headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    let calls: Vec<&Seen> = seen.iter().filter(|s| s.path != "/oauth/token").collect();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].headers["authorization"], "Bearer oauth-access-7f3a9c");
    assert_eq!(calls[0].query, "filter=hostname%3A%27ws-042%27");
}

#[tokio::test]
async fn service_errors_rate_limits_and_bad_answers_are_clear_and_leak_nothing() {
    let f = fake().await;
    let make = |path: &str, pointer: bool| {
        let text = format!(
            r#"
name = "t"
description = "t"
method = "GET"
url = "http://ADDR{path}"
auth = {{ type = "api_key_header", header = "x-api-key" }}
{}
input_schema = {{ type = "object", properties = {{}} }}
"#,
            if pointer {
                r#"response = { pointer = "/data" }"#
            } else {
                ""
            }
        );
        HttpTool::new(
            spec(&text, f.addr),
            creds(json!({"api_key": "key-SECRET-31337", "token": "tok-SECRET-1"})),
            client(),
        )
        .unwrap()
    };
    let err = make("/limited", false)
        .call(&support::ctx(), json!({}))
        .await
        .unwrap_err();
    let ToolError::Failed(msg) = err else {
        panic!("{err:?}")
    };
    assert!(msg.contains("429") && msg.contains("retry after 7 s"), "{msg}");
    assert!(
        !msg.contains("key-SECRET-31337") && msg.contains("[REDACTED]"),
        "{msg}"
    );

    let err = make("/broken", false)
        .call(&support::ctx(), json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ToolError::Failed(m) if m.contains("502")),
        "{err:?}"
    );

    let err = make("/not-json", true)
        .call(&support::ctx(), json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ToolError::Failed(m) if m.contains("not JSON")),
        "{err:?}"
    );

    // A destination outside the policy is the model's mistake: an input error it can correct.
    let outside = HttpTool::new(
        spec(
            &format!(
                "name = \"t\"\ndescription = \"t\"\nmethod = \"GET\"\nurl = \"http://ADDR/x\"\n{SCHEMA}"
            ),
            f.addr,
        ),
        Credentials::default(),
        EgressClient::new(EgressPolicy::public_only(), EgressConfig::default()).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        outside.call(&support::ctx(), json!({})).await,
        Err(ToolError::InvalidInput(_))
    ));
}

#[tokio::test]
async fn definitions_cannot_let_input_choose_the_host() {
    let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
    for (url, why) in [
        ("http://{{ip}}/x", "placeholders"),
        ("http://ADDR/{{nope}}", "not a property"),
    ] {
        let text = format!("name = \"t\"\ndescription = \"t\"\nmethod = \"GET\"\nurl = \"{url}\"\n{SCHEMA}");
        let err = HttpTool::new(spec(&text, addr), Credentials::default(), client()).unwrap_err();
        assert!(err.to_string().contains(why), "{url}: {err}");
    }
    let text =
        format!("name = \"t\"\ndescription = \"t\"\nmethod = \"FETCH\"\nurl = \"http://ADDR/\"\n{SCHEMA}");
    assert!(HttpTool::new(spec(&text, addr), Credentials::default(), client()).is_err());
    let text = format!(
        "name = \"t\"\ndescription = \"t\"\nmethod = \"GET\"\nurl = \"http://ADDR/\"\nheaders = {{ \"bad header\" = \"x\" }}\n{SCHEMA}"
    );
    let err = HttpTool::new(spec(&text, addr), Credentials::default(), client()).unwrap_err();
    assert!(err.to_string().contains("header name"), "{err}");
    assert_eq!(
        format!("{:?}", creds(json!({"token": "tok-SECRET-1"}))),
        "Credentials([REDACTED])"
    );
}
