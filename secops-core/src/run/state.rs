use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::PlanningMode;
use crate::memory::MemoryState;
use crate::message::{Conversation, Message, ToolCall};
use crate::model::Usage;
use crate::retrieval::{Citation, RetrievedContext};
use crate::tenancy::{OrgId, RunId};

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// In progress (or ready to be driven).
    Running,
    /// Paused until pending tool calls are approved, denied or edited.
    AwaitingApproval,
    /// Ended with an answer (which may be partial; see the stop reason).
    Finished,
    /// Ended by an error; the output holds what it had.
    Failed,
    /// Ended by cancellation; the output holds what it had.
    Cancelled,
}

impl RunStatus {
    /// Whether the run has ended.
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            RunStatus::Finished | RunStatus::Failed | RunStatus::Cancelled
        )
    }
}

/// Why a run ended, machine-readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The agent answered.
    Completed,
    /// `loop_with_limits` reached `max_turns`.
    MaxTurns,
    /// The model-call budget ran out.
    ModelCallBudget,
    /// The tool-call budget ran out.
    ToolCallBudget,
    /// The token budget ran out.
    TokenBudget,
    /// The cost budget ran out.
    CostBudget,
    /// The wall-clock budget ran out.
    WallClock,
    /// The run was cancelled.
    Cancelled,
    /// A plan step failed after the allowed re-plans.
    StepFailed,
    /// The model did not produce a valid plan.
    PlanInvalid,
    /// The model refused or a content filter stopped it.
    Refused,
    /// The model hit its output limit while answering.
    OutputLimit,
    /// The conversation no longer fits the model's context window.
    ContextWindowExceeded,
    /// A hook refused a model call.
    HookDenied,
    /// The model provider failed.
    ModelError,
}

/// How a plan step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Done.
    Completed,
    /// Could not be done.
    Failed,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedStep {
    /// Its number, from 1, unique within the run (re-plans continue the numbering).
    pub number: u32,
    /// A short title.
    pub title: String,
    /// What to do.
    pub instruction: String,
}

/// A plan step that ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The step number.
    pub number: u32,
    /// Its title.
    pub title: String,
    /// How it ended.
    pub status: StepStatus,
    /// The step's result, or why it failed.
    pub result: String,
}

/// The answer of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunOutput {
    /// The answer text.
    pub text: String,
    /// Sources and steps the answer rests on.
    pub citations: Vec<Citation>,
    /// Why the run ended.
    pub stop_reason: StopReason,
}

/// A decision on a call that waits for approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum ApprovalDecision {
    /// Run it as asked.
    Approve,
    /// Do not run it; the model is told the reason.
    Deny {
        /// Why.
        reason: String,
    },
    /// Run it with these arguments.
    Edit {
        /// The new arguments (validated against the tool's schema).
        input: Value,
    },
}

impl ApprovalDecision {
    /// `approve`, `deny` or `edit`.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            ApprovalDecision::Approve => "approve",
            ApprovalDecision::Deny { .. } => "deny",
            ApprovalDecision::Edit { .. } => "edit",
        }
    }
}

/// A call waiting for a decision, as shown to the approver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PendingApproval {
    /// The call id to decide on.
    pub call_id: String,
    /// The tool.
    pub tool: String,
    /// The exact arguments the model asked for.
    pub input: Value,
}

/// Approval progress of one requested call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CallApproval {
    /// Not yet checked against the policy.
    Unchecked,
    /// No approval needed.
    NotRequired,
    /// Waiting for a person.
    Pending,
    /// Decided.
    Decided(ApprovalDecision),
}

/// A requested call and its approval progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingCall {
    /// The call.
    pub call: ToolCall,
    /// Its approval progress.
    pub approval: CallApproval,
}

/// What a model turn is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Turn {
    /// Tools offered; the model may call them or answer.
    Open,
    /// No tools; the model must answer (single-step's second call, plan-and-execute's final call).
    Answer,
    /// Working on plan step `index` (into [`RunState::plan`]); `turns` model calls so far.
    Step {
        /// Index into the plan.
        index: usize,
        /// Model calls made for this step.
        turns: u32,
    },
}

/// The next thing the executor will do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Retrieve context and choose the first action.
    Start,
    /// Ask for a plan; `repair` after an invalid one.
    Plan {
        /// Whether this is the one repair attempt after an invalid plan.
        repair: bool,
    },
    /// Call the model for the current [`Turn`].
    Model,
    /// Run the calls the model asked for.
    Tools {
        /// The calls, in the order the model made them.
        calls: Vec<PendingCall>,
    },
    /// Nothing more.
    Done,
}

/// Counters that budgets are checked against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RunCounters {
    /// Model calls made.
    pub model_calls: u32,
    /// Tool calls run.
    pub tool_calls: u32,
    /// Tokens used.
    pub usage: Usage,
    /// Cost so far in US dollars.
    pub cost_usd: f64,
    /// Active time so far, in milliseconds.
    pub elapsed_ms: u64,
}

/// Everything about a run, serialisable: persist it, pause it for approval, resume it in another process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// The run's id.
    pub run_id: RunId,
    /// Its organisation.
    pub org_id: Option<OrgId>,
    /// Its planning mode (fixed at start).
    pub mode: PlanningMode,
    /// Where it stands.
    pub status: RunStatus,
    /// What comes next.
    pub phase: Phase,
    /// What the current model turn is for.
    pub turn: Turn,
    /// The full transcript (never trimmed; memory moves a window over it).
    pub transcript: Conversation,
    /// The memory strategy's window and summary.
    pub memory: MemoryState,
    /// Retrieved context shown to the model.
    pub context: Vec<RetrievedContext>,
    /// The plan, in `plan_and_execute` mode.
    pub plan: Vec<PlannedStep>,
    /// Steps that ran.
    pub steps: Vec<StepRecord>,
    /// Re-plans made.
    pub replans: u32,
    /// The highest step number handed out, so steps of a re-plan never reuse a number announced before.
    pub last_step_number: u32,
    /// Model turns in `loop_with_limits` mode.
    pub loop_turns: u32,
    /// Budget counters.
    pub counters: RunCounters,
    /// Set when a step failed for good; the final answer then reports it.
    pub failed_step: bool,
    /// The sequence number of the next event.
    pub next_seq: u64,
    /// The answer, once the run ended.
    pub output: Option<RunOutput>,
    /// The error, when the run failed.
    pub error: Option<String>,
}

impl RunState {
    /// A new run of `mode` for the user message `input`.
    #[must_use]
    pub fn new(mode: PlanningMode, org_id: Option<OrgId>, input: Message) -> Self {
        let mut transcript = Conversation::new();
        transcript.push(input);
        Self {
            run_id: RunId::new(),
            org_id,
            mode,
            status: RunStatus::Running,
            phase: Phase::Start,
            turn: Turn::Open,
            transcript,
            memory: MemoryState::default(),
            context: Vec::new(),
            plan: Vec::new(),
            steps: Vec::new(),
            replans: 0,
            last_step_number: 0,
            loop_turns: 0,
            counters: RunCounters::default(),
            failed_step: false,
            next_seq: 1,
            output: None,
            error: None,
        }
    }

    /// Scopes the run to an organisation: tools, hooks and the retriever see it, and so does storage.
    #[must_use]
    pub fn in_org(mut self, org_id: OrgId) -> Self {
        self.org_id = Some(org_id);
        self
    }

    /// Calls waiting for a decision.
    #[must_use]
    pub fn pending_approvals(&self) -> Vec<PendingApproval> {
        match &self.phase {
            Phase::Tools { calls } => calls
                .iter()
                .filter(|c| c.approval == CallApproval::Pending)
                .map(|c| PendingApproval {
                    call_id: c.call.id.clone(),
                    tool: c.call.name.clone(),
                    input: c.call.input.clone(),
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}
