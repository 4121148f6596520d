//! Plan-and-execute: asking for a plan, starting steps, failing and re-planning.

use super::*;

impl Agent {
    pub(super) async fn plan_phase(&self, state: &mut RunState, seg: &mut Segment<'_>, repair: bool) {
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
    pub(super) fn start_step(&self, state: &mut RunState, seg: &mut Segment<'_>, index: usize) {
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
    pub(super) fn fail_step(
        &self,
        state: &mut RunState,
        seg: &mut Segment<'_>,
        index: usize,
        reason: String,
    ) {
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
}

/// Adds text to the last user message, or starts one, so user turns never follow each other.
pub(super) fn push_user_text(state: &mut RunState, text: String) {
    let last_is_user = state.transcript.last().is_some_and(|m| m.role == Role::User);
    if last_is_user {
        if let Some(last) = state.transcript.messages_mut().last_mut() {
            last.content.push(ContentBlock::text(text));
        }
    } else {
        state.transcript.push(Message::user(text));
    }
}
