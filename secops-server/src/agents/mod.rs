//! Agents and their versioned system prompts.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use secops_core::run::PlanningMode;
use secops_core::tenancy::{AgentId, Permission};
use secops_store::agents::{AgentUpdate, NewAgent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::PageQuery;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Auth, Body, PathParam, QueryParams, VersionQuery};
use crate::input::{AgentSettings, Name};
use crate::state::AppState;

/// An agent as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    /// Its id.
    pub id: uuid::Uuid,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Model override.
    pub model: Option<String>,
    /// Planning mode, budgets, approval policy and other settings.
    pub config: AgentSettings,
    /// Tools it may use.
    pub tools: Vec<String>,
    /// Enabled.
    pub enabled: bool,
    /// The active prompt version.
    pub active_prompt_version: Option<i32>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Send this back when changing the agent.
    pub version: i64,
}

impl From<secops_store::agents::Agent> for AgentView {
    fn from(a: secops_store::agents::Agent) -> Self {
        Self {
            id: *a.id.as_uuid(),
            name: a.name,
            description: a.description,
            model: a.model,
            config: a.config.into(),
            tools: a.tools,
            enabled: a.enabled,
            active_prompt_version: a.active_prompt_version,
            created_at: a.created_at,
            updated_at: a.updated_at,
            version: a.version,
        }
    }
}

/// A page of agents.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentPage {
    /// Agents, newest first.
    pub items: Vec<AgentView>,
    /// Cursor for the next page.
    pub next_cursor: Option<String>,
}

/// Creates an agent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgentRequest {
    /// Unique name.
    pub name: Name,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// Model override.
    #[serde(default)]
    pub model: Option<String>,
    /// `single_step`, `plan_and_execute` or `loop_with_limits` (default).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub mode: Option<PlanningMode>,
    /// Other settings (budgets, approval policy, ...); defaults when absent.
    #[serde(default)]
    pub config: Option<AgentSettings>,
    /// The first system prompt.
    pub system_prompt: String,
    /// Tool names.
    #[serde(default)]
    pub tools: Vec<String>,
    /// Enabled (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Changes an agent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgentRequest {
    /// The version you read (optimistic concurrency).
    pub version: i64,
    /// New name.
    #[serde(default)]
    pub name: Option<Name>,
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// New settings.
    #[serde(default)]
    pub config: Option<AgentSettings>,
    /// New tool list.
    #[serde(default)]
    pub tools: Option<Vec<String>>,
    /// Enable or disable.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A prompt version.
#[derive(Debug, Serialize, ToSchema)]
pub struct PromptView {
    /// Number, from 1.
    pub number: i32,
    /// The prompt.
    pub body: String,
    /// Why it changed.
    pub note: String,
    /// Author.
    pub author_id: Option<uuid::Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<secops_store::agents::PromptVersion> for PromptView {
    fn from(p: secops_store::agents::PromptVersion) -> Self {
        Self {
            number: p.number,
            body: p.body,
            note: p.note,
            author_id: p.author_id.map(|a| *a.as_uuid()),
            created_at: p.created_at,
        }
    }
}

/// A page of prompt versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct PromptPage {
    /// Versions, newest first.
    pub items: Vec<PromptView>,
    /// Cursor for the next page.
    pub next_cursor: Option<String>,
}

/// Adds a prompt version.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePromptRequest {
    /// The prompt.
    pub body: String,
    /// Why it changed.
    #[serde(default)]
    pub note: String,
}

/// Activates a prompt version.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivatePromptRequest {
    /// The agent's version you read.
    pub agent_version: i64,
}

/// List agents.
#[utoipa::path(get, path = "/v1/agents", tag = "agents", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = AgentPage), (status = 401, body = Problem)))]
pub async fn list_agents(
    State(state): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<AgentPage>> {
    auth.0.require(Permission::AgentsRead)?;
    let mut tx = state.store.tenant_read(auth.org()).await?;
    let page = tx.agents(&q.into()).await?;
    tx.commit().await?;
    Ok(Json(AgentPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Create an agent.
#[utoipa::path(post, path = "/v1/agents", tag = "agents", security(("bearer" = [])), request_body = CreateAgentRequest,
    responses((status = 201, body = AgentView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_agent(
    State(state): State<AppState>,
    auth: Auth,
    Body(req): Body<CreateAgentRequest>,
) -> ApiResult<(StatusCode, Json<AgentView>)> {
    auth.0.require(Permission::AgentsWrite)?;
    let mut config = req.config.unwrap_or_default().into_config()?;
    if let Some(mode) = req.mode {
        config.mode = mode;
    }
    let mut tx = state.store.tenant(auth.org()).await?;
    // An agent may only name tools that exist, so a typo fails here rather than at its first run.
    crate::application::agent_tools::check_agent_tools(&state, &mut tx, &req.tools).await?;
    let agent = tx
        .create_agent(NewAgent {
            name: req.name.into_inner(),
            description: req.description,
            model: req.model,
            config,
            tools: req.tools,
            enabled: req.enabled.unwrap_or(true),
            system_prompt: req.system_prompt,
            author: auth.user(),
        })
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(agent.into())))
}

/// One agent.
#[utoipa::path(get, path = "/v1/agents/{id}", tag = "agents", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Agent id")),
    responses((status = 200, body = AgentView), (status = 404, body = Problem)))]
pub async fn get_agent(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
) -> ApiResult<Json<AgentView>> {
    auth.0.require(Permission::AgentsRead)?;
    let mut tx = state.store.tenant_read(auth.org()).await?;
    let agent = tx.agent(AgentId::from_uuid(id)).await?;
    tx.commit().await?;
    Ok(Json(agent.into()))
}

/// Change an agent.
#[utoipa::path(patch, path = "/v1/agents/{id}", tag = "agents", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Agent id")),
    request_body = UpdateAgentRequest, responses((status = 200, body = AgentView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn update_agent(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
    Body(req): Body<UpdateAgentRequest>,
) -> ApiResult<Json<AgentView>> {
    auth.0.require(Permission::AgentsWrite)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    if let Some(tools) = &req.tools {
        crate::application::agent_tools::check_agent_tools(&state, &mut tx, tools).await?;
    }
    let update = AgentUpdate {
        name: req.name.map(Name::into_inner),
        description: req.description,
        model: None,
        config: req.config.map(AgentSettings::into_config).transpose()?,
        tools: req.tools,
        enabled: req.enabled,
    };
    let agent = tx
        .update_agent(AgentId::from_uuid(id), req.version, update)
        .await?;
    tx.commit().await?;
    Ok(Json(agent.into()))
}

/// Delete an agent.
#[utoipa::path(delete, path = "/v1/agents/{id}", tag = "agents", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Agent id"), VersionQuery),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_agent(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
    QueryParams(q): QueryParams<VersionQuery>,
) -> ApiResult<StatusCode> {
    auth.0.require(Permission::AgentsWrite)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    tx.delete_agent(AgentId::from_uuid(id), q.version).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List an agent's prompt versions.
#[utoipa::path(get, path = "/v1/agents/{id}/prompts", tag = "agents", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Agent id"), PageQuery),
    responses((status = 200, body = PromptPage), (status = 404, body = Problem)))]
pub async fn list_prompts(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<PromptPage>> {
    auth.0.require(Permission::AgentsRead)?;
    let mut tx = state.store.tenant_read(auth.org()).await?;
    let agent = AgentId::from_uuid(id);
    tx.agent(agent).await?;
    let page = tx.prompt_versions(agent, &q.into()).await?;
    tx.commit().await?;
    Ok(Json(PromptPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Add a prompt version (not yet active).
#[utoipa::path(post, path = "/v1/agents/{id}/prompts", tag = "agents", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Agent id")),
    request_body = CreatePromptRequest, responses((status = 201, body = PromptView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_prompt(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
    Body(req): Body<CreatePromptRequest>,
) -> ApiResult<(StatusCode, Json<PromptView>)> {
    auth.0.require(Permission::AgentsWrite)?;
    if req.body.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "the prompt must not be empty",
        ));
    }
    let mut tx = state.store.tenant(auth.org()).await?;
    let prompt = tx
        .add_prompt_version(AgentId::from_uuid(id), &req.body, auth.user(), &req.note)
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(prompt.into())))
}

/// Which two prompt versions to compare.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    /// The older version.
    pub from: i32,
    /// The newer version.
    pub to: i32,
}

/// One run of lines in a prompt diff.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiffChange {
    /// `equal`, `delete` or `insert`.
    pub op: &'static str,
    /// The lines.
    pub text: String,
}

/// The difference between two prompt versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct PromptDiff {
    /// The older version.
    pub from: i32,
    /// The newer version.
    pub to: i32,
    /// A unified diff (as `diff -u` prints it).
    pub unified: String,
    /// The same as a list of changes, for rendering.
    pub changes: Vec<DiffChange>,
}

/// Compare two prompt versions line by line.
#[utoipa::path(get, path = "/v1/agents/{id}/prompts/diff", tag = "agents", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Agent id"), DiffQuery),
    responses((status = 200, body = PromptDiff), (status = 404, body = Problem)))]
pub async fn diff_prompts(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
    QueryParams(q): QueryParams<DiffQuery>,
) -> ApiResult<Json<PromptDiff>> {
    auth.0.require(Permission::AgentsRead)?;
    let agent = AgentId::from_uuid(id);
    let mut tx = state.store.tenant_read(auth.org()).await?;
    let old = tx.prompt_version(agent, q.from).await?;
    let new = tx.prompt_version(agent, q.to).await?;
    tx.commit().await?;
    let diff = similar::TextDiff::from_lines(&old.body, &new.body);
    let unified = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("v{}", q.from), &format!("v{}", q.to))
        .to_string();
    let mut changes: Vec<DiffChange> = Vec::new();
    for change in diff.iter_all_changes() {
        let op = match change.tag() {
            similar::ChangeTag::Equal => "equal",
            similar::ChangeTag::Delete => "delete",
            similar::ChangeTag::Insert => "insert",
        };
        // Consecutive lines of one kind form one change.
        match changes.last_mut() {
            Some(last) if last.op == op => last.text.push_str(change.value()),
            _ => changes.push(DiffChange {
                op,
                text: change.value().to_owned(),
            }),
        }
    }
    Ok(Json(PromptDiff {
        from: q.from,
        to: q.to,
        unified,
        changes,
    }))
}

/// Make a prompt version the active one (an older one too).
#[utoipa::path(post, path = "/v1/agents/{id}/prompts/{number}/activate", tag = "agents", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Agent id"), ("number" = i32, Path, description = "Version number")),
    request_body = ActivatePromptRequest, responses((status = 200, body = AgentView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn activate_prompt(
    State(state): State<AppState>,
    auth: Auth,
    PathParam((id, number)): PathParam<(uuid::Uuid, i32)>,
    Body(req): Body<ActivatePromptRequest>,
) -> ApiResult<Json<AgentView>> {
    auth.0.require(Permission::AgentsWrite)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    let agent = tx
        .activate_prompt_version(AgentId::from_uuid(id), number, req.agent_version)
        .await?;
    tx.commit().await?;
    Ok(Json(agent.into()))
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_agents, create_agent))
        .routes(routes!(get_agent, update_agent, delete_agent))
        .routes(routes!(list_prompts, create_prompt))
        .routes(routes!(activate_prompt))
        .routes(routes!(diff_prompts))
}
