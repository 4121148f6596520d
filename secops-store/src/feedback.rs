//! Thumbs up or down, with a comment, on a chat message or a run.

use chrono::{DateTime, Utc};
use secops_core::tenancy::UserId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::{TenantTx, fsql, on_tx, on_tx_guarded};
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::util::now;

/// What the feedback is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum FeedbackTarget {
    /// A chat message.
    Message(Uuid),
    /// A run.
    Run(Uuid),
}

/// Stored feedback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    /// Its id.
    pub id: Uuid,
    /// What it is about.
    pub target: FeedbackTarget,
    /// +1 or -1.
    pub rating: i16,
    /// Free text.
    pub comment: String,
    /// Who gave it.
    pub author_id: Option<UserId>,
    /// When.
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct FeedbackRow {
    id: Uuid,
    target_kind: String,
    target_id: Uuid,
    rating: i16,
    comment: String,
    author_id: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl TryFrom<FeedbackRow> for Feedback {
    type Error = StoreError;
    fn try_from(r: FeedbackRow) -> StoreResult<Self> {
        let target = match r.target_kind.as_str() {
            "message" => FeedbackTarget::Message(r.target_id),
            "run" => FeedbackTarget::Run(r.target_id),
            other => {
                return Err(StoreError::Database(format!(
                    "stored feedback target `{other}` is unknown"
                )));
            }
        };
        Ok(Self {
            id: r.id,
            target,
            rating: r.rating,
            comment: r.comment,
            author_id: r.author_id.map(UserId::from_uuid),
            created_at: r.created_at,
        })
    }
}

const FEEDBACK_COLUMNS: &str = "id, target_kind, target_id, rating, comment, author_id, created_at";

impl TenantTx {
    /// Records feedback on a message or run of this organisation.
    pub async fn add_feedback(
        &mut self,
        target: FeedbackTarget,
        rating: i16,
        comment: &str,
        author: Option<UserId>,
    ) -> StoreResult<Feedback> {
        if rating != 1 && rating != -1 {
            return Err(StoreError::InvalidInput("the rating is 1 or -1".into()));
        }
        if comment.len() > 10_000 {
            return Err(StoreError::InvalidInput(
                "the comment is longer than 10,000 bytes".into(),
            ));
        }
        let org = self.org;
        let (kind, target_id, table) = match target {
            FeedbackTarget::Message(id) => ("message", id, "chat_messages"),
            FeedbackTarget::Run(id) => ("run", id, "agent_runs"),
        };
        let exists: Option<i32> = on_tx!(self, c => sqlx::query_scalar(fsql!("SELECT 1 FROM {table} WHERE organization_id = $1 AND id = $2"))
            .bind(org.as_uuid()).bind(target_id).fetch_optional(c).await)?;
        if exists.is_none() {
            return Err(StoreError::NotFound(if kind == "run" {
                "run"
            } else {
                "message"
            }));
        }
        let row: FeedbackRow = on_tx_guarded!(self, c => sqlx::query_as(fsql!(
            "INSERT INTO feedback (organization_id, id, target_kind, target_id, rating, comment, author_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {FEEDBACK_COLUMNS}"))
            .bind(org.as_uuid()).bind(Uuid::now_v7()).bind(kind).bind(target_id).bind(rating).bind(comment)
            .bind(author.map(|a| *a.as_uuid())).bind(now()).fetch_one(c).await)?;
        row.try_into()
    }

    /// Feedback, newest first.
    pub async fn feedback(&mut self, page: &PageRequest) -> StoreResult<Page<Feedback>> {
        let org = self.org;
        let (limit, before) = (page.limit(), page.before()?);
        let rows: Vec<FeedbackRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE organization_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"))
            .bind(org.as_uuid()).bind(before).bind(limit + 1).fetch_all(c).await)?;
        let rows = rows
            .into_iter()
            .map(Feedback::try_from)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_rows(rows, limit, |f| f.id))
    }
}
