//! The offline demo (`SECOPS_LLM_PROVIDER=demo`): a model that needs no network or key, and two demo tools,
//! so a new user can try every interesting part of a chat (a streamed answer, a tool call, and a high-risk
//! tool call that waits for approval) before configuring a real provider.
//!
//! The model is deterministic and reads the conversation rather than replaying a fixed script, so concurrent
//! chats and resumed runs each get the right next step: with [`LOOKUP_TOOL`] offered it first looks up the
//! address in the question, then, with [`ISOLATE_TOOL`] offered, asks to isolate the host (high risk: the run
//! waits for a person), then streams a summary that says what was decided. An agent without the demo tools
//! gets a streamed canned answer. Every answer says it comes from the demo model.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use secops_core::message::{ContentBlock, Message, Role};
use secops_core::model::{
    EventStream, FinishKind, FinishReason, ModelCapabilities, ModelProvider, ModelRequest, StreamEvent, Usage,
};
use secops_core::tool::{
    RegistryError, RiskLevel, Tool, ToolContext, ToolDefinition, ToolError, ToolOutput, ToolRegistry,
};
use serde_json::{Value, json};

/// The low-risk demo tool: a canned reputation lookup of an IP address.
pub const LOOKUP_TOOL: &str = "demo_lookup_ip";
/// The high-risk demo tool: pretends to isolate a host; waits for approval under the default policy.
pub const ISOLATE_TOOL: &str = "demo_isolate_host";

/// The demo model.
#[derive(Debug)]
pub struct DemoModel {
    delay: Duration,
    calls: AtomicU64,
}

impl Default for DemoModel {
    fn default() -> Self {
        Self::new(Duration::from_millis(15))
    }
}

impl DemoModel {
    /// A demo model that waits `delay` between streamed pieces, so streaming can be watched.
    #[must_use]
    pub fn new(delay: Duration) -> Self {
        Self {
            delay,
            calls: AtomicU64::new(0),
        }
    }
}

/// The text of the last user message, and what happened since: tool calls by name with their results.
struct Progress<'a> {
    question: &'a str,
    results: Vec<(&'a str, &'a str, bool)>,
}

fn progress<'a>(messages: &'a [Message]) -> Progress<'a> {
    // The turn starts at the last user message that carries text (tool results also travel as user messages).
    let start = messages
        .iter()
        .rposition(|m| {
            m.role == Role::User && m.content.iter().any(|b| matches!(b, ContentBlock::Text { .. }))
        })
        .unwrap_or(0);
    let question = messages
        .get(start)
        .and_then(|m| {
            m.content.iter().find_map(|b| match b {
                ContentBlock::Text { text } => Some(text.as_str()),
                _ => None,
            })
        })
        .unwrap_or("");
    let mut names = std::collections::HashMap::new();
    let mut results = Vec::new();
    for m in messages.iter().skip(start) {
        for b in &m.content {
            match b {
                ContentBlock::ToolUse(call) => {
                    names.insert(call.id.as_str(), call.name.as_str());
                }
                ContentBlock::ToolResult {
                    tool_use_id,
                    content,
                    is_error,
                } => {
                    if let Some(name) = names.get(tool_use_id.as_str()) {
                        results.push((*name, content.as_str(), *is_error));
                    }
                }
                _ => {}
            }
        }
    }
    Progress { question, results }
}

/// The first IPv4 address in `text`.
fn address_in(text: &str) -> Option<&str> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find(|w| w.parse::<std::net::Ipv4Addr>().is_ok())
}

/// The first word that looks like a host name (letters, digits and dashes, with a digit and a dash).
fn host_in(text: &str) -> Option<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .find(|w| w.contains('-') && w.chars().any(|c| c.is_ascii_digit()) && w.len() <= 63)
}

enum Step {
    Say(String),
    Call(&'static str, Value),
}

fn next_step(request: &ModelRequest<'_>) -> Step {
    let offered = |name: &str| request.tools.iter().any(|t| t.name == name);
    let p = progress(&request.messages);
    let done = |name: &str| p.results.iter().find(|(n, _, _)| *n == name);
    let ip = address_in(p.question).unwrap_or("203.0.113.7").to_owned();
    let host = host_in(p.question).unwrap_or("WS-0142").to_owned();
    if offered(LOOKUP_TOOL) && done(LOOKUP_TOOL).is_none() {
        return Step::Call(LOOKUP_TOOL, json!({ "ip": ip }));
    }
    if offered(ISOLATE_TOOL) && done(ISOLATE_TOOL).is_none() {
        return Step::Call(
            ISOLATE_TOOL,
            json!({ "hostname": host, "reason": format!("beaconing to {ip}") }),
        );
    }
    if !offered(LOOKUP_TOOL) && !offered(ISOLATE_TOOL) {
        return Step::Say(
            "[demo model] This is the canned answer of the offline demo model. Give the agent the tools \
             demo_lookup_ip and demo_isolate_host to see tool calls and an approval, or set ANTHROPIC_API_KEY, \
             OPENAI_API_KEY, or SECOPS_LLM_BASE_URL with SECOPS_LLM_MODEL to triage with a real model."
                .into(),
        );
    }
    let mut answer = String::from("[demo model] Triage summary.\n\n");
    if let Some((_, result, error)) = done(LOOKUP_TOOL) {
        if *error {
            answer.push_str(&format!("- The reputation lookup of {ip} failed: {result}\n"));
        } else {
            answer.push_str(&format!(
                "- {ip} has a poor reputation (abuse score 92, seen in 14 reports this week).\n"
            ));
        }
    }
    if let Some((_, result, error)) = done(ISOLATE_TOOL) {
        // The host the call acted on, which a person may have changed by editing the arguments.
        let host = serde_json::from_str::<Value>(result)
            .ok()
            .and_then(|v| v.get("hostname").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or(host);
        if *error {
            answer.push_str(&format!("- {host} was not isolated: {result}\n"));
        } else {
            answer.push_str(&format!("- {host} is isolated from the network: {result}\n"));
        }
    }
    answer.push_str(
        "\nRecommendation: reset the credentials used on the host and review its last 24 hours of process \
         activity. (This is the offline demo model: the tools are simulated.)",
    );
    Step::Say(answer)
}

/// Splits `s` into pieces of at most `max` bytes without cutting a character.
fn pieces(s: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let mut end = max.min(rest.len());
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        let (head, tail) = rest.split_at(end);
        out.push(head.to_owned());
        rest = tail;
    }
    out
}

#[async_trait::async_trait]
impl ModelProvider for DemoModel {
    fn name(&self) -> &str {
        "demo"
    }

    fn capabilities(&self) -> ModelCapabilities {
        let mut c = ModelCapabilities::tool_capable("secops-demo");
        c.parallel_tool_calls = false;
        c
    }

    fn stream<'a>(&'a self, request: &'a ModelRequest<'a>) -> EventStream<'a> {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        let mut events = vec![StreamEvent::MessageStart {
            id: Some(format!("demo_msg_{n}")),
            model: Some("secops-demo".into()),
        }];
        let (output, finish) = match next_step(request) {
            Step::Say(text) => {
                let len = text.len();
                events.extend(
                    pieces(&text, 8)
                        .into_iter()
                        .map(|text| StreamEvent::TextDelta { text }),
                );
                (len, "end_turn")
            }
            Step::Call(name, input) => {
                let args = input.to_string();
                let len = args.len();
                // Unique across the server's life, so call ids never collide within a run or a chat.
                let id = format!("demo_call_{}_{n}", uuid::Uuid::now_v7().simple());
                events.push(StreamEvent::ToolCallStart {
                    index: 0,
                    id,
                    name: name.into(),
                });
                events.extend(
                    pieces(&args, 16)
                        .into_iter()
                        .map(|delta| StreamEvent::ToolCallArgsDelta { index: 0, delta }),
                );
                events.push(StreamEvent::ToolCallEnd { index: 0 });
                (len, "tool_use")
            }
        };
        let input_tokens: usize = request.system.len().div_ceil(4)
            + request
                .messages
                .iter()
                .map(Message::estimated_tokens)
                .sum::<usize>();
        events.push(StreamEvent::Usage(Usage {
            input_tokens: u64::try_from(input_tokens).unwrap_or(u64::MAX),
            output_tokens: u64::try_from(output.div_ceil(4).max(1)).unwrap_or(u64::MAX),
            ..Usage::default()
        }));
        events.push(StreamEvent::Finish(FinishReason {
            kind: FinishKind::Stop,
            raw: Some(finish.into()),
        }));
        let delay = self.delay;
        Box::pin(futures::stream::iter(events).then(move |e| async move {
            if matches!(e, StreamEvent::TextDelta { .. }) && !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            e
        }))
    }
}

/// `demo_lookup_ip`: canned reputation of an address.
struct LookupIp(ToolDefinition);

/// `demo_isolate_host`: pretends to isolate a host.
struct IsolateHost(ToolDefinition);

#[async_trait::async_trait]
impl Tool for LookupIp {
    fn definition(&self) -> &ToolDefinition {
        &self.0
    }

    async fn call(&self, _ctx: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let ip = input.get("ip").and_then(Value::as_str).unwrap_or_default();
        if ip.parse::<std::net::IpAddr>().is_err() {
            return Err(ToolError::InvalidInput(format!("`{ip}` is not an IP address")));
        }
        ToolOutput::json(&json!({
            "ip": ip, "abuse_confidence": 92, "reports_last_7_days": 14, "country": "NL",
            "categories": ["port scan", "brute force"], "source": "demo data, not a real lookup"
        }))
    }
}

#[async_trait::async_trait]
impl Tool for IsolateHost {
    fn definition(&self) -> &ToolDefinition {
        &self.0
    }

    async fn call(&self, _ctx: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let host = input.get("hostname").and_then(Value::as_str).unwrap_or_default();
        if host.is_empty() {
            return Err(ToolError::InvalidInput("hostname is empty".into()));
        }
        ToolOutput::json(&json!({
            "hostname": host, "status": "isolated", "action_id": format!("demo-{}", uuid::Uuid::now_v7().simple()),
            "source": "demo: nothing was changed"
        }))
    }
}

/// The demo tools, to register as server tools next to the demo model.
pub fn tools() -> Result<ToolRegistry, RegistryError> {
    let mut registry = ToolRegistry::new();
    registry.register(Arc::new(LookupIp(ToolDefinition::new(
        LOOKUP_TOOL,
        "Look up the reputation of an IP address (demo data).",
        json!({"type": "object", "properties": {"ip": {"type": "string", "description": "IPv4 or IPv6 address"}},
               "required": ["ip"], "additionalProperties": false}),
    ))))?;
    registry.register(Arc::new(IsolateHost(
        ToolDefinition::new(
            ISOLATE_TOOL,
            "Isolate a host from the network (demo: nothing changes). High risk: waits for approval.",
            json!({"type": "object", "properties": {
                    "hostname": {"type": "string", "minLength": 1, "maxLength": 63},
                    "reason": {"type": "string", "maxLength": 500}},
                   "required": ["hostname"], "additionalProperties": false}),
        )
        .with_risk(RiskLevel::High),
    )))?;
    Ok(registry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secops_core::message::ToolCall;
    use secops_core::model::StreamAccumulator;

    fn request<'a>(messages: &'a [Message], tools: &'a [ToolDefinition]) -> ModelRequest<'a> {
        ModelRequest::new(messages)
            .with_system("system")
            .with_tools(tools)
    }

    #[tokio::test]
    async fn looks_up_then_asks_to_isolate_then_summarises() {
        let model = DemoModel::new(Duration::ZERO);
        let registry = tools().unwrap();
        let defs = registry.definitions().to_vec();
        let mut messages = vec![Message::user("alert: WS-0099 talks to 198.51.100.4")];
        let first = StreamAccumulator::collect(model.stream(&request(&messages, &defs)))
            .await
            .unwrap();
        let call = first.tool_calls().next().unwrap().clone();
        assert_eq!(call.name, LOOKUP_TOOL);
        assert_eq!(call.input, json!({"ip": "198.51.100.4"}));
        messages.push(Message {
            role: Role::Assistant,
            content: vec![ContentBlock::ToolUse(call.clone())],
        });
        messages.push(Message {
            role: Role::User,
            content: vec![ContentBlock::ToolResult {
                tool_use_id: call.id.clone(),
                content: "{}".into(),
                is_error: false,
            }],
        });
        let second = StreamAccumulator::collect(model.stream(&request(&messages, &defs)))
            .await
            .unwrap();
        let isolate: ToolCall = second.tool_calls().next().unwrap().clone();
        assert_eq!(isolate.name, ISOLATE_TOOL);
        assert_eq!(isolate.input["hostname"], "WS-0099");
        assert_ne!(isolate.id, call.id);
        messages.push(Message {
            role: Role::Assistant,
            content: vec![ContentBlock::ToolUse(isolate.clone())],
        });
        messages.push(Message {
            role: Role::User,
            content: vec![ContentBlock::ToolResult {
                tool_use_id: isolate.id,
                content: "denied: not now".into(),
                is_error: true,
            }],
        });
        let last = StreamAccumulator::collect(model.stream(&request(&messages, &defs)))
            .await
            .unwrap();
        assert_eq!(last.tool_calls().count(), 0);
        let text = last.text();
        assert!(text.contains("198.51.100.4 has a poor reputation"), "{text}");
        assert!(
            text.contains("WS-0099 was not isolated: denied: not now"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn without_the_demo_tools_it_streams_the_canned_answer() {
        let model = DemoModel::new(Duration::ZERO);
        let messages = [Message::user("hello")];
        let events: Vec<StreamEvent> = model.stream(&request(&messages, &[])).collect().await;
        let deltas = events
            .iter()
            .filter(|e| matches!(e, StreamEvent::TextDelta { .. }))
            .count();
        assert!(deltas > 10, "streams in pieces, got {deltas}");
    }

    #[test]
    fn the_isolation_is_high_risk() {
        let registry = tools().unwrap();
        assert_eq!(registry.definition(ISOLATE_TOOL).unwrap().risk, RiskLevel::High);
        assert_eq!(registry.definition(LOOKUP_TOOL).unwrap().risk, RiskLevel::Low);
    }
}
