//! Agents and their immutable, numbered system-prompt versions.

use chrono::{DateTime, Utc};
use secops_core::run::AgentConfig;
use secops_core::tenancy::{AgentId, PromptVersionId, UserId};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use crate::db::{TenantTx, fsql, on_tx, on_tx_guarded};
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::util::now;

/// A new agent; its system prompt becomes version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAgent {
    /// Unique name within the organisation.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Model override.
    pub model: Option<String>,
    /// Planning mode, limits, approval policy, ... (its `system_prompt` is ignored: prompts are versioned).
    pub config: AgentConfig,
    /// Tool names the agent may use.
    pub tools: Vec<String>,
    /// Whether it may run.
    pub enabled: bool,
    /// The first system prompt.
    pub system_prompt: String,
    /// Who wrote it.
    pub author: Option<UserId>,
}

/// A stored agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    /// Its id.
    pub id: AgentId,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Model override.
    pub model: Option<String>,
    /// Configuration.
    pub config: AgentConfig,
    /// Allowed tools.
    pub tools: Vec<String>,
    /// Enabled.
    pub enabled: bool,
    /// The active prompt version number.
    pub active_prompt_version: Option<i32>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentUpdate {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New model override (`Some(None)` clears it).
    pub model: Option<Option<String>>,
    /// New configuration.
    pub config: Option<AgentConfig>,
    /// New tool list.
    pub tools: Option<Vec<String>>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// One immutable version of an agent's system prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptVersion {
    /// Its id.
    pub id: PromptVersionId,
    /// The agent.
    pub agent_id: AgentId,
    /// 1, 2, 3, ...
    pub number: i32,
    /// The prompt.
    pub body: String,
    /// Who wrote it.
    pub author_id: Option<UserId>,
    /// Why it changed.
    pub note: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct AgentRow {
    id: Uuid,
    name: String,
    description: String,
    model: Option<String>,
    config: Json<AgentConfig>,
    tools: Json<Vec<String>>,
    enabled: bool,
    active_prompt_version: Option<i32>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl From<AgentRow> for Agent {
    fn from(r: AgentRow) -> Self {
        Self {
            id: AgentId::from_uuid(r.id),
            name: r.name,
            description: r.description,
            model: r.model,
            config: r.config.0,
            tools: r.tools.0,
            enabled: r.enabled,
            active_prompt_version: r.active_prompt_version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

#[derive(sqlx::FromRow)]
struct PromptRow {
    id: Uuid,
    agent_id: Uuid,
    number: i32,
    body: String,
    author_id: Option<Uuid>,
    note: String,
    created_at: DateTime<Utc>,
}

impl From<PromptRow> for PromptVersion {
    fn from(r: PromptRow) -> Self {
        Self {
            id: PromptVersionId::from_uuid(r.id),
            agent_id: AgentId::from_uuid(r.agent_id),
            number: r.number,
            body: r.body,
            author_id: r.author_id.map(UserId::from_uuid),
            note: r.note,
            created_at: r.created_at,
        }
    }
}

const AGENT_COLUMNS: &str = "id, name, description, model, config, tools, enabled, active_prompt_version, created_at, updated_at, version";
const PROMPT_COLUMNS: &str = "id, agent_id, number, body, author_id, note, created_at";

fn check_agent_name(name: &str) -> StoreResult<()> {
    if name.trim().is_empty() || name.chars().count() > 120 {
        return Err(StoreError::InvalidInput(
            "the agent name must be 1 to 120 characters".into(),
        ));
    }
    Ok(())
}

fn stored_config(mut config: AgentConfig) -> AgentConfig {
    // The prompt lives in its versions; keeping a copy here would let the two drift.
    config.system_prompt.clear();
    config
}

impl TenantTx {
    /// Creates an agent with prompt version 1 active.
    pub async fn create_agent(&mut self, new: NewAgent) -> StoreResult<Agent> {
        check_agent_name(&new.name)?;
        let org = self.org;
        let id = AgentId::new();
        let t = now();
        let config = Json(stored_config(new.config));
        on_tx_guarded!(self, c => sqlx::query(fsql!(
            "INSERT INTO agents (organization_id, {AGENT_COLUMNS}) VALUES ($9, $1, $2, $3, $4, $5, $6, $7, NULL, $8, $8, 1)"))
            .bind(id.as_uuid()).bind(&new.name).bind(&new.description).bind(&new.model).bind(&config)
            .bind(Json(&new.tools)).bind(new.enabled).bind(t).bind(org.as_uuid()).execute(c).await.map(|r| r.rows_affected()))
        .map_err(|e| match StoreError::from(e) {
            StoreError::Duplicate(_) => StoreError::Duplicate("an agent with that name"),
            other => other,
        })?;
        let prompt = self
            .add_prompt_version(id, &new.system_prompt, new.author, "initial version")
            .await?;
        self.set_active_prompt(id, prompt.number).await?;
        self.agent(id).await
    }

    async fn set_active_prompt(&mut self, agent: AgentId, number: i32) -> StoreResult<()> {
        let org = self.org;
        on_tx!(self, c => sqlx::query("UPDATE agents SET active_prompt_version = $3 WHERE organization_id = $1 AND id = $2")
            .bind(org.as_uuid()).bind(agent.as_uuid()).bind(number).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// One agent.
    pub async fn agent(&mut self, id: AgentId) -> StoreResult<Agent> {
        let org = self.org;
        let row: Option<AgentRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {AGENT_COLUMNS} FROM agents WHERE organization_id = $1 AND id = $2"))
            .bind(org.as_uuid()).bind(id.as_uuid()).fetch_optional(c).await)?;
        row.map(Into::into).ok_or(StoreError::NotFound("agent"))
    }

    /// Agents, newest first.
    pub async fn agents(&mut self, page: &PageRequest) -> StoreResult<Page<Agent>> {
        let org = self.org;
        let (limit, before) = (page.limit(), page.before()?);
        let rows: Vec<AgentRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {AGENT_COLUMNS} FROM agents WHERE organization_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"))
            .bind(org.as_uuid()).bind(before).bind(limit + 1).fetch_all(c).await)?;
        Ok(Page::from_rows(
            rows.into_iter().map(Agent::from).collect(),
            limit,
            |a| *a.id.as_uuid(),
        ))
    }

    /// Changes an agent if it is still at `expected_version`.
    pub async fn update_agent(
        &mut self,
        id: AgentId,
        expected_version: i64,
        update: AgentUpdate,
    ) -> StoreResult<Agent> {
        let current = self.agent(id).await?;
        if current.version != expected_version {
            return Err(StoreError::Conflict {
                what: "agent",
                expected: expected_version,
            });
        }
        let name = update.name.unwrap_or(current.name);
        check_agent_name(&name)?;
        let description = update.description.unwrap_or(current.description);
        let model = update.model.unwrap_or(current.model);
        let config = Json(stored_config(update.config.unwrap_or(current.config)));
        let tools = Json(update.tools.unwrap_or(current.tools));
        let enabled = update.enabled.unwrap_or(current.enabled);
        let org = self.org;
        let row: Option<AgentRow> = on_tx_guarded!(self, c => sqlx::query_as(fsql!(
            "UPDATE agents SET name = $3, description = $4, model = $5, config = $6, tools = $7, enabled = $8,
                 updated_at = $9, version = version + 1
             WHERE organization_id = $1 AND id = $2 AND version = $10 RETURNING {AGENT_COLUMNS}"))
            .bind(org.as_uuid()).bind(id.as_uuid()).bind(&name).bind(&description).bind(&model).bind(&config)
            .bind(&tools).bind(enabled).bind(now()).bind(expected_version).fetch_optional(c).await)
        .map_err(|e| match StoreError::from(e) {
            StoreError::Duplicate(_) => StoreError::Duplicate("an agent with that name"),
            other => other,
        })?;
        row.map(Into::into).ok_or(StoreError::Conflict {
            what: "agent",
            expected: expected_version,
        })
    }

    /// Deletes an agent (and its prompt versions, runs and triggers) if it is still at `expected_version`.
    pub async fn delete_agent(&mut self, id: AgentId, expected_version: i64) -> StoreResult<()> {
        let org = self.org;
        let deleted = on_tx!(self, c => sqlx::query("DELETE FROM agents WHERE organization_id = $1 AND id = $2 AND version = $3")
            .bind(org.as_uuid()).bind(id.as_uuid()).bind(expected_version).execute(c).await.map(|r| r.rows_affected()))?;
        if deleted == 0 {
            self.agent(id).await?;
            return Err(StoreError::Conflict {
                what: "agent",
                expected: expected_version,
            });
        }
        Ok(())
    }

    /// Adds the next prompt version (not yet active).
    pub async fn add_prompt_version(
        &mut self,
        agent: AgentId,
        body: &str,
        author: Option<UserId>,
        note: &str,
    ) -> StoreResult<PromptVersion> {
        if body.len() > 200_000 {
            return Err(StoreError::InvalidInput(
                "the prompt is longer than 200,000 bytes".into(),
            ));
        }
        self.agent(agent).await?;
        let org = self.org;
        let next: i32 = on_tx!(self, c => sqlx::query_scalar::<_, i32>(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM agent_prompt_versions WHERE organization_id = $1 AND agent_id = $2")
            .bind(org.as_uuid()).bind(agent.as_uuid()).fetch_one(c).await)?;
        let row: PromptRow = on_tx_guarded!(self, c => sqlx::query_as(fsql!(
            "INSERT INTO agent_prompt_versions (id, organization_id, agent_id, number, body, author_id, note, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {PROMPT_COLUMNS}"))
            .bind(PromptVersionId::new().as_uuid()).bind(org.as_uuid()).bind(agent.as_uuid()).bind(next).bind(body)
            .bind(author.map(|a| *a.as_uuid())).bind(note).bind(now()).fetch_one(c).await)?;
        Ok(row.into())
    }

    /// Prompt versions, newest first.
    pub async fn prompt_versions(
        &mut self,
        agent: AgentId,
        page: &PageRequest,
    ) -> StoreResult<Page<PromptVersion>> {
        let org = self.org;
        let (limit, before) = (page.limit(), page.before()?);
        let rows: Vec<PromptRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {PROMPT_COLUMNS} FROM agent_prompt_versions WHERE organization_id = $1 AND agent_id = $2 AND id < $3
             ORDER BY id DESC LIMIT $4"))
            .bind(org.as_uuid()).bind(agent.as_uuid()).bind(before).bind(limit + 1).fetch_all(c).await)?;
        Ok(Page::from_rows(
            rows.into_iter().map(PromptVersion::from).collect(),
            limit,
            |p| *p.id.as_uuid(),
        ))
    }

    /// One prompt version by number.
    pub async fn prompt_version(&mut self, agent: AgentId, number: i32) -> StoreResult<PromptVersion> {
        let org = self.org;
        let row: Option<PromptRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {PROMPT_COLUMNS} FROM agent_prompt_versions WHERE organization_id = $1 AND agent_id = $2 AND number = $3"))
            .bind(org.as_uuid()).bind(agent.as_uuid()).bind(number).fetch_optional(c).await)?;
        row.map(Into::into).ok_or(StoreError::NotFound("prompt version"))
    }

    /// Makes version `number` the active prompt (an older one too), if the agent is at `expected_version`.
    pub async fn activate_prompt_version(
        &mut self,
        agent: AgentId,
        number: i32,
        expected_version: i64,
    ) -> StoreResult<Agent> {
        self.prompt_version(agent, number).await?;
        let org = self.org;
        let row: Option<AgentRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "UPDATE agents SET active_prompt_version = $3, updated_at = $4, version = version + 1
             WHERE organization_id = $1 AND id = $2 AND version = $5 RETURNING {AGENT_COLUMNS}"))
            .bind(org.as_uuid()).bind(agent.as_uuid()).bind(number).bind(now()).bind(expected_version).fetch_optional(c).await)?;
        row.map(Into::into).ok_or(StoreError::Conflict {
            what: "agent",
            expected: expected_version,
        })
    }

    /// The active prompt of an agent.
    pub async fn active_prompt(&mut self, agent: AgentId) -> StoreResult<PromptVersion> {
        let a = self.agent(agent).await?;
        let number = a
            .active_prompt_version
            .ok_or(StoreError::NotFound("active prompt version"))?;
        self.prompt_version(agent, number).await
    }
}
