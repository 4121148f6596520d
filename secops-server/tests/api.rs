//! The HTTP API end to end, on both backends: auth, tokens, RBAC, tenancy, bad input, the spec.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use secops_server::state::AppState;

mod support;

struct Server {
    app: Router,
    backend: support::Backend,
    name: &'static str,
}

async fn servers() -> Vec<Server> {
    servers_with(None).await
}

async fn servers_with(
    provider: Option<std::sync::Arc<dyn secops_core::model::ModelProvider>>,
) -> Vec<Server> {
    backends(provider, &[false, true]).await
}

/// Only the embedded backend, for checks that do not depend on the database.
async fn sqlite_server() -> Server {
    backends(None, &[false]).await.remove(0)
}

async fn backends(
    provider: Option<std::sync::Arc<dyn secops_core::model::ModelProvider>>,
    which: &[bool],
) -> Vec<Server> {
    let mut out = Vec::new();
    for &postgres in which {
        let (backend, config) =
            support::backend(postgres, &[("SECOPS_MAX_BODY_BYTES", "65536".into())]).await;
        out.push(Server {
            app: secops_server::app(AppState::new(backend.store.clone(), config, provider.clone())),
            name: backend.name,
            backend,
        });
    }
    out
}

impl Server {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value, Option<String>) {
        let raw = body.map(|b| b.to_string().into_bytes());
        self.raw(method, path, token, raw, "application/json").await
    }

    async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
        content_type: &str,
    ) -> (StatusCode, Value, Option<String>) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(b))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        let (status, headers, json) = support::send(&self.app, req).await;
        let ctype = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (status, json, ctype)
    }

    async fn register(&self, org: &str) -> Value {
        let email = format!("{org}-{}@example.com", uuid::Uuid::now_v7().simple());
        let (s, body, _) = self
            .call(
                Method::POST,
                "/v1/auth/register",
                None,
                Some(json!({"email": email, "password": "correct horse battery", "organization_name": org})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let mut body = body;
        body["email"] = json!(email);
        body
    }

    async fn cleanup(self) {
        self.backend.cleanup().await;
    }
}

fn token(session: &Value) -> String {
    session["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn register_login_refresh_logout_and_me() {
    for srv in servers().await {
        let s = srv.register("Blue Team").await;
        let t = token(&s);
        let (st, me, _) = srv.call(Method::GET, "/v1/me", Some(&t), None).await;
        assert_eq!(st, StatusCode::OK, "{}", srv.name);
        assert_eq!(
            (me["role"].as_str(), me["kind"].as_str()),
            (Some("owner"), Some("user"))
        );
        assert_eq!(me["email"], s["email"]);

        let (st, login, _) = srv
            .call(
                Method::POST,
                "/v1/auth/login",
                None,
                Some(json!({"email": s["email"], "password": "correct horse battery"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(login["organization_id"], s["organization_id"]);
        let (st, bad, ctype) = srv
            .call(
                Method::POST,
                "/v1/auth/login",
                None,
                Some(json!({"email": s["email"], "password": "wrong password!!"})),
            )
            .await;
        assert_eq!(
            (st, bad["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthorized"))
        );
        assert_eq!(ctype.as_deref(), Some("application/problem+json"));
        let (st, nobody, _) = srv
            .call(
                Method::POST,
                "/v1/auth/login",
                None,
                Some(json!({"email": "nobody@example.com", "password": "whatever whatever"})),
            )
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert_eq!(nobody["detail"], bad["detail"], "no hint which part was wrong");

        let (st, r1, _) = srv
            .call(
                Method::POST,
                "/v1/auth/refresh",
                None,
                Some(json!({"refresh_token": s["refresh_token"]})),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        assert_ne!(r1["refresh_token"], s["refresh_token"]);
        let (st, _, _) = srv
            .call(
                Method::POST,
                "/v1/auth/refresh",
                None,
                Some(json!({"refresh_token": s["refresh_token"]})),
            )
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "a used refresh token is refused");
        let (st, _, _) = srv
            .call(
                Method::POST,
                "/v1/auth/refresh",
                None,
                Some(json!({"refresh_token": r1["refresh_token"]})),
            )
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "and reuse revoked the whole family");

        let (st, _, _) = srv.call(Method::POST, "/v1/auth/logout", Some(&t), None).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, weak, _) = srv
            .call(
                Method::POST,
                "/v1/auth/register",
                None,
                Some(json!({"email": "w@example.com", "password": "short", "organization_name": "W"})),
            )
            .await;
        assert_eq!(
            (st, weak["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"))
        );
        let (st, _, _) = srv.call(Method::POST, "/v1/auth/register", None, Some(json!({"email": s["email"], "password": "correct horse battery", "organization_name": "Again"}))).await;
        assert_eq!(st, StatusCode::CONFLICT, "the e-mail is taken");
        srv.cleanup().await;
    }
}

#[tokio::test]
async fn tokens_that_are_expired_tampered_or_unsigned_are_refused() {
    use jsonwebtoken::{EncodingKey, Header, encode};
    for srv in servers().await {
        let s = srv.register("Tokens").await;
        let t = token(&s);
        let parts: Vec<&str> = t.split('.').collect();
        let mut sig = parts[2].to_owned();
        let last = sig.pop().unwrap();
        sig.push(if last == 'A' { 'B' } else { 'A' });
        let tampered = format!("{}.{}.{sig}", parts[0], parts[1]);
        let none_header = base64url(br#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{none_header}.{}.", parts[1]);
        let claims = json!({"sub": "x", "org": s["organization_id"], "role": "owner", "iss": "secops", "iat": 1, "exp": 2});
        let expired_wrong_key = encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(b"not the server key"),
        )
        .unwrap();
        for bad in [
            tampered.as_str(),
            unsigned.as_str(),
            expired_wrong_key.as_str(),
            "garbage",
            "sk_000000000000_x",
        ] {
            let (st, body, _) = srv.call(Method::GET, "/v1/me", Some(bad), None).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{}: {bad}: {body}", srv.name);
        }
        srv.cleanup().await;
    }
}

fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[tokio::test]
async fn every_route_needs_credentials_except_the_public_ones() {
    let srv = sqlite_server().await;
    let (_, spec) = secops_server::routes();
    let spec = serde_json::to_value(&spec).unwrap();
    let public = [
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/auth/register",
        "/v1/auth/login",
        "/v1/auth/refresh",
        "/v1/auth/sso/{organization_id}/start",
        "/v1/auth/sso/callback",
        "/v1/server",
    ];
    let mut checked = 0;
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let concrete = path
                .replace("{id}", &uuid::Uuid::now_v7().to_string())
                .replace("{number}", "1")
                .replace("{user_id}", &uuid::Uuid::now_v7().to_string())
                .replace("{tool_call_id}", "call_1");
            let m: Method = method.to_uppercase().parse().unwrap();
            let body = matches!(m, Method::POST | Method::PATCH).then(|| json!({}));
            let (st, problem, _) = srv.call(m.clone(), &concrete, None, body).await;
            if public.contains(&path.as_str()) {
                assert_ne!(st, StatusCode::UNAUTHORIZED, "{method} {path} is public");
            } else {
                assert_eq!(
                    st,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} without credentials: {problem}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 12, "{checked}");
    let (st, body, _) = srv.call(Method::GET, "/v1/nope", None, None).await;
    assert_eq!(
        (st, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    srv.cleanup().await;
}

#[tokio::test]
async fn agents_crud_prompts_rbac_and_tenancy() {
    for srv in servers().await {
        let a = srv.register("Alpha").await;
        let b = srv.register("Bravo").await;
        let (ta, tb) = (token(&a), token(&b));
        // An agent may only name tools the server offers (this one offers none).
        let (st, unknown, _) = srv
            .call(Method::POST, "/v1/agents", Some(&ta), Some(json!({"name": "triage", "system_prompt": "You are a SOC analyst.", "tools": ["lookup_host"]})))
            .await;
        assert_eq!(
            (st, unknown["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_tool")),
            "{}",
            srv.name
        );
        let (st, agent, _) = srv
            .call(Method::POST, "/v1/agents", Some(&ta), Some(json!({"name": "triage", "system_prompt": "You are a SOC analyst.", "mode": "plan_and_execute", "tools": []})))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{}: {agent}", srv.name);
        assert_eq!(agent["config"]["mode"], "plan_and_execute");
        let id = agent["id"].as_str().unwrap().to_owned();
        let (st, dup, _) = srv
            .call(
                Method::POST,
                "/v1/agents",
                Some(&ta),
                Some(json!({"name": "triage", "system_prompt": "x"})),
            )
            .await;
        assert_eq!(
            (st, dup["code"].as_str()),
            (StatusCode::CONFLICT, Some("already_exists"))
        );

        let (st, v2, _) = srv
            .call(
                Method::POST,
                &format!("/v1/agents/{id}/prompts"),
                Some(&ta),
                Some(json!({"body": "Be careful.", "note": "tone"})),
            )
            .await;
        assert_eq!((st, v2["number"].as_i64()), (StatusCode::CREATED, Some(2)));
        let (st, activated, _) = srv
            .call(
                Method::POST,
                &format!("/v1/agents/{id}/prompts/2/activate"),
                Some(&ta),
                Some(json!({"agent_version": agent["version"]})),
            )
            .await;
        assert_eq!(
            (st, activated["active_prompt_version"].as_i64()),
            (StatusCode::OK, Some(2))
        );
        let (st, conflict, _) = srv
            .call(
                Method::PATCH,
                &format!("/v1/agents/{id}"),
                Some(&ta),
                Some(json!({"version": agent["version"], "enabled": false})),
            )
            .await;
        assert_eq!(
            (st, conflict["code"].as_str()),
            (StatusCode::CONFLICT, Some("version_conflict"))
        );
        let (st, prompts, _) = srv
            .call(
                Method::GET,
                &format!("/v1/agents/{id}/prompts?limit=1"),
                Some(&ta),
                None,
            )
            .await;
        assert_eq!(
            (st, prompts["items"].as_array().unwrap().len()),
            (StatusCode::OK, 1)
        );
        assert!(prompts["next_cursor"].is_string());
        let (st, diff, _) = srv
            .call(
                Method::GET,
                &format!("/v1/agents/{id}/prompts/diff?from=1&to=2"),
                Some(&ta),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{diff}");
        assert_eq!(
            diff["unified"],
            "--- v1\n+++ v2\n@@ -1 +1 @@\n-You are a SOC analyst.\n\\ No newline at end of file\n+Be careful.\n\\ No newline at end of file\n"
        );
        assert_eq!(
            diff["changes"][0],
            json!({"op": "delete", "text": "You are a SOC analyst."})
        );
        let (st, _, _) = srv
            .call(
                Method::GET,
                &format!("/v1/agents/{id}/prompts/diff?from=1&to=9"),
                Some(&ta),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // Another organisation: 404 everywhere.
        for (m, path, body) in [
            (Method::GET, format!("/v1/agents/{id}"), None),
            (
                Method::PATCH,
                format!("/v1/agents/{id}"),
                Some(json!({"version": activated["version"], "name": "pwned"})),
            ),
            (
                Method::DELETE,
                format!("/v1/agents/{id}?version={}", activated["version"]),
                None,
            ),
            (Method::GET, format!("/v1/agents/{id}/prompts"), None),
            (
                Method::GET,
                format!("/v1/agents/{id}/prompts/diff?from=1&to=2"),
                None,
            ),
            (
                Method::POST,
                format!("/v1/agents/{id}/prompts"),
                Some(json!({"body": "pwned"})),
            ),
            (
                Method::POST,
                format!("/v1/agents/{id}/prompts/1/activate"),
                Some(json!({"agent_version": activated["version"]})),
            ),
        ] {
            let (st, body, _) = srv.call(m.clone(), &path, Some(&tb), body).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{}: {m} {path}: {body}", srv.name);
        }
        let (_, listed, _) = srv.call(Method::GET, "/v1/agents", Some(&tb), None).await;
        assert!(listed["items"].as_array().unwrap().is_empty());

        // A viewer key can read but not write; a key can never outrank its creator.
        let (st, key, _) = srv
            .call(
                Method::POST,
                "/v1/api-keys",
                Some(&ta),
                Some(json!({"name": "dashboard", "role": "viewer"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{key}");
        let viewer = key["secret"].as_str().unwrap().to_owned();
        let (st, _, _) = srv.call(Method::GET, "/v1/agents", Some(&viewer), None).await;
        assert_eq!(st, StatusCode::OK);
        for (m, path, body) in [
            (
                Method::POST,
                "/v1/agents".to_owned(),
                Some(json!({"name": "x", "system_prompt": "x"})),
            ),
            (
                Method::PATCH,
                format!("/v1/agents/{id}"),
                Some(json!({"version": 1})),
            ),
            (Method::DELETE, format!("/v1/agents/{id}?version=1"), None),
            (
                Method::POST,
                format!("/v1/agents/{id}/prompts"),
                Some(json!({"body": "x"})),
            ),
            (Method::GET, "/v1/api-keys".to_owned(), None),
            (
                Method::POST,
                "/v1/api-keys".to_owned(),
                Some(json!({"name": "x"})),
            ),
        ] {
            let (st, body, _) = srv.call(m.clone(), &path, Some(&viewer), body).await;
            assert_eq!(
                (st, body["code"].as_str()),
                (StatusCode::FORBIDDEN, Some("forbidden")),
                "{m} {path}"
            );
        }
        let (_, keys, _) = srv.call(Method::GET, "/v1/api-keys", Some(&ta), None).await;
        assert!(
            !keys.to_string().contains(&viewer[16..]),
            "secrets are never listed"
        );
        let key_id = key["key"]["id"].as_str().unwrap();
        let (st, _, _) = srv
            .call(Method::DELETE, &format!("/v1/api-keys/{key_id}"), Some(&tb), None)
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _, _) = srv
            .call(Method::DELETE, &format!("/v1/api-keys/{key_id}"), Some(&ta), None)
            .await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, _, _) = srv.call(Method::GET, "/v1/agents", Some(&viewer), None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "a revoked key stops working");

        let (st, _, _) = srv
            .call(
                Method::DELETE,
                &format!("/v1/agents/{id}?version={}", activated["version"]),
                Some(&ta),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        srv.cleanup().await;
    }
}

/// A minimal instance of a request schema of the spec: every required property with a value of its type, so
/// the body passes parsing and the handler's permission check is what answers.
fn minimal_instance(spec: &Value, schema: &Value) -> Value {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return minimal_instance(spec, &spec["components"]["schemas"][name]);
    }
    if let Some(first) = schema["oneOf"].as_array().and_then(|v| v.first()) {
        return minimal_instance(spec, first);
    }
    if let Some(first) = schema["enum"].as_array().and_then(|v| v.first()) {
        return first.clone();
    }
    let ty = match &schema["type"] {
        Value::Array(types) => types
            .iter()
            .find(|t| *t != "null")
            .cloned()
            .unwrap_or(Value::Null),
        other => other.clone(),
    };
    match (ty.as_str(), schema["format"].as_str()) {
        (Some("string"), Some("uuid")) => json!(uuid::Uuid::now_v7()),
        (Some("string"), Some("date-time")) => json!("2030-01-01T00:00:00Z"),
        // The smallest string the schema's own limits allow (an address where the pattern asks for one).
        (Some("string"), _) if schema["pattern"].as_str().is_some_and(|p| p.contains('@')) => {
            json!("x@example.com")
        }
        (Some("string"), _) => {
            json!("x".repeat(usize::try_from(schema["minLength"].as_u64().unwrap_or(1).max(1)).unwrap()))
        }
        (Some("integer" | "number"), _) => json!(1),
        (Some("boolean"), _) => json!(true),
        (Some("array"), _) => json!([]),
        _ => {
            let mut out = serde_json::Map::new();
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap();
                out.insert(
                    name.to_owned(),
                    minimal_instance(spec, &schema["properties"][name]),
                );
            }
            Value::Object(out)
        }
    }
}

/// Every operation of the spec, with its path made concrete (random ids, so nothing real is touched), and a
/// minimal JSON body when it takes one.
fn spec_operations() -> Vec<(Method, String, String, Option<Value>)> {
    let (_, spec) = secops_server::routes();
    let spec = serde_json::to_value(&spec).unwrap();
    let mut out = Vec::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let concrete = path
                .replace("{id}", &uuid::Uuid::now_v7().to_string())
                .replace("{attachment_id}", &uuid::Uuid::now_v7().to_string())
                .replace("{organization_id}", &uuid::Uuid::now_v7().to_string())
                .replace("{number}", "1")
                .replace("{user_id}", &uuid::Uuid::now_v7().to_string())
                .replace("{tool_call_id}", "call_1");
            // Required query parameters, with values of their type.
            let query: Vec<String> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query" && p["required"] == true)
                .map(|p| {
                    let v = minimal_instance(&spec, &p["schema"]);
                    format!(
                        "{}={}",
                        p["name"].as_str().unwrap(),
                        v.as_str().map_or(v.to_string(), str::to_owned)
                    )
                })
                .collect();
            let concrete = if query.is_empty() {
                concrete
            } else {
                format!("{concrete}?{}", query.join("&"))
            };
            let m: Method = method.to_uppercase().parse().unwrap();
            let body = op["requestBody"]["content"].as_object().map(|content| {
                match content.get("application/json") {
                    Some(json_body) => minimal_instance(&spec, &json_body["schema"]),
                    None => json!({}),
                }
            });
            out.push((m, path.clone(), concrete, body));
        }
    }
    out
}

/// What a read-only (viewer) key may call. Every route of the spec must be in this list or be refused with 403,
/// so a new route cannot slip through without a decision here.
const VIEWER_MAY: &[&str] = &[
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
    "POST /v1/auth/register",
    "POST /v1/auth/login",
    "POST /v1/auth/refresh",
    "POST /v1/auth/logout",
    "GET /v1/auth/sso/{organization_id}/start",
    "GET /v1/auth/sso/callback",
    "GET /v1/me",
    "GET /v1/server",
    "GET /v1/agents",
    "GET /v1/agents/{id}",
    "GET /v1/agents/{id}/prompts",
    "GET /v1/agents/{id}/prompts/diff",
    "GET /v1/runs",
    "GET /v1/runs/{id}",
    "GET /v1/runs/{id}/events",
    "GET /v1/approvals",
    "GET /v1/members",
    "GET /v1/tools",
    "GET /v1/tool-configs",
    "GET /v1/tool-configs/{id}",
    "GET /v1/detections",
    "GET /v1/detections/{id}",
    "GET /v1/detection-rules",
    "GET /v1/detection-rules/{id}",
    "GET /v1/coverage",
    "GET /v1/coverage/navigator",
    "GET /v1/agents/{id}/triggers",
];

#[tokio::test]
async fn a_viewer_key_is_refused_every_route_that_needs_more() {
    let srv = sqlite_server().await;
    let owner = token(&srv.register("Viewers").await);
    let (st, key, _) = srv
        .call(
            Method::POST,
            "/v1/api-keys",
            Some(&owner),
            Some(json!({"name": "dashboard", "role": "viewer"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{key}");
    let viewer = key["secret"].as_str().unwrap().to_owned();
    let mut refused = 0;
    for (m, pattern, concrete, body) in spec_operations() {
        let name = format!("{m} {pattern}");
        let (st, problem, _) = srv.call(m.clone(), &concrete, Some(&viewer), body).await;
        if VIEWER_MAY.contains(&name.as_str()) {
            assert_ne!(st, StatusCode::FORBIDDEN, "{name}: {problem}");
        } else {
            assert_eq!(
                (st, problem["code"].as_str()),
                (StatusCode::FORBIDDEN, Some("forbidden")),
                "{name} with a viewer key"
            );
            refused += 1;
        }
    }
    assert!(refused >= 25, "{refused}");
    srv.cleanup().await;
}

#[tokio::test]
async fn every_route_with_a_body_refuses_bad_bodies_with_a_4xx_problem() {
    let srv = sqlite_server().await;
    let t = token(&srv.register("Bodies").await);
    let mut checked = 0;
    for (m, pattern, concrete, body) in spec_operations() {
        if body.is_none() {
            continue;
        }
        let cases: [(Vec<u8>, &str); 5] = [
            (b"{not json".to_vec(), "application/json"),
            (
                br#"{"name": 5, "text": [], "email": 1, "input": 2, "body": 3, "decision": 4, "issuer": 6}"#
                    .to_vec(),
                "application/json",
            ),
            (br#"{"surprise": true}"#.to_vec(), "application/json"),
            (
                format!("{{\"name\": \"{}\"}}", "x".repeat(70_000)).into_bytes(),
                "application/json",
            ),
            (b"name=x".to_vec(), "application/x-www-form-urlencoded"),
        ];
        for (i, (body, ctype)) in cases.into_iter().enumerate() {
            // Events are free-form JSON objects: any fields, any types, are a valid event (their own bad
            // input, malformed lines and non-objects, is checked in tests/detections.rs).
            if pattern == "/v1/events" && (i == 1 || i == 2) {
                continue;
            }
            let (st, problem, content_type) =
                srv.raw(m.clone(), &concrete, Some(&t), Some(body), ctype).await;
            assert!(
                st.is_client_error(),
                "{m} {pattern} ({ctype}) gave {st}: {problem}"
            );
            assert_eq!(
                content_type.as_deref(),
                Some("application/problem+json"),
                "{m} {pattern}: {problem}"
            );
            assert!(problem["code"].is_string(), "{m} {pattern}");
        }
        checked += 1;
    }
    assert!(checked >= 15, "{checked}");
    // The session still works: nothing above changed anything.
    let (st, _, _) = srv.call(Method::GET, "/v1/me", Some(&t), None).await;
    assert_eq!(st, StatusCode::OK);
    srv.cleanup().await;
}

#[tokio::test]
async fn bad_input_is_always_a_4xx_problem() {
    for srv in servers().await {
        let a = srv.register("Input").await;
        let t = token(&a);
        let posts = [
            "/v1/agents",
            "/v1/api-keys",
            "/v1/auth/register",
            "/v1/auth/login",
            "/v1/auth/refresh",
        ];
        for path in posts {
            let cases: [(Option<Vec<u8>>, &str); 5] = [
                (Some(b"{not json".to_vec()), "application/json"),
                (Some(br#"{"name": 5, "system_prompt": [], "email": 1, "password": 2, "organization_name": 3, "refresh_token": 4}"#.to_vec()), "application/json"),
                (Some(br#"{"surprise": true}"#.to_vec()), "application/json"),
                (Some(format!("{{\"name\": \"{}\"}}", "x".repeat(70_000)).into_bytes()), "application/json"),
                (Some(b"name=x".to_vec()), "application/x-www-form-urlencoded"),
            ];
            for (body, ctype) in cases {
                let (st, problem, content_type) = srv.raw(Method::POST, path, Some(&t), body, ctype).await;
                assert!(
                    st.is_client_error(),
                    "{}: POST {path} ({ctype}) gave {st}: {problem}",
                    srv.name
                );
                assert_eq!(
                    content_type.as_deref(),
                    Some("application/problem+json"),
                    "POST {path}: {problem}"
                );
                assert!(problem["code"].is_string());
            }
        }
        let (st, p, _) = srv
            .call(Method::GET, "/v1/agents/not-a-uuid", Some(&t), None)
            .await;
        assert_eq!(
            (st, p["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_path"))
        );
        let (st, p, _) = srv
            .call(Method::GET, "/v1/agents?limit=many", Some(&t), None)
            .await;
        assert_eq!(
            (st, p["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_query"))
        );
        let (st, p, _) = srv
            .call(Method::GET, "/v1/agents?cursor=zzz", Some(&t), None)
            .await;
        assert_eq!(
            (st, p["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_input"))
        );
        srv.cleanup().await;
    }
}

#[tokio::test]
async fn health_and_the_checked_in_spec() {
    let srv = sqlite_server().await;
    let res = srv
        .app
        .clone()
        .oneshot(Request::builder().uri("/healthz").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert!(
        res.headers().get("x-request-id").is_some_and(|v| v.len() >= 32),
        "a request id is issued"
    );
    let res = srv
        .app
        .clone()
        .oneshot(
            Request::builder()
                .uri("/healthz")
                .header("x-request-id", "case-4711")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        res.headers()["x-request-id"],
        "case-4711",
        "and a client's is kept"
    );
    let (st, _, _) = srv.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _, _) = srv.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, served, _) = srv.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(st, StatusCode::OK);
    // Interactive docs with no internet: the page and its assets come from the binary.
    let (st, page, ctype) = srv.call(Method::GET, "/docs/", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(ctype.unwrap_or_default().starts_with("text/html"));
    let page = page.as_str().unwrap();
    assert!(
        page.contains("swagger-ui") && !page.contains("https://"),
        "{page}"
    );
    for asset in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-initializer.js",
    ] {
        let (st, body, _) = srv.call(Method::GET, asset, None, None).await;
        assert_eq!(st, StatusCode::OK, "{asset}");
        if asset.ends_with("initializer.js") {
            assert!(body.as_str().unwrap().contains("/openapi.json"), "{body}");
        }
    }
    let (st, metrics, _) = srv.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(st, StatusCode::OK);
    let text = metrics.as_str().unwrap();
    assert!(
        text.contains("http_requests_total") && text.contains("route=\"/healthz\""),
        "{text}"
    );
    assert!(text.contains("http_request_duration_seconds"));
    let checked_in: Value = serde_json::from_str(include_str!("../openapi.json")).unwrap();
    assert_eq!(
        served, checked_in,
        "regenerate with: cargo run -p secops-server -- openapi > secops-server/openapi.json"
    );
    srv.cleanup().await;
}

#[tokio::test]
async fn mutating_calls_and_logins_land_in_the_audit_log() {
    for srv in servers().await {
        let a = srv.register("Audited").await;
        let b = srv.register("Other").await;
        let t = token(&a);
        let (st, agent, _) = srv
            .call(
                Method::POST,
                "/v1/agents",
                Some(&t),
                Some(json!({"name": "triage", "system_prompt": "p"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
        let (_, key, _) = srv
            .call(
                Method::POST,
                "/v1/api-keys",
                Some(&t),
                Some(json!({"name": "ro", "role": "viewer"})),
            )
            .await;
        let viewer = key["secret"].as_str().unwrap().to_owned();
        let (st, _, _) = srv
            .call(
                Method::POST,
                "/v1/agents",
                Some(&viewer),
                Some(json!({"name": "x", "system_prompt": "p"})),
            )
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _, _) = srv
            .call(
                Method::POST,
                "/v1/auth/login",
                None,
                Some(json!({"email": a["email"], "password": "correct horse battery"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK);

        let (st, page, _) = srv
            .call(Method::GET, "/v1/audit-events?limit=50", Some(&t), None)
            .await;
        assert_eq!(st, StatusCode::OK, "{}: {page}", srv.name);
        let actions: Vec<(String, String)> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["action"].as_str().unwrap().to_owned(),
                    e["outcome"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for expected in [
            ("POST /v1/auth/register", "success"),
            ("POST /v1/agents", "success"),
            ("POST /v1/api-keys", "success"),
            ("POST /v1/agents", "denied"),
            ("POST /v1/auth/login", "success"),
        ] {
            assert!(
                actions.contains(&(expected.0.to_owned(), expected.1.to_owned())),
                "{}: missing {expected:?} in {actions:?}",
                srv.name
            );
        }
        let created = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "POST /v1/agents" && e["outcome"] == "success")
            .unwrap();
        assert_eq!(created["resource_kind"], "agents");
        assert_eq!(
            created["resource_id"], agent["id"],
            "a create records the new resource's id"
        );
        assert!(created["user_agent"].is_null() || created["user_agent"].is_string());
        let (st, denied, _) = srv
            .call(Method::GET, "/v1/audit-events?outcome=denied", Some(&t), None)
            .await;
        assert_eq!(
            (st, denied["items"].as_array().unwrap().len()),
            (StatusCode::OK, 1)
        );

        let (st, ndjson, ctype) = srv
            .call(Method::GET, "/v1/audit-events/export", Some(&t), None)
            .await;
        assert_eq!(
            (st, ctype.as_deref()),
            (StatusCode::OK, Some("application/x-ndjson"))
        );
        let lines = ndjson.as_str().unwrap().lines().count();
        assert_eq!(lines, actions.len());
        let (st, v, _) = srv
            .call(Method::GET, "/v1/audit-events/verify", Some(&t), None)
            .await;
        assert_eq!((st, v["intact"].as_bool()), (StatusCode::OK, Some(true)));

        // Other organisations see only their own trail; viewers and analysts may not read it at all.
        let (_, other, _) = srv
            .call(Method::GET, "/v1/audit-events", Some(&token(&b)), None)
            .await;
        assert!(
            other["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["resource_id"] != agent["id"])
        );
        assert_eq!(
            other["items"].as_array().unwrap().len(),
            1,
            "only bravo's registration"
        );
        let (st, _, _) = srv
            .call(Method::GET, "/v1/audit-events", Some(&viewer), None)
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _, _) = srv
            .call(Method::GET, "/v1/audit-events?outcome=sideways", Some(&t), None)
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        srv.cleanup().await;
    }
}

#[tokio::test]
async fn members_and_invitations() {
    for srv in servers().await {
        let a = srv.register("Alpha").await;
        let bob = srv.register("Bobs").await;
        let ta = token(&a);
        let (st, inv, _) = srv
            .call(
                Method::POST,
                "/v1/invitations",
                Some(&ta),
                Some(json!({"email": bob["email"], "role": "admin"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{}: {inv}", srv.name);
        let invite_token = inv["token"].as_str().unwrap().to_owned();
        let (_, listed, _) = srv.call(Method::GET, "/v1/invitations", Some(&ta), None).await;
        assert!(
            listed["items"][0].get("token").is_none(),
            "the token is shown only once"
        );
        let (st, joined, _) = srv
            .call(
                Method::POST,
                "/v1/invitations/accept",
                Some(&token(&bob)),
                Some(json!({"token": invite_token})),
            )
            .await;
        assert_eq!((st, joined["role"].as_str()), (StatusCode::OK, Some("admin")));
        let (st, _, _) = srv
            .call(
                Method::POST,
                "/v1/invitations/accept",
                Some(&token(&bob)),
                Some(json!({"token": invite_token})),
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "used once");

        let (_, members, _) = srv.call(Method::GET, "/v1/members", Some(&ta), None).await;
        assert_eq!(members["items"].as_array().unwrap().len(), 2);
        // Bob switches his session to Alpha with one call, and cannot switch into an organisation he is not in.
        let (st, switched, _) = srv
            .call(
                Method::POST,
                "/v1/auth/switch",
                Some(&token(&bob)),
                Some(json!({"organization_id": a["organization_id"]})),
            )
            .await;
        assert_eq!(
            (st, switched["role"].as_str()),
            (StatusCode::OK, Some("admin")),
            "{switched}"
        );
        assert_eq!(switched["organization_id"], a["organization_id"]);
        let (_, me, _) = srv
            .call(Method::GET, "/v1/me", Some(&token(&switched)), None)
            .await;
        assert_eq!(me["organization_id"], a["organization_id"]);
        let stranger = srv.register("Charlie").await;
        let (st, _, _) = srv
            .call(
                Method::POST,
                "/v1/auth/switch",
                Some(&token(&bob)),
                Some(json!({"organization_id": stranger["organization_id"]})),
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        // Bob, now an admin of Alpha, logs in there; admins cannot create owners or touch the owner.
        let (_, bob_alpha, _) = srv.call(Method::POST, "/v1/auth/login", None, Some(json!({"email": bob["email"], "password": "correct horse battery", "organization_id": a["organization_id"]}))).await;
        let tb = token(&bob_alpha);
        assert_eq!(bob_alpha["role"], "admin");
        let owner_id = srv.call(Method::GET, "/v1/me", Some(&ta), None).await.1["user_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (st, _, _) = srv
            .call(
                Method::DELETE,
                &format!("/v1/members/{owner_id}"),
                Some(&tb),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _, _) = srv
            .call(
                Method::POST,
                "/v1/invitations",
                Some(&tb),
                Some(json!({"email": "x@example.com", "role": "owner"})),
            )
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        // The owner cannot remove themselves while they are the last owner.
        let (st, p, _) = srv
            .call(
                Method::DELETE,
                &format!("/v1/members/{owner_id}"),
                Some(&ta),
                None,
            )
            .await;
        assert_eq!(
            (st, p["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_input"))
        );
        // Bob's own organisation cannot see or change Alpha's members.
        let (st, _, _) = srv
            .call(
                Method::PATCH,
                &format!("/v1/members/{owner_id}"),
                Some(&token(&bob)),
                Some(json!({"role": "viewer", "version": 1})),
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let bob_id = joined["user_id"].as_str().unwrap().to_owned();
        let (st, changed, _) = srv
            .call(
                Method::PATCH,
                &format!("/v1/members/{bob_id}"),
                Some(&ta),
                Some(json!({"role": "viewer", "version": joined["version"]})),
            )
            .await;
        assert_eq!((st, changed["role"].as_str()), (StatusCode::OK, Some("viewer")));
        let (st, _, _) = srv.call(Method::GET, "/v1/members", Some(&tb), None).await;
        assert_eq!(
            st,
            StatusCode::OK,
            "the demoted admin's old token now acts as a viewer"
        );
        let (st, _, _) = srv
            .call(
                Method::POST,
                "/v1/invitations",
                Some(&tb),
                Some(json!({"email": "y@example.com", "role": "viewer"})),
            )
            .await;
        assert_eq!(
            st,
            StatusCode::FORBIDDEN,
            "roles come from the membership, not the token"
        );
        let (st, _, _) = srv
            .call(Method::DELETE, &format!("/v1/members/{bob_id}"), Some(&ta), None)
            .await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, _, _) = srv.call(Method::GET, "/v1/members", Some(&tb), None).await;
        assert_eq!(
            st,
            StatusCode::UNAUTHORIZED,
            "a removed member loses access at once"
        );
        srv.cleanup().await;
    }
}

async fn sse_body(srv: &Server, path: &str, token: &str, last_event_id: Option<&str>) -> String {
    let mut req = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(id) = last_event_id {
        req = req.header("last-event-id", id);
    }
    let res = srv
        .app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "text/event-stream");
    let bytes = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        axum::body::to_bytes(res.into_body(), 1 << 22),
    )
    .await
    .unwrap()
    .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn runs_start_stream_resume_and_refuse_other_orgs() {
    use secops_core::model::{ScriptedProvider, ScriptedTurn};
    let provider = std::sync::Arc::new(
        ScriptedProvider::new(vec![ScriptedTurn::text("ws-042 shows no sign of compromise.")]).cycled(),
    );
    for srv in servers_with(Some(provider.clone())).await {
        let a = srv.register("Runs").await;
        let b = srv.register("Other").await;
        let t = token(&a);
        let (_, agent, _) = srv
            .call(
                Method::POST,
                "/v1/agents",
                Some(&t),
                Some(json!({"name": "triage", "system_prompt": "Triage."})),
            )
            .await;
        let id = agent["id"].as_str().unwrap();
        let (st, run, _) = srv
            .call(
                Method::POST,
                &format!("/v1/agents/{id}/runs"),
                Some(&t),
                Some(json!({"input": "Is ws-042 compromised?"})),
            )
            .await;
        assert_eq!(st, StatusCode::ACCEPTED, "{}: {run}", srv.name);
        let run_id = run["id"].as_str().unwrap().to_owned();

        // The stream ends once the run has ended and every event was sent.
        let body = sse_body(&srv, &format!("/v1/runs/{run_id}/events"), &t, None).await;
        assert!(
            body.contains("event: run_started") && body.contains("event: finished"),
            "{}: {body}",
            srv.name
        );
        assert!(body.contains("ws-042 shows no sign"));
        let ids: Vec<u64> = body
            .lines()
            .filter_map(|l| l.strip_prefix("id: "))
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(
            ids,
            (1..=ids.len() as u64).collect::<Vec<_>>(),
            "every event once, in order"
        );
        let resumed = sse_body(&srv, &format!("/v1/runs/{run_id}/events"), &t, Some("3")).await;
        let resumed_ids: Vec<u64> = resumed
            .lines()
            .filter_map(|l| l.strip_prefix("id: "))
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(resumed_ids.first(), Some(&4), "Last-Event-ID resumes after it");

        let (st, done, _) = srv
            .call(Method::GET, &format!("/v1/runs/{run_id}"), Some(&t), None)
            .await;
        assert_eq!((st, done["status"].as_str()), (StatusCode::OK, Some("finished")));
        assert_eq!(done["output"]["stop_reason"], "completed");
        let (_, listed, _) = srv
            .call(
                Method::GET,
                &format!("/v1/runs?agent_id={id}&status=finished"),
                Some(&t),
                None,
            )
            .await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
        let (st, p, _) = srv
            .call(Method::POST, &format!("/v1/runs/{run_id}/cancel"), Some(&t), None)
            .await;
        assert_eq!(
            (st, p["code"].as_str()),
            (StatusCode::CONFLICT, Some("run_ended"))
        );

        let tb = token(&b);
        for (m, path) in [
            (Method::GET, format!("/v1/runs/{run_id}")),
            (Method::GET, format!("/v1/runs/{run_id}/events")),
            (Method::POST, format!("/v1/runs/{run_id}/cancel")),
            (Method::POST, format!("/v1/agents/{id}/runs")),
        ] {
            let body = (m == Method::POST && path.ends_with("/runs")).then(|| json!({"input": "x"}));
            let (st, _, _) = srv.call(m.clone(), &path, Some(&tb), body).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{m} {path}");
        }
        let (st, p, _) = srv
            .call(Method::GET, &format!("/v1/runs/{run_id}/events"), Some(&t), None)
            .await;
        assert_eq!(st, StatusCode::OK, "{p}");
        srv.cleanup().await;
    }
}

#[tokio::test]
async fn without_a_model_provider_runs_answer_503_and_everything_else_works() {
    for srv in servers().await {
        let a = srv.register("NoModel").await;
        let t = token(&a);
        let (_, agent, _) = srv
            .call(
                Method::POST,
                "/v1/agents",
                Some(&t),
                Some(json!({"name": "triage", "system_prompt": "Triage."})),
            )
            .await;
        let (st, p, _) = srv
            .call(
                Method::POST,
                &format!("/v1/agents/{}/runs", agent["id"].as_str().unwrap()),
                Some(&t),
                Some(json!({"input": "x"})),
            )
            .await;
        assert_eq!(
            (st, p["code"].as_str()),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Some("model_provider_unavailable")
            )
        );
        assert!(p["detail"].as_str().unwrap().contains("ANTHROPIC_API_KEY"));
        let (_, runs, _) = srv.call(Method::GET, "/v1/runs", Some(&t), None).await;
        assert!(
            runs["items"].as_array().unwrap().is_empty(),
            "nothing half-created"
        );
        srv.cleanup().await;
    }
}

#[tokio::test]
async fn chat_turns_stream_and_keep_history() {
    use secops_core::model::{ScriptedProvider, ScriptedTurn};
    let provider = std::sync::Arc::new(
        ScriptedProvider::new(vec![ScriptedTurn::text("Checked: nothing suspicious.")])
            .cycled()
            .recording(),
    );
    for srv in servers_with(Some(provider.clone())).await {
        let a = srv.register("Chatty").await;
        let b = srv.register("Other").await;
        let t = token(&a);
        let (_, agent, _) = srv
            .call(
                Method::POST,
                "/v1/agents",
                Some(&t),
                Some(json!({"name": "triage", "system_prompt": "Triage."})),
            )
            .await;
        let (st, chat, _) = srv
            .call(
                Method::POST,
                "/v1/chats",
                Some(&t),
                Some(json!({"agent_id": agent["id"], "title": "ws-042"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{}: {chat}", srv.name);
        let chat_id = chat["id"].as_str().unwrap().to_owned();
        let (st, sent, _) = srv
            .call(
                Method::POST,
                &format!("/v1/chats/{chat_id}/messages"),
                Some(&t),
                Some(json!({"text": "Is ws-042 compromised?"})),
            )
            .await;
        assert_eq!(st, StatusCode::ACCEPTED, "{sent}");
        let mut answered = Value::Null;
        for _ in 0..100 {
            let (_, msgs, _) = srv
                .call(
                    Method::GET,
                    &format!("/v1/chats/{chat_id}/messages"),
                    Some(&t),
                    None,
                )
                .await;
            if msgs["items"].as_array().unwrap().len() == 2 {
                answered = msgs;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(
            answered["items"][1]["role"], "assistant",
            "{}: {answered}",
            srv.name
        );
        assert_eq!(answered["items"][1]["text"], "Checked: nothing suspicious.");

        // The second turn streams, and the model sees the first exchange.
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("/v1/chats/{chat_id}/messages"))
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .header(header::ACCEPT, "text/event-stream")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({"text": "And ws-043?"}).to_string()))
            .unwrap();
        let res = srv.app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.headers()[header::CONTENT_TYPE], "text/event-stream");
        let run_id = res.headers()["x-run-id"].to_str().unwrap().to_owned();
        let body = String::from_utf8(
            axum::body::to_bytes(res.into_body(), 1 << 22)
                .await
                .unwrap()
                .to_vec(),
        )
        .unwrap();
        assert!(
            body.contains(&format!("\"run_id\":\"{run_id}\"")),
            "the header names the streamed run: {body}"
        );
        assert!(
            body.contains("event: text_delta") && body.contains("event: finished"),
            "{body}"
        );
        let seen = provider
            .requests()
            .last()
            .unwrap()
            .messages
            .iter()
            .map(|m| m.text())
            .collect::<Vec<_>>();
        assert_eq!(
            seen,
            vec![
                "Is ws-042 compromised?",
                "Checked: nothing suspicious.",
                "And ws-043?"
            ]
        );

        let assistant_id = answered["items"][1]["id"].as_str().unwrap();
        let (st, _, _) = srv
            .call(
                Method::POST,
                "/v1/feedback",
                Some(&t),
                Some(json!({"target": "message", "target_id": assistant_id, "rating": 1})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
        let tb = token(&b);
        let (st, _, _) = srv
            .call(
                Method::POST,
                "/v1/feedback",
                Some(&tb),
                Some(json!({"target": "message", "target_id": assistant_id, "rating": -1})),
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        for (m, path, body) in [
            (Method::GET, format!("/v1/chats/{chat_id}"), None),
            (Method::GET, format!("/v1/chats/{chat_id}/messages"), None),
            (
                Method::POST,
                format!("/v1/chats/{chat_id}/messages"),
                Some(json!({"text": "hi"})),
            ),
            (Method::DELETE, format!("/v1/chats/{chat_id}"), None),
        ] {
            let (st, _, _) = srv.call(m.clone(), &path, Some(&tb), body).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{m} {path}");
        }
        let (st, _, _) = srv
            .call(
                Method::POST,
                "/v1/chats",
                Some(&tb),
                Some(json!({"agent_id": agent["id"]})),
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "another org's agent");
        let (st, _, _) = srv
            .call(Method::DELETE, &format!("/v1/chats/{chat_id}"), Some(&t), None)
            .await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        srv.cleanup().await;
    }
}

#[tokio::test]
async fn repeated_failed_logins_are_throttled() {
    let srv = sqlite_server().await;
    let a = srv.register("Throttle").await;
    for _ in 0..10 {
        let (st, _, _) = srv
            .call(
                Method::POST,
                "/v1/auth/login",
                None,
                Some(json!({"email": a["email"], "password": "not the password"})),
            )
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    let (st, p, _) = srv
        .call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"email": a["email"], "password": "correct horse battery"})),
        )
        .await;
    assert_eq!(
        (st, p["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")),
        "even the right password waits"
    );
    srv.cleanup().await;
}
