//! Shared pieces of the secops examples: a phishing-triage agent with two typed tools.
//!
//! The tools answer from small in-memory tables so the examples run anywhere; a real deployment swaps them
//! for `secops-tools` integrations (Splunk, VirusTotal, ...) without touching the agent.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let agent = secops_examples::triage_agent(std::sync::Arc::new(secops_examples::offline_provider()))?;
//! let run = agent.run("Alert 4711: user clicked a link in a phishing mail").await;
//! assert!(run.output.unwrap().text.contains("203.0.113.7"));
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use secops_core::model::{ModelProvider, ScriptedProvider, ScriptedTurn};
use secops_core::run::{Agent, AgentConfig, Budget, PlanningMode, RunError};
use secops_core::tool::{RegistryError, ToolContext, ToolError, ToolRegistry, Typed, TypedTool};

/// The triage agent's instructions.
pub const TRIAGE_PROMPT: &str = "You are a SOC tier-1 analyst. Triage the alert: gather the evidence with the \
tools, decide true or false positive, and recommend the next action. Be brief and cite indicators exactly.";

/// Searches the (example) SIEM for events of an alert.
#[derive(Debug, Default)]
pub struct SearchAlerts;

/// Input of [`SearchAlerts`].
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AlertQuery {
    /// The alert id, e.g. `4711`.
    pub alert_id: String,
}

/// One SIEM event.
#[derive(Debug, Serialize)]
pub struct SiemEvent {
    /// Event time (UTC, RFC 3339).
    pub time: &'static str,
    /// Host name.
    pub host: &'static str,
    /// User name.
    pub user: &'static str,
    /// What happened.
    pub action: &'static str,
    /// Remote address, when there is one.
    pub remote_ip: Option<&'static str>,
}

impl TypedTool for SearchAlerts {
    type Input = AlertQuery;
    type Output = Vec<SiemEvent>;

    fn name(&self) -> &str {
        "search_alert_events"
    }

    fn description(&self) -> &str {
        "Events the SIEM correlated into an alert: time, host, user, action, remote IP."
    }

    async fn run(&self, _ctx: &ToolContext, q: AlertQuery) -> Result<Vec<SiemEvent>, ToolError> {
        match q.alert_id.as_str() {
            "4711" => Ok(vec![
                SiemEvent {
                    time: "2026-11-25T09:14:03Z",
                    host: "ws-042",
                    user: "j.doe",
                    action: "mail link clicked",
                    remote_ip: Some("203.0.113.7"),
                },
                SiemEvent {
                    time: "2026-11-25T09:14:05Z",
                    host: "ws-042",
                    user: "j.doe",
                    action: "powershell -enc spawned by outlook.exe",
                    remote_ip: None,
                },
            ]),
            other => Err(ToolError::InvalidInput(format!("no alert with id {other}"))),
        }
    }
}

/// Looks up an IP address in the (example) threat-intel cache.
#[derive(Debug, Default)]
pub struct IpReputation;

/// Input of [`IpReputation`].
#[derive(Debug, Deserialize, JsonSchema)]
pub struct IpQuery {
    /// IPv4 or IPv6 address.
    pub ip: String,
}

impl TypedTool for IpReputation {
    type Input = IpQuery;
    type Output = serde_json::Value;

    fn name(&self) -> &str {
        "ip_reputation"
    }

    fn description(&self) -> &str {
        "Threat-intel verdict for an IP address: score 0-100 (higher is worse) and tags."
    }

    async fn run(&self, _ctx: &ToolContext, q: IpQuery) -> Result<serde_json::Value, ToolError> {
        Ok(match q.ip.as_str() {
            "203.0.113.7" => {
                json!({"ip": q.ip, "score": 91, "tags": ["phishing", "c2"], "first_seen": "2026-11-20"})
            }
            _ => json!({"ip": q.ip, "score": 0, "tags": []}),
        })
    }
}

/// The two example tools in a registry.
pub fn triage_tools() -> Result<ToolRegistry, RegistryError> {
    let mut tools = ToolRegistry::new();
    tools.register(Arc::new(Typed::new(SearchAlerts)))?;
    tools.register(Arc::new(Typed::new(IpReputation)))?;
    Ok(tools)
}

/// The triage agent on any provider.
pub fn triage_agent(provider: Arc<dyn ModelProvider>) -> Result<Agent, Box<dyn std::error::Error>> {
    let config = AgentConfig {
        system_prompt: TRIAGE_PROMPT.into(),
        mode: PlanningMode::LoopWithLimits,
        max_turns: 8,
        budget: Budget {
            max_tool_calls: Some(20),
            max_wall_clock_ms: Some(120_000),
            ..Budget::default()
        },
        ..AgentConfig::default()
    };
    let agent = Agent::builder(provider)
        .tools(triage_tools()?)
        .config(config)
        .build()
        .map_err(|e: RunError| Box::new(e))?;
    Ok(agent)
}

/// A scripted stand-in for a model that triages alert 4711 the way a good model would, so the example runs
/// offline and deterministically.
#[must_use]
pub fn offline_provider() -> ScriptedProvider {
    ScriptedProvider::new(vec![
        ScriptedTurn::ToolCalls {
            text: "Let me pull the alert's events.".into(),
            calls: vec![("search_alert_events".into(), json!({"alert_id": "4711"}))],
        },
        ScriptedTurn::ToolCalls {
            text: "ws-042 reached 203.0.113.7 and then ran encoded PowerShell. Checking the IP.".into(),
            calls: vec![("ip_reputation".into(), json!({"ip": "203.0.113.7"}))],
        },
        ScriptedTurn::text(
            "True positive. j.doe on ws-042 clicked a phishing link to 203.0.113.7 (score 91, phishing/C2) and \
             outlook.exe spawned encoded PowerShell two seconds later. Next: isolate ws-042, reset j.doe's \
             password, block 203.0.113.7 at the proxy.",
        ),
    ])
}
