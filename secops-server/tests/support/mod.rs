//! What the server's test files share: a fresh backend (a SQLite file, or a PostgreSQL database made for the
//! test, which must be reachable: these tests fail, never skip, without it) and sending a request to a router.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use secops_server::config::Config;
use secops_store::testing::FreshPostgres;
use secops_store::{ConnectOptions, Store};
use serde_json::Value;
use tower::ServiceExt;

/// A database and a data directory for one test server.
pub struct Backend {
    pub store: Store,
    pub pg: Option<FreshPostgres>,
    pub dir: std::path::PathBuf,
    pub name: &'static str,
}

/// Configuration over `dir` with `env` as the environment (`SECOPS_DATA_DIR` is set to `dir`).
pub fn config(dir: &std::path::Path, env: &[(&str, String)]) -> Config {
    let d = dir.display().to_string();
    Config::load_from(None, |name| {
        if name == "SECOPS_DATA_DIR" {
            return Some(d.clone());
        }
        env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
    })
    .unwrap()
}

/// A fresh backend and its configuration.
pub async fn backend(postgres: bool, env: &[(&str, String)]) -> (Backend, Config) {
    let dir = std::env::temp_dir().join(format!("secops-test-{}", uuid::Uuid::now_v7().simple()));
    let config = config(&dir, env);
    let (store, pg) = if postgres {
        let admin = std::env::var("SECOPS_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let pg = FreshPostgres::create(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL is required: {e}"));
        (pg.app.clone(), Some(pg))
    } else {
        let store = Store::connect(&config.database_url, ConnectOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        (store, None)
    };
    let name = if postgres { "postgres" } else { "sqlite" };
    (Backend { store, pg, dir, name }, config)
}

impl Backend {
    /// Drops the PostgreSQL database and removes the data directory.
    pub async fn cleanup(self) {
        if let Some(pg) = self.pg {
            pg.drop_all().await.unwrap();
        }
        let _ = std::fs::remove_dir_all(self.dir);
    }
}

/// Sends `req` to `app`: the status, the headers, and the body as JSON (a string if it is not JSON).
pub async fn send(app: &Router, req: Request<Body>) -> (StatusCode, HeaderMap, Value) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 22).await.unwrap();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, headers, json)
}

/// A server over a fresh backend with its run worker going, called in process.
pub struct Server {
    pub app: Router,
    pub backend: Backend,
    stop: tokio_util::sync::CancellationToken,
    tasks: tokio::task::JoinSet<()>,
}

impl Server {
    /// Starts one on PostgreSQL or SQLite with `env` as its environment and `provider` as its model.
    pub async fn start(
        postgres: bool,
        env: &[(&str, String)],
        provider: Option<std::sync::Arc<dyn secops_core::model::ModelProvider>>,
    ) -> Self {
        Self::start_with_tools(postgres, env, provider, None).await
    }

    /// As [`start`](Self::start), with `tools` as the server's own tools.
    pub async fn start_with_tools(
        postgres: bool,
        env: &[(&str, String)],
        provider: Option<std::sync::Arc<dyn secops_core::model::ModelProvider>>,
        tools: Option<secops_core::tool::ToolRegistry>,
    ) -> Self {
        let (backend, config) = backend(postgres, env).await;
        let mut state = secops_server::state::AppState::new(backend.store.clone(), config, provider);
        if let Some(tools) = tools {
            state = state.with_tools(tools);
        }
        let stop = tokio_util::sync::CancellationToken::new();
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(std::sync::Arc::clone(&state.worker).run(state.clone(), stop.clone()));
        Self {
            app: secops_server::app(state),
            backend,
            stop,
            tasks,
        }
    }

    /// Sends `body` as `content_type`, with a bearer token.
    pub async fn send(
        &self,
        method: axum::http::Method,
        path: &str,
        token: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"));
        let req = match body {
            Some((ctype, bytes)) => req
                .header(axum::http::header::CONTENT_TYPE, ctype)
                .body(Body::from(bytes))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        let (status, _, json) = send(&self.app, req).await;
        (status, json)
    }

    /// Sends a JSON body, with a bearer token.
    pub async fn call(
        &self,
        method: axum::http::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.send(
            method,
            path,
            token,
            body.map(|b| ("application/json", b.to_string().into_bytes())),
        )
        .await
    }

    /// Registers a new organisation; its owner's access token.
    pub async fn owner(&self, org: &str) -> String {
        let email = format!("{org}-{}@example.com", uuid::Uuid::now_v7().simple());
        let req = Request::builder()
            .method(axum::http::Method::POST)
            .uri("/v1/auth/register")
            .header(axum::http::header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                serde_json::json!({"email": email, "password": "correct horse battery", "organization_name": org})
                    .to_string(),
            ))
            .unwrap();
        let (s, _, body) = send(&self.app, req).await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Stops the worker and drops the backend.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        while self.tasks.join_next().await.is_some() {}
        self.backend.cleanup().await;
    }
}
