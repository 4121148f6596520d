//! The OpenAI Chat Completions provider against a loopback fake replaying the documented wire format.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use futures::StreamExt;
use serde_json::{Value, json};

use secops_core::message::{ContentBlock, Message, Role, ToolCall};
use secops_core::model::{
    FinishKind, ModelProvider, ModelRequest, ProviderErrorKind, ResponseFormat, StreamEvent, ToolChoice,
};
use secops_core::tool::ToolDefinition;
use secops_llm::openai::{OpenAi, OpenAiConfig};
use support::{FakeServer, Reply, fixture, fixture_json, quick_transport};

const KEY: &str = "sk-proj-test-abcdef0123456789";

fn provider(server: &FakeServer) -> OpenAi {
    let mut config = OpenAiConfig::openai(KEY, "gpt-4o-mini").with_base_url(&server.url("/v1"));
    config.transport = quick_transport();
    OpenAi::new(config).unwrap()
}

fn hello() -> Vec<Message> {
    vec![Message::user("Is 203.0.113.7 malicious?")]
}

#[tokio::test]
async fn sends_the_documented_request_for_a_tool_turn() {
    let server = FakeServer::start(vec![Reply::sse(fixture("openai/stream_text.sse"))]).await;
    let expected = fixture_json("openai/request_tool_turn.json");
    let e = &expected["messages"];
    // The tools as a Rust SDK user declares them: optional fields are simply not required.
    let tools = vec![
        ToolDefinition::new(
            "lookup_host",
            expected["tools"][0]["function"]["description"].as_str().unwrap(),
            json!({
                "type": "object",
                "properties": {
                    "hostname": {"type": "string", "description": "Short hostname or FQDN, e.g. ws-042. Must be non-empty.", "minLength": 1},
                    "include_ports": {"type": "boolean", "description": "Also return listening ports. null = server default (false)."}
                },
                "required": ["hostname"]
            }),
        ),
        ToolDefinition::new(
            "ip_reputation",
            expected["tools"][1]["function"]["description"].as_str().unwrap(),
            json!({
                "type": "object",
                "properties": {
                    "ip": {"type": "string", "description": "IPv4 or IPv6 address, e.g. 203.0.113.7."},
                    "max_age_days": {"type": "integer", "minimum": 1, "maximum": 365, "description": "Only consider reports newer than this many days. null = 30."},
                    "sources": {"type": "array", "items": {"type": "string", "enum": ["internal", "osint", "commercial"]}, "description": "Feeds to query."}
                },
                "required": ["ip", "sources"]
            }),
        ),
    ];
    let calls = e[2]["tool_calls"].as_array().unwrap();
    let call = |c: &Value| {
        ContentBlock::ToolUse(ToolCall {
            id: c["id"].as_str().unwrap().into(),
            name: c["function"]["name"].as_str().unwrap().into(),
            input: serde_json::from_str(c["function"]["arguments"].as_str().unwrap()).unwrap(),
        })
    };
    let messages = vec![
        Message::user(e[1]["content"].as_str().unwrap()),
        Message {
            role: Role::Assistant,
            content: vec![call(&calls[0]), call(&calls[1])],
        },
        Message {
            role: Role::User,
            content: vec![
                ContentBlock::tool_result(
                    e[3]["tool_call_id"].as_str().unwrap(),
                    e[3]["content"].as_str().unwrap(),
                    false,
                ),
                ContentBlock::tool_result(
                    e[4]["tool_call_id"].as_str().unwrap(),
                    e[4]["content"].as_str().unwrap(),
                    false,
                ),
            ],
        },
    ];
    let mut request = ModelRequest::new(&messages)
        .with_system(e[0]["content"].as_str().unwrap().to_owned())
        .with_tools(&tools);
    request.max_tokens = Some(1024);
    // Never sent alongside tools.
    request.response_format = ResponseFormat::JsonSchema {
        name: "x".into(),
        schema: json!({}),
        strict: true,
    };
    provider(&server).complete(&request).await.unwrap();
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(
        sent.body, expected,
        "the body matches the documented request exactly"
    );
    assert_eq!(sent.headers["authorization"], format!("Bearer {KEY}"));
}

#[tokio::test]
async fn streams_text_and_the_final_usage_chunk() {
    let server = FakeServer::start(vec![Reply::sse(fixture("openai/stream_text.sse")).chunked(9)]).await;
    let msgs = hello();
    let r = provider(&server)
        .complete(&ModelRequest::new(&msgs))
        .await
        .unwrap();
    assert_eq!(r.finish.kind, FinishKind::Stop);
    assert!(!r.text().is_empty());
    assert!(
        r.usage.input_tokens + r.usage.cache_read_tokens > 0 && r.usage.output_tokens > 0,
        "{:?}",
        r.usage
    );
    assert!(r.id.as_deref().is_some_and(|id| id.starts_with("chatcmpl-")));
}

#[tokio::test]
async fn assembles_parallel_tool_calls_keyed_by_index() {
    let server = FakeServer::start(vec![
        Reply::sse(fixture("openai/stream_parallel_tool_calls.sse")).chunked(13),
    ])
    .await;
    let msgs = hello();
    let r = provider(&server)
        .complete(&ModelRequest::new(&msgs))
        .await
        .unwrap();
    assert_eq!(r.finish.kind, FinishKind::ToolUse);
    let expected = fixture_json("openai/response_tool_calls.json");
    let want: Vec<(String, String, Value)> = expected["choices"][0]["message"]["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["function"]["name"].as_str().unwrap().to_owned(),
                serde_json::from_str(c["function"]["arguments"].as_str().unwrap()).unwrap(),
            )
        })
        .collect();
    let got: Vec<(String, String, Value)> = r
        .tool_calls()
        .map(|c| (c.id.clone(), c.name.clone(), c.input.clone()))
        .collect();
    assert_eq!(
        got, want,
        "streamed calls equal the documented non-streamed response"
    );
}

#[tokio::test]
async fn an_error_object_mid_stream_is_an_error_even_before_done() {
    let server = FakeServer::start(vec![Reply::sse(fixture("openai/stream_error.sse"))]).await;
    let p = provider(&server);
    let msgs = hello();
    let request = ModelRequest::new(&msgs);
    let events: Vec<StreamEvent> = p.stream(&request).collect().await;
    let StreamEvent::Error(e) = events.last().unwrap() else {
        panic!("{events:?}")
    };
    assert_eq!(e.kind, ProviderErrorKind::Server);
    assert!(
        !events.iter().any(|e| matches!(e, StreamEvent::Finish(_))),
        "the [DONE] after the error is not a success"
    );
}

#[tokio::test]
async fn insufficient_quota_is_not_retried() {
    let server = FakeServer::start(vec![
        Reply::json(429, fixture("openai/error_insufficient_quota.json")).header("x-should-retry", "true"),
        Reply::sse(fixture("openai/stream_text.sse")),
    ])
    .await;
    let msgs = hello();
    let e = provider(&server)
        .complete(&ModelRequest::new(&msgs))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::QuotaExceeded);
    assert_eq!(e.provider_code.as_deref(), Some("insufficient_quota"));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn rate_limits_are_retried_after_retry_after_ms_and_parsed() {
    let head = String::from_utf8(fixture("openai/headers_429.http")).unwrap();
    let mut reply = Reply::json(429, fixture("openai/error_rate_limit.json"));
    for line in head.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let (k, v) = line.split_once(':').unwrap();
        if k != "content-type" {
            reply = reply.header(k.trim(), v.trim());
        }
    }
    let ok = Reply::sse(fixture("openai/stream_text.sse"))
        .header("x-ratelimit-remaining-tokens", "150000")
        .header("x-ratelimit-reset-tokens", "6m0s");
    let server = FakeServer::start(vec![reply, ok]).await;
    let p = provider(&server);
    let started = std::time::Instant::now();
    let msgs = hello();
    p.complete(&ModelRequest::new(&msgs)).await.unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(380),
        "retry-after-ms (384) wins over retry-after (1 s): {waited:?}"
    );
    assert!(waited < std::time::Duration::from_millis(950), "{waited:?}");
    assert_eq!(server.requests().len(), 2);
    let rl = p.last_rate_limit().unwrap();
    assert_eq!(rl.tokens.remaining, Some(150_000));
    assert_eq!(rl.tokens.reset_after, Some(std::time::Duration::from_secs(360)));
}

#[tokio::test]
async fn server_errors_then_success() {
    let server = FakeServer::start(vec![
        Reply::json(500, fixture("openai/error_server.json")),
        Reply::json(503, b"upstream connect error".to_vec()),
        Reply::sse(fixture("openai/stream_text.sse")),
    ])
    .await;
    let msgs = hello();
    provider(&server)
        .complete(&ModelRequest::new(&msgs))
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_stream_cut_mid_tool_call_is_a_clear_error() {
    let body = fixture("openai/stream_parallel_tool_calls.sse");
    let cut = String::from_utf8(body.clone())
        .unwrap()
        .find("ip_reputation")
        .unwrap()
        + 120;
    let server = FakeServer::start(vec![Reply::sse(body).cut_at(cut)]).await;
    let msgs = hello();
    let e = provider(&server)
        .complete(&ModelRequest::new(&msgs))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::StreamTruncated);
}

#[tokio::test]
async fn malformed_chunks_are_errors() {
    let server = FakeServer::start(vec![Reply::sse(b"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {not json}\n\n".to_vec())]).await;
    let msgs = hello();
    let e = provider(&server)
        .complete(&ModelRequest::new(&msgs))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::MalformedResponse);
}

#[tokio::test]
async fn response_format_and_tool_choice_shapes() {
    let server = FakeServer::start(vec![
        Reply::sse(fixture("openai/stream_text.sse")),
        Reply::sse(fixture("openai/stream_text.sse")),
    ])
    .await;
    let p = provider(&server);
    let msgs = hello();
    let mut plan = ModelRequest::new(&msgs);
    plan.response_format = ResponseFormat::JsonSchema {
        name: "plan".into(),
        schema: json!({"type": "object", "properties": {"steps": {"type": "array", "items": {"type": "string"}}}, "required": ["steps"]}),
        strict: true,
    };
    p.complete(&plan).await.unwrap();
    let tools = [ToolDefinition::new(
        "lookup_host",
        "x",
        json!({"type": "object", "additionalProperties": {"type": "string"}}),
    )];
    let mut forced = ModelRequest::new(&msgs).with_tools(&tools);
    forced.tool_choice = ToolChoice::Tool("lookup_host".into());
    p.complete(&forced).await.unwrap();
    let sent = server.requests();
    assert_eq!(sent[0].body["response_format"]["type"], "json_schema");
    assert_eq!(sent[0].body["response_format"]["json_schema"]["strict"], true);
    assert_eq!(
        sent[0].body["response_format"]["json_schema"]["schema"]["additionalProperties"],
        false
    );
    assert!(sent[0].body.get("tools").is_none());
    assert_eq!(
        sent[1].body["tool_choice"],
        json!({"type": "function", "function": {"name": "lookup_host"}})
    );
    assert!(
        sent[1].body["tools"][0]["function"].get("strict").is_none(),
        "an open map cannot be strict"
    );
    assert!(sent[1].body.get("response_format").is_none());
}
