//! Chats, their messages and attachments. Attachment bytes live in a [`FileStore`] (a local directory by
//! default, or any S3-compatible store); the database keeps metadata and the content hash.

use chrono::{DateTime, Utc};
use secops_core::message::{ContentBlock, Role as MessageRole};
use secops_core::tenancy::{AgentId, AttachmentId, ChatId, MessageId, OrgId, RunId, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::types::Json;
use uuid::Uuid;

use crate::db::{TenantTx, fsql, on_tx, on_tx_guarded};
use crate::error::{StoreError, StoreResult};
pub use crate::files::{FileStore, LocalFileStore};
use crate::page::{Page, PageRequest};
use crate::util::now;

/// A chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chat {
    /// Its id.
    pub id: ChatId,
    /// The agent that answers.
    pub agent_id: Option<AgentId>,
    /// Title.
    pub title: String,
    /// Creator.
    pub created_by: Option<UserId>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// A chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Its id.
    pub id: MessageId,
    /// The chat.
    pub chat_id: ChatId,
    /// Who wrote it.
    pub role: MessageRole,
    /// Content blocks.
    pub content: Vec<ContentBlock>,
    /// The run that produced or answered it.
    pub run_id: Option<RunId>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Attachment metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// Its id.
    pub id: AttachmentId,
    /// The chat.
    pub chat_id: ChatId,
    /// File name as uploaded.
    pub file_name: String,
    /// MIME type.
    pub media_type: String,
    /// Size.
    pub size_bytes: i64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// Uploader.
    pub created_by: Option<UserId>,
    /// When.
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct ChatRow {
    id: Uuid,
    agent_id: Option<Uuid>,
    title: String,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl From<ChatRow> for Chat {
    fn from(r: ChatRow) -> Self {
        Self {
            id: ChatId::from_uuid(r.id),
            agent_id: r.agent_id.map(AgentId::from_uuid),
            title: r.title,
            created_by: r.created_by.map(UserId::from_uuid),
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: Uuid,
    chat_id: Uuid,
    role: String,
    content: Json<Vec<ContentBlock>>,
    run_id: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl TryFrom<MessageRow> for ChatMessage {
    type Error = StoreError;
    fn try_from(r: MessageRow) -> StoreResult<Self> {
        let role = match r.role.as_str() {
            "user" => MessageRole::User,
            "assistant" => MessageRole::Assistant,
            other => {
                return Err(StoreError::Database(format!(
                    "stored message role `{other}` is unknown"
                )));
            }
        };
        Ok(Self {
            id: MessageId::from_uuid(r.id),
            chat_id: ChatId::from_uuid(r.chat_id),
            role,
            content: r.content.0,
            run_id: r.run_id.map(RunId::from_uuid),
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AttachmentRow {
    id: Uuid,
    chat_id: Option<Uuid>,
    file_name: String,
    media_type: String,
    size_bytes: i64,
    sha256: Vec<u8>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl From<AttachmentRow> for Attachment {
    fn from(r: AttachmentRow) -> Self {
        Self {
            id: AttachmentId::from_uuid(r.id),
            chat_id: ChatId::from_uuid(r.chat_id.unwrap_or_default()),
            file_name: r.file_name,
            media_type: r.media_type,
            size_bytes: r.size_bytes,
            sha256: hex::encode(r.sha256),
            created_by: r.created_by.map(UserId::from_uuid),
            created_at: r.created_at,
        }
    }
}

const CHAT_COLUMNS: &str = "id, agent_id, title, created_by, created_at, updated_at, version";
const MESSAGE_COLUMNS: &str = "id, chat_id, role, content, run_id, created_at";
const ATTACHMENT_COLUMNS: &str =
    "id, chat_id, file_name, media_type, size_bytes, sha256, created_by, created_at";

fn check_title(title: &str) -> StoreResult<()> {
    if title.chars().count() > 200 {
        return Err(StoreError::InvalidInput(
            "the title is longer than 200 characters".into(),
        ));
    }
    Ok(())
}

fn file_key(org: OrgId, id: AttachmentId) -> String {
    format!("{org}/{id}")
}

impl TenantTx {
    /// Starts a chat with `agent` (which must belong to this organisation).
    pub async fn create_chat(
        &mut self,
        agent: Option<AgentId>,
        title: &str,
        created_by: Option<UserId>,
    ) -> StoreResult<Chat> {
        check_title(title)?;
        if let Some(agent) = agent {
            self.agent(agent).await?;
        }
        let org = self.org;
        let t = now();
        let row: ChatRow = on_tx_guarded!(self, c => sqlx::query_as(fsql!(
            "INSERT INTO chats (organization_id, id, agent_id, title, created_by, created_at, updated_at, version)
             VALUES ($1, $2, $3, $4, $5, $6, $6, 1) RETURNING {CHAT_COLUMNS}"))
            .bind(org.as_uuid()).bind(ChatId::new().as_uuid()).bind(agent.map(|a| *a.as_uuid())).bind(title)
            .bind(created_by.map(|u| *u.as_uuid())).bind(t).fetch_one(c).await)?;
        Ok(row.into())
    }

    /// One chat.
    pub async fn chat(&mut self, id: ChatId) -> StoreResult<Chat> {
        let org = self.org;
        let row: Option<ChatRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {CHAT_COLUMNS} FROM chats WHERE organization_id = $1 AND id = $2"))
            .bind(org.as_uuid()).bind(id.as_uuid()).fetch_optional(c).await)?;
        row.map(Into::into).ok_or(StoreError::NotFound("chat"))
    }

    /// Chats, newest first.
    pub async fn chats(&mut self, page: &PageRequest) -> StoreResult<Page<Chat>> {
        let org = self.org;
        let (limit, before) = (page.limit(), page.before()?);
        let rows: Vec<ChatRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {CHAT_COLUMNS} FROM chats WHERE organization_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"))
            .bind(org.as_uuid()).bind(before).bind(limit + 1).fetch_all(c).await)?;
        Ok(Page::from_rows(
            rows.into_iter().map(Chat::from).collect(),
            limit,
            |c| *c.id.as_uuid(),
        ))
    }

    /// Renames a chat at `expected_version`.
    pub async fn rename_chat(&mut self, id: ChatId, title: &str, expected_version: i64) -> StoreResult<Chat> {
        check_title(title)?;
        let org = self.org;
        let row: Option<ChatRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "UPDATE chats SET title = $3, updated_at = $4, version = version + 1
             WHERE organization_id = $1 AND id = $2 AND version = $5 RETURNING {CHAT_COLUMNS}"))
            .bind(org.as_uuid()).bind(id.as_uuid()).bind(title).bind(now()).bind(expected_version).fetch_optional(c).await)?;
        match row {
            Some(r) => Ok(r.into()),
            None => {
                self.chat(id).await?;
                Err(StoreError::Conflict {
                    what: "chat",
                    expected: expected_version,
                })
            }
        }
    }

    /// Deletes a chat, its messages and attachments (bytes included).
    pub async fn delete_chat(&mut self, files: &dyn FileStore, id: ChatId) -> StoreResult<()> {
        let attachments = self.attachments(id).await?;
        let org = self.org;
        let n = on_tx!(self, c => sqlx::query("DELETE FROM chats WHERE organization_id = $1 AND id = $2")
            .bind(org.as_uuid()).bind(id.as_uuid()).execute(c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound("chat"));
        }
        for a in attachments {
            files.delete(&file_key(org, a.id)).await?;
        }
        Ok(())
    }

    /// Appends a message to a chat.
    pub async fn add_chat_message(
        &mut self,
        chat: ChatId,
        role: MessageRole,
        content: Vec<ContentBlock>,
        run: Option<RunId>,
    ) -> StoreResult<ChatMessage> {
        self.chat(chat).await?;
        let org = self.org;
        let role = match role {
            MessageRole::User => "user",
            MessageRole::Assistant => "assistant",
        };
        let row: MessageRow = on_tx_guarded!(self, c => sqlx::query_as(fsql!(
            "INSERT INTO chat_messages (organization_id, id, chat_id, role, content, run_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {MESSAGE_COLUMNS}"))
            .bind(org.as_uuid()).bind(MessageId::new().as_uuid()).bind(chat.as_uuid()).bind(role).bind(Json(&content))
            .bind(run.map(|r| *r.as_uuid())).bind(now()).fetch_one(c).await)?;
        row.try_into()
    }

    /// Messages of a chat after `after` (a message id; `None` from the start), oldest first, at most `limit`.
    pub async fn chat_messages(
        &mut self,
        chat: ChatId,
        after: Option<MessageId>,
        limit: u32,
    ) -> StoreResult<Vec<ChatMessage>> {
        let org = self.org;
        let after = after.map_or(Uuid::nil(), |m| *m.as_uuid());
        let limit = i64::from(limit.clamp(1, 500));
        let rows: Vec<MessageRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {MESSAGE_COLUMNS} FROM chat_messages WHERE organization_id = $1 AND chat_id = $2 AND id > $3 ORDER BY id LIMIT $4"))
            .bind(org.as_uuid()).bind(chat.as_uuid()).bind(after).bind(limit).fetch_all(c).await)?;
        rows.into_iter().map(ChatMessage::try_from).collect()
    }

    /// Stores an attachment's bytes in `files` and its metadata here. Size and type limits are the caller's
    /// policy; the store only refuses empty files.
    pub async fn add_attachment(
        &mut self,
        files: &dyn FileStore,
        chat: ChatId,
        file_name: &str,
        media_type: &str,
        bytes: &[u8],
        created_by: Option<UserId>,
    ) -> StoreResult<Attachment> {
        if bytes.is_empty() || file_name.trim().is_empty() || file_name.len() > 255 {
            return Err(StoreError::InvalidInput(
                "an attachment needs a name (up to 255 bytes) and content".into(),
            ));
        }
        self.chat(chat).await?;
        let org = self.org;
        let id = AttachmentId::new();
        let key = file_key(org, id);
        files.put(&key, bytes).await?;
        let digest = Sha256::digest(bytes).to_vec();
        let size =
            i64::try_from(bytes.len()).map_err(|_| StoreError::InvalidInput("file too large".into()))?;
        let row: StoreResult<AttachmentRow> = on_tx_guarded!(self, c => sqlx::query_as(fsql!(
            "INSERT INTO attachments (organization_id, id, chat_id, message_id, file_name, media_type, size_bytes, sha256, storage_key, created_by, created_at)
             VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, $8, $9, $10) RETURNING {ATTACHMENT_COLUMNS}"))
            .bind(org.as_uuid()).bind(id.as_uuid()).bind(chat.as_uuid()).bind(file_name).bind(media_type).bind(size)
            .bind(&digest).bind(&key).bind(created_by.map(|u| *u.as_uuid())).bind(now()).fetch_one(c).await)
        .map_err(StoreError::from);
        match row {
            Ok(r) => Ok(r.into()),
            Err(e) => {
                // Do not leave bytes behind that no row points to.
                files.delete(&key).await?;
                Err(e)
            }
        }
    }

    /// Attachments of a chat.
    pub async fn attachments(&mut self, chat: ChatId) -> StoreResult<Vec<Attachment>> {
        let org = self.org;
        let rows: Vec<AttachmentRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE organization_id = $1 AND chat_id = $2 ORDER BY id"))
            .bind(org.as_uuid()).bind(chat.as_uuid()).fetch_all(c).await)?;
        Ok(rows.into_iter().map(Attachment::from).collect())
    }

    /// An attachment's metadata and bytes.
    pub async fn attachment(
        &mut self,
        files: &dyn FileStore,
        id: AttachmentId,
    ) -> StoreResult<(Attachment, Vec<u8>)> {
        let org = self.org;
        let row: Option<AttachmentRow> = on_tx!(self, c => sqlx::query_as(fsql!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE organization_id = $1 AND id = $2"))
            .bind(org.as_uuid()).bind(id.as_uuid()).fetch_optional(c).await)?;
        let a: Attachment = row.ok_or(StoreError::NotFound("attachment"))?.into();
        let bytes = files.get(&file_key(org, id)).await?;
        Ok((a, bytes))
    }
}
