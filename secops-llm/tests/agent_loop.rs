//! The agent runtime drives a full tool-using loop over each provider, against loopback fakes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use secops_core::model::ModelProvider;
use secops_core::run::{Agent, AgentConfig, RunStatus, StopReason};
use secops_core::tool::{Tool, ToolContext, ToolDefinition, ToolError, ToolOutput, ToolRegistry};
use secops_llm::anthropic::{Anthropic, AnthropicConfig};
use secops_llm::openai::{OpenAi, OpenAiConfig};
use secops_llm::openai_compat;
use support::{FakeServer, Reply, fixture, quick_transport};

/// A tool that records what it was called with.
struct Recorder {
    definition: ToolDefinition,
    calls: Arc<Mutex<Vec<Value>>>,
}

#[async_trait::async_trait]
impl Tool for Recorder {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }
    async fn call(&self, _ctx: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        self.calls.lock().unwrap().push(input);
        Ok(ToolOutput::text(format!(
            "{} says: all clear",
            self.definition.name
        )))
    }
}

fn registry(names: &[&str]) -> (ToolRegistry, Arc<Mutex<Vec<Value>>>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let mut r = ToolRegistry::new();
    for name in names {
        let definition = ToolDefinition::new(*name, "test tool", json!({"type": "object"}));
        r.register(Arc::new(Recorder {
            definition,
            calls: calls.clone(),
        }))
        .unwrap();
    }
    (r, calls)
}

async fn run_loop(provider: Arc<dyn ModelProvider>, tools: ToolRegistry) -> secops_core::run::RunState {
    let agent = Agent::builder(provider)
        .tools(tools)
        .config(AgentConfig {
            system_prompt: "You are a SOC analyst.".into(),
            ..AgentConfig::default()
        })
        .build()
        .unwrap();
    agent.run("Triage ws-042").await
}

fn assert_tool_results_sent(server: &FakeServer, expected_results: usize, result_key: &str) {
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        2,
        "one call to decide, one after the tool results"
    );
    let body = requests[1].body.to_string();
    assert_eq!(body.matches(result_key).count(), expected_results, "{body}");
    assert!(
        body.contains("says: all clear"),
        "the tool output went back to the model"
    );
}

#[tokio::test]
async fn anthropic_loop() {
    let server = FakeServer::start(vec![
        Reply::sse(fixture("anthropic/stream_parallel_tools.sse")).chunked(64),
        Reply::sse(fixture("anthropic/stream_text.sse")).chunked(64),
    ])
    .await;
    let mut config = AnthropicConfig::new("sk-ant-k", "claude-sonnet-4-5");
    config.base_url = server.url("");
    config.transport = quick_transport();
    let (tools, calls) = registry(&["get_host_processes", "query_firewall_logs"]);
    let state = run_loop(Arc::new(Anthropic::new(config).unwrap()), tools).await;
    assert_eq!(state.status, RunStatus::Finished, "{:?}", state.error);
    assert_eq!(state.output.as_ref().unwrap().stop_reason, StopReason::Completed);
    assert_eq!(calls.lock().unwrap().len(), 2, "both parallel calls ran");
    assert_tool_results_sent(&server, 2, "\"tool_result\"");
    assert!(state.counters.usage.total_tokens() > 0);
    assert!(
        state.counters.cost_usd > 0.0,
        "built-in pricing of claude-sonnet-4-5 is applied"
    );
}

#[tokio::test]
async fn openai_loop() {
    let server = FakeServer::start(vec![
        Reply::sse(fixture("openai/stream_parallel_tool_calls.sse")).chunked(64),
        Reply::sse(fixture("openai/stream_text.sse")).chunked(64),
    ])
    .await;
    let mut config = OpenAiConfig::openai("sk-k", "gpt-4o-mini").with_base_url(&server.url("/v1"));
    config.transport = quick_transport();
    let (tools, calls) = registry(&["lookup_host", "ip_reputation"]);
    let state = run_loop(Arc::new(OpenAi::new(config).unwrap()), tools).await;
    assert_eq!(state.status, RunStatus::Finished, "{:?}", state.error);
    assert_eq!(calls.lock().unwrap()[0]["hostname"], "ws-042");
    assert_tool_results_sent(&server, 2, "\"role\":\"tool\"");
}

#[tokio::test]
async fn ollama_loop() {
    let server = FakeServer::start(vec![
        Reply::sse(fixture("compat/ollama_stream_tool_call.sse")),
        Reply::sse(fixture("openai/stream_text.sse")),
    ])
    .await;
    let mut config = openai_compat::compatible("ollama", &server.url("/v1"), "qwen3:8b", None);
    config.transport = quick_transport();
    let (tools, calls) = registry(&["lookup_host"]);
    let state = run_loop(Arc::new(OpenAi::new(config).unwrap()), tools).await;
    assert_eq!(state.status, RunStatus::Finished, "{:?}", state.error);
    assert_eq!(
        *calls.lock().unwrap(),
        vec![json!({"hostname": "ws-042", "include_ports": true})]
    );
    assert_tool_results_sent(&server, 1, "\"role\":\"tool\"");
}

#[tokio::test]
async fn a_truncated_tool_call_never_runs() {
    let body = fixture("anthropic/stream_tool_use.sse");
    let cut = String::from_utf8(body.clone())
        .unwrap()
        .find("input_json_delta")
        .unwrap()
        + 30;
    let server = FakeServer::start(vec![Reply::sse(body).cut_at(cut)]).await;
    let mut config = AnthropicConfig::new("sk-ant-k", "claude-sonnet-4-5");
    config.base_url = server.url("");
    config.transport = quick_transport();
    let (tools, calls) = registry(&["lookup_ip_reputation"]);
    let state = run_loop(Arc::new(Anthropic::new(config).unwrap()), tools).await;
    assert_eq!(state.status, RunStatus::Failed);
    assert_eq!(state.output.as_ref().unwrap().stop_reason, StopReason::ModelError);
    assert!(
        state.error.as_ref().unwrap().contains("stream truncated"),
        "{:?}",
        state.error
    );
    assert!(
        calls.lock().unwrap().is_empty(),
        "no partial tool call was executed"
    );
    assert_eq!(
        state.transcript.len(),
        1,
        "nothing half-written to the transcript"
    );
}
