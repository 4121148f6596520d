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

    /// The system prompt for one call: the agent's prompt plus retrieved context, the memory summary and
    /// call-specific instructions. Borrowed when there is nothing to add.
    fn system_prompt<'a>(&'a self, state: &RunState, extra: Option<&str>) -> Cow<'a, str> {
        if state.context.is_empty() && state.memory.summary.is_none() && extra.is_none() {
            return Cow::Borrowed(&self.config.system_prompt);
        }
        let mut s = self.config.system_prompt.clone();
        if !state.context.is_empty() {
            s.push_str("\n\n## Retrieved context\nCite a passage as [n] where you use it.\n");
            for (i, passage) in state.context.iter().enumerate() {
                let label = passage.title.as_deref().unwrap_or(&passage.source);
                let _ = write!(
                    s,
                    "\n[{}] {} ({})\n{}\n",
                    i + 1,
                    label,
                    passage.source,
                    passage.text
                );
            }
        }
        if let Some(summary) = &state.memory.summary {
            let _ = write!(s, "\n\n## Earlier conversation (summarised)\n{summary}");
        }
        if let Some(extra) = extra {
            s.push_str(extra);
        }
        Cow::Owned(s)
    }

    /// Makes one model call for the current transcript window: memory, hooks, budgets' counters, streaming
    /// events. On any failure the run is ended here and `Err(Ended)` returned.
    async fn call_model(
        &self,
        state: &mut RunState,
        seg: &mut Segment<'_>,
        extra_system: Option<&str>,
        tools: &[ToolDefinition],
        tool_choice: ToolChoice,
        response_format: ResponseFormat,
    ) -> Result<ModelResponse, Ended> {
        if let Some(reason) = self.exhausted(state) {
            self.end_early(state, seg, reason, None);
            return Err(Ended);
        }
        let before = state.memory.clone();
        match guarded(
            seg.cancel,
            seg.deadline,
            self.memory.fit(state.transcript.messages(), &mut state.memory),
        )
        .await
        {
            Ok(Ok(usage)) => self.add_usage(state, usage),
            Ok(Err(e)) => {
                self.end_failed(state, seg, StopReason::ModelError, e.to_string(), None);
                return Err(Ended);
            }
            Err(interrupt) => {
                self.end_early(state, seg, interrupt.stop_reason(), None);
                return Err(Ended);
            }
        }
        if state.memory != before {
            seg.emit(RunEventKind::MemoryCompacted {
                window_start: state.memory.window_start,
                summarised: state.memory.summary != before.summary,
            });
        }
        state.counters.model_calls += 1;
        seg.emit(RunEventKind::ModelCallStarted {
            call: state.counters.model_calls,
        });
        let ctx = Self::hook_ctx(state);
        let mut partial = String::new();
        let outcome = {
            let all = state.transcript.messages();
            let start = state.memory.window_start.min(all.len());
            let window = &all[start..];
            // A window that begins inside a tool loop starts with an assistant turn; providers need a user turn
            // first, so the window is copied once with a bridging note (only in this case).
            let messages: Cow<'_, [Message]> = match window.first() {
                Some(first) if first.role == Role::Assistant => {
                    let mut owned = Vec::with_capacity(window.len() + 1);
                    owned.push(Message::user(
                        "(Earlier messages are summarised in the system prompt.)",
                    ));
                    owned.extend_from_slice(window);
                    Cow::Owned(owned)
                }
                _ => Cow::Borrowed(window),
            };
            let mut request = ModelRequest {
                system: self.system_prompt(state, extra_system),
                messages,
                tools: Cow::Borrowed(tools),
                tool_choice,
                parallel_tool_calls: self.config.max_parallel_tool_calls > 1,
                response_format,
                max_tokens: self.config.max_output_tokens,
                temperature: self.config.temperature,
                stop_sequences: Cow::Borrowed(&[]),
                model: self.config.model.as_deref().map(Cow::Borrowed),
            };
            let mut denied = None;
            for hook in &self.hooks {
                if let ModelCallDecision::Deny { reason } = hook.before_model_call(ctx, &mut request).await {
                    denied = Some(reason);
                    break;
                }
            }
            if let Some(reason) = denied {
                CallOutcome::Denied(reason)
            } else {
                let span = tracing::info_span!(
                    "gen_ai.chat",
                    gen_ai.operation.name = "chat",
                    gen_ai.provider.name = self.provider.name(),
                    gen_ai.request.model = request.model.as_deref().unwrap_or_default(),
                );
                let (cancel, deadline) = (seg.cancel, seg.deadline);
                let partial = &mut partial;
                let call = async {
                    let mut stream = self.provider.stream(&request);
                    let mut acc = StreamAccumulator::new();
                    while let Some(event) = stream.next().await {
                        match &event {
                            StreamEvent::TextDelta { text } => {
                                partial.push_str(text);
                                seg.emit(RunEventKind::TextDelta { text: text.clone() });
                            }
                            StreamEvent::ReasoningDelta { text, .. } if !text.is_empty() => {
                                seg.emit(RunEventKind::ReasoningDelta { text: text.clone() });
                            }
                            _ => {}
                        }
                        acc.push(event)
                            .map_err(|e| e.into_provider_error(self.provider.name()))?;
                    }
                    acc.finish()
                        .map_err(|e| e.into_provider_error(self.provider.name()))
                }
                .instrument(span);
                match guarded(cancel, deadline, call).await {
                    Err(interrupt) => CallOutcome::Interrupted(interrupt),
                    Ok(Err(error)) => CallOutcome::Failed(error),
                    Ok(Ok(response)) => CallOutcome::Answered(response),
                }
            }
        };
        let response = match outcome {
            CallOutcome::Interrupted(interrupt) => {
                self.end_early(state, seg, interrupt.stop_reason(), Some(partial));
                return Err(Ended);
            }
            CallOutcome::Denied(reason) => {
                let note = format!("A policy hook stopped the run: {reason}");
                self.end_early(state, seg, StopReason::HookDenied, Some(note));
                return Err(Ended);
            }
            CallOutcome::Failed(error) => {
                let partial = (!partial.is_empty()).then_some(partial);
                self.end_failed(state, seg, StopReason::ModelError, error.to_string(), partial);
                return Err(Ended);
            }
            CallOutcome::Answered(response) => response,
        };
        self.add_usage(state, response.usage);
        let cost_usd = state.counters.cost_usd;
        seg.emit(RunEventKind::Usage {
            call: response.usage,
            total: state.counters.usage,
            cost_usd,
        });
        for hook in &self.hooks {
            hook.after_model_call(ctx, &response).await;
        }
        Ok(response)
    }

    fn add_usage(&self, state: &mut RunState, usage: crate::model::Usage) {
        state.counters.usage += usage;
        if let Some(pricing) = &self.pricing {
            state.counters.cost_usd += pricing.cost_usd(&usage);
        }
    }

    async fn model_phase(&self, state: &mut RunState, seg: &mut Segment<'_>) {
        let turn = state.turn;
        if state.mode == PlanningMode::LoopWithLimits && turn == Turn::Open {
            if state.loop_turns >= self.config.max_turns {
                return self.end_early(state, seg, StopReason::MaxTurns, None);
            }
            state.loop_turns += 1;
        }
        let (tools, choice): (&[ToolDefinition], ToolChoice) = match turn {
            Turn::Open => (self.tools.definitions(), ToolChoice::Auto),
            Turn::Answer => (self.tools.definitions(), ToolChoice::None),
            Turn::Step { .. } => (&self.step_tools, ToolChoice::Auto),
        };
        let Ok(response) = self
            .call_model(state, seg, None, tools, choice, ResponseFormat::Text)
            .await
        else {
            return;
        };
        let finish = response.finish.kind;
        let text = response.text();
        let calls: Vec<ToolCall> = response.tool_calls().cloned().collect();
        if !response.content.is_empty() {
            state.transcript.push(response.into_message());
        }
        if !calls.is_empty() {
            for call in &calls {
                seg.emit(RunEventKind::ToolCallRequested { call: call.clone() });
            }
            if turn == Turn::Answer {
                // Tools were withdrawn for this turn; answer the calls so the transcript stays well formed.
                let results = calls
                    .iter()
                    .map(|c| {
                        ToolExecution::synthetic(
                            c,
                            ToolOutcome::NotRun,
                            "Tools are not available for the final answer.",
                        )
                    })
                    .collect();
                self.push_results(state, seg, results);
                return self.finish_answer(state, seg, text, finish);
            }
            if let Turn::Step { index, turns } = turn {
                state.turn = Turn::Step {
                    index,
                    turns: turns + 1,
                };
            }
            let calls = calls
                .into_iter()
                .map(|call| PendingCall {
                    call,
                    approval: CallApproval::Unchecked,
                })
                .collect();
            state.phase = Phase::Tools { calls };
            return;
        }
        if finish == FinishKind::PauseTurn {
            state.phase = Phase::Model;
            return;
        }
        match turn {
            Turn::Step { index, .. }
                if !matches!(finish, FinishKind::Refusal | FinishKind::ContentFilter) =>
            {
                let Some(step) = state.plan.get(index).cloned() else {
                    return self.finish_answer(state, seg, text, finish);
                };
                let record = StepRecord {
                    number: step.number,
                    title: step.title,
                    status: StepStatus::Completed,
                    result: text,
                };
                seg.emit(RunEventKind::StepFinished {
                    number: record.number,
                    status: record.status,
                    result: record.result.clone(),
                });
                state.steps.push(record);
                self.start_step(state, seg, index + 1);
            }
            _ => self.finish_answer(state, seg, text, finish),
        }
    }

    /// Ends the run with the model's answer, mapping the finish kind to a stop reason.
    fn finish_answer(&self, state: &mut RunState, seg: &mut Segment<'_>, text: String, finish: FinishKind) {
        let reason = match finish {
            FinishKind::Refusal | FinishKind::ContentFilter => StopReason::Refused,
            FinishKind::Length => StopReason::OutputLimit,
            FinishKind::ContextWindowExceeded => {
                return self.end_failed(
                    state,
                    seg,
                    StopReason::ContextWindowExceeded,
                    "the conversation no longer fits the model's context window".into(),
                    Some(text),
                );
            }
            _ if state.failed_step => StopReason::StepFailed,
            _ => StopReason::Completed,
        };
        self.end(state, seg, RunStatus::Finished, text, reason, None);
    }

    async fn plan_phase(&self, state: &mut RunState, seg: &mut Segment<'_>, repair: bool) {
        let format = ResponseFormat::JsonSchema {
            name: "plan".into(),
            schema: plan::plan_schema(),
            strict: true,
        };
        let extra = self.planning_instructions.as_str();
        // Providers refuse a transcript holding tool calls unless tools are defined (Anthropic), so a re-plan
        // after tool use lists them, with tool use switched off.
        let window = state
            .transcript
            .messages()
            .get(state.memory.window_start..)
            .unwrap_or_default();
        let has_tool_blocks = window
            .iter()
            .any(|m| m.has_tool_results() || m.tool_calls().next().is_some());
        let tools: &[ToolDefinition] = if has_tool_blocks { &self.step_tools } else { &[] };
        let Ok(response) = self
            .call_model(state, seg, Some(extra), tools, ToolChoice::None, format)
            .await
        else {
            return;
        };
        let text = response.text();
        let mut message = response.into_message();
        if message.content.is_empty() {
            message.content.push(ContentBlock::text(""));
        }
        // Only the plan's text goes into the transcript; a model that called tools here did so without tools
        // being offered, and those calls are dropped rather than left unanswered.
        message.content.retain(|b| !matches!(b, ContentBlock::ToolUse(_)));
        state.transcript.push(message);
        match plan::parse_plan(&text, &self.plan_validator) {
            Ok(steps) => {
                let first_number = state.last_step_number + 1;
                let first_index = state.plan.len();
                for (offset, (title, instruction)) in steps.into_iter().enumerate() {
                    let number = first_number + u32::try_from(offset).unwrap_or(u32::MAX - first_number);
                    state.plan.push(PlannedStep {
                        number,
                        title,
                        instruction,
                    });
                    state.last_step_number = number;
                }
                seg.emit(RunEventKind::PlanCreated {
                    steps: state.plan[first_index..]
                        .iter()
                        .map(|s| s.title.clone())
                        .collect(),
                    first_number,
                    replanned: state.replans > 0,
                });
                self.start_step(state, seg, first_index);
            }
            Err(problem) if !repair => {
                push_user_text(
                    state,
                    format!("That is not a valid plan: {problem}. Reply with only the JSON object."),
                );
                state.phase = Phase::Plan { repair: true };
            }
            Err(problem) => {
                self.end_failed(
                    state,
                    seg,
                    StopReason::PlanInvalid,
                    format!("no valid plan: {problem}"),
                    None,
                );
            }
        }
    }

    fn start_step(&self, state: &mut RunState, seg: &mut Segment<'_>, index: usize) {
        match state.plan.get(index).cloned() {
            Some(step) => {
                let total = state.plan.len();
                push_user_text(state, plan::step_prompt(&step, total));
                seg.emit(RunEventKind::StepStarted {
                    number: step.number,
                    title: step.title,
                });
                state.turn = Turn::Step { index, turns: 0 };
            }
            None => {
                push_user_text(state, plan::final_prompt(&state.steps));
                state.turn = Turn::Answer;
            }
        }
        state.phase = Phase::Model;
    }

    fn fail_step(&self, state: &mut RunState, seg: &mut Segment<'_>, index: usize, reason: String) {
        let Some(step) = state.plan.get(index).cloned() else {
            return self.start_step(state, seg, usize::MAX);
        };
        let record = StepRecord {
            number: step.number,
            title: step.title,
            status: StepStatus::Failed,
            result: reason,
        };
        seg.emit(RunEventKind::StepFinished {
            number: record.number,
            status: record.status,
            result: record.result.clone(),
        });
        let prompt = plan::replan_prompt(&record, &state.steps);
        state.steps.push(record);
        if state.replans < self.config.max_replans {
            state.replans += 1;
            state.plan.truncate(index + 1);
            push_user_text(state, prompt);
            state.phase = Phase::Plan { repair: false };
        } else {
            state.failed_step = true;
            state.plan.truncate(index + 1);
            self.start_step(state, seg, usize::MAX);
        }
    }

    async fn tools_phase(&self, state: &mut RunState, seg: &mut Segment<'_>, mut calls: Vec<PendingCall>) {
        // 1. Approval: check new calls against the policy; pause while any waits.
        let mut newly_pending = Vec::new();
        for pending in &mut calls {
            if pending.approval != CallApproval::Unchecked {
                continue;
            }
            let needs = pending.call.name != REPORT_STEP_FAILURE_TOOL
                && self
                    .tools
                    .definition(&pending.call.name)
                    .is_some_and(|d| self.config.approval.requires_approval(d));
            pending.approval = if needs {
                CallApproval::Pending
            } else {
                CallApproval::NotRequired
            };
            if needs {
                newly_pending.push(super::PendingApproval {
                    call_id: pending.call.id.clone(),
                    tool: pending.call.name.clone(),
                    input: pending.call.input.clone(),
                });
            }
        }
        if !newly_pending.is_empty() {
            seg.emit(RunEventKind::AwaitingApproval { calls: newly_pending });
        }
        if calls.iter().any(|c| c.approval == CallApproval::Pending) {
            state.phase = Phase::Tools { calls };
            state.status = RunStatus::AwaitingApproval;
            return;
        }

        // 2. Decide per call: run (with which input), answer synthetically, or record a step failure.
        let ctx = Self::hook_ctx(state);
        let mut budget_left = self
            .config
            .budget
            .max_tool_calls
            .map_or(u32::MAX, |max| max.saturating_sub(state.counters.tool_calls));
        let mut budget_cut = false;
        let mut plans = Vec::with_capacity(calls.len());
        let mut edits: HashMap<String, Value> = HashMap::new();
        for pending in &calls {
            let call = &pending.call;
            let mut input = call.input.clone();
            if let CallApproval::Decided(decision) = &pending.approval {
                seg.emit(RunEventKind::ApprovalResolved {
                    call_id: call.id.clone(),
                    decision: decision.name().into(),
                });
                match decision {
                    ApprovalDecision::Approve => {}
                    ApprovalDecision::Deny { reason } => {
                        plans.push(CallPlan::Synthetic(
                            ToolOutcome::Denied,
                            format!("A person denied this call: {reason}"),
                        ));
                        continue;
                    }
                    ApprovalDecision::Edit { input: edited } => {
                        input = edited.clone();
                        edits.insert(call.id.clone(), edited.clone());
                    }
                }
            }
            if call.name == REPORT_STEP_FAILURE_TOOL && matches!(state.turn, Turn::Step { .. }) {
                let reason = input["reason"].as_str().unwrap_or("no reason given").to_owned();
                plans.push(CallPlan::StepFailure(reason));
                continue;
            }
            if budget_left == 0 {
                budget_cut = true;
                plans.push(CallPlan::Synthetic(
                    ToolOutcome::NotRun,
                    "Not run: the run's tool-call budget is exhausted.".into(),
                ));
                continue;
            }
            budget_left -= 1;
            let mut denied = None;
            for hook in &self.hooks {
                let probe = ToolCall {
                    input: input.clone(),
                    ..call.clone()
                };
                match hook.before_tool_call(ctx, &probe).await {
                    ToolCallDecision::Allow => {}
                    ToolCallDecision::Deny { reason } => {
                        denied = Some(reason);
                        break;
                    }
                    ToolCallDecision::Rewrite { input: rewritten } => {
                        input = rewritten.clone();
                        edits.insert(call.id.clone(), rewritten);
                    }
                }
            }
            if let Some(reason) = denied {
                plans.push(CallPlan::Synthetic(
                    ToolOutcome::Denied,
                    format!("A policy hook refused this call: {reason}"),
                ));
                continue;
            }
            plans.push(CallPlan::Run(input));
        }
        if !edits.is_empty() {
            apply_edits(state, &edits);
        }

        // 3. Run what may run, concurrently up to the limit; a cancellation or deadline keeps finished results.
        let mut results: Vec<Option<ToolExecution>> = vec![None; calls.len()];
        let mut step_failure = None;
        let mut runnable = Vec::new();
        for (index, (pending, plan)) in calls.iter().zip(plans).enumerate() {
            match plan {
                CallPlan::Run(input) => runnable.push((
                    index,
                    ToolCall {
                        input,
                        ..pending.call.clone()
                    },
                )),
                CallPlan::Synthetic(outcome, message) => {
                    results[index] = Some(ToolExecution::synthetic(&pending.call, outcome, message));
                }
                CallPlan::StepFailure(reason) => {
                    results[index] = Some(ToolExecution::synthetic(
                        &pending.call,
                        ToolOutcome::Success,
                        "Step failure recorded.",
                    ));
                    step_failure = Some(reason);
                }
            }
        }
        state.counters.tool_calls += u32::try_from(runnable.len()).unwrap_or(u32::MAX);
        let limit = self.config.max_parallel_tool_calls.max(1);
        let tools = &self.tools;
        let base = ToolContext {
            run_id: state.run_id,
            org_id: state.org_id,
            call_id: String::new(),
            cancellation: seg.cancel.child_token(),
        };
        let base = &base;
        let mut in_flight = futures::stream::iter(runnable.iter().map(|(index, call)| async move {
            let ctx = ToolContext { call_id: call.id.clone(), ..base.clone() };
            let span = tracing::info_span!("gen_ai.execute_tool", gen_ai.tool.name = %call.name, gen_ai.tool.call.id = %call.id);
            (*index, tools.execute(&ctx, call).instrument(span).await)
        }))
        .buffer_unordered(limit);
        let mut interrupted = None;
        loop {
            match guarded(seg.cancel, seg.deadline, in_flight.next()).await {
                Ok(Some((index, execution))) => results[index] = Some(execution),
                Ok(None) => break,
                Err(interrupt) => {
                    base.cancellation.cancel();
                    interrupted = Some(interrupt);
                    break;
                }
            }
        }
        drop(in_flight);
        for (index, call) in &runnable {
            if let Some(execution) = results.get_mut(*index).and_then(Option::as_mut) {
                for hook in &self.hooks {
                    hook.after_tool_call(ctx, call, execution).await;
                }
            }
        }
        let (missing_outcome, missing_message) = match interrupted {
            Some(Interrupt::WallClock) => (
                ToolOutcome::NotRun,
                "Not finished: the run's time budget ran out.",
            ),
            _ => (ToolOutcome::Cancelled, "Not finished: the run was cancelled."),
        };
        let results: Vec<ToolExecution> = results
            .into_iter()
            .zip(&calls)
            .map(|(r, pending)| {
                r.unwrap_or_else(|| ToolExecution::synthetic(&pending.call, missing_outcome, missing_message))
            })
            .collect();
        self.push_results(state, seg, results);

        // 4. What next.
        if let Some(interrupt) = interrupted {
            return self.end_early(state, seg, interrupt.stop_reason(), None);
        }
        if let (Some(reason), Turn::Step { index, .. }) = (step_failure, state.turn) {
            return self.fail_step(state, seg, index, reason);
        }
        if budget_cut {
            return self.end_early(state, seg, StopReason::ToolCallBudget, None);
        }
        match state.turn {
            Turn::Step { index, turns } if turns >= self.config.max_turns_per_step => {
                let reason = format!(
                    "the step did not finish within {} model turns",
                    self.config.max_turns_per_step
                );
                self.fail_step(state, seg, index, reason);
            }
            Turn::Open if state.mode == PlanningMode::SingleStep => {
                state.turn = Turn::Answer;
                state.phase = Phase::Model;
            }
            _ => state.phase = Phase::Model,
        }
    }

    /// Appends tool results as one user message, in call order, and reports each.
    fn push_results(&self, state: &mut RunState, seg: &mut Segment<'_>, results: Vec<ToolExecution>) {
        if results.is_empty() {
            return;
        }
        let mut content = Vec::with_capacity(results.len());
        for execution in results {
            content.push(ContentBlock::tool_result(
                execution.call_id.clone(),
                execution.content.clone(),
                execution.is_error,
            ));
            seg.emit(RunEventKind::ToolResult { execution });
        }
        state.transcript.push(Message {
            role: Role::User,
            content,
        });
    }

    /// Ends a run early (budget, cancellation, limit) with an answer built from what it has.
    fn end_early(
        &self,
        state: &mut RunState,
        seg: &mut Segment<'_>,
        reason: StopReason,
        partial: Option<String>,
    ) {
        self.close_open_calls(state, seg, reason);
        let text = compose_partial_answer(state, reason, partial.filter(|p| !p.is_empty()));
        let status = if reason == StopReason::Cancelled {
            RunStatus::Cancelled
        } else {
            RunStatus::Finished
        };
        self.end(state, seg, status, text, reason, None);
    }

    fn end_failed(
        &self,
        state: &mut RunState,
        seg: &mut Segment<'_>,
        reason: StopReason,
        error: String,
        partial: Option<String>,
    ) {
        self.close_open_calls(state, seg, reason);
        let text = compose_partial_answer(state, reason, partial.filter(|p| !p.is_empty()));
        self.end(state, seg, RunStatus::Failed, text, reason, Some(error));
    }

    /// Answers every call still without a result, so an ended transcript never has an orphan.
    fn close_open_calls(&self, state: &mut RunState, seg: &mut Segment<'_>, reason: StopReason) {
        let open: Vec<String> = Conversation::orphans(state.transcript.messages())
            .into_iter()
            .filter_map(|o| match o {
                Orphan::CallWithoutResult { tool_use_id } => Some(tool_use_id),
                Orphan::ResultWithoutCall { .. } => None,
            })
            .collect();
        if open.is_empty() {
            return;
        }
        let calls: Vec<ToolCall> = state
            .transcript
            .messages()
            .iter()
            .flat_map(Message::tool_calls)
            .filter(|c| open.contains(&c.id))
            .cloned()
            .collect();
        let (outcome, message) = match reason {
            StopReason::Cancelled => (ToolOutcome::Cancelled, "Not run: the run was cancelled."),
            _ => (ToolOutcome::NotRun, "Not run: the run stopped before this call."),
        };
        let results = calls
            .iter()
            .map(|c| ToolExecution::synthetic(c, outcome, message))
            .collect();
        self.push_results(state, seg, results);
    }

    fn end(
        &self,
        state: &mut RunState,
        seg: &mut Segment<'_>,
        status: RunStatus,
        text: String,
        stop_reason: StopReason,
        error: Option<String>,
    ) {
        let citations = citations(state, &text);
        let output = RunOutput {
            text,
            citations,
            stop_reason,
        };
        state.status = status;
        state.phase = Phase::Done;
        state.output = Some(output.clone());
        state.error.clone_from(&error);
        match status {
            RunStatus::Cancelled => seg.emit(RunEventKind::Cancelled { output }),
            RunStatus::Failed => seg.emit(RunEventKind::Failed {
                error: error.unwrap_or_default(),
                output,
            }),
            _ => seg.emit(RunEventKind::Finished { output }),
        }
    }
}

/// Adds text to the last user message, or starts one, so user turns never follow each other.
fn push_user_text(state: &mut RunState, text: String) {
    let last_is_user = state.transcript.last().is_some_and(|m| m.role == Role::User);
    if last_is_user {
        if let Some(last) = state.transcript.messages_mut().last_mut() {
            last.content.push(ContentBlock::text(text));
        }
    } else {
        state.transcript.push(Message::user(text));
    }
}

/// Rewrites the arguments of approved-with-edits or hook-rewritten calls in the transcript, so the model sees
/// the call that actually ran.
fn apply_edits(state: &mut RunState, edits: &HashMap<String, Value>) {
    for message in state.transcript.messages_mut().iter_mut().rev() {
        if message.role != Role::Assistant {
            continue;
        }
        let mut touched = false;
        for block in &mut message.content {
            if let ContentBlock::ToolUse(call) = block
                && let Some(input) = edits.get(&call.id)
            {
                call.input = input.clone();
                touched = true;
            }
        }
        if touched {
            break;
        }
    }
}

fn describe(reason: StopReason) -> &'static str {
    match reason {
        StopReason::Completed => "completed",
        StopReason::MaxTurns => "the turn limit was reached",
        StopReason::ModelCallBudget => "the model-call budget ran out",
        StopReason::ToolCallBudget => "the tool-call budget ran out",
        StopReason::TokenBudget => "the token budget ran out",
        StopReason::CostBudget => "the cost budget ran out",
        StopReason::WallClock => "the time budget ran out",
        StopReason::Cancelled => "the run was cancelled",
        StopReason::StepFailed => "a plan step failed",
        StopReason::PlanInvalid => "the model did not produce a valid plan",
        StopReason::Refused => "the model refused",
        StopReason::OutputLimit => "the model hit its output limit",
        StopReason::ContextWindowExceeded => "the conversation outgrew the model's context window",
        StopReason::HookDenied => "a policy hook refused a model call",
        StopReason::ModelError => "the model provider failed",
    }
}

/// The best answer available when a run stops before the model answered: step results, else the latest
/// assistant text (or the text streamed so far), with a note saying why it stopped.
fn compose_partial_answer(state: &RunState, reason: StopReason, partial: Option<String>) -> String {
    let mut text = String::new();
    if !state.steps.is_empty() {
        text.push_str("Results so far:");
        for r in &state.steps {
            let status = match r.status {
                StepStatus::Completed => "",
                StepStatus::Failed => " (failed)",
            };
            let _ = write!(text, "\n[step {}] {}{status}: {}", r.number, r.title, r.result);
        }
    } else if let Some(partial) = partial {
        text = partial;
    } else if let Some(last) = state
        .transcript
        .messages()
        .iter()
        .rev()
        .filter(|m| m.role == Role::Assistant)
        .map(Message::text)
        .find(|t| !t.trim().is_empty())
    {
        text = last;
    } else {
        text.push_str("No answer was produced.");
    }
    let _ = write!(text, "\n\n(The run stopped early: {}.)", describe(reason));
    text
}

fn citations(state: &RunState, text: &str) -> Vec<Citation> {
    let mut out = Vec::with_capacity(state.context.len() + state.steps.len());
    for (i, passage) in state.context.iter().enumerate() {
        let marker = u32::try_from(i + 1).unwrap_or(u32::MAX);
        out.push(Citation::Source {
            marker,
            id: passage.id.clone(),
            source: passage.source.clone(),
            title: passage.title.clone(),
            referenced: text.contains(&format!("[{marker}]")),
        });
    }
    for step in state.steps.iter().filter(|s| s.status == StepStatus::Completed) {
        out.push(Citation::Step {
            number: step.number,
            title: step.title.clone(),
            referenced: text.contains(&format!("[step {}]", step.number)),
        });
    }
    out
}
