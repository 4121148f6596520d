//! Liveness and readiness.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

/// Health report.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The database is reachable and migrated.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, body = Health), (status = 503, body = Problem)))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    state.store.ready().await.map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            format!("the database is not ready: {e}"),
        )
    })?;
    Ok(Json(Health { status: "ok" }))
}

/// What a client needs to know of this server before anyone logs in: whether it registers new
/// organisations, its upload limits, and which model answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServerInfo {
    /// The server's version.
    pub version: &'static str,
    /// Whether `POST /v1/auth/register` creates organisations here.
    pub registration_open: bool,
    /// The largest attachment accepted, in bytes.
    pub max_attachment_bytes: usize,
    /// The attachment media types accepted (`type/*` wildcards allowed).
    pub attachment_types: Vec<String>,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The model provider's name (`demo` for the offline demo model), or none: runs then answer 503.
    pub model_provider: Option<String>,
    /// Seconds an access token lasts.
    pub access_token_ttl_secs: u64,
}

/// The server's public settings.
#[utoipa::path(get, path = "/v1/server", tag = "health", responses((status = 200, body = ServerInfo)))]
pub async fn server_info(State(state): State<AppState>) -> Json<ServerInfo> {
    let c = &state.config;
    Json(ServerInfo {
        version: env!("CARGO_PKG_VERSION"),
        registration_open: c.allow_registration,
        max_attachment_bytes: c.max_attachment_bytes,
        attachment_types: c.attachment_types.clone(),
        max_body_bytes: c.max_body_bytes,
        model_provider: state.provider.as_ref().map(|p| p.name().to_owned()),
        access_token_ttl_secs: c.access_token_ttl_secs,
    })
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(server_info))
}
