//! # secops-server
//!
//! The reference server: one multi-tenant HTTP API over the secops crates, and the `secops` command
//! (`serve`, `migrate`, `openapi`). Every route checks a [`Permission`](secops_core::tenancy::Permission)
//! of the caller's role, every query runs in the caller's organisation's
//! [`TenantTx`](secops_store::TenantTx), and every error is an RFC 9457 problem document with a stable `code`.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use secops_server::{app, config::Config, state::AppState};
//! use secops_store::{ConnectOptions, Store};
//!
//! let dir = std::env::temp_dir().join(format!("secops-doc-{}", uuid::Uuid::now_v7()));
//! let config = Config::load_from(None, |name| (name == "SECOPS_DATA_DIR").then(|| dir.display().to_string())).unwrap();
//! let store = Store::connect(&config.database_url, ConnectOptions::default()).await.unwrap();
//! store.migrate().await.unwrap();
//! let router = app(AppState::new(store, config, None));
//! # let _ = router;
//! # std::fs::remove_dir_all(dir).ok();
//! # });
//! ```

pub mod agents;
mod application;
pub mod audit;
pub mod auth;
pub mod chats;
pub mod config;
pub mod console;
pub mod demo;
pub mod detections;
pub mod error;
pub mod extract;
pub mod health;
pub mod input;
pub mod members;
pub mod origin;
pub mod runs;
pub mod state;
pub mod telemetry;
pub mod tools;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "secops", description = "Multi-tenant API for security-operations AI agents."),
    modifiers(&BearerAuth),
    tags((name = "auth"), (name = "api-keys"), (name = "agents"), (name = "audit"), (name = "members"), (name = "runs"), (name = "chats"), (name = "sso"), (name = "tools"), (name = "detections"), (name = "health"))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The routes and the OpenAPI document (as JSON: it carries schemas utoipa's types cannot hold, such as the run
/// events' own JSON Schema), built from one router so they cannot drift.
pub fn routes() -> (Router<AppState>, serde_json::Value) {
    let (router, api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(auth::router())
        .merge(auth::oidc::router())
        .merge(agents::router())
        .merge(audit::router())
        .merge(members::router())
        .merge(runs::router())
        .merge(chats::router())
        .merge(tools::router())
        .merge(detections::router())
        .merge(OpenApiRouter::new().routes(utoipa_axum::routes!(telemetry::metrics)))
        .split_for_parts();
    (router, error::spec::document_problems(api))
}

/// The OpenAPI document as pretty JSON (what `secops openapi` prints and `/openapi.json` serves).
pub fn openapi_json() -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(&routes().1)
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    telemetry::init();
    let (router, api) = routes();
    let mut cors = CorsLayer::new()
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    let origins: Vec<HeaderValue> = state
        .config
        .cors_origins
        .iter()
        .filter_map(|o| o.parse().ok())
        .collect();
    cors = cors.allow_origin(AllowOrigin::list(origins));
    let limit = state.config.max_body_bytes;
    router
        // The spec at /openapi.json and interactive docs at /docs, with Swagger UI's assets compiled in.
        .merge(utoipa_swagger_ui::SwaggerUi::new("/docs").external_url_unchecked("/openapi.json", api))
        // Everything else is the web console (its files, or its index.html for its own routes); unknown API
        // paths still get a JSON problem.
        .fallback(console::serve)
        .layer(axum::middleware::from_fn_with_state(state.clone(), audit::record))
        .layer(axum::middleware::from_fn(telemetry::track))
        .layer(DefaultBodyLimit::max(limit))
        .layer(cors)
        // Every response carries an `x-request-id` (the client's, or a new UUID) for support and log correlation.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}
