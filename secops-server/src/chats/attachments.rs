//! Chat attachments: multipart upload with size and type limits, stored through the
//! [`FileStore`](secops_store::files::FileStore), listed, downloaded, and referenced from messages by id.

use axum::Json;
use axum::extract::multipart::{Field, Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use secops_core::tenancy::{AttachmentId, ChatId, Permission};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Auth, PathParam};
use crate::state::AppState;

/// An attachment as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    /// Its id (refer to it in `attachment_ids` of a message).
    pub id: uuid::Uuid,
    /// The chat.
    pub chat_id: uuid::Uuid,
    /// File name as uploaded.
    pub file_name: String,
    /// Media type.
    pub media_type: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<secops_store::chats::Attachment> for AttachmentView {
    fn from(a: secops_store::chats::Attachment) -> Self {
        Self {
            id: *a.id.as_uuid(),
            chat_id: *a.chat_id.as_uuid(),
            file_name: a.file_name,
            media_type: a.media_type,
            size_bytes: a.size_bytes,
            sha256: a.sha256,
            created_at: a.created_at,
        }
    }
}

/// Attachments of a chat.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentList {
    /// Oldest first.
    pub items: Vec<AttachmentView>,
}

/// The multipart form of an upload, for the spec.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct AttachmentUpload {
    /// The file (one part named `file`, with a file name and a content type).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_attachment", detail)
}

/// Whether the bytes look like what the uploader says they are, so that a type allowed for its harmlessness
/// (text, an image) cannot smuggle something else past the allow-list.
fn content_matches(media_type: &str, bytes: &[u8]) -> bool {
    match media_type {
        "application/pdf" => bytes.starts_with(b"%PDF-"),
        "image/png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/gif" => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
        "application/json" => serde_json::from_slice::<serde_json::Value>(bytes).is_ok(),
        t if t.starts_with("text/") || t == "application/x-ndjson" => std::str::from_utf8(bytes).is_ok(),
        // A type the operator allowed that we cannot check: trust the allow-list.
        _ => true,
    }
}

async fn read_capped(field: &mut Field<'_>, max: usize) -> ApiResult<Vec<u8>> {
    let mut bytes = Vec::new();
    loop {
        let chunk = field
            .chunk()
            .await
            .map_err(|e| ApiError::bad_request(format!("the upload could not be read: {e}")))?;
        let Some(chunk) = chunk else {
            return Ok(bytes);
        };
        if bytes.len() + chunk.len() > max {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "attachment_too_large",
                format!("attachments may be at most {max} bytes"),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
}

/// Upload an attachment (multipart form with one part named `file`). Its size and media type are checked
/// against the server's limits, and its content against its declared type.
#[utoipa::path(post, path = "/v1/chats/{id}/attachments", tag = "chats", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Chat id")),
    request_body(content = AttachmentUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = AttachmentView), (status = 404, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<AttachmentView>)> {
    auth.0.require(Permission::ChatsUse)?;
    let mut form = form.map_err(|e| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send multipart/form-data with a `file` part: {}", e.body_text()),
        )
    })?;
    let max = state.config.max_attachment_bytes;
    let mut upload = None;
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(format!("the upload could not be read: {e}")))?
    {
        if field.name() != Some("file") || upload.is_some() {
            return Err(invalid("the form must have exactly one part, named `file`"));
        }
        let name = field
            .file_name()
            .map(str::to_owned)
            .ok_or_else(|| invalid("the `file` part needs a file name"))?;
        let media_type = field
            .content_type()
            .map(|t| {
                t.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .ok_or_else(|| invalid("the `file` part needs a content type"))?;
        if !state.config.attachment_types.contains(&media_type) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "attachment_type_not_allowed",
                format!(
                    "`{media_type}` is not accepted; allowed: {}",
                    state.config.attachment_types.join(", ")
                ),
            ));
        }
        let bytes = read_capped(&mut field, max).await?;
        upload = Some((name, media_type, bytes));
    }
    let (name, media_type, bytes) = upload.ok_or_else(|| invalid("the form has no `file` part"))?;
    // Only the last path component, without control characters: names are shown and offered for download.
    let name: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(255)
        .collect();
    if name.trim().is_empty() || bytes.is_empty() {
        return Err(invalid("the file needs a name and content"));
    }
    if !content_matches(&media_type, &bytes) {
        return Err(invalid(format!("the content is not valid {media_type}")));
    }
    let files = state.files()?;
    let mut tx = state.store.tenant(auth.org()).await?;
    let attachment = tx
        .add_attachment(
            files.as_ref(),
            ChatId::from_uuid(id),
            &name,
            &media_type,
            &bytes,
            auth.user(),
        )
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(attachment.into())))
}

/// List a chat's attachments.
#[utoipa::path(get, path = "/v1/chats/{id}/attachments", tag = "chats", operation_id = "list_attachments", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Chat id")),
    responses((status = 200, body = AttachmentList), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
) -> ApiResult<Json<AttachmentList>> {
    auth.0.require(Permission::ChatsUse)?;
    let chat = ChatId::from_uuid(id);
    let mut tx = state.store.tenant(auth.org()).await?;
    tx.chat(chat).await?;
    let items = tx.attachments(chat).await?;
    tx.commit().await?;
    Ok(Json(AttachmentList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Download an attachment.
#[utoipa::path(get, path = "/v1/chats/{id}/attachments/{attachment_id}", tag = "chats", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Chat id"), ("attachment_id" = uuid::Uuid, Path, description = "Attachment id")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = Problem)))]
pub async fn download(
    State(state): State<AppState>,
    auth: Auth,
    PathParam((id, attachment_id)): PathParam<(uuid::Uuid, uuid::Uuid)>,
) -> ApiResult<Response> {
    auth.0.require(Permission::ChatsUse)?;
    let files = state.files()?;
    let mut tx = state.store.tenant(auth.org()).await?;
    let (meta, bytes) = tx
        .attachment(files.as_ref(), AttachmentId::from_uuid(attachment_id))
        .await?;
    tx.commit().await?;
    if meta.chat_id.as_uuid() != &id {
        return Err(ApiError::not_found("attachment"));
    }
    let ascii_name: String = meta
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{ascii_name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    let media_type = HeaderValue::from_str(&meta.media_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok((
        [
            (header::CONTENT_TYPE, media_type),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The routes of this module. The upload enforces its own (larger, configured) limit while reading, so the
/// general body limit is lifted for it alone.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload, list))
        .layer(DefaultBodyLimit::disable())
        .routes(routes!(download))
}
