//! Per-organisation tool configurations; credentials are encrypted at rest and never read back through the
//! listing API, only by [`TenantTx::tool_credentials`] when a tool call needs them.

use chrono::{DateTime, Utc};
use secops_core::tenancy::ToolConfigId;
use secops_core::tool::ToolDefinition;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use crate::crypto::SecretBox;
use crate::db::{TenantTx, fsql, on_tx, on_tx_guarded};
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::util::now;

/// A tool configuration to create.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct NewToolConfig {
    /// Unique name in the organisation (agents attach tools by it).
    pub name: String,
    /// The tool kind, e.g. `splunk` or `http`.
    pub kind: String,
    /// Non-secret settings (endpoint, index, ...).
    pub settings: serde_json::Value,
    /// Secret settings (tokens, passwords); encrypted before storing.
    pub credentials: Option<serde_json::Value>,
    /// Private or loopback ranges (CIDR) the tools may reach besides public addresses.
    pub egress_allow: Vec<String>,
    /// Tools found on the service (MCP servers list theirs).
    pub discovered_tools: Vec<ToolDefinition>,
}

impl std::fmt::Debug for NewToolConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToolConfig")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("settings", &self.settings)
            .field("credentials", &self.credentials.as_ref().map(|_| "[REDACTED]"))
            .field("egress_allow", &self.egress_allow)
            .field("discovered_tools", &self.discovered_tools.len())
            .finish()
    }
}

/// What an update changes; `None` fields stay as they are.
#[derive(Clone, Default, PartialEq)]
pub struct ToolConfigChange {
    /// New settings.
    pub settings: Option<serde_json::Value>,
    /// New credentials; `Some(None)` removes them.
    pub credentials: Option<Option<serde_json::Value>>,
    /// New egress allow-list.
    pub egress_allow: Option<Vec<String>>,
    /// Newly discovered tools.
    pub discovered_tools: Option<Vec<ToolDefinition>>,
}

impl std::fmt::Debug for ToolConfigChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolConfigChange")
            .field("settings", &self.settings)
            .field(
                "credentials",
                &self
                    .credentials
                    .as_ref()
                    .map(|c| c.as_ref().map(|_| "[REDACTED]")),
            )
            .field("egress_allow", &self.egress_allow)
            .finish()
    }
}

/// A stored tool configuration, without its credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolConfig {
    /// Its id.
    pub id: ToolConfigId,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Settings.
    pub settings: serde_json::Value,
    /// Whether credentials are stored (their values are never returned).
    pub has_credentials: bool,
    /// Private or loopback ranges the tools may reach.
    pub egress_allow: Vec<String>,
    /// Tools found on the service.
    pub discovered_tools: Vec<ToolDefinition>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct ToolRow {
    id: Uuid,
    name: String,
    kind: String,
    settings: Json<serde_json::Value>,
    has_credentials: bool,
    egress_allow: Json<Vec<String>>,
    discovered_tools: Json<Vec<ToolDefinition>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl From<ToolRow> for ToolConfig {
    fn from(r: ToolRow) -> Self {
        Self {
            id: ToolConfigId::from_uuid(r.id),
            name: r.name,
            kind: r.kind,
            settings: r.settings.0,
            has_credentials: r.has_credentials,
            egress_allow: r.egress_allow.0,
            discovered_tools: r.discovered_tools.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

const TOOL_COLUMNS: &str = "id, name, kind, settings, credentials IS NOT NULL AS has_credentials, egress_allow, discovered_tools, created_at, updated_at, version";

/// Binds ciphertext to its organisation and row.
fn associated(org: Uuid, id: Uuid) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32);
    aad.extend_from_slice(org.as_bytes());
    aad.extend_from_slice(id.as_bytes());
    aad
}

fn seal(
    secrets: &SecretBox,
    org: Uuid,
    id: Uuid,
    credentials: Option<&serde_json::Value>,
) -> StoreResult<Option<Vec<u8>>> {
    credentials
        .map(|c| {
            let plain = serde_json::to_vec(c).map_err(|e| StoreError::InvalidInput(e.to_string()))?;
            secrets.seal(&plain, &associated(org, id))
        })
        .transpose()
}

impl TenantTx {
    /// Creates a tool configuration, encrypting its credentials.
    pub async fn create_tool_config(
        &mut self,
        secrets: &SecretBox,
        new: NewToolConfig,
    ) -> StoreResult<ToolConfig> {
        if new.name.trim().is_empty() || new.name.len() > 64 {
            return Err(StoreError::InvalidInput(
                "the tool name must be 1 to 64 characters".into(),
            ));
        }
        let org = self.org;
        let id = ToolConfigId::new();
        let sealed = seal(secrets, *org.as_uuid(), *id.as_uuid(), new.credentials.as_ref())?;
        let t = now();
        let row: ToolRow = on_tx_guarded!(self, c => sqlx::query_as(fsql!(
            "INSERT INTO tool_configs (organization_id, id, name, kind, settings, credentials, egress_allow, discovered_tools, created_at, updated_at, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1) RETURNING {TOOL_COLUMNS}"))
            .bind(org.as_uuid()).bind(id.as_uuid()).bind(&new.name).bind(&new.kind).bind(Json(&new.settings)).bind(sealed)
            .bind(Json(&new.egress_allow)).bind(Json(&new.discovered_tools)).bind(t).fetch_one(c).await)
        .map_err(|e| match StoreError::from(e) {
            StoreError::Duplicate(_) => StoreError::Duplicate("a tool configuration with that name"),
            other => other,
        })?;
        Ok(row.into())
    }

    /// One tool configuration (without credentials).
    pub async fn tool_config(&mut self, id: ToolConfigId) -> StoreResult<ToolConfig> {
        let org = self.org;
        let row: Option<ToolRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {TOOL_COLUMNS} FROM tool_configs WHERE organization_id = $1 AND id = $2"))
            .bind(org.as_uuid()).bind(id.as_uuid()).fetch_optional(c).await)?;
        row.map(Into::into)
            .ok_or(StoreError::NotFound("tool configuration"))
    }

    /// Tool configurations, newest first.
    pub async fn tool_configs(&mut self, page: &PageRequest) -> StoreResult<Page<ToolConfig>> {
        let org = self.org;
        let (limit, before) = (page.limit(), page.before()?);
        let rows: Vec<ToolRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {TOOL_COLUMNS} FROM tool_configs WHERE organization_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"))
            .bind(org.as_uuid()).bind(before).bind(limit + 1).fetch_all(c).await)?;
        Ok(Page::from_rows(
            rows.into_iter().map(ToolConfig::from).collect(),
            limit,
            |t| *t.id.as_uuid(),
        ))
    }

    /// Applies `change` at `expected_version`.
    pub async fn update_tool_config(
        &mut self,
        secrets: &SecretBox,
        id: ToolConfigId,
        expected_version: i64,
        change: ToolConfigChange,
    ) -> StoreResult<ToolConfig> {
        let current = self.tool_config(id).await?;
        let org = self.org;
        let settings = Json(change.settings.unwrap_or(current.settings));
        let egress = Json(change.egress_allow.unwrap_or(current.egress_allow));
        let discovered = Json(change.discovered_tools.unwrap_or(current.discovered_tools));
        let row: Option<ToolRow> = match change.credentials {
            None => on_tx!(self, c => sqlx::query_as(fsql!(
                "UPDATE tool_configs SET settings = $3, egress_allow = $4, discovered_tools = $5, updated_at = $6, version = version + 1
                 WHERE organization_id = $1 AND id = $2 AND version = $7 RETURNING {TOOL_COLUMNS}"))
                .bind(org.as_uuid()).bind(id.as_uuid()).bind(&settings).bind(&egress).bind(&discovered).bind(now())
                .bind(expected_version).fetch_optional(c).await)?,
            Some(creds) => {
                let sealed = seal(secrets, *org.as_uuid(), *id.as_uuid(), creds.as_ref())?;
                on_tx!(self, c => sqlx::query_as(fsql!(
                    "UPDATE tool_configs SET settings = $3, credentials = $4, egress_allow = $5, discovered_tools = $6, updated_at = $7, version = version + 1
                     WHERE organization_id = $1 AND id = $2 AND version = $8 RETURNING {TOOL_COLUMNS}"))
                    .bind(org.as_uuid()).bind(id.as_uuid()).bind(&settings).bind(sealed).bind(&egress).bind(&discovered).bind(now())
                    .bind(expected_version).fetch_optional(c).await)?
            }
        };
        row.map(Into::into).ok_or(StoreError::Conflict {
            what: "tool configuration",
            expected: expected_version,
        })
    }

    /// The configurations named `names` (those that exist), for building a run's tools.
    pub async fn tool_configs_named(&mut self, names: &[String]) -> StoreResult<Vec<ToolConfig>> {
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let org = self.org;
            let row: Option<ToolRow> = on_tx!(self, c => sqlx::query_as(fsql!(
                "SELECT {TOOL_COLUMNS} FROM tool_configs WHERE organization_id = $1 AND name = $2"))
                .bind(org.as_uuid()).bind(name).fetch_optional(c).await)?;
            out.extend(row.map(ToolConfig::from));
        }
        Ok(out)
    }

    /// Deletes a tool configuration at `expected_version`.
    pub async fn delete_tool_config(&mut self, id: ToolConfigId, expected_version: i64) -> StoreResult<()> {
        let org = self.org;
        let n = on_tx!(self, c => sqlx::query("DELETE FROM tool_configs WHERE organization_id = $1 AND id = $2 AND version = $3")
            .bind(org.as_uuid()).bind(id.as_uuid()).bind(expected_version).execute(c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            self.tool_config(id).await?;
            return Err(StoreError::Conflict {
                what: "tool configuration",
                expected: expected_version,
            });
        }
        Ok(())
    }

    /// The decrypted credentials, for injecting into a tool call. Never for API responses.
    pub async fn tool_credentials(
        &mut self,
        secrets: &SecretBox,
        id: ToolConfigId,
    ) -> StoreResult<Option<serde_json::Value>> {
        let org = self.org;
        let row: Option<(Option<Vec<u8>>,)> = on_tx!(self, c => sqlx::query_as(
            "SELECT credentials FROM tool_configs WHERE organization_id = $1 AND id = $2")
            .bind(org.as_uuid()).bind(id.as_uuid()).fetch_optional(c).await)?;
        let Some(sealed) = row.ok_or(StoreError::NotFound("tool configuration"))?.0 else {
            return Ok(None);
        };
        let plain = secrets.open(&sealed, &associated(*org.as_uuid(), *id.as_uuid()))?;
        serde_json::from_slice(&plain)
            .map(Some)
            .map_err(|_| StoreError::Decrypt)
    }
}
