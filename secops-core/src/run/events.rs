use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::{PendingApproval, PlanningMode, RunOutput, StepStatus};
use crate::message::ToolCall;
use crate::model::Usage;
use crate::tenancy::RunId;
use crate::tool::ToolExecution;

/// Something that happened in a run. Sequence numbers start at 1 and increase by one per event across
/// pauses and resumes, so a client can resume a stream from the last number it saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunEvent {
    /// Position in the run's event sequence.
    pub seq: u64,
    /// The run.
    pub run_id: RunId,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// What happened.
    #[serde(flatten)]
    pub kind: RunEventKind,
}

/// The kinds of [`RunEvent`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RunEventKind {
    /// The run began.
    RunStarted {
        /// Its planning mode.
        mode: PlanningMode,
    },
    /// Context was retrieved for the run.
    ContextRetrieved {
        /// Number of passages.
        passages: usize,
    },
    /// Retrieval failed; the run goes on without context.
    RetrievalFailed {
        /// Why.
        error: String,
    },
    /// A plan was made (or remade after a failed step).
    PlanCreated {
        /// Step titles, in order, numbered from `first_number`.
        steps: Vec<String>,
        /// The number of the first step in `steps`.
        first_number: u32,
        /// Whether this replaces the rest of an earlier plan.
        replanned: bool,
    },
    /// A plan step began.
    StepStarted {
        /// The step number.
        number: u32,
        /// Its title.
        title: String,
    },
    /// A plan step ended.
    StepFinished {
        /// The step number.
        number: u32,
        /// How it ended.
        status: StepStatus,
        /// Its result or failure reason.
        result: String,
    },
    /// A model call began.
    ModelCallStarted {
        /// The run's model-call count, from 1.
        call: u32,
    },
    /// Streamed answer text.
    TextDelta {
        /// The new text.
        text: String,
    },
    /// Streamed reasoning text.
    ReasoningDelta {
        /// The new text.
        text: String,
    },
    /// The model asked for a tool call.
    ToolCallRequested {
        /// The call.
        call: ToolCall,
    },
    /// The run paused until these calls are approved, denied or edited.
    AwaitingApproval {
        /// The calls, with their exact arguments.
        calls: Vec<PendingApproval>,
    },
    /// A person decided on a call.
    ApprovalResolved {
        /// The call.
        call_id: String,
        /// `approve`, `deny` or `edit`.
        decision: String,
    },
    /// A tool call finished, failed or was answered synthetically.
    ToolResult {
        /// The result as the model will see it.
        execution: ToolExecution,
    },
    /// Token use after a model call.
    Usage {
        /// This call.
        call: Usage,
        /// The run so far.
        total: Usage,
        /// The run's cost so far in US dollars (0 without pricing).
        cost_usd: f64,
    },
    /// The memory strategy moved the window.
    MemoryCompacted {
        /// The first transcript index the model now sees.
        window_start: usize,
        /// Whether a summary was written.
        summarised: bool,
    },
    /// The run ended with an answer.
    Finished {
        /// The answer.
        output: RunOutput,
    },
    /// The run failed; `output` holds what it had.
    Failed {
        /// Why.
        error: String,
        /// The partial answer.
        output: RunOutput,
    },
    /// The run was cancelled; `output` holds what it had.
    Cancelled {
        /// The partial answer.
        output: RunOutput,
    },
}

/// Where run events go: a channel to a UI, a store, a log. Must not block.
pub trait EventSink: Send + Sync {
    /// Receives one event.
    fn emit(&self, event: RunEvent);
}

/// Drops every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopSink;

impl EventSink for NoopSink {
    fn emit(&self, _event: RunEvent) {}
}

/// Keeps every event in memory (tests, short runs).
#[derive(Debug, Default)]
pub struct EventLog {
    events: Mutex<Vec<RunEvent>>,
}

impl EventLog {
    /// An empty log.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the events so far.
    #[must_use]
    pub fn events(&self) -> Vec<RunEvent> {
        match self.events.lock() {
            Ok(e) => e.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl EventSink for EventLog {
    fn emit(&self, event: RunEvent) {
        match self.events.lock() {
            Ok(mut e) => e.push(event),
            Err(poisoned) => poisoned.into_inner().push(event),
        }
    }
}

impl EventSink for tokio::sync::mpsc::UnboundedSender<RunEvent> {
    fn emit(&self, event: RunEvent) {
        // A closed receiver means nobody is watching; the run itself must go on.
        let _ = self.send(event);
    }
}
