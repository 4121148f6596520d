//! Detections: the alerts rules raise, their triage workflow (new -> triaging -> true/false positive ->
//! closed, assignee, notes), and the triggers that start a triage agent on a detection.

mod engine;
pub mod rules;

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use secops_core::tenancy::{AgentId, DetectionId, Permission, RuleId, TriggerId, UserId};
use secops_store::TenantTx;
use secops_store::detections::{
    Detection, DetectionFilter, DetectionNote, DetectionStatus, DetectionUpdate, Rule,
};
use secops_store::triggers::{Trigger, TriggerSpec};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::PageQuery;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Auth, Body, PathParam, QueryParams, VersionQuery};
use crate::state::AppState;

pub use engine::OrgEngines;

/// Sigma levels, lowest first.
pub(crate) const LEVELS: [&str; 5] = ["informational", "low", "medium", "high", "critical"];

pub(crate) fn level_rank(level: &str) -> Option<usize> {
    LEVELS.iter().position(|l| *l == level)
}

/// The rule behind a detection, as every view of a detection shows it (the Detection Rule License asks that
/// whoever shows a match shows the rule's author).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleRef {
    /// The stored rule's id.
    pub id: uuid::Uuid,
    /// The rule's own id (Sigma `id`).
    pub rule_uid: String,
    /// Its title.
    pub title: String,
    /// Its author(s).
    pub author: String,
    /// Its tags (`attack.t1059.001`, ...).
    pub tags: Vec<String>,
}

impl From<&Rule> for RuleRef {
    fn from(r: &Rule) -> Self {
        Self {
            id: *r.id.as_uuid(),
            rule_uid: r.rule.rule_uid.clone(),
            title: r.rule.title.clone(),
            author: r.rule.author.clone(),
            tags: r.rule.tags.clone(),
        }
    }
}

/// A note on a detection.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoteView {
    /// Who wrote it.
    pub author_id: Option<uuid::Uuid>,
    /// The text.
    pub text: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A detection as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DetectionView {
    /// Its id.
    pub id: uuid::Uuid,
    /// The rule that fired (absent when it was deleted since).
    pub rule: Option<RuleRef>,
    /// `new`, `triaging`, `true_positive`, `false_positive` or `closed`.
    #[schema(value_type = String)]
    pub status: DetectionStatus,
    /// Level.
    pub level: String,
    /// Title.
    pub title: String,
    /// The matching event.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
    /// Assignee.
    pub assignee_id: Option<uuid::Uuid>,
    /// Notes, oldest first.
    pub notes: Vec<NoteView>,
    /// The triage run started for it.
    pub run_id: Option<uuid::Uuid>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Send it back when changing it.
    pub version: i64,
}

impl DetectionView {
    pub(crate) fn new(d: Detection, rule: Option<&Rule>) -> Self {
        Self {
            id: *d.id.as_uuid(),
            rule: rule.map(RuleRef::from),
            status: d.status,
            level: d.level,
            title: d.title,
            event: d.event,
            assignee_id: d.assignee_id.map(|u| *u.as_uuid()),
            notes: d
                .notes
                .into_iter()
                .map(|n| NoteView {
                    author_id: n.author_id.map(|u| *u.as_uuid()),
                    text: n.text,
                    at: n.at,
                })
                .collect(),
            run_id: d.run_id.map(|r| *r.as_uuid()),
            created_at: d.created_at,
            updated_at: d.updated_at,
            version: d.version,
        }
    }
}

/// Views of `detections`, each with its rule (read once per rule).
pub(crate) async fn views(tx: &mut TenantTx, detections: Vec<Detection>) -> ApiResult<Vec<DetectionView>> {
    let mut rules: HashMap<RuleId, Option<Rule>> = HashMap::new();
    let mut out = Vec::with_capacity(detections.len());
    for d in detections {
        let rule = match d.rule_id {
            Some(id) => {
                if let std::collections::hash_map::Entry::Vacant(slot) = rules.entry(id) {
                    slot.insert(match tx.rule(id).await {
                        Ok(r) => Some(r),
                        Err(secops_store::StoreError::NotFound(_)) => None,
                        Err(e) => return Err(e.into()),
                    });
                }
                rules.get(&id).and_then(Option::as_ref)
            }
            None => None,
        };
        out.push(DetectionView::new(d, rule));
    }
    Ok(out)
}

/// A page of detections.
#[derive(Debug, Serialize, ToSchema)]
pub struct DetectionPage {
    /// Detections, newest first.
    pub items: Vec<DetectionView>,
    /// Cursor for the next page.
    pub next_cursor: Option<String>,
}

/// Filters for listing detections.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DetectionQuery {
    /// Only this status.
    #[param(value_type = Option<String>)]
    pub status: Option<DetectionStatus>,
    /// Only this level.
    pub level: Option<String>,
    /// Only this rule (stored id).
    pub rule_id: Option<uuid::Uuid>,
    /// Only this assignee.
    pub assignee_id: Option<uuid::Uuid>,
    /// Raised at or after (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Raised before (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// Rows per page (1 to 200, default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Changes a detection: status (within the workflow), assignee, a note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDetectionRequest {
    /// The version you read.
    pub version: i64,
    /// The next status.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub status: Option<DetectionStatus>,
    /// A member of the organisation to assign.
    #[serde(default)]
    pub assignee_id: Option<uuid::Uuid>,
    /// Removes the assignee.
    #[serde(default)]
    pub unassign: bool,
    /// A note to add.
    #[serde(default)]
    pub note: Option<String>,
}

/// List detections.
#[utoipa::path(get, path = "/v1/detections", tag = "detections", security(("bearer" = [])), params(DetectionQuery),
    responses((status = 200, body = DetectionPage), (status = 401, body = Problem)))]
pub async fn list_detections(
    State(state): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<DetectionQuery>,
) -> ApiResult<Json<DetectionPage>> {
    auth.0.require(Permission::DetectionsRead)?;
    if let Some(level) = &q.level
        && level_rank(level).is_none()
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            format!("unknown level `{level}`: use one of {}", LEVELS.join(", ")),
        ));
    }
    let filter = DetectionFilter {
        status: q.status,
        level: q.level,
        rule_id: q.rule_id.map(RuleId::from_uuid),
        assignee_id: q.assignee_id.map(UserId::from_uuid),
        since: q.since,
        until: q.until,
    };
    let mut tx = state.store.tenant_read(auth.org()).await?;
    let page = tx
        .detections(
            &filter,
            &secops_store::PageRequest {
                limit: q.limit.unwrap_or(0),
                cursor: q.cursor,
            },
        )
        .await?;
    let items = views(&mut tx, page.items).await?;
    tx.commit().await?;
    Ok(Json(DetectionPage {
        items,
        next_cursor: page.next_cursor,
    }))
}

/// One detection.
#[utoipa::path(get, path = "/v1/detections/{id}", tag = "detections", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Detection id")),
    responses((status = 200, body = DetectionView), (status = 404, body = Problem)))]
pub async fn get_detection(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
) -> ApiResult<Json<DetectionView>> {
    auth.0.require(Permission::DetectionsRead)?;
    let mut tx = state.store.tenant_read(auth.org()).await?;
    let d = tx.detection(DetectionId::from_uuid(id)).await?;
    let view = views(&mut tx, vec![d]).await?.pop();
    tx.commit().await?;
    view.map(Json).ok_or_else(|| ApiError::not_found("detection"))
}

/// Triage a detection: move it along the workflow, assign it, add a note.
#[utoipa::path(patch, path = "/v1/detections/{id}", tag = "detections", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Detection id")),
    request_body = UpdateDetectionRequest, responses((status = 200, body = DetectionView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_detection(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
    Body(req): Body<UpdateDetectionRequest>,
) -> ApiResult<Json<DetectionView>> {
    auth.0.require(Permission::DetectionsTriage)?;
    if req.unassign && req.assignee_id.is_some() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "give assignee_id or unassign, not both",
        ));
    }
    let mut tx = state.store.tenant(auth.org()).await?;
    if let Some(user) = req.assignee_id {
        // Only a member of the organisation can be assigned; another organisation's user is "not found".
        tx.member(UserId::from_uuid(user)).await.map_err(|e| match e {
            secops_store::StoreError::NotFound(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_assignee",
                "the assignee is not a member of this organisation",
            ),
            other => other.into(),
        })?;
    }
    let update = DetectionUpdate {
        status: req.status,
        assignee_id: if req.unassign {
            Some(None)
        } else {
            req.assignee_id.map(|u| Some(UserId::from_uuid(u)))
        },
        note: req.note.map(|text| DetectionNote {
            author_id: auth.user(),
            text,
            at: Utc::now(),
        }),
        run_id: None,
    };
    let updated = tx
        .update_detection(DetectionId::from_uuid(id), req.version, update)
        .await
        .map_err(|e| match e {
            secops_store::StoreError::InvalidInput(m) if m.contains("cannot become") => {
                ApiError::new(StatusCode::CONFLICT, "invalid_transition", m)
            }
            other => other.into(),
        })?;
    let view = views(&mut tx, vec![updated]).await?.pop();
    tx.commit().await?;
    view.map(Json).ok_or_else(|| ApiError::not_found("detection"))
}

/// A trigger as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TriggerView {
    /// Its id.
    pub id: uuid::Uuid,
    /// The agent it starts.
    pub agent_id: uuid::Uuid,
    /// What it reacts to, e.g. `{"kind": "detection", "rules": [], "min_level": "high"}`.
    #[schema(value_type = Object)]
    pub spec: TriggerSpec,
    /// Whether it fires.
    pub enabled: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Send it back when changing or deleting.
    pub version: i64,
}

impl From<Trigger> for TriggerView {
    fn from(t: Trigger) -> Self {
        Self {
            id: *t.id.as_uuid(),
            agent_id: *t.agent_id.as_uuid(),
            spec: t.spec,
            enabled: t.enabled,
            created_at: t.created_at,
            version: t.version,
        }
    }
}

/// A page of triggers.
#[derive(Debug, Serialize, ToSchema)]
pub struct TriggerPage {
    /// Triggers, newest first.
    pub items: Vec<TriggerView>,
    /// Cursor for the next page.
    pub next_cursor: Option<String>,
}

/// Creates a detection trigger: a detection of one of `rules` (any rule when empty) at `min_level` or above
/// starts the agent, with the detection as the run's input.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTriggerRequest {
    /// `detection` (the only kind this server drives).
    pub kind: String,
    /// Sigma rule ids; empty means any rule.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Lowest level that starts the agent (`informational` .. `critical`); any level when left out.
    #[serde(default)]
    pub min_level: Option<String>,
    /// Whether it fires (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Changes a trigger; fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTriggerRequest {
    /// The version you read.
    pub version: i64,
    /// New rule ids (empty: any rule).
    #[serde(default)]
    pub rules: Option<Vec<String>>,
    /// New lowest level.
    #[serde(default)]
    pub min_level: Option<String>,
    /// Enable or disable.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Only detection triggers are driven by this server; a schedule accepted here would never fire.
fn check_spec(spec: &TriggerSpec) -> ApiResult<()> {
    match spec {
        TriggerSpec::Detection { min_level, rules } => {
            if let Some(l) = min_level
                && level_rank(l).is_none()
            {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_input",
                    format!("unknown level `{l}`: use one of {}", LEVELS.join(", ")),
                ));
            }
            if rules.len() > 500 {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_input",
                    "at most 500 rules per trigger",
                ));
            }
            Ok(())
        }
        TriggerSpec::Manual | TriggerSpec::Schedule { .. } => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unsupported_trigger",
            "only `detection` triggers are supported; start other runs with POST /v1/agents/{id}/runs",
        )),
    }
}

/// List an agent's triggers.
#[utoipa::path(get, path = "/v1/agents/{id}/triggers", tag = "detections", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Agent id"), PageQuery),
    responses((status = 200, body = TriggerPage), (status = 404, body = Problem)))]
pub async fn list_triggers(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<TriggerPage>> {
    auth.0.require(Permission::AgentsRead)?;
    let mut tx = state.store.tenant_read(auth.org()).await?;
    let agent = tx.agent(AgentId::from_uuid(id)).await?;
    let page = tx.triggers(Some(agent.id), &q.into()).await?;
    tx.commit().await?;
    Ok(Json(TriggerPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Add a trigger that starts the agent on matching detections.
#[utoipa::path(post, path = "/v1/agents/{id}/triggers", tag = "detections", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Agent id")),
    request_body = CreateTriggerRequest, responses((status = 201, body = TriggerView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_trigger(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
    Body(req): Body<CreateTriggerRequest>,
) -> ApiResult<(StatusCode, Json<TriggerView>)> {
    auth.0.require(Permission::AgentsWrite)?;
    if req.kind != "detection" {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unsupported_trigger",
            "only `detection` triggers are supported; start other runs with POST /v1/agents/{id}/runs",
        ));
    }
    let spec = TriggerSpec::Detection {
        rules: req.rules,
        min_level: req.min_level,
    };
    check_spec(&spec)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    let trigger = tx
        .create_trigger(AgentId::from_uuid(id), spec, req.enabled.unwrap_or(true))
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(trigger.into())))
}

/// Change a trigger.
#[utoipa::path(patch, path = "/v1/triggers/{id}", tag = "detections", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Trigger id")),
    request_body = UpdateTriggerRequest, responses((status = 200, body = TriggerView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn update_trigger(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
    Body(req): Body<UpdateTriggerRequest>,
) -> ApiResult<Json<TriggerView>> {
    auth.0.require(Permission::AgentsWrite)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    let current = tx.trigger(TriggerId::from_uuid(id)).await?;
    let spec = match (current.spec, req.rules, req.min_level) {
        (_, None, None) => None,
        (TriggerSpec::Detection { rules, min_level }, new_rules, new_level) => Some(TriggerSpec::Detection {
            rules: new_rules.unwrap_or(rules),
            min_level: new_level.or(min_level),
        }),
        (_, _, _) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unsupported_trigger",
                "only detection triggers have rules and levels",
            ));
        }
    };
    if let Some(spec) = &spec {
        check_spec(spec)?;
    }
    let trigger = tx
        .update_trigger(TriggerId::from_uuid(id), req.version, spec, req.enabled)
        .await?;
    tx.commit().await?;
    Ok(Json(trigger.into()))
}

/// Delete a trigger.
#[utoipa::path(delete, path = "/v1/triggers/{id}", tag = "detections", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Trigger id"), VersionQuery),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_trigger(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
    QueryParams(q): QueryParams<VersionQuery>,
) -> ApiResult<StatusCode> {
    auth.0.require(Permission::AgentsWrite)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    tx.delete_trigger(TriggerId::from_uuid(id), q.version).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_detections))
        .routes(routes!(get_detection, update_detection))
        .routes(routes!(list_triggers, create_trigger))
        .routes(routes!(update_trigger, delete_trigger))
        .merge(rules::router())
}
