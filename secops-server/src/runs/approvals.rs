//! The approvals inbox: every tool call of the organisation that waits for a person, across runs and chats,
//! so a lead can decide from one place (`POST /v1/runs/{id}/approvals/{tool_call_id}` decides).

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use secops_core::tenancy::{AgentId, Permission};
use secops_core::tool::RiskLevel;
use secops_store::runs::RunFilter;
use secops_store::{PageRequest, TenantTx};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::PageQuery;
use crate::error::{ApiResult, Problem};
use crate::extract::{Auth, QueryParams};
use crate::state::AppState;

/// A tool call that waits for a decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingApprovalView {
    /// The run that waits.
    pub run_id: uuid::Uuid,
    /// Its agent.
    pub agent_id: uuid::Uuid,
    /// The agent's name.
    pub agent_name: String,
    /// The chat the run answers, for chat turns.
    pub chat_id: Option<uuid::Uuid>,
    /// The call to decide on.
    pub tool_call_id: String,
    /// The tool.
    pub tool_name: String,
    /// The tool's risk (`low`, `medium`, `high`), when the server knows the tool.
    #[schema(value_type = Option<String>)]
    pub risk: Option<RiskLevel>,
    /// The exact arguments the model asked for.
    #[schema(value_type = Object)]
    pub input: Value,
    /// When the run began to wait.
    pub requested_at: DateTime<Utc>,
}

/// A page of waiting tool calls.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalPage {
    /// Calls, newest run first.
    pub items: Vec<PendingApprovalView>,
    /// Cursor for the next page (of runs).
    pub next_cursor: Option<String>,
}

/// The risk of a tool: a server tool's own, or the catalogue's for a configured kind's action.
async fn risk_of(state: &AppState, tx: &mut TenantTx, tool: &str) -> ApiResult<Option<RiskLevel>> {
    if let Some(d) = state.tools.definition(tool) {
        return Ok(Some(d.risk));
    }
    let Some((config, action)) = secops_tools::catalog::split_tool_name(tool) else {
        return Ok(None);
    };
    let configs = tx.tool_configs_named(&[config.to_owned()]).await?;
    Ok(configs
        .first()
        .and_then(|c| secops_tools::catalog::kind(&c.kind))
        .and_then(|k| k.actions.into_iter().find(|a| a.action == action))
        .map(|a| a.risk))
}

/// List the tool calls that wait for approval.
#[utoipa::path(get, path = "/v1/approvals", tag = "runs", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = ApprovalPage), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
pub async fn list_approvals(
    State(state): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<ApprovalPage>> {
    auth.0.require(Permission::RunsRead)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    let filter = RunFilter {
        status: Some("awaiting_approval".into()),
        ..RunFilter::default()
    };
    let page: PageRequest = q.into();
    let runs = tx.runs(&filter, &page).await?;
    let mut agents: HashMap<AgentId, String> = HashMap::new();
    let mut risks: HashMap<String, Option<RiskLevel>> = HashMap::new();
    let mut items = Vec::new();
    for run in runs.items {
        let Some(run_state) = tx.run_state(run.id).await? else {
            continue;
        };
        let pending = run_state.pending_approvals();
        if pending.is_empty() {
            continue;
        }
        let agent_name = match agents.get(&run.agent_id) {
            Some(n) => n.clone(),
            None => {
                let name = tx.agent(run.agent_id).await.map(|a| a.name).unwrap_or_default();
                agents.insert(run.agent_id, name.clone());
                name
            }
        };
        // The last event is the pause itself: when the run began to wait.
        let last = i64::try_from(run_state.next_seq.saturating_sub(2)).unwrap_or(0);
        let requested_at = tx
            .run_events(run.id, last, 1)
            .await?
            .first()
            .map_or(run.started_at.unwrap_or(run.created_at), |e| e.created_at);
        for call in pending {
            let risk = match risks.get(&call.tool) {
                Some(r) => *r,
                None => {
                    let r = risk_of(&state, &mut tx, &call.tool).await?;
                    risks.insert(call.tool.clone(), r);
                    r
                }
            };
            items.push(PendingApprovalView {
                run_id: *run.id.as_uuid(),
                agent_id: *run.agent_id.as_uuid(),
                agent_name: agent_name.clone(),
                chat_id: crate::application::runs::chat_of(&run).map(|c| *c.as_uuid()),
                tool_call_id: call.call_id,
                tool_name: call.tool,
                risk,
                input: call.input,
                requested_at,
            });
        }
    }
    tx.commit().await?;
    Ok(Json(ApprovalPage {
        items,
        next_cursor: runs.next_cursor,
    }))
}
