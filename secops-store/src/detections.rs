//! Detection rules (Sigma YAML, per organisation) and the detections (alerts) they raise, with their triage
//! workflow: new -> triaging -> true_positive | false_positive -> closed.

use chrono::{DateTime, Utc};
use secops_core::tenancy::{DetectionId, RuleId, RunId, UserId};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use crate::db::{TenantTx, fsql, on_tx, on_tx_guarded};
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::util::now;

/// A rule to store (already parsed and validated by the detection engine).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRule {
    /// The rule's own id (Sigma `id`), unique per organisation.
    pub rule_uid: String,
    /// Title.
    pub title: String,
    /// The YAML as uploaded.
    pub source_yaml: String,
    /// `stable`, `test`, `experimental`, `deprecated`, `unsupported`.
    pub status: String,
    /// `informational` .. `critical`.
    pub level: String,
    /// Author (shown with every detection, as the Detection Rule License requires).
    pub author: String,
    /// Tags (`attack.t1059.001`, ...).
    pub tags: Vec<String>,
    /// Whether it runs.
    pub enabled: bool,
}

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Its id.
    pub id: RuleId,
    /// The rule as stored.
    #[serde(flatten)]
    pub rule: NewRule,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// Triage status of a detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectionStatus {
    /// Not looked at.
    New,
    /// Being looked at.
    Triaging,
    /// Confirmed malicious.
    TruePositive,
    /// Benign.
    FalsePositive,
    /// Done.
    Closed,
}

impl DetectionStatus {
    fn as_str(self) -> &'static str {
        match self {
            DetectionStatus::New => "new",
            DetectionStatus::Triaging => "triaging",
            DetectionStatus::TruePositive => "true_positive",
            DetectionStatus::FalsePositive => "false_positive",
            DetectionStatus::Closed => "closed",
        }
    }

    fn parse(s: &str) -> StoreResult<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned()))
            .map_err(|_| StoreError::Database(format!("stored status `{s}` is unknown")))
    }

    /// Whether the workflow allows going from `self` to `next`.
    #[must_use]
    pub fn can_become(self, next: DetectionStatus) -> bool {
        use DetectionStatus as S;
        matches!(
            (self, next),
            (S::New, S::Triaging | S::Closed)
                | (S::Triaging, S::TruePositive | S::FalsePositive | S::New)
                | (S::TruePositive | S::FalsePositive, S::Closed | S::Triaging)
                | (S::Closed, S::Triaging)
        )
    }
}

/// A detection to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewDetection {
    /// The rule that fired.
    pub rule_id: Option<RuleId>,
    /// Level.
    pub level: String,
    /// Title.
    pub title: String,
    /// The matching event.
    pub event: serde_json::Value,
}

/// A note on a detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionNote {
    /// Who wrote it.
    pub author_id: Option<UserId>,
    /// The text.
    pub text: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A stored detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Its id.
    pub id: DetectionId,
    /// The rule.
    pub rule_id: Option<RuleId>,
    /// Status.
    pub status: DetectionStatus,
    /// Level.
    pub level: String,
    /// Title.
    pub title: String,
    /// The event.
    pub event: serde_json::Value,
    /// Assignee.
    pub assignee_id: Option<UserId>,
    /// Notes, oldest first.
    pub notes: Vec<DetectionNote>,
    /// The triage run, when one was started.
    pub run_id: Option<RunId>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// A change to a detection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DetectionUpdate {
    /// New status (must be allowed by the workflow).
    pub status: Option<DetectionStatus>,
    /// New assignee (`Some(None)` unassigns).
    pub assignee_id: Option<Option<UserId>>,
    /// A note to append.
    pub note: Option<DetectionNote>,
    /// Link a triage run.
    pub run_id: Option<RunId>,
}

/// Filters for listing detections.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DetectionFilter {
    /// Only this status.
    pub status: Option<DetectionStatus>,
    /// Only this level.
    pub level: Option<String>,
    /// Only this rule.
    pub rule_id: Option<RuleId>,
    /// Only this assignee.
    pub assignee_id: Option<UserId>,
    /// Raised at or after.
    pub since: Option<DateTime<Utc>>,
    /// Raised before.
    pub until: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: Uuid,
    rule_uid: String,
    title: String,
    source_yaml: String,
    status: String,
    level: String,
    author: String,
    tags: Json<Vec<String>>,
    enabled: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl From<RuleRow> for Rule {
    fn from(r: RuleRow) -> Self {
        Self {
            id: RuleId::from_uuid(r.id),
            rule: NewRule {
                rule_uid: r.rule_uid,
                title: r.title,
                source_yaml: r.source_yaml,
                status: r.status,
                level: r.level,
                author: r.author,
                tags: r.tags.0,
                enabled: r.enabled,
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

#[derive(sqlx::FromRow)]
struct DetectionRow {
    id: Uuid,
    rule_id: Option<Uuid>,
    status: String,
    level: String,
    title: String,
    event: Json<serde_json::Value>,
    assignee_id: Option<Uuid>,
    notes: Json<Vec<DetectionNote>>,
    run_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl TryFrom<DetectionRow> for Detection {
    type Error = StoreError;
    fn try_from(r: DetectionRow) -> StoreResult<Self> {
        Ok(Self {
            id: DetectionId::from_uuid(r.id),
            rule_id: r.rule_id.map(RuleId::from_uuid),
            status: DetectionStatus::parse(&r.status)?,
            level: r.level,
            title: r.title,
            event: r.event.0,
            assignee_id: r.assignee_id.map(UserId::from_uuid),
            notes: r.notes.0,
            run_id: r.run_id.map(RunId::from_uuid),
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

const RULE_COLUMNS: &str =
    "id, rule_uid, title, source_yaml, status, level, author, tags, enabled, created_at, updated_at, version";
const DETECTION_COLUMNS: &str =
    "id, rule_id, status, level, title, event, assignee_id, notes, run_id, created_at, updated_at, version";
const LEVELS: [&str; 5] = ["informational", "low", "medium", "high", "critical"];

fn check_rule(r: &NewRule) -> StoreResult<()> {
    if r.rule_uid.trim().is_empty() || r.title.trim().is_empty() {
        return Err(StoreError::InvalidInput("a rule needs an id and a title".into()));
    }
    if !LEVELS.contains(&r.level.as_str()) {
        return Err(StoreError::InvalidInput(format!("unknown level `{}`", r.level)));
    }
    if r.source_yaml.len() > 512 * 1024 {
        return Err(StoreError::InvalidInput("the rule is larger than 512 KiB".into()));
    }
    Ok(())
}

impl TenantTx {
    /// Stores a rule.
    pub async fn create_rule(&mut self, rule: NewRule) -> StoreResult<Rule> {
        check_rule(&rule)?;
        let org = self.org;
        let t = now();
        let row: RuleRow = on_tx_guarded!(self, c => sqlx::query_as(fsql!(
            "INSERT INTO detection_rules (organization_id, {RULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, 1)
             RETURNING {RULE_COLUMNS}"))
            .bind(org.as_uuid()).bind(RuleId::new().as_uuid()).bind(&rule.rule_uid).bind(&rule.title).bind(&rule.source_yaml)
            .bind(&rule.status).bind(&rule.level).bind(&rule.author).bind(Json(&rule.tags)).bind(rule.enabled).bind(t)
            .fetch_one(c).await)
        .map_err(|e| match StoreError::from(e) {
            StoreError::Duplicate(_) => StoreError::Duplicate("a rule with that id"),
            other => other,
        })?;
        Ok(row.into())
    }

    /// One rule.
    pub async fn rule(&mut self, id: RuleId) -> StoreResult<Rule> {
        let org = self.org;
        let row: Option<RuleRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {RULE_COLUMNS} FROM detection_rules WHERE organization_id = $1 AND id = $2"))
            .bind(org.as_uuid()).bind(id.as_uuid()).fetch_optional(c).await)?;
        row.map(Into::into).ok_or(StoreError::NotFound("rule"))
    }

    /// Rules, newest first; only enabled ones when `enabled_only`.
    pub async fn rules(&mut self, enabled_only: bool, page: &PageRequest) -> StoreResult<Page<Rule>> {
        let org = self.org;
        let (limit, before) = (page.limit(), page.before()?);
        let rows: Vec<RuleRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {RULE_COLUMNS} FROM detection_rules WHERE organization_id = $1 AND id < $2 AND (enabled OR NOT $3)
             ORDER BY id DESC LIMIT $4"))
            .bind(org.as_uuid()).bind(before).bind(enabled_only).bind(limit + 1).fetch_all(c).await)?;
        Ok(Page::from_rows(
            rows.into_iter().map(Rule::from).collect(),
            limit,
            |r| *r.id.as_uuid(),
        ))
    }

    /// Enables or disables a rule at `expected_version`.
    pub async fn set_rule_enabled(
        &mut self,
        id: RuleId,
        enabled: bool,
        expected_version: i64,
    ) -> StoreResult<Rule> {
        let org = self.org;
        let row: Option<RuleRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "UPDATE detection_rules SET enabled = $3, updated_at = $4, version = version + 1
             WHERE organization_id = $1 AND id = $2 AND version = $5 RETURNING {RULE_COLUMNS}"))
            .bind(org.as_uuid()).bind(id.as_uuid()).bind(enabled).bind(now()).bind(expected_version).fetch_optional(c).await)?;
        match row {
            Some(r) => Ok(r.into()),
            None => {
                self.rule(id).await?;
                Err(StoreError::Conflict {
                    what: "rule",
                    expected: expected_version,
                })
            }
        }
    }

    /// Deletes a rule (its detections keep their data, without the link).
    pub async fn delete_rule(&mut self, id: RuleId) -> StoreResult<()> {
        let org = self.org;
        let n = on_tx!(self, c => sqlx::query("DELETE FROM detection_rules WHERE organization_id = $1 AND id = $2")
            .bind(org.as_uuid()).bind(id.as_uuid()).execute(c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound("rule"));
        }
        Ok(())
    }

    /// Records a detection (status `new`).
    pub async fn create_detection(&mut self, d: NewDetection) -> StoreResult<Detection> {
        if !LEVELS.contains(&d.level.as_str()) {
            return Err(StoreError::InvalidInput(format!("unknown level `{}`", d.level)));
        }
        if let Some(rule) = d.rule_id {
            self.rule(rule).await?;
        }
        let org = self.org;
        let t = now();
        let row: DetectionRow = on_tx_guarded!(self, c => sqlx::query_as(fsql!(
            "INSERT INTO detections (organization_id, id, rule_id, status, level, title, event, assignee_id, notes, run_id, created_at, updated_at, version)
             VALUES ($1, $2, $3, 'new', $4, $5, $6, NULL, $7, NULL, $8, $8, 1) RETURNING {DETECTION_COLUMNS}"))
            .bind(org.as_uuid()).bind(DetectionId::new().as_uuid()).bind(d.rule_id.map(|r| *r.as_uuid())).bind(&d.level).bind(&d.title)
            .bind(Json(&d.event)).bind(Json(Vec::<DetectionNote>::new())).bind(t).fetch_one(c).await)?;
        row.try_into()
    }

    /// One detection.
    pub async fn detection(&mut self, id: DetectionId) -> StoreResult<Detection> {
        let org = self.org;
        let row: Option<DetectionRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {DETECTION_COLUMNS} FROM detections WHERE organization_id = $1 AND id = $2"))
            .bind(org.as_uuid()).bind(id.as_uuid()).fetch_optional(c).await)?;
        row.ok_or(StoreError::NotFound("detection"))?.try_into()
    }

    /// Detections matching `filter`, newest first.
    pub async fn detections(
        &mut self,
        filter: &DetectionFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Detection>> {
        let org = self.org;
        let (limit, before) = (page.limit(), page.before()?);
        let rows: Vec<DetectionRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {DETECTION_COLUMNS} FROM detections WHERE organization_id = $1 AND id < $2
               AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR level = $4) AND ($5 IS NULL OR rule_id = $5) AND ($6 IS NULL OR assignee_id = $6)
               AND ($7 IS NULL OR created_at >= $7) AND ($8 IS NULL OR created_at < $8)
             ORDER BY id DESC LIMIT $9"))
            .bind(org.as_uuid()).bind(before).bind(filter.status.map(DetectionStatus::as_str)).bind(filter.level.as_deref())
            .bind(filter.rule_id.map(|r| *r.as_uuid())).bind(filter.assignee_id.map(|u| *u.as_uuid()))
            .bind(filter.since).bind(filter.until).bind(limit + 1)
            .fetch_all(c).await)?;
        let rows = rows
            .into_iter()
            .map(Detection::try_from)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_rows(rows, limit, |d| *d.id.as_uuid()))
    }

    /// Applies a triage change at `expected_version`; status changes must follow the workflow.
    pub async fn update_detection(
        &mut self,
        id: DetectionId,
        expected_version: i64,
        update: DetectionUpdate,
    ) -> StoreResult<Detection> {
        let current = self.detection(id).await?;
        if current.version != expected_version {
            return Err(StoreError::Conflict {
                what: "detection",
                expected: expected_version,
            });
        }
        let status = match update.status {
            Some(next) if next != current.status && !current.status.can_become(next) => {
                return Err(StoreError::InvalidInput(format!(
                    "a {} detection cannot become {}",
                    current.status.as_str(),
                    next.as_str()
                )));
            }
            Some(next) => next,
            None => current.status,
        };
        let assignee = update.assignee_id.unwrap_or(current.assignee_id);
        let mut notes = current.notes;
        if let Some(note) = update.note {
            if note.text.trim().is_empty() || note.text.len() > 10_000 {
                return Err(StoreError::InvalidInput("a note is 1 to 10,000 bytes".into()));
            }
            notes.push(note);
        }
        let run = update.run_id.or(current.run_id);
        let org = self.org;
        let row: Option<DetectionRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "UPDATE detections SET status = $3, assignee_id = $4, notes = $5, run_id = $6, updated_at = $7, version = version + 1
             WHERE organization_id = $1 AND id = $2 AND version = $8 RETURNING {DETECTION_COLUMNS}"))
            .bind(org.as_uuid()).bind(id.as_uuid()).bind(status.as_str()).bind(assignee.map(|u| *u.as_uuid())).bind(Json(&notes))
            .bind(run.map(|r| *r.as_uuid())).bind(now()).bind(expected_version).fetch_optional(c).await)?;
        row.ok_or(StoreError::Conflict {
            what: "detection",
            expected: expected_version,
        })?
        .try_into()
    }
}
