//! Tool turns: approvals, budgets, hooks, concurrent execution and results in call order.

use super::*;

/// One tool call in flight: its position in the turn and its result.
type ToolFuture<'a> = std::pin::Pin<Box<dyn Future<Output = (usize, ToolExecution)> + Send + 'a>>;

impl Agent {
    pub(super) async fn tools_phase(
        &self,
        state: &mut RunState,
        seg: &mut Segment<'_>,
        mut calls: Vec<PendingCall>,
    ) {
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
                newly_pending.push(crate::run::PendingApproval {
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
        // Boxed so the drive future is provably `Send` for callers that spawn it (closures returning async blocks
        // over borrowed data otherwise hit the compiler's higher-ranked lifetime limits).
        let pending_futures: Vec<ToolFuture<'_>> = runnable
            .iter()
            .map(|(index, call)| -> ToolFuture<'_> {
                Box::pin(async move {
                    let ctx = ToolContext { call_id: call.id.clone(), ..base.clone() };
                    let span = tracing::info_span!("gen_ai.execute_tool", gen_ai.tool.name = %call.name, gen_ai.tool.call.id = %call.id);
                    (*index, tools.execute(&ctx, call).instrument(span).await)
                })
            })
            .collect();
        let mut in_flight = futures::stream::iter(pending_futures).buffer_unordered(limit);
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
    pub(super) fn push_results(
        &self,
        state: &mut RunState,
        seg: &mut Segment<'_>,
        results: Vec<ToolExecution>,
    ) {
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
