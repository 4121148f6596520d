//! # secops-core
//!
//! The agent runtime of secops: everything an AI agent for security operations needs that does not touch the
//! outside world. Model providers (`secops-llm`), tools (`secops-tools`), retrieval (`secops-rag`) and storage
//! (`secops-store`) plug into the traits defined here.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`message`] | roles, content blocks (text, tool use, tool result, attachment, reasoning), conversations |
//! | [`model`] | [`ModelProvider`](model::ModelProvider), [`StreamEvent`](model::StreamEvent), the shared [`StreamAccumulator`](model::StreamAccumulator), usage, finish reasons, the [`ScriptedProvider`](model::ScriptedProvider) for tests |
//! | [`tool`] | [`Tool`](tool::Tool), [`TypedTool`](tool::TypedTool), the validating [`ToolRegistry`](tool::ToolRegistry), risk levels and approval policies |
//! | [`run`] | the [`Agent`](run::Agent) executor, planning modes, budgets, approvals, hooks, the serialisable [`RunState`](run::RunState) and [`RunEvent`](run::RunEvent)s |
//! | [`memory`] | conversation-window strategies that never separate a tool call from its result |
//! | [`embed`] | the [`Embedder`](embed::Embedder) trait for text embeddings |
//! | [`retrieval`] | the [`Retriever`](retrieval::Retriever) hook and citations |
//! | [`tenancy`] | [`OrgId`](tenancy::OrgId) and other UUIDv7 ids, roles, permissions, principals |
//!
//! ## Example
//!
//! An agent with one typed tool, driven by the deterministic [`ScriptedProvider`](model::ScriptedProvider)
//! (swap in a real provider from `secops-llm` in production):
//!
//! ```
//! use std::sync::Arc;
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//! use serde_json::json;
//! use secops_core::model::{ScriptedProvider, ScriptedTurn};
//! use secops_core::run::{Agent, AgentConfig, PlanningMode, StopReason};
//! use secops_core::tool::{ToolContext, ToolError, ToolRegistry, Typed, TypedTool};
//!
//! /// Reputation of an IP address from the threat-intel cache.
//! struct IpReputation;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct IpQuery {
//!     /// The IPv4 address to check.
//!     ip: String,
//! }
//!
//! impl TypedTool for IpReputation {
//!     type Input = IpQuery;
//!     type Output = serde_json::Value;
//!     fn name(&self) -> &str { "ip_reputation" }
//!     fn description(&self) -> &str { "Reputation score (0-100, higher is worse) of an IP address." }
//!     async fn run(&self, _ctx: &ToolContext, q: IpQuery) -> Result<Self::Output, ToolError> {
//!         Ok(json!({ "ip": q.ip, "score": 87, "tags": ["c2"] }))
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let mut tools = ToolRegistry::new();
//! tools.register(Arc::new(Typed::new(IpReputation)))?;
//!
//! let provider = Arc::new(ScriptedProvider::new(vec![
//!     ScriptedTurn::tool_call("ip_reputation", json!({ "ip": "203.0.113.7" })),
//!     ScriptedTurn::text("203.0.113.7 is a known C2 address (score 87): block it."),
//! ]));
//! let agent = Agent::builder(provider)
//!     .tools(tools)
//!     .config(AgentConfig { mode: PlanningMode::LoopWithLimits, ..AgentConfig::default() })
//!     .build()?;
//!
//! let run = agent.run("Is 203.0.113.7 malicious?").await;
//! let output = run.output.expect("finished runs have output");
//! assert_eq!(output.stop_reason, StopReason::Completed);
//! assert!(output.text.contains("C2"));
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

pub mod embed;
pub mod memory;
pub mod message;
pub mod model;
pub mod retrieval;
pub mod run;
pub mod tenancy;
pub mod tool;
