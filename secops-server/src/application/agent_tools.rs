//! The tools of an agent: checking the names an agent is given, and building the registry a run gets from the
//! server's tools and the organisation's tool configurations.

use std::sync::Arc;

use axum::http::StatusCode;
use secops_core::tool::ToolRegistry;
use secops_store::TenantTx;
use secops_store::tool_configs::ToolConfig;
use secops_tools::catalog;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::tools::{egress_client, tool_names};

fn unknown_tool(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_tool",
        format!(
            "no tool named `{name}`: name a tool the server offers (GET /v1/tools) or one of a tool configuration's tools (GET /v1/tool-configs)"
        ),
    )
}

/// Checks that every name is a server tool or a tool of one of the organisation's configurations.
pub(crate) async fn check_agent_tools(
    state: &AppState,
    tx: &mut TenantTx,
    names: &[String],
) -> ApiResult<()> {
    let configs = configs_for(state, tx, names).await?;
    for name in names {
        if state.tools.definition(name).is_some() {
            continue;
        }
        let known = catalog::split_tool_name(name).is_some_and(|(config, _)| {
            configs
                .iter()
                .any(|c| c.name == config && tool_names(c).contains(name))
        });
        if !known {
            return Err(unknown_tool(name));
        }
    }
    Ok(())
}

/// The configurations the names not offered by the server refer to.
async fn configs_for(state: &AppState, tx: &mut TenantTx, names: &[String]) -> ApiResult<Vec<ToolConfig>> {
    let mut wanted: Vec<String> = names
        .iter()
        .filter(|n| state.tools.definition(n).is_none())
        .filter_map(|n| catalog::split_tool_name(n).map(|(c, _)| c.to_owned()))
        .collect();
    wanted.sort();
    wanted.dedup();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    Ok(tx.tool_configs_named(&wanted).await?)
}

/// The registry a run gets: the server's tools it names, and the tools of the organisation's configurations it
/// names, built with each configuration's credentials and egress allow-list.
pub(crate) async fn run_tools(
    state: &AppState,
    tx: &mut TenantTx,
    names: &[String],
) -> ApiResult<ToolRegistry> {
    let (server, configured): (Vec<&String>, Vec<&String>) =
        names.iter().partition(|n| state.tools.definition(n).is_some());
    let mut registry = state
        .tools
        .subset(&server)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_tool", e.to_string()))?;
    if configured.is_empty() {
        return Ok(registry);
    }
    let configs = configs_for(state, tx, names).await?;
    for config in &configs {
        let tools = match state.configured_tools.cached(config) {
            Some(t) => t,
            None => {
                let credentials = tx.tool_credentials(&state.secret_box, config.id).await?;
                let client = egress_client(&config.egress_allow)?;
                let built = catalog::build(
                    &config.name,
                    &config.kind,
                    &config.settings,
                    credentials.as_ref(),
                    &client,
                    &config.discovered_tools,
                )
                .map_err(|e| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_tool_config",
                        format!("the tool configuration `{}` is unusable: {e}", config.name),
                    )
                })?;
                let built = Arc::new(built);
                state.configured_tools.keep(config, Arc::clone(&built));
                built
            }
        };
        for tool in tools.iter() {
            if configured.contains(&&tool.definition().name) {
                registry.register(Arc::clone(tool)).map_err(|e| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_tool_config",
                        e.to_string(),
                    )
                })?;
            }
        }
    }
    if let Some(missing) = configured.iter().find(|n| registry.definition(n).is_none()) {
        return Err(unknown_tool(missing));
    }
    Ok(registry)
}
