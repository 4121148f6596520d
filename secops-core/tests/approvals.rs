//! Approval pauses: serialise, resume in a fresh executor, approve / deny / edit, and cancel while waiting.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::Arc;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use common::*;
use secops_core::model::{ScriptedProvider, ScriptedTurn};
use secops_core::run::{
    AgentConfig, ApprovalDecision, EventLog, PlanningMode, RunError, RunEventKind, RunState, RunStatus,
    StopReason,
};
use secops_core::tool::ApprovalPolicy;

fn containment_body() -> Vec<ScriptedTurn> {
    vec![
        ScriptedTurn::parallel_calls([
            ("lookup_host", json!({"host": "ws-042"})),
            ("isolate_host", json!({"host": "ws-042"})),
        ]),
        ScriptedTurn::text("ws-042 is isolated."),
    ]
}

/// Runs until the approval pause, then hands back the state as JSON, as a server would store it.
async fn run_until_pause(mode: PlanningMode, events: &EventLog) -> (String, usize) {
    let provider = Arc::new(ScriptedProvider::new(script_for(mode, containment_body())));
    let agent = agent(mode, provider.clone(), kit().registry, AgentConfig::default());
    let mut state = agent.start("Contain ws-042");
    let status = agent.drive(&mut state, events, &CancellationToken::new()).await;
    assert_eq!(status, RunStatus::AwaitingApproval, "{mode:?}");
    let pending = state.pending_approvals();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].tool, "isolate_host");
    assert_eq!(
        pending[0].input,
        json!({"host": "ws-042"}),
        "the approver sees the exact arguments"
    );
    assert!(
        tool_results(&state).is_empty(),
        "nothing in the turn ran before the decision"
    );
    let last = events.events().last().cloned().unwrap();
    assert!(matches!(last.kind, RunEventKind::AwaitingApproval { ref calls } if calls.len() == 1));
    (serde_json::to_string(&state).unwrap(), provider.calls())
}

/// A different "process": a new provider continuing the same script and a new agent.
fn fresh(
    mode: PlanningMode,
    from_turn: usize,
) -> (secops_core::run::Agent, Arc<std::sync::Mutex<Vec<String>>>) {
    let provider =
        Arc::new(ScriptedProvider::new(script_for(mode, containment_body())).starting_at(from_turn));
    let k = kit();
    let runs = k.isolate_runs.clone();
    (agent(mode, provider, k.registry, AgentConfig::default()), runs)
}

#[tokio::test]
async fn approve_after_resume_matches_an_uninterrupted_run_in_every_mode() {
    for mode in MODES {
        // Uninterrupted reference: the same agent with a policy that never asks.
        let provider = Arc::new(ScriptedProvider::new(script_for(mode, containment_body())));
        let reference_kit = kit();
        let reference_agent = agent(
            mode,
            provider,
            reference_kit.registry,
            AgentConfig {
                approval: ApprovalPolicy::autonomous(),
                ..AgentConfig::default()
            },
        );
        let reference = reference_agent.run("Contain ws-042").await;
        assert_eq!(reference.status, RunStatus::Finished);

        let events = EventLog::new();
        let (stored, calls_so_far) = run_until_pause(mode, &events).await;
        let (agent, isolate_runs) = fresh(mode, calls_so_far);
        let mut state: RunState = serde_json::from_str(&stored).unwrap();
        let call_id = state.pending_approvals()[0].call_id.clone();
        agent
            .resolve_approval(&mut state, &call_id, ApprovalDecision::Approve)
            .unwrap();
        let status = agent.drive(&mut state, &events, &CancellationToken::new()).await;
        assert_eq!(status, RunStatus::Finished, "{mode:?}");
        assert_eq!(
            state.transcript, reference.transcript,
            "{mode:?}: same transcript as without the pause"
        );
        assert_eq!(state.output, reference.output);
        assert_eq!(*isolate_runs.lock().unwrap(), vec!["ws-042".to_owned()]);
        assert_eq!(
            *reference_kit.isolate_runs.lock().unwrap(),
            vec!["ws-042".to_owned()]
        );
        let all = events.events();
        assert_sequence(&all);
        assert!(kinds(&all).contains(&"approval_resolved"));
    }
}

#[tokio::test]
async fn deny_answers_the_call_with_the_reason_and_the_run_goes_on() {
    let events = EventLog::new();
    let (stored, calls) = run_until_pause(PlanningMode::LoopWithLimits, &events).await;
    let (agent, isolate_runs) = fresh(PlanningMode::LoopWithLimits, calls);
    let mut state: RunState = serde_json::from_str(&stored).unwrap();
    let call_id = state.pending_approvals()[0].call_id.clone();
    agent
        .resolve_approval(
            &mut state,
            &call_id,
            ApprovalDecision::Deny {
                reason: "outside the change window".into(),
            },
        )
        .unwrap();
    assert_eq!(
        agent.drive(&mut state, &events, &CancellationToken::new()).await,
        RunStatus::Finished
    );
    assert!(
        isolate_runs.lock().unwrap().is_empty(),
        "a denied call never runs"
    );
    let results = tool_results(&state);
    assert!(!results[0].2, "the call that needed no approval ran");
    assert!(
        results[1].2 && results[1].1.contains("outside the change window"),
        "{results:?}"
    );
    assert_eq!(state.output.as_ref().unwrap().stop_reason, StopReason::Completed);
    assert_well_formed(&state);
}

#[tokio::test]
async fn edit_runs_the_edited_arguments_and_the_transcript_shows_them() {
    let events = EventLog::new();
    let (stored, calls) = run_until_pause(PlanningMode::PlanAndExecute, &events).await;
    let (agent, isolate_runs) = fresh(PlanningMode::PlanAndExecute, calls);
    let mut state: RunState = serde_json::from_str(&stored).unwrap();
    let call_id = state.pending_approvals()[0].call_id.clone();

    let bad = agent.resolve_approval(
        &mut state,
        &call_id,
        ApprovalDecision::Edit {
            input: json!({"hostname": 1}),
        },
    );
    assert!(
        matches!(bad, Err(RunError::InvalidEdit(ref m)) if m.contains("host")),
        "{bad:?}"
    );
    assert_eq!(
        state.pending_approvals().len(),
        1,
        "a refused edit changes nothing"
    );

    agent
        .resolve_approval(
            &mut state,
            &call_id,
            ApprovalDecision::Edit {
                input: json!({"host": "ws-042-vm"}),
            },
        )
        .unwrap();
    assert_eq!(
        agent.drive(&mut state, &events, &CancellationToken::new()).await,
        RunStatus::Finished
    );
    assert_eq!(*isolate_runs.lock().unwrap(), vec!["ws-042-vm".to_owned()]);
    let shown = state
        .transcript
        .messages()
        .iter()
        .flat_map(|m| m.tool_calls())
        .find(|c| c.id == call_id)
        .unwrap();
    assert_eq!(shown.input, json!({"host": "ws-042-vm"}));
}

#[tokio::test]
async fn approval_api_refuses_misuse() {
    let events = EventLog::new();
    let (stored, calls) = run_until_pause(PlanningMode::SingleStep, &events).await;
    let (agent, _) = fresh(PlanningMode::SingleStep, calls);
    let mut state: RunState = serde_json::from_str(&stored).unwrap();
    assert_eq!(
        agent.resolve_approval(&mut state, "nope", ApprovalDecision::Approve),
        Err(RunError::UnknownCall("nope".into()))
    );
    // Driving while a decision is missing changes nothing.
    let before = state.clone();
    assert_eq!(
        agent.drive(&mut state, &events, &CancellationToken::new()).await,
        RunStatus::AwaitingApproval
    );
    assert_eq!(state, before);

    let mut finished = agent.start("x");
    finished.status = RunStatus::Finished;
    assert!(matches!(
        agent.resolve_approval(&mut finished, "x", ApprovalDecision::Approve),
        Err(RunError::NotAwaitingApproval(RunStatus::Finished))
    ));
}

#[tokio::test]
async fn cancelling_a_waiting_run_answers_every_open_call() {
    let events = EventLog::new();
    let (stored, calls) = run_until_pause(PlanningMode::LoopWithLimits, &events).await;
    let (agent, isolate_runs) = fresh(PlanningMode::LoopWithLimits, calls);
    let mut state: RunState = serde_json::from_str(&stored).unwrap();
    agent.cancel(&mut state, &events);
    assert_eq!(state.status, RunStatus::Cancelled);
    assert_eq!(state.output.as_ref().unwrap().stop_reason, StopReason::Cancelled);
    assert!(isolate_runs.lock().unwrap().is_empty());
    let results = tool_results(&state);
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|r| r.2 && r.1.contains("cancelled")));
    assert_well_formed(&state);
    assert_sequence(&events.events());
}
