//! Tools: the catalogue (`/v1/tools`), each organisation's tool configurations (`/v1/tool-configs`, with
//! write-only credentials and a test-connection call), and building a run's tools from the agent's names.
//!
//! A configuration named `splunk-prod` yields tools named `splunk-prod_search` and so on (see
//! [`secops_tools::catalog`]); an agent names those, or tools the server itself registered. Credentials are
//! sealed in the store, opened only to build tools, and scrubbed from everything the tools return.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use secops_core::tenancy::{Permission, ToolConfigId};
use secops_core::tool::{RiskLevel, Tool, ToolDefinition};
use secops_store::tool_configs::{NewToolConfig, ToolConfig, ToolConfigChange};
use secops_tools::catalog::{self, CatalogError};
use secops_tools::egress::{EgressClient, EgressConfig, EgressPolicy};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::PageQuery;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Auth, Body, PathParam, QueryParams, VersionQuery};
use crate::state::AppState;

/// A kind of tool configuration.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolKindView {
    /// The kind, e.g. `splunk`.
    pub kind: String,
    /// What it connects to.
    pub description: String,
    /// JSON Schema of `settings`.
    #[schema(value_type = Object)]
    pub settings_schema: Value,
    /// JSON Schema of `credentials`.
    #[schema(value_type = Object)]
    pub credentials_schema: Value,
    /// The tools a configuration of this kind yields (empty when declared in the settings).
    pub actions: Vec<ActionView>,
}

/// One tool of a kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionView {
    /// Appended to the configuration's name (`name_action`) to make the tool's name.
    pub action: String,
    /// What it does.
    pub description: String,
    /// `low`, `medium` or `high`; high-risk calls wait for approval.
    #[schema(value_type = String)]
    pub risk: RiskLevel,
}

/// A tool the server itself offers to every organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct BuiltinToolView {
    /// Its name, as agents name it.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Its risk.
    #[schema(value_type = String)]
    pub risk: RiskLevel,
    /// JSON Schema of its input.
    #[schema(value_type = Object)]
    pub input_schema: Value,
}

/// The tool catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolCatalogue {
    /// Kinds an organisation can configure.
    pub kinds: Vec<ToolKindView>,
    /// Tools the server offers as they are.
    pub builtin: Vec<BuiltinToolView>,
}

/// A tool configuration as the API shows it: never its credentials.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolConfigView {
    /// Its id.
    pub id: uuid::Uuid,
    /// Its name; its tools are named `name_action`.
    pub name: String,
    /// Its kind.
    pub kind: String,
    /// Settings (not secret).
    #[schema(value_type = Object)]
    pub settings: Value,
    /// Whether credentials are stored; their values are never returned.
    pub has_credentials: bool,
    /// Private or loopback ranges its tools may reach.
    pub egress_allow: Vec<String>,
    /// The names of the tools it yields, for attaching to agents.
    pub tools: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Send it back when changing or deleting.
    pub version: i64,
}

impl From<ToolConfig> for ToolConfigView {
    fn from(c: ToolConfig) -> Self {
        let tools = tool_names(&c);
        Self {
            id: *c.id.as_uuid(),
            name: c.name,
            kind: c.kind,
            settings: c.settings,
            has_credentials: c.has_credentials,
            egress_allow: c.egress_allow,
            tools,
            created_at: c.created_at,
            updated_at: c.updated_at,
            version: c.version,
        }
    }
}

/// The tool names a configuration yields: from the catalogue, its declared HTTP tools, or the tools discovered
/// on its MCP server.
pub(crate) fn tool_names(c: &ToolConfig) -> Vec<String> {
    names_of(&c.name, &c.kind, &c.settings, &c.discovered_tools)
}

fn names_of(name: &str, kind: &str, settings: &Value, discovered: &[ToolDefinition]) -> Vec<String> {
    if kind == "mcp" {
        return discovered.iter().map(|d| d.name.clone()).collect();
    }
    let actions: Vec<String> = match catalog::kind(kind) {
        Some(k) if !k.actions.is_empty() => k.actions.into_iter().map(|a| a.action).collect(),
        _ => settings["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["name"].as_str().map(str::to_owned))
            .collect(),
    };
    actions.iter().map(|a| catalog::tool_name(name, a)).collect()
}

/// A page of tool configurations.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolConfigPage {
    /// Configurations, newest first.
    pub items: Vec<ToolConfigView>,
    /// Cursor for the next page.
    pub next_cursor: Option<String>,
}

/// Creates a tool configuration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToolConfigRequest {
    /// 1 to 32 lowercase letters, digits and `-`, starting with a letter.
    pub name: String,
    /// A kind from `GET /v1/tools`.
    pub kind: String,
    /// Settings, per the kind's `settings_schema`.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub settings: Value,
    /// Credentials, per the kind's `credentials_schema`. Stored encrypted; never returned.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub credentials: Option<Value>,
    /// Private or loopback ranges (CIDR) the tools may reach, within what the server permits.
    #[serde(default)]
    pub egress_allow: Vec<String>,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// Changes a tool configuration; fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateToolConfigRequest {
    /// The version you read.
    pub version: i64,
    /// New settings.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub settings: Option<Value>,
    /// New credentials (replace the stored ones).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub credentials: Option<Value>,
    /// Removes the stored credentials.
    #[serde(default)]
    pub remove_credentials: bool,
    /// New egress allow-list.
    #[serde(default)]
    pub egress_allow: Option<Vec<String>>,
}

/// What a connection test found.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolTestReport {
    /// Whether the service answered and accepted the credentials.
    pub ok: bool,
    /// `connection`, or `configuration` when the kind cannot be tested without acting.
    pub checked: String,
    /// What happened; never holds a credential.
    pub detail: String,
}

fn invalid_config(e: CatalogError) -> ApiError {
    let code = match e {
        CatalogError::UnknownKind(_) => "unknown_tool_kind",
        CatalogError::InvalidName { .. } => "invalid_tool_name",
        CatalogError::InvalidCredentials { .. } => "invalid_credentials",
        _ => "invalid_settings",
    };
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string())
}

/// Each entry must be a CIDR range inside one the operator permits (`tool_egress_allowable`).
fn check_egress(state: &AppState, entries: &[String]) -> ApiResult<()> {
    if entries.len() > 32 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_egress",
            "at most 32 egress ranges",
        ));
    }
    for e in entries {
        let net: ipnet::IpNet = e.parse().map_err(|_| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_egress",
                format!("`{e}` is not a CIDR range like 10.20.0.5/32"),
            )
        })?;
        if !state
            .config
            .tool_egress_allowable
            .iter()
            .any(|p| p.contains(&net))
        {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "egress_not_permitted",
                format!(
                    "this server does not let tools reach {net}; its operator permits {}",
                    if state.config.tool_egress_allowable.is_empty() {
                        "no private ranges (SECOPS_TOOL_EGRESS_ALLOWABLE)".to_owned()
                    } else {
                        state
                            .config
                            .tool_egress_allowable
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
            ));
        }
    }
    Ok(())
}

/// A configuration may not yield a tool the server already offers under that name.
fn check_no_clash(
    state: &AppState,
    name: &str,
    kind: &str,
    settings: &Value,
    discovered: &[ToolDefinition],
) -> ApiResult<()> {
    if let Some(clash) = names_of(name, kind, settings, discovered)
        .into_iter()
        .find(|t| state.tools.definition(t).is_some())
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_exists",
            format!("the server already offers a tool named `{clash}`; choose another configuration name"),
        ));
    }
    Ok(())
}

/// The egress client for a configuration: public addresses, plus its allow-list.
pub(crate) fn egress_client(egress_allow: &[String]) -> Result<EgressClient, ApiError> {
    let policy = EgressPolicy::with_allow_list(egress_allow)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_egress", e))?;
    EgressClient::new(policy, EgressConfig::default()).map_err(|e| {
        tracing::error!(error = %e, "cannot build an HTTP client");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred",
        )
    })
}

/// The tools an MCP configuration's server offers now (empty for other kinds), found outside any transaction.
async fn discover(
    name: &str,
    kind: &str,
    settings: &Value,
    credentials: Option<&Value>,
    egress_allow: &[String],
) -> ApiResult<Vec<ToolDefinition>> {
    if kind != "mcp" {
        return Ok(Vec::new());
    }
    let client = egress_client(egress_allow)?;
    catalog::mcp::discover(name, settings, credentials, &client)
        .await
        .map_err(|e| match e {
            CatalogError::Unavailable(detail) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "tool_service_unreachable",
                format!("cannot list the MCP server's tools: {detail}"),
            ),
            other => invalid_config(other),
        })
}

/// The tool catalogue: kinds an organisation can configure, and the server's own tools.
#[utoipa::path(get, path = "/v1/tools", tag = "tools", security(("bearer" = [])),
    responses((status = 200, body = ToolCatalogue), (status = 401, body = Problem)))]
pub async fn catalogue(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<ToolCatalogue>> {
    auth.0.require(Permission::ToolsRead)?;
    let kinds = catalog::kinds()
        .into_iter()
        .map(|k| ToolKindView {
            kind: k.kind.to_owned(),
            description: k.description.to_owned(),
            settings_schema: k.settings_schema,
            credentials_schema: k.credentials_schema,
            actions: k
                .actions
                .into_iter()
                .map(|a| ActionView {
                    action: a.action,
                    description: a.description,
                    risk: a.risk,
                })
                .collect(),
        })
        .collect();
    let builtin = state
        .tools
        .definitions()
        .iter()
        .map(|d| BuiltinToolView {
            name: d.name.clone(),
            description: d.description.clone(),
            risk: d.risk,
            input_schema: d.input_schema.clone(),
        })
        .collect();
    Ok(Json(ToolCatalogue { kinds, builtin }))
}

/// List the organisation's tool configurations.
#[utoipa::path(get, path = "/v1/tool-configs", tag = "tools", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = ToolConfigPage), (status = 401, body = Problem)))]
pub async fn list_configs(
    State(state): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<ToolConfigPage>> {
    auth.0.require(Permission::ToolsRead)?;
    let mut tx = state.store.tenant_read(auth.org()).await?;
    let page = tx.tool_configs(&q.into()).await?;
    tx.commit().await?;
    Ok(Json(ToolConfigPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Create a tool configuration. Credentials are encrypted and never returned.
#[utoipa::path(post, path = "/v1/tool-configs", tag = "tools", security(("bearer" = [])), request_body = CreateToolConfigRequest,
    responses((status = 201, body = ToolConfigView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_config(
    State(state): State<AppState>,
    auth: Auth,
    Body(req): Body<CreateToolConfigRequest>,
) -> ApiResult<(StatusCode, Json<ToolConfigView>)> {
    auth.0.require(Permission::ToolsManage)?;
    catalog::check_config_name(&req.name).map_err(invalid_config)?;
    catalog::validate(&req.kind, &req.settings, req.credentials.as_ref()).map_err(invalid_config)?;
    check_egress(&state, &req.egress_allow)?;
    let discovered = discover(
        &req.name,
        &req.kind,
        &req.settings,
        req.credentials.as_ref(),
        &req.egress_allow,
    )
    .await?;
    check_no_clash(&state, &req.name, &req.kind, &req.settings, &discovered)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    let created = tx
        .create_tool_config(
            &state.secret_box,
            NewToolConfig {
                name: req.name,
                kind: req.kind,
                settings: req.settings,
                credentials: req.credentials,
                egress_allow: req.egress_allow,
                discovered_tools: discovered,
            },
        )
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// One tool configuration.
#[utoipa::path(get, path = "/v1/tool-configs/{id}", tag = "tools", operation_id = "get_tool_config", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Tool configuration id")),
    responses((status = 200, body = ToolConfigView), (status = 404, body = Problem)))]
pub async fn get_config(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
) -> ApiResult<Json<ToolConfigView>> {
    auth.0.require(Permission::ToolsRead)?;
    let mut tx = state.store.tenant_read(auth.org()).await?;
    let config = tx.tool_config(ToolConfigId::from_uuid(id)).await?;
    tx.commit().await?;
    Ok(Json(config.into()))
}

/// Change a tool configuration: settings, credentials (write-only) or egress allow-list.
#[utoipa::path(patch, path = "/v1/tool-configs/{id}", tag = "tools", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Tool configuration id")),
    request_body = UpdateToolConfigRequest, responses((status = 200, body = ToolConfigView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_config(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
    Body(req): Body<UpdateToolConfigRequest>,
) -> ApiResult<Json<ToolConfigView>> {
    auth.0.require(Permission::ToolsManage)?;
    if req.remove_credentials && req.credentials.is_some() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "give new credentials or remove_credentials, not both",
        ));
    }
    if let Some(e) = &req.egress_allow {
        check_egress(&state, e)?;
    }
    let id = ToolConfigId::from_uuid(id);
    let mut tx = state.store.tenant_read(auth.org()).await?;
    let current = tx.tool_config(id).await?;
    // The result must still be a usable configuration, so check it whole, with the stored credentials when
    // they are kept.
    let settings = req.settings.clone().unwrap_or_else(|| current.settings.clone());
    let credentials = match (&req.credentials, req.remove_credentials) {
        (Some(c), _) => Some(c.clone()),
        (None, true) => None,
        (None, false) => tx.tool_credentials(&state.secret_box, id).await?,
    };
    // No transaction stays open across the network: the version check below catches a change meanwhile.
    tx.commit().await?;
    catalog::validate(&current.kind, &settings, credentials.as_ref()).map_err(invalid_config)?;
    let egress = req
        .egress_allow
        .clone()
        .unwrap_or_else(|| current.egress_allow.clone());
    let rediscover = req.settings.is_some()
        || req.credentials.is_some()
        || req.remove_credentials
        || req.egress_allow.is_some();
    let discovered = if rediscover {
        discover(
            &current.name,
            &current.kind,
            &settings,
            credentials.as_ref(),
            &egress,
        )
        .await?
    } else {
        current.discovered_tools.clone()
    };
    check_no_clash(&state, &current.name, &current.kind, &settings, &discovered)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    let change = ToolConfigChange {
        settings: req.settings,
        credentials: match (req.credentials, req.remove_credentials) {
            (Some(c), _) => Some(Some(c)),
            (None, true) => Some(None),
            (None, false) => None,
        },
        egress_allow: req.egress_allow,
        discovered_tools: rediscover.then_some(discovered),
    };
    let updated = tx
        .update_tool_config(&state.secret_box, id, req.version, change)
        .await?;
    tx.commit().await?;
    Ok(Json(updated.into()))
}

/// Delete a tool configuration. Agents naming its tools fail to start until they are changed.
#[utoipa::path(delete, path = "/v1/tool-configs/{id}", tag = "tools", operation_id = "delete_tool_config", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Tool configuration id"), VersionQuery),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_config(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
    QueryParams(q): QueryParams<VersionQuery>,
) -> ApiResult<StatusCode> {
    auth.0.require(Permission::ToolsManage)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    tx.delete_tool_config(ToolConfigId::from_uuid(id), q.version)
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Test a configuration: one read-only, authenticated request to its service.
#[utoipa::path(post, path = "/v1/tool-configs/{id}/test", tag = "tools", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Tool configuration id")),
    responses((status = 200, body = ToolTestReport), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn test_config(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
) -> ApiResult<Json<ToolTestReport>> {
    auth.0.require(Permission::ToolsManage)?;
    let id = ToolConfigId::from_uuid(id);
    let mut tx = state.store.tenant_read(auth.org()).await?;
    let config = tx.tool_config(id).await?;
    let credentials = tx.tool_credentials(&state.secret_box, id).await?;
    // No transaction stays open across the network call.
    tx.commit().await?;
    let client = egress_client(&config.egress_allow)?;
    let report = catalog::probe(&config.kind, &config.settings, credentials.as_ref(), &client)
        .await
        .map_err(invalid_config)?;
    // A test of an MCP server also refreshes the tools it offers.
    if report.ok && config.kind == "mcp" {
        let found = catalog::mcp::discover(&config.name, &config.settings, credentials.as_ref(), &client)
            .await
            .map_err(invalid_config)?;
        if found != config.discovered_tools {
            let mut tx = state.store.tenant(auth.org()).await?;
            let change = ToolConfigChange {
                discovered_tools: Some(found),
                ..ToolConfigChange::default()
            };
            tx.update_tool_config(&state.secret_box, id, config.version, change)
                .await?;
            tx.commit().await?;
        }
    }
    Ok(Json(ToolTestReport {
        ok: report.ok,
        checked: report.checked.to_owned(),
        detail: report.detail,
    }))
}

/// The tools of one configuration.
pub(crate) type BuiltTools = Arc<Vec<Arc<dyn Tool>>>;

/// Tools built from configurations, kept per configuration version so OAuth tokens and connection pools live
/// across runs, and credentials are decrypted once per change rather than once per run.
#[derive(Default)]
pub struct ConfiguredTools {
    built: Mutex<HashMap<ToolConfigId, (i64, BuiltTools)>>,
}

impl std::fmt::Debug for ConfiguredTools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConfiguredTools")
    }
}

impl ConfiguredTools {
    pub(crate) fn cached(&self, config: &ToolConfig) -> Option<BuiltTools> {
        let built = self
            .built
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        built
            .get(&config.id)
            .filter(|(v, _)| *v == config.version)
            .map(|(_, t)| Arc::clone(t))
    }

    pub(crate) fn keep(&self, config: &ToolConfig, tools: BuiltTools) {
        let mut built = self
            .built
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        built.insert(config.id, (config.version, tools));
    }
}

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(catalogue))
        .routes(routes!(list_configs, create_config))
        .routes(routes!(get_config, update_config, delete_config))
        .routes(routes!(test_config))
}
