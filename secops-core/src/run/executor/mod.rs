use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use serde_json::Value;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::events::{EventSink, NoopSink, RunEvent, RunEventKind};
use super::hooks::{HookContext, ModelCallDecision, RunHooks, ToolCallDecision};
use super::plan::{self, REPORT_STEP_FAILURE_TOOL};
use super::state::{
    ApprovalDecision, CallApproval, PendingCall, Phase, PlannedStep, RunOutput, RunState, RunStatus,
    StepRecord, StepStatus, StopReason, Turn,
};
use super::{AgentConfig, PlanningMode};
use crate::memory::{ConversationMemory, FullTranscript};
use crate::message::{ContentBlock, Conversation, Message, Orphan, Role, ToolCall};
use crate::model::{
    FinishKind, ModelProvider, ModelRequest, ModelResponse, ProviderError, ResponseFormat, StreamAccumulator,
    StreamEvent, ToolChoice,
};
use crate::retrieval::{Citation, RetrievalQuery, Retriever};
use crate::tool::{ToolContext, ToolDefinition, ToolExecution, ToolOutcome, ToolRegistry};

mod ending;
mod model_turn;
mod plan_turn;
mod tool_turn;

/// Misuse of the executor's API (as opposed to things going wrong inside a run, which end up in the run).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The run is not waiting for approval.
    #[error("run is {0:?}, not awaiting approval")]
    NotAwaitingApproval(RunStatus),
    /// No pending call has this id.
    #[error("no tool call `{0}` is waiting for approval")]
    UnknownCall(String),
    /// Edited arguments do not match the tool's schema.
    #[error("the edited arguments are invalid: {0}")]
    InvalidEdit(String),
    /// A registry tool uses a name the executor reserves.
    #[error("tool name `{0}` is reserved by the executor")]
    ReservedToolName(String),
    /// The built-in plan schema failed to compile (a bug in secops).
    #[error("internal plan schema is invalid: {0}")]
    PlanSchema(String),
}

/// Builds an [`Agent`].
pub struct AgentBuilder {
    provider: Arc<dyn ModelProvider>,
    tools: Arc<ToolRegistry>,
    config: AgentConfig,
    hooks: Vec<Arc<dyn RunHooks>>,
    retriever: Option<Arc<dyn Retriever>>,
    memory: Arc<dyn ConversationMemory>,
}

impl AgentBuilder {
    /// Sets the configuration.
    #[must_use]
    pub fn config(mut self, config: AgentConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets the tools.
    #[must_use]
    pub fn tools(mut self, tools: impl Into<Arc<ToolRegistry>>) -> Self {
        self.tools = tools.into();
        self
    }

    /// Adds a hook; hooks run in the order added.
    #[must_use]
    pub fn hook(mut self, hook: Arc<dyn RunHooks>) -> Self {
        self.hooks.push(hook);
        self
    }

    /// Sets the retriever asked for context at the start of each run.
    #[must_use]
    pub fn retriever(mut self, retriever: Arc<dyn Retriever>) -> Self {
        self.retriever = Some(retriever);
        self
    }

    /// Sets the memory strategy (default: [`FullTranscript`]).
    #[must_use]
    pub fn memory(mut self, memory: Arc<dyn ConversationMemory>) -> Self {
        self.memory = memory;
        self
    }

    /// Builds the agent.
    pub fn build(self) -> Result<Agent, RunError> {
        if self.tools.definition(REPORT_STEP_FAILURE_TOOL).is_some() {
            return Err(RunError::ReservedToolName(REPORT_STEP_FAILURE_TOOL.to_owned()));
        }
        let mut step_tools = self.tools.definitions().to_vec();
        step_tools.push(plan::step_failure_tool());
        let plan_validator = jsonschema::validator_for(&plan::plan_schema())
            .map_err(|e| RunError::PlanSchema(e.to_string()))?;
        let planning_instructions = plan::planning_instructions(self.tools.definitions());
        let pricing = self.config.pricing.or(self.provider.capabilities().pricing);
        Ok(Agent {
            pricing,
            provider: self.provider,
            tools: self.tools,
            config: self.config,
            hooks: self.hooks,
            retriever: self.retriever,
            memory: self.memory,
            step_tools,
            plan_validator,
            planning_instructions,
        })
    }
}

/// An agent: a model provider, tools and a configuration. Runs any number of [`RunState`]s, concurrently if
/// wanted; holds no per-run state itself, so a run paused in one process can be resumed by an `Agent` built
/// the same way in another.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use secops_core::model::{ScriptedProvider, ScriptedTurn};
/// use secops_core::run::{Agent, RunStatus, StopReason};
///
/// let provider = Arc::new(ScriptedProvider::new(vec![ScriptedTurn::text("No alerts for ws-042.")]));
/// let agent = Agent::builder(provider).build()?;
/// let run = agent.run("Any alerts for ws-042?").await;
/// assert_eq!(run.status, RunStatus::Finished);
/// let output = run.output.unwrap();
/// assert_eq!(output.text, "No alerts for ws-042.");
/// assert_eq!(output.stop_reason, StopReason::Completed);
/// # Ok::<_, secops_core::run::RunError>(())
/// # }).unwrap();
/// ```
pub struct Agent {
    provider: Arc<dyn ModelProvider>,
    tools: Arc<ToolRegistry>,
    config: AgentConfig,
    hooks: Vec<Arc<dyn RunHooks>>,
    retriever: Option<Arc<dyn Retriever>>,
    memory: Arc<dyn ConversationMemory>,
    step_tools: Vec<ToolDefinition>,
    plan_validator: jsonschema::Validator,
    planning_instructions: String,
    pricing: Option<crate::model::ModelPricing>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("provider", &self.provider.name())
            .field("tools", &self.tools)
            .field("mode", &self.config.mode)
            .finish_non_exhaustive()
    }
}

/// Why a guarded await stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Interrupt {
    Cancelled,
    WallClock,
}

impl Interrupt {
    fn stop_reason(self) -> StopReason {
        match self {
            Interrupt::Cancelled => StopReason::Cancelled,
            Interrupt::WallClock => StopReason::WallClock,
        }
    }
}

/// What a drive segment needs besides the state: where events go and when to stop.
struct Segment<'s> {
    sink: &'s dyn EventSink,
    cancel: &'s CancellationToken,
    deadline: Option<Instant>,
    seq: u64,
    run_id: crate::tenancy::RunId,
}

impl Segment<'_> {
    fn emit(&mut self, kind: RunEventKind) {
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or_default();
        let event = RunEvent {
            seq: self.seq,
            run_id: self.run_id,
            at_ms,
            kind,
        };
        self.seq += 1;
        self.sink.emit(event);
    }
}

/// Awaits `fut` unless `cancel` fires or `deadline` passes first.
async fn guarded<F: Future>(
    cancel: &CancellationToken,
    deadline: Option<Instant>,
    fut: F,
) -> Result<F::Output, Interrupt> {
    let deadline = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(Interrupt::Cancelled),
        () = deadline => Err(Interrupt::WallClock),
        out = fut => Ok(out),
    }
}

/// How one model call went.
enum CallOutcome {
    Interrupted(Interrupt),
    Denied(String),
    Failed(ProviderError),
    Answered(ModelResponse),
}

/// A model call ended the run instead of answering.
struct Ended;

/// How a call in a tool turn will be handled.
enum CallPlan {
    Run(Value),
    Synthetic(ToolOutcome, String),
    StepFailure(String),
}

impl Agent {
    /// Starts building an agent on `provider`, with no tools and the default configuration.
    pub fn builder(provider: Arc<dyn ModelProvider>) -> AgentBuilder {
        AgentBuilder {
            provider,
            tools: Arc::new(ToolRegistry::new()),
            config: AgentConfig::default(),
            hooks: Vec::new(),
            retriever: None,
            memory: Arc::new(FullTranscript),
        }
    }
    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &AgentConfig {
        &self.config
    }
    /// The tools.
    #[must_use]
    pub fn tools(&self) -> &ToolRegistry {
        &self.tools
    }
    /// A new run for a user's text, not yet driven.
    #[must_use]
    pub fn start(&self, input: impl Into<String>) -> RunState {
        RunState::new(self.config.mode, None, Message::user(input))
    }
    /// A new run that continues `history` (e.g. a chat) with the user message `input`.
    #[must_use]
    pub fn start_with_history(&self, history: Vec<Message>, input: Message) -> RunState {
        let mut state = RunState::new(self.config.mode, None, input);
        let mut transcript = Conversation::from(history);
        for m in state.transcript.messages() {
            transcript.push(m.clone());
        }
        state.transcript = transcript;
        state
    }
    /// Starts and drives a run to its end (or first approval pause), discarding events.
    pub async fn run(&self, input: impl Into<String>) -> RunState {
        let mut state = self.start(input);
        self.drive(&mut state, &NoopSink, &CancellationToken::new()).await;
        state
    }
    /// Records a decision on a call that waits for approval. Edited arguments are validated now, so a bad edit
    /// is refused here rather than reaching the tool. Drive the run again once every pending call is decided.
    pub fn resolve_approval(
        &self,
        state: &mut RunState,
        call_id: &str,
        decision: ApprovalDecision,
    ) -> Result<(), RunError> {
        if state.status != RunStatus::AwaitingApproval {
            return Err(RunError::NotAwaitingApproval(state.status));
        }
        let Phase::Tools { calls } = &mut state.phase else {
            return Err(RunError::NotAwaitingApproval(state.status));
        };
        let pending = calls
            .iter_mut()
            .find(|c| c.call.id == call_id && c.approval == CallApproval::Pending)
            .ok_or_else(|| RunError::UnknownCall(call_id.chars().take(128).collect()))?;
        if let ApprovalDecision::Edit { input } = &decision {
            let edited = ToolCall {
                input: input.clone(),
                ..pending.call.clone()
            };
            self.tools
                .validate(&edited)
                .map_err(|(_, message)| RunError::InvalidEdit(message))?;
        }
        pending.approval = CallApproval::Decided(decision);
        Ok(())
    }
    /// Cancels a run that is not being driven (e.g. one waiting for approval): every open call gets a
    /// "cancelled" result and the run ends `Cancelled`.
    pub fn cancel(&self, state: &mut RunState, sink: &dyn EventSink) {
        if state.status.is_terminal() {
            return;
        }
        let token = CancellationToken::new();
        let mut seg = Segment {
            sink,
            cancel: &token,
            deadline: None,
            seq: state.next_seq,
            run_id: state.run_id,
        };
        self.end_early(state, &mut seg, StopReason::Cancelled, None);
        state.next_seq = seg.seq;
    }
    /// Advances the run until it ends or pauses for approval, sending events to `sink`. Cancelling `cancel`
    /// stops in-flight model and tool calls and ends the run `Cancelled` with what it has. Never panics and
    /// never returns an error: failures end the run with a stop reason and a partial answer.
    pub async fn drive(
        &self,
        state: &mut RunState,
        sink: &dyn EventSink,
        cancel: &CancellationToken,
    ) -> RunStatus {
        if state.status.is_terminal() {
            return state.status;
        }
        if state.status == RunStatus::AwaitingApproval {
            if !state.pending_approvals().is_empty() && !cancel.is_cancelled() {
                return state.status;
            }
            state.status = RunStatus::Running;
        }
        let started = Instant::now();
        let elapsed_before = state.counters.elapsed_ms;
        let deadline = self
            .config
            .budget
            .max_wall_clock_ms
            .map(|max| started + Duration::from_millis(max.saturating_sub(elapsed_before)));
        let mut seg = Segment {
            sink,
            cancel,
            deadline,
            seq: state.next_seq,
            run_id: state.run_id,
        };
        let span = tracing::info_span!("secops.run", run_id = %state.run_id, mode = ?state.mode);
        async {
            loop {
                state.counters.elapsed_ms =
                    elapsed_before + u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                if state.status != RunStatus::Running || state.phase == Phase::Done {
                    break;
                }
                if cancel.is_cancelled() {
                    self.end_early(state, &mut seg, StopReason::Cancelled, None);
                    break;
                }
                match std::mem::replace(&mut state.phase, Phase::Done) {
                    Phase::Start => self.start_phase(state, &mut seg).await,
                    Phase::Plan { repair } => self.plan_phase(state, &mut seg, repair).await,
                    Phase::Model => self.model_phase(state, &mut seg).await,
                    Phase::Tools { calls } => self.tools_phase(state, &mut seg, calls).await,
                    Phase::Done => {}
                }
                state.next_seq = seg.seq;
            }
        }
        .instrument(span)
        .await;
        state.next_seq = seg.seq;
        state.counters.elapsed_ms =
            elapsed_before + u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        state.status
    }
    fn hook_ctx(state: &RunState) -> HookContext {
        HookContext {
            run_id: state.run_id,
            org_id: state.org_id,
        }
    }
    async fn start_phase(&self, state: &mut RunState, seg: &mut Segment<'_>) {
        seg.emit(RunEventKind::RunStarted { mode: state.mode });
        if let Some(retriever) = &self.retriever {
            let query_text = state.transcript.last().map(Message::text).unwrap_or_default();
            let query = RetrievalQuery {
                text: &query_text,
                org_id: state.org_id,
                top_k: self.config.retrieval_top_k,
            };
            match guarded(seg.cancel, seg.deadline, retriever.retrieve(&query)).await {
                Ok(Ok(mut passages)) => {
                    passages.truncate(self.config.retrieval_top_k);
                    seg.emit(RunEventKind::ContextRetrieved {
                        passages: passages.len(),
                    });
                    state.context = passages;
                }
                Ok(Err(e)) => seg.emit(RunEventKind::RetrievalFailed { error: e.to_string() }),
                Err(interrupt) => return self.end_early(state, seg, interrupt.stop_reason(), None),
            }
        }
        state.phase = match state.mode {
            PlanningMode::PlanAndExecute => Phase::Plan { repair: false },
            PlanningMode::SingleStep | PlanningMode::LoopWithLimits => {
                state.turn = Turn::Open;
                Phase::Model
            }
        };
    }
    fn exhausted(&self, state: &RunState) -> Option<StopReason> {
        let b = &self.config.budget;
        let c = &state.counters;
        if b.max_model_calls.is_some_and(|m| c.model_calls >= m) {
            Some(StopReason::ModelCallBudget)
        } else if b.max_total_tokens.is_some_and(|m| c.usage.total_tokens() >= m) {
            Some(StopReason::TokenBudget)
        } else if b.max_cost_usd.is_some_and(|m| c.cost_usd >= m) {
            Some(StopReason::CostBudget)
        } else if b.max_wall_clock_ms.is_some_and(|m| c.elapsed_ms >= m) {
            Some(StopReason::WallClock)
        } else {
            None
        }
    }
}
