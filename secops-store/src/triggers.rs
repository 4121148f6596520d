//! What starts an agent: manual runs, cron schedules, detections matching a filter.

use chrono::{DateTime, Utc};
use secops_core::tenancy::{AgentId, TriggerId};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use crate::db::{TenantTx, fsql, on_tx, on_tx_guarded};
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::util::now;

/// The kind of trigger and its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TriggerSpec {
    /// Started by people or API calls.
    Manual,
    /// A cron schedule (five or six fields, UTC).
    Schedule {
        /// The cron expression.
        cron: String,
    },
    /// Detections of these rules or levels.
    Detection {
        /// Rule ids (`rule_uid`s); empty means any rule.
        #[serde(default)]
        rules: Vec<String>,
        /// Lowest level that triggers (`informational` .. `critical`).
        #[serde(default)]
        min_level: Option<String>,
    },
}

/// A stored trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// Its id.
    pub id: TriggerId,
    /// The agent it starts.
    pub agent_id: AgentId,
    /// What it reacts to.
    pub spec: TriggerSpec,
    /// Enabled.
    pub enabled: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct TriggerRow {
    id: Uuid,
    agent_id: Uuid,
    filter: Json<TriggerSpec>,
    enabled: bool,
    created_at: DateTime<Utc>,
    version: i64,
}

impl From<TriggerRow> for Trigger {
    fn from(r: TriggerRow) -> Self {
        Self {
            id: TriggerId::from_uuid(r.id),
            agent_id: AgentId::from_uuid(r.agent_id),
            spec: r.filter.0,
            enabled: r.enabled,
            created_at: r.created_at,
            version: r.version,
        }
    }
}

const TRIGGER_COLUMNS: &str = "id, agent_id, filter, enabled, created_at, version";

fn check(spec: &TriggerSpec) -> StoreResult<(&'static str, Option<String>)> {
    Ok(match spec {
        TriggerSpec::Manual => ("manual", None),
        TriggerSpec::Schedule { cron } => {
            let fields = cron.split_whitespace().count();
            if !(5..=6).contains(&fields)
                || !cron
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || " */,-?#LW".contains(c))
            {
                return Err(StoreError::InvalidInput(format!(
                    "`{cron}` is not a cron expression with 5 or 6 fields"
                )));
            }
            ("schedule", Some(cron.clone()))
        }
        TriggerSpec::Detection { min_level, .. } => {
            if let Some(level) = min_level
                && !["informational", "low", "medium", "high", "critical"].contains(&level.as_str())
            {
                return Err(StoreError::InvalidInput(format!("unknown level `{level}`")));
            }
            ("detection", None)
        }
    })
}

impl TenantTx {
    /// Adds a trigger to an agent of this organisation.
    pub async fn create_trigger(
        &mut self,
        agent: AgentId,
        spec: TriggerSpec,
        enabled: bool,
    ) -> StoreResult<Trigger> {
        let (kind, cron) = check(&spec)?;
        self.agent(agent).await?;
        let org = self.org;
        let row: TriggerRow = on_tx_guarded!(self, c => sqlx::query_as(fsql!(
            "INSERT INTO agent_triggers (organization_id, id, agent_id, kind, cron, filter, enabled, created_at, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1) RETURNING {TRIGGER_COLUMNS}"))
            .bind(org.as_uuid()).bind(TriggerId::new().as_uuid()).bind(agent.as_uuid()).bind(kind).bind(cron)
            .bind(Json(&spec)).bind(enabled).bind(now()).fetch_one(c).await)?;
        Ok(row.into())
    }

    /// One trigger.
    pub async fn trigger(&mut self, id: TriggerId) -> StoreResult<Trigger> {
        let org = self.org;
        let row: Option<TriggerRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {TRIGGER_COLUMNS} FROM agent_triggers WHERE organization_id = $1 AND id = $2"))
            .bind(org.as_uuid()).bind(id.as_uuid()).fetch_optional(c).await)?;
        row.map(Into::into).ok_or(StoreError::NotFound("trigger"))
    }

    /// Triggers, newest first; only `agent`'s when given.
    pub async fn triggers(
        &mut self,
        agent: Option<AgentId>,
        page: &PageRequest,
    ) -> StoreResult<Page<Trigger>> {
        let org = self.org;
        let (limit, before) = (page.limit(), page.before()?);
        let rows: Vec<TriggerRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {TRIGGER_COLUMNS} FROM agent_triggers WHERE organization_id = $1 AND id < $2 AND ($3 IS NULL OR agent_id = $3)
             ORDER BY id DESC LIMIT $4"))
            .bind(org.as_uuid()).bind(before).bind(agent.map(|a| *a.as_uuid())).bind(limit + 1).fetch_all(c).await)?;
        Ok(Page::from_rows(
            rows.into_iter().map(Trigger::from).collect(),
            limit,
            |t| *t.id.as_uuid(),
        ))
    }

    /// Changes a trigger at `expected_version`.
    pub async fn update_trigger(
        &mut self,
        id: TriggerId,
        expected_version: i64,
        spec: Option<TriggerSpec>,
        enabled: Option<bool>,
    ) -> StoreResult<Trigger> {
        let current = self.trigger(id).await?;
        let spec = spec.unwrap_or(current.spec);
        let (kind, cron) = check(&spec)?;
        let org = self.org;
        let row: Option<TriggerRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "UPDATE agent_triggers SET kind = $3, cron = $4, filter = $5, enabled = $6, version = version + 1
             WHERE organization_id = $1 AND id = $2 AND version = $7 RETURNING {TRIGGER_COLUMNS}"))
            .bind(org.as_uuid()).bind(id.as_uuid()).bind(kind).bind(cron).bind(Json(&spec)).bind(enabled.unwrap_or(current.enabled))
            .bind(expected_version).fetch_optional(c).await)?;
        row.map(Into::into).ok_or(StoreError::Conflict {
            what: "trigger",
            expected: expected_version,
        })
    }

    /// Deletes a trigger at `expected_version`.
    pub async fn delete_trigger(&mut self, id: TriggerId, expected_version: i64) -> StoreResult<()> {
        let org = self.org;
        let n = on_tx!(self, c => sqlx::query("DELETE FROM agent_triggers WHERE organization_id = $1 AND id = $2 AND version = $3")
            .bind(org.as_uuid()).bind(id.as_uuid()).bind(expected_version).execute(c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            self.trigger(id).await?;
            return Err(StoreError::Conflict {
                what: "trigger",
                expected: expected_version,
            });
        }
        Ok(())
    }
}
