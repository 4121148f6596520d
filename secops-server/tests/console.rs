//! What the web console stands on: the embedded bundle with its security headers, the cookie session with CSRF
//! protection, the organisations of the caller, the approvals inbox, and the offline demo model's tool calls.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::{Value, json};
use support::{Server, send};
use tower::ServiceExt;

fn get(path: &str) -> Request<Body> {
    Request::builder().uri(path).body(Body::empty()).unwrap()
}

fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// `name=value` of the `Set-Cookie` for `name`.
fn cookie_value(cookies: &[String], name: &str) -> String {
    let c = cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"));
    c.split(';').next().unwrap()[name.len() + 1..].to_owned()
}

#[tokio::test]
async fn the_console_is_served_with_security_headers_and_the_api_keeps_its_problems() {
    let srv = Server::start(false, &[], None).await;
    for path in ["/", "/agents/0190-not-a-file", "/chat"] {
        let (s, h, body) = send(&srv.app, get(path)).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        assert!(
            h[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"),
            "{path}"
        );
        assert_eq!(h[header::CACHE_CONTROL], "no-cache", "{path}");
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        assert!(body.as_str().unwrap().contains("<html"), "{path}");
        // The bundle has no inline script for the policy to block.
        let html = body.as_str().unwrap();
        assert!(
            !html.contains("<script>") && !html.contains("<script type=\"module\">"),
            "{html}"
        );
    }
    // A hashed asset of the build is cached for good; a missing one is a 404, not the page.
    let index = match send(&srv.app, get("/")).await.2 {
        Value::String(s) => s,
        other => panic!("{other}"),
    };
    let asset = index
        .split('"')
        .find(|p| p.starts_with("/assets/") && p.ends_with(".js"))
        .expect("the page loads a hashed script");
    let (s, h, _) = send(&srv.app, get(asset)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
    assert!(h[header::CONTENT_TYPE].to_str().unwrap().contains("javascript"));
    // Compressed for clients that take gzip, and the same file once decompressed.
    let plain = srv.app.clone().oneshot(get(asset)).await.unwrap();
    let plain = axum::body::to_bytes(plain.into_body(), 1 << 24).await.unwrap();
    let gz = srv
        .app
        .clone()
        .oneshot(
            Request::builder()
                .uri(asset)
                .header(header::ACCEPT_ENCODING, "gzip, br")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(gz.headers()[header::CONTENT_ENCODING], "gzip");
    assert_eq!(gz.headers()[header::VARY], "accept-encoding");
    let gz = axum::body::to_bytes(gz.into_body(), 1 << 24).await.unwrap();
    assert!(gz.len() < plain.len() / 2, "{} vs {}", gz.len(), plain.len());
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut unzipped).unwrap();
    assert_eq!(unzipped, plain.to_vec());
    let (s, _, _) = send(&srv.app, get("/assets/gone-0000.js")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Unknown API routes and non-GET methods keep the JSON problem.
    for req in [
        get("/v1/nothing-here"),
        Request::builder()
            .method(Method::POST)
            .uri("/agents")
            .body(Body::empty())
            .unwrap(),
    ] {
        let (s, h, body) = send(&srv.app, req).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(h[header::CONTENT_TYPE], "application/problem+json");
        assert_eq!(body["code"], "not_found");
    }
    srv.shutdown().await;
}

fn login(email: &str, cookie_mode: bool) -> Request<Body> {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json");
    if cookie_mode {
        req = req.header("x-secops-session", "cookie");
    }
    req.body(Body::from(
        json!({"email": email, "password": "correct horse battery"}).to_string(),
    ))
    .unwrap()
}

fn cookie_refresh(refresh: &str, csrf_cookie: &str, csrf_header: Option<&str>) -> Request<Body> {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/v1/auth/refresh")
        .header(header::HOST, "console.test")
        .header(
            header::COOKIE,
            format!("secops_refresh={refresh}; secops_csrf={csrf_cookie}"),
        );
    if let Some(h) = csrf_header {
        req = req.header("x-csrf-token", h);
    }
    req.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn the_cookie_session_refreshes_only_with_its_csrf_token_and_ends_at_logout() {
    let srv = Server::start(false, &[], None).await;
    let email = format!("c-{}@example.com", uuid::Uuid::now_v7().simple());
    let register = Request::builder()
        .method(Method::POST)
        .uri("/v1/auth/register")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-secops-session", "cookie")
        .body(Body::from(
            json!({"email": email, "password": "correct horse battery", "organization_name": "Cookie"})
                .to_string(),
        ))
        .unwrap();
    let (s, h, body) = send(&srv.app, register).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    assert!(
        body.get("refresh_token").is_none(),
        "cookie mode keeps the token out of reach of scripts: {body}"
    );
    assert!(body["access_token"].is_string());
    let cookies = set_cookies(&h);
    let refresh_cookie = cookies.iter().find(|c| c.starts_with("secops_refresh=")).unwrap();
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/v1/auth"] {
        assert!(refresh_cookie.contains(flag), "{refresh_cookie}");
    }
    let csrf_cookie = cookies.iter().find(|c| c.starts_with("secops_csrf=")).unwrap();
    assert!(
        !csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Strict"),
        "{csrf_cookie}"
    );

    // JSON mode is unchanged for API clients.
    let (s, _, json_session) = send(&srv.app, login(&email, false)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(json_session["refresh_token"].is_string());

    let (s, h, _) = send(&srv.app, login(&email, true)).await;
    assert_eq!(s, StatusCode::OK);
    let cookies = set_cookies(&h);
    let (refresh, csrf) = (
        cookie_value(&cookies, "secops_refresh"),
        cookie_value(&cookies, "secops_csrf"),
    );

    // Without the header, with another value, or from another origin: refused, and the token still works.
    for (req, why) in [
        (cookie_refresh(&refresh, &csrf, None), "no header"),
        (cookie_refresh(&refresh, &csrf, Some("0000")), "wrong header"),
        (
            {
                let mut r = cookie_refresh(&refresh, &csrf, Some(&csrf));
                r.headers_mut()
                    .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
                r
            },
            "foreign origin",
        ),
        (
            {
                let mut r = cookie_refresh(&refresh, &csrf, Some(&csrf));
                r.headers_mut()
                    .insert("sec-fetch-site", "cross-site".parse().unwrap());
                r
            },
            "cross-site fetch",
        ),
    ] {
        let (s, _, body) = send(&srv.app, req).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{why}: {body}");
        assert_eq!(body["code"], "csrf_failed", "{why}");
    }

    let mut ok = cookie_refresh(&refresh, &csrf, Some(&csrf));
    ok.headers_mut()
        .insert(header::ORIGIN, "http://console.test".parse().unwrap());
    let (s, h, body) = send(&srv.app, ok).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(body.get("refresh_token").is_none());
    let token = body["access_token"].as_str().unwrap().to_owned();
    let rotated = set_cookies(&h);
    let (refresh2, csrf2) = (
        cookie_value(&rotated, "secops_refresh"),
        cookie_value(&rotated, "secops_csrf"),
    );
    assert_ne!(refresh2, refresh, "the refresh token rotates");
    // The used token is spent.
    let (s, _, _) = send(&srv.app, cookie_refresh(&refresh, &csrf, Some(&csrf))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Logout clears both cookies and revokes the family: the latest token no longer refreshes.
    let logout = Request::builder()
        .method(Method::POST)
        .uri("/v1/auth/logout")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let (s, h, _) = send(&srv.app, logout).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let cleared = set_cookies(&h);
    for name in ["secops_refresh=;", "secops_csrf=;"] {
        assert!(
            cleared
                .iter()
                .any(|c| c.starts_with(name) && c.contains("Max-Age=0")),
            "{cleared:?}"
        );
    }
    let (s, _, _) = send(&srv.app, cookie_refresh(&refresh2, &csrf2, Some(&csrf2))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Without any cookie there is nothing to refresh.
    let bare = Request::builder()
        .method(Method::POST)
        .uri("/v1/auth/refresh")
        .header(header::COOKIE, "secops_csrf=abc")
        .header("x-csrf-token", "abc")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&srv.app, bare).await.0, StatusCode::UNAUTHORIZED);
    srv.shutdown().await;
}

#[tokio::test]
async fn the_server_tells_the_console_its_limits_before_login() {
    let srv = Server::start(false, &[("SECOPS_ALLOW_REGISTRATION", "false".into())], None).await;
    let (s, _, info) = send(&srv.app, get("/v1/server")).await;
    assert_eq!(s, StatusCode::OK, "{info}");
    assert_eq!(info["registration_open"], false);
    assert!(info["max_attachment_bytes"].as_u64().unwrap() > 0);
    assert!(info["attachment_types"].as_array().is_some_and(|t| !t.is_empty()));
    assert!(info["model_provider"].is_null(), "no model configured: {info}");
    srv.shutdown().await;
}

#[tokio::test]
async fn me_lists_the_organisations_to_switch_to() {
    let srv = Server::start(false, &[], None).await;
    let token = srv.owner("First").await;
    let (s, me) = srv.call(Method::GET, "/v1/me", &token, None).await;
    assert_eq!(s, StatusCode::OK);
    let orgs = me["organizations"].as_array().unwrap();
    assert_eq!(orgs.len(), 1, "{me}");
    assert_eq!(
        (orgs[0]["name"].as_str(), orgs[0]["role"].as_str()),
        (Some("First"), Some("owner"))
    );
    assert_eq!(orgs[0]["id"], me["organization_id"]);
    // The members list names people, not only ids.
    let (s, members) = srv.call(Method::GET, "/v1/members", &token, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(members["items"][0]["email"], me["email"], "{members}");
    assert!(members["items"][0]["display_name"].is_string(), "{members}");
    srv.shutdown().await;
}

async fn wait_for(srv: &Server, token: &str, run: &str, status: &str) -> Value {
    for _ in 0..400 {
        let (s, r) = srv
            .call(Method::GET, &format!("/v1/runs/{run}"), token, None)
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        if r["status"] == status {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("run {run} never became {status}");
}

#[tokio::test]
async fn the_demo_chat_calls_a_tool_waits_in_the_inbox_and_only_its_organisation_decides() {
    let srv = Server::start_with_tools(
        false,
        &[],
        Some(std::sync::Arc::new(secops_server::demo::DemoModel::new(
            Duration::from_millis(1),
        ))),
        Some(secops_server::demo::tools().unwrap()),
    )
    .await;
    let token = srv.owner("Demo").await;
    let other = srv.owner("Other").await;
    let (s, agent) = srv
        .call(
            Method::POST,
            "/v1/agents",
            &token,
            Some(
                json!({"name": "demo-triage", "system_prompt": "You triage alerts.",
                    "tools": ["demo_lookup_ip", "demo_isolate_host"]}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{agent}");
    let (s, chat) = srv
        .call(
            Method::POST,
            "/v1/chats",
            &token,
            Some(json!({"agent_id": agent["id"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{chat}");
    let chat_id = chat["id"].as_str().unwrap();
    let (s, sent) = srv
        .call(
            Method::POST,
            &format!("/v1/chats/{chat_id}/messages"),
            &token,
            Some(json!({"text": "WS-0142 beacons to 198.51.100.23"})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{sent}");
    let run = sent["run_id"].as_str().unwrap().to_owned();
    wait_for(&srv, &token, &run, "awaiting_approval").await;

    let (s, inbox) = srv.call(Method::GET, "/v1/approvals", &token, None).await;
    assert_eq!(s, StatusCode::OK, "{inbox}");
    let items = inbox["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{inbox}");
    let waiting = &items[0];
    assert_eq!(waiting["tool_name"], "demo_isolate_host");
    assert_eq!(waiting["risk"], "high");
    assert_eq!(waiting["agent_name"], "demo-triage");
    assert_eq!(waiting["chat_id"], chat_id);
    assert_eq!(waiting["run_id"], run.as_str());
    assert_eq!(waiting["input"]["hostname"], "WS-0142");
    let call_id = waiting["tool_call_id"].as_str().unwrap().to_owned();

    // Another organisation sees an empty inbox and cannot decide.
    let (s, theirs) = srv.call(Method::GET, "/v1/approvals", &other, None).await;
    assert_eq!(
        (s, theirs["items"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(0))
    );
    let decide = format!("/v1/runs/{run}/approvals/{call_id}");
    let (s, _) = srv
        .call(
            Method::POST,
            &decide,
            &other,
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, body) = srv
        .call(
            Method::POST,
            &decide,
            &token,
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{body}");
    let done = wait_for(&srv, &token, &run, "finished").await;
    let answer = done["output"]["text"].as_str().unwrap_or_default().to_owned();
    assert!(answer.contains("198.51.100.23 has a poor reputation"), "{done}");
    assert!(answer.contains("WS-0142 is isolated"), "{done}");
    let (_, inbox) = srv.call(Method::GET, "/v1/approvals", &token, None).await;
    assert_eq!(inbox["items"].as_array().map(Vec::len), Some(0), "{inbox}");
    srv.shutdown().await;
}
