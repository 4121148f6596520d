//! Chat turns: a user message stored, and the run of the chat's agent that answers it.

use axum::http::StatusCode;
use secops_core::message::{ContentBlock, Message, Role as MessageRole};
use secops_core::tenancy::{ChatId, Permission};
use secops_store::runs::{NewRun, RunTrigger};

use super::runs::{Live, queue_new_run, runtime_agent};
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::state::AppState;

/// At most this many attachments per message.
pub(crate) const MAX_ATTACHMENTS_PER_MESSAGE: usize = 10;

/// Stores a user message and starts the run of the chat's agent that answers it (the HTTP and WebSocket
/// transports share this).
pub(crate) async fn start_turn(
    state: &AppState,
    auth: &Auth,
    chat_id: ChatId,
    text: String,
    attachment_ids: Vec<uuid::Uuid>,
) -> ApiResult<(
    secops_store::chats::ChatMessage,
    secops_core::tenancy::RunId,
    Option<Live>,
)> {
    auth.0.require(Permission::ChatsUse)?;
    auth.0.require(Permission::RunsStart)?;
    if text.trim().is_empty() || text.len() > 100_000 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "the message must be 1 to 100,000 bytes",
        ));
    }
    if attachment_ids.len() > MAX_ATTACHMENTS_PER_MESSAGE {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            format!("a message may refer to at most {MAX_ATTACHMENTS_PER_MESSAGE} attachments"),
        ));
    }
    let org = auth.org();
    let mut tx = state.store.tenant(org).await?;
    let chat = tx.chat(chat_id).await?;
    let agent_id = chat
        .agent_id
        .ok_or_else(|| ApiError::new(StatusCode::CONFLICT, "no_agent", "the chat's agent was deleted"))?;
    let agent = tx.agent(agent_id).await?;
    let prompt = tx.active_prompt(agent.id).await?;
    let runtime = runtime_agent(
        state,
        &mut tx,
        agent.config.clone(),
        prompt.body.clone(),
        &agent.tools,
    )
    .await?;
    let mut content = vec![ContentBlock::text(text.clone())];
    if !attachment_ids.is_empty() {
        let known = tx.attachments(chat_id).await?;
        for id in &attachment_ids {
            let a = known
                .iter()
                .find(|a| a.id.as_uuid() == id)
                .ok_or_else(|| ApiError::not_found("attachment"))?;
            content.push(ContentBlock::Attachment(secops_core::message::AttachmentRef {
                uri: format!("attachment:{id}"),
                media_type: a.media_type.clone(),
                name: Some(a.file_name.clone()),
                size_bytes: u64::try_from(a.size_bytes).ok(),
            }));
        }
    }
    let history: Vec<Message> = tx
        .chat_messages(chat_id, None, 500)
        .await?
        .into_iter()
        .map(|m| Message {
            role: m.role,
            content: m.content,
        })
        .collect();
    let run_state = runtime
        .start_with_history(
            history,
            Message {
                role: MessageRole::User,
                content: content.clone(),
            },
        )
        .in_org(org);
    let run = tx
        .create_run(
            run_state.run_id,
            NewRun {
                agent_id: agent.id,
                trigger: RunTrigger::Chat,
                prompt_version: Some(prompt.number),
                input: serde_json::json!({"chat_id": chat_id, "text": text, "attachment_ids": attachment_ids}),
            },
        )
        .await?;
    let message = tx
        .add_chat_message(chat_id, MessageRole::User, content, Some(run.id))
        .await?;
    let run_id = run_state.run_id;
    let live = queue_new_run(state, tx, runtime, org, run_state, run.version, Some(chat_id)).await?;
    Ok((message, run_id, live))
}
