//! The audit trail of the API: a middleware records every mutating call and every login, and routes search,
//! export and verify the organisation's hash-chained log.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use secops_core::tenancy::{Permission, Principal, PrincipalKind};
use secops_store::audit::{AuditFilter, AuditOutcome, NewAuditEvent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, Problem};
use crate::extract::{Auth, QueryParams};
use crate::state::AppState;

/// Filled by the authentication extractor (or the login routes) with who made the request, so the middleware
/// can attribute the call after the handler ran.
#[derive(Debug, Clone, Default)]
pub struct AuditSlot(Arc<Mutex<Option<Principal>>>);

impl AuditSlot {
    /// Records the principal of this request.
    pub fn set(&self, principal: Principal) {
        match self.0.lock() {
            Ok(mut slot) => *slot = Some(principal),
            Err(poisoned) => *poisoned.into_inner() = Some(principal),
        }
    }

    fn get(&self) -> Option<Principal> {
        match self.0.lock() {
            Ok(slot) => slot.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// The `id` (or `run_id`) of a small JSON answer, and the answer rebuilt for the client. Streams and large
/// bodies pass through untouched.
async fn created_id(response: Response) -> (Option<String>, Response) {
    const LIMIT: u64 = 256 * 1024;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let small = axum::body::HttpBody::size_hint(response.body())
        .upper()
        .is_some_and(|n| n <= LIMIT);
    if !is_json || !small {
        return (None, response);
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::try_from(LIMIT).unwrap_or(usize::MAX)).await else {
        return (None, Response::from_parts(parts, axum::body::Body::empty()));
    };
    let id = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| {
            ["id", "run_id"]
                .iter()
                .find_map(|k| v.get(k).and_then(|i| i.as_str()).map(str::to_owned))
                .or_else(|| v.pointer("/key/id").and_then(|i| i.as_str()).map(str::to_owned))
        });
    (id, Response::from_parts(parts, axum::body::Body::from(bytes)))
}

/// How the audit log names the kind of a principal.
pub(crate) fn actor_kind(principal: &Principal) -> &'static str {
    match principal.kind {
        PrincipalKind::User => "user",
        PrincipalKind::ApiKey => "api_key",
        PrincipalKind::System => "system",
    }
}

/// Records mutating calls and auth events in the caller's organisation's audit log.
pub async fn record(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let slot = AuditSlot::default();
    req.extensions_mut().insert(slot.clone());
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let (ip, user_agent) = crate::origin::request_origin(
        req.headers(),
        crate::origin::peer_of(req.extensions()),
        &state.config.trusted_proxies,
    );
    let response = next.run(req).await;
    let mutating = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !mutating {
        return response;
    }
    let Some(principal) = slot.get() else {
        return response;
    };
    let status = response.status();
    let outcome = if status.is_success() {
        AuditOutcome::Success
    } else if status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED {
        AuditOutcome::Denied
    } else {
        AuditOutcome::Failure
    };
    let route = route.unwrap_or_else(|| path.clone());
    let resource_kind = route
        .trim_start_matches("/v1/")
        .split('/')
        .next()
        .unwrap_or("unknown")
        .to_owned();
    let mut resource_id = route
        .split('/')
        .zip(path.split('/'))
        .find(|(pattern, _)| pattern.starts_with('{'))
        .map(|(_, value)| value.to_owned());
    // A create names its new resource only in its answer: take the id from there.
    let mut response = response;
    if resource_id.is_none() && status.is_success() {
        let (id, rebuilt) = created_id(response).await;
        resource_id = id;
        response = rebuilt;
    }
    let event = NewAuditEvent {
        actor_kind: actor_kind(&principal).into(),
        actor_id: principal.user_id.map(|u| *u.as_uuid()),
        action: format!("{method} {route}"),
        resource_kind,
        resource_id,
        ip,
        user_agent,
        context: serde_json::json!({"status": status.as_u16(), "role": principal.role.as_str()}),
        outcome,
    };
    let write = async {
        let mut tx = state.store.tenant(principal.org_id).await?;
        tx.append_audit(event).await?;
        tx.commit().await
    };
    if let Err(e) = write.await {
        // The call already happened; losing its audit record must be loud.
        tracing::error!(error = %e, "could not write the audit record of a request");
    }
    response
}

/// Audit search parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only this actor (user id).
    pub actor_id: Option<uuid::Uuid>,
    /// Only this action, e.g. `POST /v1/agents`.
    pub action: Option<String>,
    /// Only this resource kind, e.g. `agents`.
    pub resource_kind: Option<String>,
    /// Only this resource id.
    pub resource_id: Option<String>,
    /// `success`, `failure` or `denied`.
    #[param(value_type = Option<String>)]
    pub outcome: Option<AuditOutcome>,
    /// At or after (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Before (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// Rows per page.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl AuditQuery {
    fn filter(&self) -> AuditFilter {
        AuditFilter {
            actor_id: self.actor_id,
            action: self.action.clone(),
            resource_kind: self.resource_kind.clone(),
            resource_id: self.resource_id.clone(),
            outcome: self.outcome,
            since: self.since,
            until: self.until,
        }
    }
}

/// A page of audit events.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Events, newest first.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<secops_store::audit::AuditEvent>,
    /// Cursor for the next page.
    pub next_cursor: Option<String>,
}

/// The result of checking the chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    /// Events checked.
    pub checked: u64,
    /// Whether the chain is intact.
    pub intact: bool,
    /// The first event that does not fit, if any.
    #[schema(value_type = Option<Object>)]
    pub first_broken: Option<secops_store::audit::BrokenLink>,
}

/// Search the audit log.
#[utoipa::path(get, path = "/v1/audit-events", tag = "audit", operation_id = "list_audit_events", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    auth.0.require(Permission::AuditRead)?;
    let page = secops_store::PageRequest {
        limit: q.limit.unwrap_or(0),
        cursor: q.cursor.clone(),
    };
    let mut tx = state.store.tenant_read(auth.org()).await?;
    let result = tx.audit_events(&q.filter(), &page).await?;
    tx.commit().await?;
    Ok(Json(AuditPage {
        items: result.items,
        next_cursor: result.next_cursor,
    }))
}

/// Export matching events as NDJSON, oldest first.
#[utoipa::path(get, path = "/v1/audit-events/export", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, content_type = "application/x-ndjson", body = String), (status = 403, body = Problem)))]
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<AuditQuery>,
) -> ApiResult<Response> {
    auth.0.require(Permission::AuditRead)?;
    let mut out = Vec::new();
    let mut tx = state.store.tenant_read(auth.org()).await?;
    tx.export_audit_ndjson(&q.filter(), &mut out).await?;
    tx.commit().await?;
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], out).into_response())
}

/// Check the hash chain and name the first broken event.
#[utoipa::path(get, path = "/v1/audit-events/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = Verification), (status = 403, body = Problem)))]
pub async fn verify(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Verification>> {
    auth.0.require(Permission::AuditRead)?;
    let mut tx = state.store.tenant_read(auth.org()).await?;
    let v = tx.verify_audit_chain().await?;
    tx.commit().await?;
    Ok(Json(Verification {
        checked: v.checked,
        intact: v.first_broken.is_none(),
        first_broken: v.first_broken,
    }))
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(export))
        .routes(routes!(verify))
}
