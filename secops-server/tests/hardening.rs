//! Issue 19's hardening: the client address behind (un)trusted proxies, invitations bound to their address, and
//! input limits refused with a stable code, stated in the served spec.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use support::{Server, send};

async fn login_from(srv: &Server, peer: &str, xff: Option<&str>, email: &str) -> StatusCode {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/v1/auth/login")
        .header("content-type", "application/json");
    if let Some(x) = xff {
        req = req.header("x-forwarded-for", x);
    }
    let mut req = req
        .body(Body::from(
            json!({"email": email, "password": "not the password"}).to_string(),
        ))
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo::<std::net::SocketAddr>(peer.parse().unwrap()));
    send(&srv.app, req).await.0
}

#[tokio::test]
async fn forwarded_headers_count_only_from_trusted_proxies() {
    // Untrusted peer, rotating X-Forwarded-For, a new account each time: the peer address is limited.
    let srv = Server::start(false, &[], None).await;
    let mut statuses = Vec::new();
    for i in 0..60 {
        let email = format!("nobody{i}@example.com");
        statuses.push(login_from(&srv, "203.0.113.5:4000", Some(&format!("198.51.100.{i}")), &email).await);
    }
    assert!(
        statuses[..50].iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert!(
        statuses[50..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    srv.shutdown().await;

    // Through a trusted proxy, each client behind it is limited on its own, and the audit log names it.
    let srv = Server::start(false, &[("SECOPS_TRUSTED_PROXIES", "10.0.0.0/8".into())], None).await;
    for i in 0..60 {
        let email = format!("nobody{i}@example.com");
        let st = login_from(
            &srv,
            "10.0.0.2:4000",
            Some(&format!("6.6.6.6, 198.51.100.{i}")),
            &email,
        )
        .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "client {i} has failed once");
    }
    for i in 0..50 {
        let email = format!("x{i}@example.com");
        login_from(&srv, "10.0.0.2:4000", Some("192.0.2.77"), &email).await;
    }
    assert_eq!(
        login_from(&srv, "10.0.0.2:4000", Some("192.0.2.77"), "y@example.com").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        login_from(&srv, "10.0.0.2:4000", Some("192.0.2.78"), "y@example.com").await,
        StatusCode::UNAUTHORIZED,
        "another client behind the same proxy is not limited"
    );
    // A mutating call through the proxy: the audit event records the client, not the proxy or a spoofed hop.
    let owner = srv.owner("Audited").await;
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/v1/agents")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {owner}"))
        .header("x-forwarded-for", "6.6.6.6, 198.51.100.200")
        .body(Body::from(json!({"name": "a", "system_prompt": "p"}).to_string()))
        .unwrap();
    req.extensions_mut().insert(ConnectInfo::<std::net::SocketAddr>(
        "10.0.0.2:4000".parse().unwrap(),
    ));
    assert_eq!(send(&srv.app, req).await.0, StatusCode::CREATED);
    let (_, audit) = srv
        .call(Method::GET, "/v1/audit-events?limit=200", &owner, None)
        .await;
    let text = audit.to_string();
    assert!(
        text.contains("198.51.100.200") && !text.contains("6.6.6.6"),
        "{text}"
    );
    srv.shutdown().await;
}

async fn register(srv: &Server, email: &str, org: &str) -> Value {
    let req = Request::builder()
        .method(Method::POST)
        .uri("/v1/auth/register")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"email": email, "password": "correct horse battery", "organization_name": org})
                .to_string(),
        ))
        .unwrap();
    let (st, _, body) = send(&srv.app, req).await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    body
}

#[tokio::test]
async fn an_invitation_is_accepted_only_by_its_address() {
    for postgres in [false, true] {
        let srv = Server::start(postgres, &[], None).await;
        let a = register(&srv, "owner@a.example", "A").await;
        let ta = a["access_token"].as_str().unwrap();
        let bob = register(&srv, "bob@b.example", "B").await;
        let inv = register(&srv, "INV@a.example", "Inv").await;
        let (st, created) = srv
            .call(
                Method::POST,
                "/v1/invitations",
                ta,
                Some(json!({"email": "inv@A.example", "role": "analyst"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{created}");
        let token = created["token"].as_str().unwrap();
        let (st, p) = srv
            .call(
                Method::POST,
                "/v1/invitations/accept",
                bob["access_token"].as_str().unwrap(),
                Some(json!({"token": token})),
            )
            .await;
        assert_eq!(
            (st, p["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("invitation_not_for_you"))
        );
        // Audited in Bob's organisation, where his token acts.
        let (_, audit) = srv
            .call(
                Method::GET,
                "/v1/audit-events?outcome=denied",
                bob["access_token"].as_str().unwrap(),
                None,
            )
            .await;
        let denied = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.to_string().contains("invitations") && e.to_string().contains("denied"));
        assert!(denied, "{audit}");
        let (st, m) = srv
            .call(
                Method::POST,
                "/v1/invitations/accept",
                inv["access_token"].as_str().unwrap(),
                Some(json!({"token": token})),
            )
            .await;
        assert_eq!(
            (st, m["role"].as_str()),
            (StatusCode::OK, Some("analyst")),
            "the right person, any case"
        );
        srv.shutdown().await;
    }
}

#[tokio::test]
async fn input_limits_are_refused_with_a_stable_code_and_nothing_is_stored() {
    let srv = Server::start(false, &[], None).await;
    let huge = "x".repeat(1024 * 1024);
    let req = Request::builder()
        .method(Method::POST)
        .uri("/v1/auth/register")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"email": "big@example.com", "password": huge, "organization_name": "Big"}).to_string(),
        ))
        .unwrap();
    let (st, _, p) = send(&srv.app, req).await;
    assert!(st.is_client_error(), "{st}");
    assert!(p["code"].is_string() && p.to_string().len() < 2000, "{st} {p}");
    let owner = srv.owner("Limits").await;
    let cases = [
        json!({"name": "bad\u{0}name", "system_prompt": "p"}),
        json!({"name": "   ", "system_prompt": "p"}),
        json!({"name": "n".repeat(121), "system_prompt": "p"}),
        json!({"name": "ok1", "system_prompt": "p", "config": {"max_parallel_tool_calls": 2, "surprise": 1}}),
        json!({"name": "ok2", "system_prompt": "p", "config": {"max_parallel_tool_calls": u64::MAX}}),
        json!({"name": "ok3", "system_prompt": "p", "config": {"max_parallel_tool_calls": 33}}),
        json!({"name": "ok4", "system_prompt": "p", "config": {"budget": {"max_wall_clock_ms": 1}}}),
    ];
    for body in cases {
        let (st, p) = srv
            .call(Method::POST, "/v1/agents", &owner, Some(body.clone()))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body} -> {p}");
        assert!(
            matches!(p["code"].as_str(), Some("invalid_body" | "out_of_range")),
            "{p}"
        );
        assert!(p["detail"].as_str().unwrap().chars().count() <= 201, "{p}");
    }
    let (_, agents) = srv.call(Method::GET, "/v1/agents", &owner, None).await;
    assert_eq!(agents["items"].as_array().unwrap().len(), 0, "nothing stored");
    let long_id = "z".repeat(10_000);
    let (st, p) = srv
        .call(Method::GET, &format!("/v1/agents/{long_id}"), &owner, None)
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(p["detail"].as_str().unwrap().chars().count() <= 201, "{p}");
    srv.shutdown().await;
}

#[tokio::test]
async fn the_served_spec_states_the_limits() {
    let srv = Server::start(false, &[], None).await;
    let (st, spec) = srv.call(Method::GET, "/openapi.json", "", None).await;
    assert_eq!(st, StatusCode::OK);
    let s = &spec["components"]["schemas"];
    assert_eq!(
        (
            s["Password"]["minLength"].as_u64(),
            s["Password"]["maxLength"].as_u64()
        ),
        (Some(12), Some(1024))
    );
    assert_eq!(
        (s["Name"]["minLength"].as_u64(), s["Name"]["maxLength"].as_u64()),
        (Some(1), Some(120))
    );
    assert!(s["Name"]["pattern"].as_str().unwrap().contains("u0000"));
    let p = &s["AgentSettings"]["properties"]["max_parallel_tool_calls"];
    assert_eq!(
        (p["minimum"].as_f64(), p["maximum"].as_f64()),
        (Some(1.0), Some(32.0))
    );
    assert_eq!(s["AgentSettings"]["additionalProperties"], json!(false));
    let register = &s["RegisterRequest"]["properties"];
    assert_eq!(register["password"]["$ref"], "#/components/schemas/Password");
    assert_eq!(register["organization_name"]["$ref"], "#/components/schemas/Name");
    srv.shutdown().await;
}
