//! Runs: queue a new run, build the runtime agent of a stored agent, follow a run's events, cancel it, decide on
//! a call that waits for approval.

use std::time::Duration;

use axum::http::StatusCode;
use futures::Stream;
use secops_core::run::{Agent, AgentConfig, ApprovalDecision, RunState};
use secops_core::tenancy::{ChatId, Permission, RunId};
use secops_store::runs::{Run, RunTrigger};

use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::state::AppState;

/// Queues a run created in `tx` with its initial state and commits. When this process drives runs it holds
/// the run and starts it at once (no queue round trip); otherwise a worker process claims it.
pub(crate) async fn queue_new_run(
    state: &AppState,
    mut tx: secops_store::TenantTx,
    runtime: secops_core::run::Agent,
    org: secops_core::tenancy::OrgId,
    run_state: RunState,
    version: i64,
    chat: Option<secops_core::tenancy::ChatId>,
) -> ApiResult<Option<Live>> {
    tx.set_initial_run_state(&run_state).await?;
    let holder = state.worker.holder();
    tx.enqueue_run(run_state.run_id, holder, crate::runs::LEASE)
        .await?;
    tx.commit().await?;
    if holder.is_some() {
        let live = state
            .worker
            .start(state.clone(), runtime, org, run_state, version, chat);
        Ok(Some(Live(live)))
    } else {
        state.worker.wake();
        Ok(None)
    }
}

/// A subscription to a run this process started, taken before it started: a stream built on it needs no read of
/// the store.
#[derive(Debug)]
pub(crate) struct Live(pub(crate) tokio::sync::broadcast::Receiver<crate::runs::LiveEvent>);

/// Builds the runtime agent for a stored agent: its configuration with the active prompt, and the tools of the
/// server's catalogue it is allowed to use.
pub(crate) async fn runtime_agent(
    app: &AppState,
    tx: &mut secops_store::TenantTx,
    config: AgentConfig,
    prompt: String,
    tools: &[String],
) -> Result<Agent, ApiError> {
    let provider = app.provider.clone().ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "model_provider_unavailable",
            "no model provider is configured: set ANTHROPIC_API_KEY, OPENAI_API_KEY, or SECOPS_LLM_BASE_URL with SECOPS_LLM_MODEL, and restart",
        )
    })?;
    let tools = super::agent_tools::run_tools(app, tx, tools).await?;
    let config = AgentConfig {
        system_prompt: prompt,
        ..config
    };
    Agent::builder(provider)
        .tools(tools)
        .config(config)
        .build()
        .map_err(|e| {
            ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_agent",
                e.to_string(),
            )
        })
}

/// The stored events of a run after `after`, in order, until the run has ended and all were delivered; an
/// error ends the feed. Shared by the SSE and WebSocket transports.
///
/// While this process drives the run, the feed takes its events from the worker as each batch is committed;
/// otherwise it reads the store, woken by `NOTIFY` (PostgreSQL) or by polling. `live`, when the caller started
/// the run, was taken before the run began, so the feed never reads the store at all.
pub(crate) fn run_feed(
    state: &AppState,
    org: secops_core::tenancy::OrgId,
    run_id: RunId,
    mut after: i64,
    live: Option<Live>,
) -> impl Stream<Item = Result<secops_store::runs::StoredRunEvent, secops_store::StoreError>> + use<> {
    use tokio::sync::broadcast::error::RecvError;
    let store = state.store.clone();
    let worker = std::sync::Arc::clone(&state.worker);
    let mut remote = worker.remote_events();
    let poll = match store.dialect() {
        secops_store::Dialect::Postgres => Duration::from_millis(1000),
        secops_store::Dialect::Sqlite => Duration::from_millis(100),
    };
    async_stream::stream! {
        let mut live = live.map(|l| l.0);
        // Without a subscription from before the run started, the store has to be read first.
        let mut read_store = live.is_none();
        loop {
            if live.is_none() {
                // Subscribed before reading, so nothing stored in between is missed (repeats are skipped).
                live = worker.subscribe(run_id);
            }
            if read_store {
                let batch = async {
                    let mut tx = store.tenant_read(org).await?;
                    // Status first: a run's events are stored before its final status, so if it had ended by
                    // now, the events read next are all of them (on PostgreSQL each statement sees its own
                    // snapshot; the other order could miss events stored between the two reads).
                    let run = tx.run(run_id).await?;
                    let events = tx.run_events(run_id, after, 500).await?;
                    tx.commit().await?;
                    Ok::<_, secops_store::StoreError>((events, run.status))
                };
                let (events, status) = match batch.await {
                    Ok(b) => b,
                    Err(e) => {
                        yield Err(e);
                        break;
                    }
                };
                let drained = events.is_empty();
                for e in events {
                    after = e.seq;
                    yield Ok(e);
                }
                if !drained {
                    continue;
                }
                if !is_live(&status) {
                    break;
                }
            }
            read_store = true;
            if let Some(mut rx) = live.take() {
                let mut ended = false;
                loop {
                    match rx.recv().await {
                        Ok(crate::runs::LiveEvent::Stored(batch)) => {
                            for e in batch.iter() {
                                if e.seq > after {
                                    after = e.seq;
                                    yield Ok(e.clone());
                                }
                            }
                        }
                        Ok(crate::runs::LiveEvent::Stopped { ended: true }) => {
                            ended = true;
                            break;
                        }
                        // Paused for approval, fell behind, or the worker stopped: back to the store.
                        Ok(crate::runs::LiveEvent::Stopped { ended: false }) | Err(RecvError::Lagged(_) | RecvError::Closed) => break,
                    }
                }
                if ended {
                    break;
                }
                continue;
            }
            // Driven elsewhere (or paused): wait for a change.
            let elsewhere = async {
                loop {
                    match remote.recv().await {
                        Ok(id) if id == run_id => break,
                        Ok(_) => {}
                        // Missed some: read the store.
                        Err(RecvError::Lagged(_)) => break,
                        Err(RecvError::Closed) => std::future::pending::<()>().await,
                    }
                }
            };
            tokio::select! {
                () = elsewhere => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }
}

/// Cancels a run wherever it is driven (the HTTP and WebSocket transports share this).
pub(crate) async fn cancel(state: &AppState, auth: &Auth, run_id: RunId) -> ApiResult<Run> {
    auth.0.require(Permission::RunsCancel)?;
    let org = auth.org();
    let mut tx = state.store.tenant(org).await?;
    let run = tx.run(run_id).await?;
    if !is_live(&run.status) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "run_ended",
            "the run has already ended",
        ));
    }
    if state.worker.cancel(run_id) {
        tx.commit().await?;
        return Ok(run);
    }
    // Driven by another process: it sees the request when it next renews its lease.
    if let Some(queued) = tx.request_run_cancel(run_id).await?
        && queued.holder.is_some()
    {
        tx.commit().await?;
        return Ok(run);
    }
    // Nobody drives it (waiting for approval, or queued): end it from its stored state.
    let Some(mut stored) = tx.run_state(run_id).await? else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "run_not_cancellable",
            "the run is being started; retry in a moment",
        ));
    };
    let agent = tx.agent(run.agent_id).await?;
    let runtime = runtime_agent(state, &mut tx, agent.config, String::new(), &[]).await?;
    let sink = secops_core::run::EventLog::new();
    runtime.cancel(&mut stored, &sink);
    tx.append_run_events(run_id, &sink.events()).await?;
    let saved = tx.save_run_state(&stored, run.version).await?;
    tx.dequeue_run(run_id).await?;
    tx.commit().await?;
    Ok(saved)
}

/// Records a decision on a waiting tool call and hands the run back to a worker once none is left waiting (the
/// HTTP and WebSocket transports share this).
pub(crate) async fn decide_call(
    state: &AppState,
    auth: &Auth,
    run_id: RunId,
    call_id: &str,
    decision: ApprovalDecision,
) -> ApiResult<Run> {
    auth.0.require(Permission::RunsApprove)?;
    let org = auth.org();
    let mut tx = state.store.tenant(org).await?;
    let run = tx.run(run_id).await?;
    let mut stored = tx.run_state(run_id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "not_awaiting_approval",
            "the run is not waiting for approval",
        )
    })?;
    let agent = tx.agent(run.agent_id).await?;
    let prompt = match run.prompt_version {
        Some(n) => tx.prompt_version(agent.id, n).await?.body,
        None => tx.active_prompt(agent.id).await?.body,
    };
    let runtime = runtime_agent(state, &mut tx, agent.config, prompt, &agent.tools).await?;
    runtime
        .resolve_approval(&mut stored, call_id, decision)
        .map_err(|e| match e {
            secops_core::run::RunError::UnknownCall(_) => ApiError::not_found("waiting tool call"),
            secops_core::run::RunError::InvalidEdit(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_edit", m)
            }
            other => ApiError::new(StatusCode::CONFLICT, "not_awaiting_approval", other.to_string()),
        })?;
    let saved = tx.save_run_state(&stored, run.version).await?;
    if !stored.pending_approvals().is_empty() {
        tx.commit().await?;
        return Ok(saved);
    }
    // Every waiting call is decided: the run goes back to a worker.
    let holder = state.worker.holder();
    tx.enqueue_run(run_id, holder, crate::runs::LEASE).await?;
    tx.commit().await?;
    let chat = chat_of(&saved);
    if holder.is_some() {
        // Streams following the run re-subscribe when they next look.
        drop(
            state
                .worker
                .start(state.clone(), runtime, org, stored, saved.version, chat),
        );
    } else {
        state.worker.wake();
    }
    Ok(saved)
}

/// The chat a run answers, for runs a chat message started (the answer is added to it when the run ends).
pub(crate) fn chat_of(run: &secops_store::runs::Run) -> Option<ChatId> {
    (run.trigger == RunTrigger::Chat)
        .then(|| run.input.get("chat_id").and_then(|v| v.as_str()))
        .flatten()
        .and_then(|s| s.parse::<uuid::Uuid>().ok())
        .map(ChatId::from_uuid)
}

/// Whether a stored status means the run still changes.
#[must_use]
pub(crate) fn is_live(status: &str) -> bool {
    !matches!(status, "finished" | "failed" | "cancelled")
}
