//! Agent runs (with their serialised state for resuming) and their append-only events.

use chrono::{DateTime, Utc};
use secops_core::model::Usage;
use secops_core::run::{RunEvent, RunOutput, RunState, RunStatus};
use secops_core::tenancy::{AgentId, RunId};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use crate::db::{TenantTx, fsql, on_tx, on_tx_guarded};
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::util::now;

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunTrigger {
    /// A person or API call.
    Manual,
    /// A cron schedule.
    Schedule,
    /// A detection.
    Detection,
    /// A chat message.
    Chat,
}

impl RunTrigger {
    fn as_str(self) -> &'static str {
        match self {
            RunTrigger::Manual => "manual",
            RunTrigger::Schedule => "schedule",
            RunTrigger::Detection => "detection",
            RunTrigger::Chat => "chat",
        }
    }

    fn parse(s: &str) -> StoreResult<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned()))
            .map_err(|_| StoreError::Database(format!("stored trigger `{s}` is unknown")))
    }
}

/// run id, seq, kind, payload, created.
type EventTuple = (Uuid, i64, String, Json<serde_json::Value>, DateTime<Utc>);

/// Status as stored: the runtime's statuses plus `queued` (created, not yet picked up by a worker).
pub const QUEUED: &str = "queued";

/// A run to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRun {
    /// The agent.
    pub agent_id: AgentId,
    /// What started it.
    pub trigger: RunTrigger,
    /// The prompt version used.
    pub prompt_version: Option<i32>,
    /// The input (user message, detection, ...).
    pub input: serde_json::Value,
}

/// A stored run (without its potentially large state; see [`TenantTx::run_state`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Its id.
    pub id: RunId,
    /// The agent.
    pub agent_id: AgentId,
    /// `queued`, `running`, `awaiting_approval`, `finished`, `failed` or `cancelled`.
    pub status: String,
    /// What started it.
    pub trigger: RunTrigger,
    /// The prompt version used.
    pub prompt_version: Option<i32>,
    /// The input.
    pub input: serde_json::Value,
    /// The answer, once ended.
    pub output: Option<RunOutput>,
    /// Why it ended.
    pub stop_reason: Option<String>,
    /// Tokens used.
    pub usage: Usage,
    /// Cost in US dollars.
    pub cost_usd: f64,
    /// When a worker started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// Filters for listing runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunFilter {
    /// Only this agent's runs.
    pub agent_id: Option<AgentId>,
    /// Only runs in this status.
    pub status: Option<String>,
    /// Only runs with this trigger.
    pub trigger: Option<RunTrigger>,
    /// Created at or after.
    pub since: Option<DateTime<Utc>>,
    /// Created before.
    pub until: Option<DateTime<Utc>>,
}

/// A stored run event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRunEvent {
    /// The run.
    pub run_id: RunId,
    /// Sequence number within the run.
    pub seq: i64,
    /// The event's type tag.
    pub kind: String,
    /// The whole event as JSON.
    pub payload: serde_json::Value,
    /// When stored.
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: Uuid,
    agent_id: Uuid,
    status: String,
    trigger_kind: String,
    prompt_version: Option<i32>,
    input: Json<serde_json::Value>,
    output: Option<Json<RunOutput>>,
    stop_reason: Option<String>,
    usage: Json<Usage>,
    cost_usd: f64,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    version: i64,
}

impl TryFrom<RunRow> for Run {
    type Error = StoreError;
    fn try_from(r: RunRow) -> StoreResult<Self> {
        Ok(Self {
            id: RunId::from_uuid(r.id),
            agent_id: AgentId::from_uuid(r.agent_id),
            status: r.status,
            trigger: RunTrigger::parse(&r.trigger_kind)?,
            prompt_version: r.prompt_version,
            input: r.input.0,
            output: r.output.map(|o| o.0),
            stop_reason: r.stop_reason,
            usage: r.usage.0,
            cost_usd: r.cost_usd,
            started_at: r.started_at,
            finished_at: r.finished_at,
            created_at: r.created_at,
            version: r.version,
        })
    }
}

const RUN_COLUMNS: &str = "id, agent_id, status, trigger_kind, prompt_version, input, output, stop_reason, usage, \
                           cost_usd, started_at, finished_at, created_at, version";

fn status_name(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Running => "running",
        RunStatus::AwaitingApproval => "awaiting_approval",
        RunStatus::Finished => "finished",
        RunStatus::Failed => "failed",
        RunStatus::Cancelled => "cancelled",
    }
}

impl TenantTx {
    /// Records a queued run. Its id is also the id of the `RunState` the executor will drive.
    pub async fn create_run(&mut self, id: RunId, new: NewRun) -> StoreResult<Run> {
        let org = self.org;
        let row: RunRow = on_tx_guarded!(self, c => sqlx::query_as(fsql!(
            "INSERT INTO agent_runs (organization_id, id, agent_id, status, trigger_kind, prompt_version, input, usage, cost_usd, created_at, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, 1) RETURNING {RUN_COLUMNS}"))
            .bind(org.as_uuid()).bind(id.as_uuid()).bind(new.agent_id.as_uuid()).bind(QUEUED).bind(new.trigger.as_str())
            .bind(new.prompt_version).bind(Json(&new.input)).bind(Json(Usage::default())).bind(now()).fetch_one(c).await)?;
        row.try_into()
    }

    /// Stores the state a queued run starts from, so that whichever worker claims it can drive it. The
    /// status stays `queued` until a worker saves its first state.
    pub async fn set_initial_run_state(&mut self, state: &RunState) -> StoreResult<()> {
        let org = self.org;
        let updated = on_tx!(self, c => sqlx::query(
            "UPDATE agent_runs SET state = $3 WHERE organization_id = $1 AND id = $2 AND status = $4")
            .bind(org.as_uuid()).bind(state.run_id.as_uuid()).bind(Json(state)).bind(QUEUED).execute(c).await.map(|r| r.rows_affected()))?;
        if updated == 0 {
            return Err(StoreError::NotFound("queued run"));
        }
        Ok(())
    }

    /// Marks a queued run as running (a worker started driving it). Does not change its version: the state
    /// the worker saves next is still expected at the version it claimed.
    pub async fn mark_run_running(&mut self, id: RunId) -> StoreResult<()> {
        let org = self.org;
        on_tx!(self, c => sqlx::query(
            "UPDATE agent_runs SET status = 'running', started_at = COALESCE(started_at, $3)
             WHERE organization_id = $1 AND id = $2 AND status = $4")
            .bind(org.as_uuid()).bind(id.as_uuid()).bind(now()).bind(QUEUED).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// One run.
    pub async fn run(&mut self, id: RunId) -> StoreResult<Run> {
        let org = self.org;
        let row: Option<RunRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {RUN_COLUMNS} FROM agent_runs WHERE organization_id = $1 AND id = $2"))
            .bind(org.as_uuid()).bind(id.as_uuid()).fetch_optional(c).await)?;
        row.ok_or(StoreError::NotFound("run"))?.try_into()
    }

    /// Runs matching `filter`, newest first.
    pub async fn runs(&mut self, filter: &RunFilter, page: &PageRequest) -> StoreResult<Page<Run>> {
        let org = self.org;
        let (limit, before) = (page.limit(), page.before()?);
        // NULL parameters disable their filter, so one statement serves every combination.
        let rows: Vec<RunRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {RUN_COLUMNS} FROM agent_runs
             WHERE organization_id = $1 AND id < $2
               AND ($3 IS NULL OR agent_id = $3) AND ($4 IS NULL OR status = $4) AND ($5 IS NULL OR trigger_kind = $5)
               AND ($6 IS NULL OR created_at >= $6) AND ($7 IS NULL OR created_at < $7)
             ORDER BY id DESC LIMIT $8"))
            .bind(org.as_uuid()).bind(before).bind(filter.agent_id.map(|a| *a.as_uuid())).bind(filter.status.as_deref())
            .bind(filter.trigger.map(RunTrigger::as_str)).bind(filter.since).bind(filter.until).bind(limit + 1)
            .fetch_all(c).await)?;
        let rows = rows
            .into_iter()
            .map(Run::try_from)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_rows(rows, limit, |r| *r.id.as_uuid()))
    }

    /// Saves the executor's state (status, output, usage and cost follow from it) if the run is still at
    /// `expected_version`; a paused run resumes from what this stored.
    pub async fn save_run_state(&mut self, state: &RunState, expected_version: i64) -> StoreResult<Run> {
        let org = self.org;
        let status = status_name(state.status);
        let stop_reason = state.output.as_ref().map(|o| {
            serde_json::to_value(o.stop_reason)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        });
        let t = now();
        let finished_at = state.status.is_terminal().then_some(t);
        let row: Option<RunRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "UPDATE agent_runs SET status = $3, output = $4, stop_reason = $5, usage = $6, cost_usd = $7, state = $8,
                 started_at = COALESCE(started_at, $9), finished_at = COALESCE(finished_at, $10), version = version + 1
             WHERE organization_id = $1 AND id = $2 AND version = $11 RETURNING {RUN_COLUMNS}"))
            .bind(org.as_uuid()).bind(state.run_id.as_uuid()).bind(status).bind(state.output.as_ref().map(Json))
            .bind(stop_reason).bind(Json(state.counters.usage)).bind(state.counters.cost_usd).bind(Json(state))
            .bind(t).bind(finished_at).bind(expected_version).fetch_optional(c).await)?;
        match row {
            Some(r) => r.try_into(),
            None => {
                self.run(state.run_id).await?;
                Err(StoreError::Conflict {
                    what: "run",
                    expected: expected_version,
                })
            }
        }
    }

    /// The stored executor state of a run, to resume it.
    pub async fn run_state(&mut self, id: RunId) -> StoreResult<Option<RunState>> {
        let org = self.org;
        let row: Option<(Option<Json<RunState>>,)> = on_tx!(self, c => sqlx::query_as(
            "SELECT state FROM agent_runs WHERE organization_id = $1 AND id = $2")
            .bind(org.as_uuid()).bind(id.as_uuid()).fetch_optional(c).await)?;
        Ok(row.ok_or(StoreError::NotFound("run"))?.0.map(|s| s.0))
    }

    /// Appends events of one run (sequence numbers come from the events; a repeated number is refused), and
    /// returns them as [`run_events`](Self::run_events) will read them back.
    pub async fn append_run_events(
        &mut self,
        run: RunId,
        events: &[RunEvent],
    ) -> StoreResult<Vec<StoredRunEvent>> {
        let org = self.org;
        let mut rows = Vec::with_capacity(events.len());
        for event in events {
            if event.run_id != run {
                return Err(StoreError::InvalidInput("an event belongs to another run".into()));
            }
            let payload = serde_json::to_value(event).map_err(|e| StoreError::InvalidInput(e.to_string()))?;
            let kind = payload
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or("unknown")
                .to_owned();
            let seq = i64::try_from(event.seq)
                .map_err(|_| StoreError::InvalidInput("sequence number too large".into()))?;
            rows.push((seq, kind, payload));
        }
        let t = now();
        // Multi-row inserts: one round trip per 1,000 events.
        // Statements stay near sqlx's 8 KiB write buffer: sqlx 0.9.0 does not set TCP_NODELAY
        // (transact-rs/sqlx#4335) and larger writes over TCP stall on Nagle plus delayed ACKs.
        let mut batches: Vec<&[(i64, String, serde_json::Value)]> = Vec::new();
        let (mut start, mut bytes) = (0usize, 0usize);
        for (i, (_, kind, payload)) in rows.iter().enumerate() {
            let size = 96 + kind.len() + payload.to_string().len();
            if i > start && bytes + size > 6 * 1024 {
                batches.push(&rows[start..i]);
                (start, bytes) = (i, 0);
            }
            bytes += size;
        }
        if start < rows.len() {
            batches.push(&rows[start..]);
        }
        for batch in batches {
            on_tx_guarded!(self, c => {
                let mut q = sqlx::QueryBuilder::new("INSERT INTO run_events (organization_id, run_id, seq, kind, payload, created_at) ");
                q.push_values(batch, |mut row, (seq, kind, payload)| {
                    row.push_bind(*org.as_uuid()).push_bind(*run.as_uuid()).push_bind(*seq).push_bind(kind.clone())
                        .push_bind(Json(payload.clone())).push_bind(t);
                });
                q.build().execute(c).await.map(|r| r.rows_affected())
            })
            .map_err(|e| match StoreError::from(e) {
                StoreError::Duplicate(_) => StoreError::Duplicate("a run event with that sequence number"),
                other => other,
            })?;
        }
        if !events.is_empty() {
            self.notify_run_events(run).await?;
        }
        Ok(rows
            .into_iter()
            .map(|(seq, kind, payload)| StoredRunEvent {
                run_id: run,
                seq,
                kind,
                payload,
                created_at: t,
            })
            .collect())
    }

    /// Events of a run after sequence number `after` (0 for all), in order, at most `limit`.
    pub async fn run_events(
        &mut self,
        run: RunId,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<StoredRunEvent>> {
        let org = self.org;
        let limit = i64::from(limit.clamp(1, 1000));
        let rows: Vec<EventTuple> = on_tx!(self, c => sqlx::query_as(
            "SELECT run_id, seq, kind, payload, created_at FROM run_events
             WHERE organization_id = $1 AND run_id = $2 AND seq > $3 ORDER BY seq LIMIT $4")
            .bind(org.as_uuid()).bind(run.as_uuid()).bind(after).bind(limit).fetch_all(c).await)?;
        Ok(rows
            .into_iter()
            .map(|(run_id, seq, kind, payload, created_at)| StoredRunEvent {
                run_id: RunId::from_uuid(run_id),
                seq,
                kind,
                payload: payload.0,
                created_at,
            })
            .collect())
    }
}
