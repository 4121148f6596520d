//! OpenID Connect single sign-on end to end, on both backends, against a fake identity provider: an axum server
//! on 127.0.0.1 serving discovery, a key set and a token endpoint that checks what a real provider checks
//! (grant type, code, client authentication, redirect URI, PKCE). The test plays the browser: it calls the
//! start route, reads the authorisation URL from `Location`, and calls the callback with a code the fake
//! provider will accept. No network beyond loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use openidconnect::core::CoreRsaPrivateSigningKey;
use openidconnect::url::Url;
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
mod support;

use secops_server::state::AppState;
use secops_store::{ConnectOptions, Store};

/// Test-only RSA keys (generated for these tests, never used anywhere else): the provider signs with the first;
/// the second plays a forger.
const TEST_KEY: &str = include_str!("fixtures/oidc-test-key-1.pem");
const FORGER_KEY: &str = include_str!("fixtures/oidc-test-key-2.pem");
const PUBLIC_URL: &str = "http://secops.test";
const CALLBACK: &str = "http://secops.test/v1/auth/sso/callback";
const FRONT_END: &str = "https://console.secops.test";

// ---------------------------------------------------------------------------------------------------------------
// The fake identity provider.

/// What the token endpoint accepts for one code, and what it answers.
#[derive(Clone)]
struct Grant {
    challenge: String,
    redirect_uri: String,
    client_id: String,
    client_secret: String,
    id_token: String,
}

#[derive(Default)]
struct IdpState {
    issuer: String,
    jwks: Value,
    /// Answer discovery with a redirect (to a path that serves the real document).
    redirect_discovery: bool,
    /// Pad the key set beyond the server's response size cap.
    huge_jwks: bool,
    /// Code -> grant; a code works once.
    codes: HashMap<String, Grant>,
    /// Serve a broken discovery document.
    malformed_discovery: bool,
    /// Answer the token request with this status and an OAuth error.
    token_status: Option<StatusCode>,
    /// `token_endpoint_auth_methods_supported`; client authentication must use the first.
    auth_methods: Vec<&'static str>,
    /// How many token requests arrived.
    token_requests: usize,
}

struct Idp {
    issuer: String,
    state: Arc<Mutex<IdpState>>,
    jwks: Value,
    _server: tokio::task::JoinSet<()>,
}

fn jwk(pem: &str, kid: &str) -> Value {
    let key = CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.into()))).unwrap();
    let mut jwk = serde_json::to_value(key.as_verification_key()).unwrap();
    jwk["alg"] = json!("RS256");
    jwk["use"] = json!("sig");
    jwk
}

fn form(body: &[u8]) -> HashMap<String, String> {
    openidconnect::url::form_urlencoded::parse(body)
        .into_owned()
        .collect()
}

fn oauth_error(status: StatusCode, error: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (status, axum::Json(json!({"error": error}))).into_response()
}

type IdpHandle = axum::extract::State<Arc<Mutex<IdpState>>>;

async fn discovery(state: IdpHandle) -> axum::response::Response {
    use axum::response::IntoResponse;
    if state.0.lock().unwrap().redirect_discovery {
        return (StatusCode::FOUND, [(header::LOCATION, "/.well-known/moved")]).into_response();
    }
    discovery_document(state).await
}

async fn discovery_document(axum::extract::State(idp): IdpHandle) -> axum::response::Response {
    use axum::response::IntoResponse;
    let s = idp.lock().unwrap();
    let issuer = &s.issuer;
    let body = if s.malformed_discovery {
        format!("{{\"issuer\": \"{issuer}\", \"authorization_endpoint\": ")
    } else {
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{issuer}/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": s.auth_methods,
            "code_challenge_methods_supported": ["S256"],
        })
        .to_string()
    };
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn jwks_endpoint(axum::extract::State(idp): IdpHandle) -> axum::Json<Value> {
    let s = idp.lock().unwrap();
    let mut keys = s.jwks.clone();
    if s.huge_jwks {
        keys["padding"] = json!("x".repeat(300 * 1024));
    }
    axum::Json(keys)
}

async fn token_endpoint(
    axum::extract::State(idp): axum::extract::State<Arc<Mutex<IdpState>>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut state = idp.lock().unwrap();
    state.token_requests += 1;
    if let Some(status) = state.token_status {
        return oauth_error(status, "server_error");
    }
    let params = form(&body);
    let get = |k: &str| params.get(k).cloned().unwrap_or_default();
    if get("grant_type") != "authorization_code" {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let Some(grant) = state.codes.remove(&get("code")) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    // Client authentication the way discovery advertised it.
    let authenticated = if state.auth_methods.first() == Some(&"client_secret_post") {
        get("client_id") == grant.client_id
            && get("client_secret") == grant.client_secret
            && !headers.contains_key(header::AUTHORIZATION)
    } else {
        let expected = format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", grant.client_id, grant.client_secret))
        );
        headers
            .get(header::AUTHORIZATION)
            .is_some_and(|v| v.to_str().unwrap_or_default() == expected)
            && !params.contains_key("client_secret")
    };
    if !authenticated {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if get("redirect_uri") != grant.redirect_uri {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(get("code_verifier").as_bytes()));
    if challenge != grant.challenge {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(json!({
            "access_token": "idp-access-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": grant.id_token,
        })),
    )
        .into_response()
}

impl Idp {
    async fn start() -> Idp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let jwks = json!({"keys": [jwk(TEST_KEY, "k1")]});
        let state = Arc::new(Mutex::new(IdpState {
            issuer: issuer.clone(),
            jwks: jwks.clone(),
            auth_methods: vec!["client_secret_basic", "client_secret_post"],
            ..IdpState::default()
        }));
        let app = Router::new()
            .route("/.well-known/openid-configuration", axum::routing::get(discovery))
            .route("/.well-known/moved", axum::routing::get(discovery_document))
            .route("/jwks", axum::routing::get(jwks_endpoint))
            .route("/token", axum::routing::post(token_endpoint))
            .with_state(state.clone());
        // Owned by the provider value: the server stops when the test drops it.
        let mut server = tokio::task::JoinSet::new();
        server.spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Idp {
            issuer,
            state,
            jwks,
            _server: server,
        }
    }

    fn set(&self, f: impl FnOnce(&mut IdpState)) {
        f(&mut self.state.lock().unwrap());
    }

    fn grant(&self, code: &str, grant: Grant) {
        self.set(|s| {
            s.codes.insert(code.to_owned(), grant);
        });
    }
}

/// An ID token signed with `pem` (kid `k1`).
fn sign(claims: &Value, pem: &str) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some("k1".into());
    jsonwebtoken::encode(&h, claims, &EncodingKey::from_rsa_der(&pkcs1_der(pem))).unwrap()
}

/// The DER inside a PKCS#1 PEM (jsonwebtoken is built without its PEM feature).
fn pkcs1_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

fn unsigned(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{body}.")
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

// ---------------------------------------------------------------------------------------------------------------
// The server under test.

struct Server {
    app: Router,
    backend: support::Backend,
    name: &'static str,
}

async fn server(postgres: bool, insecure: bool) -> Server {
    let env = [
        ("SECOPS_PUBLIC_URL", PUBLIC_URL.to_owned()),
        ("SECOPS_CORS_ORIGINS", FRONT_END.to_owned()),
        ("SECOPS_SSO_ALLOW_INSECURE_ISSUERS", insecure.to_string()),
    ];
    let (backend, config) = support::backend(postgres, &env).await;
    Server {
        app: secops_server::app(AppState::new(backend.store.clone(), config, None)),
        name: backend.name,
        backend,
    }
}

async fn servers() -> Vec<Server> {
    vec![server(false, true).await, server(true, true).await]
}

/// A login in progress: what the start route sent the browser to.
struct Started {
    state: String,
    nonce: String,
    challenge: String,
    redirect_uri: String,
    query: HashMap<String, String>,
    location: Url,
}

impl Server {
    async fn send(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
        support::send(&self.app, req).await
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string()))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        let (status, headers, json) = self.send(req).await;
        if status == StatusCode::UNAUTHORIZED || status.is_client_error() {
            assert_eq!(
                headers.get(header::CONTENT_TYPE).unwrap(),
                "application/problem+json",
                "{path}: {json}"
            );
        }
        (status, json)
    }

    async fn register(&self, org: &str) -> Value {
        let email = format!("{org}-{}@example.com", uuid::Uuid::now_v7().simple());
        let (s, mut body) = self
            .call(
                Method::POST,
                "/v1/auth/register",
                None,
                Some(json!({"email": email, "password": "correct horse battery", "organization_name": org})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        body["email"] = json!(email);
        body
    }

    async fn configure(&self, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, "/v1/sso", Some(token), Some(body)).await
    }

    async fn start(&self, org: &str, redirect_uri: Option<&str>) -> Started {
        let mut path = format!("/v1/auth/sso/{org}/start");
        if let Some(r) = redirect_uri {
            path = format!("{path}?redirect_uri={}", urlencode(r));
        }
        let req = Request::builder().uri(&path).body(Body::empty()).unwrap();
        let (status, headers, body) = self.send(req).await;
        assert_eq!(status, StatusCode::FOUND, "{}: start: {body}", self.name);
        assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
        let location = Url::parse(headers.get(header::LOCATION).unwrap().to_str().unwrap()).unwrap();
        let query: HashMap<String, String> = location.query_pairs().into_owned().collect();
        Started {
            state: query["state"].clone(),
            nonce: query["nonce"].clone(),
            challenge: query["code_challenge"].clone(),
            redirect_uri: query["redirect_uri"].clone(),
            query,
            location,
        }
    }

    async fn callback(&self, code: &str, state: &str) -> (StatusCode, Value) {
        let path = format!(
            "/v1/auth/sso/callback?code={}&state={}&session_state=extra",
            urlencode(code),
            urlencode(state)
        );
        self.call(Method::GET, &path, None, None).await
    }

    async fn cleanup(self) {
        self.backend.cleanup().await;
    }
}

fn urlencode(s: &str) -> String {
    openidconnect::url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn token(session: &Value) -> String {
    session["access_token"].as_str().unwrap().to_owned()
}

/// Sets up org `session`'s provider as client `client` of `idp`.
async fn configure_org(srv: &Server, session: &Value, idp: &Idp, client: &str, role: &str) {
    let (st, view) = srv
        .configure(
            &token(session),
            json!({"issuer": idp.issuer, "client_id": client, "client_secret": format!("{client}-secret"), "default_role": role}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{}: {view}", srv.name);
}

/// The standard claims for `sub` at `idp`, for the login `started`.
fn claims(idp: &Idp, client: &str, sub: &str, email: &str, started: &Started) -> Value {
    json!({
        "iss": idp.issuer,
        "aud": client,
        "sub": sub,
        "email": email,
        "email_verified": true,
        "name": "Sam Sign-On",
        "nonce": started.nonce,
        "iat": now(),
        "exp": now() + 300,
    })
}

/// Lets the fake provider issue `id_token` for a new code, and returns the code.
fn grant(idp: &Idp, client: &str, started: &Started, id_token: String) -> String {
    let code = format!("code-{}", uuid::Uuid::now_v7().simple());
    idp.grant(
        &code,
        Grant {
            challenge: started.challenge.clone(),
            redirect_uri: started.redirect_uri.clone(),
            client_id: client.into(),
            client_secret: format!("{client}-secret"),
            id_token,
        },
    );
    code
}

/// A whole login: start, the provider's ID token made from the standard claims changed by `edit`, callback.
async fn login(
    srv: &Server,
    idp: &Idp,
    org: &str,
    client: &str,
    sub: &str,
    email: &str,
    edit: impl FnOnce(&mut Value),
) -> (StatusCode, Value) {
    let started = srv.start(org, None).await;
    let mut c = claims(idp, client, sub, email, &started);
    edit(&mut c);
    let code = grant(idp, client, &started, sign(&c, TEST_KEY));
    srv.callback(&code, &started.state).await
}

fn assert_plain_401(what: &str, st: StatusCode, body: &Value) {
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{what}: {body}");
    assert_eq!(body["code"], "unauthorized", "{what}: {body}");
    assert_eq!(
        body["detail"], "authentication is required, or the credentials are not valid",
        "{what}: the answer does not say which part was wrong"
    );
}

// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn sso_login_creates_the_user_and_membership_then_reuses_them() {
    let idp = Idp::start().await;
    for srv in servers().await {
        let owner = srv.register("Acme").await;
        let org = owner["organization_id"].as_str().unwrap().to_owned();
        configure_org(&srv, &owner, &idp, "acme", "analyst").await;

        let started = srv.start(&org, None).await;
        let q = &started.query;
        assert!(
            started
                .location
                .as_str()
                .starts_with(&format!("{}/authorize?", idp.issuer)),
            "{}",
            started.location
        );
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "acme");
        assert_eq!(q["redirect_uri"], CALLBACK);
        assert_eq!(q["code_challenge_method"], "S256");
        assert!(q["scope"].split(' ').any(|s| s == "openid"), "{q:?}");
        assert!(started.state.len() >= 16 && started.nonce.len() >= 16);
        assert_eq!(started.challenge.len(), 43, "base64url of SHA-256");

        let email = format!("sam-{}@acme.example", uuid::Uuid::now_v7().simple());
        let code = grant(
            &idp,
            "acme",
            &started,
            sign(&claims(&idp, "acme", "sam-1", &email, &started), TEST_KEY),
        );
        let (st, session) = srv.callback(&code, &started.state).await;
        assert_eq!(st, StatusCode::OK, "{}: {session}", srv.name);
        assert_eq!(session["organization_id"], org.as_str());
        assert_eq!(session["role"], "analyst", "the provider's default role");
        assert_eq!(session["token_type"], "Bearer");
        assert!(session["refresh_token"].is_string());
        let (st, me) = srv
            .call(Method::GET, "/v1/me", Some(&token(&session)), None)
            .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(
            (me["email"].as_str(), me["role"].as_str()),
            (Some(email.as_str()), Some("analyst"))
        );
        let user_id = me["user_id"].clone();

        // The refresh token works like any other.
        let (st, refreshed) = srv
            .call(
                Method::POST,
                "/v1/auth/refresh",
                None,
                Some(json!({"refresh_token": session["refresh_token"]})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{refreshed}");

        // A second login (client secret in the body this time) is the same user, same membership.
        idp.set(|s| s.auth_methods = vec!["client_secret_post"]);
        let (st, again) = login(&srv, &idp, &org, "acme", "sam-1", &email, |_| {}).await;
        idp.set(|s| s.auth_methods = vec!["client_secret_basic", "client_secret_post"]);
        assert_eq!(st, StatusCode::OK, "{}: {again}", srv.name);
        let (_, me2) = srv.call(Method::GET, "/v1/me", Some(&token(&again)), None).await;
        assert_eq!(me2["user_id"], user_id);
        let (_, members) = srv
            .call(Method::GET, "/v1/members", Some(&token(&owner)), None)
            .await;
        let members = members["items"].as_array().unwrap();
        assert_eq!(members.len(), 2, "owner and the SSO user, once: {members:?}");

        // A browser that lands on the callback itself (the console's flow) gets the session in cookies and goes
        // to the console, with no token in the body.
        let started = srv.start(&org, None).await;
        let code = grant(
            &idp,
            "acme",
            &started,
            sign(&claims(&idp, "acme", "sam-1", &email, &started), TEST_KEY),
        );
        let req = Request::builder()
            .uri(format!(
                "/v1/auth/sso/callback?code={}&state={}",
                urlencode(&code),
                urlencode(&started.state)
            ))
            .header("sec-fetch-mode", "navigate")
            .body(Body::empty())
            .unwrap();
        let (st, headers, body) = srv.send(req).await;
        assert_eq!(st, StatusCode::FOUND, "{}: {body}", srv.name);
        assert_eq!(headers[header::LOCATION], "/chat");
        let cookies: Vec<&str> = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert!(
            cookies
                .iter()
                .any(|c| c.starts_with("secops_refresh=") && c.contains("HttpOnly")),
            "{cookies:?}"
        );
        assert!(
            cookies.iter().any(|c| c.starts_with("secops_csrf=")),
            "{cookies:?}"
        );
        assert!(body.is_null(), "no token in the body: {body}");
        assert!(
            members
                .iter()
                .any(|m| m["user_id"] == user_id && m["role"] == "analyst")
        );

        // A role an admin changes afterwards sticks: single sign-on does not reset it.
        let (st, _) = srv
            .call(
                Method::PATCH,
                &format!("/v1/members/{}", user_id.as_str().unwrap()),
                Some(&token(&owner)),
                Some(json!({"role": "viewer", "version": 1})),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        let (_, third) = login(&srv, &idp, &org, "acme", "sam-1", &email, |_| {}).await;
        assert_eq!(third["role"], "viewer");

        // The SSO-only user has no password to log in with.
        let (st, body) = srv
            .call(
                Method::POST,
                "/v1/auth/login",
                None,
                Some(json!({"email": email, "password": ""})),
            )
            .await;
        assert_plain_401("password login of an SSO-only user", st, &body);
        let (st, body) = srv
            .call(
                Method::POST,
                "/v1/auth/login",
                None,
                Some(json!({"email": email, "password": "correct horse battery"})),
            )
            .await;
        assert_plain_401("password login of an SSO-only user", st, &body);

        // The logins are in the organisation's audit log.
        let (st, audit) = srv
            .call(
                Method::GET,
                "/v1/audit-events?action=GET%20/v1/auth/sso/callback",
                Some(&token(&owner)),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{audit}");
        let items = audit["items"].as_array().unwrap();
        assert_eq!(
            items.len(),
            4,
            "three JSON logins and the browser one: {}: {audit}",
            srv.name
        );
        assert!(
            items
                .iter()
                .all(|e| e["outcome"] == "success" && e["actor_id"] == user_id),
            "{audit}"
        );
        srv.cleanup().await;
    }
}

#[tokio::test]
async fn every_bad_token_or_state_is_a_plain_401() {
    let idp = Idp::start().await;
    for srv in servers().await {
        let owner = srv.register("Strict").await;
        let org = owner["organization_id"].as_str().unwrap().to_owned();
        configure_org(&srv, &owner, &idp, "strict", "viewer").await;
        let email = format!("eve-{}@strict.example", uuid::Uuid::now_v7().simple());
        let ok = |c: &mut Value| {
            let _ = c;
        };
        let (st, body) = login(&srv, &idp, &org, "strict", "eve", &email, ok).await;
        assert_eq!(st, StatusCode::OK, "{}: the baseline works: {body}", srv.name);

        type Edit = Box<dyn FnOnce(&mut Value)>;
        let cases: Vec<(&str, Edit)> = vec![
            ("wrong nonce", Box::new(|c| c["nonce"] = json!("not-the-nonce"))),
            (
                "missing nonce",
                Box::new(|c| {
                    c.as_object_mut().unwrap().remove("nonce");
                }),
            ),
            ("wrong audience", Box::new(|c| c["aud"] = json!("someone-else"))),
            (
                "an extra untrusted audience",
                Box::new(|c| c["aud"] = json!(["strict", "someone-else"])),
            ),
            (
                "wrong issuer",
                Box::new(|c| c["iss"] = json!("https://evil.example")),
            ),
            (
                "expired",
                Box::new(|c| {
                    c["iat"] = json!(now() - 3600);
                    c["exp"] = json!(now() - 600);
                }),
            ),
        ];
        for (what, edit) in cases {
            let (st, body) = login(&srv, &idp, &org, "strict", "eve", &email, edit).await;
            assert_plain_401(what, st, &body);
        }

        // Tokens that are not signed by the provider's key.
        type MakeToken = Box<dyn Fn(&Value) -> String>;
        let tokens: Vec<(&str, MakeToken)> = vec![
            ("bad signature", Box::new(|c| sign(c, FORGER_KEY))),
            ("alg none", Box::new(unsigned)),
            (
                "HS256 with the client secret",
                Box::new(|c| {
                    jsonwebtoken::encode(
                        &Header::new(Algorithm::HS256),
                        c,
                        &EncodingKey::from_secret(b"strict-secret"),
                    )
                    .unwrap()
                }),
            ),
            (
                "tampered payload",
                Box::new(|c| {
                    let signed = sign(c, TEST_KEY);
                    let mut parts: Vec<String> = signed.split('.').map(str::to_owned).collect();
                    let mut changed = c.clone();
                    changed["sub"] = json!("admin");
                    parts[1] = URL_SAFE_NO_PAD.encode(changed.to_string());
                    parts.join(".")
                }),
            ),
            ("not a JWT", Box::new(|_| "garbage".into())),
        ];
        for (what, make) in tokens {
            let started = srv.start(&org, None).await;
            let code = grant(
                &idp,
                "strict",
                &started,
                make(&claims(&idp, "strict", "eve", &email, &started)),
            );
            let (st, body) = srv.callback(&code, &started.state).await;
            assert_plain_401(what, st, &body);
        }

        // States: replayed, lapsed, unknown; and a code the provider does not know.
        let started = srv.start(&org, None).await;
        let good = sign(&claims(&idp, "strict", "eve", &email, &started), TEST_KEY);
        let code = grant(&idp, "strict", &started, good.clone());
        let (st, _) = srv.callback(&code, &started.state).await;
        assert_eq!(st, StatusCode::OK);
        let code = grant(&idp, "strict", &started, good);
        let (st, body) = srv.callback(&code, &started.state).await;
        assert_plain_401("replayed state", st, &body);

        let started = srv.start(&org, None).await;
        let raw = srv
            .backend
            .pg
            .as_ref()
            .map_or_else(|| None, |pg| Some(pg.owner.clone()));
        let raw = match raw {
            Some(owner) => owner,
            None => Store::connect(
                &format!("sqlite://{}/secops.db", srv.backend.dir.display()),
                ConnectOptions::default(),
            )
            .await
            .unwrap(),
        };
        let changed = secops_store::testing::execute(
            &raw,
            "UPDATE sso_logins SET expires_at = '2000-01-01T00:00:00+00:00'",
        )
        .await
        .unwrap();
        assert_eq!(changed, 1);
        if srv.backend.pg.is_none() {
            raw.close().await;
        }
        let code = grant(
            &idp,
            "strict",
            &started,
            sign(&claims(&idp, "strict", "eve", &email, &started), TEST_KEY),
        );
        let (st, body) = srv.callback(&code, &started.state).await;
        assert_plain_401("expired state", st, &body);

        let (st, body) = srv.callback("whatever", "an-unknown-state-value").await;
        assert_plain_401("unknown state", st, &body);

        let started = srv.start(&org, None).await;
        let (st, body) = srv
            .callback("a-code-the-provider-never-issued", &started.state)
            .await;
        assert_plain_401("unknown code", st, &body);

        let started = srv.start(&org, None).await;
        let (st, body) = srv
            .call(
                Method::GET,
                &format!(
                    "/v1/auth/sso/callback?error=access_denied&state={}",
                    started.state
                ),
                None,
                None,
            )
            .await;
        assert_plain_401("the provider reports an error", st, &body);

        // The provider's token endpoint fails.
        for status in [StatusCode::BAD_REQUEST, StatusCode::INTERNAL_SERVER_ERROR] {
            idp.set(|s| s.token_status = Some(status));
            let (st, body) = login(&srv, &idp, &org, "strict", "eve", &email, ok).await;
            idp.set(|s| s.token_status = None);
            assert_plain_401(&format!("token endpoint {status}"), st, &body);
        }

        // Discovery breaks between start and callback, then before start.
        let started = srv.start(&org, None).await;
        let code = grant(
            &idp,
            "strict",
            &started,
            sign(&claims(&idp, "strict", "eve", &email, &started), TEST_KEY),
        );
        idp.set(|s| s.malformed_discovery = true);
        let before = idp.state.lock().unwrap().token_requests;
        let (st, body) = srv.callback(&code, &started.state).await;
        assert_plain_401("malformed discovery", st, &body);
        assert_eq!(
            idp.state.lock().unwrap().token_requests,
            before,
            "no code sent to a broken provider"
        );
        let (st, body) = srv
            .call(Method::GET, &format!("/v1/auth/sso/{org}/start"), None, None)
            .await;
        assert_plain_401("malformed discovery at start", st, &body);
        idp.set(|s| s.malformed_discovery = false);

        // An identity provider that is down.
        let dead = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = l.local_addr().unwrap();
            drop(l);
            format!("http://{addr}")
        };
        let (st, _) = srv
            .configure(
                &token(&owner),
                json!({"issuer": dead, "client_id": "strict", "default_role": "viewer"}),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        let (st, body) = srv
            .call(Method::GET, &format!("/v1/auth/sso/{org}/start"), None, None)
            .await;
        assert_plain_401("provider down", st, &body);

        // Disabled single sign-on cannot be started, and pending logins stop working.
        configure_org(&srv, &owner, &idp, "strict", "viewer").await;
        let started = srv.start(&org, None).await;
        let (st, _) = srv
            .configure(
                &token(&owner),
                json!({"issuer": idp.issuer, "client_id": "strict", "default_role": "viewer", "enabled": false}),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        let code = grant(
            &idp,
            "strict",
            &started,
            sign(&claims(&idp, "strict", "eve", &email, &started), TEST_KEY),
        );
        let (st, body) = srv.callback(&code, &started.state).await;
        assert_plain_401("disabled meanwhile", st, &body);
        let (st, body) = srv
            .call(Method::GET, &format!("/v1/auth/sso/{org}/start"), None, None)
            .await;
        assert_eq!(
            (st, body["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found"))
        );
        let (st, body) = srv
            .call(
                Method::GET,
                &format!("/v1/auth/sso/{}/start", uuid::Uuid::now_v7()),
                None,
                None,
            )
            .await;
        assert_eq!(
            (st, body["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found"))
        );

        // Refusals after the state was recognised are in the organisation's audit log, without tokens.
        let (_, audit) = srv
            .call(
                Method::GET,
                "/v1/audit-events?action=GET%20/v1/auth/sso/callback&outcome=denied&limit=200",
                Some(&token(&owner)),
                None,
            )
            .await;
        let items = audit["items"].as_array().unwrap();
        assert!(items.len() >= 15, "{}: {}", srv.name, items.len());
        let reasons: Vec<&str> = items
            .iter()
            .filter_map(|e| e["context"]["reason"].as_str())
            .collect();
        for reason in [
            "id_token_invalid",
            "token_exchange",
            "discovery",
            "provider_error",
            "disabled",
        ] {
            assert!(reasons.contains(&reason), "{reason} in {reasons:?}");
        }
        assert!(!audit.to_string().contains("strict-secret"));
        srv.cleanup().await;
    }
}

#[tokio::test]
async fn sso_settings_are_per_organisation_admin_only_and_never_show_the_secret() {
    let idp = Idp::start().await;
    for srv in servers().await {
        let a = srv.register("Alpha").await;
        let b = srv.register("Bravo").await;
        let (ta, tb) = (token(&a), token(&b));
        let (st, body) = srv.call(Method::GET, "/v1/sso", Some(&ta), None).await;
        assert_eq!(
            (st, body["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found"))
        );

        // Validation: 422 with a reason.
        for (what, body) in [
            ("no secret", json!({"issuer": idp.issuer, "client_id": "alpha"})),
            (
                "owner role",
                json!({"issuer": idp.issuer, "client_id": "alpha", "client_secret": "x", "default_role": "owner"}),
            ),
            (
                "unknown role",
                json!({"issuer": idp.issuer, "client_id": "alpha", "client_secret": "x", "default_role": "god"}),
            ),
            (
                "not a URL",
                json!({"issuer": "idp.example", "client_id": "alpha", "client_secret": "x"}),
            ),
            (
                "ftp",
                json!({"issuer": "ftp://idp.example", "client_id": "alpha", "client_secret": "x"}),
            ),
            (
                "query",
                json!({"issuer": "https://idp.example/?tenant=1", "client_id": "alpha", "client_secret": "x"}),
            ),
            (
                "credentials",
                json!({"issuer": "https://u:p@idp.example", "client_id": "alpha", "client_secret": "x"}),
            ),
            (
                "empty client id",
                json!({"issuer": idp.issuer, "client_id": " ", "client_secret": "x"}),
            ),
        ] {
            let (st, problem) = srv.configure(&ta, body).await;
            assert_eq!(
                (st, problem["code"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_input")),
                "{what}: {problem}"
            );
        }
        let (st, problem) = srv
            .configure(&ta, json!({"issuer": idp.issuer, "client_id": "a", "extra": 1}))
            .await;
        assert!(st.is_client_error(), "{problem}");

        let (st, view) = srv
            .configure(
                &ta,
                json!({"issuer": idp.issuer, "client_id": "alpha", "client_secret": "alpha-top-secret", "default_role": "analyst"}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{view}");
        assert_eq!(view["redirect_uri"], CALLBACK);
        assert_eq!(
            view["login_url"],
            format!(
                "{PUBLIC_URL}/v1/auth/sso/{}/start",
                a["organization_id"].as_str().unwrap()
            )
        );
        assert_eq!(
            (view["client_secret_set"].as_bool(), view["enabled"].as_bool()),
            (Some(true), Some(true))
        );
        let (st, read) = srv.call(Method::GET, "/v1/sso", Some(&ta), None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(
            (read["issuer"].as_str(), read["client_id"].as_str()),
            (Some(idp.issuer.as_str()), Some("alpha"))
        );
        assert!(read.get("client_secret").is_none());
        assert!(
            !read.to_string().contains("alpha-top-secret"),
            "the secret is never returned"
        );
        assert!(!view.to_string().contains("alpha-top-secret"));

        // Stale versions are refused; the secret stays when left out.
        let (st, conflict) = srv
            .configure(
                &ta,
                json!({"issuer": idp.issuer, "client_id": "alpha2", "version": 0}),
            )
            .await;
        assert_eq!(
            (st, conflict["code"].as_str()),
            (StatusCode::CONFLICT, Some("version_conflict"))
        );
        let (st, changed) = srv
            .configure(&ta, json!({"issuer": idp.issuer, "client_id": "alpha", "default_role": "viewer", "version": read["version"]}))
            .await;
        assert_eq!(
            (st, changed["default_role"].as_str()),
            (StatusCode::OK, Some("viewer"))
        );

        // Bravo sees and changes only its own.
        let (st, _) = srv.call(Method::GET, "/v1/sso", Some(&tb), None).await;
        assert_eq!(
            st,
            StatusCode::NOT_FOUND,
            "{}: bravo does not see alpha's",
            srv.name
        );
        let (st, _) = srv.call(Method::DELETE, "/v1/sso", Some(&tb), None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = srv
            .configure(
                &tb,
                json!({"issuer": "https://bravo.idp.example", "client_id": "bravo", "client_secret": "b"}),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        let (_, mine) = srv.call(Method::GET, "/v1/sso", Some(&ta), None).await;
        assert_eq!(
            (mine["client_id"].as_str(), mine["version"].as_i64()),
            (Some("alpha"), changed["version"].as_i64())
        );
        let (st, _) = srv.call(Method::DELETE, "/v1/sso", Some(&tb), None).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, _) = srv.call(Method::GET, "/v1/sso", Some(&ta), None).await;
        assert_eq!(st, StatusCode::OK, "deleting bravo's left alpha's");

        // Alpha's logins keep working with its own client; bravo's client id is not accepted for alpha.
        let alpha_org = a["organization_id"].as_str().unwrap();
        let email = format!("amy-{}@alpha.example", uuid::Uuid::now_v7().simple());
        let started = srv.start(alpha_org, None).await;
        let mut c = claims(&idp, "alpha", "amy", &email, &started);
        c["aud"] = json!("bravo");
        let code = grant(&idp, "alpha", &started, sign(&c, TEST_KEY));
        let (st, body) = srv.callback(&code, &started.state).await;
        assert_plain_401("token for bravo's client", st, &body);

        // Viewers and analysts may not see or change it.
        for role in ["viewer", "analyst"] {
            let (st, key) = srv
                .call(
                    Method::POST,
                    "/v1/api-keys",
                    Some(&ta),
                    Some(json!({"name": role, "role": role})),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED);
            let k = key["secret"].as_str().unwrap();
            for (m, body) in [
                (Method::GET, None),
                (
                    Method::PUT,
                    Some(json!({"issuer": "https://evil.example", "client_id": "x", "client_secret": "x"})),
                ),
                (Method::DELETE, None),
            ] {
                let (st, problem) = srv.call(m.clone(), "/v1/sso", Some(k), body).await;
                assert_eq!(
                    (st, problem["code"].as_str()),
                    (StatusCode::FORBIDDEN, Some("forbidden")),
                    "{role} {m}"
                );
            }
        }
        let (_, still) = srv.call(Method::GET, "/v1/sso", Some(&ta), None).await;
        assert_eq!(still["issuer"], idp.issuer.as_str());

        // Without credentials: 401.
        for m in [Method::GET, Method::PUT, Method::DELETE] {
            let (st, _) = srv.call(m, "/v1/sso", None, Some(json!({}))).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED);
        }
        srv.cleanup().await;
    }
}

#[tokio::test]
async fn existing_accounts_are_linked_only_with_a_verified_email_and_a_membership() {
    let idp = Idp::start().await;
    for srv in servers().await {
        let alpha = srv.register("Alpha").await;
        let bravo = srv.register("Bravo").await;
        let org = alpha["organization_id"].as_str().unwrap().to_owned();
        configure_org(&srv, &alpha, &idp, "alpha", "viewer").await;
        let owner_email = alpha["email"].as_str().unwrap().to_owned();
        let outsider_email = bravo["email"].as_str().unwrap().to_owned();

        // The provider does not vouch for the e-mail: no link.
        let (st, body) = login(&srv, &idp, &org, "alpha", "owner-sub", &owner_email, |c| {
            c["email_verified"] = json!(false);
        })
        .await;
        assert_plain_401("unverified e-mail of an existing account", st, &body);
        let (st, body) = login(&srv, &idp, &org, "alpha", "owner-sub", &owner_email, |c| {
            c.as_object_mut().unwrap().remove("email_verified");
        })
        .await;
        assert_plain_401("missing email_verified", st, &body);

        // Verified, and a member of this organisation: linked, with the role the member already has.
        let (st, session) = login(&srv, &idp, &org, "alpha", "owner-sub", &owner_email, |_| {}).await;
        assert_eq!(st, StatusCode::OK, "{}: {session}", srv.name);
        assert_eq!(session["role"], "owner");
        let (_, me) = srv
            .call(Method::GET, "/v1/me", Some(&token(&session)), None)
            .await;
        assert_eq!(me["email"], owner_email.as_str());
        // From now on the identity decides, whatever e-mail the provider reports.
        let (st, again) = login(
            &srv,
            &idp,
            &org,
            "alpha",
            "owner-sub",
            "renamed@alpha.example",
            |c| {
                c["email_verified"] = json!(false);
            },
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{again}");
        let (_, me2) = srv.call(Method::GET, "/v1/me", Some(&token(&again)), None).await;
        assert_eq!(me2["user_id"], me["user_id"]);
        // The password still works for an account that had one.
        let (st, _) = srv
            .call(
                Method::POST,
                "/v1/auth/login",
                None,
                Some(json!({"email": owner_email, "password": "correct horse battery"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK);

        // A verified e-mail of someone who is not a member here: alpha's provider cannot claim bravo's owner.
        let (st, body) = login(&srv, &idp, &org, "alpha", "outsider-sub", &outsider_email, |_| {}).await;
        assert_plain_401("e-mail of another organisation's user", st, &body);
        let (_, members) = srv
            .call(Method::GET, "/v1/members", Some(&token(&alpha)), None)
            .await;
        assert_eq!(members["items"].as_array().unwrap().len(), 1, "{members}");

        // No e-mail at all: nothing to create a user from.
        let (st, body) = login(&srv, &idp, &org, "alpha", "anonymous-sub", "x", |c| {
            c.as_object_mut().unwrap().remove("email");
        })
        .await;
        assert_plain_401("no e-mail", st, &body);
        srv.cleanup().await;
    }
}

#[tokio::test]
async fn plain_http_issuers_foreign_redirects_and_misbehaving_providers_are_refused() {
    let idp = Idp::start().await;
    // Default configuration: https only.
    let srv = server(false, false).await;
    let owner = srv.register("Careful").await;
    let (st, problem) = srv
        .configure(
            &token(&owner),
            json!({"issuer": idp.issuer, "client_id": "c", "client_secret": "s"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("https"));
    srv.cleanup().await;

    let srv = server(false, true).await;
    let owner = srv.register("Careful").await;
    let org = owner["organization_id"].as_str().unwrap().to_owned();
    configure_org(&srv, &owner, &idp, "careful", "viewer").await;
    for bad in [
        "https://evil.example/cb",
        "javascript:alert(1)",
        "not a url",
        "https://console.secops.test.evil.example/cb",
    ] {
        let (st, problem) = srv
            .call(
                Method::GET,
                &format!("/v1/auth/sso/{org}/start?redirect_uri={}", urlencode(bad)),
                None,
                None,
            )
            .await;
        assert_eq!(
            (st, problem["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_redirect_uri")),
            "{bad}"
        );
    }
    // A page of the configured front end: the provider returns there, the front end calls the callback, and the
    // token request repeats that redirect URI.
    let front = format!("{FRONT_END}/sso/done");
    let started = srv.start(&org, Some(&front)).await;
    assert_eq!(started.redirect_uri, front);
    let email = format!("fe-{}@careful.example", uuid::Uuid::now_v7().simple());
    let code = grant(
        &idp,
        "careful",
        &started,
        sign(&claims(&idp, "careful", "fe", &email, &started), TEST_KEY),
    );
    let (st, session) = srv.callback(&code, &started.state).await;
    assert_eq!(st, StatusCode::OK, "{session}");

    // The server does not follow a provider's redirects, and does not read oversized responses.
    idp.set(|s| s.redirect_discovery = true);
    let (st, body) = srv
        .call(Method::GET, &format!("/v1/auth/sso/{org}/start"), None, None)
        .await;
    assert_plain_401("discovery redirected", st, &body);
    idp.set(|s| {
        s.redirect_discovery = false;
        s.huge_jwks = true;
    });
    let (st, body) = srv
        .call(Method::GET, &format!("/v1/auth/sso/{org}/start"), None, None)
        .await;
    assert_plain_401("oversized key set", st, &body);
    idp.set(|s| s.huge_jwks = false);
    srv.start(&org, None).await;

    // The public routes answer 400 (not 401) for requests that are not logins at all.
    let (st, problem) = srv.call(Method::GET, "/v1/auth/sso/callback", None, None).await;
    assert_eq!(
        (st, problem["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_query"))
    );
    let (st, _) = srv
        .call(Method::GET, "/v1/auth/sso/not-a-uuid/start", None, None)
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(idp.jwks["keys"][0]["n"].is_string());
    srv.cleanup().await;
}
