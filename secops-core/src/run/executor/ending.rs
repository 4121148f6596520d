//! Ending a run: answering open calls, composing the best answer available, citations.

use super::*;

impl Agent {
    /// Ends a run early (budget, cancellation, limit) with an answer built from what it has.
    pub(super) fn end_early(
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
    pub(super) fn end_failed(
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
    pub(super) fn close_open_calls(&self, state: &mut RunState, seg: &mut Segment<'_>, reason: StopReason) {
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
    pub(super) fn end(
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
