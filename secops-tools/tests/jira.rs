//! Jira Cloud against a fake Jira on loopback that answers in the documented formats: exact requests (ADF
//! description, JQL query, transition by id), field errors, unknown issues, 429 with `Retry-After`, bad
//! credentials; the API token never comes back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method as HttpMethod, StatusCode, Uri};
use axum::response::IntoResponse;
use base64::Engine;
use secops_core::tool::{Tool, ToolError, Typed};
use secops_tools::jira::{JiraAddComment, JiraCreateIssue, JiraSearch, JiraSite, JiraTransition, adf};
use serde_json::{Value, json};

const TOKEN: &str = "ATATT-SECRET-jira-token";

type Log = Arc<Mutex<Vec<(String, String, String, HeaderMap, String)>>>;

async fn fake_jira() -> (SocketAddr, Log, tokio::task::JoinSet<()>) {
    let log: Log = Arc::default();
    let seen = Arc::clone(&log);
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("secops@example.com:{TOKEN}"))
    );
    let app = Router::new().fallback(move |method: HttpMethod, uri: Uri, headers: HeaderMap, body: Bytes| {
        let seen = Arc::clone(&seen);
        let expected = expected.clone();
        async move {
            let path = uri.path().to_owned();
            let body = String::from_utf8_lossy(&body).into_owned();
            seen.lock().unwrap().push((method.to_string(), path.clone(), uri.query().unwrap_or("").to_owned(), headers.clone(), body.clone()));
            if headers.get("authorization").is_none_or(|a| a != expected.as_str()) {
                return (StatusCode::UNAUTHORIZED, axum::Json(json!({"errorMessages": ["Client must be authenticated to access this resource."], "errors": {}}))).into_response();
            }
            let parsed: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            match (method.as_str(), path.as_str()) {
                ("POST", "/rest/api/3/issue") if parsed["fields"]["summary"] == "" => (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"errorMessages": [], "errors": {"summary": "You must specify a summary of the issue."}})),
                )
                    .into_response(),
                ("POST", "/rest/api/3/issue") if parsed["fields"]["summary"] == "flood" => {
                    (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "12")], "").into_response()
                }
                ("POST", "/rest/api/3/issue") => (
                    StatusCode::CREATED,
                    axum::Json(json!({"id": "10042", "key": "SEC-42", "self": "https://example.atlassian.net/rest/api/3/issue/10042"})),
                )
                    .into_response(),
                ("POST", "/rest/api/3/issue/SEC-42/comment") => (StatusCode::CREATED, axum::Json(json!({"id": "10100", "body": parsed["body"]}))).into_response(),
                ("GET", "/rest/api/3/search/jql") => axum::Json(json!({"issues": [
                    {"id": "10042", "key": "SEC-42", "fields": {"summary": "Beacon from ws-042", "status": {"name": "To Do"}, "assignee": {"displayName": "Ana"}, "priority": {"name": "High"}}}
                ], "nextPageToken": "CAEaAggD"})).into_response(),
                ("GET", "/rest/api/3/issue/SEC-42/transitions") => axum::Json(json!({"transitions": [
                    {"id": "21", "name": "In Progress", "to": {"name": "In Progress"}},
                    {"id": "31", "name": "Done", "to": {"name": "Done"}}
                ]})).into_response(),
                ("POST", "/rest/api/3/issue/SEC-42/transitions") => StatusCode::NO_CONTENT.into_response(),
                _ => (StatusCode::NOT_FOUND, axum::Json(json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}))).into_response(),
            }
        }
    });
    let (addr, server) = support::serve(app).await;
    (addr, log, server)
}

fn site(addr: SocketAddr, token: &str) -> JiraSite {
    let client = support::loopback_client();
    JiraSite::new(client, format!("http://{addr}"), "secops@example.com", token)
}

#[tokio::test]
async fn create_comment_search_and_transition_send_what_jira_documents() {
    let (addr, log, _server) = fake_jira().await;
    let create = Typed::new(JiraCreateIssue(site(addr, TOKEN)));
    let out = create
        .call(&support::ctx(), json!({"project": "SEC", "summary": "Beacon from ws-042", "description": "Seen at 06:00.\nTwice.\n\nIsolated.", "labels": ["secops"]}))
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&out.content).unwrap(),
        json!({"key": "SEC-42", "id": "10042"})
    );
    let (method, path, _, headers, body) = log.lock().unwrap()[0].clone();
    assert_eq!((method.as_str(), path.as_str()), ("POST", "/rest/api/3/issue"));
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"fields": {
            "project": {"key": "SEC"}, "summary": "Beacon from ws-042", "issuetype": {"name": "Task"}, "labels": ["secops"],
            "description": {"type": "doc", "version": 1, "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "Seen at 06:00."}, {"type": "hardBreak"}, {"type": "text", "text": "Twice."}]},
                {"type": "paragraph", "content": [{"type": "text", "text": "Isolated."}]}
            ]}
        }})
    );

    let comment = Typed::new(JiraAddComment(site(addr, TOKEN)));
    let out = comment
        .call(&support::ctx(), json!({"issue": "SEC-42", "text": "Contained."}))
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&out.content).unwrap(),
        json!({"issue": "SEC-42", "comment_id": "10100"})
    );
    let (_, path, _, _, body) = log.lock().unwrap().last().unwrap().clone();
    assert_eq!(path, "/rest/api/3/issue/SEC-42/comment");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"body": adf("Contained.")})
    );

    let search = Typed::new(JiraSearch(site(addr, TOKEN)));
    let out = search
        .call(
            &support::ctx(),
            json!({"jql": "project = SEC AND status != Done", "max_results": 5}),
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&out.content).unwrap(),
        json!({"issues": [{"key": "SEC-42", "summary": "Beacon from ws-042", "status": "To Do", "assignee": "Ana", "priority": "High"}], "more": true})
    );
    let (method, path, query, _, _) = log.lock().unwrap().last().unwrap().clone();
    assert_eq!(
        (method.as_str(), path.as_str()),
        ("GET", "/rest/api/3/search/jql")
    );
    assert_eq!(
        query,
        "jql=project+%3D+SEC+AND+status+%21%3D+Done&maxResults=5&fields=summary%2Cstatus%2Cassignee%2Cpriority"
    );

    let transition = Typed::new(JiraTransition(site(addr, TOKEN)));
    let out = transition
        .call(&support::ctx(), json!({"issue": "SEC-42", "transition": "done"}))
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&out.content).unwrap(),
        json!({"issue": "SEC-42", "transition": "Done", "status": "Done"})
    );
    let (method, path, _, _, body) = log.lock().unwrap().last().unwrap().clone();
    assert_eq!(
        (method.as_str(), path.as_str()),
        ("POST", "/rest/api/3/issue/SEC-42/transitions")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"transition": {"id": "31"}})
    );
    let err = transition
        .call(
            &support::ctx(),
            json!({"issue": "SEC-42", "transition": "Teleport"}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ToolError::InvalidInput(m) if m.contains("In Progress, Done")),
        "{err:?}"
    );
}

#[tokio::test]
async fn jira_errors_are_clear_and_the_token_never_leaks() {
    let (addr, log, _server) = fake_jira().await;
    let create = Typed::new(JiraCreateIssue(site(addr, TOKEN)));
    let err = create
        .call(&support::ctx(), json!({"project": "SEC", "summary": ""}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ToolError::Failed(m) if m.contains("summary: You must specify a summary")),
        "{err:?}"
    );
    let err = create
        .call(&support::ctx(), json!({"project": "SEC", "summary": "flood"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ToolError::Unavailable(m) if m.contains("retry after 12 s")),
        "{err:?}"
    );
    let comment = Typed::new(JiraAddComment(site(addr, TOKEN)));
    let err = comment
        .call(&support::ctx(), json!({"issue": "SEC-999", "text": "x"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ToolError::InvalidInput(m) if m.contains("does not exist")),
        "{err:?}"
    );
    let before = log.lock().unwrap().len();
    for bad in ["../admin", "SEC-42/../../x", "sec-1"] {
        let err = comment
            .call(&support::ctx(), json!({"issue": bad, "text": "x"}))
            .await
            .unwrap_err();
        assert!(matches!(err, ToolError::InvalidInput(_)), "{bad}");
    }
    assert_eq!(
        log.lock().unwrap().len(),
        before,
        "malformed keys are refused before any request"
    );
    let wrong = Typed::new(JiraSearch(site(addr, "wrong-token")));
    let err = wrong
        .call(&support::ctx(), json!({"jql": "project = SEC"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("must be authenticated") && !err.contains(TOKEN),
        "{err}"
    );
    assert!(!format!("{:?}", site(addr, TOKEN)).contains(TOKEN));
}
