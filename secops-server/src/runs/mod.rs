//! Runs: start one, follow it (SSE, resumable with `Last-Event-ID`), cancel it, decide on tool calls that wait
//! for approval.

pub mod approvals;
mod worker;

pub use worker::LEASE;
pub(crate) use worker::LiveEvent;

use std::convert::Infallible;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use futures::Stream;
use secops_core::message::Message;
use secops_core::run::{ApprovalDecision, RunState};
use secops_core::tenancy::{AgentId, Permission, RunId};
use secops_store::runs::{NewRun, RunFilter, RunTrigger};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use worker::Worker;

use crate::application::runs::{Live, cancel, decide_call, queue_new_run, run_feed, runtime_agent};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Auth, Body, PathParam, QueryParams};
use crate::state::AppState;

/// Starts a run.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRunRequest {
    /// What to do, e.g. the alert to triage.
    pub input: String,
}

/// A run as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunView {
    /// Its id.
    pub id: uuid::Uuid,
    /// The agent.
    pub agent_id: uuid::Uuid,
    /// `queued`, `running`, `awaiting_approval`, `finished`, `failed` or `cancelled`.
    pub status: String,
    /// What started it.
    pub trigger: String,
    /// The prompt version used.
    pub prompt_version: Option<i32>,
    /// The answer and why the run ended, once it has.
    #[schema(value_type = Option<Object>)]
    pub output: Option<secops_core::run::RunOutput>,
    /// Tokens used.
    #[schema(value_type = Object)]
    pub usage: secops_core::model::Usage,
    /// Cost in US dollars.
    pub cost_usd: f64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Ended.
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<secops_store::runs::Run> for RunView {
    fn from(r: secops_store::runs::Run) -> Self {
        Self {
            id: *r.id.as_uuid(),
            agent_id: *r.agent_id.as_uuid(),
            status: r.status,
            trigger: serde_json::to_value(r.trigger)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            prompt_version: r.prompt_version,
            output: r.output,
            usage: r.usage,
            cost_usd: r.cost_usd,
            created_at: r.created_at,
            finished_at: r.finished_at,
        }
    }
}

/// A page of runs.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunPage {
    /// Runs, newest first.
    pub items: Vec<RunView>,
    /// Cursor for the next page.
    pub next_cursor: Option<String>,
}

/// Run list filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    /// Only this agent.
    pub agent_id: Option<uuid::Uuid>,
    /// Only this status.
    pub status: Option<String>,
    /// Created at or after.
    pub since: Option<DateTime<Utc>>,
    /// Created before.
    pub until: Option<DateTime<Utc>>,
    /// Rows per page.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A decision on a tool call that waits for approval.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, tag = "decision", rename_all = "snake_case")]
pub enum ApprovalRequest {
    /// Run it as asked.
    Approve,
    /// Do not run it.
    Deny {
        /// Why (the model is told).
        reason: String,
    },
    /// Run it with these arguments.
    Edit {
        /// The new arguments.
        #[schema(value_type = Object)]
        input: serde_json::Value,
    },
}

impl From<ApprovalRequest> for ApprovalDecision {
    fn from(r: ApprovalRequest) -> Self {
        match r {
            ApprovalRequest::Approve => ApprovalDecision::Approve,
            ApprovalRequest::Deny { reason } => ApprovalDecision::Deny { reason },
            ApprovalRequest::Edit { input } => ApprovalDecision::Edit { input },
        }
    }
}

/// Start a run of an agent (answers at once; follow it with the events stream).
#[utoipa::path(post, path = "/v1/agents/{id}/runs", tag = "runs", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Agent id")),
    request_body = StartRunRequest, responses((status = 202, body = RunView), (status = 404, body = Problem), (status = 503, body = Problem)))]
pub async fn start_run(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
    Body(req): Body<StartRunRequest>,
) -> ApiResult<(StatusCode, Json<RunView>)> {
    auth.0.require(Permission::RunsStart)?;
    if req.input.trim().is_empty() || req.input.len() > 100_000 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "the input must be 1 to 100,000 bytes",
        ));
    }
    let org = auth.org();
    let mut tx = state.store.tenant(org).await?;
    let agent = tx.agent(AgentId::from_uuid(id)).await?;
    if !agent.enabled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "agent_disabled",
            "the agent is disabled",
        ));
    }
    let prompt = tx.active_prompt(agent.id).await?;
    let runtime = runtime_agent(
        &state,
        &mut tx,
        agent.config.clone(),
        prompt.body.clone(),
        &agent.tools,
    )
    .await?;
    let run_state = RunState::new(agent.config.mode, Some(org), Message::user(req.input.clone()));
    let run = tx
        .create_run(
            run_state.run_id,
            NewRun {
                agent_id: agent.id,
                trigger: RunTrigger::Manual,
                prompt_version: Some(prompt.number),
                input: serde_json::json!({"text": req.input}),
            },
        )
        .await?;
    // Followers subscribe through the events route.
    drop(queue_new_run(&state, tx, runtime, org, run_state, run.version, None).await?);
    Ok((StatusCode::ACCEPTED, Json(run.into())))
}

/// List runs.
#[utoipa::path(get, path = "/v1/runs", tag = "runs", security(("bearer" = [])), params(RunQuery),
    responses((status = 200, body = RunPage), (status = 403, body = Problem)))]
pub async fn list_runs(
    State(state): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<RunQuery>,
) -> ApiResult<Json<RunPage>> {
    auth.0.require(Permission::RunsRead)?;
    let filter = RunFilter {
        agent_id: q.agent_id.map(AgentId::from_uuid),
        status: q.status,
        trigger: None,
        since: q.since,
        until: q.until,
    };
    let mut tx = state.store.tenant_read(auth.org()).await?;
    let page = tx
        .runs(
            &filter,
            &secops_store::PageRequest {
                limit: q.limit.unwrap_or(0),
                cursor: q.cursor,
            },
        )
        .await?;
    tx.commit().await?;
    Ok(Json(RunPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One run.
#[utoipa::path(get, path = "/v1/runs/{id}", tag = "runs", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Run id")),
    responses((status = 200, body = RunView), (status = 404, body = Problem)))]
pub async fn get_run(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
) -> ApiResult<Json<RunView>> {
    auth.0.require(Permission::RunsRead)?;
    let mut tx = state.store.tenant_read(auth.org()).await?;
    let run = tx.run(RunId::from_uuid(id)).await?;
    tx.commit().await?;
    Ok(Json(run.into()))
}

/// Follow a run's events as server-sent events; `Last-Event-ID` resumes after that sequence number. The stream
/// ends when the run has ended and every event was sent.
#[utoipa::path(get, path = "/v1/runs/{id}/events", tag = "runs", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Run id")),
    responses((status = 200, content_type = "text/event-stream", body = String), (status = 404, body = Problem)))]
pub async fn run_events(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    auth.0.require(Permission::RunsRead)?;
    let run_id = RunId::from_uuid(id);
    let org = auth.org();
    let mut tx = state.store.tenant_read(org).await?;
    tx.run(run_id).await?;
    tx.commit().await?;
    let after: i64 = match headers.get("last-event-id").and_then(|v| v.to_str().ok()) {
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| ApiError::bad_request("Last-Event-ID must be a sequence number"))?,
        None => 0,
    };
    Ok(event_stream(&state, org, run_id, after, None))
}

/// The events of a run after `after`, as server-sent events, until the run has ended and all were sent.
pub(crate) fn event_stream(
    state: &AppState,
    org: secops_core::tenancy::OrgId,
    run_id: RunId,
    after: i64,
    live: Option<Live>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>> + use<>> {
    use futures::StreamExt;
    let stream = run_feed(state, org, run_id, after, live).map(|item| {
        Ok(match item {
            Ok(e) => Event::default()
                .id(e.seq.to_string())
                .event(e.kind)
                .data(e.payload.to_string()),
            Err(e) => Event::default().event("error").data(e.to_string()),
        })
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Cancel a run.
#[utoipa::path(post, path = "/v1/runs/{id}/cancel", tag = "runs", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Run id")),
    responses((status = 202, body = RunView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn cancel_run(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
) -> ApiResult<(StatusCode, Json<RunView>)> {
    let run = cancel(&state, &auth, RunId::from_uuid(id)).await?;
    Ok((StatusCode::ACCEPTED, Json(run.into())))
}

/// Approve, deny or edit a tool call that waits for approval; the run resumes once every waiting call is decided.
#[utoipa::path(post, path = "/v1/runs/{id}/approvals/{tool_call_id}", tag = "runs", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Run id"), ("tool_call_id" = String, Path, description = "The waiting call")),
    request_body = ApprovalRequest, responses((status = 202, body = RunView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn decide(
    State(state): State<AppState>,
    auth: Auth,
    PathParam((id, call_id)): PathParam<(uuid::Uuid, String)>,
    Body(req): Body<ApprovalRequest>,
) -> ApiResult<(StatusCode, Json<RunView>)> {
    let run = decide_call(&state, &auth, RunId::from_uuid(id), &call_id, req.into()).await?;
    Ok((StatusCode::ACCEPTED, Json(run.into())))
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_run))
        .routes(routes!(list_runs))
        .routes(routes!(get_run))
        .routes(routes!(run_events))
        .routes(routes!(cancel_run))
        .routes(routes!(decide))
        .routes(routes!(approvals::list_approvals))
}
