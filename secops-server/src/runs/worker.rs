//! The in-process worker: drives runs, persists every event as it happens and the state at every pause or end,
//! so clients can go away and come back, and another process can resume a paused run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use secops_core::run::{Agent, AgentConfig, RunEvent, RunState};
use secops_core::tenancy::{ChatId, OrgId, RunId};
use secops_core::tool::ToolRegistry;
use secops_store::Store;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;
use crate::state::AppState;

/// Runs in flight in this process, with their cancellation tokens.
#[derive(Default)]
pub struct Worker {
    tasks: Mutex<JoinSet<()>>,
    running: Mutex<HashMap<RunId, (CancellationToken, Arc<Notify>)>>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").finish_non_exhaustive()
    }
}

impl Worker {
    /// Cancels a run driven by this process; `false` if it is not running here.
    pub fn cancel(&self, run: RunId) -> bool {
        let running = match self.running.lock() {
            Ok(r) => r,
            Err(p) => p.into_inner(),
        };
        running.get(&run).map(|(token, _)| token.cancel()).is_some()
    }

    /// Wakes when a run driven by this process stores new events, so streams in this process need not poll.
    pub fn watch(&self, run: RunId) -> Option<Arc<Notify>> {
        let running = match self.running.lock() {
            Ok(r) => r,
            Err(p) => p.into_inner(),
        };
        running.get(&run).map(|(_, notify)| Arc::clone(notify))
    }

    /// Waits for every run in flight (graceful shutdown leaves nothing half-written).
    pub async fn drain(&self) {
        let mut set = match self.tasks.lock() {
            Ok(mut t) => std::mem::take(&mut *t),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        };
        while set.join_next().await.is_some() {}
    }

    /// Drives `state` (a stored run at `version`) on a task owned by the worker.
    pub fn start(self: &Arc<Self>, app: AppState, agent: Agent, org: OrgId, state: RunState, version: i64) {
        self.start_for_chat(app, agent, org, state, version, None);
    }

    /// Like [`start`](Self::start); when the run answers, the answer is added to `chat`.
    pub fn start_for_chat(
        self: &Arc<Self>,
        app: AppState,
        agent: Agent,
        org: OrgId,
        state: RunState,
        version: i64,
        chat: Option<ChatId>,
    ) {
        let token = CancellationToken::new();
        let notify = Arc::new(Notify::new());
        match self.running.lock() {
            Ok(mut r) => r.insert(state.run_id, (token.clone(), Arc::clone(&notify))),
            Err(p) => p
                .into_inner()
                .insert(state.run_id, (token.clone(), Arc::clone(&notify))),
        };
        let worker = Arc::clone(self);
        let task = async move {
            let run_id = state.run_id;
            let job = Job {
                store: app.store.clone(),
                agent,
                org,
                state,
                version,
                cancel: token,
                chat,
            };
            if let Err(e) = drive(job, &notify).await {
                tracing::error!(run = %run_id, error = %e.detail, "run failed to persist");
            }
            match worker.running.lock() {
                Ok(mut r) => r.remove(&run_id),
                Err(p) => p.into_inner().remove(&run_id),
            };
            notify.notify_waiters();
        };
        let mut tasks = match self.tasks.lock() {
            Ok(t) => t,
            Err(p) => p.into_inner(),
        };
        // Reap finished runs so the set holds only what is in flight.
        while tasks.try_join_next().is_some() {}
        tasks.spawn(task);
    }
}

/// One run to drive and where its results go.
struct Job {
    store: Store,
    agent: Agent,
    org: OrgId,
    state: RunState,
    version: i64,
    cancel: CancellationToken,
    chat: Option<ChatId>,
}

async fn drive(job: Job, notify: &Notify) -> Result<(), ApiError> {
    let Job {
        store,
        agent,
        org,
        mut state,
        version,
        cancel,
        chat,
    } = job;
    let run_id = state.run_id;
    let (tx, mut rx) = mpsc::unbounded_channel::<RunEvent>();
    let driving = async {
        let status = agent.drive(&mut state, &tx, &cancel).await;
        drop(tx);
        status
    };
    let writing = async {
        let mut batch = Vec::new();
        while rx.recv_many(&mut batch, 256).await > 0 {
            let mut t = store.tenant(org).await?;
            t.append_run_events(run_id, &batch).await?;
            t.commit().await?;
            batch.clear();
            notify.notify_waiters();
        }
        Ok::<(), ApiError>(())
    };
    let (status, written) = tokio::join!(driving, writing);
    written?;
    let mut t = store.tenant(org).await?;
    t.save_run_state(&state, version).await?;
    if let (Some(chat), Some(output)) = (chat, state.output.as_ref()) {
        let answer = vec![secops_core::message::ContentBlock::text(output.text.clone())];
        t.add_chat_message(chat, secops_core::message::Role::Assistant, answer, Some(run_id))
            .await?;
    }
    t.commit().await?;
    tracing::info!(run = %run_id, status = ?status, "run stopped");
    let name = serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    crate::telemetry::run_stopped(&name, &state.counters.usage, state.counters.cost_usd);
    Ok(())
}

/// Builds the runtime agent for a stored agent: its configuration with the active prompt.
pub(crate) fn runtime_agent(app: &AppState, config: AgentConfig, prompt: String) -> Result<Agent, ApiError> {
    let provider = app.provider.clone().ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "model_provider_unavailable",
            "no model provider is configured: set ANTHROPIC_API_KEY, OPENAI_API_KEY, or SECOPS_LLM_BASE_URL with SECOPS_LLM_MODEL, and restart",
        )
    })?;
    let config = AgentConfig {
        system_prompt: prompt,
        ..config
    };
    Agent::builder(provider)
        .tools(ToolRegistry::new())
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

/// Whether a stored status means the run still changes.
#[must_use]
pub(super) fn is_live(status: &str) -> bool {
    !matches!(status, "finished" | "failed" | "cancelled")
}
