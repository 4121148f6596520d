//! Chats with an agent: each user message starts a run over the chat's history; the answer is added to the
//! chat when the run ends. With `Accept: text/event-stream` the message call streams the run.

pub mod attachments;
pub mod ws;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use secops_core::message::Role as MessageRole;
use secops_core::tenancy::{AgentId, ChatId, Permission};
use secops_store::feedback::FeedbackTarget;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::application::turns::start_turn;
use crate::auth::PageQuery;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Auth, Body, PathParam, QueryParams};
use crate::input::Name;
use crate::runs::event_stream;
use crate::state::AppState;

/// A chat.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatView {
    /// Its id.
    pub id: uuid::Uuid,
    /// The agent that answers.
    pub agent_id: Option<uuid::Uuid>,
    /// Title.
    pub title: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Send this back when renaming.
    pub version: i64,
}

impl From<secops_store::chats::Chat> for ChatView {
    fn from(c: secops_store::chats::Chat) -> Self {
        Self {
            id: *c.id.as_uuid(),
            agent_id: c.agent_id.map(|a| *a.as_uuid()),
            title: c.title,
            created_at: c.created_at,
            version: c.version,
        }
    }
}

/// A page of chats.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatPage {
    /// Chats, newest first.
    pub items: Vec<ChatView>,
    /// Cursor for the next page.
    pub next_cursor: Option<String>,
}

/// Starts a chat.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChatRequest {
    /// The agent that answers.
    pub agent_id: uuid::Uuid,
    /// Title (none when absent).
    #[serde(default)]
    pub title: Option<Name>,
}

/// Renames a chat.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameChatRequest {
    /// New title.
    pub title: Name,
    /// The version you read.
    pub version: i64,
}

/// A message.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    /// Its id.
    pub id: uuid::Uuid,
    /// `user` or `assistant`.
    pub role: String,
    /// The text.
    pub text: String,
    /// The run that answered or produced it.
    pub run_id: Option<uuid::Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<secops_store::chats::ChatMessage> for MessageView {
    fn from(m: secops_store::chats::ChatMessage) -> Self {
        let text = secops_core::message::joined_text(&m.content);
        let role = match m.role {
            MessageRole::User => "user",
            MessageRole::Assistant => "assistant",
        };
        Self {
            id: *m.id.as_uuid(),
            role: role.into(),
            text,
            run_id: m.run_id.map(|r| *r.as_uuid()),
            created_at: m.created_at,
        }
    }
}

/// Messages of a chat.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageList {
    /// Oldest first.
    pub items: Vec<MessageView>,
}

/// Sends a message.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessageRequest {
    /// The text.
    pub text: String,
    /// Attachments of this chat (uploaded with `POST /v1/chats/{id}/attachments`) the message refers to.
    #[serde(default)]
    pub attachment_ids: Vec<uuid::Uuid>,
}

/// A sent message and the run answering it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SentMessage {
    /// The stored message.
    pub message: MessageView,
    /// The run that will answer.
    pub run_id: uuid::Uuid,
}

/// Feedback on a message or run.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// `message` or `run`.
    pub target: String,
    /// Its id.
    pub target_id: uuid::Uuid,
    /// 1 (good) or -1 (bad).
    pub rating: i16,
    /// Optional comment.
    #[serde(default)]
    pub comment: String,
}

/// Start a chat with an agent.
#[utoipa::path(post, path = "/v1/chats", tag = "chats", security(("bearer" = [])), request_body = CreateChatRequest,
    responses((status = 201, body = ChatView), (status = 404, body = Problem)))]
pub async fn create_chat(
    State(state): State<AppState>,
    auth: Auth,
    Body(req): Body<CreateChatRequest>,
) -> ApiResult<(StatusCode, Json<ChatView>)> {
    auth.0.require(Permission::ChatsUse)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    let chat = tx
        .create_chat(
            Some(AgentId::from_uuid(req.agent_id)),
            req.title.as_ref().map_or("", Name::as_str),
            auth.user(),
        )
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(chat.into())))
}

/// List chats.
#[utoipa::path(get, path = "/v1/chats", tag = "chats", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = ChatPage)))]
pub async fn list_chats(
    State(state): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<ChatPage>> {
    auth.0.require(Permission::ChatsUse)?;
    let mut tx = state.store.tenant_read(auth.org()).await?;
    let page = tx.chats(&q.into()).await?;
    tx.commit().await?;
    Ok(Json(ChatPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One chat.
#[utoipa::path(get, path = "/v1/chats/{id}", tag = "chats", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Chat id")),
    responses((status = 200, body = ChatView), (status = 404, body = Problem)))]
pub async fn get_chat(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
) -> ApiResult<Json<ChatView>> {
    auth.0.require(Permission::ChatsUse)?;
    let mut tx = state.store.tenant_read(auth.org()).await?;
    let chat = tx.chat(ChatId::from_uuid(id)).await?;
    tx.commit().await?;
    Ok(Json(chat.into()))
}

/// Rename a chat.
#[utoipa::path(patch, path = "/v1/chats/{id}", tag = "chats", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Chat id")),
    request_body = RenameChatRequest, responses((status = 200, body = ChatView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn rename_chat(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
    Body(req): Body<RenameChatRequest>,
) -> ApiResult<Json<ChatView>> {
    auth.0.require(Permission::ChatsUse)?;
    let mut tx = state.store.tenant(auth.org()).await?;
    let chat = tx
        .rename_chat(ChatId::from_uuid(id), req.title.as_str(), req.version)
        .await?;
    tx.commit().await?;
    Ok(Json(chat.into()))
}

/// Delete a chat, its messages and attachments.
#[utoipa::path(delete, path = "/v1/chats/{id}", tag = "chats", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Chat id")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_chat(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    auth.0.require(Permission::ChatsUse)?;
    let files = state.files()?;
    let mut tx = state.store.tenant(auth.org()).await?;
    tx.delete_chat(files.as_ref(), ChatId::from_uuid(id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Messages of a chat, oldest first.
#[utoipa::path(get, path = "/v1/chats/{id}/messages", tag = "chats", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Chat id")),
    responses((status = 200, body = MessageList), (status = 404, body = Problem)))]
pub async fn list_messages(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
) -> ApiResult<Json<MessageList>> {
    auth.0.require(Permission::ChatsUse)?;
    let chat = ChatId::from_uuid(id);
    let mut tx = state.store.tenant_read(auth.org()).await?;
    tx.chat(chat).await?;
    let items = tx.chat_messages(chat, None, 500).await?;
    tx.commit().await?;
    Ok(Json(MessageList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Send a message; the chat's agent answers in a run. With `Accept: text/event-stream` the run is streamed.
#[utoipa::path(post, path = "/v1/chats/{id}/messages", tag = "chats", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Chat id")),
    request_body = SendMessageRequest,
    responses((status = 202, body = SentMessage), (status = 200, content_type = "text/event-stream", body = String, headers(("x-run-id" = String, description = "The run answering the message"))), (status = 404, body = Problem), (status = 503, body = Problem)))]
pub async fn send_message(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
    headers: HeaderMap,
    Body(req): Body<SendMessageRequest>,
) -> ApiResult<Response> {
    let (message, run_id, live) =
        start_turn(&state, &auth, ChatId::from_uuid(id), req.text, req.attachment_ids).await?;
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"));
    if wants_stream {
        let mut response = event_stream(&state, auth.org(), run_id, 0, live).into_response();
        // The run's id before its first event, so a client that loses the stream can resume it from the run.
        if let Ok(id) = axum::http::HeaderValue::from_str(&run_id.as_uuid().to_string()) {
            response.headers_mut().insert("x-run-id", id);
        }
        return Ok(response);
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(SentMessage {
            message: message.into(),
            run_id: *run_id.as_uuid(),
        }),
    )
        .into_response())
}

/// Leave feedback on a message or a run.
#[utoipa::path(post, path = "/v1/feedback", tag = "chats", security(("bearer" = [])), request_body = FeedbackRequest,
    responses((status = 201), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn feedback(
    State(state): State<AppState>,
    auth: Auth,
    Body(req): Body<FeedbackRequest>,
) -> ApiResult<StatusCode> {
    auth.0.require(Permission::FeedbackWrite)?;
    let target = match req.target.as_str() {
        "message" => FeedbackTarget::Message(req.target_id),
        "run" => FeedbackTarget::Run(req.target_id),
        other => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                format!("unknown target `{other}`"),
            ));
        }
    };
    let mut tx = state.store.tenant(auth.org()).await?;
    tx.add_feedback(target, req.rating, &req.comment, auth.user())
        .await?;
    tx.commit().await?;
    Ok(StatusCode::CREATED)
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_chat, list_chats))
        .routes(routes!(get_chat, rename_chat, delete_chat))
        .routes(routes!(list_messages, send_message))
        .routes(routes!(feedback))
        .routes(routes!(ws::chat_socket))
        .merge(attachments::router())
}
