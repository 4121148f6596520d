//! Tools and helpers shared by the runtime tests.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use secops_core::message::{Conversation, Message};
use secops_core::model::{ScriptedProvider, ScriptedTurn};
use secops_core::run::{Agent, AgentConfig, PlanningMode, RunEvent, RunEventKind, RunState};
use secops_core::tool::{RiskLevel, ToolContext, ToolError, ToolRegistry, Typed, TypedTool};

pub const MODES: [PlanningMode; 3] = [
    PlanningMode::SingleStep,
    PlanningMode::PlanAndExecute,
    PlanningMode::LoopWithLimits,
];

#[derive(Deserialize, JsonSchema)]
pub struct HostQuery {
    /// Hostname.
    pub host: String,
}

#[derive(Deserialize, JsonSchema)]
pub struct IpQuery {
    /// IPv4 address.
    pub ip: String,
}

#[derive(Deserialize, JsonSchema)]
pub struct SlowQuery {
    /// How long to work, in milliseconds.
    pub millis: u64,
}

/// Asset inventory lookup.
pub struct LookupHost;

impl TypedTool for LookupHost {
    type Input = HostQuery;
    type Output = Value;
    fn name(&self) -> &str {
        "lookup_host"
    }
    fn description(&self) -> &str {
        "Owner and OS of a host."
    }
    async fn run(&self, _ctx: &ToolContext, q: HostQuery) -> Result<Value, ToolError> {
        Ok(json!({"host": q.host, "owner": "it-ops", "os": "windows"}))
    }
}

/// Threat-intel reputation.
pub struct IpReputation;

impl TypedTool for IpReputation {
    type Input = IpQuery;
    type Output = Value;
    fn name(&self) -> &str {
        "ip_reputation"
    }
    fn description(&self) -> &str {
        "Reputation of an IP address."
    }
    async fn run(&self, _ctx: &ToolContext, q: IpQuery) -> Result<Value, ToolError> {
        Ok(json!({"ip": q.ip, "score": 87}))
    }
}

/// Network containment: high risk, counts how often it really ran and with what.
#[derive(Default)]
pub struct IsolateHost {
    pub runs: Arc<std::sync::Mutex<Vec<String>>>,
}

impl TypedTool for IsolateHost {
    type Input = HostQuery;
    type Output = String;
    fn name(&self) -> &str {
        "isolate_host"
    }
    fn description(&self) -> &str {
        "Cut a host off the network."
    }
    fn risk(&self) -> RiskLevel {
        RiskLevel::High
    }
    async fn run(&self, _ctx: &ToolContext, q: HostQuery) -> Result<String, ToolError> {
        self.runs.lock().unwrap().push(q.host.clone());
        Ok(format!("{} isolated", q.host))
    }
}

/// Works for a while; tracks how many calls are in flight at once.
#[derive(Default)]
pub struct SlowTool {
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    pub finished: AtomicUsize,
}

pub struct SlowHandle(pub Arc<SlowTool>);

impl TypedTool for SlowHandle {
    type Input = SlowQuery;
    type Output = String;
    fn name(&self) -> &str {
        "slow_scan"
    }
    fn description(&self) -> &str {
        "A long scan."
    }
    async fn run(&self, _ctx: &ToolContext, q: SlowQuery) -> Result<String, ToolError> {
        let me = &self.0;
        let now = me.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        me.max_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(q.millis)).await;
        me.in_flight.fetch_sub(1, Ordering::SeqCst);
        me.finished.fetch_add(1, Ordering::SeqCst);
        Ok(format!("scanned for {} ms", q.millis))
    }
}

pub struct Kit {
    pub registry: ToolRegistry,
    pub isolate_runs: Arc<std::sync::Mutex<Vec<String>>>,
    pub slow: Arc<SlowTool>,
}

pub fn kit() -> Kit {
    let mut registry = ToolRegistry::new();
    let isolate = IsolateHost::default();
    let isolate_runs = isolate.runs.clone();
    let slow = Arc::new(SlowTool::default());
    registry.register(Arc::new(Typed::new(LookupHost))).unwrap();
    registry.register(Arc::new(Typed::new(IpReputation))).unwrap();
    registry.register(Arc::new(Typed::new(isolate))).unwrap();
    registry
        .register(Arc::new(Typed::new(SlowHandle(slow.clone()))))
        .unwrap();
    Kit {
        registry,
        isolate_runs,
        slow,
    }
}

pub fn plan_turn(steps: &[&str]) -> ScriptedTurn {
    let steps: Vec<Value> = steps
        .iter()
        .map(|s| json!({"title": s, "instruction": format!("Do: {s}")}))
        .collect();
    ScriptedTurn::text(json!({ "steps": steps }).to_string())
}

/// Wraps `body` (the turns of the work itself) for `mode`: plan-and-execute gets a one-step plan before and a
/// final answer after.
pub fn script_for(mode: PlanningMode, body: Vec<ScriptedTurn>) -> Vec<ScriptedTurn> {
    match mode {
        PlanningMode::PlanAndExecute => {
            let mut turns = vec![plan_turn(&["investigate"])];
            turns.extend(body);
            turns.push(ScriptedTurn::text("Final: see [step 1]."));
            turns
        }
        _ => body,
    }
}

pub fn agent(
    mode: PlanningMode,
    provider: Arc<ScriptedProvider>,
    registry: ToolRegistry,
    config: AgentConfig,
) -> Agent {
    Agent::builder(provider)
        .tools(registry)
        .config(AgentConfig { mode, ..config })
        .build()
        .unwrap()
}

pub fn assert_well_formed(state: &RunState) {
    let orphans = Conversation::orphans(state.transcript.messages());
    assert!(orphans.is_empty(), "orphans in transcript: {orphans:?}");
}

pub fn assert_sequence(events: &[RunEvent]) {
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1, "event {i} has seq {}", e.seq);
    }
}

pub fn tool_results(state: &RunState) -> Vec<(String, String, bool)> {
    state
        .transcript
        .messages()
        .iter()
        .flat_map(|m| m.content.iter())
        .filter_map(|b| match b {
            secops_core::message::ContentBlock::ToolResult {
                tool_use_id,
                content,
                is_error,
            } => Some((tool_use_id.clone(), content.clone(), *is_error)),
            _ => None,
        })
        .collect()
}

pub fn kinds(events: &[RunEvent]) -> Vec<&'static str> {
    events
        .iter()
        .map(|e| match &e.kind {
            RunEventKind::RunStarted { .. } => "run_started",
            RunEventKind::ContextRetrieved { .. } => "context_retrieved",
            RunEventKind::RetrievalFailed { .. } => "retrieval_failed",
            RunEventKind::PlanCreated { .. } => "plan_created",
            RunEventKind::StepStarted { .. } => "step_started",
            RunEventKind::StepFinished { .. } => "step_finished",
            RunEventKind::ModelCallStarted { .. } => "model_call_started",
            RunEventKind::TextDelta { .. } => "text_delta",
            RunEventKind::ReasoningDelta { .. } => "reasoning_delta",
            RunEventKind::ToolCallRequested { .. } => "tool_call_requested",
            RunEventKind::AwaitingApproval { .. } => "awaiting_approval",
            RunEventKind::ApprovalResolved { .. } => "approval_resolved",
            RunEventKind::ToolResult { .. } => "tool_result",
            RunEventKind::Usage { .. } => "usage",
            RunEventKind::MemoryCompacted { .. } => "memory_compacted",
            RunEventKind::Finished { .. } => "finished",
            RunEventKind::Failed { .. } => "failed",
            RunEventKind::Cancelled { .. } => "cancelled",
        })
        .collect()
}

pub fn user_text(m: &Message) -> String {
    m.text()
}
