//! Running an agent: configuration, the serialisable [`RunState`], the [`Agent`] executor that drives it
//! through the three planning modes, budgets, approvals, cancellation, hooks and the [`RunEvent`] stream.
//!
//! A run is a state machine. [`Agent::drive`] advances a [`RunState`] until it ends or pauses for approval;
//! the state is plain data (serde), so a paused run can be stored, loaded in another process and driven again
//! by a fresh `Agent` built from the same configuration.

mod config;
mod events;
mod executor;
mod hooks;
mod plan;
mod state;

pub use config::{AgentConfig, Budget, PlanningMode};
pub use events::{EventLog, EventSink, NoopSink, RunEvent, RunEventKind};
pub use executor::{Agent, AgentBuilder, RunError};
pub use hooks::{HookContext, ModelCallDecision, RunHooks, ToolCallDecision};
pub use plan::{REPORT_STEP_FAILURE_TOOL, plan_schema};
pub use state::{
    ApprovalDecision, CallApproval, PendingApproval, PendingCall, Phase, PlannedStep, RunCounters, RunOutput,
    RunState, RunStatus, StepRecord, StepStatus, StopReason, Turn,
};
