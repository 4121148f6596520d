//! Splunk against a fake management API on loopback that answers in the documented formats: one-shot searches,
//! jobs polled to completion, failed jobs, rejected SPL, bad credentials, result caps; the token never comes back.
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
use secops_core::tool::{Tool, ToolError, Typed};
use secops_tools::splunk::{SplunkAuth, SplunkSearch};
use serde_json::{Value, json};

const TOKEN: &str = "eyJraWQiOiJzcGx1bmsuc2VjcmV0IiwiYWxnIjoiSFM1MTIifQ.SECRET";

type Log = Arc<Mutex<Vec<(String, String, String)>>>;

async fn fake_splunk() -> (SocketAddr, Log, tokio::task::JoinSet<()>) {
    let log: Log = Arc::default();
    let seen = Arc::clone(&log);
    let polls = Arc::new(AtomicUsize::new(0));
    let app = Router::new().fallback(move |method: HttpMethod, uri: Uri, headers: HeaderMap, body: Bytes| {
        let seen = Arc::clone(&seen);
        let polls = Arc::clone(&polls);
        async move {
            let path = uri.path().to_owned();
            let body = String::from_utf8_lossy(&body).into_owned();
            seen.lock().unwrap().push((method.to_string(), format!("{path}?{}", uri.query().unwrap_or("")), body.clone()));
            if headers.get("authorization").is_none_or(|a| a != format!("Bearer {TOKEN}").as_str()) {
                return (StatusCode::UNAUTHORIZED, axum::Json(json!({"messages": [{"type": "WARN", "text": "call not properly authenticated"}]}))).into_response();
            }
            let form: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
            let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
            let rows = |n: usize| (0..n).map(|i| json!({"host": "ws-042", "process_name": format!("proc{i}.exe"), "count": "3"})).collect::<Vec<_>>();
            match (method.as_str(), path.as_str()) {
                ("POST", "/services/search/jobs") if get("search").contains("badcommand") => (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"messages": [{"type": "FATAL", "text": "Unknown search command 'badcommand'."}]})),
                )
                    .into_response(),
                ("POST", "/services/search/jobs") if get("exec_mode") == "oneshot" => {
                    axum::Json(json!({"preview": false, "init_offset": 0, "messages": [], "fields": [{"name": "host"}], "results": rows(3)})).into_response()
                }
                ("POST", "/services/search/jobs") if get("search").contains("failing") => (StatusCode::CREATED, axum::Json(json!({"sid": "1732870000.99"}))).into_response(),
                ("POST", "/services/search/jobs") => (StatusCode::CREATED, axum::Json(json!({"sid": "1732870000.42"}))).into_response(),
                ("GET", "/services/search/jobs/1732870000.42") => {
                    let n = polls.fetch_add(1, Ordering::SeqCst);
                    let done = n >= 2;
                    axum::Json(json!({"entry": [{"name": "search index=edr", "content": {"dispatchState": if done { "DONE" } else { "RUNNING" }, "isDone": done, "isFailed": false, "resultCount": 250}}]})).into_response()
                }
                ("GET", "/services/search/jobs/1732870000.99") => axum::Json(json!({"entry": [{"content": {"dispatchState": "FAILED", "isDone": true, "isFailed": true, "messages": [{"type": "ERROR", "text": "Search auto-canceled"}]}}]})).into_response(),
                ("GET", "/services/search/jobs/1732870000.42/results") => axum::Json(json!({"preview": false, "results": rows(250)})).into_response(),
                _ => (StatusCode::NOT_FOUND, axum::Json(json!({"messages": [{"type": "ERROR", "text": "Not Found"}]}))).into_response(),
            }
        }
    });
    let (addr, server) = support::serve(app).await;
    (addr, log, server)
}

fn tool(addr: SocketAddr, token: &str) -> Typed<SplunkSearch> {
    let client = support::loopback_client();
    Typed::new(
        SplunkSearch::new(client, format!("http://{addr}"), SplunkAuth::Token(token.into()))
            .poll_every(Duration::from_millis(5)),
    )
}

fn form(body: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

#[tokio::test]
async fn oneshot_and_job_searches_send_what_splunk_documents() {
    let (addr, log, _server) = fake_splunk().await;
    let splunk = tool(addr, TOKEN);
    let out = splunk
        .call(&support::ctx(), json!({"query": "index=edr host=ws-042 | stats count by process_name", "earliest": "-4h", "max_results": 10}))
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&out.content).unwrap();
    assert_eq!(
        (v["results"].as_array().unwrap().len(), v["truncated"].as_bool()),
        (3, Some(false))
    );
    let (method, path, body) = log.lock().unwrap()[0].clone();
    assert_eq!(
        (method.as_str(), path.as_str()),
        ("POST", "/services/search/jobs?")
    );
    assert_eq!(
        form(&body),
        [
            (
                "search",
                "search index=edr host=ws-042 | stats count by process_name"
            ),
            ("exec_mode", "oneshot"),
            ("earliest_time", "-4h"),
            ("latest_time", "now"),
            ("count", "10"),
            ("output_mode", "json"),
        ]
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect::<Vec<_>>()
    );

    let out = splunk
        .call(
            &support::ctx(),
            json!({"query": "| tstats count where index=edr by host", "mode": "job", "max_results": 100}),
        )
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&out.content).unwrap();
    assert_eq!(
        (v["results"].as_array().unwrap().len(), v["truncated"].as_bool()),
        (100, Some(true))
    );
    let calls: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .skip(1)
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    assert_eq!(
        calls,
        [
            "POST /services/search/jobs?",
            "GET /services/search/jobs/1732870000.42?output_mode=json",
            "GET /services/search/jobs/1732870000.42?output_mode=json",
            "GET /services/search/jobs/1732870000.42?output_mode=json",
            "GET /services/search/jobs/1732870000.42/results?output_mode=json&count=100",
        ]
    );
    assert_eq!(
        form(&log.lock().unwrap()[1].2)[0].1,
        "| tstats count where index=edr by host",
        "generating commands are kept"
    );
}

#[tokio::test]
async fn failures_are_clear_and_the_token_never_leaks() {
    let (addr, _log, _server) = fake_splunk().await;
    let splunk = tool(addr, TOKEN);
    let err = splunk
        .call(&support::ctx(), json!({"query": "index=edr | badcommand"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ToolError::InvalidInput(m) if m.contains("Unknown search command")),
        "{err:?}"
    );
    let err = splunk
        .call(&support::ctx(), json!({"query": "failing", "mode": "job"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ToolError::Failed(m) if m.contains("auto-canceled")),
        "{err:?}"
    );
    let err = splunk
        .call(&support::ctx(), json!({"query": "  "}))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::InvalidInput(_)));
    let err = tool(addr, "wrong")
        .call(&support::ctx(), json!({"query": "index=edr"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not properly authenticated") && !err.contains(TOKEN),
        "{err}"
    );
    assert_eq!(
        format!("{:?}", SplunkAuth::Token(TOKEN.into())),
        "SplunkAuth([REDACTED])"
    );

    // A cancelled run stops polling.
    let c = support::ctx();
    c.cancellation.cancel();
    let slow = tool(addr, TOKEN);
    let out = tokio::time::timeout(
        Duration::from_secs(5),
        slow.call(&c, json!({"query": "x", "mode": "job"})),
    )
    .await
    .unwrap();
    assert!(
        matches!(out, Err(ToolError::Failed(ref m)) if m.contains("cancelled")),
        "{out:?}"
    );
}
