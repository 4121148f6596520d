//! Executor overhead per model turn and per tool call, at 10, 100 and 1,000 transcript messages.
//!
//! `cargo bench -p secops-benches --bench executor`
//!
//! Model: the scripted provider (its own cost is measured separately and subtracted); tools: a no-op typed
//! tool. Each measured run continues a transcript of N messages for T turns. Runs with 1 and with 4 tool calls
//! per turn give the per-call cost: (t4 - t1) / 3T; the per-turn cost is t1 / T minus one call and minus the
//! provider's own time per turn. Target: at most 20 µs per turn at 10 messages, growing no worse than linearly.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use secops_benches::{mean_time, micros};
use secops_core::message::{ContentBlock, Message, Role, ToolCall};
use secops_core::model::{ModelProvider, ModelRequest, ScriptedProvider, ScriptedTurn, Usage};
use secops_core::run::{Agent, AgentConfig, NoopSink, PlanningMode, RunState, RunStatus};
use secops_core::tool::{ApprovalPolicy, ToolContext, ToolError, ToolRegistry, Typed, TypedTool};

const TURNS: usize = 8;

/// A fixed per-call usage, so the provider's cost does not depend on the transcript.
const USAGE: Usage = Usage {
    input_tokens: 1_000,
    output_tokens: 50,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
};

struct Noop;

#[derive(Deserialize, JsonSchema)]
struct NoopInput {
    /// Ignored.
    #[allow(dead_code)]
    host: String,
}

impl TypedTool for Noop {
    type Input = NoopInput;
    type Output = &'static str;
    fn name(&self) -> &str {
        "noop"
    }
    fn description(&self) -> &str {
        "Does nothing."
    }
    async fn run(&self, _ctx: &ToolContext, _input: NoopInput) -> Result<&'static str, ToolError> {
        Ok("ok")
    }
}

fn history(n: usize) -> Vec<Message> {
    // Realistic mix: user text, assistant tool call, tool result, assistant text.
    (0..n)
        .map(|i| match i % 4 {
            0 => Message::user(format!(
                "Check host ws-{i:04} for signs of lateral movement in the last 24 hours."
            )),
            1 => Message {
                role: Role::Assistant,
                content: vec![ContentBlock::ToolUse(ToolCall {
                    id: format!("h{i}"),
                    name: "noop".into(),
                    input: json!({"host": format!("ws-{i:04}")}),
                })],
            },
            2 => Message {
                role: Role::User,
                content: vec![ContentBlock::tool_result(format!("h{}", i - 1), "ok", false)],
            },
            _ => Message::assistant("Nothing unusual on that host: no new services, no remote logons."),
        })
        .collect()
}

fn script(calls_per_turn: usize) -> Vec<ScriptedTurn> {
    let mut turns: Vec<ScriptedTurn> = (0..TURNS)
        .map(|t| {
            ScriptedTurn::parallel_calls(
                (0..calls_per_turn).map(|c| ("noop", json!({"host": format!("ws-{t}-{c}")}))),
            )
        })
        .collect();
    turns.push(ScriptedTurn::text("Done."));
    turns
}

fn agent(calls_per_turn: usize) -> Agent {
    let mut tools = ToolRegistry::new();
    tools.register(Arc::new(Typed::new(Noop))).unwrap();
    let provider = Arc::new(
        ScriptedProvider::new(script(calls_per_turn))
            .cycled()
            .with_chunk_bytes(64)
            .with_usage(USAGE),
    );
    let config = AgentConfig {
        mode: PlanningMode::LoopWithLimits,
        max_turns: 1_000,
        approval: ApprovalPolicy::autonomous(),
        ..AgentConfig::default()
    };
    Agent::builder(provider)
        .tools(tools)
        .config(config)
        .build()
        .unwrap()
}

/// Mean time of one whole run of TURNS tool turns + 1 answer turn on top of `n` history messages.
fn time_runs(rt: &tokio::runtime::Runtime, n: usize, calls_per_turn: usize) -> Duration {
    let agent = agent(calls_per_turn);
    let base = history(n);
    let cancel = CancellationToken::new();
    // Copying the history into a run and dropping the finished run are the caller's costs, not the
    // executor's: batches are prepared and dropped outside the timed section.
    let batch = || -> Vec<RunState> {
        (0..32)
            .map(|_| agent.start_with_history(base.clone(), Message::user("Continue.")))
            .collect()
    };
    let mut warm = batch();
    for state in &mut warm {
        rt.block_on(agent.drive(state, &NoopSink, &cancel));
    }
    let mut timed = Duration::ZERO;
    let mut runs = 0u32;
    while timed < Duration::from_millis(250) || runs < 64 {
        let mut states = batch();
        let started = Instant::now();
        for state in &mut states {
            let status = rt.block_on(agent.drive(state, &NoopSink, &cancel));
            assert_eq!(status, RunStatus::Finished);
        }
        timed += started.elapsed();
        runs += 32;
        drop(states);
    }
    timed / runs
}

/// Mean time the scripted provider alone needs for one tool turn at transcript length `n`.
fn time_provider(rt: &tokio::runtime::Runtime, n: usize, calls_per_turn: usize) -> Duration {
    let provider = ScriptedProvider::new(script(calls_per_turn))
        .cycled()
        .with_chunk_bytes(64)
        .with_usage(USAGE);
    let messages = history(n);
    mean_time(Duration::from_millis(100), 20, || {
        let request = ModelRequest::new(&messages);
        let r = rt.block_on(provider.complete(&request)).unwrap();
        std::hint::black_box(r);
    })
}

/// The median of five measurements, to keep one noisy burst from skewing a figure.
fn median(mut measure: impl FnMut() -> Duration) -> Duration {
    let mut samples: Vec<Duration> = (0..5).map(|_| measure()).collect();
    samples.sort_unstable();
    samples[2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    println!(
        "secops-core executor overhead (scripted provider, no-op tool, {TURNS} tool turns + 1 answer per run)"
    );
    println!(
        "{:>12} {:>16} {:>20} {:>22} {:>14}",
        "transcript", "per turn (µs)", "per tool call (µs)", "provider/turn (µs)", "run (µs)"
    );
    let mut first_turn = None;
    for n in [10usize, 100, 1_000] {
        let t1 = median(|| time_runs(&rt, n, 1));
        let t4 = median(|| time_runs(&rt, n, 4));
        let provider = median(|| time_provider(&rt, n, 1));
        let turns = (TURNS + 1) as f64;
        let per_call = (micros(t4) - micros(t1)) / (3.0 * TURNS as f64);
        let per_turn = (micros(t1) / turns) - per_call * (TURNS as f64 / turns) - micros(provider);
        first_turn.get_or_insert(per_turn);
        println!(
            "{n:>12} {per_turn:>16.2} {per_call:>20.2} {:>22.2} {:>14.1}",
            micros(provider),
            micros(t1)
        );
    }
    if let Some(t) = first_turn {
        println!(
            "target: <= 20 µs per turn at 10 messages: {}",
            if t <= 20.0 { "met" } else { "NOT met" }
        );
    }
}
