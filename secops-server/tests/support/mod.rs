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
