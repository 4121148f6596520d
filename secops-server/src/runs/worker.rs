//! The worker: drives runs, persisting every event as it happens and the state at every pause or end, so that
//! clients can go away and come back and any API replica can serve a run's events.
//!
//! Runs reach a worker through the store's run queue. A process that serves the API and drives runs
//! (`secops serve`) claims a run it creates at once and starts it without a round trip; `serve --no-worker`
//! only queues runs, and `secops worker` processes claim them (PostgreSQL `NOTIFY` wakes them; SQLite is
//! polled). A worker renews the leases of the runs it drives; if it dies, the leases lapse and another worker
//! resumes the runs from their last saved state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use secops_core::run::{Agent, RunEvent, RunState, RunStatus};
use secops_core::tenancy::{ChatId, OrgId, RunId};
use secops_store::queue::{Change, ChangeListener, ClaimedRun};
use secops_store::runs::StoredRunEvent;
use secops_store::{Store, StoreResult};
use serde_json::Value;
use tokio::sync::{Notify, broadcast, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::application::runs::{chat_of, is_live, runtime_agent};
use crate::error::ApiError;
use crate::state::AppState;

/// How long a claim lasts without renewal. A worker that stops renewing (it died) loses its runs after this.
pub const LEASE: Duration = Duration::from_secs(30);
/// How often a worker renews its leases, which is also how soon it sees a cancellation asked of another
/// process.
const RENEW_EVERY: Duration = Duration::from_secs(3);

struct Live {
    cancel: CancellationToken,
    events: broadcast::Sender<LiveEvent>,
}

/// What a run driven in this process tells the streams following it, after each commit, so they need not read
/// the store back.
#[derive(Debug, Clone)]
pub(crate) enum LiveEvent {
    /// These events were stored.
    Stored(Arc<[StoredRunEvent]>),
    /// The run stopped in this process with its state saved: `ended` if it finished for good (otherwise it
    /// paused for approval).
    Stopped {
        /// Whether the run ended (finished, failed or cancelled).
        ended: bool,
    },
}

/// Runs in flight in this process, and the wake-ups of streams and of the claim loop.
pub struct Worker {
    id: String,
    drives_runs: bool,
    concurrency: usize,
    tasks: Mutex<JoinSet<()>>,
    running: Mutex<HashMap<RunId, Live>>,
    queued: Notify,
    remote_events: broadcast::Sender<RunId>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("id", &self.id)
            .field("drives_runs", &self.drives_runs)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave the maps inconsistent (single inserts and removes).
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Worker {
    /// A worker that drives runs itself (`drives_runs`) with at most `concurrency` at once, or only queues them.
    #[must_use]
    pub fn new(drives_runs: bool, concurrency: u32) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "secops".into());
        Self {
            id: format!("{host}-{}-{}", std::process::id(), uuid::Uuid::now_v7().simple()),
            drives_runs,
            concurrency: usize::try_from(concurrency.max(1)).unwrap_or(usize::MAX),
            tasks: Mutex::default(),
            running: Mutex::default(),
            queued: Notify::new(),
            remote_events: broadcast::channel(1024).0,
        }
    }

    /// This worker's id in the run queue.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether this process drives runs (otherwise it only queues them for `secops worker` processes).
    #[must_use]
    pub fn drives_runs(&self) -> bool {
        self.drives_runs
    }

    /// The queue holder for a run this process creates: itself when it drives runs and has room.
    #[must_use]
    pub fn holder(&self) -> Option<&str> {
        (self.drives_runs && self.in_flight() < self.concurrency).then_some(self.id.as_str())
    }

    fn in_flight(&self) -> usize {
        lock(&self.running).len()
    }

    /// Cancels a run driven by this process; `false` if it is not running here.
    pub fn cancel(&self, run: RunId) -> bool {
        lock(&self.running)
            .get(&run)
            .map(|live| live.cancel.cancel())
            .is_some()
    }

    /// Follows a run driven by this process: every batch of its events once stored, then how it stopped.
    pub(crate) fn subscribe(&self, run: RunId) -> Option<broadcast::Receiver<LiveEvent>> {
        lock(&self.running).get(&run).map(|live| live.events.subscribe())
    }

    /// Runs whose events another process stored (PostgreSQL `NOTIFY`, while [`run`](Self::run) is going).
    #[must_use]
    pub fn remote_events(&self) -> broadcast::Receiver<RunId> {
        self.remote_events.subscribe()
    }

    /// Wakes the claim loop: a run was queued without a holder.
    pub fn wake(&self) {
        self.queued.notify_one();
    }

    /// Drives `state` (a stored run at `version`, held by this worker in the queue) on a task the worker owns;
    /// with `chat`, the answer is added to that chat. Returns a subscription to the run's events, taken before
    /// it starts, so the caller can stream all of them without reading the store.
    pub(crate) fn start(
        self: &Arc<Self>,
        app: AppState,
        agent: Agent,
        org: OrgId,
        state: RunState,
        version: i64,
        chat: Option<ChatId>,
    ) -> broadcast::Receiver<LiveEvent> {
        let cancel = CancellationToken::new();
        let (events, subscription) = broadcast::channel(256);
        let run_id = state.run_id;
        lock(&self.running).insert(
            run_id,
            Live {
                cancel: cancel.clone(),
                events: events.clone(),
            },
        );
        let worker = Arc::clone(self);
        let store = app.store.clone();
        let task = async move {
            let job = Job {
                store: store.clone(),
                agent,
                org,
                state,
                version,
                cancel,
                chat,
            };
            if let Err(e) = drive(job, &events).await {
                tracing::error!(run = %run_id, error = %e.detail, "run failed to persist");
                // Do not leave it looking alive under a lease this process keeps renewing: end it as failed,
                // or, if even that cannot be stored, hand it back to the queue to be resumed elsewhere.
                let claimed = ClaimedRun { org, run: run_id };
                if let Err(e2) = fail_run(
                    &store,
                    claimed,
                    &format!("the run could not be stored: {}", e.detail),
                )
                .await
                {
                    tracing::error!(run = %run_id, error = %e2, "cannot mark the run failed; releasing it");
                    if let Err(e3) = store.system().release_runs(&worker.id, &[run_id]).await {
                        tracing::error!(run = %run_id, error = %e3, "cannot release the run; it resumes when its lease lapses");
                    }
                }
            }
            // Dropping the last sender tells followers that did not see `Stopped` to read the store.
            lock(&worker.running).remove(&run_id);
            drop(events);
            // Room for another run.
            worker.queued.notify_one();
        };
        let mut tasks = lock(&self.tasks);
        // Reap finished runs so the set holds only what is in flight.
        while tasks.try_join_next().is_some() {}
        tasks.spawn(task);
        subscription
    }

    /// The background part of a process: on PostgreSQL, listens for changes made by other processes (to wake
    /// event streams); when this process drives runs, claims queued runs, renews its leases and applies
    /// cancellations asked elsewhere. Returns when `shutdown` is cancelled.
    pub async fn run(self: Arc<Self>, app: AppState, shutdown: CancellationToken) {
        let mut listener = match app.store.listen().await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for changes; falling back to polling");
                None
            }
        };
        // A safety net for missed notifications (and the only source on SQLite, where other processes
        // cannot notify).
        let poll = if listener.is_some() {
            Duration::from_secs(5)
        } else {
            Duration::from_millis(500)
        };
        let mut next_renew = Instant::now();
        let mut claim = true;
        loop {
            if self.drives_runs {
                if Instant::now() >= next_renew {
                    self.renew(&app).await;
                    next_renew = Instant::now() + RENEW_EVERY;
                }
                if claim {
                    self.claim(&app).await;
                }
            }
            let wait = if self.drives_runs {
                next_renew.saturating_duration_since(Instant::now()).min(poll)
            } else {
                poll
            };
            claim = tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.queued.notified() => true,
                change = next_change(&mut listener) => match change {
                    Ok(Change::RunQueued) => true,
                    Ok(Change::RunEvents(run)) => {
                        // Nobody listening is fine: no stream is open.
                        let _ = self.remote_events.send(run);
                        false
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the change listener; polling until it reconnects");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        true
                    }
                },
                () = tokio::time::sleep(wait) => true,
            };
        }
    }

    async fn renew(&self, app: &AppState) {
        match app.store.system().renew_leases(&self.id, LEASE).await {
            Ok(held) => {
                for r in held.into_iter().filter(|r| r.cancel_requested) {
                    self.cancel(r.run);
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot renew run leases"),
        }
    }

    async fn claim(self: &Arc<Self>, app: &AppState) {
        let free = self.concurrency.saturating_sub(self.in_flight());
        let free = u32::try_from(free).unwrap_or(u32::MAX);
        let claimed = match app.store.system().claim_runs(&self.id, LEASE, free).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim queued runs");
                return;
            }
        };
        for c in claimed {
            if let Err(e) = self.resume(app, c).await {
                tracing::error!(run = %c.run, error = %e.detail, "cannot start a claimed run");
                if let Err(e) = fail_run(&app.store, c, &e.detail).await {
                    tracing::error!(run = %c.run, error = %e, "cannot record that a run failed to start");
                }
            }
        }
    }

    /// Starts a run claimed from the queue: from its initial state if it never ran, otherwise from its last
    /// saved state, after removing what a worker that lost it wrote since.
    async fn resume(self: &Arc<Self>, app: &AppState, c: ClaimedRun) -> Result<(), ApiError> {
        let mut tx = app.store.tenant(c.org).await?;
        let run = tx.run(c.run).await?;
        let state = tx.run_state(c.run).await?.ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "run_without_state",
                "the run has no saved state to start from",
            )
        })?;
        // Ended, or still waiting for a decision (a decision queues it again): nothing to drive.
        if !is_live(&run.status) || !state.pending_approvals().is_empty() {
            tx.dequeue_run(c.run).await?;
            tx.commit().await?;
            return Ok(());
        }
        let from = i64::try_from(state.next_seq).unwrap_or(i64::MAX);
        let discarded = tx.discard_run_events_from(c.run, from).await?;
        if discarded > 0 {
            tracing::warn!(run = %c.run, discarded, "resuming a run whose worker was lost");
        }
        let agent = tx.agent(run.agent_id).await?;
        let prompt = match run.prompt_version {
            Some(n) => tx.prompt_version(agent.id, n).await?.body,
            None => tx.active_prompt(agent.id).await?.body,
        };
        let runtime = runtime_agent(app, &mut tx, agent.config, prompt, &agent.tools).await?;
        tx.commit().await?;
        let chat = chat_of(&run);
        // Streams in this process subscribe themselves.
        drop(self.start(app.clone(), runtime, c.org, state, run.version, chat));
        Ok(())
    }

    /// Graceful shutdown: waits up to `grace` for the runs in flight; runs still going after that are stopped
    /// and handed back to the queue, so another worker resumes them from their last saved state.
    pub async fn drain(&self, store: &Store, grace: Duration) {
        let mut set = std::mem::take(&mut *lock(&self.tasks));
        let all_done = async { while set.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all_done).await.is_ok() {
            return;
        }
        let left: Vec<RunId> = lock(&self.running).keys().copied().collect();
        set.abort_all();
        while set.join_next().await.is_some() {}
        tracing::warn!(
            runs = left.len(),
            "shutting down with runs in flight; handing them back to the queue"
        );
        if let Err(e) = store.system().release_runs(&self.id, &left).await {
            tracing::error!(error = %e, "cannot release runs; they resume when their leases lapse");
        }
    }
}

async fn next_change(listener: &mut Option<ChangeListener>) -> StoreResult<Change> {
    match listener {
        Some(l) => l.recv().await,
        None => std::future::pending().await,
    }
}

/// Ends a claimed run that cannot be driven here (its agent is invalid, no model provider is configured), so
/// it does not bounce between workers.
async fn fail_run(store: &Store, c: ClaimedRun, why: &str) -> StoreResult<()> {
    let mut tx = store.tenant(c.org).await?;
    let run = tx.run(c.run).await?;
    if let Some(mut state) = tx.run_state(c.run).await?
        && !state.status.is_terminal()
    {
        state.status = RunStatus::Failed;
        state.error = Some(why.to_owned());
        tx.save_run_state(&state, run.version).await?;
    }
    tx.dequeue_run(c.run).await?;
    tx.commit().await
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

async fn drive(job: Job, live: &broadcast::Sender<LiveEvent>) -> Result<(), ApiError> {
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
    let mut calls = ToolCallAudit::resuming(&state);
    let driving = async {
        let status = agent.drive(&mut state, &tx, &cancel).await;
        drop(tx);
        status
    };
    let writing = async {
        let mut batch = Vec::new();
        let mut first = true;
        while rx.recv_many(&mut batch, 256).await > 0 {
            let mut t = store.tenant(org).await?;
            if std::mem::take(&mut first) {
                t.mark_run_running(run_id).await?;
            }
            let stored = t.append_run_events(run_id, &batch).await?;
            let audited = calls.records(run_id, &batch);
            if !audited.is_empty() {
                t.append_audit_batch(audited).await?;
            }
            t.commit().await?;
            // A follower that is gone is fine.
            let _ = live.send(LiveEvent::Stored(stored.into()));
            batch.clear();
        }
        Ok::<(), ApiError>(())
    };
    let (status, written) = tokio::join!(driving, writing);
    written?;
    let mut t = store.tenant(org).await?;
    t.save_run_state(&state, version).await?;
    // Paused or ended: no worker needs to hold it (a decision on a paused run queues it again).
    t.dequeue_run(run_id).await?;
    if let (Some(chat), Some(output)) = (chat, state.output.as_ref()) {
        let answer = vec![secops_core::message::ContentBlock::text(output.text.clone())];
        t.add_chat_message(chat, secops_core::message::Role::Assistant, answer, Some(run_id))
            .await?;
    }
    t.commit().await?;
    let _ = live.send(LiveEvent::Stopped {
        ended: state.status.is_terminal(),
    });
    tracing::info!(run = %run_id, status = ?status, "run stopped");
    let name = serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    crate::telemetry::run_stopped(&name, &state.counters.usage, state.counters.cost_usd);
    Ok(())
}

fn digest(input: &Value) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(input.to_string().as_bytes()))
}

/// Turns a run's tool calls into audit records: which tool, a digest of the arguments (they may hold personal
/// data, so not the arguments themselves), the outcome and the duration.
#[derive(Default)]
struct ToolCallAudit {
    /// Arguments digest by call id, from the request until the result.
    requested: HashMap<String, String>,
}

impl ToolCallAudit {
    /// Knows the calls already in the transcript: a run resumed after approval runs calls requested (and
    /// perhaps edited) before it paused.
    fn resuming(state: &RunState) -> Self {
        let mut audit = Self::default();
        for m in state.transcript.messages() {
            for block in &m.content {
                if let secops_core::message::ContentBlock::ToolUse(call) = block {
                    audit.requested.insert(call.id.clone(), digest(&call.input));
                }
            }
        }
        audit
    }

    fn records(&mut self, run: RunId, events: &[RunEvent]) -> Vec<secops_store::audit::NewAuditEvent> {
        use secops_core::run::RunEventKind;
        let mut out = Vec::new();
        for e in events {
            match &e.kind {
                RunEventKind::ToolCallRequested { call } => {
                    self.requested.insert(call.id.clone(), digest(&call.input));
                }
                RunEventKind::ToolResult { execution } => {
                    let outcome = if execution.is_error {
                        secops_store::audit::AuditOutcome::Failure
                    } else {
                        secops_store::audit::AuditOutcome::Success
                    };
                    out.push(secops_store::audit::NewAuditEvent {
                        actor_kind: "agent".into(),
                        actor_id: None,
                        action: format!("tool_call {}", execution.tool),
                        resource_kind: "tools".into(),
                        resource_id: Some(execution.tool.clone()),
                        ip: None,
                        user_agent: None,
                        context: serde_json::json!({
                            "run_id": run,
                            "call_id": execution.call_id,
                            "arguments_sha256": self.requested.remove(&execution.call_id),
                            "outcome": execution.outcome,
                            "duration_ms": execution.duration_ms,
                        }),
                        outcome,
                    });
                }
                _ => {}
            }
        }
        out
    }
}
