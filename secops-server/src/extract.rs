//! Request extractors that turn every rejection into a problem document.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use secops_core::tenancy::{OrgId, Principal, PrincipalKind, UserId};
use serde::de::DeserializeOwned;

use crate::auth::jwt;
use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body; malformed JSON, wrong types, unknown fields (types opt in with `deny_unknown_fields`),
/// a missing content type or an oversize body become 4xx problems.
#[derive(Debug, Clone)]
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Body(value))
    }
}

/// The authenticated caller: a user with an access token, or a service with an API key.
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl Auth {
    /// The organisation every action is scoped to.
    #[must_use]
    pub fn org(&self) -> OrgId {
        self.0.org_id
    }

    /// The user, for user principals.
    #[must_use]
    pub fn user(&self) -> Option<UserId> {
        self.0.user_id
    }
}

/// Browsers cannot set headers on a WebSocket, so an upgrade request may carry its token as a subprotocol
/// `bearer.<token>` next to `secops.v1` (the one the server selects), as Kubernetes does.
fn websocket_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let upgrade = headers
        .get(axum::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !upgrade {
        return None;
    }
    headers
        .get(axum::http::header::SEC_WEBSOCKET_PROTOCOL)?
        .to_str()
        .ok()?
        .split(',')
        .find_map(|p| p.trim().strip_prefix("bearer."))
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = match parts.headers.get(axum::http::header::AUTHORIZATION) {
            Some(header) => header
                .to_str()
                .ok()
                .and_then(|h| h.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or_else(ApiError::unauthorized)?,
            None => websocket_token(&parts.headers).ok_or_else(ApiError::unauthorized)?,
        };
        if token.starts_with("sk_") {
            let key = state
                .store
                .system()
                .authenticate_api_key(&state.config.secrets.hmac, token)
                .await?
                .ok_or_else(ApiError::unauthorized)?;
            // API keys act with the role their scopes name; analyst by default.
            let role = key
                .scopes
                .iter()
                .find_map(|s| s.strip_prefix("role:"))
                .and_then(|r| r.parse().ok())
                .unwrap_or(secops_core::tenancy::Role::Analyst);
            let principal = Principal {
                org_id: key.org_id,
                user_id: None,
                role,
                kind: PrincipalKind::ApiKey,
            };
            if let Some(slot) = parts.extensions.get::<crate::audit::AuditSlot>() {
                slot.set(principal.clone());
            }
            return Ok(Auth(principal));
        }
        let (user, org, role) = jwt::verify(&state.config.secrets.jwt, token)?;
        // The role in the token may be stale; the membership is the truth (removed members lose access at once).
        let mut tx = state.store.tenant_read(org).await?;
        let membership = tx.member(user).await.map_err(|_| ApiError::unauthorized())?;
        tx.commit().await?;
        let _ = role;
        let principal = Principal::user(org, user, membership.role);
        if let Some(slot) = parts.extensions.get::<crate::audit::AuditSlot>() {
            slot.set(principal.clone());
        }
        Ok(Auth(principal))
    }
}

/// A path parameter; a malformed one is a 400 problem.
#[derive(Debug, Clone)]
pub struct PathParam<T>(pub T);

impl<S, T> FromRequestParts<S> for PathParam<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(v) = axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e| {
                ApiError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "invalid_path",
                    crate::input::clip(&e.body_text()),
                )
            })?;
        Ok(PathParam(v))
    }
}

/// Query parameters; malformed or unknown ones are a 400 problem.
#[derive(Debug, Clone)]
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(v) = axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e| {
                ApiError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "invalid_query",
                    crate::input::clip(&e.body_text()),
                )
            })?;
        Ok(QueryParams(v))
    }
}

/// The version to delete or act on.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VersionQuery {
    /// The version you read.
    pub version: i64,
}
