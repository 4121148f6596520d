//! Each planning mode end to end on the scripted provider: parallel tool turns, invalid input, budgets,
//! re-planning and cancellation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use common::*;
use secops_core::model::{ModelPricing, ScriptedProvider, ScriptedTurn, ToolChoice};
use secops_core::retrieval::Citation;
use secops_core::run::{
    AgentConfig, Budget, EventLog, PlanningMode, RunEventKind, RunStatus, StepStatus, StopReason,
};

fn investigation_body() -> Vec<ScriptedTurn> {
    vec![
        ScriptedTurn::parallel_calls([
            ("lookup_host", json!({"host": "ws-042"})),
            ("ip_reputation", json!({"ip": 42})),
            ("ip_reputation", json!({"ip": "203.0.113.7"})),
        ]),
        ScriptedTurn::text("ws-042 talked to a C2 address; 203.0.113.7 scores 87."),
    ]
}

#[tokio::test]
async fn every_mode_runs_a_parallel_turn_and_survives_invalid_input() {
    for mode in MODES {
        let provider = Arc::new(ScriptedProvider::new(script_for(mode, investigation_body())).recording());
        let agent = agent(mode, provider.clone(), kit().registry, AgentConfig::default());
        let events = EventLog::new();
        let mut state = agent.start("Investigate ws-042");
        let status = agent.drive(&mut state, &events, &CancellationToken::new()).await;
        assert_eq!(status, RunStatus::Finished, "{mode:?}: {:?}", state.output);
        let output = state.output.clone().unwrap();
        assert_eq!(output.stop_reason, StopReason::Completed, "{mode:?}");

        // Results come back in call order, the schema-invalid call as an error the model can read.
        let results = tool_results(&state);
        assert_eq!(results.len(), 3, "{mode:?}");
        assert!(
            results[0].1.contains("it-ops") && !results[0].2,
            "{mode:?} {results:?}"
        );
        assert!(results[1].2, "{mode:?}: invalid input is an error result");
        assert!(
            results[1].1.contains("/ip") && results[1].1.contains("do not match"),
            "{}",
            results[1].1
        );
        assert!(results[2].1.contains("87") && !results[2].2);
        let ids: Vec<_> = results.iter().map(|r| r.0.clone()).collect();
        let call_ids: Vec<_> = state
            .transcript
            .messages()
            .iter()
            .flat_map(|m| m.tool_calls())
            .map(|c| c.id.clone())
            .collect();
        assert_eq!(ids, call_ids, "{mode:?}: results in call order");
        assert_well_formed(&state);

        // The model saw the error result on its next turn: the run went on.
        let requests = provider.requests();
        let after_tools = requests
            .iter()
            .find(|r| r.messages.iter().any(|m| m.has_tool_results()))
            .unwrap();
        assert!(after_tools.messages.last().unwrap().has_tool_results());
        let events = events.events();
        assert_sequence(&events);
        let k = kinds(&events);
        assert_eq!(k.first(), Some(&"run_started"));
        assert_eq!(k.last(), Some(&"finished"));
        assert_eq!(k.iter().filter(|k| **k == "tool_result").count(), 3);

        match mode {
            PlanningMode::SingleStep => {
                assert_eq!(requests.len(), 2);
                assert_eq!(requests[0].tool_choice, ToolChoice::Auto);
                assert_eq!(
                    requests[1].tool_choice,
                    ToolChoice::None,
                    "single-step answers without tools"
                );
                assert!(output.text.contains("C2"));
            }
            PlanningMode::LoopWithLimits => {
                assert_eq!(requests.len(), 2);
                assert_eq!(state.loop_turns, 2);
            }
            PlanningMode::PlanAndExecute => {
                assert_eq!(
                    requests.len(),
                    4,
                    "plan, step turn with tools, step answer, final answer"
                );
                assert!(
                    requests[0].structured,
                    "the plan is asked for as structured output"
                );
                assert!(requests[0].tools.is_empty());
                assert!(requests[1].tools.contains(&"report_step_failure".to_owned()));
                assert_eq!(state.steps.len(), 1);
                assert_eq!(state.steps[0].status, StepStatus::Completed);
                assert!(state.steps[0].result.contains("C2"));
                assert_eq!(
                    output.citations,
                    vec![Citation::Step {
                        number: 1,
                        title: "investigate".into(),
                        referenced: true
                    }]
                );
                assert!(
                    k.contains(&"plan_created")
                        && k.contains(&"step_started")
                        && k.contains(&"step_finished")
                );
            }
        }
    }
}

#[tokio::test]
async fn plan_and_execute_cites_every_step_of_a_longer_plan() {
    let provider = Arc::new(ScriptedProvider::new(vec![
        plan_turn(&["host owner", "reputation"]),
        ScriptedTurn::tool_call("lookup_host", json!({"host": "ws-042"})),
        ScriptedTurn::text("owner is it-ops"),
        ScriptedTurn::tool_call("ip_reputation", json!({"ip": "203.0.113.7"})),
        ScriptedTurn::text("score 87"),
        ScriptedTurn::text("it-ops owns ws-042 [step 1]; the IP is malicious [step 2]."),
    ]));
    let agent = agent(
        PlanningMode::PlanAndExecute,
        provider,
        kit().registry,
        AgentConfig::default(),
    );
    let state = agent.run("Who owns ws-042 and is 203.0.113.7 bad?").await;
    let output = state.output.unwrap();
    assert_eq!(output.stop_reason, StopReason::Completed);
    let numbers: Vec<u32> = output
        .citations
        .iter()
        .filter_map(|c| match c {
            Citation::Step {
                number,
                referenced: true,
                ..
            } => Some(*number),
            _ => None,
        })
        .collect();
    assert_eq!(numbers, vec![1, 2]);
    // The final prompt carried each step's result to the model.
    let final_prompt = state.transcript.messages()[state.transcript.len() - 2].text();
    assert!(
        final_prompt.contains("[step 1] host owner (done): owner is it-ops"),
        "{final_prompt}"
    );
}

#[tokio::test]
async fn plan_and_execute_replans_once_after_a_failed_step() {
    let provider = Arc::new(
        ScriptedProvider::new(vec![
            plan_turn(&["query the old SIEM", "summarise"]),
            ScriptedTurn::tool_call(
                "report_step_failure",
                json!({"reason": "the old SIEM is decommissioned"}),
            ),
            plan_turn(&["look up the host instead"]),
            ScriptedTurn::tool_call("lookup_host", json!({"host": "ws-042"})),
            ScriptedTurn::text("owner it-ops"),
            ScriptedTurn::text("Answer from [step 3]."),
        ])
        .recording(),
    );
    let agent = agent(
        PlanningMode::PlanAndExecute,
        provider.clone(),
        kit().registry,
        AgentConfig::default(),
    );
    let events = EventLog::new();
    let mut state = agent.start("Investigate ws-042");
    agent.drive(&mut state, &events, &CancellationToken::new()).await;
    let output = state.output.clone().unwrap();
    assert_eq!(output.stop_reason, StopReason::Completed);
    assert_eq!(state.replans, 1);
    let steps: Vec<_> = state.steps.iter().map(|s| (s.number, s.status)).collect();
    assert_eq!(steps, vec![(1, StepStatus::Failed), (3, StepStatus::Completed)]);
    assert!(state.steps[0].result.contains("decommissioned"));
    let plans: Vec<_> = events
        .events()
        .into_iter()
        .filter_map(|e| match e.kind {
            RunEventKind::PlanCreated {
                first_number,
                replanned,
                steps,
            } => Some((first_number, replanned, steps.len())),
            _ => None,
        })
        .collect();
    assert_eq!(plans, vec![(1, false, 2), (3, true, 1)]);
    // The re-plan request told the model what failed, and was structured again.
    let replan = &provider.requests()[2];
    assert!(replan.structured);
    assert!(
        replan.tools.contains(&"lookup_host".to_owned()),
        "a transcript with tool calls keeps its tools"
    );
    assert_eq!(
        replan.tool_choice,
        ToolChoice::None,
        "but the plan call may not use them"
    );
    assert!(
        provider.requests()[0].tools.is_empty(),
        "the first plan has no tool history and no tools"
    );
    assert!(
        replan
            .messages
            .last()
            .unwrap()
            .text()
            .contains("Step 1 (query the old SIEM) failed")
    );
    assert_well_formed(&state);
}

#[tokio::test]
async fn a_second_failure_ends_with_step_failed_and_the_partial_answer() {
    let provider = Arc::new(ScriptedProvider::new(vec![
        plan_turn(&["a", "b"]),
        ScriptedTurn::tool_call("report_step_failure", json!({"reason": "no access"})),
        plan_turn(&["c"]),
        ScriptedTurn::tool_call("report_step_failure", json!({"reason": "still no access"})),
        ScriptedTurn::text("I could not finish: access is missing."),
    ]));
    let agent = agent(
        PlanningMode::PlanAndExecute,
        provider,
        kit().registry,
        AgentConfig::default(),
    );
    let state = agent.run("x").await;
    assert_eq!(state.status, RunStatus::Finished);
    let output = state.output.unwrap();
    assert_eq!(output.stop_reason, StopReason::StepFailed);
    assert!(output.text.contains("access is missing"));
}

#[tokio::test]
async fn an_invalid_plan_is_repaired_once_then_fails_clearly() {
    let good = Arc::new(ScriptedProvider::new(vec![
        ScriptedTurn::text("{\"steps\": []}"),
        plan_turn(&["only step"]),
        ScriptedTurn::text("done"),
        ScriptedTurn::text("final [step 1]"),
    ]));
    let state = agent(
        PlanningMode::PlanAndExecute,
        good,
        kit().registry,
        AgentConfig::default(),
    )
    .run("x")
    .await;
    assert_eq!(state.output.unwrap().stop_reason, StopReason::Completed);

    let bad = Arc::new(ScriptedProvider::new(vec![
        ScriptedTurn::text("step one: look"),
        ScriptedTurn::text("{}"),
    ]));
    let state = agent(
        PlanningMode::PlanAndExecute,
        bad,
        kit().registry,
        AgentConfig::default(),
    )
    .run("x")
    .await;
    assert_eq!(state.status, RunStatus::Failed);
    assert_eq!(state.output.unwrap().stop_reason, StopReason::PlanInvalid);
    assert!(state.error.unwrap().contains("steps"));
}

fn busy_body(turns: usize) -> Vec<ScriptedTurn> {
    (0..turns)
        .map(|i| {
            ScriptedTurn::parallel_calls([
                ("lookup_host", json!({"host": format!("ws-{i}")})),
                ("slow_scan", json!({"millis": 2_000})),
            ])
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn every_budget_ends_every_mode_gracefully_with_its_stop_reason() {
    let pricing = ModelPricing {
        input_per_mtok: 1_000.0,
        output_per_mtok: 1_000.0,
        ..ModelPricing::default()
    };
    let cases: [(Budget, StopReason); 5] = [
        (
            Budget {
                max_model_calls: Some(1),
                ..Budget::default()
            },
            StopReason::ModelCallBudget,
        ),
        (
            Budget {
                max_tool_calls: Some(1),
                ..Budget::default()
            },
            StopReason::ToolCallBudget,
        ),
        (
            Budget {
                max_total_tokens: Some(10),
                ..Budget::default()
            },
            StopReason::TokenBudget,
        ),
        (
            Budget {
                max_cost_usd: Some(0.001),
                ..Budget::default()
            },
            StopReason::CostBudget,
        ),
        (
            Budget {
                max_wall_clock_ms: Some(1_000),
                ..Budget::default()
            },
            StopReason::WallClock,
        ),
    ];
    for mode in MODES {
        for (budget, expected) in cases {
            // Plan-and-execute spends one model call on its plan, so its model-call budget is one higher.
            let budget = match (mode, expected) {
                (PlanningMode::PlanAndExecute, StopReason::ModelCallBudget) => Budget {
                    max_model_calls: Some(2),
                    ..budget
                },
                _ => budget,
            };
            let provider = Arc::new(ScriptedProvider::new(script_for(mode, busy_body(30))));
            let config = AgentConfig {
                budget,
                pricing: Some(pricing),
                max_turns: 100,
                max_turns_per_step: 100,
                ..AgentConfig::default()
            };
            let agent = agent(mode, provider, kit().registry, config);
            let events = EventLog::new();
            let mut state = agent.start("Investigate the fleet");
            let status = agent.drive(&mut state, &events, &CancellationToken::new()).await;
            let output = state.output.clone().unwrap();
            assert_eq!(status, RunStatus::Finished, "{mode:?} {expected:?}");
            assert_eq!(output.stop_reason, expected, "{mode:?}");
            assert!(
                output.text.contains("The run stopped early"),
                "{mode:?} {expected:?}: {}",
                output.text
            );
            assert_well_formed(&state);
            assert_sequence(&events.events());
            assert!(matches!(
                events.events().last().unwrap().kind,
                RunEventKind::Finished { .. }
            ));
            match expected {
                StopReason::ModelCallBudget => {
                    assert_eq!(Some(state.counters.model_calls), budget.max_model_calls)
                }
                StopReason::ToolCallBudget => {
                    assert_eq!(state.counters.tool_calls, 1);
                    assert!(
                        tool_results(&state)
                            .iter()
                            .any(|r| r.1.contains("tool-call budget"))
                    );
                }
                StopReason::WallClock => {
                    assert!(tool_results(&state).iter().any(|r| r.1.contains("time budget")))
                }
                _ => {}
            }
        }
    }
}

#[tokio::test]
async fn loop_with_limits_stops_at_max_turns() {
    let provider = Arc::new(ScriptedProvider::new(
        (0..10)
            .map(|i| ScriptedTurn::tool_call("lookup_host", json!({"host": format!("h{i}")})))
            .collect(),
    ));
    let config = AgentConfig {
        max_turns: 3,
        ..AgentConfig::default()
    };
    let state = agent(PlanningMode::LoopWithLimits, provider, kit().registry, config)
        .run("x")
        .await;
    assert_eq!(state.output.unwrap().stop_reason, StopReason::MaxTurns);
    assert_eq!(state.counters.model_calls, 3);
    assert_eq!(state.counters.tool_calls, 3);
}

#[tokio::test]
async fn parallel_calls_respect_the_concurrency_limit_and_keep_order() {
    for limit in [1usize, 2, 4] {
        let k = kit();
        let slow = k.slow.clone();
        let provider = Arc::new(ScriptedProvider::new(vec![
            ScriptedTurn::parallel_calls((0..4).map(|i| ("slow_scan", json!({"millis": 40 - i * 10})))),
            ScriptedTurn::text("done"),
        ]));
        let config = AgentConfig {
            max_parallel_tool_calls: limit,
            ..AgentConfig::default()
        };
        let state = agent(PlanningMode::LoopWithLimits, provider, k.registry, config)
            .run("scan")
            .await;
        assert_eq!(slow.max_in_flight.load(Ordering::SeqCst), limit, "limit {limit}");
        let results = tool_results(&state);
        let order: Vec<_> = results.iter().map(|r| r.1.clone()).collect();
        assert_eq!(
            order,
            [
                "scanned for 40 ms",
                "scanned for 30 ms",
                "scanned for 20 ms",
                "scanned for 10 ms"
            ]
        );
    }
}

#[tokio::test]
async fn cancellation_during_a_slow_tool_ends_every_mode_cancelled() {
    for mode in MODES {
        let k = kit();
        let slow = k.slow.clone();
        let body = vec![
            ScriptedTurn::parallel_calls([
                ("lookup_host", json!({"host": "ws-042"})),
                ("slow_scan", json!({"millis": 60_000})),
            ]),
            ScriptedTurn::text("never reached"),
        ];
        let provider = Arc::new(ScriptedProvider::new(script_for(mode, body)));
        let agent = agent(mode, provider, k.registry, AgentConfig::default());
        let events = EventLog::new();
        let cancel = CancellationToken::new();
        let mut state = agent.start("Scan everything");
        let started = std::time::Instant::now();
        let (status, ()) = tokio::join!(agent.drive(&mut state, &events, &cancel), async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            cancel.cancel();
        });
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the slow tool was abandoned"
        );
        assert_eq!(status, RunStatus::Cancelled, "{mode:?}");
        assert_eq!(slow.finished.load(Ordering::SeqCst), 0);
        let output = state.output.clone().unwrap();
        assert_eq!(output.stop_reason, StopReason::Cancelled);
        let results = tool_results(&state);
        assert!(
            results[0].1.contains("it-ops"),
            "the finished call keeps its result: {results:?}"
        );
        assert!(results[1].2 && results[1].1.contains("cancelled"), "{results:?}");
        assert_well_formed(&state);
        assert!(matches!(
            events.events().last().unwrap().kind,
            RunEventKind::Cancelled { .. }
        ));
    }
}

#[tokio::test(start_paused = true)]
async fn cancellation_during_a_slow_model_call_keeps_streamed_text() {
    let provider = Arc::new(ScriptedProvider::new(vec![ScriptedTurn::Delayed(
        Duration::from_secs(30),
        Box::new(ScriptedTurn::text("late")),
    )]));
    let agent = agent(
        PlanningMode::LoopWithLimits,
        provider,
        kit().registry,
        AgentConfig::default(),
    );
    let cancel = CancellationToken::new();
    let mut state = agent.start("x");
    let (status, ()) = tokio::join!(
        agent.drive(&mut state, &secops_core::run::NoopSink, &cancel),
        async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            cancel.cancel();
        }
    );
    assert_eq!(status, RunStatus::Cancelled);
    assert_eq!(state.output.unwrap().stop_reason, StopReason::Cancelled);
}

#[tokio::test]
async fn provider_errors_fail_the_run_with_a_reason() {
    use secops_core::model::{ProviderError, ProviderErrorKind};
    let provider = Arc::new(ScriptedProvider::new(vec![
        ScriptedTurn::tool_call("lookup_host", json!({"host": "a"})),
        ScriptedTurn::Error(ProviderError::new(
            "scripted",
            ProviderErrorKind::Overloaded,
            "try later",
        )),
    ]));
    let state = agent(
        PlanningMode::LoopWithLimits,
        provider,
        kit().registry,
        AgentConfig::default(),
    )
    .run("x")
    .await;
    assert_eq!(state.status, RunStatus::Failed);
    assert_eq!(state.output.as_ref().unwrap().stop_reason, StopReason::ModelError);
    assert!(state.error.as_ref().unwrap().contains("overloaded"));
    assert_well_formed(&state);
}

/// Servers drive runs on spawned tasks: the drive future must be `Send` for any lifetime.
#[test]
fn the_drive_future_can_be_spawned() {
    fn spawnable<F: std::future::Future + Send + 'static>(_: F) {}
    let provider = Arc::new(ScriptedProvider::new(vec![ScriptedTurn::text("ok")]));
    let agent = agent(
        PlanningMode::LoopWithLimits,
        provider,
        kit().registry,
        AgentConfig::default(),
    );
    let mut state = agent.start("x");
    spawnable(async move {
        let sink = EventLog::new();
        agent.drive(&mut state, &sink, &CancellationToken::new()).await
    });
}
