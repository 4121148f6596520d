//! A chat over one WebSocket: send messages, receive the events of the runs that answer them, cancel a run,
//! decide on tool calls that wait for approval. Every action goes through the same code as its HTTP route
//! (permissions, tenancy, audit), and every frame is JSON.
//!
//! Client frames (`type`): `message` {`text`, `attachment_ids`?}, `cancel` {`run_id`}, `approval` {`run_id`,
//! `tool_call_id`, `decision`: `approve` | `deny` | `edit`, `reason`?, `input`?}, `follow` {`run_id`,
//! `after`?} (resume a run's events after a sequence number, e.g. after reconnecting).
//!
//! Server frames (`type`): `ready`, `run_started` {`run_id`, `message_id`}, `run_event` {`run_id`, `seq`,
//! `kind`, `event`}, `run_ended` {`run_id`}, `ack` {`action`, `run`}, `error` {`code`, `status`, `detail`}.
//! An error answers one frame; the connection stays open.

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message as Frame, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::Response;
use futures::stream::{BoxStream, SelectAll};
use futures::{SinkExt, StreamExt};
use secops_core::tenancy::{ChatId, Permission, RunId};
use secops_store::audit::{AuditOutcome, NewAuditEvent};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::application::runs::{Live, cancel, decide_call, run_feed};
use crate::application::turns::start_turn;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Auth, PathParam};
use crate::runs::{ApprovalRequest, RunView};
use crate::state::AppState;

/// A frame from the client.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum ClientFrame {
    Message {
        text: String,
        #[serde(default)]
        attachment_ids: Vec<uuid::Uuid>,
    },
    Cancel {
        run_id: uuid::Uuid,
    },
    Approval {
        run_id: uuid::Uuid,
        tool_call_id: String,
        decision: String,
        #[serde(default)]
        reason: Option<String>,
        #[serde(default)]
        input: Option<Value>,
    },
    Follow {
        run_id: uuid::Uuid,
        #[serde(default)]
        after: i64,
    },
}

/// Open a WebSocket to the chat. Send the bearer token in the `Authorization` header of the upgrade request, or,
/// from a browser, as the subprotocol `bearer.<token>` next to `secops.v1`.
#[utoipa::path(get, path = "/v1/chats/{id}/ws", tag = "chats", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Chat id")),
    responses((status = 101, description = "Switching to the WebSocket protocol"), (status = 404, body = Problem),
        (status = 426, body = Problem)))]
pub async fn chat_socket(
    State(state): State<AppState>,
    auth: Auth,
    PathParam(id): PathParam<uuid::Uuid>,
    headers: axum::http::HeaderMap,
    crate::origin::ClientIp(client): crate::origin::ClientIp,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    auth.0.require(Permission::ChatsUse)?;
    let chat = ChatId::from_uuid(id);
    let mut tx = state.store.tenant(auth.org()).await?;
    tx.chat(chat).await?;
    tx.commit().await?;
    let upgrade = upgrade.map_err(|e| {
        ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "websocket_required",
            format!("open this route as a WebSocket: {}", e.body_text()),
        )
    })?;
    let max = state.config.max_body_bytes;
    Ok(upgrade
        .protocols(["secops.v1"])
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| {
            let origin = (
                client.map(|ip| ip.to_string()),
                crate::origin::user_agent(&headers),
            );
            session(state, auth, chat, origin, socket)
        }))
}

enum FeedItem {
    Event(secops_store::runs::StoredRunEvent),
    Failed(String),
    Ended,
}

type Feed = BoxStream<'static, (RunId, FeedItem)>;

fn follow(state: &AppState, auth: &Auth, run: RunId, after: i64, live: Option<Live>) -> Feed {
    run_feed(state, auth.org(), run, after, live)
        .map(move |item| {
            (
                run,
                match item {
                    Ok(e) => FeedItem::Event(e),
                    Err(e) => FeedItem::Failed(e.to_string()),
                },
            )
        })
        .chain(futures::stream::once(async move { (run, FeedItem::Ended) }))
        .boxed()
}

fn error_frame(e: &ApiError) -> Value {
    json!({"type": "error", "code": e.code, "status": e.status.as_u16(), "detail": e.detail})
}

/// Where the socket came from (address, user agent), for the audit records of its actions.
type Origin = (Option<String>, Option<String>);

async fn session(state: AppState, auth: Auth, chat: ChatId, origin: Origin, socket: WebSocket) {
    let (mut tx, mut rx) = socket.split();
    let mut feeds: SelectAll<Feed> = SelectAll::new();
    let ready = json!({"type": "ready", "chat_id": chat});
    if tx.send(Frame::Text(ready.to_string().into())).await.is_err() {
        return;
    }
    loop {
        let out = tokio::select! {
            incoming = rx.next() => match incoming {
                Some(Ok(Frame::Text(text))) => handle(&state, &auth, chat, &origin, text.as_str(), &mut feeds).await,
                Some(Ok(Frame::Binary(_))) => error_frame(&ApiError::bad_request("frames are JSON text")),
                // Pings are answered by the protocol layer.
                Some(Ok(Frame::Ping(_) | Frame::Pong(_))) => continue,
                Some(Ok(Frame::Close(_)) | Err(_)) | None => break,
            },
            Some((run, item)) = feeds.next(), if !feeds.is_empty() => match item {
                FeedItem::Event(e) => json!({"type": "run_event", "run_id": run, "seq": e.seq, "kind": e.kind, "event": e.payload}),
                FeedItem::Failed(detail) => json!({"type": "error", "code": "stream_failed", "status": 500, "detail": detail, "run_id": run}),
                FeedItem::Ended => json!({"type": "run_ended", "run_id": run}),
            },
        };
        if tx.send(Frame::Text(out.to_string().into())).await.is_err() {
            break;
        }
    }
    // Runs started here go on without the socket; their events stay in the store.
}

async fn handle(
    state: &AppState,
    auth: &Auth,
    chat: ChatId,
    origin: &Origin,
    text: &str,
    feeds: &mut SelectAll<Feed>,
) -> Value {
    let frame: ClientFrame = match serde_json::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            return error_frame(&ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_frame",
                format!("not a valid frame: {e}"),
            ));
        }
    };
    let (action, run, result) = match frame {
        ClientFrame::Message { text, attachment_ids } => {
            match start_turn(state, auth, chat, text, attachment_ids).await {
                Ok((message, run, live)) => {
                    feeds.push(follow(state, auth, run, 0, live));
                    let reply = json!({"type": "run_started", "run_id": run, "message_id": message.id});
                    audit(state, auth, origin, "WS message", Some(run), &Ok(())).await;
                    return reply;
                }
                Err(e) => ("WS message", None, Err(e)),
            }
        }
        ClientFrame::Cancel { run_id } => {
            let run = RunId::from_uuid(run_id);
            ("WS cancel", Some(run), cancel(state, auth, run).await)
        }
        ClientFrame::Approval {
            run_id,
            tool_call_id,
            decision,
            reason,
            input,
        } => {
            let run = RunId::from_uuid(run_id);
            let request = match (decision.as_str(), reason, input) {
                ("approve", None, None) => Ok(ApprovalRequest::Approve),
                ("deny", reason, None) => Ok(ApprovalRequest::Deny {
                    reason: reason.unwrap_or_default(),
                }),
                ("edit", None, Some(input)) => Ok(ApprovalRequest::Edit { input }),
                _ => Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_frame",
                    "decision must be `approve`, `deny` (with an optional `reason`) or `edit` (with `input`)",
                )),
            };
            let result = match request {
                Ok(r) => decide_call(state, auth, run, &tool_call_id, r.into()).await,
                Err(e) => Err(e),
            };
            ("WS approval", Some(run), result)
        }
        ClientFrame::Follow { run_id, after } => {
            let run = RunId::from_uuid(run_id);
            let check = async {
                auth.0.require(Permission::RunsRead)?;
                let mut tx = state.store.tenant(auth.org()).await?;
                tx.run(run).await?;
                tx.commit().await?;
                Ok::<_, ApiError>(())
            };
            return match check.await {
                Ok(()) => {
                    feeds.push(follow(state, auth, run, after.max(0), None));
                    json!({"type": "ack", "action": "follow", "run_id": run})
                }
                Err(e) => error_frame(&e),
            };
        }
    };
    let outcome = result.as_ref().map(|_| ()).map_err(|e| e.status);
    audit(state, auth, origin, action, run, &outcome).await;
    match result {
        Ok(run) => ack(action, &RunView::from(run)),
        Err(e) => error_frame(&e),
    }
}

fn ack(action: &str, run: &RunView) -> Value {
    let action = action.trim_start_matches("WS ");
    json!({"type": "ack", "action": action, "run": run})
}

/// WebSocket actions change things like the HTTP routes do, so they are audited like them.
async fn audit(
    state: &AppState,
    auth: &Auth,
    origin: &Origin,
    action: &str,
    run: Option<RunId>,
    outcome: &Result<(), StatusCode>,
) {
    let outcome = match outcome {
        Ok(()) => AuditOutcome::Success,
        Err(s) if *s == StatusCode::FORBIDDEN || *s == StatusCode::UNAUTHORIZED => AuditOutcome::Denied,
        Err(_) => AuditOutcome::Failure,
    };
    let event = NewAuditEvent {
        actor_kind: crate::audit::actor_kind(&auth.0).into(),
        actor_id: auth.user().map(|u| *u.as_uuid()),
        action: format!("{action} /v1/chats/{{id}}/ws"),
        resource_kind: "runs".into(),
        resource_id: run.map(|r| r.to_string()),
        ip: origin.0.clone(),
        user_agent: origin.1.clone(),
        context: json!({"role": auth.0.role.as_str(), "transport": "websocket"}),
        outcome,
    };
    let write = async {
        let mut tx = state.store.tenant(auth.org()).await?;
        tx.append_audit(event).await?;
        tx.commit().await
    };
    if let Err(e) = write.await {
        tracing::error!(error = %e, "could not write the audit record of a WebSocket action");
    }
}
